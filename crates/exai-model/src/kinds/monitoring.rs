//! Container insights plumbing: the data collection rule and its association with the cluster,
//! as `az aks create --enable-addons monitoring` creates them with managed-identity auth.
//!
//! Sources: azure-cli `acs/addonconfiguration.py` (rule `MSCI-<workspace region>-<cluster>`,
//! truncated to 64 characters, body below; association `ContainerInsightsExtension` with
//! `dataCollectionRuleId` and `description`), api-version 2022-06-01 — all quoted in
//! docs/azure-facts.md §3d — and the Insights swagger for that version
//! (`DataCollectionRules_Create` is a synchronous PUT, 200/201; `DataCollectionRules_Update` is
//! a PATCH of `ResourceForUpdate`, i.e. tags and identity only, so a change of the rule itself is
//! a PUT; the association is a proxy resource: no location, no tags).
//!
//! The rule's owned fields are `location` (create-only), `kind`, the container insights
//! extension (keyed by its name), the Log Analytics destination `la-workspace` (keyed by name;
//! its workspace id compared lower-cased, since Azure answers ids in its own casing), the
//! streams that flow into that destination, and the managed tags. `immutableId`,
//! `provisioningState`, `metadata`, `etag`, `systemData` and anything another tool added to the
//! rule are not compared — and an update keeps them (see [`DataCollectionRule::update_request`]).

use super::common::canonical_enum;
use super::common::{foreign_tags, insert_desired_tags, insert_live_location, insert_live_tags, live_tags};
use crate::{Address, ApiRequest, Kind, Known, LiveResource, Location, Method, OwnedFields, ResourceId, Tags};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::borrow::Cow;

/// The api-version the Azure CLI's monitoring addon uses for both resources (docs/azure-facts.md §3d).
const API_VERSION: &str = "2022-06-01";

/// The rule's `kind` as the CLI sends it.
const RULE_KIND: &str = "Linux";
/// `KnownDataCollectionRuleResourceKind` of the 2022-06-01 swagger.
const RULE_KINDS: [&str; 2] = ["Linux", "Windows"];
/// The extension data source's name, as the CLI writes it.
const EXTENSION_NAME: &str = "ContainerInsightsExtension";
/// The extension's `extensionName`.
const EXTENSION: &str = "ContainerInsights";
/// The stream container insights sends.
const STREAM: &str = "Microsoft-ContainerInsights-Group-Default";
/// The Log Analytics destination's name, as the CLI writes it.
const DESTINATION: &str = "la-workspace";

/// Read-only members of the rule's `properties` (swagger `DataCollectionRule`): never sent back.
const RULE_READ_ONLY: [&str; 4] = ["immutableId", "provisioningState", "metadata", "endpoints"];

/// The data collection rule that routes container insights to the workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataCollectionRule {
    /// The subscription.
    pub subscription: String,
    /// The resource group (the cluster's).
    pub resource_group: String,
    /// The rule's name.
    pub name: String,
    /// The region (the workspace's).
    pub location: Location,
    /// The workspace the rule sends to.
    pub workspace_id: ResourceId,
    /// The managed tags.
    pub tags: Tags,
    /// Set when the workspace is one the spec only references (`{ id }`): its region is its
    /// owner's, known once it is read, and the rule goes there as `az` puts it (`MSCI-<workspace
    /// region>-<cluster>`). `location` and `name` are then the environment's until it is read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_of: Option<RegionOf>,
}

/// Where a data collection rule's region comes from when its workspace is referenced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionOf {
    /// The address of the referenced workspace.
    pub workspace: Address,
    /// The cluster's name, which the rule's name ends with.
    pub cluster: String,
}

impl RegionOf {
    /// Returns the region of the workspace as read, and the rule's name there; `None` until
    /// the workspace is read (or when its answer names no region).
    pub fn resolve(&self, known: Known<'_>) -> Option<(Location, String)> {
        let region = known.document(&self.workspace)?.get("location")?.as_str()?;
        let location = Location::parse(region).ok()?;
        let name = DataCollectionRule::default_name(&location, &self.cluster);
        Some((location, name))
    }

