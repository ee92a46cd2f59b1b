//! Azure Resource Manager: authentication, subscriptions, api-versions, errors, headers, and the
//! routing of a request to the provider that owns it.
//!
//! Every ARM request but cloud discovery (`metadata`, answered to anyone) passes the same gate,
//! in ARM's order: bearer token (present, issued here, not
//! expired, for ARM's audience), subscription id (a GUID, bound to the token's tenant on first
//! use, its first user becoming its Owner), `api-version` (present), authorization (the caller's
//! role assignments must grant the request's action over its scope, see `rbac`), then the route,
//! whose provider checks the api-version it supports, the method and the body. Each provider is one module with its own router
//! (`resource_groups`, `operations`, `subscriptions`); providers below resource groups
//! (`registries`, `workspaces`, `data_collection`, `managed_clusters`) share the tracked-resource
//! framework of `resources` and the long-running operations of `lro`, and `authorization` serves
//! role assignments at any scope. A new resource type adds a module and a line in
//! [`resources::TYPES`].

pub(crate) mod api_versions;
pub(crate) mod authorization;
pub(crate) mod data_collection;
pub(crate) mod filter;
pub(crate) mod locations;
pub(crate) mod lro;
pub(crate) mod managed_clusters;
pub(crate) mod metadata;
pub(crate) mod operations;
pub(crate) mod provider;
pub(crate) mod rbac;
pub(crate) mod registries;
pub(crate) mod resource_groups;
pub(crate) mod resources;
pub(crate) mod subscriptions;
pub(crate) mod system_data;
pub(crate) mod toolkit;
pub(crate) mod workspaces;

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use uuid::Uuid;

use self::toolkit::{ARM_AUDIENCES, ArmError, Subscription, require_api_version};
use crate::EmulatorError;
use crate::auth::{BearerFailure, TokenInfo};
use crate::clock::{self, Clock};
use crate::context::Shared;
use crate::http::{Incoming, parse_guid};

/// What the gate learned about a request, for the response headers.
#[derive(Default)]
struct Context {
    /// The subscription the request was counted against.
    subscription: Option<String>,
    /// Set when the answer is a list to trim to what a principal may read: the subscription and
    /// the principal's object id.
    trim_for: Option<(String, String)>,
}

/// Answers an ARM request.
pub(crate) async fn handle(shared: &Shared, request: &Incoming) -> Response {
    shared.state().advance(shared.clock.now_unix_ms());
    let mut context = Context::default();
    let result = route(shared, request, &mut context);
    let result = match (result, context.trim_for.take()) {
        (Ok(response), Some((subscription_id, principal_id))) => {
            trim_list(shared, &subscription_id, &principal_id, response).await
        }
        (result, _) => result,
    };
    finish(shared, request, &context, result)
}

/// Trims a list answer to the items a caller may read (see [`rbac`]).
async fn trim_list(
    shared: &Shared,
    subscription_id: &str,
    principal_id: &str,
    response: Response,
) -> Result<Response, ArmError> {
    if !response.status().is_success() {
        return Ok(response);
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|error| ArmError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError", format!("{error}")))?;
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Ok(Response::from_parts(parts, axum::body::Body::from(bytes)));
    };
    rbac::trim_list(&shared.state(), subscription_id, principal_id, &mut value);
    Ok(Response::from_parts(parts, axum::body::Body::from(value.to_string())))
}

/// Answers an ARM request whose body was too large to read.
pub(crate) fn too_large(request: &Incoming, clock: &Clock) -> Response {
    let error = ArmError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "RequestEntityTooLarge",
        "The request content size exceeds the maximum of 4194304 bytes.",
    );
    finish_headers(request, &Context::default(), None, clock, error.into_response())
}

/// Answers an ARM request whose change could not be saved to the state file.
pub(crate) fn state_not_saved(request: &Incoming, error: &EmulatorError, clock: &Clock) -> Response {
    let first_line = error.to_string();
    let first_line = first_line.lines().next().unwrap_or_default().to_owned();
    let error = ArmError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalServerError",
        format!("The emulator applied the request but could not save its state file: {first_line}."),
    );
    finish_headers(request, &Context::default(), None, clock, error.into_response())
}

fn finish(shared: &Shared, request: &Incoming, context: &Context, result: Result<Response, ArmError>) -> Response {
    let response = result.unwrap_or_else(ArmError::into_response);
    finish_headers(request, context, Some(shared), &shared.clock, response)
}

