//! Reading the spec file and resolving it against the environment.

use crate::error::CliError;
use std::cell::RefCell;
use std::path::Path;

/// The variables the embedded emulator can stand in for, with the value it uses.
const EMULATOR_FALLBACKS: &[(&str, &str)] =
    &[("AZURE_TENANT_ID", exai_emulator::DEV_TENANT_ID), ("AZURE_SUBSCRIPTION_ID", exai_emulator::DEV_SUBSCRIPTION_ID)];

/// A spec read from disk.
pub struct Loaded {
    pub spec: exai_spec::Spec,
    pub file: String,
    /// `sha256:` and the digest of the file's bytes, recorded in plans.
    pub digest: String,
    /// The file's text, for the source lines of diagnostics.
    pub source: String,
}

/// Reads and validates the spec at `path`. Its warnings are left to the command
/// ([`Loaded::print_warnings`]).
///
/// With `emulator_fallbacks`, an unset `AZURE_TENANT_ID` or `AZURE_SUBSCRIPTION_ID` resolves to
/// the emulator's development tenant and subscription (and a note says so), so the example
/// specs run against the emulator on a machine with no Azure set-up at all.
pub fn load(path: &Path, emulator_fallbacks: bool) -> Result<Loaded, CliError> {
    let file = path.display().to_string();
    let metadata = std::fs::metadata(path).map_err(|e| {
        CliError::new(format!("cannot read the spec `{file}`: {e}")).hint(
            "pass the spec with `-f FILE`; without it exai reads `./exai.yaml` (the example is `specs/exai.yaml`)",
        )
    })?;
    if metadata.len() > exai_spec::MAX_SPEC_BYTES as u64 {
        return Err(CliError::new(format!(
            "the spec `{file}` is {} bytes; exai reads specs of at most {} bytes",
            metadata.len(),
            exai_spec::MAX_SPEC_BYTES
        ))
        .hint("check that this is the right file: a platform description is a few kilobytes"));
    }
    let bytes = std::fs::read(path).map_err(|e| CliError::new(format!("cannot read the spec `{file}`: {e}")))?;
    let digest = exai_model::sha256_digest(&bytes);
    let text = String::from_utf8(bytes).map_err(|e| {
        CliError::new(format!(
            "the spec `{file}` is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
        .hint("save the file as UTF-8")
    })?;
    let used_fallbacks = RefCell::new(Vec::new());
    let env = |name: &str| {
        std::env::var(name).ok().or_else(|| {
            let fallback = EMULATOR_FALLBACKS.iter().find(|(n, _)| emulator_fallbacks && *n == name)?;
            used_fallbacks.borrow_mut().push(*fallback);
            Some(fallback.1.to_owned())
        })
    };
    let spec = exai_spec::parse(&file, &text, &env).map_err(|error| CliError::Spec { error, source: text.clone() })?;
    for (name, value) in used_fallbacks.into_inner() {
        eprintln!("note: {name} is not set; using the emulator's development value {value}");
    }
    Ok(Loaded { spec, file, digest, source: text })
}

impl Loaded {
    /// Prints `warnings` (of this spec) to standard error, with their source lines.
    ///
    /// The spec's warnings are not printed when it is read: each command shows the ones that
    /// matter to what it does (`validate` those of the selected environments, `plan` and
    /// `apply` only those the plan makes actionable).
    pub fn print_warnings(&self, warnings: &[&exai_spec::Warning]) {
        if warnings.is_empty() {
            return;
        }
        let diagnostics = warnings.iter().map(|w| w.diagnostic.clone()).collect();
        let warnings = exai_spec::SpecError { file: self.file.clone(), diagnostics };
        eprint!("{}", crate::diagnostics::render_warnings(&warnings, &self.source));
    }
}
