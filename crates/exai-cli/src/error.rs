//! Errors the command line reports, each with what failed, why, and what to do next.

use exai_model::escape_shown;
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

impl From<exai_session::SessionError> for CliError {
    fn from(e: exai_session::SessionError) -> Self {
        let error = Self::new(e.to_string()).details(e.details());
        match e.hint() {
            Some(hint) => error.hint(hint),
            None => error,
        }
    }
}

impl From<exai_session::LoadError> for CliError {
    fn from(e: exai_session::LoadError) -> Self {
        if let exai_session::LoadError::Invalid { error, text } = e {
            return Self::Spec { error, source: text };
        }
        let error = Self::new(e.to_string());
        match e.hint() {
            Some(hint) => error.hint(hint),
            None => error,
        }
    }
}

impl From<exai_session::SavedPlanError> for CliError {
    fn from(e: exai_session::SavedPlanError) -> Self {
        let error = Self::new(e.to_string());
        match e.hint() {
            Some(hint) => error.hint(hint),
            None => error,
        }
    }
}

impl From<&exai_session::Refusal> for CliError {
    fn from(refusal: &exai_session::Refusal) -> Self {
        Self::new(refusal.message()).details(refusal.details()).hint(refusal.hint())
    }
}

/// Prints `error` to standard error.
pub fn report(error: &CliError) {
    eprint!("{}", render(error));
}

/// Returns `error` as [`report`] prints it. Messages, details and hints carry Azure's codes
/// and messages (which echo names and tag values) and paths: each line is escaped for the
/// terminal, so none can hold an escape sequence or forge a line of its own.
fn render(error: &CliError) -> String {
    match error {
        CliError::Spec { error, source } => crate::diagnostics::render(error, source),
        CliError::Message { message, details, hint } => {
            let mut out = format!("error: {}\n", escape_shown(message));
            for d in details {
                let _ = writeln!(out, "  {}", escape_shown(d));
            }
            if let Some(h) = hint {
                let _ = writeln!(out, "  hint: {}", escape_shown(h));
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_azure_error_cannot_write_escapes_or_forge_lines() {
        let azure = exai_azure::AzureError::Api {
            method: "PUT".into(),
            url: "https://management.azure.com/x".into(),
            status: 400,
            code: "Bad\u{1b}]0;title\u{7}".into(),
            message: "name `a\u{1b}[2J` is invalid\n\u{1b}[32mApply complete: 0 failed.\u{1b}[0m".into(),
            request_id: Some("r\u{9b}1".into()),
        };
        let error = CliError::from(azure).hint("see\rabove");
        assert_eq!(
            render(&error),
            "error: PUT https://management.azure.com/x failed: 400 Bad\\u{1b}]0;title\\u{7}: name `a\\u{1b}[2J` is invalid\\n\\u{1b}[32mApply complete: 0 failed.\\u{1b}[0m\n  Azure request id: r\\u{9b}1\n  hint: see\\rabove\n"
        );
    }
}
