//! Azure's own SDK for Python against the emulator: `tests/python/sdk_test.py` run by the
//! Python Azure SDK's management clients (azure-identity + azure-mgmt-*), pinned in
//! `tests/python/requirements.txt`.
//!
//! Needs `python3` (with `venv`) and PyPI. The virtualenv is created once under the target
//! directory (`target/python-sdk-venv`) and reused while `requirements.txt` is unchanged (its
//! hash is stored next to it). `EXAI_PYTHON_SDK_SECTIONS=rg,registry,cluster,roleassignment`
//! chooses the sections; all four by default.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{InProcessEmulator, repo_root};

/// The sections CI runs: every one (the emulator models all four providers).
const DEFAULT_SECTIONS: &str = "rg,registry,cluster,roleassignment";

/// Returns `python3` from `PATH`, or fails the test saying what is missing.
fn python3() -> PathBuf {
    let name = if cfg!(windows) { "python3.exe" } else { "python3" };
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!("this test runs Azure's Python tools and needs `python3` (3.9 or later, with the venv module) on PATH: install it (Debian: `apt-get install python3 python3-venv`)")
        })
}

/// FNV-1a: a stable hash of the requirements, to know when the virtualenv is stale.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

/// Returns the target directory this test was built into.
fn target_dir() -> PathBuf {
    // target/<profile>/deps/<test> → target
    let exe = std::env::current_exe().expect("test executable path");
    exe.ancestors().nth(3).map(Path::to_path_buf).unwrap_or_else(std::env::temp_dir)
}

fn run(command: &mut Command, what: &str) {
    let output = command.output().unwrap_or_else(|error| panic!("cannot {what}: {error}"));
    assert!(
        output.status.success(),
        "cannot {what} ({})\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Returns the virtualenv's python, creating the virtualenv and installing the requirements
/// when they changed since the last time.
fn venv_python() -> PathBuf {
    static VENV: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    VENV.get_or_init(|| virtualenv("python-sdk-venv", &repo_root().join("tests/python/requirements.txt"))).clone()
}

/// Returns the python of the virtualenv `target/<name>` with `requirements` installed from PyPI,
/// building it only when it is missing or `requirements` changed since it was built (their hash
/// is stored in it).
pub(crate) fn virtualenv(name: &str, requirements: &Path) -> PathBuf {
    // Tests run in parallel (threads here, processes under nextest): the first builds the
    // virtualenv while the others wait, under a lock file beside it.
    let lock_path = target_dir().join(format!("{name}.lock"));
    let lock = std::fs::File::create(&lock_path).expect("create the virtualenv lock file");
    lock.lock().expect("lock the virtualenv");
    let text =
        std::fs::read(requirements).unwrap_or_else(|error| panic!("cannot read `{}`: {error}", requirements.display()));
    let stamp = format!("{:016x}\n", fnv1a(&text));
    let venv = target_dir().join(name);
    let python = if cfg!(windows) { venv.join("Scripts/python.exe") } else { venv.join("bin/python") };
    let stamp_file = venv.join("requirements.fnv1a");
    if python.is_file() && std::fs::read_to_string(&stamp_file).is_ok_and(|installed| installed == stamp) {
        return python;
    }
    let _ = std::fs::remove_dir_all(&venv);
    run(Command::new(python3()).args(["-m", "venv"]).arg(&venv), "create a Python virtualenv");
    run(
        Command::new(&python)
            .args(["-m", "pip", "install", "--disable-pip-version-check", "--quiet", "-r"])
            .arg(requirements),
        &format!("install `{}` from PyPI", requirements.display()),
    );
    std::fs::write(&stamp_file, stamp).expect("write the requirements hash");
    python
}

/// Runs `sdk_test.py --only SECTIONS` against a fresh emulator; returns the emulator and stdout.
fn run_sections(sections: &str) -> (InProcessEmulator, String) {
    let python = venv_python();
    let emulator = InProcessEmulator::start();
    let output = Command::new(python)
        .arg(repo_root().join("tests/python/sdk_test.py"))
        .args(["--url", emulator.emulator.url().as_str()])
        .arg("--ca-cert")
        .arg(&emulator.ca_cert)
        .args(["--tenant-id", exai_emulator::DEV_TENANT_ID])
        .args(["--subscription-id", exai_emulator::DEV_SUBSCRIPTION_ID])
        .args(["--client-id", exai_emulator::DEV_CLIENT_ID])
        .args(["--client-secret", exai_emulator::DEV_CLIENT_SECRET])
        .args(["--only", sections])
        .env("REQUESTS_CA_BUNDLE", &emulator.ca_cert)
        .env_remove("AZURE_CLIENT_ID")
        .env_remove("AZURE_TENANT_ID")
        .env_remove("AZURE_CLIENT_SECRET")
        .output()
        .expect("run tests/python/sdk_test.py");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "the Python SDK failed ({})\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    for section in sections.split(',') {
        assert!(stdout.lines().any(|line| line.starts_with(&format!("ok {section} "))), "no `ok {section}`:\n{stdout}");
    }
    (emulator, stdout.into_owned())
}

#[test]
fn azure_python_sdk_works_against_the_emulator() {
    let sections = std::env::var("EXAI_PYTHON_SDK_SECTIONS").unwrap_or_else(|_| DEFAULT_SECTIONS.to_owned());
    let (emulator, _) = run_sections(&sections);
    // Every request the SDK sent was answered by the emulator and logged.
    let requests = emulator.emulator.requests();
    assert!(requests.iter().any(|request| request.path.ends_with("/oauth2/v2.0/token")), "{requests:?}");
    assert!(requests.iter().all(|request| request.status < 500), "{requests:?}");
}

/// A role assignment for the signed-in application's own service principal, in a tenant that
/// has never seen it before: the principal exists, as it always does in Azure.
#[test]
fn a_role_assignment_for_the_signed_in_application_needs_no_set_up() {
    run_sections("roleassignment");
}
