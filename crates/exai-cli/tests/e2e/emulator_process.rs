//! `exai emulator` as its own process: what it prints, exai talking to it over `--endpoint`,
//! and state that survives the process being killed.

use crate::harness::{Filters, Scratch, assert_run, exai_bin};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A running `exai emulator`, killed (SIGKILL) when dropped.
struct EmulatorProcess {
    child: Child,
    lines: Vec<(String, String)>,
}

impl EmulatorProcess {
    fn start(dir: &std::path::Path, state: &str) -> Self {
        let mut child = Command::new(exai_bin())
            .args(["emulator", "--listen", "127.0.0.1:0", "--state", state, "--ca-cert-out", "ca.pem"])
            .current_dir(dir)
            .env_clear()
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start exai emulator");
        let stdout = child.stdout.take().expect("stdout");
        let lines: Vec<(String, String)> = BufReader::new(stdout)
            .lines()
            .take(6)
            .map(|l| {
                let l = l.expect("read a line");
                let (k, v) = l.split_once(": ").unwrap_or_else(|| panic!("`name: value` line, got {l:?}"));
                (k.to_owned(), v.to_owned())
            })
            .collect();
        Self { child, lines }
    }

    fn get(&self, name: &str) -> &str {
        self.lines
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no `{name}` line"))
    }

    fn endpoint_args(&self) -> Vec<String> {
        vec!["--endpoint".into(), self.get("url").into(), "--ca-cert".into(), self.get("ca-certificate").into()]
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(s: &Scratch, base: &[&str], emulator: &EmulatorProcess) -> crate::harness::Run {
    let args: Vec<String> = base.iter().map(|a| a.to_string()).chain(emulator.endpoint_args()).collect();
    s.run(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn emulator_prints_its_coordinates_and_serves_exai() {
    let mut s = Scratch::with_example();
    let emulator = EmulatorProcess::start(s.path(), "state.json");
    let names: Vec<&str> = emulator.lines.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["url", "ca-certificate", "tenant-id", "subscription-id", "client-id", "client-secret"]);
    assert!(emulator.get("url").starts_with("https://127.0.0.1:"));
    assert!(std::fs::read_to_string(emulator.get("ca-certificate")).expect("CA file").contains("BEGIN CERTIFICATE"));

    let tenant = emulator.get("tenant-id").to_owned();
    let subscription = emulator.get("subscription-id").to_owned();
    s.env("AZURE_TENANT_ID", &tenant).env("AZURE_SUBSCRIPTION_ID", &subscription);
    // It serves exai: a plan of what to create (apply then a plan of no changes, through this
    // process, is `a_killed_emulator_loses_nothing`).
    run(&s, &["plan", "-f", "exai.yaml", "--detailed-exitcode"], &emulator).expect_code(2);
}

#[test]
fn a_killed_emulator_loses_nothing() {
    let mut s = Scratch::with_example();
    s.env("AZURE_TENANT_ID", exai_emulator::DEV_TENANT_ID)
        .env("AZURE_SUBSCRIPTION_ID", exai_emulator::DEV_SUBSCRIPTION_ID);
    let first = EmulatorProcess::start(s.path(), "state.json");
    run(&s, &["apply", "-f", "exai.yaml", "--auto-approve"], &first).expect_code(0);
    drop(first); // SIGKILL: no shutdown, no final save

    let second = EmulatorProcess::start(s.path(), "state.json");
    let plan = run(&s, &["plan", "-f", "exai.yaml", "--detailed-exitcode"], &second);
    assert_run!(Filters::default().scratch(&s), plan);
}

#[test]
fn an_azure_error_names_its_code_request_id_and_what_to_do() {
    let mut s = Scratch::with_example();
    s.env("AZURE_TENANT_ID", exai_emulator::DEV_TENANT_ID)
        .env("AZURE_SUBSCRIPTION_ID", exai_emulator::DEV_SUBSCRIPTION_ID);
    let emulator = EmulatorProcess::start(s.path(), "state.json");
    run(&s, &["plan", "-f", "exai.yaml"], &emulator).expect_code(0);
    // The subscription now belongs to the development tenant; a token from another tenant is
    // refused by ARM with InvalidAuthenticationTokenTenant.
    s.env("AZURE_TENANT_ID", "ee000000-0000-4000-8000-0000000000ff");
    assert_run!(Filters::default().scratch(&s), run(&s, &["plan", "-f", "exai.yaml"], &emulator));
}
