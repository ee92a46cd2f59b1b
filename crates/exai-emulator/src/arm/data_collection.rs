//! `Microsoft.Insights/dataCollectionRules` and `dataCollectionRuleAssociations`, api-versions
//! 2022-06-01 (what the az CLI's monitoring addon sends), 2023-03-11 (the default of
//! azure-mgmt-monitor 7.0.0; `stable/2023-03-11/dataCollectionRules_API.json`) and 2024-03-11
//! (`Insights/stable/2024-03-11/dataCollectionRules_API.json`, the newest stable in the specs)
//! give the shape; every api-version of `api_versions::DATA_COLLECTION_RULES` and
//! `DATA_COLLECTION_RULE_ASSOCIATIONS` is served with it.
//!
//! Both are synchronous (swagger: PUT 200/201, DELETE 200/204). A rule gets a server-filled
//! `immutableId` (`dcr-` and 32 hex digits), `provisioningState`, `etag`, `systemData` and, on
//! each Log Analytics destination, the workspace's `workspaceId`. An association is
//! an extension resource stored under its parent's id (a cluster's, typically), with no
//! location: the `location` the az CLI sends in it is accepted and dropped.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::api_versions;
use super::provider;
use super::provider::{
    Provider, WriteContext, check_conditions, key_of, location, only_members, optional_object, optional_string,
    same_location, tags,
};
use super::toolkit::{ArmError, Subscription, json_object_body, method_not_allowed};
use crate::context::Shared;
use crate::http::Incoming;
use crate::http::{empty_response, json_response};
use crate::state::{ResourceRecord, State};

/// The rule's ARM type.
const RULE_TYPE: &str = "Microsoft.Insights/dataCollectionRules";

/// The association's ARM type.
const ASSOCIATION_TYPE: &str = "Microsoft.Insights/dataCollectionRuleAssociations";

/// Settable members of a rule's properties.
const RULE_SETTABLE: [&str; 8] = [
    "description",
    "dataCollectionEndpointId",
    "streamDeclarations",
    "dataSources",
    "destinations",
    "dataFlows",
    "references",
    "agentSettings",
];

/// The data collection rule provider.
pub(crate) struct Rules;

impl Provider for Rules {
    fn validate_name(&self, name: &str) -> Result<(), ArmError> {
        // Stricter than Azure (whose rule is not in the swagger): 1 to 64 characters (the az
        // CLI truncates its rule names to 64), letters, digits, '-', '_' and '.'.
        let valid = (1..=64).contains(&name.len())
            && name.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"-_.".contains(&byte));
        if valid {
            return Ok(());
        }
        Err(ArmError::bad_request(
            "InvalidResourceName",
            format!(
                "The data collection rule name '{name}' is invalid. It must be 1 to 64 letters, digits, '-', '_' or '.'."
            ),
        ))
    }

    fn put(
        &self,
        _shared: &Shared,
        state: &mut State,
        context: &WriteContext<'_>,
        existing: Option<&Value>,
        body: Map<String, Value>,
    ) -> Result<Value, ArmError> {
        only_members(
            &body,
            "",
            "DataCollectionRuleResource",
            &["location", "tags", "kind", "identity", "properties", "etag", "id", "name", "type", "systemData"],
        )?;
        let location = location(&body)?;
        same_location(existing, location)?;
        let tags = tags(&body)?;
        let kind = body.get("kind").map(|value| optional_string("kind", value)).transpose()?.flatten();
        if let Some(kind) = &kind
            && !["Linux", "Windows", "AgentDirectToStore", "WorkspaceTransforms"].contains(&kind.as_str())
        {
            return Err(ArmError::bad_request(
                "InvalidPayload",
                format!("The kind '{kind}' is not a known data collection rule kind."),
            ));
        }
        if body.get("identity").is_some_and(|value| !value.is_null()) {
            return Err(ArmError::bad_request(
                "InvalidPayload",
                "The exai emulator does not model data collection rule identities; leave 'identity' out.",
            ));
        }
        let sent = optional_object("properties", body.get("properties").unwrap_or(&Value::Null))?.unwrap_or_default();
        let mut known: Vec<&str> = RULE_SETTABLE.to_vec();
        known.extend(["immutableId", "provisioningState", "metadata"]);
        only_members(&sent, "properties.", "DataCollectionRule", &known)?;
        let immutable_id = existing
            .and_then(|body| body.pointer("/properties/immutableId"))
            .cloned()
            .unwrap_or_else(|| json!(format!("dcr-{}", Uuid::new_v4().simple())));
        let mut properties = Map::new();
        for name in RULE_SETTABLE {
            if let Some(value) = sent.get(name).filter(|value| !value.is_null()) {
                properties.insert(name.to_owned(), value.clone());
            }
        }
        if let Some(destinations) = properties.get_mut("destinations") {
            fill_workspace_ids(state, destinations);
        }
        properties.insert("immutableId".to_owned(), immutable_id);
        properties.insert("provisioningState".to_owned(), json!("Succeeded"));

        let mut rendered = Map::new();
        rendered.insert("id".to_owned(), json!(context.id));
        rendered.insert("name".to_owned(), json!(context.name));
        rendered.insert("type".to_owned(), json!(RULE_TYPE));
        rendered.insert("location".to_owned(), json!(location));
        // The az CLI sends `"tags": {}`; an empty object is kept as sent.
        match (tags, body.get("tags")) {
            (Some(tags), _) => {
                rendered.insert("tags".to_owned(), Value::Object(tags));
            }
            (None, Some(Value::Object(_))) => {
                rendered.insert("tags".to_owned(), json!({}));
            }
            _ => {}
        }
        if let Some(kind) = kind {
            rendered.insert("kind".to_owned(), json!(kind));
        }
        rendered.insert("properties".to_owned(), Value::Object(properties));
        Ok(Value::Object(rendered))
    }

    fn patch(
        &self,
        _shared: &Shared,
        _state: &mut State,
        _context: &WriteContext<'_>,
        existing: &Value,
        body: Map<String, Value>,
    ) -> Result<Value, ArmError> {
        only_members(&body, "", "ResourceForUpdate", &["tags", "identity"])?;
        let mut updated = existing.clone();
        if body.contains_key("tags")
            && let Some(object) = updated.as_object_mut()
        {
            object.insert("tags".to_owned(), Value::Object(tags(&body)?.unwrap_or_default()));
        }
        Ok(updated)
    }

    fn etag_member(&self) -> Option<&'static str> {
        Some("etag")
    }
}

