//! The emulator's own certificate authority and server certificate.
//!
//! Azure clients refuse to send a bearer token over plain HTTP, so the emulator speaks HTTPS only.
//! Every start generates a fresh CA and a server certificate signed by it; nothing is written to
//! disk. Clients trust the CA for the emulator's lifetime through [`crate::Emulator::ca_certificate_pem`]
//! (reqwest `tls_certs_only`/`add_root_certificate`, Python `REQUESTS_CA_BUNDLE`).

use axum_server::tls_rustls::RustlsConfig;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SerialNumber,
};
use time::{Duration, OffsetDateTime};

use crate::EmulatorError;

/// The common name of the generated certificate authority.
pub(crate) const CA_COMMON_NAME: &str = "exai emulator CA";

/// The names the server certificate is valid for.
const SERVER_NAMES: [&str; 3] = ["127.0.0.1", "localhost", "::1"];

/// A generated CA and the server certificate it signed.
pub(crate) struct Certificates {
    /// The CA certificate, PEM-encoded, for clients to trust.
    pub ca_pem: String,
    /// The server certificate, DER-encoded.
    pub server_der: Vec<u8>,
    /// The server's private key, PKCS#8 DER-encoded.
    pub server_key_der: Vec<u8>,
}

fn certificate_error(error: rcgen::Error) -> EmulatorError {
    EmulatorError::Certificate { message: error.to_string() }
}

fn random_serial() -> SerialNumber {
    let mut bytes: [u8; 16] = rand::random();
    // A positive DER integer: clear the sign bit.
    bytes[0] &= 0x7f;
    SerialNumber::from_slice(&bytes)
}

/// Generates a certificate authority and a server certificate for the loopback names.
pub(crate) fn generate() -> Result<Certificates, EmulatorError> {
    let now = OffsetDateTime::now_utc();
    // Backdated by an hour so a client whose clock is a little behind still accepts them.
    let not_before = now - Duration::hours(1);
    let not_after = now + Duration::days(365);

    let ca_key = KeyPair::generate().map_err(certificate_error)?;
    let mut ca_params = CertificateParams::default();
    let mut ca_name = DistinguishedName::new();
    ca_name.push(DnType::CommonName, CA_COMMON_NAME);
    ca_name.push(DnType::OrganizationName, "exai");
    ca_params.distinguished_name = ca_name;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    ca_params.not_before = not_before;
    ca_params.not_after = not_after;
    ca_params.serial_number = Some(random_serial());
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).map_err(certificate_error)?;

    let server_key = KeyPair::generate().map_err(certificate_error)?;
    let mut server_params =
        CertificateParams::new(SERVER_NAMES.iter().map(|name| (*name).to_owned()).collect::<Vec<_>>())
            .map_err(certificate_error)?;
    let mut server_name = DistinguishedName::new();
    server_name.push(DnType::CommonName, "exai emulator");
    server_name.push(DnType::OrganizationName, "exai");
    server_params.distinguished_name = server_name;
    server_params.is_ca = IsCa::ExplicitNoCa;
    server_params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    // Strict verifiers (Python 3.13's VERIFY_X509_STRICT among them) require the AKI extension.
    server_params.use_authority_key_identifier_extension = true;
    server_params.not_before = not_before;
    server_params.not_after = not_after;
    server_params.serial_number = Some(random_serial());
    let server = server_params.signed_by(&server_key, &ca).map_err(certificate_error)?;

    Ok(Certificates { ca_pem: ca.pem(), server_der: server.der().to_vec(), server_key_der: server_key.serialize_der() })
}

/// Builds the rustls server configuration serving the generated server certificate.
///
/// `tls-rustls` makes axum-server build the configuration with the aws-lc-rs provider
/// (`ServerConfig::builder_with_provider`) unless the process has installed another default
/// provider; see the crate documentation for why the provider is not named here directly.
pub(crate) async fn server_config(certificates: &Certificates) -> Result<RustlsConfig, EmulatorError> {
    RustlsConfig::from_der(vec![certificates.server_der.clone()], certificates.server_key_der.clone())
        .await
        .map_err(|source| EmulatorError::Tls { source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_a_pem_ca_and_distinct_der_certificates() -> Result<(), EmulatorError> {
        let certificates = generate()?;
        assert!(certificates.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(!certificates.server_der.is_empty());
        assert!(!certificates.ca_pem.contains("PRIVATE KEY"));
        assert!(!certificates.server_key_der.is_empty());
        Ok(())
    }
}
