use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Which Azure service a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    /// Azure Resource Manager (`https://management.azure.com`).
    Arm,
    /// Microsoft Graph (`https://graph.microsoft.com`).
    Graph,
}

/// An HTTP method exai uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// GET: read.
    Get,
    /// HEAD: existence check.
    Head,
    /// PUT: create or replace.
    Put,
    /// PATCH: update in place.
    Patch,
    /// POST: an action.
    Post,
    /// DELETE: delete.
    Delete,
}

impl Method {
    /// Returns true for methods that change something in Azure.
    pub fn is_write(self) -> bool {
        !matches!(self, Self::Get | Self::Head)
    }

    /// Returns the method's name as sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Post => "POST",
            Self::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An ARM api-version, e.g. `2025-04-01`.
pub type ApiVersion = &'static str;

/// One request to Azure, built as a plain value before anything is sent.
///
/// Building requests as values keeps the Azure knowledge testable without a network, and makes
/// `--dry-run` honest: it prints these very values instead of a separate description of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiRequest {
    /// The service the request goes to.
    pub service: Service,
    /// The HTTP method.
    pub method: Method,
    /// The path below the service's base URL, starting with `/` (for ARM, usually a resource id).
    pub path: String,
    /// The api-version query parameter (ARM only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// The JSON body, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// Query parameters besides `api-version`, e.g. `$filter`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub query: Vec<(String, String)>,
    /// Extra headers, e.g. `If-Match` with the eTag the plan was made against.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// The answer carries a secret Azure shows only once (a client secret's `secretText`): where
    /// it goes. The executor writes it to that file and nowhere else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_output: Option<SecretOutput>,
    /// What Azure's "it already exists" means for this create, when a concurrent run (or
    /// someone else) may have made the object between the plan and the write: the executor
    /// reads it, checks it is what was asked for, and adopts it instead of failing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_conflict: Option<Adoption>,
}

/// How a create adopts the object Azure says already exists (a 409 `RoleAssignmentExists`,
/// Graph's `Request_MultipleObjectsWithSameKeyValue`): read it, pick it, verify it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adoption {
    /// The error codes that mean "it already exists" for this create.
    pub codes: Vec<String>,
    /// The read that finds it (placeholders allowed, in its path, query and body).
    pub read: Box<ApiRequest>,
    /// Picks the object: in the answer's `value` list (the answer itself when it has none), the
    /// item whose members at these JSON pointers equal these values (text compared ignoring
    /// case, as Azure compares names and ids). Placeholders allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub select: Vec<(String, Value)>,
    /// Picks the object further by members whose text ends with these (ignoring case): a
    /// role definition id, which Azure answers in either of two forms, ends with its GUID.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub select_ending: Vec<(String, String)>,
    /// What the picked object must hold to be adopted (text compared ignoring case); anything
    /// else is an error, never a silent adoption of a different object. Placeholders allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verify: Vec<(String, Value)>,
}

impl Adoption {
    /// Returns the object of `answer` this adoption picks, if any.
    pub fn pick<'a>(&self, answer: &'a Value) -> Option<&'a Value> {
        let candidates: Vec<&Value> = match answer.get("value").and_then(Value::as_array) {
            Some(items) => items.iter().collect(),
            None => vec![answer],
        };
        candidates.into_iter().find(|item| {
            self.select.iter().all(|(pointer, want)| same(item.pointer(pointer), want))
                && self.select_ending.iter().all(|(pointer, end)| {
                    item.pointer(pointer)
                        .and_then(Value::as_str)
                        .is_some_and(|text| text.to_ascii_lowercase().ends_with(&end.to_ascii_lowercase()))
                })
        })
    }

    /// Returns the first member of `found` that is not what the create asked for, as
    /// `(pointer, found, wanted)`.
    pub fn mismatch(&self, found: &Value) -> Option<(String, Value, Value)> {
        self.verify.iter().find(|(pointer, want)| !same(found.pointer(pointer), want)).map(|(pointer, want)| {
            (pointer.clone(), found.pointer(pointer).cloned().unwrap_or(Value::Null), want.clone())
        })
    }
}

/// Compares a found member with a wanted value: text ignoring ASCII case, lists item by item.
fn same(found: Option<&Value>, want: &Value) -> bool {
    match (found, want) {
        (Some(Value::String(a)), Value::String(b)) => a.eq_ignore_ascii_case(b),
        (Some(Value::Array(a)), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same(Some(a), b))
        }
        (Some(found), want) => found == want,
        (None, want) => want.is_null(),
    }
}

/// Where the secret in a write's answer is kept: a file of its own, private to the user, in the
/// shape a consumer reads (`azure/login`'s `creds`), and never in any output, plan or log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretOutput {
    /// The JSON pointer of the secret in the answer, e.g. `/secretText`.
    pub pointer: String,
    /// The file's name, in the directory the executor keeps secrets in.
    pub file: String,
    /// The member of the file that holds the secret, e.g. `clientSecret`.
    pub member: String,
    /// The file's other members (placeholders allowed: resolved like a body).
    pub with: serde_json::Map<String, Value>,
    /// The JSON pointer of the answer's key id (`/keyId`), recorded in the file so a later plan
    /// can tell whether the file holds the secret Azure has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_pointer: Option<String>,
    /// How to see, just before the write, the secrets already there (a concurrent run's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard: Option<SecretGuard>,
}