/// Sets `workspaceId` on each `destinations.logAnalytics[]` item: swagger
/// `LogAnalyticsDestination.workspaceId`, "The Customer ID of the Log Analytics workspace.",
/// `readOnly` (`dataCollectionRules_API.json` 2022-06-01, the same in 2023-03-11 and
/// 2024-03-11), filled by the service from the workspace `workspaceResourceId` names: its
/// `properties.customerId`. A value a client sends is replaced (read-only members are ignored on
/// writes), and left out when the workspace is not one the emulator holds.
fn fill_workspace_ids(state: &State, destinations: &mut Value) {
    let Some(items) = destinations.get_mut("logAnalytics").and_then(Value::as_array_mut) else { return };
    for item in items.iter_mut().filter_map(Value::as_object_mut) {
        item.remove("workspaceId");
        let customer_id = item
            .get("workspaceResourceId")
            .and_then(Value::as_str)
            .map(key_of)
            .and_then(|key| state.subscriptions.values().find_map(|record| record.resources.get(&key)))
            .and_then(|record| record.final_body.as_ref().unwrap_or(&record.body).pointer("/properties/customerId"))
            .cloned();
        if let Some(customer_id) = customer_id {
            item.insert("workspaceId".to_owned(), customer_id);
        }
    }
}

/// `{parent}/providers/Microsoft.Insights/dataCollectionRuleAssociations[/{name}]`.
pub(crate) fn route_association(
    shared: &Shared,
    request: &Incoming,
    subscription: &Subscription,
    parent: &[String],
    tail: &[String],
) -> Result<Response, ArmError> {
    let parent_id = format!("/subscriptions/{}/{}", subscription.id, parent.join("/"));
    let parent_key = key_of(&parent_id);
    if api_versions::DATA_COLLECTION_RULE_ASSOCIATIONS.find(request).is_none() {
        // An association has no location of its own: ARM routes it through its parent's.
        let location = provider::record(&shared.state(), &subscription.id, &parent_key)
            .and_then(|record| record.body.get("location").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| api_versions::ROUTING_LOCATION.to_owned());
        api_versions::check_provider(
            request,
            &api_versions::DATA_COLLECTION_RULE_ASSOCIATIONS,
            "dataCollectionRuleAssociations",
            &location,
        )?;
    }
    let parent_exists = provider::record(&shared.state(), &subscription.id, &parent_key).is_some();
    if !parent_exists {
        let name = parent.last().map(String::as_str).unwrap_or_default();
        return Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "ParentResourceNotFound",
            format!("Can not perform requested operation on nested resource. Parent resource '{name}' not found."),
        ));
    }
    let prefix = format!("{parent_key}/providers/microsoft.insights/datacollectionruleassociations/");
    match tail {
        [] => {
            if request.method != Method::GET {
                return Err(method_not_allowed(&request.method, &[Method::GET]));
            }
            let value: Vec<Value> = shared
                .state()
                .subscriptions
                .get(&subscription.id)
                .map(|record| {
                    record
                        .resources
                        .iter()
                        .filter(|(key, _)| key.starts_with(&prefix) && !key[prefix.len()..].contains('/'))
                        .map(|(_, record)| record.body.clone())
                        .collect()
                })
                .unwrap_or_default();
            Ok(json_response(StatusCode::OK, &json!({"value": value})))
        }
        [name] => {
            let key = format!("{prefix}{}", name.to_lowercase());
            let id = format!("{parent_id}/providers/Microsoft.Insights/dataCollectionRuleAssociations/{name}");
            association(shared, request, subscription, name, &key, &id)
        }
        _ => Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
            "The resource type could not be found in the namespace 'Microsoft.Insights'.",
        )),
    }
}

