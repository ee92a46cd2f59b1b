//! Planner tests for ownership marks: which spec owns an object, migration of earlier marks, and
//! protection written on the object. Desired × live → plan, with no I/O.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use exai_model::kinds::{
    ClientSecret, FEDERATION_AUDIENCE, FederatedCredential, GITHUB_ISSUER, PrincipalRef, ResourceGroup, RoleAssignment,
};
use exai_model::{
    Address, DesiredResource, DesiredSpec, DesiredState, LiveResource, LiveState, Location, Mark, Observation,
    ResourceId, Tags, owned_in_scan,
};
use exai_planner::{Action, PlanError, plan};
use serde_json::{Value, json};

const SUB: &str = "ee000000-0000-4000-8000-000000000002";
const SPEC: &str = "my-org/exai";
const APP: &str = "03ef14b0-ca33-4840-8f4f-d6e91916010e";

fn address(path: &str) -> Address {
    Address::new("perso", path)
}

fn mark(path: &str, protect: bool) -> Mark {
    Mark::new(SPEC, &address(path), protect)
}

fn rg_id() -> ResourceId {
    ResourceId::resource_group(SUB, "exai-perso-rg")
}

/// The resource group of `perso`, marked by this spec, protected as `protect` says.
fn desired_rg(protect: bool) -> DesiredState {
    let tags: Tags = [("project".to_owned(), "exai".to_owned())].into_iter().collect();
    let rg = ResourceGroup::new(
        SUB,
        "exai-perso-rg",
        Location::parse("francecentral").unwrap(),
        tags,
        &mark("resourceGroup", protect).tag_value(),
    );
    DesiredState {
        tenant: "t".into(),
        resources: vec![DesiredResource {
            address: address("resourceGroup"),
            depends_on: vec![],
            protect,
            spec: DesiredSpec::ResourceGroup(rg),
        }],
    }
}

/// The group as Azure answers it, its `exai-owner` tag `owner` (none when `None`).
fn live_rg(owner: Option<&str>, location: &str) -> LiveState {
    let mut tags = json!({"project": "exai"});
    if let Some(owner) = owner {
        tags["exai-owner"] = json!(owner);
    }
    let document = json!({
        "id": rg_id().as_str(), "name": "exai-perso-rg", "type": "Microsoft.Resources/resourceGroups",
        "location": location, "tags": tags, "properties": {"provisioningState": "Succeeded"}
    });
    let mut live = LiveState::new();
    live.insert(address("resourceGroup"), Observation::Present(LiveResource { id: rg_id(), document }));
    live
}

fn owner_diff(change: &exai_planner::Change) -> (Option<Value>, Option<Value>) {
    let d = change.diffs.iter().find(|d| d.path == "tags.exai-owner").unwrap();
    (d.before.clone(), d.after.clone())
}

#[test]
fn an_object_another_spec_owns_is_refused_naming_that_spec_and_address() {
    let err = plan(&desired_rg(false), &live_rg(Some("team-b:team2.resourceGroup"), "francecentral")).unwrap_err();
    let PlanError::OwnedElsewhere { conflicts } = &err else { panic!("{err:?}") };
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].address, address("resourceGroup"));
    assert_eq!(conflicts[0].owner, Mark::new("team-b", &Address::new("team2", "resourceGroup"), false));
    assert_eq!(
        err.to_string(),
        format!(
            "1 object declared in this spec is owned elsewhere: `perso.resourceGroup` is `{}`, which belongs to `team2.resourceGroup` of spec `team-b`",
            rg_id()
        )
    );
    assert_eq!(
        err.hint(),
        format!(
            "nothing was changed; if the object should move to this spec, release it deliberately: `az tag update --resource-id {} --operation Delete --tags 'exai-owner=team-b:team2.resourceGroup'`, then plan again (an object with no mark is adopted); otherwise give this spec's block another name",
            rg_id()
        )
    );
}

#[test]
fn the_same_address_under_another_spec_id_suggests_keeping_the_earlier_id() {
    let err =
        plan(&desired_rg(false), &live_rg(Some("my-org/exai-old:perso.resourceGroup"), "francecentral")).unwrap_err();
    assert!(
        err.hint().starts_with(
            "nothing was changed; if `my-org/exai-old` is this spec's earlier id (a spec without `name` is named after its first GitHub repository), set `name: my-org/exai-old` at the top of the spec; if the object should move"
        ),
        "{}",
        err.hint()
    );
}

