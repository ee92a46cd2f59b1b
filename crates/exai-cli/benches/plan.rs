//! Benchmarks: `exai plan` and `exai apply` at a realistic latency, against their lower bounds.
//!
//! Run with `just bench` (or `cargo bench -p exai-cli`). Numbers, not assertions: a test
//! asserts behaviour, a benchmark reports speed. `EXAI_BENCH_LARGE=1` adds N = 200 (over two
//! minutes on a 2-core machine); without it N = 1, 10 and 60 are measured.
//!
//! Every environment is a copy of the example's `perso` (`specs/exai.yaml`): a resource group, a
//! registry, a Log Analytics workspace, a cluster with container insights (a data collection
//! rule and its association) and AcrPull for its kubelet identity, and a deployer (application,
//! service principal, federated credential, Contributor on the subscription). One change: the
//! cluster's SSH key is a `publicKeyFile` generated once by `ssh-keygen`, not `generate: true`,
//! so that seeding 200 environments does not spend its time in RSA-4096 key generation.
//!
//! - **plan**: the emulator answers every GET and every token request after 50 ms
//!   (`GET * latency=50ms`, `POST /*/oauth2/v2.0/token latency=50ms`); every object exists (an
//!   apply without latency seeded them). The lower bound is one token round trip plus the
//!   longest chain of reads that each need an earlier read's *answer*, × 50 ms. That chain is
//!   computed by [`longest_chain`] over [`READ_DEPENDENCIES`], the plan's data dependencies: a
//!   read whose path the spec gives needs only the token; the service principal is looked up by
//!   the application's `appId`, the deployer's role assignment by the principal's id, the
//!   federated credentials under the application's object id, and the AcrPull assignment by the
//!   cluster's kubelet object id. The longest chain (application → service principal → role
//!   assignment) is 3 reads, so the bound is (1 + 3) × 50 ms at every N. "requests" counts what
//!   the emulator logged for one plan.
//! - **throttled plan**: the same plan under ARM's token buckets (`* /subscriptions/** throttle`:
//!   250 reads burst, then 25 per second, with the remaining-reads header), whose bound is the
//!   larger of the latency bound and the time the bucket needs for the plan's ARM reads
//!   ((reads − 250) / 25 s); "429s" counted from the log.
//! - **python**: the same reads (every GET of the plan's request log, Graph's and ARM's) sent by
//!   `tests/python/read_bench.py` on 10 threads with Azure's SDK for Python, from the virtualenv
//!   `target/python-sdk-venv` the Python SDK test builds; skipped (and said so) without it. It is
//!   run unthrottled and throttled, each against a full bucket (the SDK's retry policy honours
//!   429's `Retry-After`). "python run" is the script's whole run, timed as exai's plan is (from
//!   the process's start to its exit: the interpreter, the SDK's imports, the sign-in, the
//!   reads); "its reads" is the script's own clock, from its credential to its last answer. The
//!   ratio is of the whole runs; unthrottled, the median of as many runs as exai's plan had.
//!   The script is given every path in advance (it looks nothing up), which no real script
//!   could: it is the user's best case.
//! - **apply**: a fresh emulator whose long-running operations take 3 s (`operation_delay`), no
//!   latency; N = 1 and 10 environments created from nothing, default flags. The critical path
//!   is the longest chain of dependent writes, each long-running one costing 3 s
//!   ([`WRITE_DEPENDENCIES`]): workspace → cluster = 6 s (the data collection rule, association
//!   and role assignments are synchronous).
//! - **validate**: `exai validate` of 200 and 800 environments (no Azure), and their ratio.
//! - **parse**: `exai_spec::parse` of `specs/exai.yaml`, per call.

#[path = "../tests/e2e/harness.rs"]
#[allow(dead_code, unused_imports, unused_macros)]
mod harness;

use exai_emulator::{EmulatorOptions, RequestKind};
use harness::{InProcessEmulator, Scratch, exai_bin};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The latency the emulator adds to every read and token request.
const LATENCY: Duration = Duration::from_millis(50);
/// How long a long-running operation runs in the apply benchmark.
const OPERATION: Duration = Duration::from_secs(3);

