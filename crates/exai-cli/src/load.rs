//! Reading the spec file and resolving it against the environment.

use crate::error::CliError;
use std::cell::RefCell;
use std::path::Path;

/// The variables the embedded emulator can stand in for, with the value it uses.
const EMULATOR_FALLBACKS: &[(&str, &str)] =
    &[("AZURE_TENANT_ID", exai_emulator::DEV_TENANT_ID), ("AZURE_SUBSCRIPTION_ID", exai_emulator::DEV_SUBSCRIPTION_ID)];

/// A spec read from disk.
pub type Loaded = exai_session::SpecFile;

/// Reads and validates the spec at `path` (the library's [`exai_session::read_spec`]). Its
/// warnings are left to the command ([`print_warnings`]).
///
/// With `emulator_fallbacks`, an unset `AZURE_TENANT_ID` or `AZURE_SUBSCRIPTION_ID` resolves to
/// the emulator's development tenant and subscription (and a note says so), so the example
/// specs run against the emulator on a machine with no Azure set-up at all.
pub fn load(path: &Path, emulator_fallbacks: bool) -> Result<Loaded, CliError> {
    let used_fallbacks = RefCell::new(Vec::new());
    let env = |name: &str| {
        std::env::var(name).ok().or_else(|| {
            let fallback = EMULATOR_FALLBACKS.iter().find(|(n, _)| emulator_fallbacks && *n == name)?;
            used_fallbacks.borrow_mut().push(*fallback);
            Some(fallback.1.to_owned())
        })
    };
    let loaded = exai_session::read_spec(path, &env)?;
    for (name, value) in used_fallbacks.into_inner() {
        eprintln!("note: {name} is not set; using the emulator's development value {value}");
    }
    Ok(loaded)
}

/// Prints `warnings` (of the spec `loaded`) to standard error, with their source lines.
///
/// The spec's warnings are not printed when it is read: each command shows the ones that
/// matter to what it does (`validate` those of the selected environments, `plan` and `apply`
/// only those the plan makes actionable).
pub fn print_warnings(loaded: &Loaded, warnings: &[&exai_spec::Warning]) {
    if warnings.is_empty() {
        return;
    }
    let diagnostics = warnings.iter().map(|w| w.diagnostic.clone()).collect();
    let warnings = exai_spec::SpecError { file: loaded.file.clone(), diagnostics };
    eprint!("{}", crate::diagnostics::render_warnings(&warnings, &loaded.source));
}
