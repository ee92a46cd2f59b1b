//! A session against the in-process emulator: what `exai plan` and `exai apply` decide, without
//! the binary. The printing of each decision is tested end to end in `tests/`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use exai_azure::{AzureClient, ClientConfig, CredentialChoice, Endpoints, NetworkOptions};
use exai_emulator::{DEV_CLIENT_ID, DEV_CLIENT_SECRET, DEV_SUBSCRIPTION_ID, DEV_TENANT_ID, Emulator};
use exai_executor::{DryRun, Interrupt, Outcome as Done};
use exai_session::{ApplyRequest, Outcome, Planned, Prepared, Refusal, SavedSelection, SessionError};
use std::path::Path;
use std::time::SystemTime;

const SPEC: &str = "version: 1
name: my-org/exai
azure:
  tenant: ${AZURE_TENANT_ID}
  subscription: ${AZURE_SUBSCRIPTION_ID}
defaults:
  location: francecentral
environments:
  perso:
    resourceGroup: { name: exai-perso-rg }
    registry: { name: exaipersoacr, sku: Standard }
  prod:
    resourceGroup: { name: exai-prod-rg }
";

/// The spec `text`, as the command line reads it.
fn spec(text: &str) -> exai_spec::Spec {
    let env = |name: &str| match name {
        "AZURE_TENANT_ID" => Some(DEV_TENANT_ID.to_owned()),
        _ => Some(DEV_SUBSCRIPTION_ID.to_owned()),
    };
    exai_spec::parse("exai.yaml", text, &env).expect("a valid spec")
}

struct World {
    emulator: Emulator,
    client: AzureClient,
    dir: tempfile::TempDir,
}

impl World {
    async fn start() -> Self {
        let emulator = Emulator::start(exai_emulator::EmulatorOptions::default()).await.expect("an emulator");
        let client = AzureClient::new(ClientConfig {
            endpoints: Endpoints::emulator(&emulator.url()),
            tenant: DEV_TENANT_ID.to_owned(),
            credential: CredentialChoice::client_secret(DEV_CLIENT_ID, DEV_CLIENT_SECRET, "test"),
            extra_ca_pem: Some(emulator.ca_certificate_pem().to_owned()),
            operation_timeout: std::time::Duration::from_secs(30),
            network: NetworkOptions::default(),
        })
        .expect("a client of the emulator");
        Self { emulator, client, dir: tempfile::tempdir().expect("a directory for the spec") }
    }

    /// Plans the environments `only` selects of `SPEC`, recorded as read from a file with
    /// `digest`.
    async fn plan(&self, only: Option<&str>, digest: &str) -> Planned {
        let file = self.dir.path().join("exai.yaml");
        let prepared = Prepared::new(&spec(SPEC), &file, digest, only, SystemTime::now()).expect("prepared");
        prepared.plan(&self.client).await.expect("a plan")
    }

    async fn apply(&self, planned: &Planned, interrupt: Interrupt) -> exai_session::ApplyRun {
        let request = ApplyRequest { parallelism: 4, allow_delete: false, dry_run: false, interrupt };
        planned.apply(&self.client, request, &|_| {}).await
    }
}

fn digest() -> String {
    exai_model::sha256_digest(SPEC.as_bytes())
}

fn addresses(planned: &Planned) -> Vec<String> {
    planned.plan.resource_changes.iter().map(|c| format!("{} {:?}", c.address, c.action)).collect()
}

#[tokio::test]
async fn a_plan_applied_then_planned_again_has_no_changes() {
    let world = World::start().await;
    let planned = world.plan(None, &digest()).await;
    assert!(matches!(planned.outcome(), Outcome::Changes));
    assert_eq!(
        addresses(&planned),
        ["perso.resourceGroup Create", "perso.registry Create", "prod.resourceGroup Create"]
    );
    assert_eq!(planned.plan.environments, ["perso", "prod"]);
    assert!(planned.check_unsafe(false).is_ok(), "a plan that only creates is safe");

    let run = world.apply(&planned, Interrupt::default()).await;
    assert!(matches!(run.outcome, Outcome::Applied), "{:?}", run.outcome);
    assert_eq!(run.report.outcomes.iter().filter(|(_, o)| matches!(o, Done::Done(_))).count(), 3);

    let again = world.plan(None, &digest()).await;
    assert!(matches!(again.outcome(), Outcome::NoChanges), "{:?}", addresses(&again));
    world.emulator.shutdown().await.expect("the emulator stops");
}

