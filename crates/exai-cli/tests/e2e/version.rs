//! Which exai this is, through the real binary: `exai --version` names the commit it was built
//! from, the plan document records it, and a plan saved by another build (the same version
//! number from another commit) is refused before anything is read or written. The example
//! workflows pin that build by one commit of this repository.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crate::harness::{Filters, InProcessEmulator, Scratch, assert_run, repo_root};
use exai_emulator::{DEV_SUBSCRIPTION_ID, DEV_TENANT_ID};
use serde_json::{Value, json};

const SPEC: &str = "version: 1
azure:
  tenant: ${AZURE_TENANT_ID}
  subscription: ${AZURE_SUBSCRIPTION_ID}
defaults:
  location: francecentral
environments:
  perso:
    resourceGroup: { name: exai-perso-rg }
";

#[test]
fn the_version_names_the_commit_exai_was_built_from() {
    let run = Scratch::with_spec(SPEC).run(&["--version"]);
    assert_run!("version", Filters::default(), run);
    assert_eq!(run.stdout, format!("exai {} ({})\n", env!("CARGO_PKG_VERSION"), exai_session::COMMIT));

    // Built in exai's own checkout (as here and in CI), the commit is its HEAD's.
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=7", "HEAD"])
        .current_dir(repo_root())
        .output()
        .ok()
        .filter(|o| o.status.success());
    if let Some(head) = head {
        assert_eq!(exai_session::COMMIT, String::from_utf8_lossy(&head.stdout).trim().get(..7).unwrap());
    }
}

#[test]
fn a_plan_saved_by_another_commit_of_the_same_version_is_refused_naming_both() {
    let emulator = InProcessEmulator::start();
    let mut s = Scratch::with_spec(SPEC);
    s.env("AZURE_TENANT_ID", DEV_TENANT_ID).env("AZURE_SUBSCRIPTION_ID", DEV_SUBSCRIPTION_ID);
    s.run_against(&emulator, &["plan", "--out", "plan.json"]).expect_code(0);
    let mut document: Value =
        serde_json::from_str(&std::fs::read_to_string(s.path().join("plan.json")).unwrap()).unwrap();
    assert_eq!(document["exai_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(document["exai_commit"], exai_session::COMMIT);

    // The same plan, as the build of another commit would have saved it.
    document["exai_commit"] = json!("0123abc");
    std::fs::write(s.path().join("other.json"), document.to_string()).unwrap();
    let before = emulator.emulator.requests().len();
    let filters = Filters::default().literal(exai_session::VERSION, "[version]").scratch(&s);
    assert_run!("another_commit", filters, s.run_against(&emulator, &["apply", "other.json"]));
    assert_eq!(emulator.emulator.requests().len(), before, "refused before any request");

    // The plan as saved applies.
    s.run_against(&emulator, &["apply", "plan.json"]).expect_code(0);
    assert_eq!(emulator.arm_writes_since(before).len(), 1, "the resource group was created");
}

/// The example workflows pin one exai build: the same full commit id in each file (a saved plan
/// is applied only by the build that made it), and a commit of this repository's history, where
/// the history is there to ask (a shallow clone cannot say).
#[test]
fn the_example_workflows_pin_one_commit_of_this_repository() {
    let dir = repo_root().join("examples/github/workflows");
    let pin = regex::Regex::new(r"(?m)^\s+EXAI_COMMIT:\s*(\S+)\s*$").unwrap();
    let mut pins = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            assert!(!text.contains("EXAI_VERSION"), "{name} still pins a version tag");
            let found: Vec<String> = pin.captures_iter(&text).map(|c| c[1].to_owned()).collect();
            assert_eq!(found.len(), 1, "{name} pins exai once: {found:?}");
            pins.insert(name, found[0].clone());
        }
    }
    assert_eq!(
        pins.keys().map(String::as_str).collect::<Vec<_>>(),
        ["exai-apply.yml", "exai-deploy.yml", "exai-drift.yml", "exai-plan.yml"]
    );
    let commit = pins["exai-plan.yml"].clone();
    assert!(pins.values().all(|p| *p == commit), "one pin in every workflow: {pins:?}");
    assert!(commit.len() == 40 && commit.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')), "{commit}");

    let git = |args: &[&str]| {
        std::process::Command::new("git").args(args).current_dir(repo_root()).output().ok().map(|o| o.status.success())
    };
    let shallow = std::process::Command::new("git")
        .args(["rev-parse", "--is-shallow-repository"])
        .current_dir(repo_root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "true");
    if shallow == Some(false) {
        assert_eq!(git(&["merge-base", "--is-ancestor", &commit, "HEAD"]), Some(true), "{commit} is in HEAD's history");
    }
}
