//! Benchmarks: how `exai plan` and spec parsing scale, reported against their lower bounds.
//!
//! Run with `just bench` (or `cargo bench -p exai-cli`). Numbers, not assertions: a test
//! asserts behaviour, a benchmark reports speed.
//!
//! - **plan**: the real binary plans N environments (one resource group each) against an
//!   in-process emulator. Reads run 8 at a time, so the lower bound is the time of a plan of one
//!   resource (process start, TLS, token, one read) plus `ceil(N / 8) - 1` further read round
//!   trips, one round trip being a warm GET measured with exai's own client. The benchmark reports
//!   the ratio of the measured time to that bound, and the number of requests sent (which must be
//!   one token request, exactly N reads, and the caller's permissions at each of the N groups and
//!   at the subscription, read beside the first reads).
//! - **markdown**: the same plan rendered as a pull-request comment, with its size in characters
//!   (always within 65,536).
//! - **parse**: `exai_spec::parse` of `specs/exai.yaml`, per call.

#[path = "../tests/e2e/harness.rs"]
#[allow(dead_code, unused_imports, unused_macros)]
mod harness;

use harness::{InProcessEmulator, Scratch, exai_bin};
use std::time::{Duration, Instant};

const READ_PARALLELISM: usize = 8;

fn spec(environments: usize) -> String {
    let mut s = String::from(
        "version: 1\nazure:\n  tenant: ${AZURE_TENANT_ID}\n  subscription: ${AZURE_SUBSCRIPTION_ID}\ndefaults:\n  location: francecentral\nenvironments:\n",
    );
    for i in 0..environments {
        s.push_str(&format!("  env{i}:\n    resourceGroup: {{ name: exai-env{i}-rg }}\n"));
    }
    s
}

/// Returns the median time of one GET of a resource group on a warm connection, with exai's
/// client: the cost of one more sequential round of reads.
fn warm_read_round_trip(emulator: &InProcessEmulator) -> Duration {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let client = emulator.someone_else();
        let path = format!("/subscriptions/{}/resourcegroups/exai-env0-rg", exai_emulator::DEV_SUBSCRIPTION_ID);
        let read = exai_model::ApiRequest::arm(exai_model::Method::Get, path, "2025-04-01", None);
        let _ = client.read(&read).await; // warm up: token and connection
        let mut samples = Vec::new();
        for _ in 0..50 {
            let started = Instant::now();
            let _ = client.read(&read).await;
            samples.push(started.elapsed());
        }
        median(samples)
    })
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let emulator = InProcessEmulator::start();
    let endpoint = emulator.args();
    let mut scratch = Scratch::with_spec(&spec(1));
    scratch
        .env("AZURE_TENANT_ID", exai_emulator::DEV_TENANT_ID)
        .env("AZURE_SUBSCRIPTION_ID", exai_emulator::DEV_SUBSCRIPTION_ID);
    let run_as = |scratch: &Scratch, format: &str| {
        let mut args = vec!["plan", "-f", "exai.yaml", "--format", format];
        args.extend(endpoint.iter().map(String::as_str));
        let started = Instant::now();
        let r = scratch.run(&args);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        (started.elapsed(), r.stdout.chars().count())
    };
    let run = |scratch: &Scratch| run_as(scratch, "text").0;
    let _ = exai_bin();

    // The process floor: `exai --version` (start, no work).
    let floor = median(
        (0..9)
            .map(|_| {
                let started = Instant::now();
                let _ = std::process::Command::new(exai_bin()).arg("--version").output();
                started.elapsed()
            })
            .collect(),
    );
    // One plan of one resource: start + TLS + token + one read.
    let one = median((0..9).map(|_| run(&scratch)).collect());
    let round_trip = warm_read_round_trip(&emulator);
    println!("process start (exai --version):        {:>8.1} ms", floor.as_secs_f64() * 1e3);
    println!("plan of 1 resource (start+token+read): {:>8.1} ms", one.as_secs_f64() * 1e3);
    println!("one warm read round trip:              {:>8.2} ms", round_trip.as_secs_f64() * 1e3);
    println!();
    println!(
        "{:>12} {:>10} {:>12} {:>8} {:>10} {:>12} {:>14}",
        "environments", "plan ms", "bound ms", "ratio", "requests", "markdown ms", "comment chars"
    );
    for n in [1usize, 10, 60, 200] {
        scratch.write_spec(&spec(n));
        let before = emulator.emulator.requests().len();
        let measured = median((0..5).map(|_| run(&scratch)).collect());
        let requests = (emulator.emulator.requests().len() - before) / 5;
        let bound = one + round_trip * u32::try_from(n.div_ceil(READ_PARALLELISM) - 1).unwrap_or(u32::MAX);
        // The same plan as a pull-request comment: the Markdown budget's cost, and its size.
        let markdown: Vec<(Duration, usize)> = (0..5).map(|_| run_as(&scratch, "markdown")).collect();
        let comment = markdown[0].1;
        let markdown = median(markdown.into_iter().map(|(d, _)| d).collect());
        println!(
            "{n:>12} {:>10.1} {:>12.1} {:>8.2} {requests:>10} {:>12.1} {comment:>14}",
            measured.as_secs_f64() * 1e3,
            bound.as_secs_f64() * 1e3,
            measured.as_secs_f64() / bound.as_secs_f64(),
            markdown.as_secs_f64() * 1e3,
        );
        assert_eq!(
            requests,
            2 * n + 2,
            "a plan sends one token request, one read per resource, and one permissions read per scope"
        );
    }

    let text = std::fs::read_to_string(harness::repo_root().join("specs/exai.yaml")).expect("example spec");
    let env = |name: &str| match name {
        "AZURE_TENANT_ID" => Some(exai_emulator::DEV_TENANT_ID.to_owned()),
        "AZURE_SUBSCRIPTION_ID" => Some(exai_emulator::DEV_SUBSCRIPTION_ID.to_owned()),
        _ => None,
    };
    let iterations = 200;
    let started = Instant::now();
    for _ in 0..iterations {
        let spec = exai_spec::parse("exai.yaml", &text, &env).expect("the example parses");
        std::hint::black_box(spec.desired_state(None).expect("expands"));
    }
    let per = started.elapsed() / iterations;
    println!(
        "\nparse + validate + expand specs/exai.yaml ({} bytes): {:.0} µs per call",
        text.len(),
        per.as_secs_f64() * 1e6
    );
}
