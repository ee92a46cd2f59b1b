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
        }
    }

    /// Returns the request with the secret of its answer kept as `output` says.
    pub fn with_secret_output(mut self, output: SecretOutput) -> Self {
        self.secret_output = Some(output);
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

/// Percent-encodes everything but RFC 3986's unreserved characters and `$` (which ARM's
/// `$filter` needs as is).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~$".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
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
}
