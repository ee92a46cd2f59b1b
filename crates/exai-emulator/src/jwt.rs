//! Compact JSON Web Tokens (RFC 7519) signed with HMAC-SHA256 (`HS256`, RFC 7518 section 3.2).
//!
//! The emulator signs the tokens of its GitHub-Actions-like OIDC issuer with a key it generates
//! at each start and never shows, and checks the signature when such a token comes back as a
//! client assertion. GitHub signs with RS256 and publishes its keys; HS256 is the algorithm the
//! emulator can verify with the crates it already trusts, and since the issuer and the verifier
//! are the same process, a symmetric key loses nothing. A client never verifies these tokens:
//! it only forwards them, exactly as a workflow does.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Why a compact JWT could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum JwtError {
    /// The token is not three dot-separated base64url parts.
    #[error("the token is not three base64url parts separated by dots")]
    NotCompact,
    /// The header or the claims are not a JSON object.
    #[error("the token's {part} is not a base64url-encoded JSON object")]
    NotJson {
        /// `header` or `claims`.
        part: &'static str,
    },
}

/// A compact JWT split into its parts, its signature not yet checked.
#[derive(Debug, Clone)]
pub(crate) struct Decoded {
    /// The JOSE header.
    pub header: Map<String, Value>,
    /// The claims.
    pub claims: Map<String, Value>,
    /// `base64url(header) "." base64url(claims)`, what the signature covers.
    signing_input: String,
    /// The decoded signature.
    signature: Vec<u8>,
}

/// Returns a compact JWT with `header` (whose `alg` is forced to `HS256`) and `claims`, signed
/// with `key`.
pub(crate) fn sign_hs256(mut header: Map<String, Value>, claims: &Map<String, Value>, key: &[u8; KEY_BYTES]) -> String {
    header.insert("alg".to_owned(), Value::String("HS256".to_owned()));
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(Value::Object(header).to_string()),
        URL_SAFE_NO_PAD.encode(Value::Object(claims.clone()).to_string())
    );
    let signature = mac(key, signing_input.as_bytes()).finalize().into_bytes();
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// The length of an HS256 key: SHA-256's block size, so the key is used as is (RFC 2104 section 2).
pub(crate) const KEY_BYTES: usize = 64;

fn mac(key: &[u8; KEY_BYTES], input: &[u8]) -> HmacSha256 {
    // A key of exactly the block size makes HMAC's constructor infallible.
    let mut mac = <HmacSha256 as hmac::digest::KeyInit>::new(&(*key).into());
    mac.update(input);
    mac
}

/// Splits a compact JWT and parses its header and claims, without checking the signature.
pub(crate) fn decode(token: &str) -> Result<Decoded, JwtError> {
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::NotCompact);
    };
    let bytes = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| JwtError::NotCompact);
    let object = |part: &str, name: &'static str| -> Result<Map<String, Value>, JwtError> {
        match serde_json::from_slice(&bytes(part)?) {
            Ok(Value::Object(members)) => Ok(members),
            _ => Err(JwtError::NotJson { part: name }),
        }
    };
    Ok(Decoded {
        header: object(header, "header")?,
        claims: object(claims, "claims")?,
        signing_input: format!("{header}.{claims}"),
        signature: bytes(signature)?,
    })
}

impl Decoded {
    /// Returns whether the token's header says `HS256` and its signature is `key`'s, compared in
    /// constant time.
    pub fn verify_hs256(&self, key: &[u8; KEY_BYTES]) -> bool {
        self.header.get("alg").and_then(Value::as_str) == Some("HS256")
            && mac(key, self.signing_input.as_bytes()).verify_slice(&self.signature).is_ok()
    }

    /// Returns a string claim.
    pub fn string_claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// Returns a NumericDate claim (seconds since the epoch, RFC 7519 section 2); fractions are
    /// truncated.
    pub fn time_claim(&self, name: &str) -> Option<i64> {
        let value = self.claims.get(name)?;
        // Truncation is intended: NumericDate allows fractions, Entra reports whole seconds.
        value.as_i64().or_else(|| value.as_f64().filter(|number| number.is_finite()).map(|number| number as i64))
    }

    /// Returns the audiences: `aud` as a string or an array of strings (RFC 7519 section 4.1.3).
    pub fn audiences(&self) -> Vec<&str> {
        match self.claims.get("aud") {
            Some(Value::String(audience)) => vec![audience.as_str()],
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY: [u8; KEY_BYTES] = [7; KEY_BYTES];

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn signs_and_verifies_hs256() -> Result<(), JwtError> {
        let token = sign_hs256(object(json!({"typ": "JWT"})), &object(json!({"sub": "s", "aud": ["a", "b"]})), &KEY);
        let decoded = decode(&token)?;
        assert!(decoded.verify_hs256(&KEY));
        assert!(!decoded.verify_hs256(&[1; KEY_BYTES]));
        assert_eq!(decoded.string_claim("sub"), Some("s"));
        assert_eq!(decoded.audiences(), ["a", "b"]);
        assert_eq!(decoded.header.get("alg"), Some(&json!("HS256")));

        // Changing one claim invalidates the signature.
        let parts: Vec<&str> = token.split('.').collect();
        let forged_claims = URL_SAFE_NO_PAD.encode(json!({"sub": "t", "aud": ["a", "b"]}).to_string());
        let forged = format!("{}.{forged_claims}.{}", parts[0], parts[2]);
        assert!(!decode(&forged)?.verify_hs256(&KEY));
        Ok(())
    }

    #[test]
    fn refuses_malformed_tokens() {
        assert_eq!(decode("a.b").err(), Some(JwtError::NotCompact));
        assert_eq!(decode("a.b.c.d").err(), Some(JwtError::NotCompact));
        assert_eq!(decode("!!.e30.").err(), Some(JwtError::NotCompact));
        let not_object = format!("{}.{}.", URL_SAFE_NO_PAD.encode("[]"), URL_SAFE_NO_PAD.encode("{}"));
        assert_eq!(decode(&not_object).err(), Some(JwtError::NotJson { part: "header" }));
    }

    #[test]
    fn refuses_the_none_algorithm() -> Result<(), JwtError> {
        let header = URL_SAFE_NO_PAD.encode(json!({"alg": "none"}).to_string());
        let claims = URL_SAFE_NO_PAD.encode(json!({"sub": "s"}).to_string());
        assert!(!decode(&format!("{header}.{claims}."))?.verify_hs256(&KEY));
        Ok(())
    }
}