#[tokio::test]
async fn a_dry_run_writes_nothing_and_an_interrupted_apply_starts_nothing() {
    let world = World::start().await;
    let planned = world.plan(Some("perso"), &digest()).await;
    let request = ApplyRequest { parallelism: 4, allow_delete: false, dry_run: true, interrupt: Interrupt::default() };
    let dry = planned.apply(&DryRun::new(&world.client), request, &|_| {}).await;
    assert!(matches!(dry.outcome, Outcome::Applied), "{:?}", dry.outcome);
    assert!(matches!(world.plan(Some("perso"), &digest()).await.outcome(), Outcome::Changes), "nothing was written");

    let interrupt = Interrupt::default();
    interrupt.trigger();
    let run = world.apply(&planned, interrupt).await;
    assert!(matches!(run.outcome, Outcome::Interrupted), "{:?}", run.outcome);
    assert!(run.report.outcomes.iter().all(|(_, o)| *o == Done::NotStarted), "{:?}", run.report.outcomes);
    assert!(matches!(world.plan(Some("perso"), &digest()).await.outcome(), Outcome::Changes), "nothing was written");
}

#[tokio::test]
async fn a_saved_plan_is_refused_when_the_spec_its_environments_or_azure_changed() {
    let world = World::start().await;
    let saved = world.plan(Some("perso"), &digest()).await;
    let fresh = world.plan(Some("perso"), &digest()).await;
    assert!(fresh.check_saved(&saved.plan).is_ok(), "nothing changed");

    // As `exai plan --out` saves it, and as another version of exai would have.
    let path = world.dir.path().join("plan.json");
    std::fs::write(&path, serde_json::to_vec(&saved.plan).unwrap()).unwrap();
    assert_eq!(exai_session::read_saved(&path).unwrap(), saved.plan);
    let mut older = serde_json::to_value(&saved.plan).unwrap();
    assert_eq!(older["exai_commit"], exai_session::COMMIT);
    older["exai_version"] = "0.0.1".into();
    std::fs::write(&path, older.to_string()).unwrap();
    let error = exai_session::read_saved(&path).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "`{}` was made by exai 0.0.1 ({}); this is exai {}",
            path.display(),
            exai_session::COMMIT,
            exai_session::VERSION
        )
    );
    // The same version built from another commit.
    let mut other_build = serde_json::to_value(&saved.plan).unwrap();
    other_build["exai_commit"] = "0000000".into();
    std::fs::write(&path, other_build.to_string()).unwrap();
    let error = exai_session::read_saved(&path).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "`{}` was made by exai {} (0000000); this is exai {}",
            path.display(),
            env!("CARGO_PKG_VERSION"),
            exai_session::VERSION
        )
    );

    let edited = world.plan(Some("perso"), "sha256:edited").await;
    let refusal = edited.check_saved(&saved.plan).unwrap_err();
    assert!(
        matches!(&refusal, Refusal::SpecChanged { planned, now, .. } if *planned == digest() && now == "sha256:edited")
    );
    assert_eq!(
        refusal.message(),
        format!("the spec changed since the plan was made from `{}`", world.dir.path().join("exai.yaml").display())
    );

    let selected = SavedSelection::of(&saved.plan);
    assert_eq!(selected.file, Some(world.dir.path().join("exai.yaml")));
    assert_eq!(selected.environment.as_deref(), Some("perso"));

    let wider = world.plan(None, &digest()).await;
    assert_eq!(SavedSelection::of(&wider.plan).environment, None, "a plan of every environment selects none");
    let refusal = wider.check_saved(&saved.plan).unwrap_err();
    assert_eq!(refusal.message(), "the plan covers the environments perso, and this apply would cover perso, prod");
    assert_eq!(refusal.hint(), "leave out `--env` to apply the saved plan as it was made; nothing was changed");

    // Someone applies in between: the saved plan and the reviewed one are both stale.
    let run = world.apply(&fresh, Interrupt::default()).await;
    assert!(matches!(run.outcome, Outcome::Applied));
    let now = world.plan(Some("perso"), &digest()).await;
    let refusal = now.check_saved(&saved.plan).unwrap_err();
    assert!(matches!(refusal, Refusal::Stale { what: "the saved plan", .. }));
    assert_eq!(
        refusal.details(),
        [
            "perso.resourceGroup: the plan would create it, and now apply would leave it",
            "perso.resourceGroup: it was created in Azure since the plan",
            "perso.registry: the plan would create it, and now apply would leave it",
            "perso.registry: it was created in Azure since the plan",
        ]
    );
    let recheck = saved.recheck(&world.client).await.expect("read again");
    assert!(matches!(recheck, Err(Refusal::Stale { what: "the reviewed plan", .. })), "{recheck:?}");
}

