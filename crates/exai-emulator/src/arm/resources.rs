//! The tracked-resource framework: routing, storage, conditional requests and long-running
//! writes shared by every provider below a resource group.
//!
//! A resource is stored per subscription under its lowercase id
//! (`/subscriptions/{sub}/resourcegroups/{rg}/providers/{namespace}/{type}/{name}`, extension
//! resources under their parent's id) as the JSON a GET answers, with an entity tag (new on every
//! write) and the id of its running operation (see [`crate::state::ResourceRecord`]).
//!
//! A provider implements [`super::provider::Provider`] (with the toolkit of `arm::provider`): it checks names, turns a PUT or PATCH body into the body
//! GET will answer (server-filled fields included), and says which of its writes are long-running.
//! Everything else is here, the same for every provider: the resource group must exist,
//! `If-Match` / `If-None-Match` are honoured (412 `PreconditionFailed`), a write while an
//! operation runs is refused (409 `AnotherOperationInProgress`), long-running writes follow
//! [`super::lro`], deletes of a missing resource answer 204.

use axum::http::{Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::api_versions::shape;
use super::lro::{self, OperationTarget};
use super::provider::{
    ResourceType, WriteContext, check_conditions, existing_group, key, new_etag, not_found, operation_in_progress,
    record, remove,
};
use super::toolkit::{ArmError, Subscription, json_object_body, method_not_allowed};
use super::{
    api_versions, authorization, data_collection, filter, managed_clusters, registries, resource_groups, system_data,
    workspaces,
};
use crate::context::Shared;
use crate::http::Incoming;
use crate::http::{empty_response, json_response};
use crate::state::{ResourceAction, ResourceRecord};

/// Every resource type below a resource group the emulator models.
pub(crate) static TYPES: [ResourceType; 4] = [
    ResourceType {
        namespace: "Microsoft.ContainerRegistry",
        type_name: "registries",
        api_versions: &api_versions::REGISTRIES,
        lro_put: true,
        lro_patch: true,
        lro_delete: true,
        provider: &registries::Registries,
    },
    ResourceType {
        namespace: "Microsoft.OperationalInsights",
        type_name: "workspaces",
        api_versions: &api_versions::WORKSPACES,
        lro_put: true,
        lro_patch: false,
        lro_delete: true,
        provider: &workspaces::Workspaces,
    },
    ResourceType {
        namespace: "Microsoft.Insights",
        type_name: "dataCollectionRules",
        api_versions: &api_versions::DATA_COLLECTION_RULES,
        lro_put: false,
        lro_patch: false,
        lro_delete: false,
        provider: &data_collection::Rules,
    },
    ResourceType {
        namespace: "Microsoft.ContainerService",
        type_name: "managedClusters",
        api_versions: &api_versions::MANAGED_CLUSTERS,
        lro_put: true,
        lro_patch: true,
        lro_delete: true,
        provider: &managed_clusters::Clusters,
    },
];

/// Returns the resource type for a namespace and type, compared case-insensitively.
pub(crate) fn find_type(namespace: &str, type_name: &str) -> Option<&'static ResourceType> {
    TYPES
        .iter()
        .find(|kind| kind.namespace.eq_ignore_ascii_case(namespace) && kind.type_name.eq_ignore_ascii_case(type_name))
}

/// Returns every api-version of a namespace.
fn namespace_versions(namespace: &str) -> Vec<&'static str> {
    let mut versions: Vec<&'static str> = TYPES
        .iter()
        .filter(|kind| kind.namespace.eq_ignore_ascii_case(namespace))
        .flat_map(|kind| kind.api_versions.versions.iter().copied())
        .collect();
    versions.sort_unstable();
    versions.dedup();
    versions.reverse();
    versions
}

/// Checks the api-version of a request for a resource type: ARM's `NoRegisteredProviderFound`
/// on every method (see [`api_versions`]), naming the region the request is routed through —
/// the resource's location, else the one a PUT names, else its resource group's.
pub(crate) fn check_version(
    shared: &Shared,
    request: &Incoming,
    subscription: &Subscription,
    kind: &ResourceType,
    group: Option<&str>,
    name: Option<&str>,
) -> Result<&'static str, ArmError> {
    if let Some(version) = kind.api_versions.find(request) {
        return Ok(version);
    }
    let state = shared.state();
    let from_resource = group.zip(name).and_then(|(group, name)| {
        record(&state, &subscription.id, &key(&subscription.id, group, kind, name))
            .and_then(|record| record.body.get("location").and_then(Value::as_str).map(str::to_owned))
    });
    let from_body = || {
        serde_json::from_slice::<Value>(&request.body)
            .ok()
            .and_then(|body| body.get("location").and_then(Value::as_str).map(str::to_owned))
    };
    let from_group = || {
        group.and_then(|group| {
            state
                .subscriptions
                .get(&subscription.id)
                .and_then(|record| record.resource_groups.get(&group.to_lowercase()))
                .map(|record| record.location.clone())
        })
    };
    let location = from_resource
        .or_else(from_body)
        .or_else(from_group)
        .unwrap_or_else(|| api_versions::ROUTING_LOCATION.to_owned());
    drop(state);
    api_versions::check_provider(request, kind.api_versions, kind.type_name, &location)
}

