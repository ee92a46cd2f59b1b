//! Table-driven planner tests for the registry, the Log Analytics workspace, the data collection
//! rule and its association: desired × live → plan, with no I/O.
//!
//! Live documents start from the official examples (`RegistryGet.json`, `WorkspacesGet.json`,
//! copied in crates/exai-emulator/tests/fixtures/arm-examples/), adapted to the spec's names.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use exai_model::kinds::{
    DataCollectionRule, DataCollectionRuleAssociation, Registry, RegistrySku, Workspace, WorkspaceSku,
};
use exai_model::{
    Address, DesiredResource, DesiredSpec, DesiredState, LiveResource, LiveState, Location, Method, OWNER_TAG,
    Observation, ResourceId, Tags,
};
use exai_planner::{Action, Change, plan};
use serde_json::{Value, json};

const SUB: &str = "ee000000-0000-4000-8000-000000000002";
const RG: &str = "exai-perso-rg";

fn tags(address: &str, pairs: &[(&str, &str)]) -> Tags {
    let mut tags: Tags = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    tags.insert(OWNER_TAG, address);
    tags
}

fn registry() -> Registry {
    Registry {
        subscription: SUB.into(),
        resource_group: RG.into(),
        name: "exaipersoacr".into(),
        location: Location::parse("francecentral").unwrap(),
        sku: RegistrySku::Standard,
        admin_user_enabled: false,
        tags: tags("perso.registry", &[("project", "exai")]),
    }
}

fn workspace() -> Workspace {
    Workspace {
        subscription: SUB.into(),
        resource_group: RG.into(),
        name: "exai-perso-logs".into(),
        location: Location::parse("francecentral").unwrap(),
        retention_days: 30,
        sku: WorkspaceSku::PerGB2018,
        tags: tags("perso.monitoring", &[("project", "exai")]),
    }
}

fn rule() -> DataCollectionRule {
    let location = Location::parse("francecentral").unwrap();
    DataCollectionRule {
        subscription: SUB.into(),
        resource_group: RG.into(),
        name: DataCollectionRule::default_name(&location, "exai-perso-aks"),
        location,
        workspace_id: workspace().id(),
        tags: tags("perso.cluster.dcr", &[("project", "exai")]),
        region_of: None,
    }
}

fn cluster_id() -> ResourceId {
    ResourceId::in_group(SUB, RG, "Microsoft.ContainerService/managedClusters", "exai-perso-aks")
}

fn association() -> DataCollectionRuleAssociation {
    DataCollectionRuleAssociation { cluster_id: cluster_id(), rule_id: rule().id(), rule_region_of: None }
}

/// Plans one resource at `address` against `live` (`None`: Azure says it does not exist).
fn plan_one(address: &str, spec: DesiredSpec, live: Option<Value>) -> Change {
    let (environment, path) = address.split_once('.').unwrap();
    let address = Address::new(environment, path);
    let desired = DesiredState {
        tenant: "t".into(),
        resources: vec![DesiredResource { address: address.clone(), depends_on: vec![], protect: false, spec }],
    };
    let mut state = LiveState::new();
    let observation = match live {
        None => Observation::Absent,
        Some(document) => Observation::Present(LiveResource {
            id: ResourceId::parse(document["id"].as_str().unwrap()).unwrap(),
            document,
        }),
    };
    state.insert(address, observation);
    plan(&desired, &state).unwrap().resource_changes.remove(0)
}

fn example(file: &str) -> Value {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../exai-emulator/tests/fixtures/arm-examples/");
    let text = std::fs::read_to_string(format!("{dir}{file}")).unwrap();
    let example: Value = serde_json::from_str(&text).unwrap();
    example["responses"]["200"]["body"].clone()
}

/// `RegistryGet.json` adapted to the spec: names, the region in display form, the managed tags
/// with a key in another casing, and a tag someone else added.
fn live_registry() -> Value {
    let mut body = example("registries-get.json");
    body["id"] = json!(registry().id().as_str());
    body["name"] = json!("exaipersoacr");
    body["location"] = json!("France Central");
    body["tags"] = json!({"Project": "exai", "exai-owner": "perso.registry", "costCenter": "42"});
    body["properties"]["loginServer"] = json!("exaipersoacr.azurecr.io");
    body
}