    fn note(&self) -> String {
        format!("`MSCI-<region>-{}`, in the region of `{}`: known once it is read", self.cluster, self.workspace)
    }
}

/// Field paths of the rule's owned fields. Keyed arrays are addressed by key: `[name]`.
mod path {
    pub const KIND: &str = "kind";
    pub const EXTENSION_NAME: &str = "properties.dataSources.extensions[ContainerInsightsExtension].extensionName";
    pub const EXTENSION_STREAMS: &str = "properties.dataSources.extensions[ContainerInsightsExtension].streams";
    pub const CONTAINER_LOG_V2: &str = "properties.dataSources.extensions[ContainerInsightsExtension].extensionSettings.dataCollectionSettings.enableContainerLogV2";
    pub const WORKSPACE: &str = "properties.destinations.logAnalytics[la-workspace].workspaceResourceId";
    pub const FLOW_STREAMS: &str = "properties.dataFlows[la-workspace].streams";
}

impl DataCollectionRule {
    /// The Azure resource type.
    pub const AZURE_TYPE: &'static str = "Microsoft.Insights/dataCollectionRules";
    /// The api-version exai speaks for rules.
    pub const API_VERSION: &'static str = API_VERSION;

    /// Returns the rule's name for `cluster` with a workspace in `workspace_location`, as the
    /// Azure CLI names it.
    pub fn default_name(workspace_location: &Location, cluster: &str) -> String {
        format!("MSCI-{workspace_location}-{cluster}").chars().take(64).collect()
    }

    /// Returns the rule's id.
    pub fn id(&self) -> ResourceId {
        ResourceId::in_group(&self.subscription, &self.resource_group, Self::AZURE_TYPE, &self.name)
    }

    /// Returns the GET that reads the rule (404 `ResourceNotFound` when absent).
    pub fn read_request(&self) -> ApiRequest {
        ApiRequest::arm(Method::Get, self.id().as_str(), Self::API_VERSION, None)
    }

