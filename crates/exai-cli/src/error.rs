//! Errors the command line reports, each with what failed, why, and what to do next.

use std::fmt::Write as _;

/// A command's failure. Every variant exits 1; the category decides how it is printed.
#[derive(Debug)]
pub enum CliError {
    /// The spec has problems; already located and explained by the spec crate.
    Spec { error: exai_spec::SpecError, source: String },
    /// Anything else: a message, details, and a hint.
    Message { message: String, details: Vec<String>, hint: Option<String> },
}

impl CliError {
    pub fn new(message: impl Into<String>) -> Self {
        Self::Message { message: message.into(), details: Vec::new(), hint: None }
    }

    pub fn hint(self, hint: impl Into<String>) -> Self {
        match self {
            Self::Message { message, details, .. } => Self::Message { message, details, hint: Some(hint.into()) },
            other => other,
        }
    }

    pub fn details(self, more: Vec<String>) -> Self {
        match self {
            Self::Message { message, mut details, hint } => {
                details.extend(more);
                Self::Message { message, details, hint }
            }
            other => other,
        }
    }
}

impl From<exai_azure::AzureError> for CliError {
    fn from(e: exai_azure::AzureError) -> Self {
        let mut details = Vec::new();
        if let exai_azure::AzureError::NoCredentials { looked_for } = &e {
            details.push("looked for:".to_owned());
            details.extend(looked_for.iter().map(|l| format!("  - {l}")));
        }
        if let Some(id) = e.request_id() {
            details.push(format!("Azure request id: {id}"));
        }
        let hint = e.hint();
        Self::Message { message: e.to_string(), details, hint }
    }
}

/// Prints `error` to standard error.
pub fn report(error: &CliError) {
    match error {
        CliError::Spec { error, source } => {
            eprint!("{}", crate::diagnostics::render(error, source))
        }
        CliError::Message { message, details, hint } => {
            let mut out = format!("error: {message}\n");
            for d in details {
                let _ = writeln!(out, "  {d}");
            }
            if let Some(h) = hint {
                let _ = writeln!(out, "  hint: {h}");
            }
            eprint!("{out}");
        }
    }
}
