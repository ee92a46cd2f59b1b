//! What every conformance test file reads responses with.
#![allow(dead_code)] // each test file uses its own part of this module

use std::collections::BTreeSet;
use std::error::Error;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

/// A response, read in full. Each test file adds its own assertions (ARM's, Graph's or Entra's
/// error shapes) in an `impl Reply` of its own.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// Reads `response` in full.
pub async fn read(response: reqwest::Response) -> Result<Reply, Box<dyn Error>> {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await?;
    Ok(Reply { status, headers, text })
}

/// Returns the member names of a JSON object (empty for anything else).
pub fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().map(|members| members.keys().cloned().collect()).unwrap_or_default()
}

/// Returns `names` as a set, to compare with [`keys`].
pub fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}
