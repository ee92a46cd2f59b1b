//! The request log: every request the emulator answered, in order.
//!
//! Tests read it to assert what a client sent (how many writes, which bodies); users read it to
//! see what `exai` did. It never holds a secret: token form bodies are not recorded, secret-like
//! query parameters and JSON members are replaced by [`REDACTED`], and responses (which carry
//! tokens) are never recorded at all.

use std::collections::VecDeque;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::EmulatorError;

/// What replaces a secret in the log.
pub const REDACTED: &str = "<redacted>";

/// How many requests are kept in memory; older ones are dropped (the log file keeps them all).
const MEMORY_LIMIT: usize = 100_000;

/// Which part of the emulator answered a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestKind {
    /// The Entra token endpoint (`/{tenant}/oauth2/v2.0/token`) and its metadata.
    Token,
    /// Azure Resource Manager.
    Arm,
    /// Microsoft Graph (`/v1.0/...`).
    Graph,
    /// The emulator's own administration routes (`/_emulator/...`).
    Admin,
}

/// One request the emulator answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// The position of the request in the log, from 1.
    pub seq: u64,
    /// When the request was answered, RFC 3339 UTC.
    pub time: String,
    /// The HTTP method.
    pub method: String,
    /// The path as sent (still percent-encoded).
    pub path: String,
    /// The query string without the `?`, with secret-like parameters redacted.
    pub query: Option<String>,
    /// The status code of the response.
    pub status: u16,
    /// Which part of the emulator answered.
    pub kind: RequestKind,
    /// The `x-ms-client-request-id` header, when sent.
    pub client_request_id: Option<String>,
    /// The JSON body of an ARM or Graph write, with secret-like members redacted. A body that is not
    /// JSON is recorded as a JSON string.
    pub body: Option<Value>,
    /// The injected faults that applied to the request (`#id RULE`, joined by `; `), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
}

impl RecordedRequest {
    /// Returns whether the request was an ARM or Graph write (PUT, PATCH, POST or DELETE). A
    /// name availability check is a POST that changes nothing: Azure's RBAC lists it as a read
    /// (`Microsoft.ContainerRegistry/checkNameAvailability/read`, "Azure resource provider
    /// operations"), so it is not a write.
    pub fn is_write(&self) -> bool {
        let check = self.method == "POST" && self.path.to_ascii_lowercase().ends_with("/checknameavailability");
        matches!(self.kind, RequestKind::Arm | RequestKind::Graph)
            && matches!(self.method.as_str(), "PUT" | "PATCH" | "POST" | "DELETE")
            && !check
    }
}

/// A request as the dispatcher saw it, before it gets its sequence number.
pub(crate) struct RequestRecord {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
    pub kind: RequestKind,
    pub client_request_id: Option<String>,
    pub body: Option<Value>,
    pub fault: Option<String>,
}

struct LogInner {
    next_seq: u64,
    entries: VecDeque<RecordedRequest>,
    file: Option<File>,
}

/// The in-memory log plus its optional JSON-lines file.
pub(crate) struct RequestLog {
    inner: Mutex<LogInner>,
    path: Option<PathBuf>,
}

fn open_append(path: &Path) -> Result<File, EmulatorError> {
    File::options()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| EmulatorError::RequestLog { path: path.to_owned(), source })
}