#[test]
fn an_unknown_environment_is_named_with_a_hint() {
    let error =
        Prepared::new(&spec(SPEC), Path::new("exai.yaml"), &digest(), Some("staging"), SystemTime::now()).unwrap_err();
    assert!(matches!(error, SessionError::UnknownEnvironment(_)));
    assert_eq!(
        error.hint().as_deref(),
        Some("pass one of the declared names to `--env`, or leave it out to use every environment")
    );
}

#[test]
fn a_plan_that_deletes_is_refused_unless_allowed() {
    // A plan turned into a delete of the registry.
    let spec = spec(SPEC);
    let desired = spec.desired_state(Some("perso")).expect("perso");
    let mut live = exai_model::LiveState::new();
    for resource in &desired.resources {
        live.insert(resource.address.clone(), exai_model::Observation::Absent);
    }
    let mut plan = exai_planner::plan(&desired, &live).expect("a plan");
    plan.resource_changes[1].action = exai_planner::Action::Delete;
    let planned = Planned {
        desired,
        live,
        base: ".".into(),
        plan,
        keys: Vec::new(),
        declared: Default::default(),
        notes: Vec::new(),
    };
    let refusal = planned.check_unsafe(false).unwrap_err();
    assert!(
        matches!(&refusal, Refusal::Unsafe(exai_executor::ExecutorError::DeleteNotAllowed { addresses }) if addresses.len() == 1),
        "{refusal:?}"
    );
    assert_eq!(refusal.details(), Vec::<String>::new());
}

/// `SPEC`'s `perso`, planned against nothing, with the caller's effective permissions at the
/// subscription being `sets` (its group does not exist yet).
fn planned_with_permissions(sets: exai_model::permissions::ScopePermissions) -> Planned {
    let spec = spec(SPEC);
    let desired = spec.desired_state(Some("perso")).expect("perso");
    let mut live = exai_model::LiveState::new();
    for resource in &desired.resources {
        live.insert(resource.address.clone(), exai_model::Observation::Absent);
    }
    live.insert_permissions(
        &exai_model::ResourceId::resource_group(DEV_SUBSCRIPTION_ID, "exai-perso-rg"),
        exai_model::permissions::ScopePermissions::Absent,
    );
    live.insert_permissions(&exai_model::ResourceId::subscription(DEV_SUBSCRIPTION_ID), sets);
    let plan = exai_planner::plan(&desired, &live).expect("a plan");
    Planned { desired, live, base: ".".into(), plan, keys: Vec::new(), declared: Default::default(), notes: Vec::new() }
}

fn role(name: &str) -> exai_model::permissions::PermissionSet {
    exai_model::permissions::BUILTIN_ROLES.iter().find(|r| r.name == name).expect("a built-in role").permission_set()
}