    /// Returns the rule as it is once its region is known: itself when the spec gives it, else
    /// named and placed in the referenced workspace's region as read; `None` while that is not
    /// known.
    pub fn placed(&self, known: Known<'_>) -> Option<Cow<'_, Self>> {
        let Some(region_of) = &self.region_of else { return Some(Cow::Borrowed(self)) };
        let (location, name) = region_of.resolve(known)?;
        Some(Cow::Owned(Self { location, name, region_of: None, ..self.clone() }))
    }

    /// Returns the rule as placed, or as the spec declares it while its region is not known.
    fn best(&self, known: Known<'_>) -> Cow<'_, Self> {
        self.placed(known).unwrap_or(Cow::Borrowed(self))
    }

    fn extension(&self) -> Value {
        json!({
            "name": EXTENSION_NAME,
            "streams": [STREAM],
            "extensionName": EXTENSION,
            "extensionSettings": { "dataCollectionSettings": { "enableContainerLogV2": true } },
        })
    }

    fn destination(&self) -> Value {
        json!({ "workspaceResourceId": self.workspace_id.as_str(), "name": DESTINATION })
    }

    fn flow() -> Value {
        json!({ "streams": [STREAM], "destinations": [DESTINATION] })
    }

    /// Returns the PUT that creates the rule: the body the CLI sends, with the managed tags
    /// instead of its `{}`.
    pub fn create_request(&self) -> ApiRequest {
        let body = json!({
            "location": self.location.as_str(),
            "tags": self.tags,
            "kind": RULE_KIND,
            "properties": {
                "dataSources": { "extensions": [self.extension()] },
                "dataFlows": [Self::flow()],
                "destinations": { "logAnalytics": [self.destination()] },
                "dataCollectionEndpointId": null,
            },
        });
        ApiRequest::arm(Method::Put, self.id().as_str(), Self::API_VERSION, Some(body))
    }

    /// Returns the PUT that brings `live` to the owned fields.
    ///
    /// The swagger's PATCH changes tags only, so this is a PUT, and a PUT restates the whole
    /// rule. It therefore starts from the live rule (read-only members removed) and replaces only
    /// what exai owns: the `ContainerInsightsExtension` data source, the `la-workspace`
    /// destination, the flows into `la-workspace`, `kind`, and the managed tags merged over the
    /// live ones. Data sources, destinations and flows someone else added are kept. When the live
    /// rule carries an `etag`, the PUT is conditional on it (`If-Match`), so a rule changed since
    /// the plan is refused (412) rather than overwritten.
    pub fn update_request(&self, live: &Value) -> ApiRequest {
        let mut properties = live.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
        for member in RULE_READ_ONLY {
            properties.remove(member);
        }
        let mut data_sources = object_at(&properties, "dataSources");
        let extensions = keyed_replace(data_sources.get("extensions"), EXTENSION_NAME, self.extension());
        data_sources.insert("extensions".into(), extensions);
        properties.insert("dataSources".into(), Value::Object(data_sources));
        let mut destinations = object_at(&properties, "destinations");
        let log_analytics = keyed_replace(destinations.get("logAnalytics"), DESTINATION, self.destination());
        destinations.insert("logAnalytics".into(), log_analytics);
        properties.insert("destinations".into(), Value::Object(destinations));
        let mut flows: Vec<Value> = properties
            .get("dataFlows")
            .and_then(Value::as_array)
            .map(|flows| flows.iter().filter(|flow| !flows_into(flow, DESTINATION)).cloned().collect())
            .unwrap_or_default();
        flows.push(Self::flow());
        properties.insert("dataFlows".into(), Value::Array(flows));

        let body = json!({
            "location": self.location.as_str(),
            "tags": live_tags(live).merged_with(&self.tags),
            "kind": RULE_KIND,
            "properties": properties,
        });
        let request = ApiRequest::arm(Method::Put, self.id().as_str(), Self::API_VERSION, Some(body));
        match live.get("etag").and_then(Value::as_str) {
            Some(etag) => request.if_match(etag),
            None => request,
        }
    }

    /// Returns the owned fields as declared.
    pub fn desired_fields(&self) -> OwnedFields {
        let mut fields = OwnedFields::new();
        fields.insert("location".into(), Value::from(self.location.as_str()));
        fields.insert(path::KIND.into(), Value::from(RULE_KIND));
        fields.insert(path::EXTENSION_NAME.into(), Value::from(EXTENSION));
        fields.insert(path::EXTENSION_STREAMS.into(), json!([STREAM]));
        fields.insert(path::CONTAINER_LOG_V2.into(), Value::from(true));
        fields.insert(path::WORKSPACE.into(), Value::from(self.workspace_id.as_str().to_ascii_lowercase()));
        fields.insert(path::FLOW_STREAMS.into(), json!([STREAM]));
        insert_desired_tags(&mut fields, &self.tags);
        fields
    }

    /// Returns the owned fields as `document` (a GET response) holds them.
    ///
    /// Keyed arrays are matched by name (case-insensitively) whatever their order; stream lists
    /// are sorted; the workspace id is lower-cased; the region and `kind` are normalized.
    pub fn live_fields(&self, document: &Value) -> OwnedFields {
        let mut fields = OwnedFields::new();
        insert_live_location(&mut fields, document);
        if let Some(kind) = document.get("kind").and_then(Value::as_str) {
            fields.insert(path::KIND.into(), Value::from(canonical_enum(kind, &RULE_KINDS)));
        }
        let properties = document.get("properties").unwrap_or(&Value::Null);
        if let Some(extension) = keyed(properties.pointer("/dataSources/extensions"), EXTENSION_NAME) {
            if let Some(name) = extension.get("extensionName").and_then(Value::as_str) {
                fields.insert(path::EXTENSION_NAME.into(), Value::from(name));
            }
            if let Some(streams) = extension.get("streams") {
                fields.insert(path::EXTENSION_STREAMS.into(), sorted_strings(streams));
            }
            if let Some(v2) = extension
                .pointer("/extensionSettings/dataCollectionSettings/enableContainerLogV2")
                .and_then(Value::as_bool)
            {
                fields.insert(path::CONTAINER_LOG_V2.into(), Value::from(v2));
            }
        }
        if let Some(destination) = keyed(properties.pointer("/destinations/logAnalytics"), DESTINATION)
            && let Some(id) = destination.get("workspaceResourceId").and_then(Value::as_str)
        {
            fields.insert(path::WORKSPACE.into(), Value::from(id.to_ascii_lowercase()));
        }
        let streams: Vec<Value> = properties
            .get("dataFlows")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|flow| flows_into(flow, DESTINATION))
            .filter_map(|flow| flow.get("streams").and_then(Value::as_array))
            .flatten()
            .cloned()
            .collect();
        if !streams.is_empty() {
            fields.insert(path::FLOW_STREAMS.into(), sorted_strings(&Value::Array(streams)));
        }
        insert_live_tags(&mut fields, &self.tags, document);
        fields
    }

    /// Returns why a change of `path` forces the rule to be replaced: only the region, as for
    /// every tracked resource.
    pub fn replace_reason(path: &str) -> Option<&'static str> {
        (path == "location").then_some("a data collection rule cannot move to another region once it is created")
    }
}