fn is(segment: &str, name: &str) -> bool {
    segment.eq_ignore_ascii_case(name)
}

/// Routes a path below `/subscriptions/{id}` to a modeled provider; `None` when no provider
/// here owns it.
pub(crate) fn route(
    shared: &Shared,
    request: &Incoming,
    subscription: &Subscription,
    rest: &[String],
) -> Option<Result<Response, ArmError>> {
    // Extension resources: `{scope}/providers/{namespace}/{type}[/{name}]`, the last
    // `providers` segment deciding.
    let last_providers = (0..rest.len()).rev().find(|index| is(&rest[*index], "providers") && index + 1 < rest.len());
    if let Some(index) = last_providers {
        let namespace = rest[index + 1].as_str();
        let tail = &rest[index + 2..];
        if is(namespace, "Microsoft.Authorization") {
            return Some(authorization::route(shared, request, subscription, &rest[..index], tail));
        }
        if is(namespace, "Microsoft.Insights")
            && index > 0
            && tail.first().is_some_and(|kind| is(kind, "dataCollectionRuleAssociations"))
        {
            return Some(data_collection::route_association(shared, request, subscription, &rest[..index], &tail[1..]));
        }
    }
    match rest {
        [providers, namespace, locations, location, collection, operation_id]
            if is(providers, "providers")
                && is(locations, "locations")
                && (is(collection, "operationStatuses") || is(collection, "operationResults")) =>
        {
            let versions = namespace_versions(namespace);
            if versions.is_empty() {
                return None;
            }
            Some(if is(collection, "operationStatuses") {
                lro::status(shared, request, subscription, namespace, location, operation_id, &versions)
            } else {
                lro::result(shared, request, subscription, namespace, location, operation_id, &versions)
            })
        }
        [collection] if is(collection, "resources") => Some(list_generic(shared, request, subscription, None)),
        [groups, group, collection] if is(groups, "resourcegroups") && is(collection, "resources") => {
            Some(list_generic(shared, request, subscription, Some(group)))
        }
        [providers, namespace, action]
            if is(providers, "providers")
                && is(namespace, "Microsoft.ContainerRegistry")
                && is(action, "checkNameAvailability") =>
        {
            Some(registries::check_name_availability(shared, request))
        }
        [providers, namespace, type_name] if is(providers, "providers") => {
            let kind = find_type(namespace, type_name)?;
            Some(list(shared, request, subscription, None, kind))
        }
        [groups, group, providers, namespace, type_name]
            if is(groups, "resourcegroups") && is(providers, "providers") =>
        {
            let kind = find_type(namespace, type_name)?;
            Some(list(shared, request, subscription, Some(group), kind))
        }
        [groups, group, providers, namespace, type_name, name]
            if is(groups, "resourcegroups") && is(providers, "providers") =>
        {
            let kind = find_type(namespace, type_name)?;
            Some(item(shared, request, subscription, group, kind, name))
        }
        _ => None,
    }
}

/// `GET .../providers/{namespace}/{type}` at a subscription or a resource group.
fn list(
    shared: &Shared,
    request: &Incoming,
    subscription: &Subscription,
    group: Option<&String>,
    kind: &'static ResourceType,
) -> Result<Response, ArmError> {
    let api_version = check_version(shared, request, subscription, kind, group.map(String::as_str), None)?;
    if request.method != Method::GET {
        return Err(method_not_allowed(&request.method, &[Method::GET]));
    }
    let state = shared.state();
    if let Some(group) = group {
        existing_group(&state, &subscription.id, group)?;
    }
    let suffix = format!("/providers/{}/{}/", kind.namespace, kind.type_name).to_lowercase();
    let group_prefix =
        group.map(|group| format!("/subscriptions/{}/resourcegroups/{}/", subscription.id, group.to_lowercase()));
    let value: Vec<Value> = state
        .subscriptions
        .get(&subscription.id)
        .map(|record| {
            record
                .resources
                .iter()
                .filter(|(key, _)| {
                    let segments: Vec<&str> = key.split('/').collect();
                    segments.len() == 9
                        && key.contains(&suffix)
                        && group_prefix.as_ref().is_none_or(|prefix| key.starts_with(prefix))
                })
                .map(|(_, record)| shape::answer(kind, api_version, record.body.clone()))
                .collect()
        })
        .unwrap_or_default();
    Ok(json_response(StatusCode::OK, &json!({"value": value})))
}

