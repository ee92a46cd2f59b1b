//! How a plan schedules its reads: by data, not by the order of the writes. Against the whole
//! recipe with every object existing, every read whose path the spec gives goes out without
//! waiting for a resource group's answer; only what needs an answer waits for that answer (the
//! ownership scan of a group for the group), and nothing is read twice. The ARM and the Graph
//! token are fetched at once.

use crate::harness::{InProcessEmulator, Scratch, example_spec};
use serde_json::json;
use std::collections::BTreeSet;

/// A scratch copy of the example, with the development tenant and subscription.
fn recipe() -> Scratch {
    let mut s = Scratch::with_spec(&example_spec());
    s.env("AZURE_TENANT_ID", exai_emulator::DEV_TENANT_ID)
        .env("AZURE_SUBSCRIPTION_ID", exai_emulator::DEV_SUBSCRIPTION_ID);
    s
}

/// `GET path?query`, as a request is identified.
fn line(r: &exai_emulator::RecordedRequest) -> String {
    match &r.query {
        Some(query) => format!("{} {}?{query}", r.method, r.path),
        None => format!("{} {}", r.method, r.path),
    }
}

#[test]
fn reads_whose_path_the_spec_gives_do_not_wait_for_the_resource_groups() {
    let emulator = InProcessEmulator::start();
    let s = recipe();
    s.run_against(&emulator, &["apply", "--auto-approve", "-f", "exai.yaml"]).expect_code(0);
    let clean = s.run_against(&emulator, &["plan", "--detailed-exitcode", "-f", "exai.yaml"]);
    clean.expect_code(0);

    // The groups answer late. Had the reads followed the writes, every resource in a group
    // (registry, workspace, rule, cluster, their role assignments) would be read after it.
    let (status, _) =
        emulator.admin_post("faults", &json!({ "faults": ["GET /subscriptions/*/resourcegroups/* latency=8s"] }));
    assert_eq!(status, 200);
    let before = emulator.emulator.requests().len();
    let slow = s.run_against(&emulator, &["plan", "--detailed-exitcode", "-f", "exai.yaml"]);
    slow.expect_code(0);
    assert_eq!(slow.stdout, clean.stdout, "the plan is the same");

    let reads: Vec<_> = emulator
        .emulator
        .requests()
        .into_iter()
        .skip(before)
        .filter(|r| r.kind != exai_emulator::RequestKind::Token)
        .collect();
    let shown: Vec<String> = reads.iter().map(line).collect();
    let distinct: BTreeSet<&String> = shown.iter().collect();
    assert_eq!(distinct.len(), shown.len(), "nothing is read twice: {shown:#?}");

    // The log is in the order of the answers: after the first group's answer come only the
    // other group's and the two ownership scans, which need a group's answer (that it exists).
    let segments = |r: &exai_emulator::RecordedRequest| r.path.trim_start_matches('/').split('/').count();
    let under_group = |r: &exai_emulator::RecordedRequest| r.path.to_ascii_lowercase().contains("/resourcegroups/");
    let is_group = |r: &exai_emulator::RecordedRequest| under_group(r) && segments(r) == 4;
    let is_scan = |r: &exai_emulator::RecordedRequest| {
        under_group(r) && segments(r) == 5 && r.path.to_ascii_lowercase().ends_with("/resources")
    };
    let first_group = reads.iter().position(is_group).expect("the groups are read");
    let late = &reads[first_group..];
    assert_eq!(late.len(), 4, "only the groups and their scans come after a group's answer: {shown:#?}");
    assert_eq!(late.iter().filter(|r| is_group(r)).count(), 2, "{shown:#?}");
    assert_eq!(late.iter().filter(|r| is_scan(r)).count(), 2, "{shown:#?}");
    assert!(reads[..first_group].iter().all(|r| !is_scan(r)), "a scan waits for its group: {shown:#?}");
}

#[test]
fn the_arm_and_the_graph_token_are_fetched_at_once() {
    // Each token takes 3 s to come: fetched one after the other, the plan would take over 6 s.
    let emulator = InProcessEmulator::start_with(exai_emulator::EmulatorOptions {
        faults: vec!["POST /*/oauth2/v2.0/token latency=3s".parse().expect("a fault rule")],
        ..Default::default()
    });
    let s = recipe();
    // The harness builds the binary on first use: not part of what is measured.
    crate::harness::exai_bin();
    let started = std::time::Instant::now();
    s.run_against(&emulator, &["plan", "-f", "exai.yaml"]).expect_code(0);
    let took = started.elapsed();
    let tokens: Vec<_> = emulator
        .emulator
        .requests()
        .into_iter()
        .filter(|r| r.kind == exai_emulator::RequestKind::Token)
        .map(|r| r.status)
        .collect();
    assert_eq!(tokens, [200, 200], "one token per audience, each fetched once");
    assert!(took < std::time::Duration::from_secs(6), "took {took:?}: the tokens were fetched one after the other");
}