/// Returns the object member `name` of `map`, or an empty one.
fn object_at(map: &Map<String, Value>, name: &str) -> Map<String, Value> {
    map.get(name).and_then(Value::as_object).cloned().unwrap_or_default()
}

/// Returns the element of the array `items` whose `name` is `key` (case-insensitively).
fn keyed<'a>(items: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    items?
        .as_array()?
        .iter()
        .find(|item| item.get("name").and_then(Value::as_str).is_some_and(|name| name.eq_ignore_ascii_case(key)))
}

/// Returns the array `items` with the element named `key` replaced by `value` (appended when
/// there is none), every other element kept in place.
fn keyed_replace(items: Option<&Value>, key: &str, value: Value) -> Value {
    let mut out: Vec<Value> = items.and_then(Value::as_array).cloned().unwrap_or_default();
    let position = out
        .iter()
        .position(|item| item.get("name").and_then(Value::as_str).is_some_and(|name| name.eq_ignore_ascii_case(key)));
    match position {
        Some(i) => out[i] = value,
        None => out.push(value),
    }
    Value::Array(out)
}

/// Returns true when `flow` names `destination` among its destinations.
fn flows_into(flow: &Value, destination: &str) -> bool {
    flow.get("destinations")
        .and_then(Value::as_array)
        .is_some_and(|d| d.iter().any(|d| d.as_str().is_some_and(|d| d.eq_ignore_ascii_case(destination))))
}

/// Returns the strings of `value` (an array), sorted and without duplicates.
fn sorted_strings(value: &Value) -> Value {
    let mut strings: Vec<&str> = value.as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    strings.sort_unstable();
    strings.dedup();
    json!(strings)
}

/// The association of the rule with the cluster (an extension resource of the cluster).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataCollectionRuleAssociation {
    /// The cluster.
    pub cluster_id: ResourceId,
    /// The rule.
    pub rule_id: ResourceId,
    /// Set when the rule's name comes from a referenced workspace's region
    /// ([`DataCollectionRule::region_of`]): `rule_id` is then the environment's guess until the
    /// workspace is read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_region_of: Option<RegionOf>,
}

/// Owned field: the rule the association points at.
const RULE_ID: &str = "properties.dataCollectionRuleId";

impl DataCollectionRuleAssociation {
    /// The Azure resource type.
    pub const AZURE_TYPE: &'static str = "Microsoft.Insights/dataCollectionRuleAssociations";
    /// The association's name, as the Azure CLI writes it.
    pub const NAME: &'static str = "ContainerInsightsExtension";
    /// The description the Azure CLI writes.
    pub const DESCRIPTION: &'static str = "associates dataCollectionRule to the AKS";
    /// The api-version exai speaks for associations.
    pub const API_VERSION: &'static str = API_VERSION;

    /// Returns the association's id.
    pub fn id(&self) -> ResourceId {
        self.cluster_id.child("Microsoft.Insights/dataCollectionRuleAssociations", Self::NAME)
    }

