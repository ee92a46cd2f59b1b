//! Planner tests for objects the spec references and exai does not own (`{ id }`): read, never
//! written, deleted or counted as a change; a missing one fails the plan. Desired × live → plan,
//! with no I/O.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use exai_model::kinds::{
    DataCollectionRule, DataCollectionRuleAssociation, Reference, ReferencedKind, RegionOf, ResourceGroup,
};
use exai_model::{
    Address, DesiredResource, DesiredSpec, DesiredState, LiveResource, LiveState, Location, Mark, Observation,
    ResourceId, Tags, owned_in_scan,
};
use exai_planner::{Action, MarkdownOptions, PlanError, plan, render_markdown, render_text};
use serde_json::{Value, json};

const SUB: &str = "ee000000-0000-4000-8000-000000000002";
const SPEC: &str = "my-org/exai";

fn workspace_id() -> ResourceId {
    ResourceId::in_group(
        SUB,
        "DefaultResourceGroup-PAR",
        "Microsoft.OperationalInsights/workspaces",
        &format!("DefaultWorkspace-{SUB}-PAR"),
    )
}

fn address(path: &str) -> Address {
    Address::new("perso", path)
}

fn tags(path: &str) -> Tags {
    let mut tags: Tags = [("project".to_owned(), "exai".to_owned())].into_iter().collect();
    tags.insert(exai_model::OWNER_TAG, Mark::new(SPEC, &address(path), false).tag_value());
    tags
}

/// `perso`: its group, the workspace it references (`workspace` the id), and the cluster's
/// data collection rule into that workspace (in the workspace's region, as read) with its
/// association.
fn desired(workspace: ResourceId) -> DesiredState {
    let location = Location::parse("francecentral").unwrap();
    let group_tags: Tags = [("project".to_owned(), "exai".to_owned())].into_iter().collect();
    let owner = Mark::new(SPEC, &address("resourceGroup"), false).tag_value();
    let group = ResourceGroup::new(SUB, "exai-perso-rg", location.clone(), group_tags, &owner);
    let rule = DataCollectionRule {
        subscription: SUB.into(),
        resource_group: "exai-perso-rg".into(),
        name: DataCollectionRule::default_name(&location, "exai-perso-aks"),
        location,
        workspace_id: workspace.clone(),
        tags: tags("cluster.dcr"),
        region_of: Some(RegionOf { workspace: address("monitoring"), cluster: "exai-perso-aks".into() }),
    };
    let cluster =
        ResourceId::in_group(SUB, "exai-perso-rg", "Microsoft.ContainerService/managedClusters", "exai-perso-aks");
    let association = DataCollectionRuleAssociation {
        cluster_id: cluster,
        rule_id: rule.id(),
        rule_region_of: rule.region_of.clone(),
    };
    let reference = Reference { of: ReferencedKind::Workspace, id: workspace };
    let resource = |path: &str, depends_on: &[&str], spec| DesiredResource {
        address: address(path),
        depends_on: depends_on.iter().map(|p| address(p)).collect(),
        protect: false,
        spec,
    };
    DesiredState {
        tenant: "t".into(),
        resources: vec![
            resource("resourceGroup", &[], DesiredSpec::ResourceGroup(group)),
            resource("monitoring", &[], DesiredSpec::Reference(reference)),
            resource("cluster.dcr", &["resourceGroup", "monitoring"], DesiredSpec::DataCollectionRule(rule)),
            resource(
                "cluster.dcr-association",
                &["cluster.dcr"],
                DesiredSpec::DataCollectionRuleAssociation(association),
            ),
        ],
    }
}

/// The workspace's id as ARM answers it, in its own casing.
fn answered_id() -> String {
    workspace_id()
        .as_str()
        .replace("resourceGroups/DefaultResourceGroup-PAR", "resourcegroups/defaultresourcegroup-par")
}

fn present(document: Value) -> Observation {
    let id = ResourceId::parse(document["id"].as_str().unwrap()).unwrap();
    Observation::Present(LiveResource { id, document })
}

/// The workspace `az aks create --enable-addons monitoring` made, as ARM answers it (no mark:
/// exai never made it), and the group.
fn live(rule: Option<Value>) -> LiveState {
    live_in("francecentral", rule, None)
}

/// As [`live`], the workspace in `region` (as ARM spells it), the association as `association`.
fn live_in(region: &str, rule: Option<Value>, association: Option<Value>) -> LiveState {
    let mut live = LiveState::new();
    live.insert(
        address("resourceGroup"),
        present(json!({
            "id": format!("/subscriptions/{SUB}/resourceGroups/exai-perso-rg"), "name": "exai-perso-rg",
            "location": "francecentral", "tags": {"project": "exai", "exai-owner": "my-org/exai:perso.resourceGroup"},
            "properties": {"provisioningState": "Succeeded"}
        })),
    );
    live.insert(
        address("monitoring"),
        present(json!({
            "id": answered_id(),
            "name": format!("DefaultWorkspace-{SUB}-PAR"), "location": region,
            "properties": {"provisioningState": "Succeeded", "retentionInDays": 30, "sku": {"name": "PerGB2018"}}
        })),
    );
    live.insert(address("cluster.dcr"), rule.map_or(Observation::Absent, present));
    live.insert(address("cluster.dcr-association"), association.map_or(Observation::Absent, present));
    live
}

