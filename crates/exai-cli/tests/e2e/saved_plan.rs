//! Plans made for pull requests, through the real binary against the emulator: the plan document
//! (validated against docs/plan.schema.json), `apply plan.json` applying exactly what was
//! reviewed or refusing a stale plan before any write, and a login the way GitHub Actions does
//! it (an OIDC token exchanged through the deployer's federated credential).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crate::harness::{Filters, InProcessEmulator, Run, Scratch, assert_run, repo_root};
use exai_emulator::{DEV_SUBSCRIPTION_ID, DEV_TENANT_ID};
use exai_model::{ApiRequest, Method};
use serde_json::{Value, json};

/// The platform spec; `name` makes it the same spec as [`BOOTSTRAP`] (whose id comes from its
/// repository), so the pull-request job plans what the bootstrap made as its own.
const SPEC: &str = "version: 1
name: my-org/exai
azure:
  tenant: ${AZURE_TENANT_ID}
  subscription: ${AZURE_SUBSCRIPTION_ID}
defaults:
  location: francecentral
  tags: { project: exai }
environments:
  perso:
    resourceGroup: { name: exai-perso-rg }
    registry: { name: exaipersoacr, sku: Standard }
";

fn registry() -> String {
    format!(
        "/subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/exai-perso-rg/providers/Microsoft.ContainerRegistry/registries/exaipersoacr"
    )
}

struct World {
    emulator: InProcessEmulator,
    s: Scratch,
}

impl World {
    fn new(spec: &str) -> Self {
        let mut s = Scratch::with_spec(spec);
        s.env("AZURE_TENANT_ID", DEV_TENANT_ID).env("AZURE_SUBSCRIPTION_ID", DEV_SUBSCRIPTION_ID);
        Self { emulator: InProcessEmulator::start(), s }
    }

    fn exai(&self, args: &[&str]) -> Run {
        self.s.run_against(&self.emulator, args)
    }

    /// The filters of this world's snapshots: the harness's, the emulator's CA file, the
    /// scratch directory, and the development tenant and subscription by name.
    fn filters(&self) -> Filters {
        Filters::default()
            .literal(&self.emulator.ca_cert.display().to_string(), "[ca]")
            .literal(DEV_TENANT_ID, "[tenant]")
            .literal(DEV_SUBSCRIPTION_ID, "[subscription]")
            .literal(&format!("exai {}", env!("CARGO_PKG_VERSION")), "exai [version]")
            .scratch(&self.s)
    }

    fn writes_since(&self, before: usize) -> Vec<String> {
        let requests = self.emulator.emulator.requests();
        requests.into_iter().skip(before).filter(|r| r.is_write()).map(|r| format!("{} {}", r.method, r.path)).collect()
    }

    fn plan_document(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.s.path().join("plan.json")).unwrap()).unwrap()
    }

    /// Starts a GitHub Actions job (`run` as `POST /_emulator/github/runs` takes it) and returns
    /// a scratch directory holding `spec` whose runs have the job's OIDC request URL and token
    /// and log in as `client_id`, as exai does in a workflow.
    fn github_job(&self, run: Value, spec: &str, client_id: &str) -> Scratch {
        let (status, job) = self.emulator.admin_post("github/runs", &run);
        assert_eq!(status, 200, "{job}");
        let mut ci = Scratch::with_spec(spec);
        ci.env("AZURE_TENANT_ID", DEV_TENANT_ID)
            .env("AZURE_SUBSCRIPTION_ID", DEV_SUBSCRIPTION_ID)
            .env("AZURE_CLIENT_ID", client_id)
            .env("ACTIONS_ID_TOKEN_REQUEST_URL", job["requestUrl"].as_str().unwrap())
            .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", job["requestToken"].as_str().unwrap());
        ci
    }

    /// `exai plan --detailed-exitcode` against this emulator, from `ci`.
    fn plan_from(&self, ci: &Scratch) -> Run {
        ci.run_against(&self.emulator, &["plan", "-f", "exai.yaml", "--detailed-exitcode"])
    }

    fn someone_sets(&self, body: Value) {
        let azure = self.emulator.someone_else();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(azure.execute(&ApiRequest::arm(Method::Patch, registry(), "2025-11-01", Some(body)))).unwrap();
    }
}

/// Returns the value of `NAME=value` among the lines apply printed for GitHub Actions.
fn printed_variable(stdout: &str, name: &str) -> String {
    let prefix = format!("{name}=");
    stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {name} in {stdout}"))
        .to_owned()
}