    /// Returns the GET that reads the association (404 `ResourceNotFound`, or
    /// `ParentResourceNotFound` while the cluster does not exist).
    pub fn read_request(&self) -> ApiRequest {
        ApiRequest::arm(Method::Get, self.id().as_str(), Self::API_VERSION, None)
    }

    /// Returns the association pointing at the rule as placed ([`DataCollectionRule::placed`]).
    fn placed(&self, known: Known<'_>) -> Cow<'_, Self> {
        let resolved = self.rule_region_of.as_ref().and_then(|region_of| region_of.resolve(known));
        match resolved {
            Some((_, name)) => {
                let (Some(subscription), Some(group)) =
                    (self.rule_id.segment_after("subscriptions"), self.rule_id.segment_after("resourceGroups"))
                else {
                    return Cow::Borrowed(self);
                };
                let rule_id = ResourceId::in_group(subscription, group, DataCollectionRule::AZURE_TYPE, &name);
                Cow::Owned(Self { rule_id, rule_region_of: None, cluster_id: self.cluster_id.clone() })
            }
            None => Cow::Borrowed(self),
        }
    }

    /// Returns the PUT that creates the association: `dataCollectionRuleId` and the CLI's
    /// `description`.
    ///
    /// The CLI also sends a `location` (the cluster's region); the association is a proxy
    /// resource whose swagger schema has no `location`, so exai leaves it out.
    pub fn create_request(&self) -> ApiRequest {
        self.put(Self::DESCRIPTION)
    }

    /// Returns the PUT that points the association at the rule, keeping the live description.
    pub fn update_request(&self, live: &Value) -> ApiRequest {
        let description = live.pointer("/properties/description").and_then(Value::as_str);
        self.put(description.unwrap_or(Self::DESCRIPTION))
    }

    fn put(&self, description: &str) -> ApiRequest {
        let body = json!({
            "properties": { "dataCollectionRuleId": self.rule_id.as_str(), "description": description },
        });
        ApiRequest::arm(Method::Put, self.id().as_str(), Self::API_VERSION, Some(body))
    }

    /// Returns the owned fields as declared: the rule's id, lower-cased.
    pub fn desired_fields(&self) -> OwnedFields {
        OwnedFields::from([(RULE_ID.to_owned(), Value::from(self.rule_id.as_str().to_ascii_lowercase()))])
    }

    /// Returns the owned fields as `document` holds them.
    pub fn live_fields(document: &Value) -> OwnedFields {
        document
            .pointer("/properties/dataCollectionRuleId")
            .and_then(Value::as_str)
            .map(|id| OwnedFields::from([(RULE_ID.to_owned(), Value::from(id.to_ascii_lowercase()))]))
            .unwrap_or_default()
    }
}

impl DataCollectionRule {
    /// The kind's row in the table of kinds ([`crate::KindName::info`]).
    pub const INFO: crate::KindInfo = crate::KindInfo {
        azure_type: Self::AZURE_TYPE,
        destroy_warning: Some("without its data collection rule, the cluster's container insights stop sending logs"),
        orphans: crate::Orphans::GroupScan,
        // Synchronous: 200, or 204 when absent.
        deletion: crate::Deletion::Arm(Self::API_VERSION),
        mark_place: crate::MarkPlace::ArmTag,
    };
}

impl Kind for DataCollectionRule {
    fn name(&self) -> crate::KindName {
        crate::KindName::DataCollectionRule
    }
    fn id(&self) -> Option<ResourceId> {
        self.region_of.is_none().then(|| DataCollectionRule::id(self))
    }
    fn id_with(&self, known: Known<'_>) -> Option<ResourceId> {
        self.placed(known).map(|rule| rule.id())
    }
    fn id_note(&self) -> Option<String> {
        self.region_of.as_ref().map(RegionOf::note)
    }
    fn read_request(&self) -> Option<ApiRequest> {
        self.region_of.is_none().then(|| DataCollectionRule::read_request(self))
    }
    /// Read once its name is known: with a referenced workspace, after the workspace's read.
    fn read_request_with(&self, known: Known<'_>) -> Option<ApiRequest> {
        self.placed(known).map(|rule| rule.read_request())
    }
    fn create_requests(&self, known: Known<'_>) -> Vec<ApiRequest> {
        vec![self.best(known).create_request()]
    }
    fn update_requests(&self, live: &LiveResource, known: Known<'_>) -> Vec<ApiRequest> {
        vec![self.best(known).update_request(&live.document)]
    }
    fn desired_fields(&self, known: Known<'_>) -> OwnedFields {
        DataCollectionRule::desired_fields(&self.best(known))
    }
    fn live_fields(&self, live: &LiveResource) -> OwnedFields {
        DataCollectionRule::live_fields(self, &live.document)
    }
    fn replace_reason(&self, path: &str) -> Option<&'static str> {
        Self::replace_reason(path)
    }
    fn observed(&self, live: &LiveResource) -> OwnedFields {
        foreign_tags(&self.tags, &live.document)
    }
}

