//! The GitHub deployer identity end to end: Graph application, service principal, federated
//! credentials, client secret and role assignment, through the real binary against the emulator.
//! Plan, apply, plan again with no change; each field changed alone; an identity made by hand
//! with `az ad sp create-for-rbac` adopted rather than duplicated; credentials that left the
//! spec deleted only with `--allow-delete`; the client secret in one private file and nowhere
//! else.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crate::harness::{Filters, InProcessEmulator, Run, Scratch, assert_run};
use exai_azure::AzureClient;
use exai_emulator::{DEV_SUBSCRIPTION_ID, DEV_TENANT_ID};
use exai_model::{ApiRequest, Method};
use serde_json::{Value, json};

const NAME: &str = "exai-perso-github-sp";
const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";

/// A spec with a resource group and a deployer; `deployer` are the lines of its section after
/// the name.
fn spec(deployer: &[&str]) -> String {
    let lines: String = deployer.iter().map(|l| format!("      {l}\n")).collect();
    // `name` keeps the spec's id (in ownership marks) when a test renames the repository.
    format!(
        "version: 1
name: my-org/exai
azure:
  tenant: ${{AZURE_TENANT_ID}}
  subscription: ${{AZURE_SUBSCRIPTION_ID}}
defaults:
  location: francecentral
environments:
  perso:
    resourceGroup:
      name: exai-perso-rg
    deployer:
      name: {NAME}
{lines}"
    )
}

/// The deployer of the tests: OIDC for a branch, pull requests and an environment, plus a
/// client secret.
const FULL: &[&str] = &[
    "role: Contributor",
    "scope: resourceGroup",
    "github:",
    "  repository: my-org/exai",
    "  branches: [production]",
    "  pullRequests: true",
    "  environments: [production]",
    "clientSecret: { expiresInDays: 30 }",
];

/// An emulator, a scratch directory pointed at it, and "someone else": a client of the same
/// emulator that is not exai, to change things behind its back.
struct World {
    emulator: InProcessEmulator,
    s: Scratch,
    azure: AzureClient,
    runtime: tokio::runtime::Runtime,
}

impl World {
    fn new(deployer: &[&str]) -> Self {
        Self::with(InProcessEmulator::start(), deployer)
    }

    fn with(emulator: InProcessEmulator, deployer: &[&str]) -> Self {
        let mut s = Scratch::with_spec(&spec(deployer));
        s.env("AZURE_TENANT_ID", DEV_TENANT_ID).env("AZURE_SUBSCRIPTION_ID", DEV_SUBSCRIPTION_ID);
        let azure = emulator.someone_else();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        Self { emulator, s, azure, runtime }
    }