#[test]
fn the_same_spec_under_another_address_and_an_old_mark_of_another_address_are_refused_too() {
    for owner in ["my-org/exai:prod.resourceGroup", "team2.resourceGroup"] {
        let err = plan(&desired_rg(false), &live_rg(Some(owner), "francecentral")).unwrap_err();
        assert!(matches!(err, PlanError::OwnedElsewhere { .. }), "{owner}: {err:?}");
    }
}

#[test]
fn spec_ids_are_compared_ignoring_case() {
    let p = plan(&desired_rg(false), &live_rg(Some("My-Org/EXAI:perso.resourceGroup"), "francecentral")).unwrap();
    assert_eq!(p.resource_changes[0].action, Action::Update, "the mark is rewritten in the spec's spelling");
}

#[test]
fn an_unmarked_object_is_adopted_by_writing_the_mark_and_the_plan_says_so() {
    let p = plan(&desired_rg(false), &live_rg(None, "francecentral")).unwrap();
    let c = &p.resource_changes[0];
    assert_eq!(c.action, Action::Update);
    assert_eq!(owner_diff(c), (None, Some(json!("my-org/exai:perso.resourceGroup"))));
    // Said, so the review of a spec `exai init --from-azure` wrote explains each change.
    assert_eq!(
        c.reason.as_deref(),
        Some("it has no ownership mark (made outside exai): apply adopts it by writing the mark")
    );
}

#[test]
fn an_earlier_exai_mark_is_migrated_and_the_plan_says_why() {
    let p = plan(&desired_rg(false), &live_rg(Some("perso.resourceGroup"), "francecentral")).unwrap();
    let c = &p.resource_changes[0];
    assert_eq!(c.action, Action::Update);
    assert_eq!(owner_diff(c), (Some(json!("perso.resourceGroup")), Some(json!("my-org/exai:perso.resourceGroup"))));
    assert_eq!(
        c.reason.as_deref(),
        Some(
            "its ownership mark names no spec (an earlier exai wrote it): apply rewrites it to name spec `my-org/exai`"
        )
    );
    assert_eq!(c.requests[0].body.as_ref().unwrap()["tags"]["exai-owner"], "my-org/exai:perso.resourceGroup");
    // Once rewritten, nothing changes.
    let p = plan(&desired_rg(false), &live_rg(Some("my-org/exai:perso.resourceGroup"), "francecentral")).unwrap();
    assert!(p.summary.is_empty(), "{:?}", p.resource_changes[0].diffs);
}

#[test]
fn protection_is_written_on_the_object_and_only_an_applied_false_lifts_it() {
    let p = plan(&desired_rg(true), &live_rg(Some("my-org/exai:perso.resourceGroup"), "francecentral")).unwrap();
    let c = &p.resource_changes[0];
    assert_eq!(owner_diff(c).1, Some(json!("my-org/exai:perso.resourceGroup:protect")));
    assert!(c.reason.as_deref().unwrap().starts_with("`protect: true` is written into its ownership mark"));

    let p =
        plan(&desired_rg(false), &live_rg(Some("my-org/exai:perso.resourceGroup:protect"), "francecentral")).unwrap();
    let c = &p.resource_changes[0];
    assert_eq!(c.action, Action::Update);
    assert_eq!(c.reason.as_deref(), Some("`protect: false` lifts the protection written in its ownership mark"));
    assert!(c.protect, "still protected until the lift is applied");
}

#[test]
fn a_replacement_of_an_object_protected_by_its_mark_is_marked_protected() {
    let live = live_rg(Some("my-org/exai:perso.resourceGroup:protect"), "westeurope");
    let p = plan(&desired_rg(false), &live).unwrap();
    let c = &p.resource_changes[0];
    assert_eq!(c.action, Action::Replace);
    assert!(c.protect, "apply refuses it (`exai_executor::refuse_unsafe`)");
}