impl DataCollectionRuleAssociation {
    /// The kind's row in the table of kinds ([`crate::KindName::info`]).
    pub const INFO: crate::KindInfo = crate::KindInfo {
        azure_type: Self::AZURE_TYPE,
        destroy_warning: Some("without the association, the cluster's container insights stop sending logs"),
        // An extension resource of the cluster: not in the group's list, and deleted with it.
        orphans: crate::Orphans::NotSought,
        // Synchronous.
        deletion: crate::Deletion::Arm(Self::API_VERSION),
        mark_place: crate::MarkPlace::Unmarked,
    };
}

impl Kind for DataCollectionRuleAssociation {
    fn name(&self) -> crate::KindName {
        crate::KindName::DataCollectionRuleAssociation
    }
    fn id(&self) -> Option<ResourceId> {
        Some(DataCollectionRuleAssociation::id(self))
    }
    fn read_request(&self) -> Option<ApiRequest> {
        Some(DataCollectionRuleAssociation::read_request(self))
    }
    fn create_requests(&self, known: Known<'_>) -> Vec<ApiRequest> {
        vec![self.placed(known).create_request()]
    }
    fn update_requests(&self, live: &LiveResource, known: Known<'_>) -> Vec<ApiRequest> {
        vec![self.placed(known).update_request(&live.document)]
    }
    fn desired_fields(&self, known: Known<'_>) -> OwnedFields {
        DataCollectionRuleAssociation::desired_fields(&self.placed(known))
    }
    fn live_fields(&self, live: &LiveResource) -> OwnedFields {
        Self::live_fields(&live.document)
    }
    /// The one owned field, the rule, is written by a PUT.
    fn replace_reason(&self, _path: &str) -> Option<&'static str> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WS: &str = "/subscriptions/sub/resourceGroups/exai-perso-rg/providers/Microsoft.OperationalInsights/workspaces/exai-perso-logs";

    fn rule() -> DataCollectionRule {
        let mut tags = Tags::new();
        tags.insert("project", "exai");
        tags.insert(crate::OWNER_TAG, "perso.cluster.dcr");
        let location = Location::parse("francecentral").unwrap();
        DataCollectionRule {
            subscription: "sub".into(),
            resource_group: "exai-perso-rg".into(),
            name: DataCollectionRule::default_name(&location, "exai-perso-aks"),
            location,
            workspace_id: ResourceId::parse(WS).unwrap(),
            tags,
            region_of: None,
        }
    }