/// The reads of one environment's plan and the reads whose answer each one needs (`token`
/// being the sign-in): the plan's data dependencies.
const READ_DEPENDENCIES: &[(&str, &[&str])] = &[
    ("token", &[]),
    ("resource group", &["token"]),
    ("registry", &["token"]),
    ("workspace", &["token"]),
    ("cluster", &["token"]),
    ("data collection rule", &["token"]),
    ("data collection rule association", &["token"]),
    ("ownership scan of the group", &["token"]),
    ("caller's permissions", &["token"]),
    ("application (by displayName)", &["token"]),
    ("service principal (by appId)", &["application (by displayName)"]),
    ("federated credentials (under the application's id)", &["application (by displayName)"]),
    ("deployer's role assignment (by principalId)", &["service principal (by appId)"]),
    ("AcrPull role assignment (by kubelet objectId)", &["cluster"]),
];

/// The writes of one environment's apply, whether each is a long-running operation, and the
/// writes each one needs first (`depends_on`).
const WRITE_DEPENDENCIES: &[(&str, bool, &[&str])] = &[
    ("resource group", false, &[]),
    ("registry", true, &["resource group"]),
    ("workspace", true, &["resource group"]),
    ("data collection rule", false, &["workspace"]),
    ("cluster", true, &["resource group", "workspace"]),
    ("data collection rule association", false, &["cluster", "data collection rule"]),
    ("AcrPull role assignment", false, &["cluster", "registry"]),
    ("application", false, &[]),
    ("service principal", false, &["application"]),
    ("federated credential", false, &["application"]),
    ("deployer's role assignment", false, &["service principal"]),
];

/// Returns the longest chain of `nodes` (name, cost, what it needs) ending anywhere, as its
/// cost and its names in order.
fn longest_chain(nodes: &[(&'static str, u32, &[&'static str])]) -> (u32, Vec<&'static str>) {
    fn ending_at(
        name: &'static str,
        nodes: &[(&'static str, u32, &[&'static str])],
        memo: &mut BTreeMap<&'static str, (u32, Vec<&'static str>)>,
    ) -> (u32, Vec<&'static str>) {
        if let Some(known) = memo.get(name) {
            return known.clone();
        }
        let (_, cost, needs) = nodes.iter().find(|(n, _, _)| *n == name).copied().expect("a known node");
        let mut best = (0, Vec::new());
        for need in needs {
            let chain = ending_at(need, nodes, memo);
            if chain.0 > best.0 || best.1.is_empty() {
                best = chain;
            }
        }
        best.0 += cost;
        best.1.push(name);
        memo.insert(name, best.clone());
        best
    }
    let mut memo = BTreeMap::new();
    nodes.iter().map(|(name, _, _)| ending_at(name, nodes, &mut memo)).max_by_key(|(cost, _)| *cost).unwrap_or_default()
}

/// A spec of `n` copies of the example's `perso` environment.
fn spec(n: usize) -> String {
    let mut s = String::from(
        "version: 1\nazure:\n  tenant: ${AZURE_TENANT_ID}\n  subscription: ${AZURE_SUBSCRIPTION_ID}\ndefaults:\n  location: francecentral\n  tags:\n    project: exai\nenvironments:\n",
    );
    for i in 0..n {
        s.push_str(&format!(
            "  perso{i}:
    resourceGroup: {{ name: exai-perso{i}-rg }}
    registry: {{ name: exaiperso{i}acr, sku: Standard }}
    monitoring: {{ workspace: exai-perso{i}-logs }}
    cluster:
      name: exai-perso{i}-aks
      identity: SystemAssigned
      nodePools:
        - {{ name: nodepool1, count: 1, vmSize: Standard_B2s }}
      attachRegistry: true
      monitoring: true
      ssh: {{ publicKeyFile: id_rsa.pub }}
    deployer:
      name: exai-perso{i}-github-sp
      role: Contributor
      scope: subscription
      github: {{ repository: my-org/exai, branches: [production] }}
      clientSecret: false
"
        ));
    }
    s
}

/// A scratch directory with the spec of `n` environments and its SSH public key.
fn scratch(n: usize) -> Scratch {
    let mut scratch = Scratch::with_spec(&spec(n));
    scratch
        .env("AZURE_TENANT_ID", exai_emulator::DEV_TENANT_ID)
        .env("AZURE_SUBSCRIPTION_ID", exai_emulator::DEV_SUBSCRIPTION_ID);
    let key = scratch.path().join("id_rsa");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f"])
        .arg(&key)
        .status()
        .expect("this benchmark needs `ssh-keygen` for the clusters' public key");
    assert!(made.success(), "ssh-keygen failed");
    scratch
}