/// `GET /subscriptions/{id}[/resourceGroups/{rg}]/resources` (`Resources_List`,
/// `Resources_ListByResourceGroup`, api-version 2025-04-01): every tracked resource below
/// resource groups (not extension resources), as `GenericResourceExpanded`, optionally filtered.
///
/// The filters implemented (see [`filter`]): `resourceType eq '...'` and/or `name eq '...'`
/// joined by `and` (what the az CLI's lookup of a registry by name sends), or a tag filter,
/// `tagName eq '...'` optionally followed by `and tagValue eq '...'`. As the swagger documents,
/// a tag filter cannot be combined with other properties (400 `InvalidFilter`), and when a
/// resource is filtered by tag name and value its tags are not returned. Other filters are
/// refused: stricter than Azure.
fn list_generic(
    shared: &Shared,
    request: &Incoming,
    subscription: &Subscription,
    group: Option<&String>,
) -> Result<Response, ArmError> {
    api_versions::check_resources(request, &api_versions::RESOURCES)?;
    if request.method != Method::GET {
        return Err(method_not_allowed(&request.method, &[Method::GET]));
    }
    let text = filter::text(request);
    let unsupported = || {
        ArmError::bad_request(
            "InvalidFilter",
            format!(
                "The filter '{text}' is not supported. Supported filters are 'resourceType eq '...'' and 'name eq '...'' (either or both, joined by 'and'), 'tagName eq '...'' and 'tagName eq '...' and tagValue eq '...''."
            ),
        )
    };
    let clauses = filter::parse(&text).ok_or_else(unsupported)?;
    if !clauses.iter().all(|clause| clause.is_tag() || clause.is("resourceType") || clause.is("name")) {
        return Err(unsupported());
    }
    let tag_filter = if clauses.iter().any(filter::Clause::is_tag) {
        if !clauses.iter().all(filter::Clause::is_tag) {
            return Err(ArmError::bad_request(
                "InvalidFilter",
                format!(
                    "Invalid $filter '{text}' specified in the query string. A filter by tag name or value cannot be combined with other filters."
                ),
            ));
        }
        Some(filter::TagFilter::from_clauses(&clauses).ok_or_else(unsupported)?)
    } else {
        None
    };
    let wanted = |property: &str| -> Vec<&str> {
        clauses.iter().filter(|clause| clause.is(property)).map(|clause| clause.value.as_str()).collect()
    };
    let (wanted_types, wanted_names) = (wanted("resourceType"), wanted("name"));
    // Filtered by tag name and value, ARM leaves the tags out of the results.
    let shows_tags = tag_filter.as_ref().is_none_or(|tag_filter| tag_filter.value.is_none());
    let state = shared.state();
    if let Some(group) = group {
        existing_group(&state, &subscription.id, group)?;
    }
    let group_prefix =
        group.map(|group| format!("/subscriptions/{}/resourcegroups/{}/", subscription.id, group.to_lowercase()));
    let value: Vec<Value> = state
        .subscriptions
        .get(&subscription.id)
        .map(|record| {
            record
                .resources
                .iter()
                .filter(|(key, _)| {
                    key.split('/').count() == 9 && group_prefix.as_ref().is_none_or(|prefix| key.starts_with(prefix))
                })
                .map(|(_, record)| &record.body)
                .filter(|body| {
                    let text = |member: &str| body.get(member).and_then(Value::as_str).unwrap_or_default();
                    wanted_types.iter().all(|wanted| text("type").eq_ignore_ascii_case(wanted))
                        && wanted_names.iter().all(|wanted| text("name").eq_ignore_ascii_case(wanted))
                        && tag_filter
                            .as_ref()
                            .is_none_or(|tag_filter| tag_filter.matches(body.get("tags").and_then(Value::as_object)))
                })
                .map(|body| {
                    let mut generic = Map::new();
                    for member in ["id", "name", "type", "sku", "kind", "location", "managedBy", "tags", "identity"] {
                        if member == "tags" && !shows_tags {
                            continue;
                        }
                        if let Some(value) = body.get(member) {
                            generic.insert(member.to_owned(), value.clone());
                        }
                    }
                    Value::Object(generic)
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(json_response(StatusCode::OK, &page(shared, request, value)?))
}

/// The largest page `Resources_List` answers (its `$top` documents no maximum; ARM pages
/// generic lists at 1,000).
const PAGE_SIZE: usize = 1000;

/// Returns one page of `items`: `$top` items (at most [`PAGE_SIZE`]) from the offset a previous
/// page's `nextLink` carried in `$skiptoken`, with a `nextLink` when more remain, as ARM pages
/// lists. The token is opaque to clients; here it is the offset.
fn page(shared: &Shared, request: &Incoming, items: Vec<Value>) -> Result<Value, ArmError> {
    let number = |name: &str, default: usize| -> Result<usize, ArmError> {
        match request.query_values(name).as_slice() {
            [] => Ok(default),
            [text] => text.trim().parse::<usize>().map_err(|_| {
                ArmError::bad_request(
                    "InvalidQueryParameterValue",
                    format!("The value '{text}' of '{name}' is not valid."),
                )
            }),
            _ => Err(ArmError::bad_request(
                "InvalidQueryParameterValue",
                format!("The query parameter '{name}' was given more than once."),
            )),
        }
    };
    let top = number("$top", PAGE_SIZE)?.clamp(1, PAGE_SIZE);
    let skip = number("$skiptoken", 0)?;
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(skip).take(top).collect();
    let mut body = json!({"value": page});
    if skip.saturating_add(top) < total {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(
                url::form_urlencoded::parse(request.query.as_deref().unwrap_or_default().as_bytes())
                    .filter(|(name, _)| name != "$skiptoken"),
            )
            .append_pair("$skiptoken", &(skip + top).to_string())
            .finish();
        let base = request.base_url(shared);
        body["nextLink"] = json!(format!("{}{}?{query}", base.trim_end_matches('/'), request.raw_path));
    }
    Ok(body)
}

/// `GET|PUT|PATCH|DELETE .../resourceGroups/{rg}/providers/{namespace}/{type}/{name}`.
fn item(
    shared: &Shared,
    request: &Incoming,
    subscription: &Subscription,
    group: &str,
    kind: &'static ResourceType,
    name: &str,
) -> Result<Response, ArmError> {
    let api_version = check_version(shared, request, subscription, kind, Some(group), Some(name))?;
    let allowed = [Method::GET, Method::PUT, Method::PATCH, Method::DELETE];
    if !allowed.contains(&request.method) {
        return Err(method_not_allowed(&request.method, &allowed));
    }
    let key = key(&subscription.id, group, kind, name);
    match request.method {
        Method::GET => {
            let state = shared.state();
            let group_name = existing_group(&state, &subscription.id, group).or_else(|error| {
                if error.code == "ResourceGroupBeingDeleted" { Ok(group.to_owned()) } else { Err(error) }
            })?;
            record(&state, &subscription.id, &key)
                .map(|record| json_response(StatusCode::OK, &shape::answer(kind, api_version, record.body.clone())))
                .ok_or_else(|| not_found(kind, &group_name, name))
        }
        Method::PUT | Method::PATCH => write(shared, request, subscription, group, kind, name, &key, api_version),
        _ => delete(shared, request, subscription, group, kind, name, &key, api_version),
    }
}

#[allow(clippy::too_many_arguments)] // one per part of the request the write needs
fn write(
    shared: &Shared,
    request: &Incoming,
    subscription: &Subscription,
    group: &str,
    kind: &'static ResourceType,
    name: &str,
    key: &str,
    api_version: &str,
) -> Result<Response, ArmError> {
    let body = json_object_body(request)?;
    let is_put = request.method == Method::PUT;
    if is_put {
        kind.provider.validate_name(name)?;
    }
    // Read before the state is locked: the token store has a lock of its own.
    let caller = system_data::caller(shared, request);
    let mut guard = shared.state();
    let state = &mut *guard;
    let group_name = existing_group(state, &subscription.id, group)?;
    let existing = record(state, &subscription.id, key).cloned();
    check_conditions(request, existing.as_ref())?;
    if existing.as_ref().is_some_and(|record| record.operation.is_some()) {
        return Err(operation_in_progress(name));
    }
    let context = WriteContext {
        subscription,
        id: format!(
            "/subscriptions/{}/resourceGroups/{group_name}/providers/{}/{}/{name}",
            subscription.id, kind.namespace, kind.type_name
        ),
        resource_group: group_name.clone(),
        name,
        key: key.to_owned(),
        api_version,
    };
    let mut final_body = match (&existing, is_put) {
        (_, true) => kind.provider.put(shared, state, &context, existing.as_ref().map(|record| &record.body), body)?,
        (Some(record), false) => kind.provider.patch(shared, state, &context, &record.body, body)?,
        (None, false) => return Err(not_found(kind, &group_name, name)),
    };
    // Every type served here carries `systemData` in its swagger definition (see `system_data`).
    if let Some(caller) = &caller {
        system_data::stamp(shared, &mut final_body, existing.as_ref().map(|record| &record.body), caller);
    }
    let etag = new_etag();
    if let Some(member) = kind.provider.etag_member()
        && let Some(object) = final_body.as_object_mut()
    {
        object.insert(member.to_owned(), json!(etag));
    }
    let created = existing.is_none();
    let long_running = if is_put { kind.lro_put } else { kind.lro_patch };
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    if !long_running {
        let subscription_record =
            state.subscriptions.get_mut(&subscription.id).ok_or_else(|| resource_groups::not_found(group))?;
        subscription_record.resources.insert(
            key.to_owned(),
            ResourceRecord { body: final_body.clone(), final_body: None, etag, operation: None },
        );
        state.dirty = true;
        return Ok(json_response(status, &shape::answer(kind, api_version, final_body)));
    }
    let location = final_body.get("location").and_then(Value::as_str).unwrap_or_default().to_owned();
    let target = OperationTarget {
        subscription_id: &subscription.id,
        resource_id: key,
        namespace: kind.namespace,
        location: &location,
    };
    let action = if created { ResourceAction::Create } else { ResourceAction::Update };
    let operation_id = lro::start(shared, request, state, &target, action);
    let mut shown = final_body.clone();
    kind.provider.mark(&mut shown, if created { "Creating" } else { "Updating" });
    let subscription_record =
        state.subscriptions.get_mut(&subscription.id).ok_or_else(|| resource_groups::not_found(group))?;
    subscription_record.resources.insert(
        key.to_owned(),
        ResourceRecord {
            body: shown.clone(),
            final_body: Some(final_body),
            etag,
            operation: Some(operation_id.clone()),
        },
    );
    state.dirty = true;
    drop(guard);
    let mut response = json_response(status, &shape::answer(kind, api_version, shown));
    lro::insert_url(
        &mut response,
        "azure-asyncoperation",
        &lro::status_url(request, shared, &target, &operation_id, api_version),
    );
    response.headers_mut().insert(header::RETRY_AFTER, lro::retry_after(shared));
    Ok(response)
}

#[allow(clippy::too_many_arguments)] // one per part of the request the delete needs
fn delete(
    shared: &Shared,
    request: &Incoming,
    subscription: &Subscription,
    group: &str,
    kind: &'static ResourceType,
    name: &str,
    key: &str,
    api_version: &str,
) -> Result<Response, ArmError> {
    let mut guard = shared.state();
    let state = &mut *guard;
    existing_group(state, &subscription.id, group)?;
    let existing = record(state, &subscription.id, key).cloned();
    check_conditions(request, existing.as_ref())?;
    let Some(existing) = existing else {
        return Ok(empty_response(StatusCode::NO_CONTENT));
    };
    if existing.operation.is_some() {
        return Err(operation_in_progress(name));
    }
    kind.provider.on_delete(state, subscription, &existing.body);
    if !kind.lro_delete {
        remove(state, &subscription.id, key);
        return Ok(match kind.provider.delete_body(&existing.body) {
            Some(body) => json_response(StatusCode::OK, &body),
            None => empty_response(StatusCode::OK),
        });
    }
    let location = existing.body.get("location").and_then(Value::as_str).unwrap_or_default().to_owned();
    let target = OperationTarget {
        subscription_id: &subscription.id,
        resource_id: key,
        namespace: kind.namespace,
        location: &location,
    };
    let operation_id = lro::start(shared, request, state, &target, ResourceAction::Delete);
    if let Some(record) = state.subscriptions.get_mut(&subscription.id).and_then(|record| record.resources.get_mut(key))
    {
        kind.provider.mark(&mut record.body, "Deleting");
        record.operation = Some(operation_id.clone());
    }
    state.dirty = true;
    drop(guard);
    let mut response = empty_response(StatusCode::ACCEPTED);
    lro::insert_url(&mut response, "location", &lro::result_url(request, shared, &target, &operation_id, api_version));
    response.headers_mut().insert(header::RETRY_AFTER, lro::retry_after(shared));
    Ok(response)
}