    /// Runs `exai ARGS -f exai.yaml` against the emulator.
    fn exai(&self, args: &[&str]) -> Run {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["-f", "exai.yaml"]);
        self.s.run_against(&self.emulator, &all)
    }

    fn apply(&self, extra: &[&str]) -> Run {
        let mut args = vec!["apply", "--auto-approve"];
        args.extend_from_slice(extra);
        self.exai(&args)
    }

    fn plan_json(&self) -> Value {
        let run = self.exai(&["plan", "--format", "json"]);
        run.expect_code(0);
        serde_json::from_str(&run.stdout).unwrap()
    }

    /// Asserts the next plan has no change (`--detailed-exitcode` exits 0 only then).
    fn assert_clean(&self) {
        self.exai(&["plan", "--detailed-exitcode"]).expect_code(0);
    }

    /// The snapshot filters of this world's runs.
    fn filters(&self) -> Filters {
        Filters::default().scratch(&self.s)
    }

    fn rewrite(&self, deployer: &[&str]) {
        self.s.write_spec(&spec(deployer));
    }

    fn graph(&self, method: Method, path: &str, body: Option<Value>) -> Option<Value> {
        self.runtime.block_on(self.azure.execute(&ApiRequest::graph(method, path, body))).unwrap()
    }

    fn graph_get(&self, path: &str) -> Value {
        self.runtime.block_on(self.azure.read(&ApiRequest::graph(Method::Get, path, None))).unwrap().unwrap()
    }

    fn arm_get(&self, path: &str, version: &'static str, filter: Option<&str>) -> Value {
        let mut request = ApiRequest::arm(Method::Get, path, version, None);
        if let Some(filter) = filter {
            request = request.with_query("$filter", filter);
        }
        self.runtime.block_on(self.azure.read(&request)).unwrap().unwrap()
    }

    /// The applications named [`NAME`].
    fn applications(&self) -> Vec<Value> {
        let list = self.graph_get("/applications");
        list["value"].as_array().unwrap().iter().filter(|a| a["displayName"] == NAME).cloned().collect()
    }

    /// The one application named [`NAME`].
    fn application(&self) -> Value {
        let apps = self.applications();
        assert_eq!(apps.len(), 1, "exactly one application named {NAME}: {apps:#?}");
        apps[0].clone()
    }

    fn service_principal(&self) -> Value {
        let app_id = self.application()["appId"].as_str().unwrap().to_owned();
        self.graph_get(&format!("/servicePrincipals(appId='{app_id}')"))
    }

    fn federated_names(&self) -> Vec<String> {
        let id = self.application()["id"].as_str().unwrap().to_owned();
        let list = self.graph_get(&format!("/applications/{id}/federatedIdentityCredentials"));
        let mut names: Vec<String> =
            list["value"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_owned()).collect();
        names.sort();
        names
    }

    /// The role assignments of the deployer's service principal anywhere in the subscription,
    /// as `(role GUID, scope)`.
    fn roles(&self) -> Vec<(String, String)> {
        let principal = self.service_principal()["id"].as_str().unwrap().to_owned();
        let list = self.arm_get(
            &format!("/subscriptions/{DEV_SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleAssignments"),
            "2022-04-01",
            Some(&format!("principalId eq '{principal}'")),
        );
        let mut roles: Vec<(String, String)> = list["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let role = a["properties"]["roleDefinitionId"].as_str().unwrap().rsplit('/').next().unwrap();
                (role.to_ascii_lowercase(), a["properties"]["scope"].as_str().unwrap().to_ascii_lowercase())
            })
            .collect();
        roles.sort();
        roles
    }

    fn requests_since(&self, before: usize) -> Vec<exai_emulator::RecordedRequest> {
        self.emulator
            .emulator
            .requests()
            .into_iter()
            .skip(before)
            .filter(|r| r.kind != exai_emulator::RequestKind::Token)
            .collect()
    }
}

fn change<'a>(plan: &'a Value, address: &str) -> &'a Value {
    let changes = plan["resource_changes"].as_array().unwrap();
    changes.iter().find(|c| c["address"] == address).unwrap_or_else(|| panic!("{address} is not in {plan:#}"))
}

/// The plan's changes other than no-ops, as `(address, action)`.
fn changes(plan: &Value) -> Vec<(String, String)> {
    plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "no-op")
        .map(|c| (c["address"].as_str().unwrap().to_owned(), c["action"].as_str().unwrap().to_owned()))
        .collect()
}

fn diff_paths(change: &Value) -> Vec<String> {
    change["diffs"].as_array().into_iter().flatten().filter_map(|d| d["path"].as_str().map(str::to_owned)).collect()
}

fn rg_scope() -> String {
    format!("/subscriptions/{DEV_SUBSCRIPTION_ID}/resourcegroups/exai-perso-rg")
}