#[test]
fn a_referenced_object_is_read_never_written_and_is_no_change() {
    let p = plan(&desired(workspace_id()), &live(None)).unwrap();
    let read = &p.resource_changes[1];
    assert_eq!((read.address.as_str(), read.action), ("perso.monitoring", Action::Read));
    assert_eq!(read.resource_type, "Microsoft.OperationalInsights/workspaces");
    assert_eq!(read.id.as_ref().map(ResourceId::as_str), Some(answered_id().as_str()), "the id as Azure answered it");
    assert!(read.requests.is_empty() && read.diffs.is_empty() && read.fingerprint.is_none());
    // The rule the environment builds on it is created, into the referenced workspace.
    let rule = &p.resource_changes[2];
    assert_eq!(rule.action, Action::Create);
    let body = rule.requests[0].body.as_ref().unwrap();
    assert_eq!(body["properties"]["destinations"]["logAnalytics"][0]["workspaceResourceId"], workspace_id().as_str());
    assert_eq!((p.summary.add, p.summary.read, p.summary.unchanged), (2, 1, 1));
    assert!(!p.summary.is_empty());

    let mut text = Vec::new();
    render_text(&p, &mut text).unwrap();
    insta::assert_snapshot!("read_text", String::from_utf8(text).unwrap());
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["resource_changes"][1]["action"], "read");
    assert_eq!(json["summary"]["read"], 1);
}

/// Returns the rule and the association as Azure holds them once the plan against a workspace
/// in `region` is applied: the bodies of its creates, with their ids.
fn applied(region: &str) -> (Value, Value) {
    let p = plan(&desired(workspace_id()), &live_in(region, None, None)).unwrap();
    let created = |index: usize| {
        let request = &p.resource_changes[index].requests[0];
        let mut document = request.body.clone().unwrap();
        document["id"] = json!(request.path);
        document["properties"]["provisioningState"] = json!("Succeeded");
        document
    };
    (created(2), created(3))
}

/// A workspace in another region than the environment's: the rule goes in the workspace's
/// region and is named after it, as `az` does, and the association points at that rule.
#[test]
fn the_rule_into_a_referenced_workspace_takes_its_region_as_read() {
    let p = plan(&desired(workspace_id()), &live_in("West Europe", None, None)).unwrap();
    let rule = &p.resource_changes[2];
    let name = "MSCI-westeurope-exai-perso-aks";
    assert_eq!(rule.id.as_ref().unwrap().name(), name);
    assert_eq!(rule.requests[0].path, rule.id.as_ref().unwrap().as_str());
    assert_eq!(rule.requests[0].body.as_ref().unwrap()["location"], "westeurope");
    let association = &p.resource_changes[3];
    let target = association.requests[0].body.as_ref().unwrap()["properties"]["dataCollectionRuleId"].as_str().unwrap();
    assert!(target.ends_with(&format!("/dataCollectionRules/{name}")), "{target}");
    // Applied there, it is no change.
    let (rule, association) = applied("westeurope");
    let again = plan(&desired(workspace_id()), &live_in("West Europe", Some(rule), Some(association))).unwrap();
    assert!(again.summary.is_empty(), "{:#?}", again.resource_changes);
}

#[test]
fn a_plan_that_only_reads_is_no_change() {
    // The rule and association exist as declared: nothing to do but read the workspace.
    let (rule, association) = applied("francecentral");
    let p = plan(&desired(workspace_id()), &live_in("francecentral", Some(rule), Some(association))).unwrap();
    let actions: Vec<Action> = p.resource_changes.iter().map(|c| c.action).collect();
    assert_eq!(actions, [Action::NoOp, Action::Read, Action::NoOp, Action::NoOp]);
    assert!(p.summary.is_empty(), "a read is never a change: {:?}", p.summary);
    let mut text = Vec::new();
    render_text(&p, &mut text).unwrap();
    insta::assert_snapshot!("only_reads_text", String::from_utf8(text).unwrap());
    insta::assert_snapshot!("only_reads_markdown", render_markdown(&p, &MarkdownOptions::default()));
}

#[test]
fn a_missing_reference_fails_the_plan_naming_its_id() {
    let mut state = live(None);
    state.insert(address("monitoring"), Observation::Absent);
    let err = plan(&desired(workspace_id()), &state).unwrap_err();
    let PlanError::ReferenceNotFound { missing } = &err else { panic!("{err:?}") };
    assert_eq!(missing.len(), 1);
    assert_eq!((&missing[0].address, &missing[0].id), (&address("monitoring"), &workspace_id()));
    insta::assert_snapshot!("missing", format!("{err}\nhint: {}", err.hint()));
}

/// A referenced object that carries this spec's mark (it was exai's before the spec referenced
/// it, or someone copied the tag) is the live object of a declared resource: never an orphan,
/// so never deleted, whatever its mark says.
#[test]
fn a_referenced_object_in_the_ownership_scan_is_not_an_orphan() {
    let mut state = live(None);
    let marked = json!({"value": [{
        "id": workspace_id().as_str(), "type": "Microsoft.OperationalInsights/workspaces", "location": "francecentral",
        "tags": {"exai-owner": "my-org/exai:perso.logs"}
    }]});
    for object in owned_in_scan(&marked) {
        state.insert_owned(object);
    }
    let p = plan(&desired(workspace_id()), &state).unwrap();
    assert!(p.resource_changes.iter().all(|c| c.action != Action::Delete), "{:#?}", p.resource_changes);
    assert_eq!(p.summary.destroy, 0);
}
