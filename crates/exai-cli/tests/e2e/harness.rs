//! Harness for the end-to-end tests: the real `exai` binary, run in a scratch directory with a
//! clean environment, against the emulator.
//!
//! The binary is the one Cargo built for this package before running its tests
//! (`CARGO_BIN_EXE_exai`), so a test never runs a stale binary and never builds one itself.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The repository root.
pub fn repo_root() -> PathBuf {
    // crates/exai-cli → the repository.
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).map(Path::to_path_buf).unwrap_or_default()
}

/// The `exai` binary Cargo built for these tests.
pub fn exai_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_exai"))
}

/// The result of one run of the binary.
#[derive(Debug)]
pub struct Run {
    /// The exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Self {
        Self {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Panics with both streams unless the exit code is `code`; never a panic of the binary,
    /// and never a raw control character ([`Run::expect_terminal_safe`]).
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "unexpected exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        assert!(!self.stderr.contains("panicked"), "the binary panicked:\n{}", self.stderr);
        self.expect_terminal_safe()
    }

    /// Panics unless both streams are safe for a terminal: no control character but the line
    /// feed (the harness sets `NO_COLOR`, so not even colour) and no bidirectional or
    /// zero-width formatting character, wherever the text came from (a spec, Azure's answers).
    pub fn expect_terminal_safe(&self) -> &Self {
        let unsafe_char = |c: &char| {
            c.is_control() || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        };
        for (stream, text) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            if let Some((line, raw)) =
                text.lines().enumerate().find_map(|(i, line)| line.chars().find(unsafe_char).map(|c| (i + 1, c)))
            {
                panic!("{stream} line {line} holds the raw control character {raw:?}:\n{}", text.escape_debug());
            }
        }
        self
    }
}

/// A scratch directory holding a spec, where the binary runs with a clean environment.
pub struct Scratch {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Scratch {
    /// Returns a scratch directory with `spec` written to `exai.yaml`.
    pub fn with_spec(spec: &str) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        std::fs::write(dir.path().join("exai.yaml"), spec).expect("write spec");
        Self { dir, env: Vec::new() }
    }

    /// Returns a scratch directory holding a copy of the example `specs/exai.yaml`.
    pub fn with_example() -> Self {
        Self::with_spec(&example_spec())
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Sets an environment variable for every later run.
    pub fn env(&mut self, name: &str, value: &str) -> &mut Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Rewrites the spec.
    pub fn write_spec(&self, spec: &str) {
        std::fs::write(self.dir.path().join("exai.yaml"), spec).expect("write spec");
    }

    /// Returns the spec.
    pub fn spec(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("exai.yaml")).expect("read spec")
    }

    /// Runs `exai ARGS` here. The environment holds nothing from the caller's but what a
    /// process needs to run: no Azure variables, and a `PATH` with no `az` on it, only the
    /// kustomize the Kubernetes checks render overlays with ([`tools_path`]).
    pub fn run(&self, args: &[&str]) -> Run {
        let mut command = Command::new(exai_bin());
        command.args(args).current_dir(self.dir.path()).env_clear().env("PATH", tools_path()).env("NO_COLOR", "1");
        for (k, v) in &self.env {
            command.env(k, v);
        }
        Run::from(command.stdin(std::process::Stdio::null()).output().expect("run exai"))
    }
}

impl Scratch {
    /// Runs `exai ARGS --endpoint URL --ca-cert FILE` here, against `emulator`.
    pub fn run_against(&self, emulator: &InProcessEmulator, args: &[&str]) -> Run {
        let endpoint = emulator.args();
        let mut all: Vec<&str> = args.to_vec();
        all.extend(endpoint.iter().map(String::as_str));
        self.run(&all)
    }
}