fn finish_headers(
    request: &Incoming,
    context: &Context,
    shared: Option<&Shared>,
    clock: &Clock,
    mut response: Response,
) -> Response {
    let request_id = Uuid::new_v4().to_string();
    // ARM keeps a client's correlation id when it is a GUID and makes one up otherwise.
    let correlation_id = request
        .header("x-ms-correlation-request-id")
        .and_then(parse_guid)
        .unwrap_or_else(|| Uuid::new_v4().to_string());
    let routing_id = format!("LOCALHOST:{}:{}", clock::compact(clock.now()), Uuid::new_v4());
    let mut headers: Vec<(&str, String)> = vec![
        ("x-ms-request-id", request_id),
        ("x-ms-correlation-request-id", correlation_id),
        ("x-ms-routing-request-id", routing_id),
    ];
    if let Some(client_request_id) = request.header("x-ms-client-request-id") {
        headers.push(("x-ms-client-request-id", client_request_id.to_owned()));
    }
    if let (Some(subscription), Some(shared)) = (&context.subscription, shared) {
        let write = !matches!(request.method, Method::GET | Method::HEAD);
        let (name, remaining) = shared.rate_limits.lock().unwrap_or_else(std::sync::PoisonError::into_inner).count(
            subscription,
            write,
            shared.clock.now_unix_ms(),
        );
        headers.push((name, remaining.to_string()));
    }
    let response_headers = response.headers_mut();
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response_headers.insert(name, value);
        }
    }
    response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response_headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response_headers.insert(header::EXPIRES, HeaderValue::from_static("-1"));
    response_headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response_headers
        .insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    response
}

/// Returns the tenant a 401's challenge should send the client to.
fn challenge_tenant(shared: &Shared, request: &Incoming, token: Option<&TokenInfo>) -> String {
    let subscription_tenant = match request.segments.as_slice() {
        [first, subscription, ..] if first.eq_ignore_ascii_case("subscriptions") => parse_guid(subscription)
            .and_then(|id| shared.state().subscriptions.get(&id).map(|record| record.tenant_id.clone())),
        _ => None,
    };
    subscription_tenant.or_else(|| token.map(|token| token.tenant_id.clone())).unwrap_or_else(|| "common".to_owned())
}

fn authenticate(shared: &Shared, request: &Incoming) -> Result<TokenInfo, ArmError> {
    let result = crate::auth::authenticate(&shared.tokens(), &request.headers);
    let (code, message) = match result {
        Ok(token) if ARM_AUDIENCES.contains(&token.audience.as_str()) => return Ok(token),
        Ok(token) => {
            let allowed = ARM_AUDIENCES.iter().map(|audience| format!("'{audience}'")).collect::<Vec<_>>().join(",");
            let tenant = challenge_tenant(shared, request, Some(&token));
            return Err(ArmError::unauthorized(
                &tenant,
                "InvalidAuthenticationTokenAudience",
                format!(
                    "The access token has been obtained for wrong audience or resource '{}'. It should exactly match with one of the allowed audiences {allowed}.",
                    token.audience
                ),
            ));
        }
        Err(BearerFailure::Missing) => {
            ("AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.".to_owned())
        }
        Err(BearerFailure::Malformed) => (
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is provided in an invalid format.".to_owned(),
        ),
        Err(BearerFailure::Unknown) => ("InvalidAuthenticationToken", "The access token is invalid.".to_owned()),
        Err(BearerFailure::Expired { expires_at, now }) => (
            "ExpiredAuthenticationToken",
            format!(
                "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
                clock::dotnet_general(expires_at),
                clock::dotnet_general(now)
            ),
        ),
    };
    let tenant = challenge_tenant(shared, request, None);
    Err(ArmError::unauthorized(&tenant, code, message))
}

/// Returns the subscription a request names, creating it in the token's tenant on first use.
fn bind_subscription(shared: &Shared, token: &TokenInfo, subscription_id: &str) -> Result<Subscription, ArmError> {
    let mut state = shared.state();
    subscriptions::ensure(&mut state, subscription_id, &token.tenant_id, &token.object_id, &shared.clock.now_rfc3339());
    let Some(record) = state.subscriptions.get(subscription_id) else {
        return Err(ArmError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            format!("The subscription '{subscription_id}' could not be created."),
        ));
    };
    let record = Subscription {
        id: record.subscription_id.clone(),
        tenant_id: record.tenant_id.clone(),
        display_name: record.display_name.clone(),
    };
    drop(state);
    if record.tenant_id != token.tenant_id {
        let expected = &record.tenant_id;
        return Err(ArmError::unauthorized(
            expected,
            "InvalidAuthenticationTokenTenant",
            format!(
                "The access token is from the wrong issuer 'https://sts.windows.net/{}/'. It must match the tenant 'https://sts.windows.net/{expected}/' associated with this subscription. Please use the authority (URL) 'https://login.windows.net/{expected}' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, but information about new tenant could take time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later.",
                token.tenant_id
            ),
        ));
    }
    Ok(record)
}