/// `WorkspacesGet.json` adapted to the spec, its lower-cased id kept as Azure writes it.
fn live_workspace() -> Value {
    let mut body = example("loganalytics-workspaces-get.json");
    body["id"] = json!(workspace().id().as_str().to_ascii_lowercase());
    body["name"] = json!("exai-perso-logs");
    body["location"] = json!("francecentral");
    body["tags"] = json!({"project": "exai", "exai-owner": "perso.monitoring"});
    body
}

/// The rule as the emulator and Azure answer the CLI's PUT: server fields added, the workspace
/// id with the provider segment lower-cased.
fn live_rule() -> Value {
    let workspace_id =
        workspace().id().as_str().replace("Microsoft.OperationalInsights", "microsoft.operationalinsights");
    json!({
        "id": rule().id().as_str(),
        "name": rule().name,
        "type": "Microsoft.Insights/dataCollectionRules",
        "location": "francecentral",
        "etag": "\"1\"",
        "kind": "Linux",
        "tags": {"project": "exai", "exai-owner": "perso.cluster.dcr"},
        "properties": {
            "immutableId": "dcr-0123456789abcdef0123456789abcdef",
            "provisioningState": "Succeeded",
            "dataSources": {"extensions": [{
                "name": "ContainerInsightsExtension",
                "streams": ["Microsoft-ContainerInsights-Group-Default"],
                "extensionName": "ContainerInsights",
                "extensionSettings": {"dataCollectionSettings": {"enableContainerLogV2": true}}
            }]},
            "dataFlows": [{"streams": ["Microsoft-ContainerInsights-Group-Default"], "destinations": ["la-workspace"]}],
            "destinations": {"logAnalytics": [{"workspaceResourceId": workspace_id, "name": "la-workspace"}]}
        }
    })
}

fn live_association() -> Value {
    json!({
        "id": association().id().as_str(),
        "name": "ContainerInsightsExtension",
        "type": "Microsoft.Insights/dataCollectionRuleAssociations",
        "etag": "\"2\"",
        "properties": {
            "description": "associates dataCollectionRule to the AKS",
            "dataCollectionRuleId": rule().id().as_str().to_ascii_lowercase(),
            "provisioningState": "Succeeded"
        }
    })
}

/// Every kind of this file, with its address, its desired spec and its live example.
fn cases() -> Vec<(&'static str, DesiredSpec, Value)> {
    vec![
        ("perso.registry", DesiredSpec::Registry(registry()), live_registry()),
        ("perso.monitoring", DesiredSpec::Workspace(workspace()), live_workspace()),
        ("perso.cluster.dcr", DesiredSpec::DataCollectionRule(rule()), live_rule()),
        (
            "perso.cluster.dcr-association",
            DesiredSpec::DataCollectionRuleAssociation(association()),
            live_association(),
        ),
    ]
}

fn paths(change: &Change) -> Vec<&str> {
    change.diffs.iter().map(|d| d.path.as_str()).collect()
}