fn schema_errors(document: &Value) -> Vec<String> {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(repo_root().join("docs/plan.schema.json")).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    validator.iter_errors(document).map(|e| format!("{} at {}", e, e.instance_path)).collect()
}

#[test]
fn a_saved_plan_matches_its_schema_and_applies_exactly_as_reviewed() {
    let w = World::new(SPEC);
    let run = w.exai(&["plan", "-f", "exai.yaml", "--out", "plan.json", "--detailed-exitcode"]);
    assert_run!("saved", w.filters(), run);
    let document = w.plan_document();
    assert_eq!(schema_errors(&document), Vec::<String>::new());
    assert_eq!(document["format_version"], 3);
    assert_eq!(document["exai_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(document["spec"]["file"], "exai.yaml");
    assert!(document["spec"]["digest"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(document["environments"], json!(["perso"]));
    // `--format json` prints the same document.
    let printed = w.exai(&["plan", "-f", "exai.yaml", "--format", "json"]);
    printed.expect_code(0);
    assert_eq!(serde_json::from_str::<Value>(&printed.stdout).unwrap(), document);

    // Applied as saved: no question, no `-f` (the plan names its spec).
    assert_run!("applied_as_reviewed", w.filters(), w.exai(&["apply", "plan.json"]));

    // A plan of no changes, saved and applied, is a no-op.
    w.exai(&["plan", "-f", "exai.yaml", "--out", "plan.json", "--detailed-exitcode"]).expect_code(0);
    let document = w.plan_document();
    assert_eq!(schema_errors(&document), Vec::<String>::new());
    let before = w.emulator.emulator.requests().len();
    assert_run!("no_op", w.filters(), w.exai(&["apply", "plan.json"]));
    assert_eq!(w.writes_since(before), Vec::<String>::new());
}

#[test]
fn a_stale_saved_plan_is_refused_before_any_write_naming_what_changed() {
    let w = World::new(SPEC);
    w.exai(&["apply", "-f", "exai.yaml", "--auto-approve"]).expect_code(0);
    w.s.write_spec(&SPEC.replace("sku: Standard", "sku: Premium"));
    w.exai(&["plan", "-f", "exai.yaml", "--out", "plan.json"]).expect_code(0);
    assert_eq!(schema_errors(&w.plan_document()), Vec::<String>::new());

    // Churn in what exai does not own does not make it stale...
    w.someone_sets(
        json!({"tags": {"project": "exai", "exai-owner": "my-org/exai:perso.registry", "costCenter": "42"}}),
    );
    // ... a change to what it owns does.
    w.someone_sets(json!({"properties": {"adminUserEnabled": true}}));
    let before = w.emulator.emulator.requests().len();
    // The resource and the field are named; foreign tags are not staleness.
    assert_run!("refused", w.filters(), w.exai(&["apply", "plan.json"]));
    assert_eq!(w.writes_since(before), Vec::<String>::new(), "nothing was written");

    // Planned again, reviewed, applied.
    w.exai(&["plan", "-f", "exai.yaml", "--out", "plan.json"]).expect_code(0);
    assert_run!("applied_after_planning_again", w.filters(), w.exai(&["apply", "plan.json"]));
    w.exai(&["plan", "-f", "exai.yaml", "--detailed-exitcode"]).expect_code(0);
}

#[test]
fn a_saved_plan_from_another_spec_or_exai_version_is_refused() {
    let w = World::new(SPEC);
    w.exai(&["plan", "-f", "exai.yaml", "--out", "plan.json"]).expect_code(0);

    w.s.write_spec(&SPEC.replace("project: exai", "project: other"));
    let before = w.emulator.emulator.requests().len();
    assert_run!("another_spec", w.filters(), w.exai(&["apply", "plan.json"]));
    assert_eq!(w.writes_since(before), Vec::<String>::new());
    w.s.write_spec(SPEC);

    let mut document = w.plan_document();
    document["exai_version"] = json!("0.0.1");
    std::fs::write(w.s.path().join("old.json"), document.to_string()).unwrap();
    assert_run!("another_exai_version", w.filters(), w.exai(&["apply", "old.json"]));

    document["format_version"] = json!(99);
    std::fs::write(w.s.path().join("future.json"), document.to_string()).unwrap();
    assert_run!("another_format", w.filters(), w.exai(&["apply", "future.json"]));

    std::fs::write(w.s.path().join("junk.json"), "not json at all").unwrap();
    assert_run!("not_a_plan", w.filters(), w.exai(&["apply", "junk.json"]));
    assert_eq!(w.writes_since(before), Vec::<String>::new());
}

#[test]
fn markdown_for_a_pull_request_fits_a_comment_and_the_summary_file_has_it_all() {
    let w = World::new(SPEC);
    let summary = w.s.path().join("summary.md");
    let run = w.exai(&[
        "plan",
        "-f",
        "exai.yaml",
        "--format",
        "markdown",
        "--out",
        "plan.json",
        "--summary-file",
        summary.to_str().unwrap(),
        "--marker",
        "<!-- exai:plan -->",
    ]);
    assert_run!("comment", w.filters(), run);
    insta::assert_snapshot!("summary_file", w.filters().apply(&std::fs::read_to_string(&summary).unwrap()));
}

/// A bootstrap spec with the deployer, applied once by an admin. The deployer is Contributor of
/// the subscription: planning a new registry checks its name at the subscription's scope
/// (`Microsoft.ContainerRegistry/checkNameAvailability/read`), which a role at the group does
/// not grant, in Azure as in the emulator.
const BOOTSTRAP: &str = "version: 1
azure:
  tenant: ${AZURE_TENANT_ID}
  subscription: ${AZURE_SUBSCRIPTION_ID}
defaults:
  location: francecentral
  tags: { project: exai }
environments:
  perso:
    resourceGroup: { name: exai-perso-rg }
    deployer:
      name: exai-perso-github-sp
      role: Contributor
      scope: subscription
      github: { repository: my-org/exai, pullRequests: true }
";

#[test]
fn github_actions_logs_in_with_its_oidc_token_through_the_federated_credential_and_plans() {
    let w = World::new(BOOTSTRAP);
    // The one-time bootstrap by an admin prints what the workflow needs, and no secret.
    let bootstrap = w.exai(&["apply", "-f", "exai.yaml", "--auto-approve"]);
    let client_id = printed_variable(&bootstrap.stdout, "AZURE_CLIENT_ID");
    let filters = w.filters().literal(&client_id, "[deployer-client-id]");
    assert_run!("oidc_bootstrap", filters, bootstrap);

    // A pull-request job of my-org/exai: the runner gives it an OIDC request URL and token; the
    // workflow plans the platform spec as the deployer.
    let ci = w.github_job(json!({"repository": "my-org/exai", "pullRequest": true}), SPEC, &client_id);
    let before = w.emulator.emulator.requests().len();
    let filters = filters.scratch(&ci);
    assert_run!("oidc_pull_request_plan", filters, w.plan_from(&ci));
    // The token Entra issued went to the deployer: the login used the federated credential.
    let token_requests: Vec<_> = w
        .emulator
        .emulator
        .requests()
        .into_iter()
        .skip(before)
        .filter(|r| r.kind == exai_emulator::RequestKind::Token)
        .collect();
    assert!(!token_requests.is_empty());
    assert!(token_requests.iter().all(|r| r.status == 200), "{token_requests:#?}");

    // The deployer's own Entra objects: without a Graph permission it cannot read them, and
    // exai says what to grant...
    ci.write_spec(BOOTSTRAP);
    assert_run!("denied", filters, w.plan_from(&ci));
    // ... the admin grants it through the spec, once...
    let granted = BOOTSTRAP.replace(
        "      github: { repository: my-org/exai, pullRequests: true }\n",
        "      github: { repository: my-org/exai, pullRequests: true }\n      graphPermissions: [Application.Read.All]\n",
    );
    w.s.write_spec(&granted);
    assert_run!("grant", filters, w.exai(&["apply", "-f", "exai.yaml", "--auto-approve"]));
    w.exai(&["plan", "-f", "exai.yaml", "--detailed-exitcode"]).expect_code(0);
    // ... and the pull-request job plans the whole spec, its own identity included: no change.
    ci.write_spec(&granted);
    assert_run!("own_identity_no_change", filters, w.plan_from(&ci));

    // A job of another repository has no federated credential: Entra refuses, and exai says so.
    let other = w.github_job(json!({"repository": "someone/else", "ref": "refs/heads/main"}), SPEC, &client_id);
    assert_run!("another_repository", filters.scratch(&other), w.plan_from(&other));
}

/// The bootstrap with a read-only planner for pull requests; the deployer keeps the branch.
const WITH_PLANNER: &str = "version: 1
azure:
  tenant: ${AZURE_TENANT_ID}
  subscription: ${AZURE_SUBSCRIPTION_ID}
defaults:
  location: francecentral
  tags: { project: exai }
environments:
  perso:
    resourceGroup: { name: exai-perso-rg }
    deployer:
      name: exai-perso-github-sp
      role: Contributor
      scope: resourceGroup
      github: { repository: my-org/exai, branches: [production] }
      graphPermissions: [Application.Read.All]
    planner:
      name: exai-perso-github-planner
      github: { repository: my-org/exai, pullRequests: true }
";

#[test]
fn a_pull_request_plans_as_the_read_only_planner_and_sees_no_change() {
    let w = World::new(WITH_PLANNER);
    let bootstrap = w.exai(&["apply", "-f", "exai.yaml", "--auto-approve"]);
    let variable = |name: &str| printed_variable(&bootstrap.stdout, name);
    let planner = variable("AZURE_PLANNER_CLIENT_ID");
    let deployer = variable("AZURE_CLIENT_ID");
    assert_ne!(planner, deployer, "two identities");
    let filters = w.filters().literal(&planner, "[planner-client-id]").literal(&deployer, "[deployer-client-id]");
    assert_run!("planner_bootstrap", filters, bootstrap);
    // The planner is Reader at the group; the deployer keeps Contributor.
    let plan = serde_json::from_str::<Value>(&w.exai(&["plan", "-f", "exai.yaml", "--format", "json"]).stdout).unwrap();
    let role =
        plan["resource_changes"].as_array().unwrap().iter().find(|c| c["address"] == "perso.planner.role").unwrap();
    assert_eq!(role["after"]["roleDefinition"], "acdd72a7-3385-48ef-bd42-f606fba81ae7", "Reader");

    // A pull-request job logs in as the planner and plans the whole spec: nothing to change.
    let pull_request = json!({"repository": "my-org/exai", "pullRequest": true});
    let ci = w.github_job(pull_request.clone(), WITH_PLANNER, &planner);
    assert_run!("planner_pull_request_plan", filters.clone().scratch(&ci), w.plan_from(&ci));

    // The planner changes nothing, in fact: its apply of a change is refused before any write...
    ci.write_spec(&WITH_PLANNER.replace("tags: { project: exai }", "tags: { project: exai-platform }"));
    let apply = |ci: &Scratch| ci.run_against(&w.emulator, &["apply", "-f", "exai.yaml", "--auto-approve"]);
    let before = w.emulator.emulator.requests().len();
    assert_run!("planner_apply_refused", filters.clone().scratch(&ci), apply(&ci));
    assert_eq!(w.emulator.arm_writes_since(before), Vec::<(String, u16)>::new());
    // ... and when exai cannot tell beforehand (its permission reads are refused), Azure refuses
    // the write made with the planner's token.
    let (status, _) = w.emulator.admin_post(
        "faults",
        &json!({"faults": ["GET /subscriptions/**/providers/Microsoft.Authorization/permissions 403"]}),
    );
    assert_eq!(status, 200);
    assert_run!("planner_write_refused_by_azure", filters.clone().scratch(&ci), apply(&ci));
    let writes = w.emulator.arm_writes_since(before);
    assert!(!writes.is_empty() && writes.iter().all(|(_, status)| *status == 403), "{writes:#?}");
    // The deployer's credentials do not answer to pull requests: only the planner's do.
    let as_deployer = w.github_job(pull_request, WITH_PLANNER, &deployer);
    assert_run!("deployer_refused", filters.scratch(&as_deployer), w.plan_from(&as_deployer));
}

#[test]
fn a_plan_is_saved_in_one_step_over_the_old_one_and_a_missing_directory_is_an_error() {
    let w = World::new(SPEC);
    w.exai(&["plan", "-f", "exai.yaml", "--out", "plan.json"]).expect_code(0);
    std::fs::write(w.s.path().join("plan.json"), "an older plan").unwrap();
    w.exai(&["plan", "-f", "exai.yaml", "--out", "plan.json"]).expect_code(0);
    assert_eq!(w.plan_document()["format_version"], 3, "the old file is replaced");
    let mut files: Vec<String> =
        std::fs::read_dir(w.s.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    files.sort();
    assert_eq!(files, ["exai.yaml", "plan.json"], "no temporary file is left");

    assert_run!("missing_directory", w.filters(), w.exai(&["plan", "-f", "exai.yaml", "--out", "missing/plan.json"]));
    assert!(!w.s.path().join("missing").exists());
}
