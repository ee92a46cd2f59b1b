//! Azure RBAC as the emulator enforces it, through the real binary, with principals made by the
//! emulator's `POST /_emulator/principals` and signed in with their client secret: what a
//! caller may not do is named by the plan before any write, `apply` refuses it, Azure's own
//! refusal is shown with the action and scope when the permissions could not be read, and the
//! seed's pitfall (a Contributor deployer cannot make role assignments) plays out end to end.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crate::harness::{Filters, InProcessEmulator, Run, Scratch, assert_run, repo_root};
use exai_emulator::{DEV_SUBSCRIPTION_ID, DEV_TENANT_ID, EmulatorOptions};
use serde_json::{Value, json};

const SPEC: &str = "version: 1
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

/// A principal the emulator made: its answer (`appId`, `objectId`, `tenantId`, `clientSecret`).
struct Principal(Value);

impl Principal {
    /// Creates a principal holding `role` at the development subscription.
    fn with_role(emulator: &InProcessEmulator, name: &str, role: &str) -> Self {
        Self::with_role_at(emulator, name, role, "")
    }

    /// Creates a principal holding `role` at `scope` below the development subscription (`""`:
    /// the subscription itself, `/resourceGroups/NAME`: a group).
    fn with_role_at(emulator: &InProcessEmulator, name: &str, role: &str, scope: &str) -> Self {
        let scope = format!("/subscriptions/{DEV_SUBSCRIPTION_ID}{scope}");
        let body = json!({"displayName": name, "roles": [{"role": role, "scope": scope}]});
        let (status, answer) = emulator.admin_post("principals", &body);
        assert_eq!(status, 201, "{answer}");
        assert_eq!(answer["tenantId"], DEV_TENANT_ID);
        Self(answer)
    }

    fn get(&self, member: &str) -> String {
        self.0[member].as_str().unwrap().to_owned()
    }

    /// Grants this principal Microsoft Graph's `Application.Read.All`, as an admin's
    /// consent would (the emulator's development application, an admin, sends it), so it can
    /// read the Entra objects of a spec to plan them.
    fn may_read_applications(&self, emulator: &InProcessEmulator) {
        use exai_model::{ApiRequest, Method};
        let admin = emulator.someone_else();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let graph = ApiRequest::graph(Method::Get, "/servicePrincipals", None)
            .with_query("$filter", "appId eq '00000003-0000-0000-c000-000000000000'");
        let graph = runtime.block_on(admin.execute(&graph)).unwrap().unwrap();
        let body = json!({
            "principalId": self.get("objectId"),
            "resourceId": graph["value"][0]["id"],
            "appRoleId": "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30", // Application.Read.All
        });
        let path = format!("/servicePrincipals/{}/appRoleAssignments", self.get("objectId"));
        runtime.block_on(admin.execute(&ApiRequest::graph(Method::Post, path, Some(body)))).unwrap();
    }

    /// A scratch directory holding `spec`, where exai signs in as this principal.
    fn scratch(&self, spec: &str) -> Scratch {
        let mut s = Scratch::with_spec(spec);
        s.env("AZURE_TENANT_ID", DEV_TENANT_ID)
            .env("AZURE_SUBSCRIPTION_ID", DEV_SUBSCRIPTION_ID)
            .env("AZURE_CLIENT_ID", &self.get("appId"))
            .env("AZURE_CLIENT_SECRET", &self.get("clientSecret"));
        s
    }

    /// The filters of a snapshot of this principal's runs in `s`; panics if its secret shows.
    fn filters(&self, s: &Scratch, name: &str, runs: &[&Run]) -> Filters {
        let secret = self.get("clientSecret");
        for run in runs {
            assert!(!run.stdout.contains(&secret) && !run.stderr.contains(&secret), "the secret is never shown");
        }
        Filters::default()
            .scratch(s)
            .literal(&self.get("appId"), &format!("[{name} app id]"))
            .literal(&self.get("objectId"), &format!("[{name} object id]"))
    }
}

#[test]
fn a_reader_s_apply_is_refused_before_any_write_naming_each_action() {
    let emulator = InProcessEmulator::start();
    let reader = Principal::with_role(&emulator, "ci-planner", "Reader");
    let s = reader.scratch(SPEC);
    let before = emulator.emulator.requests().len();
    let run = s.run_against(&emulator, &["apply", "--auto-approve"]);
    assert_run!(reader.filters(&s, "reader", &[&run]), run);
    assert_eq!(emulator.arm_writes_since(before), Vec::<(String, u16)>::new(), "nothing was sent to be refused");
}

