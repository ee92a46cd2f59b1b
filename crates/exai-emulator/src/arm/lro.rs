//! ARM's long-running operations on resources: starting them, and the two URLs a client polls.
//!
//! The protocol is the one documented in "Track asynchronous Azure operations"
//! (MicrosoftDocs/azure-docs `async-operations.md`):
//!
//! - a create or update answers 201/200 with `provisioningState: Creating|Updating`, an
//!   `Azure-AsyncOperation` header naming an operation-status resource and `Retry-After`;
//!   `GET .../providers/{Namespace}/locations/{location}/operationStatuses/{id}` answers 200 with
//!   `{id, name, status, startTime, endTime?, error?}` (common-types v6 `OperationStatusResult`),
//!   `status` being `InProgress` until it turns `Succeeded` or `Failed`;
//! - a delete answers 202 with `Location` (an operation result) and `Retry-After`;
//!   `GET .../operationResults/{id}` answers 202 while the operation runs, then 204 (a delete) or
//!   200 with the resource (a create or update), or the operation's error.
//!
//! Operations finish lazily (see [`crate::state::State::advance`]) once
//! [`Shared::operation_delay`] has passed: with no delay, at the next request.
//!
//! # Failing operations
//!
//! Whether an operation ends `Failed` is decided once, when it starts, by [`start`]: it asks
//! [`planned_failure`], the fault-injection hook, and stores the answer in the operation record
//! (`OperationKind::Resource::fail`). A failed operation leaves its resource in place with
//! `provisioningState: Failed` (a failed delete too), as ARM does.

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde_json::json;
use uuid::Uuid;

use super::toolkit::{ArmError, Subscription, method_not_allowed};
use crate::clock;
use crate::context::Shared;
use crate::http::Incoming;
use crate::http::{empty_response, json_response};
use crate::state::{OperationFailure, OperationKind, OperationRecord, OperationStatus, ResourceAction, State};

/// Where an operation runs: what its status URL is built from.
pub(crate) struct OperationTarget<'a> {
    /// The subscription (lowercase GUID).
    pub subscription_id: &'a str,
    /// The lowercase id of the resource.
    pub resource_id: &'a str,
    /// The provider namespace, canonical casing (`Microsoft.ContainerService`).
    pub namespace: &'a str,
    /// The resource's location (`francecentral`).
    pub location: &'a str,
}

/// The fault-injection hook: returns the error an operation starting now is to end with, or
/// `None` for an operation that succeeds.
///
/// Called once per operation, from [`start`], while the state is locked; it asks
/// [`crate::faults::Faults::lro_failure`] whether an `lro-failed` rule matches the request that
/// starts the operation.
pub(crate) fn planned_failure(shared: &Shared, request: &Incoming) -> Option<OperationFailure> {
    shared
        .faults
        .lro_failure(request.method.as_str(), &request.raw_path)
        .map(|(code, message)| OperationFailure { code, message })
}

/// Starts a long-running operation on a resource for `request` and returns its id.
///
/// The operation finishes [`Shared::operation_delay`] from now; whether it fails is decided
/// here, through [`planned_failure`].
pub(crate) fn start(
    shared: &Shared,
    request: &Incoming,
    state: &mut State,
    target: &OperationTarget<'_>,
    action: ResourceAction,
) -> String {
    let fail = planned_failure(shared, request);
    start_with(shared, state, target, action, fail)
}

/// Starts an operation whose outcome is already decided (`fail` is `Some` for one that is to
/// end `Failed`).
pub(crate) fn start_with(
    shared: &Shared,
    state: &mut State,
    target: &OperationTarget<'_>,
    action: ResourceAction,
    fail: Option<OperationFailure>,
) -> String {
    let now_ms = shared.clock.now_unix_ms();
    let delay_ms = i64::try_from(shared.operation_delay.as_millis()).unwrap_or(i64::MAX);
    let operation_id = Uuid::new_v4().to_string();
    if let Some(subscription) = state.subscriptions.get_mut(target.subscription_id) {
        subscription.operations.insert(
            operation_id.clone(),
            OperationRecord {
                operation: OperationKind::Resource {
                    resource_id: target.resource_id.to_owned(),
                    action,
                    namespace: target.namespace.to_owned(),
                    location: target.location.to_owned(),
                    fail,
                },
                status: OperationStatus::Running,
                started_at_ms: now_ms,
                completes_at_ms: now_ms.saturating_add(delay_ms),
            },
        );
    }
    state.dirty = true;
    operation_id
}