fn route(shared: &Shared, request: &Incoming, context: &mut Context) -> Result<Response, ArmError> {
    // Cloud discovery is the one ARM route answered without a token.
    if metadata::is_endpoints(&request.segments) {
        return metadata::endpoints(shared, request);
    }
    let token = authenticate(shared, request)?;
    tracing::debug!(tenant = %token.tenant_id, client = %token.client_id, "authenticated an ARM request");
    let segments = request.segments.as_slice();
    let is_subscriptions = segments.first().is_some_and(|first| first.eq_ignore_ascii_case("subscriptions"));
    match segments {
        [_] if is_subscriptions => {
            require_api_version(request)?;
            subscriptions::list(shared, request, &token)
        }
        [_, subscription, rest @ ..] if is_subscriptions => {
            let subscription_id = parse_guid(subscription).ok_or_else(|| {
                ArmError::bad_request(
                    "InvalidSubscriptionId",
                    format!("The provided subscription identifier '{subscription}' is malformed or invalid."),
                )
            })?;
            let record = bind_subscription(shared, &token, &subscription_id)?;
            context.subscription = Some(subscription_id);
            require_api_version(request)?;
            if let Some(answer) = rbac::permissions(shared, request, &record, &token, rest) {
                return answer;
            }
            let decision = rbac::authorize(&shared.state(), &request.method, &record.id, &token, rest)?;
            if matches!(decision, rbac::Decision::TrimList) {
                context.trim_for = Some((record.id.clone(), token.object_id.clone()));
            }
            route_subscription(shared, request, &record, rest)
        }
        _ => {
            require_api_version(request)?;
            Err(unknown_resource_type(request, segments))
        }
    }
}

/// Routes a request below `/subscriptions/{id}` to the provider that owns it.
fn route_subscription(
    shared: &Shared,
    request: &Incoming,
    subscription: &Subscription,
    rest: &[String],
) -> Result<Response, ArmError> {
    let is = |segment: &String, name: &str| segment.eq_ignore_ascii_case(name);
    if let Some(answer) = resources::route(shared, request, subscription, rest) {
        return answer;
    }
    match rest {
        [] => subscriptions::get(request, subscription),
        [collection] if is(collection, "locations") => locations::list(request, subscription),
        [collection] if is(collection, "resourcegroups") => resource_groups::collection(shared, request, subscription),
        [collection, name] if is(collection, "resourcegroups") => {
            resource_groups::item(shared, request, subscription, name)
        }
        [collection, id] if is(collection, "operationresults") => operations::result(shared, request, subscription, id),
        [collection, _, providers, namespace, resource_type, ..]
            if is(collection, "resourcegroups") && is(providers, "providers") =>
        {
            Err(no_registered_provider(request, namespace, resource_type))
        }
        [providers, namespace, resource_type, ..] if is(providers, "providers") => {
            Err(no_registered_provider(request, namespace, resource_type))
        }
        _ => Err(unknown_resource_type(request, rest)),
    }
}

/// The 404 for a path under `/providers/{namespace}/{type}` the emulator does not model.
fn no_registered_provider(request: &Incoming, namespace: &str, resource_type: &str) -> ArmError {
    let version = request.query_values("api-version").join(",");
    ArmError::new(
        StatusCode::NOT_FOUND,
        "NoRegisteredProviderFound",
        format!(
            "No registered resource provider found for API version '{version}' and type '{resource_type}' in namespace '{namespace}'. The exai emulator does not model '{namespace}/{resource_type}'."
        ),
    )
}

/// The 404 for a path that names no resource type the emulator models.
fn unknown_resource_type(request: &Incoming, segments: &[String]) -> ArmError {
    // Resource type names sit at even positions of a path; names at odd ones.
    let resource_type = segments.iter().step_by(2).map(String::as_str).collect::<Vec<_>>().join("/");
    let version = request.query_values("api-version").join(",");
    ArmError::new(
        StatusCode::NOT_FOUND,
        "InvalidResourceType",
        format!(
            "The resource type '{resource_type}' could not be found in the namespace 'Microsoft.Resources' for api version '{version}'."
        ),
    )
}