/// Runs exai with `args` against `emulator`; returns how long it took.
fn timed(scratch: &Scratch, emulator: &InProcessEmulator, args: &[&str]) -> Duration {
    let started = Instant::now();
    let run = scratch.run_against(emulator, args);
    let elapsed = started.elapsed();
    assert_eq!(run.code, Some(0), "exai {args:?} failed\n{}", run.stderr);
    elapsed
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Sends `DELETE /_emulator/faults`: no rule left, the token buckets emptied.
fn clear_faults(emulator: &InProcessEmulator) {
    let (status, body) = emulator.admin(reqwest::Method::DELETE, "faults", None);
    assert!((200..300).contains(&status), "cannot clear the faults: {body}");
}

fn add_faults(emulator: &InProcessEmulator, rules: &[&str]) {
    let (status, body) = emulator.admin_post("faults", &serde_json::json!({ "faults": rules }));
    assert_eq!(status, 200, "{body}");
}

/// The virtualenv's python the Python SDK test builds, when it exists.
fn venv_python() -> Result<PathBuf, String> {
    // target/release/deps/plan-… → target
    let exe = std::env::current_exe().map_err(|error| error.to_string())?;
    let target = exe.ancestors().nth(3).map(Path::to_path_buf).ok_or("no target directory")?;
    let python = target.join("python-sdk-venv/bin/python");
    if python.is_file() {
        Ok(python)
    } else {
        Err(format!("no {} (build it with `cargo test -p exai-cli --test e2e python_sdk::`)", python.display()))
    }
}

/// How long the Python script took.
#[derive(Clone, Copy)]
struct PythonRun {
    /// The whole run, as a user waits for it (and as exai's plan is timed): the interpreter's
    /// start-up and the SDK's imports, the sign-in, the reads.
    process: Duration,
    /// The script's own clock, from its credential to its last answer: the reads alone.
    script: Duration,
    /// How many reads failed (the SDK's retries gave up).
    failed: usize,
}

/// Reads every GET exai sent (`log`) again with Azure's SDK for Python on 10 threads; returns
/// how long that took, or why it could not run.
fn python_reads(emulator: &InProcessEmulator, log: &[exai_emulator::RecordedRequest]) -> Result<PythonRun, String> {
    let python = venv_python()?;
    let dir = tempfile::tempdir().map_err(|error| error.to_string())?;
    let reads = dir.path().join("reads.jsonl");
    let lines: Vec<String> = log
        .iter()
        .filter(|request| request.method == "GET")
        .filter_map(|request| {
            let api = match request.kind {
                RequestKind::Arm => "arm",
                RequestKind::Graph => "graph",
                _ => return None,
            };
            Some(serde_json::json!({ "api": api, "path": request.path, "query": request.query }).to_string())
        })
        .collect();
    std::fs::write(&reads, lines.join("\n")).map_err(|error| error.to_string())?;
    let started = Instant::now();
    let output = Command::new(python)
        .arg(harness::repo_root().join("tests/python/read_bench.py"))
        .args(["--url", emulator.emulator.url().as_str()])
        .arg("--ca-cert")
        .arg(&emulator.ca_cert)
        .args(["--tenant-id", exai_emulator::DEV_TENANT_ID])
        .args(["--subscription-id", exai_emulator::DEV_SUBSCRIPTION_ID])
        .args(["--client-id", exai_emulator::DEV_CLIENT_ID])
        .args(["--client-secret", exai_emulator::DEV_CLIENT_SECRET])
        .arg("--reads")
        .arg(&reads)
        .args(["--threads", "10"])
        .output()
        .map_err(|error| error.to_string())?;
    let process = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    // `reads N seconds S failed F`: a run whose reads failed (the SDK gave up on them) says so
    // and exits 1; anything else is the script failing.
    let after = |name: &str| stdout.split_whitespace().skip_while(|word| *word != name).nth(1).map(str::to_owned);
    let seconds = after("seconds").and_then(|seconds| seconds.parse::<f64>().ok());
    let failed = after("failed").and_then(|failed| failed.parse::<usize>().ok());
    match (seconds, failed) {
        (Some(seconds), Some(failed)) => Ok(PythonRun { process, script: Duration::from_secs_f64(seconds), failed }),
        _ => Err(format!("the script failed: {stdout}{}", String::from_utf8_lossy(&output.stderr))),
    }
}

/// A Python run's cells: its whole run (with how many reads it could not do), its reads.
fn python_cells(python: &PythonRun) -> (String, String) {
    let run = match python.failed {
        0 => ms(python.process),
        failed => format!("{} ({failed} failed)", ms(python.process)),
    };
    (run, ms(python.script))
}

fn ms(duration: Duration) -> String {
    format!("{:.0} ms", duration.as_secs_f64() * 1e3)
}

/// ARM's read bucket for one subscription: (burst, refill per second). Source:
/// learn.microsoft.com, "Understand how Azure Resource Manager throttles requests".
const ARM_READ_BUCKET: (f64, f64) = (250.0, 25.0);

/// The time ARM's read bucket needs to let `reads` reads through: nothing for the burst, then
/// one refill per read past it.
fn budget_bound(reads: usize) -> Duration {
    let (burst, rate) = ARM_READ_BUCKET;
    Duration::from_secs_f64(((reads as f64 - burst) / rate).max(0.0))
}

fn ratio(a: Duration, b: Duration) -> String {
    format!("{:.2}×", a.as_secs_f64() / b.as_secs_f64())
}

fn bench_plan(sizes: &[usize]) {
    let reads: Vec<(&'static str, u32, &[&'static str])> =
        READ_DEPENDENCIES.iter().map(|(name, needs)| (*name, 1, *needs)).collect();
    let (rounds, chain) = longest_chain(&reads);
    let bound = LATENCY * rounds;
    println!("plan: every GET and token request answered after {} ms", LATENCY.as_millis());
    println!("longest chain of dependent round trips: {} ({rounds} × 50 ms = {})", chain.join(" → "), ms(bound));
    if let Err(why) = venv_python() {
        println!("python columns skipped: {why}");
    }
    let latency = ["GET * latency=50ms", "POST /*/oauth2/v2.0/token latency=50ms"];
    let throttled_faults = [latency[0], latency[1], "* /subscriptions/** throttle"];
    let mut rows = Vec::new();
    for &n in sizes {
        let emulator = InProcessEmulator::start();
        let scratch = scratch(n);
        timed(&scratch, &emulator, &["apply", "-f", "exai.yaml", "--auto-approve"]);

        // Unthrottled: the emulator's remaining-reads header says 12,000 (ARM's old hourly
        // counter), so nothing but latency bounds the plan.
        add_faults(&emulator, &latency);
        let samples = if n <= 10 { 3 } else { 1 };
        let before = emulator.emulator.requests().len();
        let plan = median(
            (0..samples)
                .map(|_| timed(&scratch, &emulator, &["plan", "-f", "exai.yaml", "--detailed-exitcode"]))
                .collect(),
        );
        let log = emulator.emulator.requests();
        let one_plan: Vec<_> = log[before..].iter().take((log.len() - before) / samples).cloned().collect();
        let arm_reads =
            one_plan.iter().filter(|request| request.kind == RequestKind::Arm && request.method == "GET").count();
        // As many runs as exai's plan had; the median by whole run (the interpreter's start-up
        // varies by a hundred milliseconds from one run to the next).
        let mut runs: Vec<Result<PythonRun, String>> =
            (0..samples).map(|_| python_reads(&emulator, &one_plan)).collect();
        runs.sort_by_key(|run| run.as_ref().map_or(Duration::MAX, |run| run.process));
        let python = runs.swap_remove(runs.len() / 2);

        // Throttled: ARM's read bucket (250, then 25 per second) on every /subscriptions route,
        // with its remaining-reads header; a fresh bucket for each client (the faults are
        // cleared and added again, which starts full buckets).
        clear_faults(&emulator);
        add_faults(&emulator, &throttled_faults);
        let before = emulator.emulator.requests().len();
        let throttled_plan = timed(&scratch, &emulator, &["plan", "-f", "exai.yaml", "--detailed-exitcode"]);
        let throttled_429s =
            emulator.emulator.requests()[before..].iter().filter(|request| request.status == 429).count();
        clear_faults(&emulator);
        add_faults(&emulator, &throttled_faults);
        let before = emulator.emulator.requests().len();
        let throttled_python = python_reads(&emulator, &one_plan);
        let python_429s = emulator.emulator.requests()[before..].iter().filter(|request| request.status == 429).count();
        rows.push((
            n,
            plan,
            one_plan.len(),
            arm_reads,
            python,
            throttled_plan,
            throttled_429s,
            throttled_python,
            python_429s,
        ));
    }

    println!();
    println!("unthrottled (latency only):");
    println!(
        "{:>4} {:>10} {:>10} {:>7} {:>9} {:>20} {:>11} {:>14}",
        "N", "plan", "bound", "ratio", "requests", "python run", "its reads", "python / plan"
    );
    for (n, plan, requests, _, python, ..) in &rows {
        let (run, script, versus) = match python {
            Ok(python) => {
                let (run, script) = python_cells(python);
                (run, script, ratio(python.process, *plan))
            }
            Err(_) => ("skipped".to_owned(), "-".to_owned(), "-".to_owned()),
        };
        println!(
            "{n:>4} {:>10} {:>10} {:>7} {requests:>9} {run:>20} {script:>11} {versus:>14}",
            ms(*plan),
            ms(bound),
            ratio(*plan, bound)
        );
    }
    println!();
    println!(
        "throttled (ARM's read bucket, 250 then 25/s; bound = the larger of the latency bound and (ARM reads − 250) / 25 s):"
    );
    println!(
        "{:>4} {:>9} {:>10} {:>10} {:>7} {:>6} {:>20} {:>11} {:>12} {:>14}",
        "N", "ARM reads", "plan", "bound", "ratio", "429s", "python run", "its reads", "python 429s", "python / plan"
    );
    for (n, _, _, arm_reads, _, throttled_plan, throttled_429s, throttled_python, python_429s) in &rows {
        let bound = bound.max(budget_bound(*arm_reads));
        let (run, script, versus, python_429s) = match throttled_python {
            Ok(python) => {
                let (run, script) = python_cells(python);
                (run, script, ratio(python.process, *throttled_plan), python_429s.to_string())
            }
            Err(_) => ("skipped".to_owned(), "-".to_owned(), "-".to_owned(), "-".to_owned()),
        };
        println!(
            "{n:>4} {arm_reads:>9} {:>10} {:>10} {:>7} {throttled_429s:>6} {run:>20} {script:>11} {python_429s:>12} {versus:>14}",
            ms(*throttled_plan),
            ms(bound),
            ratio(*throttled_plan, bound),
        );
    }
    for (n, _, _, _, python, _, _, throttled_python, _) in &rows {
        for (what, result) in [("unthrottled", python), ("throttled", throttled_python)] {
            if let (Err(why), Ok(_)) = (result, venv_python()) {
                println!("N = {n}: python ({what}) failed: {why}");
            }
        }
    }
}