/// Returns the path (without host and query) of an operation's status or result resource.
fn path(subscription_id: &str, namespace: &str, location: &str, collection: &str, operation_id: &str) -> String {
    format!("/subscriptions/{subscription_id}/providers/{namespace}/locations/{location}/{collection}/{operation_id}")
}

/// Returns the `Azure-AsyncOperation` URL of an operation.
pub(crate) fn status_url(
    request: &Incoming,
    shared: &Shared,
    target: &OperationTarget<'_>,
    operation_id: &str,
    api_version: &str,
) -> String {
    let base = request.base_url(shared);
    let path = path(target.subscription_id, target.namespace, target.location, "operationStatuses", operation_id);
    format!("{}{}?api-version={api_version}", base.trim_end_matches('/'), path)
}

/// Returns the `Location` URL of an operation.
pub(crate) fn result_url(
    request: &Incoming,
    shared: &Shared,
    target: &OperationTarget<'_>,
    operation_id: &str,
    api_version: &str,
) -> String {
    let base = request.base_url(shared);
    let path = path(target.subscription_id, target.namespace, target.location, "operationResults", operation_id);
    format!("{}{}?api-version={api_version}", base.trim_end_matches('/'), path)
}

/// Returns the `Retry-After` value, in whole seconds, for an operation started now.
pub(crate) fn retry_after(shared: &Shared) -> HeaderValue {
    HeaderValue::from(shared.operation_delay.as_secs())
}

/// Adds a header whose value is a URL, when it is a valid header value.
pub(crate) fn insert_url(response: &mut Response, name: &'static str, url: &str) {
    if let Ok(value) = HeaderValue::from_str(url) {
        response.headers_mut().insert(name, value);
    }
}

/// The 404 for an operation id the emulator does not know.
fn not_found(operation_id: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "OperationNotFound",
        format!("The operation '{operation_id}' could not be found."),
    )
}

/// What the poll routes need of an operation.
struct Polled {
    record: OperationRecord,
    resource_id: String,
    action: ResourceAction,
    location: String,
    fail: Option<OperationFailure>,
}

fn find(
    shared: &Shared,
    subscription: &Subscription,
    namespace: &str,
    location: &str,
    operation_id: &str,
) -> Result<Polled, ArmError> {
    let state = shared.state();
    let record = state
        .subscriptions
        .get(&subscription.id)
        .and_then(|record| record.operations.get(&operation_id.to_ascii_lowercase()))
        .cloned()
        .ok_or_else(|| not_found(operation_id))?;
    match &record.operation {
        OperationKind::Resource { resource_id, action, namespace: own_namespace, location: own_location, fail }
            if own_namespace.eq_ignore_ascii_case(namespace) && own_location.eq_ignore_ascii_case(location) =>
        {
            Ok(Polled {
                resource_id: resource_id.clone(),
                action: *action,
                location: own_location.clone(),
                fail: fail.clone(),
                record: record.clone(),
            })
        }
        _ => Err(not_found(operation_id)),
    }
}

/// Returns the seconds left before an operation is due, rounded up.
fn seconds_left(record: &OperationRecord, now_ms: i64) -> u64 {
    let remaining_ms = record.completes_at_ms.saturating_sub(now_ms).max(0);
    u64::try_from((remaining_ms + 999) / 1000).unwrap_or(0)
}

/// Checks the api-version of an operation's status or result: the namespace's versions (see
/// `resources::namespace_versions`), refused as the provider refuses them.
fn check_operation_version(
    request: &Incoming,
    api_versions: &[&str],
    type_name: &str,
    location: &str,
) -> Result<(), ArmError> {
    if api_versions.contains(&super::api_versions::requested(request).as_str()) {
        return Ok(());
    }
    Err(super::api_versions::refuse_provider(request, api_versions, type_name, location))
}