/// `perso`'s group, and a resource group scan that found `registries`, each `(name, owner tag)`.
fn with_scan(registries: &[(&str, &str)]) -> (DesiredState, LiveState) {
    let mut live = live_rg(Some("my-org/exai:perso.resourceGroup"), "francecentral");
    let items: Vec<Value> = registries
        .iter()
        .map(|(name, owner)| {
            json!({
                "id": format!("{}/providers/Microsoft.ContainerRegistry/registries/{name}", rg_id()),
                "type": "Microsoft.ContainerRegistry/registries", "location": "francecentral",
                "tags": {"exai-owner": owner}
            })
        })
        .collect();
    for object in owned_in_scan(&json!({ "value": items })) {
        live.insert_owned(object);
    }
    (desired_rg(false), live)
}

#[test]
fn an_owned_object_that_left_the_spec_is_deleted_unless_its_mark_protects_it() {
    let (desired, live) = with_scan(&[
        ("gone", "my-org/exai:perso.registry"),
        ("kept", "my-org/exai:perso.monitoring:protect"),
        ("old", "perso.cluster"),
    ]);
    let p = plan(&desired, &live).unwrap();
    let by = |address: &str| p.resource_changes.iter().find(|c| c.address.as_str() == address).unwrap();
    assert_eq!(by("perso.registry").action, Action::Delete);
    assert_eq!(by("perso.cluster").action, Action::Delete, "an earlier exai's mark in a planned environment");
    let kept = by("perso.monitoring");
    assert_eq!(kept.action, Action::NoOp);
    assert!(kept.protect);
    assert!(kept.requests.is_empty());
    assert_eq!(
        kept.reason.as_deref(),
        Some(
            "no longer in the spec, but kept: its ownership mark says it is protected, whatever `--allow-delete` says; to delete it, declare it again with `protect: false`, apply, then remove it"
        )
    );
    assert_eq!((p.summary.destroy, p.summary.unchanged), (2, 2));
}

#[test]
fn another_spec_objects_found_along_the_way_are_never_deleted() {
    let (desired, live) = with_scan(&[("theirs", "team-b:perso.registry"), ("other-env", "my-org/exai:prod.registry")]);
    let p = plan(&desired, &live).unwrap();
    assert_eq!(p.resource_changes.len(), 1, "{:#?}", p.resource_changes);
    assert!(p.summary.is_empty());
}

fn graph_state(resource: DesiredResource, document: Value, id: &str) -> (DesiredState, LiveState) {
    let mut live = LiveState::new();
    let app = json!({"id": APP, "appId": "631a96bc-a705-4eda-9f99-fdaf9f54f6a2"});
    live.insert(
        address("deployer.app"),
        Observation::Present(LiveResource { id: ResourceId::graph(format!("/applications/{APP}")), document: app }),
    );
    let id = ResourceId::graph(id);
    live.insert(resource.address.clone(), Observation::Present(LiveResource { id, document }));
    (DesiredState { tenant: "t".into(), resources: vec![resource] }, live)
}

fn credential() -> DesiredResource {
    let path = "deployer.federated.github-pull-request";
    DesiredResource {
        address: address(path),
        depends_on: vec![],
        protect: false,
        spec: DesiredSpec::FederatedCredential(FederatedCredential {
            address: address(path),
            mark: mark(path, false),
            application: address("deployer.app"),
            name: "github-pull-request".into(),
            issuer: GITHUB_ISSUER.into(),
            subject: "repo:my-org/exai:pull_request".into(),
            audiences: vec![FEDERATION_AUDIENCE.into()],
        }),
    }
}

fn credential_document(description: &str) -> Value {
    json!({
        "id": "bdad0963-4a7a-43ae-b569-e67e1da3f2c0", "name": "github-pull-request", "issuer": GITHUB_ISSUER,
        "subject": "repo:my-org/exai:pull_request", "audiences": [FEDERATION_AUDIENCE], "description": description
    })
}