impl RequestLog {
    /// Creates a log, appending to `path` when given.
    pub fn open(path: Option<&Path>) -> Result<Self, EmulatorError> {
        let file = path.map(open_append).transpose()?;
        Ok(Self {
            inner: Mutex::new(LogInner { next_seq: 1, entries: VecDeque::new(), file }),
            path: path.map(Path::to_owned),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LogInner> {
        // A panic while holding the lock cannot leave the log inconsistent in a way that matters.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Appends a request, giving it the next sequence number and `time` (RFC 3339, the emulator's
    /// clock).
    pub fn record(&self, record: RequestRecord, time: String) {
        let mut inner = self.lock();
        let entry = RecordedRequest {
            seq: inner.next_seq,
            time,
            method: record.method,
            path: record.path,
            query: record.query,
            status: record.status,
            kind: record.kind,
            client_request_id: record.client_request_id,
            body: record.body,
            fault: record.fault,
        };
        inner.next_seq += 1;
        if let Some(file) = inner.file.as_mut() {
            let written = serde_json::to_vec(&entry).map_err(std::io::Error::other).and_then(|mut line| {
                line.push(b'\n');
                file.write_all(&line)
            });
            if let Err(error) = written {
                tracing::warn!(%error, path = ?self.path, "could not append to the request log file");
            }
        }
        if inner.entries.len() >= MEMORY_LIMIT {
            inner.entries.pop_front();
        }
        inner.entries.push_back(entry);
    }

    /// Returns the recorded requests, oldest first.
    pub fn entries(&self) -> Vec<RecordedRequest> {
        self.lock().entries.iter().cloned().collect()
    }

    /// Forgets every request, restarts the numbering and truncates the log file.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.entries.clear();
        inner.next_seq = 1;
        if let Some(path) = &self.path {
            match File::create(path).and_then(|_| open_append(path).map_err(std::io::Error::other)) {
                Ok(file) => inner.file = Some(file),
                Err(error) => {
                    tracing::warn!(%error, ?path, "could not truncate the request log file");
                }
            }
        }
    }
}

/// Returns whether a query parameter or JSON member name looks like it holds a secret.
pub(crate) fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["secret", "password", "assertion", "access_token", "accesstoken", "refresh_token", "refreshtoken", "id_token"]
        .iter()
        .any(|needle| name.contains(needle))
}

/// Returns the query string with the values of secret-like parameters replaced.
pub(crate) fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret_name(&decode_query_name(name)) => {
                format!("{name}={REDACTED}")
            }
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn decode_query_name(name: &str) -> String {
    url::form_urlencoded::parse(name.as_bytes()).next().map(|(decoded, _)| decoded.into_owned()).unwrap_or_default()
}

/// Replaces the values of secret-like members anywhere in a JSON value.
pub(crate) fn redact_json(value: &mut Value) {
    match value {
        Value::Object(members) => {
            for (name, member) in members.iter_mut() {
                if is_secret_name(name) {
                    *member = Value::String(REDACTED.to_owned());
                } else {
                    redact_json(member);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_secret_query_parameters_only() {
        assert_eq!(
            redact_query("client_id=a&client_secret=s3cret&scope=x"),
            format!("client_id=a&client_secret={REDACTED}&scope=x")
        );
        assert_eq!(redact_query("api-version=2025-04-01"), "api-version=2025-04-01");
    }

    #[test]
    fn redacts_nested_secret_members() {
        let mut body = serde_json::json!({
            "location": "francecentral",
            "properties": {"servicePrincipalProfile": {"clientId": "a", "secret": "s"}},
            "passwordCredentials": [{"secretText": "t"}]
        });
        redact_json(&mut body);
        assert_eq!(
            body,
            serde_json::json!({
                "location": "francecentral",
                "properties": {"servicePrincipalProfile": {"clientId": "a", "secret": REDACTED}},
                "passwordCredentials": REDACTED
            })
        );
    }

    #[test]
    fn only_arm_mutations_are_writes() {
        let mut request = RecordedRequest {
            seq: 1,
            time: String::new(),
            method: "PUT".to_owned(),
            path: "/".to_owned(),
            query: None,
            status: 200,
            kind: RequestKind::Arm,
            client_request_id: None,
            body: None,
            fault: None,
        };
        assert!(request.is_write());
        request.method = "GET".to_owned();
        assert!(!request.is_write());
        request.method = "POST".to_owned();
        request.kind = RequestKind::Graph;
        assert!(request.is_write());
        request.kind = RequestKind::Token;
        assert!(!request.is_write());
        request.kind = RequestKind::Arm;
        request.path = "/subscriptions/s/providers/Microsoft.ContainerRegistry/checkNameAvailability".to_owned();
        assert!(!request.is_write(), "a name check reads");
    }
}
