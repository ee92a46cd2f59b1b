//! Pacing by ARM's buckets, through the binary: a plan that reads more than ARM's read bucket
//! holds waits for the refill instead of drawing 429s (emulator `throttle`: 250 reads refilled
//! at 25 per second per subscription, as ARM).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crate::harness::{InProcessEmulator, Scratch};
use exai_emulator::{DEV_SUBSCRIPTION_ID, DEV_TENANT_ID, EmulatorOptions};

/// Returns a spec of `n` environments, each a resource group and a registry.
fn spec(n: usize) -> String {
    let mut text = String::from(
        "version: 1
azure:
  tenant: ${AZURE_TENANT_ID}
  subscription: ${AZURE_SUBSCRIPTION_ID}
defaults:
  location: francecentral
environments:
",
    );
    for i in 0..n {
        text.push_str(&format!(
            "  env{i}:\n    resourceGroup: {{ name: exai-env{i}-rg }}\n    registry: {{ name: exaienv{i}acr, sku: Standard }}\n"
        ));
    }
    text
}

/// An emulator with ARM's token buckets on every subscription route, and a spec of `n`
/// environments for it.
fn throttled(n: usize) -> (InProcessEmulator, Scratch) {
    let emulator = InProcessEmulator::start_with(EmulatorOptions {
        faults: vec!["* /subscriptions/** throttle".parse().unwrap()],
        ..Default::default()
    });
    let mut s = Scratch::with_spec(&spec(n));
    s.env("AZURE_TENANT_ID", DEV_TENANT_ID).env("AZURE_SUBSCRIPTION_ID", DEV_SUBSCRIPTION_ID);
    (emulator, s)
}

#[test]
fn a_plan_reading_more_than_arms_read_bucket_draws_no_429() {
    let (emulator, s) = throttled(140);
    let run = s.run_against(&emulator, &["plan"]);
    run.expect_code(0);
    let requests = emulator.emulator.requests();
    let reads = requests.iter().filter(|r| r.method == "GET" && r.path.starts_with("/subscriptions/")).count();
    // More reads than the bucket holds: without pacing, the reads past the 250th draw 429s.
    assert!(reads > 250, "the plan read only {reads} times: the bucket never ran dry");
    let throttled: Vec<_> =
        requests.iter().filter(|r| r.status == 429).map(|r| format!("{} {}", r.method, r.path)).collect();
    assert!(
        throttled.is_empty(),
        "{} of {reads} reads answered 429, the first: {:?}",
        throttled.len(),
        throttled.first()
    );
}

/// Where ARM's header says more reads remain than its documented bucket (here the emulator's
/// unthrottled counter, 12,000), exai trusts the header and does not wait: the plan takes far
/// less than the refill of the reads past the 250th would (at 25 per second).
#[test]
fn a_plan_goes_as_wide_as_the_remaining_header_allows() {
    let emulator = InProcessEmulator::start();
    let mut s = Scratch::with_spec(&spec(200));
    s.env("AZURE_TENANT_ID", DEV_TENANT_ID).env("AZURE_SUBSCRIPTION_ID", DEV_SUBSCRIPTION_ID);
    let started = std::time::Instant::now();
    let run = s.run_against(&emulator, &["plan"]);
    let elapsed = started.elapsed();
    run.expect_code(0);
    let requests = emulator.emulator.requests();
    let reads = requests.iter().filter(|r| r.method == "GET" && r.path.starts_with("/subscriptions/")).count();
    assert!(reads > 400, "the plan read only {reads} times");
    let paced = std::time::Duration::from_secs_f64((reads - 250) as f64 / 25.0);
    assert!(
        elapsed < paced / 2,
        "{reads} reads took {elapsed:?}: paced at ARM's documented refill they would take {paced:?}, so the header's 12,000 was not trusted"
    );
}

/// Two pipelines planning at once on one subscription share ARM's read bucket: each sees the
/// other's reads only in the remaining-reads header, after it has sent its own burst, so their
/// bursts collide and some reads are answered 429. Both plans must still come out right and
/// whole: the same plan, every 429 waited out, no read given up. (How few 429s the sharing
/// leaves is a measure, not a behaviour: docs/architecture.md, `PacingPolicy`; the rule itself is
/// `pacing::tests::a_429_halves_the_refill_assumed_once_per_event_and_keeps_a_reserve`.)
#[test]
fn two_plans_at_once_share_the_bucket_and_both_come_out_right() {
    let (emulator, s) = throttled(100);
    let (first, second) = std::thread::scope(|scope| {
        let first = scope.spawn(|| s.run_against(&emulator, &["plan", "--detailed-exitcode"]));
        let second = scope.spawn(|| s.run_against(&emulator, &["plan", "--detailed-exitcode"]));
        (first.join().unwrap(), second.join().unwrap())
    });
    // Nothing exists: both plans create everything (exit 2), and say the same.
    first.expect_code(2);
    second.expect_code(2);
    assert_eq!(first.stdout, second.stdout, "two plans of one spec against one Azure differ");
    let requests = emulator.emulator.requests();
    let reads = requests.iter().filter(|r| r.method == "GET" && r.path.starts_with("/subscriptions/")).count();
    let throttled = requests.iter().filter(|r| r.status == 429).count();
    assert!(reads - throttled > 250, "the plans read only {reads} times: the bucket never ran dry");
    assert!(throttled > 0, "no read was answered 429: the test no longer shows two clients colliding");
}