    /// The rule as Azure returns it after the CLI's PUT: server fields added, the workspace id
    /// lower-cased, arrays in another order, a data source and a flow someone else added.
    fn live_rule() -> Value {
        json!({
            "id": "/subscriptions/sub/resourceGroups/exai-perso-rg/providers/Microsoft.Insights/dataCollectionRules/MSCI-francecentral-exai-perso-aks",
            "name": "MSCI-francecentral-exai-perso-aks",
            "type": "Microsoft.Insights/dataCollectionRules",
            "location": "France Central",
            "etag": "\"0a00b1c2-0000-0000-0000-000000000000\"",
            "kind": "linux",
            "tags": {"project": "exai", "exai-owner": "perso.cluster.dcr", "team": "ops"},
            "properties": {
                "immutableId": "dcr-0123456789abcdef0123456789abcdef",
                "provisioningState": "Succeeded",
                "dataSources": {"extensions": [
                    {"name": "other", "streams": ["Microsoft-Perf"], "extensionName": "Other"},
                    {"name": "ContainerInsightsExtension", "streams": ["Microsoft-ContainerInsights-Group-Default"],
                     "extensionName": "ContainerInsights",
                     "extensionSettings": {"dataCollectionSettings": {"enableContainerLogV2": true}}}
                ]},
                "destinations": {"logAnalytics": [{"workspaceResourceId": WS.to_ascii_lowercase(), "name": "la-workspace"}]},
                "dataFlows": [
                    {"streams": ["Microsoft-ContainerInsights-Group-Default"], "destinations": ["la-workspace"]},
                    {"streams": ["Microsoft-Perf"], "destinations": ["elsewhere"]}
                ]
            }
        })
    }

    #[test]
    fn live_rule_projects_onto_the_desired_fields_despite_order_and_casing() {
        let r = rule();
        assert_eq!(r.live_fields(&live_rule()), r.desired_fields());
        assert_eq!(r.desired_fields()[path::WORKSPACE], WS.to_ascii_lowercase());
    }

    #[test]
    fn create_body_is_the_cli_body_with_managed_tags() {
        let r = rule().create_request();
        let body = r.body.unwrap();
        assert_eq!(
            r.path,
            "/subscriptions/sub/resourceGroups/exai-perso-rg/providers/Microsoft.Insights/dataCollectionRules/MSCI-francecentral-exai-perso-aks"
        );
        assert_eq!(body["kind"], "Linux");
        assert_eq!(body["properties"]["destinations"]["logAnalytics"][0]["workspaceResourceId"], WS);
        assert_eq!(body["properties"]["dataFlows"], json!([{"streams": [STREAM], "destinations": ["la-workspace"]}]));
        assert!(body["properties"]["dataCollectionEndpointId"].is_null());
        assert_eq!(body["tags"]["exai-owner"], "perso.cluster.dcr");
    }

    #[test]
    fn update_keeps_what_others_added_and_is_conditional_on_the_etag() {
        let mut r = rule();
        r.workspace_id = ResourceId::parse(&WS.replace("exai-perso-logs", "other-logs")).unwrap();
        let request = r.update_request(&live_rule());
        assert_eq!(request.method, Method::Put);
        assert_eq!(request.headers, [("If-Match".to_owned(), "\"0a00b1c2-0000-0000-0000-000000000000\"".to_owned())]);
        let body = request.body.unwrap();
        let properties = &body["properties"];
        assert!(properties.get("immutableId").is_none() && properties.get("provisioningState").is_none());
        assert_eq!(properties["dataSources"]["extensions"].as_array().map(Vec::len), Some(2));
        assert_eq!(properties["dataSources"]["extensions"][0]["name"], "other");
        assert_eq!(properties["destinations"]["logAnalytics"][0]["workspaceResourceId"], r.workspace_id.as_str());
        assert_eq!(properties["dataFlows"].as_array().map(Vec::len), Some(2));
        assert_eq!(body["tags"]["team"], "ops");
    }

    #[test]
    fn association_points_at_the_rule_whatever_the_id_casing() {
        let cluster = ResourceId::parse(
            "/subscriptions/sub/resourceGroups/exai-perso-rg/providers/Microsoft.ContainerService/managedClusters/exai-perso-aks",
        )
        .unwrap();
        let a = DataCollectionRuleAssociation { cluster_id: cluster, rule_id: rule().id(), rule_region_of: None };
        let body = a.create_request().body.unwrap();
        assert_eq!(body["properties"]["dataCollectionRuleId"], rule().id().as_str());
        assert_eq!(body["properties"]["description"], "associates dataCollectionRule to the AKS");
        let live = json!({"properties": {"dataCollectionRuleId": rule().id().as_str().to_ascii_uppercase()}});
        assert_eq!(DataCollectionRuleAssociation::live_fields(&live), a.desired_fields());
    }
}