impl Scratch {
    /// Starts `exai ARGS --endpoint URL --ca-cert FILE` here, against `emulator`, without
    /// waiting for it: for tests that watch its output and signal it.
    pub fn spawn_against(&self, emulator: &InProcessEmulator, args: &[&str]) -> Running {
        let mut command = Command::new(exai_bin());
        command
            .args(args)
            .args(emulator.args())
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", tools_path())
            .env("NO_COLOR", "1");
        for (k, v) in &self.env {
            command.env(k, v);
        }
        let mut child =
            command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start exai");
        let collect = |stream: Option<Box<dyn Read + Send>>| {
            let text = Arc::new(Mutex::new(String::new()));
            let sink = text.clone();
            let reader = std::thread::spawn(move || {
                let Some(mut stream) = stream else { return };
                let mut buffer = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buffer) {
                    if n == 0 {
                        break;
                    }
                    sink.lock().expect("output lock").push_str(&String::from_utf8_lossy(&buffer[..n]));
                }
            });
            (text, reader)
        };
        let stdout = collect(child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
        let stderr = collect(child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
        Running { child, stdout, stderr }
    }
}

/// Output read from a running process, and the thread reading it.
type Collected = (Arc<Mutex<String>>, std::thread::JoinHandle<()>);

/// `exai` running in the background ([`Scratch::spawn_against`]).
pub struct Running {
    child: Child,
    stdout: Collected,
    stderr: Collected,
}

impl Running {
    /// Returns the standard output so far.
    pub fn stdout(&self) -> String {
        self.stdout.0.lock().expect("output lock").clone()
    }

    /// Returns the standard error so far.
    pub fn stderr(&self) -> String {
        self.stderr.0.lock().expect("output lock").clone()
    }

    /// Waits until standard output holds `text`; panics with the output after `timeout`.
    pub fn wait_for_stdout(&self, text: &str, timeout: Duration) {
        self.wait_for(text, timeout, Self::stdout);
    }

    /// Waits until standard error holds `text`; panics with the output after `timeout`.
    pub fn wait_for_stderr(&self, text: &str, timeout: Duration) {
        self.wait_for(text, timeout, Self::stderr);
    }