/// `GET /subscriptions/{id}/providers/{Namespace}/locations/{location}/operationStatuses/{op}`.
pub(crate) fn status(
    shared: &Shared,
    request: &Incoming,
    subscription: &Subscription,
    namespace: &str,
    location: &str,
    operation_id: &str,
    api_versions: &[&str],
) -> Result<Response, ArmError> {
    check_operation_version(request, api_versions, "locations/operationStatuses", location)?;
    if request.method != Method::GET {
        return Err(method_not_allowed(&request.method, &[Method::GET]));
    }
    let polled = find(shared, subscription, namespace, location, operation_id)?;
    let canonical = canonical_namespace(namespace);
    let id = path(&subscription.id, &canonical, &polled.location, "operationStatuses", operation_id);
    let start = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(polled.record.started_at_ms) * 1_000_000)
        .map(clock::rfc3339)
        .unwrap_or_default();
    let mut body = json!({
        "id": id,
        "name": operation_id,
        "status": match polled.record.status {
            OperationStatus::Running => "InProgress",
            OperationStatus::Succeeded => "Succeeded",
            OperationStatus::Failed => "Failed",
        },
        "startTime": start,
    });
    if polled.record.status != OperationStatus::Running {
        let end =
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(polled.record.completes_at_ms) * 1_000_000)
                .map(clock::rfc3339)
                .unwrap_or_default();
        body["endTime"] = json!(end);
        body["percentComplete"] = json!(100);
    }
    if let (OperationStatus::Failed, Some(fail)) = (polled.record.status, &polled.fail) {
        body["error"] = json!({"code": fail.code, "message": fail.message});
    }
    let mut response = json_response(StatusCode::OK, &body);
    if polled.record.status == OperationStatus::Running {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds_left(&polled.record, shared.clock.now_unix_ms())));
    }
    Ok(response)
}

/// `GET /subscriptions/{id}/providers/{Namespace}/locations/{location}/operationResults/{op}`.
pub(crate) fn result(
    shared: &Shared,
    request: &Incoming,
    subscription: &Subscription,
    namespace: &str,
    location: &str,
    operation_id: &str,
    api_versions: &[&str],
) -> Result<Response, ArmError> {
    check_operation_version(request, api_versions, "locations/operationResults", location)?;
    if request.method != Method::GET {
        return Err(method_not_allowed(&request.method, &[Method::GET]));
    }
    let polled = find(shared, subscription, namespace, location, operation_id)?;
    match polled.record.status {
        OperationStatus::Running => {
            let mut response = empty_response(StatusCode::ACCEPTED);
            let url = format!("{}{}", request.base_url(shared).trim_end_matches('/'), request.raw_path);
            let url = match &request.query {
                Some(query) => format!("{url}?{query}"),
                None => url,
            };
            insert_url(&mut response, "location", &url);
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(seconds_left(&polled.record, shared.clock.now_unix_ms())),
            );
            Ok(response)
        }
        OperationStatus::Failed => {
            // ARM answers a failed operation's result with an error status and its error; 400
            // rather than 5xx, so clients do not retry the poll itself.
            let fail = polled.fail.unwrap_or(OperationFailure {
                code: "OperationFailed".to_owned(),
                message: "The operation failed.".to_owned(),
            });
            Ok(json_response(StatusCode::BAD_REQUEST, &json!({"error": {"code": fail.code, "message": fail.message}})))
        }
        OperationStatus::Succeeded => match polled.action {
            ResourceAction::Delete => Ok(empty_response(StatusCode::NO_CONTENT)),
            ResourceAction::Create | ResourceAction::Update => {
                let body = shared
                    .state()
                    .subscriptions
                    .get(&subscription.id)
                    .and_then(|record| record.resources.get(&polled.resource_id))
                    .map(|record| record.body.clone());
                // The resource's type is the `{namespace}/{type}` after its last `providers`.
                let segments: Vec<&str> = polled.resource_id.split('/').collect();
                let full_type = segments
                    .iter()
                    .rposition(|segment| *segment == "providers")
                    .and_then(|index| segments.get(index + 1..index + 3))
                    .map(|parts| parts.join("/"))
                    .unwrap_or_default();
                Ok(match body {
                    Some(body) => json_response(
                        StatusCode::OK,
                        &super::api_versions::shape::answer_for(
                            &full_type,
                            &super::api_versions::requested(request),
                            body,
                        ),
                    ),
                    None => empty_response(StatusCode::NO_CONTENT),
                })
            }
        },
    }
}

/// Returns a namespace in its canonical casing when the emulator models it.
pub(crate) fn canonical_namespace(namespace: &str) -> String {
    super::resources::TYPES
        .iter()
        .map(|kind| kind.namespace)
        .find(|known| known.eq_ignore_ascii_case(namespace))
        .map(str::to_owned)
        .unwrap_or_else(|| namespace.to_owned())
}
