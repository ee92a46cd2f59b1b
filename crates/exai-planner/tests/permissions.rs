//! The permission check of a plan: desired × live × the caller's effective permissions →
//! findings, with no I/O. The permission sets are the built-in roles' documented definitions.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use exai_model::kinds::{PrincipalRef, ResourceGroup, RoleAssignment};
use exai_model::permissions::{BUILTIN_ROLES, ScopePermissions};
use exai_model::{
    Address, DesiredResource, DesiredSpec, DesiredState, LiveState, Location, Mark, Observation, ResourceId, Tags,
};
use exai_planner::{MarkdownOptions, Plan, plan, render_markdown, render_text};

const SUB: &str = "ee000000-0000-4000-8000-000000000002";
const ACR_PULL: &str = "7f951dda-4ed3-4680-a7ca-43fe172d538d";

fn address(path: &str) -> Address {
    Address::new("perso", path)
}

fn registry() -> ResourceId {
    ResourceId::in_group(SUB, "exai-perso-rg", "Microsoft.ContainerRegistry/registries", "exaipersoacr")
}

/// A resource group and the cluster's AcrPull assignment on the registry, neither created yet.
fn desired() -> DesiredState {
    let group = ResourceGroup::new(
        SUB,
        "exai-perso-rg",
        Location::parse("francecentral").unwrap(),
        Tags::default(),
        "perso.resourceGroup",
    );
    let pull = RoleAssignment::new(
        registry(),
        ACR_PULL,
        PrincipalRef { from: address("cluster"), field: "properties.identityProfile.kubeletidentity.objectId".into() },
        Mark::new("my-org/exai", &address("cluster.acr-pull"), false),
    );
    let resource =
        |path: &str, spec| DesiredResource { address: address(path), depends_on: vec![], protect: false, spec };
    DesiredState {
        tenant: "t".into(),
        resources: vec![
            resource("resourceGroup", DesiredSpec::ResourceGroup(group)),
            resource("cluster.acr-pull", DesiredSpec::RoleAssignment(pull)),
        ],
    }
}

fn role(name: &str) -> exai_model::permissions::PermissionSet {
    BUILTIN_ROLES.iter().find(|r| r.name == name).unwrap().permission_set()
}

/// Nothing exists; the group's permission read says it does not exist (as ARM answers for a
/// group not created yet), and the subscription's answers `subscription`.
fn live(subscription: ScopePermissions) -> LiveState {
    let mut live = LiveState::new();
    live.insert(address("resourceGroup"), Observation::Absent);
    live.insert(address("cluster.acr-pull"), Observation::Absent);
    live.insert_permissions(&ResourceId::resource_group(SUB, "exai-perso-rg"), ScopePermissions::Absent);
    live.insert_permissions(&ResourceId::subscription(SUB), subscription);
    live
}

fn text(plan: &Plan) -> String {
    let mut out = Vec::new();
    render_text(plan, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn a_contributor_cannot_create_the_acr_pull_assignment_and_is_told_which_roles_can() {
    let plan = plan(&desired(), &live(ScopePermissions::Read { sets: vec![role("Contributor")] })).unwrap();
    let check = plan.permissions.as_ref().unwrap();
    assert_eq!(check.findings.len(), 1, "{check:#?}");
    let finding = &check.findings[0];
    assert_eq!(finding.address, address("cluster.acr-pull"));
    assert_eq!(finding.action, "Microsoft.Authorization/roleAssignments/write");
    assert_eq!(finding.scope, registry());
    assert_eq!(finding.checked_at, ResourceId::subscription(SUB));
    assert_eq!(
        finding.hint,
        "Contributor does not grant it; Role Based Access Control Administrator (conditions: AcrPull only) or User Access Administrator do"
    );
    insta::assert_snapshot!("contributor_text", text(&plan));
    insta::assert_snapshot!("contributor_markdown", render_markdown(&plan, &MarkdownOptions::default()));
    insta::assert_json_snapshot!("contributor_json", plan.permissions);
}

#[test]
fn a_second_role_that_grants_the_action_clears_the_finding() {
    let sets = vec![role("Contributor"), role("Role Based Access Control Administrator")];
    let plan = plan(&desired(), &live(ScopePermissions::Read { sets })).unwrap();
    assert_eq!(plan.permissions, Some(Default::default()));
    assert!(!text(&plan).contains("Permissions"), "{}", text(&plan));
}

#[test]
fn a_reader_is_denied_every_write_and_an_identity_without_roles_is_told_so() {
    let plan = plan(&desired(), &live(ScopePermissions::Read { sets: vec![role("Reader")] })).unwrap();
    let found: Vec<(String, String)> =
        plan.permissions.unwrap().findings.into_iter().map(|f| (f.address.to_string(), f.action)).collect();
    assert_eq!(
        found,
        [
            ("perso.resourceGroup".to_owned(), "Microsoft.Resources/subscriptions/resourceGroups/write".to_owned()),
            ("perso.cluster.acr-pull".to_owned(), "Microsoft.Authorization/roleAssignments/write".to_owned()),
        ]
    );
    let plan = plan_of(ScopePermissions::Read { sets: vec![] });
    let finding = &plan.permissions.unwrap().findings[0];
    assert_eq!(
        finding.hint,
        format!("the identity has no role at `/subscriptions/{SUB}` or above; Contributor or Owner do")
    );
}

fn plan_of(subscription: ScopePermissions) -> Plan {
    plan(&desired(), &live(subscription)).unwrap()
}

#[test]
fn permissions_that_could_not_be_read_are_said_not_assumed() {
    let plan = plan_of(ScopePermissions::Unknown { reason: "GET ...: 403 AuthorizationFailed: no".into() });
    let check = plan.permissions.as_ref().unwrap();
    assert!(check.findings.is_empty());
    assert_eq!(check.unchecked.len(), 1);
    assert_eq!(check.unchecked[0].addresses, [address("resourceGroup"), address("cluster.acr-pull")]);
    assert!(!check.checked(&address("resourceGroup")));
    insta::assert_snapshot!("unchecked_text", text(&plan));
}

#[test]
fn a_plan_made_without_reading_permissions_claims_no_check() {
    let mut live = LiveState::new();
    live.insert(address("resourceGroup"), Observation::Absent);
    live.insert(address("cluster.acr-pull"), Observation::Absent);
    let plan = plan(&desired(), &live).unwrap();
    assert_eq!(plan.permissions, None);
    assert!(!serde_json::to_string(&plan).unwrap().contains("permissions"));
}

#[test]
fn a_subscription_azure_says_does_not_exist_leaves_the_changes_unchecked_not_granted() {
    let plan = plan_of(ScopePermissions::Absent);
    let check = plan.permissions.unwrap();
    assert!(check.findings.is_empty());
    assert_eq!(check.unchecked.len(), 1);
    assert_eq!(check.unchecked[0].reason, format!("Azure answered that `/subscriptions/{SUB}` does not exist"));
}