#[test]
fn apply_refuses_a_plan_its_caller_is_not_allowed_to_carry_out_naming_each_action() {
    use exai_model::permissions::ScopePermissions;
    let reader = planned_with_permissions(ScopePermissions::Read { sets: vec![role("Reader")] });
    let refusal = reader.check_unsafe(false).unwrap_err();
    assert!(matches!(&refusal, Refusal::Permissions { findings, .. } if findings.len() == 2), "{refusal:?}");
    assert_eq!(refusal.message(), "2 changes need actions this identity is not granted: Azure would refuse them");
    let sub = format!("/subscriptions/{DEV_SUBSCRIPTION_ID}");
    assert_eq!(
        refusal.details(),
        [
            format!(
                "perso.resourceGroup needs Microsoft.Resources/subscriptions/resourceGroups/write on `{sub}/resourceGroups/exai-perso-rg`: Reader does not grant it; Contributor or Owner do"
            ),
            format!(
                "perso.registry needs Microsoft.ContainerRegistry/registries/write on `{sub}/resourceGroups/exai-perso-rg/providers/Microsoft.ContainerRegistry/registries/exaipersoacr`: Reader does not grant it; Contributor or Owner do"
            ),
        ]
    );
    assert!(refusal.hint().ends_with("nothing was changed"));

    let contributor = planned_with_permissions(ScopePermissions::Read { sets: vec![role("Contributor")] });
    assert!(contributor.check_unsafe(false).is_ok());
    assert!(contributor.check_permissions(true).is_ok());

    // Permissions that could not be read refuse only what requires them to be checked.
    let unknown = planned_with_permissions(ScopePermissions::Unknown { reason: "403".into() });
    assert!(unknown.check_unsafe(false).is_ok());
    let refusal = unknown.check_permissions(true).unwrap_err();
    assert_eq!(refusal.message(), format!("the identity's permissions could not be checked at `{sub}`"));
}

#[tokio::test]
async fn an_environment_whose_kubernetes_checks_fail_is_refused_and_the_refusal_names_it() {
    let world = World::start().await;
    // `perso`'s overlay is not there: an error of its checks (the checks themselves are
    // exai-kube's; here, what the session decides with them).
    let text = SPEC.replace(
        "    registry: { name: exaipersoacr, sku: Standard }\n",
        "    registry: { name: exaipersoacr, sku: Standard }\n    kubernetes: { overlay: k8s/overlays/azure, namespace: exai }\n",
    );
    let file = world.dir.path().join("exai.yaml");
    let prepared = Prepared::new(&spec(&text), &file, &digest(), None, SystemTime::now()).expect("prepared");
    let planned = prepared.plan(&world.client).await.expect("a plan");
    assert_eq!(planned.plan.checks.len(), 1, "only `perso` declares `kubernetes:`");
    assert_eq!(planned.plan.checks[0].findings[0].code, "overlay-not-found");
    let refusal = planned.check_kubernetes().unwrap_err();
    assert!(matches!(&refusal, Refusal::Checks { failed, .. } if failed == &["perso"]), "{refusal:?}");
    assert_eq!(refusal.message(), "the Kubernetes checks of `perso` found 1 error: the deploy would fail");
    assert!(refusal.hint().contains("apply `prod` alone (`--env prod`)"), "{}", refusal.hint());
    assert!(matches!(planned.check_unsafe(true), Err(Refusal::Checks { .. })), "apply refuses it too");

    // An environment without `kubernetes:` is not held back by another's checks when planned alone.
    let prod = Prepared::new(&spec(&text), &file, &digest(), Some("prod"), SystemTime::now()).expect("prepared");
    let prod = prod.plan(&world.client).await.expect("a plan");
    assert!(prod.plan.checks.is_empty());
    assert!(prod.check_unsafe(false).is_ok());
    world.emulator.shutdown().await.expect("the emulator stops");
}
