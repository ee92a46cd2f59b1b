//! Azure's own CLI against the emulator (issue 15): `az` 2.91.0 from PyPI, pinned in
//! `tests/az/requirements.txt`, runs the seed recipe's four commands exactly as the seed guide
//! writes them, after the cloud set-up `docs/emulator.md` ("Using az against the emulator")
//! documents; then exai adopts what `az` built as a user would: `exai init --from-azure` writes
//! the spec (issue 16), whose plan only writes ownership marks (no create, replacement, delete or
//! duplicate; az's default workspace is read, not managed), an apply, and a plan with no changes.
//!
//! Needs `python3` (with `venv`) and PyPI. The virtualenv is built once under the target
//! directory (`target/az-cli-venv`) and reused while `tests/az/requirements.txt` is unchanged
//! (its hash is stored in it; see `python_sdk::virtualenv`).
//!
//! `az` runs with a scratch `AZURE_CONFIG_DIR` and `HOME` (its `--generate-ssh-keys` writes
//! `~/.ssh`), and with every proxy variable pointing at a closed loopback port except for the
//! emulator: what `az` would send elsewhere (its telemetry, its version check) fails at once on
//! this machine instead of leaving it.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::harness::{Filters, InProcessEmulator, Scratch, assert_run, repo_root};

/// Returns the python of the virtualenv that holds `az`, building it if needed.
fn az_python() -> PathBuf {
    static VENV: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    VENV.get_or_init(|| crate::python_sdk::virtualenv("az-cli-venv", &repo_root().join("tests/az/requirements.txt")))
        .clone()
}

/// `az` in a scratch configuration directory and home, trusting the emulator's CA.
struct Az {
    python: PathBuf,
    ca_cert: PathBuf,
    config: tempfile::TempDir,
    home: tempfile::TempDir,
}

impl Az {
    fn new(emulator: &InProcessEmulator) -> Self {
        Self {
            python: az_python(),
            ca_cert: emulator.ca_cert.clone(),
            config: tempfile::tempdir().expect("a configuration directory"),
            home: tempfile::tempdir().expect("a home directory"),
        }
    }

    /// Runs `az ARGS`; returns its stdout, or fails the test with `az`'s stderr. The stdout of a
    /// failed `secret` command is not shown (it may hold a credential).
    fn run(&self, args: &[&str], secret: bool) -> String {
        // A closed port (9, discard) on the loopback: anything but the emulator fails here.
        let nowhere = "http://127.0.0.1:9";
        let output = Command::new(&self.python)
            .args(["-m", "azure.cli"])
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("AZURE_CONFIG_DIR", self.config.path())
            .env("REQUESTS_CA_BUNDLE", &self.ca_cert)
            .env("AZURE_CORE_COLLECT_TELEMETRY", "false")
            .env("AZURE_CORE_NO_COLOR", "true")
            .env("HTTPS_PROXY", nowhere)
            .env("HTTP_PROXY", nowhere)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap_or_else(|error| panic!("cannot run `az {}`: {error}", args.join(" ")));
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "`az {}` failed ({})\n--- stdout\n{}\n--- stderr\n{}",
            args.join(" "),
            output.status,
            if secret { "(not shown: it may hold a secret)" } else { &stdout },
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    }

    /// Splits a command line of the seed guide (no quoting needed) and runs it.
    fn seed(&self, line: &str) -> String {
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(words.first(), Some(&"az"), "{line}");
        self.run(&words[1..], false)
    }
}

/// Returns every ARM resource id the emulator holds, lowercase (ARM ids are case-insensitive,
/// and Log Analytics answers its workspaces' in lowercase) and sorted (from `/_emulator/export`).
fn arm_ids(emulator: &InProcessEmulator) -> Vec<String> {
    let export = emulator.export();
    let mut ids: Vec<String> =
        export.as_object().map(|m| m.keys().map(|id| id.to_ascii_lowercase()).collect()).unwrap_or_default();
    ids.sort();
    ids
}

/// Returns the actions of a JSON plan as `address action`, in the plan's order.
fn actions(plan: &str) -> Vec<String> {
    let plan: Value = serde_json::from_str(plan).expect("a JSON plan");
    plan["resource_changes"]
        .as_array()
        .expect("resource_changes")
        .iter()
        .map(|change| {
            format!("{} {}", change["address"].as_str().unwrap_or("?"), change["action"].as_str().unwrap_or("?"))
        })
        .collect()
}