#[test]
fn federated_credentials_follow_the_same_rules() {
    let id = format!("/applications/{APP}/federatedIdentityCredentials/bdad0963-4a7a-43ae-b569-e67e1da3f2c0");
    let (d, live) = graph_state(
        credential(),
        credential_document("exai-owner:team-b:team2.deployer.federated.github-pull-request"),
        &id,
    );
    let err = plan(&d, &live).unwrap_err();
    assert!(err.to_string().contains("of spec `team-b`"), "{err}");
    assert!(
        err.hint()
            .contains("remove `exai-owner:team-b:team2.deployer.federated.github-pull-request` from the description")
    );

    let (d, live) =
        graph_state(credential(), credential_document("exai-owner:perso.deployer.federated.github-pull-request"), &id);
    let p = plan(&d, &live).unwrap();
    let c = &p.resource_changes[0];
    assert_eq!(c.action, Action::Update);
    assert!(c.reason.as_deref().unwrap().starts_with("its ownership mark names no spec"));
    assert_eq!(
        c.requests[0].body.as_ref().unwrap()["description"],
        "exai-owner:my-org/exai:perso.deployer.federated.github-pull-request"
    );
}

#[test]
fn role_assignments_follow_the_same_rules() {
    let principal = PrincipalRef { from: address("deployer.sp"), field: "id".into() };
    let role = RoleAssignment::new(
        ResourceId::subscription(SUB),
        "b24988ac-6180-42a0-ab88-20f7382dd24c",
        principal,
        mark("deployer.role", false),
    );
    let document = |description: &str| {
        json!({"id": role.id().as_str(), "name": role.name, "properties": {
            "roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c",
            "principalId": "00af5dfb-85da-4b41-a677-0c6b86dd34f8", "principalType": "ServicePrincipal",
            "scope": format!("/subscriptions/{SUB}"), "description": description
        }})
    };
    let state = |description: &str| {
        let mut live = LiveState::new();
        let sp = json!({"id": "00af5dfb-85da-4b41-a677-0c6b86dd34f8"});
        live.insert(
            address("deployer.sp"),
            Observation::Present(LiveResource { id: ResourceId::graph("/servicePrincipals/x"), document: sp }),
        );
        live.insert(
            address("deployer.role"),
            Observation::Present(LiveResource { id: role.id(), document: document(description) }),
        );
        let resource = DesiredResource {
            address: address("deployer.role"),
            depends_on: vec![],
            protect: false,
            spec: DesiredSpec::RoleAssignment(role.clone()),
        };
        (DesiredState { tenant: "t".into(), resources: vec![resource] }, live)
    };
    let (d, live) = state("exai-owner:team-b:team2.deployer.role");
    let err = plan(&d, &live).unwrap_err();
    assert!(err.hint().contains("clear the description"), "{}", err.hint());

    let (d, live) = state("exai-owner:perso.deployer.role");
    let p = plan(&d, &live).unwrap();
    let c = &p.resource_changes[0];
    assert_eq!(c.action, Action::Update, "{:?}", c.diffs);
    assert_eq!(c.requests[0].method.as_str(), "PUT");
    assert_eq!(
        c.requests[0].body.as_ref().unwrap()["properties"]["description"],
        "exai-owner:my-org/exai:perso.deployer.role"
    );

    let (d, live) = state("exai-owner:my-org/exai:perso.deployer.role");
    assert!(plan(&d, &live).unwrap().summary.is_empty());
}

#[test]
fn client_secrets_are_checked_but_their_mark_is_never_rewritten() {
    let path = "deployer.secret";
    let secret = DesiredResource {
        address: address(path),
        depends_on: vec![],
        protect: true,
        spec: DesiredSpec::ClientSecret(ClientSecret {
            address: address(path),
            mark: mark(path, true),
            application: address("deployer.app"),
            expires_in_days: 30,
            end_date_time: None,
            subscription: SUB.into(),
            tenant: "t".into(),
            handover: None,
        }),
    };
    let id = format!("/applications/{APP}/passwordCredentials/f0b0b335-1d71-4883-8f98-567911bfdca6");
    let document = |name: &str| json!({"displayName": name, "keyId": "f0b0b335-1d71-4883-8f98-567911bfdca6"});
    let (d, live) = graph_state(secret.clone(), document("exai-owner:team-b:perso.deployer.secret"), &id);
    assert!(matches!(plan(&d, &live).unwrap_err(), PlanError::OwnedElsewhere { .. }));
    // Graph cannot rename a password credential: an earlier mark, or a protection added since,
    // is no change (the secret's text would change with it).
    let (d, live) = graph_state(secret, document("exai-owner:perso.deployer.secret"), &id);
    let p = plan(&d, &live).unwrap();
    assert!(p.summary.is_empty(), "{:?}", p.resource_changes[0].diffs);
}
