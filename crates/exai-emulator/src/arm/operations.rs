//! Long-running operation results: `GET /subscriptions/{id}/operationresults/{operation}`.
//!
//! The `Location` protocol of ARM's asynchronous operations: 202 (with `Location` and
//! `Retry-After`) while the operation runs, 200 once it has finished. Operations advance lazily
//! (see [`crate::state::State::advance`]), so a poll is also what observes completion.

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;

use super::resource_groups;
use super::toolkit::{ArmError, Subscription, check_api_version, method_not_allowed};
use crate::context::Shared;
use crate::http::Incoming;
use crate::http::empty_response;
use crate::state::OperationStatus;

/// Returns the URL a client polls for an operation's result.
pub(crate) fn location(request: &Incoming, shared: &Shared, subscription_id: &str, operation_id: &str) -> String {
    format!(
        "{}subscriptions/{subscription_id}/operationresults/{operation_id}?api-version={}",
        request.base_url(shared),
        resource_groups::API_VERSIONS.first().copied().unwrap_or_default()
    )
}

/// `GET /subscriptions/{id}/operationresults/{operation}`.
pub(crate) fn result(
    shared: &Shared,
    request: &Incoming,
    subscription: &Subscription,
    operation_id: &str,
) -> Result<Response, ArmError> {
    check_api_version(request, resource_groups::API_VERSIONS)?;
    if request.method != Method::GET {
        return Err(method_not_allowed(&request.method, &[Method::GET]));
    }
    let operation = shared
        .state()
        .subscriptions
        .get(&subscription.id)
        .and_then(|subscription| subscription.operations.get(operation_id).cloned())
        .ok_or_else(|| {
            ArmError::new(
                StatusCode::NOT_FOUND,
                "OperationNotFound",
                format!("The operation '{operation_id}' could not be found in subscription '{}'.", subscription.id),
            )
        })?;
    match operation.status {
        // Resource-group deletes never fail; a failed one would still be over.
        OperationStatus::Succeeded | OperationStatus::Failed => Ok(empty_response(StatusCode::OK)),
        OperationStatus::Running => {
            let remaining_ms = operation.completes_at_ms - shared.clock.now_unix_ms();
            let retry_after = u64::try_from(remaining_ms / 1000).unwrap_or(0);
            let mut response = empty_response(StatusCode::ACCEPTED);
            let headers = response.headers_mut();
            let location = location(request, shared, &subscription.id, operation_id);
            if let Ok(value) = HeaderValue::from_str(&location) {
                headers.insert(header::LOCATION, value);
            }
            headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            Ok(response)
        }
    }
}