#[test]
fn az_runs_the_seed_recipe_and_exai_adopts_what_it_built() {
    let emulator = InProcessEmulator::start();
    let url = emulator.emulator.url().to_string();
    let az = Az::new(&emulator);

    // The documented set-up: the emulator as the AzureCloud's endpoints (discovered from its
    // `/metadata/endpoints`; the monitoring add-on knows only the public clouds by name), no
    // instance discovery, the printed credentials.
    az.run(&["cloud", "update", "--name", "AzureCloud", "--endpoint-resource-manager", &url], false);
    az.run(&["config", "set", "core.instance_discovery=false"], false);
    let accounts = az.run(
        &[
            "login",
            "--service-principal",
            "--username",
            exai_emulator::DEV_CLIENT_ID,
            "--password",
            exai_emulator::DEV_CLIENT_SECRET,
            "--tenant",
            exai_emulator::DEV_TENANT_ID,
        ],
        false,
    );
    let accounts: Value = serde_json::from_str(&accounts).expect("az login prints its accounts");
    assert_eq!(accounts[0]["id"], exai_emulator::DEV_SUBSCRIPTION_ID, "{accounts}");

    // The seed guide's four commands, exactly.
    az.seed("az group create --name exai-perso-rg --location francecentral");
    az.seed("az acr create --resource-group exai-perso-rg --name exaipersoacr --sku Standard --location francecentral");
    az.seed(
        "az aks create --resource-group exai-perso-rg --name exai-perso-aks --node-count 1 --node-vm-size Standard_B2s --location francecentral --attach-acr exaipersoacr --enable-managed-identity --enable-addons monitoring --generate-ssh-keys",
    );
    let scope = format!("/subscriptions/{}", exai_emulator::DEV_SUBSCRIPTION_ID);
    let credentials = az.run(
        &["ad", "sp", "create-for-rbac", "--name", "exai-perso-github-sp", "--role", "Contributor", "--scopes", &scope],
        true,
    );
    // The secret it prints is dropped here; only the application id is kept.
    let app_id = serde_json::from_str::<Value>(&credentials).ok().and_then(|c| c["appId"].as_str().map(str::to_owned));
    drop(credentials);
    let app_id = app_id.expect("create-for-rbac prints the application's appId");
    assert!(az.home.path().join(".ssh/id_rsa.pub").is_file(), "--generate-ssh-keys wrote no key");
    let built = arm_ids(&emulator);

    // exai adopts it as a user would: `exai init --from-azure` writes the spec from what az
    // built (the workspace az made in DefaultResourceGroup-PAR referenced by id, not
    // managed), the plan only writes ownership marks, and after apply the plan is empty.
    let mut s = Scratch::with_spec("");
    std::fs::remove_file(s.path().join("exai.yaml")).expect("an empty scratch spec");
    s.env("AZURE_TENANT_ID", exai_emulator::DEV_TENANT_ID)
        .env("AZURE_SUBSCRIPTION_ID", exai_emulator::DEV_SUBSCRIPTION_ID);
    let filters = Filters::default().scratch(&s);
    s.run_against(
        &emulator,
        &["init", "--from-azure", "--resource-group", "exai-perso-rg", "--deployer", "exai-perso-github-sp"],
    )
    .expect_code(0);
    insta::with_settings!({ filters => filters.settings() }, {
        insta::assert_snapshot!("az_adoption_spec", s.spec());
    });
    let plan = s.run_against(&emulator, &["plan", "-f", "exai.yaml", "--format", "json"]);
    plan.expect_code(0);
    let actions = actions(&plan.stdout);
    assert!(
        actions.iter().all(|a| a.ends_with(" update") || a.ends_with(" no-op") || a.ends_with(" read")),
        "adopting what az built creates, replaces and deletes nothing: {actions:#?}"
    );
    assert!(actions.contains(&"perso.monitoring read".to_owned()), "{actions:#?}");
    assert_run!("az_adoption_plan", filters, s.run_against(&emulator, &["plan", "-f", "exai.yaml"]));

    s.run_against(&emulator, &["apply", "-f", "exai.yaml", "--auto-approve"]).expect_code(0);
    assert_run!(
        "az_adoption_plan_after_apply",
        filters,
        s.run_against(&emulator, &["plan", "-f", "exai.yaml", "--detailed-exitcode"])
    );

    // No duplicate: the ARM resources are exactly az's, and the deployer is still az's one
    // application.
    assert_eq!(arm_ids(&emulator), built);
    let apps = az.run(&["ad", "app", "list", "--display-name", "exai-perso-github-sp", "--query", "[].appId"], false);
    assert_eq!(serde_json::from_str::<Value>(&apps).expect("a JSON list"), serde_json::json!([app_id]));
    insta::with_settings!({ filters => filters.settings() }, {
        insta::assert_snapshot!("az_built", built.join("\n"));
    });
}