fn bench_apply() {
    let writes: Vec<(&'static str, u32, &[&'static str])> = WRITE_DEPENDENCIES
        .iter()
        .map(|(name, long_running, needs)| (*name, u32::from(*long_running), *needs))
        .collect();
    let (operations, chain) = longest_chain(&writes);
    let critical = OPERATION * operations;
    println!();
    println!("apply: long-running operations take {} s, no latency, default flags", OPERATION.as_secs());
    println!("critical path: {} ({operations} operations × 3 s = {})", chain.join(" → "), ms(critical));
    println!();
    println!("{:>4} {:>10} {:>14} {:>7} {:>9}", "N", "apply", "critical path", "ratio", "requests");
    for n in [1usize, 10] {
        let emulator =
            InProcessEmulator::start_with(EmulatorOptions { operation_delay: OPERATION, ..Default::default() });
        let scratch = scratch(n);
        let apply = timed(&scratch, &emulator, &["apply", "-f", "exai.yaml", "--auto-approve"]);
        println!(
            "{n:>4} {:>10} {:>14} {:>6.1}× {:>9}",
            ms(apply),
            ms(critical),
            apply.as_secs_f64() / critical.as_secs_f64(),
            emulator.emulator.requests().len()
        );
    }
}

/// `exai validate` of 200 and 800 environments: the time of each (median of 5 runs of the
/// binary) and their ratio, which is 4 for validation linear in the number of environments.
fn bench_validate() {
    println!();
    println!("validate (no Azure): median of 5 runs of `exai validate`");
    let mut times = Vec::new();
    for n in [200usize, 800] {
        let scratch = scratch(n);
        let time = median(
            (0..5)
                .map(|_| {
                    let started = Instant::now();
                    let run = scratch.run(&["validate", "-f", "exai.yaml"]);
                    assert_eq!(run.code, Some(0), "exai validate failed\n{}", run.stderr);
                    started.elapsed()
                })
                .collect(),
        );
        println!("{n:>4} environments {:>10}", ms(time));
        times.push(time);
    }
    println!("800 / 200: {}", ratio(times[1], times[0]));
}

fn bench_parse() {
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

fn main() {
    let _ = exai_bin();
    let mut sizes = vec![1usize, 10, 60];
    if std::env::var_os("EXAI_BENCH_LARGE").is_some() {
        sizes.push(200);
    }
    bench_plan(&sizes);
    bench_apply();
    bench_validate();
    bench_parse();
}