#[test]
fn the_deployer_applies_then_plans_clean_and_its_secret_is_in_one_private_file_only() {
    let w = World::new(FULL);
    let mut outputs = Vec::new();
    // The principal's id is known after apply.
    let first = w.exai(&["plan", "--detailed-exitcode"]);
    assert_run!("deployer_first_plan", w.filters(), first);
    // Paths known after apply are shown as such; the secret's answer goes to a file only.
    let dry = w.exai(&["apply", "--dry-run"]);
    assert_run!("deployer_dry_run", w.filters(), dry);
    assert!(!w.s.path().join(".exai/secrets").exists(), "a dry run writes no secret file");
    let applied = w.apply(&[]);
    assert_run!("deployer_apply", w.filters(), applied);
    outputs.extend([first, dry, applied]);

    // The secret: one file, private, in azure/login's `creds` shape, naming this application.
    let path = w.s.path().join(".exai/secrets/perso.deployer.secret.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let creds: Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<&String> = creds.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["clientId", "clientSecret", "keyId", "subscriptionId", "tenantId"]);
    assert_eq!(creds["keyId"], w.application()["passwordCredentials"][0]["keyId"], "it names the secret it holds");
    let app = w.application();
    assert_eq!(creds["clientId"], app["appId"]);
    assert_eq!(creds["tenantId"], DEV_TENANT_ID);
    assert_eq!(creds["subscriptionId"], DEV_SUBSCRIPTION_ID);
    let secret = creds["clientSecret"].as_str().unwrap().to_owned();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // ... and it works: Entra (the emulator's token endpoint) accepts it for that application.
    let status = w.emulator.sign_in(creds["clientId"].as_str().unwrap(), &secret);
    assert_eq!(status, 200, "the written secret logs in");

    assert_eq!(
        w.federated_names(),
        ["github-branch-production", "github-environment-production", "github-pull-request"]
    );
    assert_eq!(w.roles(), [(CONTRIBUTOR.to_owned(), rg_scope())]);

    // Plan again: no change, and each object read once — the three credentials share one list —
    // and the caller's permissions once per scope.
    let before = w.emulator.emulator.requests().len();
    let clean = w.exai(&["plan", "--detailed-exitcode"]);
    assert_run!("deployer_plan_after_apply", w.filters(), clean);
    let reads = w.requests_since(before);
    let mut paths: Vec<String> =
        reads.iter().map(|r| format!("{} {}", r.method, r.path.to_ascii_lowercase())).collect();
    paths.sort();
    let app_id = app["id"].as_str().unwrap();
    let expected = [
        "GET /subscriptions/ee000000-0000-4000-8000-000000000002/providers/microsoft.authorization/permissions".to_owned(),
        "GET /subscriptions/ee000000-0000-4000-8000-000000000002/resourcegroups/exai-perso-rg".to_owned(),
        "GET /subscriptions/ee000000-0000-4000-8000-000000000002/resourcegroups/exai-perso-rg/providers/microsoft.authorization/permissions".to_owned(),
        "GET /subscriptions/ee000000-0000-4000-8000-000000000002/resourcegroups/exai-perso-rg/providers/microsoft.authorization/roleassignments".to_owned(),
        "GET /subscriptions/ee000000-0000-4000-8000-000000000002/resourcegroups/exai-perso-rg/resources".to_owned(),
        "GET /v1.0/applications".to_owned(),
        format!("GET /v1.0/applications/{app_id}/federatedidentitycredentials"),
        "GET /v1.0/serviceprincipals".to_owned(),
    ];
    assert_eq!(
        paths, expected,
        "one read per object (the credentials share one), plus the group's ownership scan and the caller's permissions at the group and the subscription"
    );
    outputs.push(clean);

    // Apply again: no write, and the secret file is left as it is.
    let before = w.emulator.emulator.requests().len();
    let noop = w.apply(&[]);
    assert_run!("deployer_second_apply", w.filters(), noop);
    assert!(w.requests_since(before).iter().all(|r| !r.is_write()));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    outputs.push(noop);
    outputs.push(w.exai(&["plan", "--format", "json"]));

    // The secret is nowhere else: not in any output, plan, request log or file under .exai/
    // but its own.
    for run in &outputs {
        assert!(!run.stdout.contains(&secret) && !run.stderr.contains(&secret), "the secret was printed");
    }
    let log = serde_json::to_string(&w.emulator.emulator.requests()).unwrap();
    assert!(!log.contains(&secret), "the secret is in the emulator's request log");
    for entry in walk(&w.s.path().join(".exai")) {
        if entry != path {
            let bytes = std::fs::read(&entry).unwrap();
            assert!(!String::from_utf8_lossy(&bytes).contains(&secret), "the secret is in {}", entry.display());
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() { files.extend(walk(&path)) } else { files.push(path) }
    }
    files
}

#[test]
fn each_deployer_field_changed_alone_plans_as_exactly_that_change_and_applies() {
    let w = World::new(FULL);
    w.apply(&[]).expect_code(0);
    w.assert_clean();
    let mut lines: Vec<&str> = FULL.to_vec();

    // A branch added: one credential to create, nothing else.
    lines[4] = "  branches: [production, main]";
    w.rewrite(&lines);
    let plan = w.plan_json();
    assert_eq!(changes(&plan), [("perso.deployer.federated.github-branch-main".to_owned(), "create".to_owned())]);
    assert_eq!(
        change(&plan, "perso.deployer.federated.github-branch-main")["after"]["subject"],
        "repo:my-org/exai:ref:refs/heads/main"
    );
    w.apply(&[]).expect_code(0);
    w.assert_clean();

    // The repository renamed: every credential's subject, in place, and only the subject.
    lines[3] = "  repository: my-org/exai-platform";
    w.rewrite(&lines);
    let plan = w.plan_json();
    let updated = changes(&plan);
    assert_eq!(updated.len(), 4, "{updated:?}");
    for (address, action) in &updated {
        assert!(address.starts_with("perso.deployer.federated."), "{address}");
        assert_eq!(action, "update");
        assert_eq!(diff_paths(change(&plan, address)), ["subject"]);
    }
    w.apply(&[]).expect_code(0);
    w.assert_clean();

    // Pull requests no longer allowed: their credential is deleted, but only with --allow-delete.
    lines[5] = "  pullRequests: false";
    w.rewrite(&lines);
    let plan = w.plan_json();
    assert_eq!(changes(&plan), [("perso.deployer.federated.github-pull-request".to_owned(), "delete".to_owned())]);
    let c = change(&plan, "perso.deployer.federated.github-pull-request");
    assert_eq!(c["reason"], "no longer in the spec");
    assert_eq!(c["before"]["subject"], "repo:my-org/exai-platform:pull_request");
    let before = w.emulator.emulator.requests().len();
    assert_run!("credential_delete_refused", w.filters(), w.apply(&[]));
    assert!(w.requests_since(before).iter().all(|r| !r.is_write()), "nothing was written");
    w.apply(&["--allow-delete"]).expect_code(0);
    w.assert_clean();
    assert!(!w.federated_names().contains(&"github-pull-request".to_owned()));

    // Another role: the new assignment is created first, then the old one deleted.
    lines[0] = "role: Reader";
    w.rewrite(&lines);
    let plan = w.plan_json();
    let planned = changes(&plan);
    assert_eq!(planned.len(), 2, "{planned:?}");
    assert_eq!(planned[0], ("perso.deployer.role".to_owned(), "create".to_owned()));
    assert!(planned[1].0.starts_with("perso.deployer.role~") && planned[1].1 == "delete", "{planned:?}");
    let old = change(&plan, &planned[1].0);
    assert_eq!(old["depends_on"], json!(["perso.deployer.role"]), "the deployer never goes without a role");
    assert!(old["reason"].as_str().unwrap().starts_with("superseded"), "{old:#}");
    w.apply(&["--allow-delete"]).expect_code(0);
    w.assert_clean();
    let reader = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
    assert_eq!(w.roles(), [(reader.to_owned(), rg_scope())], "the previous role is gone");

    // No client secret any more: it is removed from the application.
    lines.truncate(7);
    w.rewrite(&lines);
    let plan = w.plan_json();
    assert_eq!(changes(&plan), [("perso.deployer.secret".to_owned(), "delete".to_owned())]);
    w.apply(&["--allow-delete"]).expect_code(0);
    w.assert_clean();
    assert_eq!(w.application()["passwordCredentials"], json!([]));
}

#[test]
fn an_identity_made_by_az_ad_sp_create_for_rbac_is_adopted_not_duplicated() {
    let w = World::new(&[
        "role: Contributor",
        "scope: subscription",
        "github: { repository: my-org/exai, branches: [production] }",
    ]);
    // What the recipe's `az ad sp create-for-rbac --name ... --role Contributor --scopes
    // /subscriptions/<sub>` leaves (docs/azure-facts.md §7): an application with a password, its service
    // principal, and a Contributor assignment under a random name.
    let app = w.graph(Method::Post, "/applications", Some(json!({"displayName": NAME}))).unwrap();
    let app_object = app["id"].as_str().unwrap();
    w.graph(
        Method::Post,
        &format!("/applications/{app_object}/addPassword"),
        Some(json!({"passwordCredential": {"displayName": "rbac"}})),
    );
    let sp = w
        .graph(Method::Post, "/servicePrincipals", Some(json!({"appId": app["appId"], "accountEnabled": true})))
        .unwrap();
    let assignment = format!(
        "/subscriptions/{DEV_SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleAssignments/0b6a3a39-8d0a-4e8c-9a5e-6d1b1f0f2c11"
    );
    let body = json!({"properties": {
        "roleDefinitionId": format!("/subscriptions/{DEV_SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/{CONTRIBUTOR}"),
        "principalId": sp["id"], "principalType": "ServicePrincipal"}});
    w.runtime.block_on(w.azure.execute(&ApiRequest::arm(Method::Put, &assignment, "2022-04-01", Some(body)))).unwrap();

    let plan = w.plan_json();
    let app_change = change(&plan, "perso.deployer.app");
    assert_eq!(app_change["action"], "update");
    assert_eq!(diff_paths(app_change), ["tags.exai-owner"], "only exai's mark is added");
    let observed = app_change["observed"]["passwordCredentials"].as_array().unwrap();
    assert!(observed[0].as_str().unwrap().starts_with("rbac (expires "), "the old secret is shown: {observed:?}");
    assert_eq!(diff_paths(change(&plan, "perso.deployer.sp")), ["tags.exai-owner"]);
    assert_eq!(
        diff_paths(change(&plan, "perso.deployer.role")),
        ["tags.exai-owner"],
        "the assignment is found under its own name, and marked"
    );
    assert_eq!(change(&plan, "perso.deployer.federated.github-branch-production")["action"], "create");

    w.apply(&[]).expect_code(0);
    w.assert_clean();
    let adopted = w.application();
    assert_eq!(adopted["id"], app["id"], "the same application, not a second one");
    assert_eq!(adopted["passwordCredentials"][0]["displayName"], "rbac", "exai leaves what it does not own");
    assert_eq!(w.roles(), [(CONTRIBUTOR.to_owned(), format!("/subscriptions/{DEV_SUBSCRIPTION_ID}"))]);
}

#[test]
fn changes_behind_exais_back_are_no_change_unless_they_touch_what_exai_owns() {
    let w = World::new(FULL);
    w.apply(&[]).expect_code(0);
    let app = w.application();
    let app_object = app["id"].as_str().unwrap().to_owned();
    // Someone tags the application and the principal, and adds a credential of their own.
    let mut tags = app["tags"].as_array().unwrap().clone();
    tags.push(json!("team:platform"));
    w.graph(Method::Patch, &format!("/applications/{app_object}"), Some(json!({"tags": tags})));
    let sp = w.service_principal();
    let mut sp_tags = sp["tags"].as_array().unwrap().clone();
    sp_tags.push(json!("WindowsAzureActiveDirectoryIntegratedApp"));
    w.graph(
        Method::Patch,
        &format!("/servicePrincipals/{}", sp["id"].as_str().unwrap()),
        Some(json!({"tags": sp_tags})),
    );
    let credentials = format!("/applications/{app_object}/federatedIdentityCredentials");
    w.graph(
        Method::Post,
        &credentials,
        Some(json!({"name": "manual", "issuer": "https://token.actions.githubusercontent.com",
                    "subject": "repo:my-org/other:ref:refs/heads/main", "audiences": ["api://AzureADTokenExchange"]})),
    );
    w.assert_clean();

    // Someone edits a credential exai owns: exactly that field, put back by apply.
    w.graph(
        Method::Patch,
        &format!("{credentials}/github-branch-production"),
        Some(json!({"subject": "repo:my-org/exai:ref:refs/heads/hotfix"})),
    );
    let plan = w.plan_json();
    assert_eq!(changes(&plan), [("perso.deployer.federated.github-branch-production".to_owned(), "update".to_owned())]);
    let c = change(&plan, "perso.deployer.federated.github-branch-production");
    assert_eq!(diff_paths(c), ["subject"]);
    assert_eq!(c["diffs"][0]["before"], "repo:my-org/exai:ref:refs/heads/hotfix");
    w.apply(&[]).expect_code(0);
    w.assert_clean();
    assert!(w.application()["tags"].as_array().unwrap().contains(&json!("team:platform")), "the foreign tag stays");
    assert!(w.federated_names().contains(&"manual".to_owned()), "the foreign credential stays");

    // Someone deletes one: it is created again.
    w.graph(Method::Delete, &format!("{credentials}/github-environment-production"), None);
    let plan = w.plan_json();
    assert_eq!(
        changes(&plan),
        [("perso.deployer.federated.github-environment-production".to_owned(), "create".to_owned())]
    );
    w.apply(&[]).expect_code(0);
    w.assert_clean();
}

#[test]
fn two_applications_with_the_deployer_name_stop_the_plan_before_anything_is_written() {
    let w = World::new(FULL);
    for _ in 0..2 {
        w.graph(Method::Post, "/applications", Some(json!({"displayName": NAME})));
    }
    let before = w.emulator.emulator.requests().len();
    // The error names both, and the hint says how to find them.
    assert_run!("two_applications_named_alike", w.filters(), w.exai(&["apply", "--auto-approve"]));
    assert!(w.requests_since(before).iter().all(|r| !r.is_write()), "nothing was written");
}

#[test]
fn a_failure_in_the_middle_of_the_deployer_is_repaired_by_the_next_apply_without_duplicates() {
    // Graph answers 500 to the service principal's creation (POSTs are not retried: they are
    // not idempotent), so its role assignment is skipped; the credentials, which need only the
    // application, are created.
    let fault: exai_emulator::FaultRule = "POST /v1.0/servicePrincipals 500 times=1".parse().unwrap();
    let emulator =
        InProcessEmulator::start_with(exai_emulator::EmulatorOptions { faults: vec![fault], ..Default::default() });
    let w = World::with(emulator, FULL);
    // The principal fails, its role is skipped, the credentials are created.
    assert_run!("principal_failed", w.filters(), w.apply(&[]));
    // Only what was missing is created.
    assert_run!("principal_repaired", w.filters(), w.apply(&[]));
    w.assert_clean();
    w.application();
    assert_eq!(w.federated_names().len(), 3);
    assert_eq!(w.roles().len(), 1);
    assert_eq!(w.application()["passwordCredentials"].as_array().unwrap().len(), 1, "one secret");
}

/// An emulator with `rules`, as fault rules.
fn emulator_with(rules: &[&str]) -> InProcessEmulator {
    let faults = rules.iter().map(|r| r.parse().unwrap()).collect();
    InProcessEmulator::start_with(exai_emulator::EmulatorOptions { faults, ..Default::default() })
}

impl World {
    /// The application's password credentials carrying the secret's mark.
    fn marked_secrets(&self) -> Vec<Value> {
        let passwords = self.application()["passwordCredentials"].as_array().unwrap().clone();
        passwords.into_iter().filter(|p| p["displayName"] == "exai-owner:my-org/exai:perso.deployer.secret").collect()
    }

    /// Asserts the secret file logs in as the application (Entra's client-credentials grant,
    /// what `AZURE_CLIENT_ID`/`AZURE_CLIENT_SECRET` do) and names the live secret.
    fn assert_secret_file_logs_in(&self) {
        let path = self.s.path().join(".exai/secrets/perso.deployer.secret.json");
        let creds: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let marked = self.marked_secrets();
        assert_eq!(marked.len(), 1, "exactly one marked secret: {marked:#?}");
        assert_eq!(creds["keyId"], marked[0]["keyId"], "the file names the live secret");
        let status =
            self.emulator.sign_in(creds["clientId"].as_str().unwrap(), creds["clientSecret"].as_str().unwrap());
        assert_eq!(status, 200, "the secret file logs in");
        let mut left: Vec<String> = std::fs::read_dir(self.s.path().join(".exai/secrets"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [".perso.deployer.secret.json.lock", "perso.deployer.secret.json"], "no temporary file left");
    }

    /// Waits until every fault rule has fired as often as its `times` allow: the requests
    /// they delay have arrived and wait in the emulator.
    fn wait_for_faults_fired(&self) {
        let started = std::time::Instant::now();
        loop {
            let (_, listing) = self.emulator.admin(reqwest::Method::GET, "faults", None);
            if listing["faults"].as_array().unwrap().iter().all(|f| f["remaining"] == 0) {
                return;
            }
            assert!(started.elapsed() < std::time::Duration::from_secs(60), "the faults never fired: {listing}");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Waits until the emulator has answered a write matching `method` and a path starting with
    /// `prefix` (its answer is logged once sent).
    fn wait_for_write(&self, method: &str, prefix: &str) {
        let started = std::time::Instant::now();
        while !self.emulator.emulator.requests().iter().any(|r| {
            r.method == method
                && r.path.to_ascii_lowercase().starts_with(&prefix.to_ascii_lowercase())
                && r.status < 300
        }) {
            assert!(started.elapsed() < std::time::Duration::from_secs(60), "no {method} {prefix}");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

#[test]
fn two_applies_at_once_make_exactly_one_of_each_object() {
    // Graph answers the application's upsert after 2 s: both applies plan "create" and both
    // send it before either is answered, as in the incident that made two applications.
    let emulator = emulator_with(&["PATCH,POST /v1.0/applications* latency=2s"]);
    let w = World::with(emulator, FULL);
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| w.apply(&[]));
        let b = scope.spawn(|| w.apply(&[]));
        (a.join().unwrap(), b.join().unwrap())
    });
    a.expect_code(0);
    b.expect_code(0);
    let upserts: Vec<u16> = w
        .emulator
        .emulator
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.starts_with("/v1.0/applications(uniqueName="))
        .map(|r| r.status)
        .collect();
    assert_eq!(upserts.len(), 2, "both applies sent the upsert");
    assert!(upserts.contains(&201) && upserts.contains(&200), "one created it, the other found it: {upserts:?}");
    // Both planned every create: the second of each was refused as a duplicate and adopted.
    let mut refused: Vec<String> = w
        .emulator
        .emulator
        .requests()
        .iter()
        .filter(|r| r.status == 409)
        .map(|r| format!("{} {}", r.method, r.path.split('/').next_back().unwrap_or_default()))
        .collect();
    refused.sort();
    assert_eq!(
        refused,
        [
            "POST federatedIdentityCredentials",
            "POST federatedIdentityCredentials",
            "POST federatedIdentityCredentials",
            "POST servicePrincipals"
        ],
        "one refused create each, all adopted"
    );
    let adopted = format!("{}\n{}", a.stdout, b.stdout).matches("already exists: adopted").count();
    assert_eq!(adopted, 5, "the principal, three credentials and the secret");
    let app = w.application();
    assert_eq!(app["uniqueName"], "exai-perso-deployer-app-7446c7563c3d", "created with its uniqueName");
    w.service_principal();
    let principals = w.graph_get("/servicePrincipals");
    let of_app = principals["value"].as_array().unwrap().iter().filter(|p| p["appId"] == app["appId"]).count();
    assert_eq!(of_app, 1, "one service principal");
    assert_eq!(
        w.federated_names(),
        ["github-branch-production", "github-environment-production", "github-pull-request"]
    );
    assert_eq!(w.roles(), [(CONTRIBUTOR.to_owned(), rg_scope())]);
    w.assert_secret_file_logs_in();
    let both = format!("{}\n{}", a.stdout, b.stdout);
    assert!(both.contains("perso.deployer.secret: already exists: adopted (a concurrent apply added it"), "{both}");
    w.assert_clean();
}

#[test]
fn objects_made_between_plan_and_create_are_adopted_not_duplicated() {
    // The principal's and the credentials' creation wait 2 s in Graph; meanwhile "someone
    // else" makes each of them, and the deployer's role assignment under another name: every
    // create is then answered 409 and adopts what it finds.
    let emulator = emulator_with(&[
        "POST /v1.0/servicePrincipals latency=2s times=1",
        "POST /v1.0/applications/*/federatedIdentityCredentials latency=2s times=3",
    ]);
    let w = World::with(emulator, FULL);
    std::thread::scope(|scope| {
        let apply = scope.spawn(|| w.apply(&[]));
        // exai's creates of the principal and the credentials have arrived and wait: its plan
        // and stale check are over, and what is made below is seen by no read of exai's.
        w.wait_for_faults_fired();
        let app = w.application();
        let app_object = app["id"].as_str().unwrap();
        let principal = w
            .graph(
                Method::Post,
                "/servicePrincipals",
                Some(json!({"appId": app["appId"], "tags": ["exai-owner:my-org/exai:perso.deployer.sp"]})),
            )
            .unwrap();
        w.graph(
            Method::Post,
            &format!("/applications/{app_object}/federatedIdentityCredentials"),
            Some(json!({
                "name": "github-pull-request",
                "issuer": "https://token.actions.githubusercontent.com",
                "subject": "repo:my-org/exai:pull_request",
                "audiences": ["api://AzureADTokenExchange"],
                "description": "exai-owner:my-org/exai:perso.deployer.federated.github-pull-request",
            })),
        );
        let scope_id = rg_scope();
        let assignment = ApiRequest::arm(
            Method::Put,
            format!(
                "{scope_id}/providers/Microsoft.Authorization/roleAssignments/5b0c1d2e-0000-4000-8000-00000000abcd"
            ),
            "2022-04-01",
            Some(json!({"properties": {
                "roleDefinitionId": format!("/subscriptions/{DEV_SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/{CONTRIBUTOR}"),
                "principalId": principal["id"],
                "principalType": "ServicePrincipal",
                "description": "exai-owner:my-org/exai:perso.deployer.role",
            }})),
        );
        w.wait_for_write("PUT", &format!("/subscriptions/{DEV_SUBSCRIPTION_ID}/resourcegroups/exai-perso-rg"));
        w.runtime.block_on(w.azure.execute(&assignment)).unwrap();
        let applied = apply.join().unwrap();
        applied.expect_code(0);
        for address in ["perso.deployer.sp", "perso.deployer.federated.github-pull-request", "perso.deployer.role"] {
            assert!(
                applied.stdout.contains(&format!("{address}: already exists: adopted (made since the plan")),
                "{address}: {}",
                applied.stdout
            );
        }
        let conflicts: Vec<(String, String)> = w
            .emulator
            .emulator
            .requests()
            .iter()
            .filter(|r| r.status == 409)
            .map(|r| (r.method.clone(), r.path.rsplit('/').next().unwrap_or_default().to_owned()))
            .collect();
        assert_eq!(conflicts.len(), 3, "one refused create each: {conflicts:?}");
    });
    assert_eq!(w.roles(), [(CONTRIBUTOR.to_owned(), rg_scope())]);
    assert_eq!(
        w.federated_names(),
        ["github-branch-production", "github-environment-production", "github-pull-request"]
    );
    w.assert_clean();
}

#[test]
fn a_lost_add_password_answer_is_planned_as_a_rotation_and_repaired() {
    // Graph creates the secret, and the answer carrying it is lost with the connection.
    let emulator = emulator_with(&["POST /v1.0/applications/*/addPassword drop-answer times=1"]);
    let w = World::with(emulator, FULL);
    // One request at a time: the dropped answer closes the HTTP/2 connection every request in
    // flight shares, and which ARM writes are on it would otherwise depend on timing.
    assert_run!("add_password_answer_lost", w.filters(), w.apply(&["--parallelism", "1"]));
    assert_eq!(w.marked_secrets().len(), 1, "Graph made the secret");
    let file = w.s.path().join(".exai/secrets/perso.deployer.secret.json");
    let reserved: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(reserved["clientSecret"], "", "the file is the reservation, never a partial secret");

    // Never "no changes": the secret nobody holds is rotated, and the plan says why.
    assert_run!("rotation_planned", w.filters(), w.exai(&["plan", "--detailed-exitcode"]));
    let json = w.plan_json();
    assert_eq!(changes(&json), [("perso.deployer.secret".to_owned(), "update".to_owned())]);
    let secret = change(&json, "perso.deployer.secret");
    let orphan = w.marked_secrets()[0]["keyId"].as_str().unwrap().to_owned();
    assert_eq!(
        secret["reason"],
        format!(
            "the secret file `.exai/secrets/perso.deployer.secret.json` does not hand over the client secret exai created (empty: the secret was created but never written to it (a lost answer or an interrupted apply)); a new secret is added into the file, then the one nobody holds (keyId `{orphan}`) is removed"
        )
    );
    assert_eq!(
        secret["diffs"],
        json!([{"path": "secretFile", "before": "empty: the secret was created but never written to it (a lost answer or an interrupted apply)", "after": "holds this secret"}])
    );

    assert_run!("rotated", w.filters(), w.apply(&[]));
    w.assert_secret_file_logs_in();
    assert_ne!(w.marked_secrets()[0]["keyId"], orphan.as_str(), "the orphan was removed");
    w.assert_clean();
}

#[test]
fn a_deleted_secret_file_is_taken_as_handed_over_and_an_emptied_one_is_rotated() {
    let w = World::new(FULL);
    w.apply(&[]).expect_code(0);
    let file = w.s.path().join(".exai/secrets/perso.deployer.secret.json");
    // Stored as a GitHub secret, then deleted (or a fresh checkout: a CI runner): nothing to
    // rotate, the secret in Azure is the one someone keeps.
    let kept = std::fs::read(&file).unwrap();
    std::fs::remove_file(&file).unwrap();
    w.assert_clean();
    // A file that does not hold the secret (emptied, as a crash mid-write would leave it
    // without the reservation's atomic rename): rotated.
    std::fs::write(&file, b"").unwrap();
    let json = w.plan_json();
    assert_eq!(changes(&json), [("perso.deployer.secret".to_owned(), "update".to_owned())]);
    assert_eq!(change(&json, "perso.deployer.secret")["diffs"][0]["before"], "unreadable: not the JSON exai writes");
    w.apply(&[]).expect_code(0);
    w.assert_secret_file_logs_in();
    assert_ne!(std::fs::read(&file).unwrap(), kept, "a new secret");
    w.assert_clean();
}