#[test]
fn absent_resources_are_created_with_the_exact_body() {
    let ws_id = workspace().id();
    let expected = [
        (
            format!(
                "/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ContainerRegistry/registries/exaipersoacr"
            ),
            "2025-11-01",
            json!({
                "location": "francecentral",
                "sku": {"name": "Standard"},
                "properties": {"adminUserEnabled": false},
                "tags": {"exai-owner": "perso.registry", "project": "exai"}
            }),
        ),
        (
            format!(
                "/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.OperationalInsights/workspaces/exai-perso-logs"
            ),
            "2026-03-01",
            json!({
                "location": "francecentral",
                "properties": {"sku": {"name": "PerGB2018"}, "retentionInDays": 30},
                "tags": {"exai-owner": "perso.monitoring", "project": "exai"}
            }),
        ),
        (
            format!(
                "/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Insights/dataCollectionRules/MSCI-francecentral-exai-perso-aks"
            ),
            "2022-06-01",
            json!({
                "location": "francecentral",
                "tags": {"exai-owner": "perso.cluster.dcr", "project": "exai"},
                "kind": "Linux",
                "properties": {
                    "dataSources": {"extensions": [{
                        "name": "ContainerInsightsExtension",
                        "streams": ["Microsoft-ContainerInsights-Group-Default"],
                        "extensionName": "ContainerInsights",
                        "extensionSettings": {"dataCollectionSettings": {"enableContainerLogV2": true}}
                    }]},
                    "dataFlows": [{"streams": ["Microsoft-ContainerInsights-Group-Default"], "destinations": ["la-workspace"]}],
                    "destinations": {"logAnalytics": [{"workspaceResourceId": ws_id.as_str(), "name": "la-workspace"}]},
                    "dataCollectionEndpointId": null
                }
            }),
        ),
        (
            format!(
                "{}/providers/Microsoft.Insights/dataCollectionRuleAssociations/ContainerInsightsExtension",
                cluster_id()
            ),
            "2022-06-01",
            json!({"properties": {
                "dataCollectionRuleId": rule().id().as_str(),
                "description": "associates dataCollectionRule to the AKS"
            }}),
        ),
    ];
    for ((address, spec, _), (path, api_version, body)) in cases().into_iter().zip(expected) {
        let c = plan_one(address, spec, None);
        assert_eq!(c.action, Action::Create, "{address}");
        assert_eq!(c.requests.len(), 1, "{address}: {:?}", c.requests);
        let r = &c.requests[0];
        assert_eq!(
            (r.method, r.path.as_str(), r.api_version.as_deref()),
            (Method::Put, path.as_str(), Some(api_version))
        );
        assert_eq!(r.body.as_ref(), Some(&body), "{address}");
        assert!(c.diffs.iter().all(|d| d.before.is_none()), "{address}: a create has no before");
    }
}

#[test]
fn official_examples_adapted_to_the_spec_plan_as_no_op() {
    for (address, spec, live) in cases() {
        let c = plan_one(address, spec, Some(live));
        assert_eq!(c.action, Action::NoOp, "{address}: {:?}", c.diffs);
        assert!(c.requests.is_empty(), "{address}");
        assert!(c.fingerprint.is_some(), "{address}");
    }
}

#[test]
fn reads_are_one_get_at_the_documented_api_version() {
    for (address, spec, _) in cases() {
        let read = spec.as_kind().read_request().unwrap();
        assert_eq!(read.method, Method::Get, "{address}");
        assert_eq!(ResourceId::parse(&read.path).unwrap(), spec.id().unwrap(), "{address}");
        let expected = match spec {
            DesiredSpec::Registry(_) => "2025-11-01",
            DesiredSpec::Workspace(_) => "2026-03-01",
            _ => "2022-06-01",
        };
        assert_eq!(read.api_version.as_deref(), Some(expected), "{address}");
    }
}