/// What the executor checks, holding the secret file's lock, before a write that creates a
/// secret: whether a concurrent run already created one into the same file (then it is
/// adopted, not added again), and which marked secrets appeared since the plan (removed once
/// the file holds the new one, so exactly one remains).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretGuard {
    /// The read of the object that lists the secrets (placeholders allowed).
    pub read: Box<ApiRequest>,
    /// The JSON pointer of the list of secrets in its answer (`/passwordCredentials`).
    pub list: String,
    /// The member of a listed secret that holds its name (`displayName`).
    pub name_member: String,
    /// The name that marks the secrets of this resource (exai's ownership mark).
    pub name: String,
    /// The member of a listed secret that holds its key id (`keyId`).
    pub key_member: String,
    /// The key ids of the marked secrets the plan saw (the plan deals with them itself).
    #[serde(default)]
    pub planned: Vec<String>,
    /// The write that removes a secret; its body's `key_member` is set to the key id.
    pub remove: Box<ApiRequest>,
}

impl SecretGuard {
    /// Returns the key ids of the marked secrets in the answer to [`SecretGuard::read`].
    pub fn marked(&self, answer: &Value) -> Vec<String> {
        answer
            .pointer(&self.list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|secret| secret.get(&self.name_member).and_then(Value::as_str) == Some(self.name.as_str()))
            .filter_map(|secret| secret.get(&self.key_member).and_then(Value::as_str).map(str::to_owned))
            .collect()
    }

    /// Returns the marked secret of key id `key` in the answer to [`SecretGuard::read`].
    pub fn find<'a>(&self, answer: &'a Value, key: &str) -> Option<&'a Value> {
        answer.pointer(&self.list).and_then(Value::as_array)?.iter().find(|secret| {
            secret.get(&self.name_member).and_then(Value::as_str) == Some(self.name.as_str())
                && secret.get(&self.key_member).and_then(Value::as_str).is_some_and(|k| k.eq_ignore_ascii_case(key))
        })
    }

    /// Returns the write that removes the secret of key id `key`.
    pub fn removal(&self, key: &str) -> ApiRequest {
        let mut request = (*self.remove).clone();
        let mut body = request.body.take().and_then(|b| b.as_object().cloned()).unwrap_or_default();
        body.insert(self.key_member.clone(), Value::from(key));
        request.body = Some(Value::Object(body));
        request
    }
}

impl ApiRequest {
    /// Returns an ARM request for `path` at `api_version`.
    pub fn arm(method: Method, path: impl Into<String>, api_version: ApiVersion, body: Option<Value>) -> Self {
        Self {
            service: Service::Arm,
            method,
            path: path.into(),
            api_version: Some(api_version.to_owned()),
            body,
            query: Vec::new(),
            headers: Vec::new(),
            secret_output: None,
            on_conflict: None,
        }
    }

    /// Returns a Microsoft Graph v1.0 request for `path` (below `/v1.0`).
    pub fn graph(method: Method, path: impl Into<String>, body: Option<Value>) -> Self {
        Self {
            service: Service::Graph,
            method,
            path: format!("/v1.0{}", path.into()),
            api_version: None,
            body,
            query: Vec::new(),
            headers: Vec::new(),
            secret_output: None,
            on_conflict: None,
        }
    }

    /// Returns the request with the secret of its answer kept as `output` says.
    pub fn with_secret_output(mut self, output: SecretOutput) -> Self {
        self.secret_output = Some(output);
        self
    }

    /// Returns the request with what Azure's "it already exists" means for it.
    pub fn with_adoption(mut self, adoption: Adoption) -> Self {
        self.on_conflict = Some(adoption);
        self
    }

    /// Returns the request with the header `name: value` added.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Returns the request with the query parameter `name=value` added.
    pub fn with_query(mut self, name: &str, value: &str) -> Self {
        self.query.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Returns the request with `If-Match: etag`, so Azure refuses it (412) if the object
    /// changed since it was read.
    pub fn if_match(mut self, etag: &str) -> Self {
        self.headers.push(("If-Match".to_owned(), etag.to_owned()));
        self
    }

    /// Returns the path with its query string (`?api-version=...` for ARM, then the other
    /// parameters, percent-encoded).
    pub fn path_and_query(&self) -> String {
        let mut params: Vec<String> = Vec::new();
        if let Some(v) = &self.api_version {
            params.push(format!("api-version={}", encode(v)));
        }
        params.extend(self.query.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))));
        if params.is_empty() { self.path.clone() } else { format!("{}?{}", self.path, params.join("&")) }
    }
}

/// What a query name or value keeps as is: RFC 3986's unreserved characters and `$` (which
/// ARM's `$filter` needs as is); every other byte is percent-encoded.
const QUERY_KEEPS: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'$');

/// Percent-encodes `text` for a query string ([`QUERY_KEEPS`]).
fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, QUERY_KEEPS).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arm_requests_carry_their_api_version_in_the_query() {
        let r = ApiRequest::arm(Method::Get, "/subscriptions/s/resourcegroups/rg", "2025-04-01", None);
        assert_eq!(r.path_and_query(), "/subscriptions/s/resourcegroups/rg?api-version=2025-04-01");
        assert!(!r.method.is_write());
        let filtered = r.clone().with_query("$filter", "principalId eq 'x'");
        assert_eq!(
            filtered.path_and_query(),
            "/subscriptions/s/resourcegroups/rg?api-version=2025-04-01&$filter=principalId%20eq%20%27x%27"
        );
        assert!(Method::Patch.is_write());
    }

    #[test]
    fn query_values_keep_unreserved_characters_and_dollar_and_encode_the_rest_by_utf8_byte() {
        let r = ApiRequest::arm(Method::Get, "/p", "v", None).with_query("$top", "aZ09-._~$ é/&=+%'");
        assert_eq!(r.path_and_query(), "/p?api-version=v&$top=aZ09-._~$%20%C3%A9%2F%26%3D%2B%25%27");
    }
}