fn association(
    shared: &Shared,
    request: &Incoming,
    subscription: &Subscription,
    name: &str,
    key: &str,
    id: &str,
) -> Result<Response, ArmError> {
    let allowed = [Method::GET, Method::PUT, Method::DELETE];
    if !allowed.contains(&request.method) {
        return Err(method_not_allowed(&request.method, &allowed));
    }
    let not_found = || {
        ArmError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!(
                "The Resource '{ASSOCIATION_TYPE}/{name}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
            ),
        )
    };
    if request.method == Method::GET {
        return provider::record(&shared.state(), &subscription.id, key)
            .map(|record| json_response(StatusCode::OK, &record.body))
            .ok_or_else(not_found);
    }
    let body = if request.method == Method::PUT { Some(json_object_body(request)?) } else { None };
    // Read before the state is locked: the token store has a lock of its own.
    let caller = super::system_data::caller(shared, request);
    let mut state = shared.state();
    let existing = provider::record(&state, &subscription.id, key).cloned();
    check_conditions(request, existing.as_ref())?;
    let Some(body) = body else {
        return Ok(match existing {
            Some(_) => {
                provider::remove(&mut state, &subscription.id, key);
                empty_response(StatusCode::OK)
            }
            None => empty_response(StatusCode::NO_CONTENT),
        });
    };
    only_members(
        &body,
        "",
        "DataCollectionRuleAssociationProxyOnlyResource",
        // `location` is not in the schema, but the az CLI sends it and Azure accepts it.
        &["properties", "location", "etag", "id", "name", "type", "systemData"],
    )?;
    let sent = optional_object("properties", body.get("properties").unwrap_or(&Value::Null))?.unwrap_or_default();
    only_members(
        &sent,
        "properties.",
        "DataCollectionRuleAssociation",
        &["description", "dataCollectionRuleId", "dataCollectionEndpointId", "provisioningState", "metadata"],
    )?;
    let read = |member: &str| {
        sent.get(member)
            .map(|value| optional_string(&format!("properties.{member}"), value))
            .transpose()
            .map(Option::flatten)
    };
    let rule = read("dataCollectionRuleId")?;
    let endpoint = read("dataCollectionEndpointId")?;
    // Stricter than Azure: exactly one target, and a rule id must name a rule that exists.
    if rule.is_some() == endpoint.is_some() {
        return Err(ArmError::bad_request(
            "InvalidPayload",
            "Exactly one of 'properties.dataCollectionRuleId' and 'properties.dataCollectionEndpointId' must be given.",
        ));
    }
    if let Some(rule) = &rule {
        let rule_key = key_of(rule);
        let exists = state.subscriptions.values().any(|record| record.resources.contains_key(&rule_key))
            && rule_key.contains("/providers/microsoft.insights/datacollectionrules/");
        if !exists {
            return Err(ArmError::bad_request(
                "InvalidPayload",
                format!("The data collection rule '{rule}' does not exist."),
            ));
        }
    }
    let mut properties = Map::new();
    if let Some(description) = read("description")? {
        properties.insert("description".to_owned(), json!(description));
    }
    if let Some(rule) = rule {
        properties.insert("dataCollectionRuleId".to_owned(), json!(rule));
    }
    if let Some(endpoint) = endpoint {
        properties.insert("dataCollectionEndpointId".to_owned(), json!(endpoint));
    }
    properties.insert("provisioningState".to_owned(), json!("Succeeded"));
    let etag = provider::new_etag();
    let mut rendered = json!({
        "id": id,
        "name": name,
        "type": ASSOCIATION_TYPE,
        "etag": etag,
        "properties": properties,
    });
    // `DataCollectionRuleAssociationProxyOnlyResource` carries `systemData` (see `system_data`).
    if let Some(caller) = &caller {
        super::system_data::stamp(shared, &mut rendered, existing.as_ref().map(|record| &record.body), caller);
    }
    let status = if existing.is_some() { StatusCode::OK } else { StatusCode::CREATED };
    if let Some(record) = state.subscriptions.get_mut(&subscription.id) {
        record
            .resources
            .insert(key.to_owned(), ResourceRecord { body: rendered.clone(), final_body: None, etag, operation: None });
    }
    state.dirty = true;
    Ok(json_response(status, &rendered))
}