/// One owned field changed in the spec → exactly that diff, and an update whose request carries
/// it (`pointer` into the request body → expected value).
#[test]
fn each_owned_field_changed_alone_is_exactly_that_update() {
    type Case = (&'static str, DesiredSpec, Value, &'static str, Method, &'static str, Value);
    let mut sku = registry();
    sku.sku = RegistrySku::Premium;
    let mut admin = registry();
    admin.admin_user_enabled = true;
    let mut registry_tag = registry();
    registry_tag.tags.insert("project", "exai2");
    let mut retention = workspace();
    retention.retention_days = 90;
    let mut tier = workspace();
    tier.sku = WorkspaceSku::CapacityReservation;
    let mut workspace_tag = workspace();
    workspace_tag.tags.insert("env", "perso");
    let mut destination = rule();
    destination.workspace_id = ResourceId::in_group(SUB, RG, Workspace::AZURE_TYPE, "other-logs");
    let mut rule_tag = rule();
    rule_tag.tags.insert("project", "exai2");
    let mut target = association();
    target.rule_id = ResourceId::in_group(SUB, RG, DataCollectionRule::AZURE_TYPE, "other-rule");

    let cases: Vec<Case> = vec![
        (
            "perso.registry",
            DesiredSpec::Registry(sku),
            live_registry(),
            "sku.name",
            Method::Patch,
            "/sku/name",
            json!("Premium"),
        ),
        (
            "perso.registry",
            DesiredSpec::Registry(admin),
            live_registry(),
            "properties.adminUserEnabled",
            Method::Patch,
            "/properties/adminUserEnabled",
            json!(true),
        ),
        (
            "perso.registry",
            DesiredSpec::Registry(registry_tag),
            live_registry(),
            "tags.project",
            Method::Patch,
            "/tags",
            json!({"project": "exai2", "exai-owner": "perso.registry", "costCenter": "42"}),
        ),
        (
            "perso.monitoring",
            DesiredSpec::Workspace(retention),
            live_workspace(),
            "properties.retentionInDays",
            Method::Patch,
            "/properties/retentionInDays",
            json!(90),
        ),
        (
            "perso.monitoring",
            DesiredSpec::Workspace(tier),
            live_workspace(),
            "properties.sku.name",
            Method::Patch,
            "/properties/sku/name",
            json!("CapacityReservation"),
        ),
        (
            "perso.monitoring",
            DesiredSpec::Workspace(workspace_tag),
            live_workspace(),
            "tags.env",
            Method::Patch,
            "/tags/env",
            json!("perso"),
        ),
        (
            "perso.cluster.dcr",
            DesiredSpec::DataCollectionRule(destination.clone()),
            live_rule(),
            "properties.destinations.logAnalytics[la-workspace].workspaceResourceId",
            Method::Put,
            "/properties/destinations/logAnalytics/0/workspaceResourceId",
            json!(destination.workspace_id.as_str()),
        ),
        (
            "perso.cluster.dcr",
            DesiredSpec::DataCollectionRule(rule_tag),
            live_rule(),
            "tags.project",
            Method::Put,
            "/tags/project",
            json!("exai2"),
        ),
        (
            "perso.cluster.dcr-association",
            DesiredSpec::DataCollectionRuleAssociation(target.clone()),
            live_association(),
            "properties.dataCollectionRuleId",
            Method::Put,
            "/properties/dataCollectionRuleId",
            json!(target.rule_id.as_str()),
        ),
    ];
    for (address, spec, live, path, method, pointer, value) in cases {
        let c = plan_one(address, spec, Some(live));
        assert_eq!(c.action, Action::Update, "{address} {path}: {:?}", c.diffs);
        assert_eq!(paths(&c), [path], "{address}");
        assert_eq!(c.requests.len(), 1, "{address} {path}");
        let request = &c.requests[0];
        assert_eq!(request.method, method, "{address} {path}");
        let body = request.body.as_ref().unwrap();
        assert_eq!(body.pointer(pointer), Some(&value), "{address} {path}: {body:#}");
    }
}

#[test]
fn in_place_patches_carry_only_the_changed_member() {
    let mut r = registry();
    r.admin_user_enabled = true;
    let c = plan_one("perso.registry", DesiredSpec::Registry(r), Some(live_registry()));
    assert_eq!(c.requests[0].body, Some(json!({"properties": {"adminUserEnabled": true}})));
    let mut w = workspace();
    w.retention_days = 90;
    let c = plan_one("perso.monitoring", DesiredSpec::Workspace(w), Some(live_workspace()));
    assert_eq!(c.requests[0].body, Some(json!({"properties": {"retentionInDays": 90}})));
}

/// Changes Azure or someone else makes to fields exai does not own: none is a change.
#[test]
fn server_churn_plans_as_no_change() {
    type Churn = fn(&mut Value);
    let churns: Vec<(&str, Churn)> = vec![
        ("new etag", |d| d["etag"] = json!("\"fresh\"")),
        // A non-terminal provisioningState (`Updating`) is not churn: it is a `wait` (tests/in_progress.rs).
        ("provisioningState casing", |d| d["properties"]["provisioningState"] = json!("succeeded")),
        ("a tag added by someone else", |d| d["tags"]["addedByPolicy"] = json!("yes")),
        ("managed tag key in other casing", |d| {
            let tags = d["tags"].as_object_mut().unwrap();
            let value = tags.remove("project").unwrap_or(json!("exai"));
            tags.insert("PROJECT".into(), value);
        }),
        ("region in display form", |d| d["location"] = json!("France Central")),
        ("region in odd casing", |d| d["location"] = json!("FranceCentral")),
        ("id upper-cased", |d| d["id"] = json!(d["id"].as_str().unwrap().to_ascii_uppercase())),
        ("systemData", |d| d["systemData"] = json!({"createdBy": "someone", "lastModifiedAt": "2026-01-01T00:00:00Z"})),
    ];
    for (address, spec, live) in cases() {
        for (name, churn) in &churns {
            let mut document = live.clone();
            if address.ends_with("dcr-association") && (name.contains("tag") || name.contains("region")) {
                continue; // a proxy resource: no tags, no location
            }
            churn(&mut document);
            let c = plan_one(address, spec.clone(), Some(document));
            assert_eq!(c.action, Action::NoOp, "{address}, {name}: {:?}", c.diffs);
        }
    }
}

#[test]
fn kind_specific_churn_plans_as_no_change() {
    type Churn = (&'static str, DesiredSpec, Value, fn(&mut Value));
    let churns: Vec<Churn> = vec![
        ("registry sku casing", DesiredSpec::Registry(registry()), live_registry(), |d| {
            d["sku"]["name"] = json!("STANDARD")
        }),
        ("registry sku tier", DesiredSpec::Registry(registry()), live_registry(), |d| {
            d["sku"]["tier"] = json!("Premium")
        }),
        ("registry loginServer", DesiredSpec::Registry(registry()), live_registry(), |d| {
            d["properties"]["loginServer"] = json!("ExaiPersoAcr.azurecr.io")
        }),
        ("registry policies", DesiredSpec::Registry(registry()), live_registry(), |d| {
            d["properties"]["policies"]["retentionPolicy"]["days"] = json!(30)
        }),
        ("registry creationDate", DesiredSpec::Registry(registry()), live_registry(), |d| {
            d["properties"]["creationDate"] = json!("2026-01-01T00:00:00Z")
        }),
        ("workspace sku casing", DesiredSpec::Workspace(workspace()), live_workspace(), |d| {
            d["properties"]["sku"]["name"] = json!("pergb2018")
        }),
        ("workspace customerId", DesiredSpec::Workspace(workspace()), live_workspace(), |d| {
            d["properties"]["customerId"] = json!("00000000-0000-0000-0000-000000000000")
        }),
        ("workspace id camel-cased", DesiredSpec::Workspace(workspace()), live_workspace(), |d| {
            d["id"] = json!(workspace().id().as_str())
        }),
        ("rule immutableId", DesiredSpec::DataCollectionRule(rule()), live_rule(), |d| {
            d["properties"]["immutableId"] = json!("dcr-ffffffffffffffffffffffffffffffff")
        }),
        ("rule kind casing", DesiredSpec::DataCollectionRule(rule()), live_rule(), |d| d["kind"] = json!("linux")),
        ("rule workspace id camel-cased", DesiredSpec::DataCollectionRule(rule()), live_rule(), |d| {
            d["properties"]["destinations"]["logAnalytics"][0]["workspaceResourceId"] = json!(workspace().id().as_str())
        }),
        ("rule workspace id upper-cased", DesiredSpec::DataCollectionRule(rule()), live_rule(), |d| {
            d["properties"]["destinations"]["logAnalytics"][0]["workspaceResourceId"] =
                json!(workspace().id().as_str().to_ascii_uppercase())
        }),
        (
            "rule: someone else's data source, destination and flow",
            DesiredSpec::DataCollectionRule(rule()),
            live_rule(),
            |d| {
                let p = &mut d["properties"];
                p["dataSources"]["extensions"]
                    .as_array_mut()
                    .unwrap()
                    .insert(0, json!({"name": "x", "streams": ["Microsoft-Perf"], "extensionName": "X"}));
                p["destinations"]["logAnalytics"].as_array_mut().unwrap().insert(0, json!({"name": "other", "workspaceResourceId": "/subscriptions/x/resourceGroups/y/providers/Microsoft.OperationalInsights/workspaces/z"}));
                p["dataFlows"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"streams": ["Microsoft-Perf"], "destinations": ["other"]}));
            },
        ),
        (
            "association rule id camel-cased",
            DesiredSpec::DataCollectionRuleAssociation(association()),
            live_association(),
            |d| d["properties"]["dataCollectionRuleId"] = json!(rule().id().as_str()),
        ),
    ];
    for (name, spec, mut live, churn) in churns {
        churn(&mut live);
        let address = match spec {
            DesiredSpec::Registry(_) => "perso.registry",
            DesiredSpec::Workspace(_) => "perso.monitoring",
            DesiredSpec::DataCollectionRule(_) => "perso.cluster.dcr",
            _ => "perso.cluster.dcr-association",
        };
        let c = plan_one(address, spec, Some(live));
        assert_eq!(c.action, Action::NoOp, "{name}: {:?}", c.diffs);
    }
}

