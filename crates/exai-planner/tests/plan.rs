//! Table-driven planner tests: desired × live → plan, with no I/O.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use exai_model::kinds::ResourceGroup;
use exai_model::{
    Address, DesiredResource, DesiredSpec, DesiredState, LiveResource, LiveState, Location, Observation, Tags,
};
use exai_planner::{Action, PlanError, plan, render_text};
use serde_json::{Value, json};

const SUB: &str = "ee000000-0000-4000-8000-000000000002";

fn desired(location: &str, tags: &[(&str, &str)]) -> DesiredState {
    let address = Address::new("perso", "resourceGroup");
    let tags: Tags = tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let rg = ResourceGroup::new(SUB, "exai-perso-rg", Location::parse(location).unwrap(), tags, address.as_str());
    DesiredState {
        tenant: "t".into(),
        resources: vec![DesiredResource {
            address,
            depends_on: vec![],
            protect: false,
            spec: DesiredSpec::ResourceGroup(rg),
        }],
    }
}

fn live(document: Option<Value>) -> LiveState {
    let mut state = LiveState::new();
    let observation = match document {
        None => Observation::Absent,
        Some(document) => Observation::Present(LiveResource {
            id: exai_model::ResourceId::parse(document["id"].as_str().unwrap()).unwrap(),
            document,
        }),
    };
    state.insert(Address::new("perso", "resourceGroup"), observation);
    state
}

/// A GET response as Azure writes it: display-form region, camel-cased id, extra tags.
fn azure_rg(location: &str, tags: Value) -> Value {
    json!({
        "id": format!("/subscriptions/{SUB}/resourceGroups/exai-perso-rg"),
        "name": "exai-perso-rg",
        "type": "Microsoft.Resources/resourceGroups",
        "location": location,
        "tags": tags,
        "properties": { "provisioningState": "Succeeded" }
    })
}

fn text(plan: &exai_planner::Plan) -> String {
    let mut out = Vec::new();
    render_text(plan, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn absent_group_is_created_with_its_tags_and_owner() {
    let p = plan(&desired("francecentral", &[("project", "exai")]), &live(None)).unwrap();
    let c = &p.resource_changes[0];
    assert_eq!(c.action, Action::Create);
    assert_eq!(c.requests.len(), 1);
    assert_eq!(p.summary.add, 1);
    insta::assert_snapshot!(text(&p));
}

#[test]
fn matching_group_is_a_no_op_despite_casing_region_form_and_foreign_tags() {
    let tags = json!({"Project": "exai", "exai-owner": "perso.resourceGroup", "costCenter": "42"});
    let p =
        plan(&desired("francecentral", &[("project", "exai")]), &live(Some(azure_rg("France Central", tags)))).unwrap();
    let c = &p.resource_changes[0];
    assert_eq!(c.action, Action::NoOp, "{:?}", c.diffs);
    assert!(c.requests.is_empty());
    assert_eq!(c.observed["tags.costCenter"], "42");
    assert!(p.summary.is_empty());
    insta::assert_snapshot!(text(&p));
}

#[test]
fn changed_tag_is_an_in_place_update_of_exactly_that_tag() {
    let tags = json!({"project": "exai", "exai-owner": "perso.resourceGroup", "costCenter": "42"});
    let p =
        plan(&desired("francecentral", &[("project", "exai2")]), &live(Some(azure_rg("francecentral", tags)))).unwrap();
    let c = &p.resource_changes[0];
    assert_eq!(c.action, Action::Update);
    assert_eq!(c.diffs.len(), 1);
    assert_eq!(c.diffs[0].path, "tags.project");
    let body = c.requests[0].body.as_ref().unwrap();
    assert_eq!(body["tags"]["costCenter"], "42", "foreign tags are kept");
    assert_eq!(body["tags"]["project"], "exai2");
    insta::assert_snapshot!(text(&p));
}

#[test]
fn location_change_is_a_replace_that_names_the_field() {
    let tags = json!({"project": "exai", "exai-owner": "perso.resourceGroup"});
    let p = plan(&desired("westeurope", &[("project", "exai")]), &live(Some(azure_rg("francecentral", tags)))).unwrap();
    let c = &p.resource_changes[0];
    assert_eq!(c.action, Action::Replace);
    assert!(c.reason.as_deref().unwrap().contains("`location`"));
    assert!(c.warning.is_some());
    let methods: Vec<_> = c.requests.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, ["DELETE", "PUT"]);
    insta::assert_snapshot!(text(&p));
}

#[test]
fn adopting_a_hand_made_group_adds_only_the_missing_tags() {
    let p = plan(&desired("francecentral", &[]), &live(Some(azure_rg("francecentral", json!(null))))).unwrap();
    let c = &p.resource_changes[0];
    assert_eq!(c.action, Action::Update);
    let paths: Vec<_> = c.diffs.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(paths, ["tags.exai-owner"]);
}

#[test]
fn a_resource_that_was_not_read_is_an_error_not_a_no_op() {
    let err = plan(&desired("francecentral", &[]), &LiveState::new()).unwrap_err();
    assert!(matches!(err, PlanError::NotObserved { .. }));
}

#[test]
fn fingerprint_ignores_unowned_churn() {
    let d = desired("francecentral", &[("project", "exai")]);
    let a = azure_rg("francecentral", json!({"project": "exai", "exai-owner": "perso.resourceGroup"}));
    let mut b = a.clone();
    b["properties"]["provisioningState"] = json!("Updating");
    b["tags"]["addedByPolicy"] = json!("yes");
    let fa = plan(&d, &live(Some(a))).unwrap().resource_changes[0].fingerprint.clone();
    let fb = plan(&d, &live(Some(b))).unwrap().resource_changes[0].fingerprint.clone();
    assert!(fa.is_some());
    assert_eq!(fa, fb);
}

#[test]
fn a_resource_whose_last_operation_failed_is_sent_again() {
    let mut document = azure_rg("francecentral", json!({"project": "exai", "exai-owner": "perso.resourceGroup"}));
    document["properties"]["provisioningState"] = json!("Failed");
    let p = plan(&desired("francecentral", &[("project", "exai")]), &live(Some(document))).unwrap();
    let c = &p.resource_changes[0];
    assert_eq!(c.action, Action::Update);
    assert!(c.diffs.is_empty());
    assert!(c.reason.as_deref().unwrap().contains("Failed"));
    assert_eq!(c.requests[0].method.as_str(), "PUT");
}

/// A plan built from changes (as tests and tools build one) counts them as `plan` does: each by
/// its action, a protected orphan kept as unchanged.
#[test]
fn a_plan_of_changes_counts_each_by_its_action() {
    use exai_planner::{Change, Plan, Summary};
    let actions =
        [Action::NoOp, Action::Create, Action::Update, Action::Replace, Action::Delete, Action::Wait, Action::Create];
    let changes = actions
        .iter()
        .enumerate()
        .map(|(i, &a)| Change::new(Address::new("perso", &format!("r{i}")), "T/t", a))
        .collect();
    let p = Plan::new(changes);
    assert_eq!(p.summary, Summary { add: 2, change: 1, replace: 1, destroy: 1, unchanged: 1, wait: 1, read: 0 });
    assert_eq!(p.format_version, exai_planner::FORMAT_VERSION);
    assert!(p.spec.is_none() && p.environments.is_empty());
}