    fn wait_for(&self, text: &str, timeout: Duration, stream: fn(&Self) -> String) {
        let deadline = Instant::now() + timeout;
        while !stream(self).contains(text) {
            assert!(
                Instant::now() < deadline,
                "no {text:?} in the output after {timeout:?}:\n{}\n--- stderr\n{}",
                self.stdout(),
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends the signal `name` (`INT`, `TERM`) with `kill`.
    pub fn signal(&self, name: &str) {
        let status =
            Command::new("kill").arg(format!("-{name}")).arg(self.child.id().to_string()).status().expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits for the process to end, at most `timeout` (then kills it and panics).
    pub fn finish(mut self, timeout: Duration) -> Run {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for exai") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("exai did not end within {timeout:?}:\n{}", self.stdout());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let text = |(text, reader): Collected| {
            let _ = reader.join();
            let mut collected = String::new();
            collected.push_str(&text.lock().expect("output lock"));
            collected
        };
        Run { code: status.code(), stdout: text(self.stdout), stderr: text(self.stderr) }
    }
}

/// Runs `exai ARGS` from the repository root with the same clean environment as
/// [`Scratch::run`], so paths in its output are the repository's (`specs/...`).
pub fn run_in_repo(args: &[&str]) -> Run {
    let mut command = Command::new(exai_bin());
    command.args(args).current_dir(repo_root()).env_clear().env("PATH", tools_path()).env("NO_COLOR", "1");
    Run::from(command.stdin(std::process::Stdio::null()).output().expect("run exai"))
}

/// The example spec of the repository. Its overlay is relative to `specs/`; in a copy run
/// elsewhere, it names the repository's, so the copy checks the same manifests.
pub fn example_spec() -> String {
    let spec = std::fs::read_to_string(repo_root().join("specs/exai.yaml")).expect("read specs/exai.yaml");
    let overlay = repo_root().join("examples/k8s/overlays/azure");
    spec.replace("overlay: ../examples/k8s/overlays/azure", &format!("overlay: {}", overlay.display()))
}

/// Returns the `PATH` every run gets: one directory holding only `kubectl` and `kustomize`
/// (those of the caller's `PATH` that exist), which the Kubernetes checks render overlays
/// with, so no other tool (no `az`) is reachable.
pub fn tools_path() -> String {
    static TOOLS: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let dir = TOOLS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("e2e-tools-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the tools directory");
        let path = std::env::var_os("PATH").unwrap_or_default();
        for tool in ["kubectl", "kustomize"] {
            if let Some(found) = std::env::split_paths(&path).map(|d| d.join(tool)).find(|p| p.is_file()) {
                let link = dir.join(tool);
                let _ = std::fs::remove_file(&link);
                std::os::unix::fs::symlink(&found, &link).expect("link the tool");
            }
        }
        dir
    });
    dir.display().to_string()
}

/// An emulator running in this process, on its own runtime, for tests that need its log.
pub struct InProcessEmulator {
    /// The running emulator.
    pub emulator: exai_emulator::Emulator,
    /// Where its CA certificate was written.
    pub ca_cert: PathBuf,
    _runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl InProcessEmulator {
    /// Starts an emulator on 127.0.0.1 with a free port.
    pub fn start() -> Self {
        Self::start_with(exai_emulator::EmulatorOptions::default())
    }

    /// Starts an emulator with `options` (faults, delays), on 127.0.0.1 with a free port.
    pub fn start_with(options: exai_emulator::EmulatorOptions) -> Self {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        let emulator = runtime.block_on(exai_emulator::Emulator::start(options)).expect("start the emulator");
        let dir = tempfile::tempdir().expect("temporary directory");
        let ca_cert = dir.path().join("ca.pem");
        std::fs::write(&ca_cert, emulator.ca_certificate_pem()).expect("write CA certificate");
        Self { emulator, ca_cert, _runtime: runtime, _dir: dir }
    }

    /// Returns a client of this emulator that is not exai, signed in as the development
    /// application: "someone else", changing things behind exai's back.
    pub fn someone_else(&self) -> exai_azure::AzureClient {
        exai_azure::AzureClient::new(exai_azure::ClientConfig {
            endpoints: exai_azure::Endpoints::emulator(&self.emulator.url()),
            tenant: exai_emulator::DEV_TENANT_ID.to_owned(),
            credential: exai_azure::CredentialChoice::client_secret(
                exai_emulator::DEV_CLIENT_ID,
                exai_emulator::DEV_CLIENT_SECRET,
                "test",
            ),
            extra_ca_pem: Some(self.emulator.ca_certificate_pem().to_owned()),
            operation_timeout: std::time::Duration::from_secs(30),
            network: exai_azure::NetworkOptions::default(),
        })
        .expect("a client of the emulator")
    }

    /// The ARM writes the emulator received after its `before`-th request (`METHOD path`),
    /// each with the status it answered.
    pub fn arm_writes_since(&self, before: usize) -> Vec<(String, u16)> {
        let requests = self.emulator.requests().into_iter().skip(before);
        requests
            .filter(|r| r.is_write() && r.kind == exai_emulator::RequestKind::Arm)
            .map(|r| (format!("{} {}", r.method, r.path), r.status))
            .collect()
    }

    /// Sends `POST /_emulator/{route}` with the JSON `body` (the emulator's test-only routes:
    /// `principals`, `github/runs`, `faults`, ...); returns the answer's status and JSON body.
    pub fn admin_post(&self, route: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
        self.admin(reqwest::Method::POST, route, Some(body))
    }

    /// Sends `METHOD /_emulator/{route}`, with the JSON `body` if any; returns the answer's
    /// status and JSON body (`null` when it is not JSON).
    pub fn admin(
        &self,
        method: reqwest::Method,
        route: &str,
        body: Option<&serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let ca = reqwest::Certificate::from_pem(self.emulator.ca_certificate_pem().as_bytes()).expect("CA certificate");
        runtime.block_on(async {
            let client = reqwest::Client::builder().add_root_certificate(ca).build().expect("HTTP client");
            let mut request = client.request(method, format!("{}_emulator/{route}", self.emulator.url()));
            if let Some(body) = body {
                request = request.header("content-type", "application/json").body(body.to_string());
            }
            let reply = request.send().await.expect("the emulator answers");
            let status = reply.status().as_u16();
            let bytes = reply.bytes().await.expect("the answer's body");
            (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
        })
    }

    /// Returns the emulator's state, `GET /_emulator/export`: its ARM resources by id.
    pub fn export(&self) -> serde_json::Value {
        let (status, export) = self.admin(reqwest::Method::GET, "export", None);
        assert_eq!(status, 200, "the export: {export}");
        export
    }

    /// Signs in to the emulator's Entra as `client_id` with `secret` (a client-credentials grant
    /// for ARM); returns the token endpoint's status.
    pub fn sign_in(&self, client_id: &str, secret: &str) -> u16 {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let ca = reqwest::Certificate::from_pem(self.emulator.ca_certificate_pem().as_bytes()).expect("CA certificate");
        let url = format!("{}{}/oauth2/v2.0/token", self.emulator.url(), exai_emulator::DEV_TENANT_ID);
        // The form of a client-credentials grant; the values need no escaping but `~` and the
        // scope's.
        let form = format!(
            "grant_type=client_credentials&client_id={client_id}&client_secret={}&scope=https%3A%2F%2Fmanagement.azure.com%2F.default",
            secret.replace('~', "%7E")
        );
        runtime.block_on(async {
            let client = reqwest::Client::builder().add_root_certificate(ca).build().expect("HTTP client");
            let request = client.post(&url).header("content-type", "application/x-www-form-urlencoded").body(form);
            request.send().await.expect("the token endpoint answers").status().as_u16()
        })
    }

    /// Returns the `--endpoint URL --ca-cert FILE` arguments that point exai at this emulator.
    pub fn args(&self) -> Vec<String> {
        vec![
            "--endpoint".into(),
            self.emulator.url().to_string(),
            "--ca-cert".into(),
            self.ca_cert.display().to_string(),
        ]
    }
}

impl Run {
    /// The whole run as a snapshot shows it: the exit code, then both streams in full.
    /// Snapshot it through [`assert_run!`], which applies a [`Filters`].
    ///
    /// Progress lines of operations that run at once (`perso.registry: created in 1.2 s`) come
    /// in the order the scheduler finished them, so each block of consecutive progress lines is
    /// sorted; the order of dependent operations is asserted by the executor's tests.
    pub fn shown(&self) -> String {
        let code = self.code.map_or_else(|| "killed by a signal".to_owned(), |code| code.to_string());
        format!("exit: {code}\n--- stdout\n{}--- stderr\n{}", sort_progress(&self.stdout), sort_progress(&self.stderr))
    }
}

/// Returns `text` with each block of consecutive progress lines (`<address>: <what happened>`,
/// an address holding a dot) sorted. The indented lines right after a progress line (the
/// `hint:` of a failure) belong to it and move with it.
fn sort_progress(text: &str) -> String {
    let progress = regex::Regex::new(r"^[a-z0-9][a-z0-9-]*\.[A-Za-z0-9.\-]+: ").expect("a valid regular expression");
    let mut out = String::with_capacity(text.len());
    let mut block: Vec<String> = Vec::new();
    let flush = |block: &mut Vec<String>, out: &mut String| {
        block.sort_unstable();
        for entry in block.drain(..) {
            out.push_str(&entry);
        }
    };
    for line in text.split_inclusive('\n') {
        if progress.is_match(line) {
            block.push(line.to_owned());
        } else if let Some(entry) = block.last_mut().filter(|_| line.starts_with(' ') && !line.trim().is_empty()) {
            entry.push_str(line);
        } else {
            flush(&mut block, &mut out);
            out.push_str(line);
        }
    }
    flush(&mut block, &mut out);
    out
}

/// What changes from one run of the same test to the next, replaced by placeholders before a
/// whole output is compared with its snapshot: one set of filters for every end-to-end
/// snapshot, as uv's `TestContext::filters`. Each is a regular expression and its replacement,
/// applied in order by insta.
#[derive(Clone, Debug)]
pub struct Filters(Vec<(String, String)>);

impl Default for Filters {
    fn default() -> Self {
        let mut filters = Self(
            [
                // the repository (copies of the example spec name its overlay)
                (regex::escape(&repo_root().display().to_string()).as_str(), "[repo]"),
                // an emulator's origin (the port is free-chosen), before the generic port rule
                (r"https://127\.0\.0\.1:\d+", "https://[emulator]"),
                (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
                // ids the emulator mints: object ids, operation ids, client ids
                (r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", "[guid]"),
                // RFC 3339 instants (request logs, secret end dates)
                (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", "[time]"),
                // durations exai measures ("in 1.2 s", "after 0.35s", "12 ms")
                // (after a space or a parenthesis: a `latency=2s` or `` `30s` `` in a usage text stays)
                (r"(^|[\s(])\d+(\.\d+)? ?(ms|s)\b", "$1[duration]"),
            ]
            .into_iter()
            .map(|(from, to)| (from.to_owned(), to.to_owned()))
            .collect(),
        );
        // the commit exai is built from, where a version shows it (`0.1.0 (abc1234)`): a
        // snapshot does not change with every commit
        filters.0.insert(0, (regex::escape(&format!(" ({})", exai_session::COMMIT)), " ([commit])".to_owned()));
        filters
    }
}

impl Filters {
    /// Also replaces `scratch`'s directory (as given and canonicalized) with `[scratch]`.
    pub fn scratch(mut self, scratch: &Scratch) -> Self {
        let path = scratch.path();
        let mut paths = vec![path.to_path_buf()];
        if let Ok(canonical) = path.canonicalize() {
            paths.push(canonical);
        }
        for path in paths {
            // the longest first: the canonical path may extend the given one
            self.0.insert(0, (regex::escape(&path.display().to_string()), "[scratch]".to_owned()));
        }
        self
    }

    /// Also replaces `value` (a literal) with `placeholder`, before the generic filters.
    pub fn literal(mut self, value: &str, placeholder: &str) -> Self {
        self.0.insert(0, (regex::escape(value), placeholder.to_owned()));
        self
    }

    /// Also replaces what matches the regular expression `pattern` with `replacement`, after
    /// the filters already added.
    pub fn pattern(mut self, pattern: &str, replacement: &str) -> Self {
        self.0.push((pattern.to_owned(), replacement.to_owned()));
        self
    }

    /// The filters as insta's `filters` setting takes them.
    pub fn settings(&self) -> Vec<(&str, &str)> {
        self.0.iter().map(|(from, to)| (from.as_str(), to.as_str())).collect()
    }

    /// Applies the filters to `text`, as insta does before it compares: for a snapshot of
    /// part of an output, or a comparison of two outputs.
    pub fn apply(&self, text: &str) -> String {
        self.0.iter().fold(text.to_owned(), |text, (from, to)| {
            let pattern = regex::Regex::new(from).expect("a filter is a valid regular expression");
            pattern.replace_all(&text, to.as_str()).into_owned()
        })
    }
}

/// Asserts that a whole run (exit code, stdout, stderr: [`Run::shown`]) matches its snapshot,
/// with `filters` ([`Filters`]) applied; an optional snapshot name comes first.
/// Like `expect_code`, it also asserts the run is safe for a terminal
/// ([`Run::expect_terminal_safe`]).
macro_rules! assert_run {
    ($filters:expr, $run:expr $(,)?) => {{
        let shown = $run.expect_terminal_safe().shown();
        insta::with_settings!({ filters => $filters.settings() }, {
            insta::assert_snapshot!(shown);
        })
    }};
    ($name:literal, $filters:expr, $run:expr $(,)?) => {{
        let shown = $run.expect_terminal_safe().shown();
        insta::with_settings!({ filters => $filters.settings() }, {
            insta::assert_snapshot!($name, shown);
        })
    }};
}
pub(crate) use assert_run;