#[test]
fn fingerprints_ignore_churn_in_unowned_fields() {
    for (address, spec, live) in cases() {
        let mut churned = live.clone();
        churned["etag"] = json!("\"fresh\"");
        churned["properties"]["provisioningState"] = json!("Updating");
        let a = plan_one(address, spec.clone(), Some(live)).fingerprint;
        let b = plan_one(address, spec, Some(churned)).fingerprint;
        assert_eq!(a, b, "{address}");
    }
}

#[test]
fn a_location_change_is_a_replace_that_names_the_field() {
    let westeurope = || Location::parse("westeurope").unwrap();
    let mut r = registry();
    r.location = westeurope();
    let mut w = workspace();
    w.location = westeurope();
    let mut d = rule();
    d.location = westeurope();
    let cases = [
        ("perso.registry", DesiredSpec::Registry(r), live_registry()),
        ("perso.monitoring", DesiredSpec::Workspace(w), live_workspace()),
        ("perso.cluster.dcr", DesiredSpec::DataCollectionRule(d), live_rule()),
    ];
    for (address, spec, live) in cases {
        let c = plan_one(address, spec, Some(live));
        assert_eq!(c.action, Action::Replace, "{address}");
        assert_eq!(paths(&c), ["location"], "{address}");
        assert!(c.reason.as_deref().unwrap().contains("`location` forces replacement"), "{address}: {:?}", c.reason);
        assert!(c.warning.is_some(), "{address}: a replace warns what it destroys");
        let methods: Vec<_> = c.requests.iter().map(|r| r.method).collect();
        assert_eq!(methods, [Method::Delete, Method::Put], "{address}");
    }
}

