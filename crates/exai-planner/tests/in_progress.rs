//! The planner's rule for Azure's provisioning states: an operation still running is a change
//! (`wait`), never a no-op; a failed one is repaired; a finished one is judged by its fields.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use exai_model::kinds::ResourceGroup;
use exai_model::{
    Address, DesiredResource, DesiredSpec, DesiredState, LiveResource, LiveState, Location, Method, Observation,
    ResourceId, Tags,
};
use exai_planner::{Action, Change, InProgress, Operation, plan};
use serde_json::{Value, json};

const SUB: &str = "ee000000-0000-4000-8000-000000000002";

fn desired() -> DesiredState {
    let address = Address::new("perso", "resourceGroup");
    let tags: Tags = [("project".to_owned(), "exai".to_owned())].into_iter().collect();
    let rg =
        ResourceGroup::new(SUB, "exai-perso-rg", Location::parse("francecentral").unwrap(), tags, address.as_str());
    let resource =
        DesiredResource { address, depends_on: vec![], protect: false, spec: DesiredSpec::ResourceGroup(rg) };
    DesiredState { tenant: "t".into(), resources: vec![resource] }
}

/// The group as Azure answers a GET, its fields as the spec wants them, in `state`.
fn group_in(state: &str, project: &str) -> Value {
    json!({
        "id": format!("/subscriptions/{SUB}/resourceGroups/exai-perso-rg"),
        "name": "exai-perso-rg",
        "type": "Microsoft.Resources/resourceGroups",
        "location": "francecentral",
        "tags": {"project": project, "exai-owner": "perso.resourceGroup"},
        "properties": {"provisioningState": state}
    })
}

fn planned(document: Value) -> Change {
    let mut live = LiveState::new();
    let id = ResourceId::parse(document["id"].as_str().unwrap()).unwrap();
    live.insert(Address::new("perso", "resourceGroup"), Observation::Present(LiveResource { id, document }));
    plan(&desired(), &live).unwrap().resource_changes.remove(0)
}

#[test]
fn every_non_terminal_state_is_a_wait_naming_the_operation() {
    let cases = [
        ("Creating", Operation::Creating, "creating in Azure"),
        ("creating", Operation::Creating, "creating in Azure"),
        ("Updating", Operation::Updating, "updating in Azure"),
        ("Deleting", Operation::Deleting, "deleting in Azure"),
        ("Accepted", Operation::Updating, "updating in Azure"),
        ("Provisioning", Operation::Updating, "updating in Azure"),
        ("Upgrading", Operation::Updating, "updating in Azure"),
    ];
    for (state, operation, phrase) in cases {
        let change = planned(group_in(state, "exai"));
        assert_eq!(change.action, Action::Wait, "{state}");
        assert_eq!(change.in_progress, Some(InProgress { operation, provisioning_state: state.to_owned() }), "{state}");
        assert_eq!(operation.phrase(), phrase);
        let then = if operation == Operation::Deleting { "creates it again" } else { "checks the fields again" };
        assert_eq!(
            change.reason.as_deref(),
            Some(
                format!("Azure reports provisioningState `{state}`; apply waits for it to finish, then {then}")
                    .as_str()
            )
        );
        // What apply sends while waiting: the resource's own GET, polled; no write.
        let methods: Vec<Method> = change.requests.iter().map(|r| r.method).collect();
        assert_eq!(methods, [Method::Get], "{state}");
        assert!(change.diffs.is_empty(), "{state}: {:?}", change.diffs);
    }
}

#[test]
fn a_wait_still_shows_the_fields_that_differ_now() {
    let change = planned(group_in("Updating", "other"));
    assert_eq!(change.action, Action::Wait);
    let paths: Vec<&str> = change.diffs.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(paths, ["tags.project"]);
}

#[test]
fn a_wait_makes_the_plan_a_change() {
    let mut live = LiveState::new();
    let document = group_in("Creating", "exai");
    let id = ResourceId::parse(document["id"].as_str().unwrap()).unwrap();
    live.insert(Address::new("perso", "resourceGroup"), Observation::Present(LiveResource { id, document }));
    let p = plan(&desired(), &live).unwrap();
    assert_eq!(p.summary.wait, 1);
    assert!(!p.summary.is_empty());
}

#[test]
fn terminal_states_are_judged_by_their_fields_and_a_failure_is_repaired() {
    assert_eq!(planned(group_in("Succeeded", "exai")).action, Action::NoOp);
    assert_eq!(planned(group_in("Canceled", "exai")).action, Action::NoOp);
    let failed = planned(group_in("Failed", "exai"));
    assert_eq!(failed.action, Action::Update);
    assert_eq!(failed.in_progress, None);
    assert_eq!(
        failed.reason.as_deref(),
        Some("its last operation failed (provisioningState `Failed`); apply sends it again")
    );
    let methods: Vec<Method> = failed.requests.iter().map(|r| r.method).collect();
    assert_eq!(methods, [Method::Put], "the PUT is sent again");
}

#[test]
fn a_document_without_a_provisioning_state_is_not_in_progress() {
    assert_eq!(InProgress::of(&json!({"id": "/applications/x"})), None);
    assert_eq!(InProgress::of(&json!({"properties": {"provisioningState": "Succeeded"}})), None);
}