#[test]
fn when_permissions_cannot_be_read_azure_refuses_a_reader_s_write_and_exai_names_action_and_scope() {
    // The permission reads are refused (as a policy or a missing read role might), so exai
    // cannot tell beforehand: the plan says so, apply goes on, and Azure's RBAC refuses.
    let emulator = InProcessEmulator::start_with(EmulatorOptions {
        faults: vec!["GET /subscriptions/**/providers/Microsoft.Authorization/permissions 403".parse().unwrap()],
        ..Default::default()
    });
    let reader = Principal::with_role(&emulator, "ci-planner", "Reader");
    let s = reader.scratch(SPEC);
    let before = emulator.emulator.requests().len();
    let run = s.run_against(&emulator, &["apply", "--auto-approve"]);
    assert_run!(reader.filters(&s, "reader", &[&run]), run);
    let writes = emulator.arm_writes_since(before);
    assert!(!writes.is_empty(), "exai tried to write");
    assert!(writes.iter().all(|(_, status)| *status == 403), "{writes:#?}");
}

/// The seed's recipe as a spec (`specs/valid/seed-recipe.yaml`): its deployer gets
/// Contributor at the subscription, as `az ad sp create-for-rbac --role Contributor` does.
fn seed_spec() -> String {
    std::fs::read_to_string(repo_root().join("specs/valid/seed-recipe.yaml")).unwrap()
}

/// The addresses of the plan's permission findings.
fn findings(plan: &Run) -> Vec<String> {
    let document: Value = serde_json::from_str(&plan.stdout).unwrap();
    let mut found: Vec<String> = document["permissions"]["findings"]
        .as_array()
        .map(|all| all.iter().map(|f| f["address"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    found.dedup();
    found
}

#[test]
fn the_seed_s_contributor_deployer_cannot_make_its_role_assignments_until_an_owner_bootstraps_them() {
    let emulator = InProcessEmulator::start();
    // The seed's service principal: Contributor at the subscription; allowed to read the Entra
    // objects it plans (`graphPermissions: [Application.Read.All]`, as docs/github-actions.md
    // recommends for pull-request plans).
    let deployer = Principal::with_role(&emulator, "exai-perso-github-sp", "Contributor");
    deployer.may_read_applications(&emulator);
    let ci = deployer.scratch(&seed_spec());
    let before = emulator.emulator.requests().len();

    // The deployer's plan names exactly the role assignments Contributor cannot write.
    let plan = ci.run_against(&emulator, &["plan", "--require-permissions"]);
    let json = ci.run_against(&emulator, &["plan", "--format", "json"]);
    json.expect_code(0);
    assert_eq!(findings(&json), ["perso.cluster.acr-pull", "perso.deployer.role"]);
    assert_run!("contributor_plan", deployer.filters(&ci, "deployer", &[&plan, &json]), plan);
    // ... and its apply refuses before any write.
    let apply = ci.run_against(&emulator, &["apply", "--auto-approve"]);
    assert_run!("contributor_apply_refused", deployer.filters(&ci, "deployer", &[&apply]), apply);
    assert_eq!(emulator.arm_writes_since(before), Vec::<(String, u16)>::new());

    // An Owner (the emulator's development application) bootstraps the environment.
    let mut admin = Scratch::with_spec(&seed_spec());
    admin.env("AZURE_TENANT_ID", DEV_TENANT_ID).env("AZURE_SUBSCRIPTION_ID", DEV_SUBSCRIPTION_ID);
    admin.run_against(&emulator, &["apply", "--auto-approve"]).expect_code(0);

    // Then the deployer's plan is clean: no change, nothing it may not do.
    let clean = ci.run_against(&emulator, &["plan", "--require-permissions", "--detailed-exitcode"]);
    assert_run!("contributor_plan_after_bootstrap", deployer.filters(&ci, "deployer", &[&clean]), clean);
}

#[test]
fn a_deployer_scoped_to_its_group_plans_a_new_registry_whose_name_it_may_not_check() {
    // A registry's name check is `Microsoft.ContainerRegistry/checkNameAvailability/read` at
    // the subscription, which Contributor at the group does not grant: the plan goes on and
    // says the name is checked only by apply.
    let emulator = InProcessEmulator::start();
    let mut admin = Scratch::with_spec(&SPEC.replace("    registry: { name: exaipersoacr, sku: Standard }\n", ""));
    admin.env("AZURE_TENANT_ID", DEV_TENANT_ID).env("AZURE_SUBSCRIPTION_ID", DEV_SUBSCRIPTION_ID);
    admin.run_against(&emulator, &["apply", "--auto-approve"]).expect_code(0);
    let deployer = Principal::with_role_at(&emulator, "ci-deployer", "Contributor", "/resourceGroups/exai-perso-rg");
    let s = deployer.scratch(SPEC);
    let plan = s.run_against(&emulator, &["plan", "--detailed-exitcode"]);
    assert_run!(deployer.filters(&s, "deployer", &[&plan]), plan);
}