#[test]
fn unmanaged_tags_are_observed_never_changes() {
    for (address, spec, mut live) in cases().into_iter().take(3) {
        live["tags"]["costCenter"] = json!("42");
        let c = plan_one(address, spec, Some(live));
        assert_eq!(c.action, Action::NoOp, "{address}");
        assert_eq!(c.observed.get("tags.costCenter"), Some(&json!("42")), "{address}: {:?}", c.observed);
        assert!(!c.observed.contains_key("tags.project"), "{address}: managed tags are not observed");
    }
}

#[test]
fn adopting_hand_made_resources_adds_only_the_ownership_tag() {
    for (address, spec, mut live) in cases().into_iter().take(3) {
        live["tags"].as_object_mut().unwrap().remove(OWNER_TAG);
        let c = plan_one(address, spec, Some(live));
        assert_eq!(c.action, Action::Update, "{address}");
        assert_eq!(paths(&c), [format!("tags.{OWNER_TAG}")], "{address}");
        let body = c.requests[0].body.as_ref().unwrap();
        assert_eq!(body["tags"]["project"], "exai", "{address}: the merged tags keep the others");
    }
}

#[test]
fn a_rule_whose_extension_was_removed_is_an_update_that_restores_it_and_keeps_the_rest() {
    let mut live = live_rule();
    live["properties"]["dataSources"]["extensions"] =
        json!([{"name": "x", "streams": ["Microsoft-Perf"], "extensionName": "X"}]);
    let c = plan_one("perso.cluster.dcr", DesiredSpec::DataCollectionRule(rule()), Some(live));
    assert_eq!(c.action, Action::Update);
    assert_eq!(
        paths(&c),
        [
            "properties.dataSources.extensions[ContainerInsightsExtension].extensionName",
            "properties.dataSources.extensions[ContainerInsightsExtension].extensionSettings.dataCollectionSettings.enableContainerLogV2",
            "properties.dataSources.extensions[ContainerInsightsExtension].streams",
        ]
    );
    let request = &c.requests[0];
    assert_eq!(
        request.headers,
        [("If-Match".to_owned(), "\"1\"".to_owned())],
        "the PUT is conditional on the eTag read"
    );
    let extensions =
        request.body.as_ref().unwrap()["properties"]["dataSources"]["extensions"].as_array().unwrap().clone();
    let names: Vec<_> = extensions.iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["x", "ContainerInsightsExtension"]);
}
