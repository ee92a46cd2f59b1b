//! The emulator's own routes, under `/_emulator/`: things Azure has no API for but tests need.
//!
//! - `GET /_emulator/requests`: the request log, a JSON array of [`crate::RecordedRequest`].
//! - `POST /_emulator/reset`: forgets all state and the request log (issued tokens stay valid),
//!   back to a new emulator's state (the development subscription exists).
//! - `POST /_emulator/tokens`: mints a token with any tenant, audience and lifetime, so tests can
//!   reach the expired and wrong-audience paths without waiting an hour.
//! - `GET /_emulator/export`: every ARM resource (resource groups first) as `{id: json}`, the
//!   JSON being exactly what GET answers.
//! - `POST /_emulator/seed`: loads `{id: json}` (as captured from real Azure, or as exported), so
//!   GET of each id answers its JSON verbatim; subscriptions (bound to the development tenant, or
//!   to `?tenantId=`) and missing resource groups (in the resource's location) are created as
//!   needed. Resource groups are stored as records, so their GET is rendered, not verbatim.
//!
//! - `GET /_emulator/api-versions`: every api-version served, per resource type, with the spec
//!   file that publishes it (`{type: [{"version", "source"}]}`, see `arm::api_versions`).
//!
//! - `POST /_emulator/principals`: creates an application and its service principal in the
//!   development tenant, with a client secret and role assignments, so a test can sign in as a
//!   Reader, a Contributor, ... (see [`create_principal`]).
//!
//! They need no token, but answer only clients on the emulator's own machine (a loopback peer):
//! an emulator listening on a public address must not let the network reset it.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::Duration;

use crate::auth::{ARM_AUDIENCE, TOKEN_LIFETIME_SECONDS};
use crate::context::Shared;
use crate::http::{Incoming, parse_guid};
use crate::http::{empty_response, json_response};
use crate::state::{ProvisioningState, ResourceGroupRecord, ResourceRecord, State, SubscriptionRecord};

/// The longest lifetime, either way, of a minted token.
const TEN_YEARS_SECONDS: i64 = 10 * 365 * 24 * 60 * 60;

/// The first path segment of every admin route.
pub(crate) const PREFIX: &str = "_emulator";

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    json_response(status, &json!({"error": {"code": code, "message": message.into()}}))
}

fn method_not_allowed(request: &Incoming, allowed: Method) -> Response {
    let mut response = error(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!("The requested resource does not support http method '{}'.", request.method),
    );
    if let Ok(value) = axum::http::HeaderValue::from_str(allowed.as_str()) {
        response.headers_mut().insert(axum::http::header::ALLOW, value);
    }
    response
}

/// Answers a request under `/_emulator/`.
pub(crate) fn handle(shared: &Shared, request: &Incoming) -> Response {
    if !request.peer.ip().is_loopback() {
        return error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "The emulator's /_emulator routes answer only clients on the same machine.",
        );
    }
    match request.segments.get(1..).unwrap_or_default() {
        [route] if route == "requests" => {
            if request.method != Method::GET {
                return method_not_allowed(request, Method::GET);
            }
            match serde_json::to_value(shared.log.entries()) {
                Ok(entries) => json_response(StatusCode::OK, &entries),
                Err(failure) => error(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError", failure.to_string()),
            }
        }
        [route] if route == "reset" => {
            if request.method != Method::POST {
                return method_not_allowed(request, Method::POST);
            }
            {
                let mut state = shared.state();
                *state = State::default();
                // Back to the state of a new emulator, where the development subscription exists.
                crate::arm::subscriptions::ensure_development(&mut state, &shared.clock.now_rfc3339());
                state.dirty = true;
            }
            shared.log.clear();
            empty_response(StatusCode::NO_CONTENT)
        }
        [route, ..] if route == "faults" => crate::faults::handle_admin(shared, request),
        [route] if route == "export" => {
            if request.method != Method::GET {
                return method_not_allowed(request, Method::GET);
            }
            json_response(StatusCode::OK, &export(&shared.state()))
        }
        [route] if route == "seed" => {
            if request.method != Method::POST {
                return method_not_allowed(request, Method::POST);
            }
            match seed(shared, request) {
                Ok(count) => json_response(StatusCode::OK, &json!({"seeded": count})),
                Err(message) => error(StatusCode::BAD_REQUEST, "InvalidSeed", message),
            }
        }
        [route] if route == "api-versions" => {
            if request.method != Method::GET {
                return method_not_allowed(request, Method::GET);
            }
            json_response(StatusCode::OK, &crate::arm::api_versions::listing())
        }
        [route] if route == "principals" => {
            if request.method != Method::POST {
                return method_not_allowed(request, Method::POST);
            }
            create_principal(shared, request)
        }
        [route] if route == "tokens" => {
            if request.method != Method::POST {
                return method_not_allowed(request, Method::POST);
            }
            mint_token(shared, request)
        }
        _ => error(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!(
                "The emulator has no admin route '{}'. Its routes are GET /_emulator/requests, POST /_emulator/reset, POST /_emulator/tokens, POST /_emulator/principals, GET /_emulator/api-versions, GET /_emulator/export and POST /_emulator/seed.",
                request.raw_path
            ),
        ),
    }
}

/// Returns every ARM resource as `{id: json}`: per subscription, its resource groups, then its
/// resources by id.
fn export(state: &State) -> Value {
    let mut exported = Map::new();
    for subscription in state.subscriptions.values() {
        for group in subscription.resource_groups.values() {
            let body = crate::arm::resource_groups::to_json(&subscription.subscription_id, group);
            let id = body.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
            exported.insert(id, body);
        }
        for (key, record) in &subscription.resources {
            let id = record.body.get("id").and_then(Value::as_str).unwrap_or(key).to_owned();
            exported.insert(id, record.body.clone());
        }
    }
    Value::Object(exported)
}

/// Splits `/subscriptions/{id}/...` into the subscription id and the segments after it.
fn split_id(id: &str) -> Result<(String, Vec<String>), String> {
    let segments: Vec<&str> = id.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        [first, subscription, rest @ ..] if first.eq_ignore_ascii_case("subscriptions") => {
            let subscription = parse_guid(subscription)
                .ok_or_else(|| format!("`{id}`: the subscription id `{subscription}` is not a GUID"))?;
            Ok((subscription, rest.iter().map(|segment| (*segment).to_owned()).collect()))
        }
        _ => Err(format!("`{id}` is not an ARM id below /subscriptions/{{id}}")),
    }
}

/// Loads `{id: json}` into the state and returns how many entries it loaded.
///
/// All entries are checked before any is applied, so a refused seed changes nothing.
fn seed(shared: &Shared, request: &Incoming) -> Result<usize, String> {
    let body: Value =
        serde_json::from_slice(&request.body).map_err(|failure| format!("the body is not JSON: {failure}"))?;
    let Value::Object(entries) = body else {
        return Err("the body must be a JSON object of ARM id to resource JSON".to_owned());
    };
    let tenant_id = match request.query_values("tenantId").first() {
        Some(tenant) => parse_guid(tenant).ok_or_else(|| format!("the tenant id `{tenant}` is not a GUID"))?,
        None => crate::DEV_TENANT_ID.to_owned(),
    };
    let mut groups = Vec::new();
    let mut resources = Vec::new();
    for (id, value) in entries {
        if !value.is_object() {
            return Err(format!("`{id}`: the resource JSON must be an object"));
        }
        let (subscription, rest) = split_id(&id)?;
        match rest.as_slice() {
            [groups_segment, name] if groups_segment.eq_ignore_ascii_case("resourcegroups") => {
                let location = value
                    .get("location")
                    .and_then(Value::as_str)
                    .and_then(crate::arm::locations::normalize)
                    .ok_or_else(|| format!("`{id}`: a resource group needs a `location` naming an Azure region"))?;
                groups.push((subscription, name.clone(), location, value));
            }
            [] => return Err(format!("`{id}`: subscriptions are created on first use, not seeded")),
            _ => resources.push((subscription, rest, id, value)),
        }
    }
    let count = groups.len() + resources.len();
    let mut state = shared.state();
    let ensure_subscription = |state: &mut State, subscription: &str| {
        state.ensure_tenant(&tenant_id, None);
        state.subscriptions.entry(subscription.to_owned()).or_insert_with(|| SubscriptionRecord {
            subscription_id: subscription.to_owned(),
            tenant_id: tenant_id.clone(),
            display_name: crate::arm::subscriptions::default_display_name(subscription),
            resource_groups: Default::default(),
            operations: Default::default(),
            resources: Default::default(),
        });
    };
    for (subscription, name, location, value) in groups {
        ensure_subscription(&mut state, &subscription);
        let record = ResourceGroupRecord {
            name: name.clone(),
            location: location.to_owned(),
            tags: value.get("tags").and_then(Value::as_object).cloned().filter(|tags| !tags.is_empty()),
            managed_by: value.get("managedBy").and_then(Value::as_str).map(str::to_owned),
            provisioning_state: ProvisioningState::Succeeded,
        };
        if let Some(subscription) = state.subscriptions.get_mut(&subscription) {
            subscription.resource_groups.insert(name.to_lowercase(), record);
        }
    }
    for (subscription, rest, id, value) in resources {
        ensure_subscription(&mut state, &subscription);
        let etag = ["eTag", "etag"]
            .iter()
            .find_map(|member| value.get(*member).and_then(Value::as_str))
            .map(str::to_owned)
            .unwrap_or_else(crate::arm::provider::new_etag);
        let Some(record) = state.subscriptions.get_mut(&subscription) else { continue };
        if let [groups_segment, group, ..] = rest.as_slice()
            && groups_segment.eq_ignore_ascii_case("resourcegroups")
        {
            // A resource in a group nobody seeded gets the group, in its own location.
            let location = value
                .get("location")
                .and_then(Value::as_str)
                .and_then(crate::arm::locations::normalize)
                .unwrap_or("eastus");
            record.resource_groups.entry(group.to_lowercase()).or_insert_with(|| ResourceGroupRecord {
                name: group.clone(),
                location: location.to_owned(),
                tags: None,
                managed_by: None,
                provisioning_state: ProvisioningState::Succeeded,
            });
        }
        record.resources.insert(
            crate::arm::provider::key_of(&id),
            ResourceRecord { body: value, final_body: None, etag, operation: None },
        );
    }
    // Seeded subscriptions nobody owns belong to the development application, as before RBAC.
    crate::arm::rbac::adopt_unowned_subscriptions(&mut state, &shared.clock.now_rfc3339());
    state.dirty = true;
    Ok(count)
}

/// The body of `POST /_emulator/tokens`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MintRequest {
    /// The tenant the token is issued in (a GUID).
    tenant_id: String,
    /// The application the token is issued to; the development application by default.
    client_id: Option<String>,
    /// The token's audience; ARM's by default.
    audience: Option<String>,
    /// The token's lifetime in seconds, negative for an already expired token; 3599 by default.
    expires_in_seconds: Option<i64>,
}

fn mint_token(shared: &Shared, request: &Incoming) -> Response {
    let mint: MintRequest = match serde_json::from_slice(&request.body) {
        Ok(mint) => mint,
        Err(failure) => {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestContent",
                format!(
                    "The body must be {{\"tenantId\", \"clientId\"?, \"audience\"?, \"expiresInSeconds\"?}}: {failure}"
                ),
            );
        }
    };
    let Some(tenant_id) = parse_guid(&mint.tenant_id) else {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidTenantId",
            format!("The tenant id '{}' is not a GUID.", mint.tenant_id),
        );
    };
    let client_id = match mint.client_id {
        None => crate::DEV_CLIENT_ID.to_owned(),
        Some(client_id) => match parse_guid(&client_id) {
            Some(client_id) => client_id,
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "InvalidClientId",
                    format!("The client id '{client_id}' is not a GUID."),
                );
            }
        },
    };
    let audience = mint.audience.unwrap_or_else(|| ARM_AUDIENCE.to_owned());
    // Bounded to ten years either way, so the expiry stays a representable date.
    let lifetime =
        mint.expires_in_seconds.unwrap_or(TOKEN_LIFETIME_SECONDS).clamp(-TEN_YEARS_SECONDS, TEN_YEARS_SECONDS);
    shared.state().ensure_tenant(&tenant_id, None);
    let token = shared.tokens().issue(&tenant_id, &client_id, &audience, Duration::seconds(lifetime));
    json_response(
        StatusCode::OK,
        &json!({
            "token_type": "Bearer",
            "expires_in": lifetime,
            "access_token": token,
        }),
    )
}

/// The body of `POST /_emulator/principals`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PrincipalRequest {
    /// The display name of the application and its service principal.
    display_name: String,
    /// The role assignments to make.
    #[serde(default)]
    roles: Vec<RoleRequest>,
}

/// A role assignment of `POST /_emulator/principals`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RoleRequest {
    /// A built-in role, by name (`Contributor`) or GUID.
    role: String,
    /// The scope: `/subscriptions/{id}`, optionally followed by a resource group or resource.
    scope: String,
}

/// Creates an application, its service principal (in the development tenant) and a client
/// secret, and assigns it the roles asked for; answers 201 `{appId, objectId, tenantId,
/// clientSecret}`, `objectId` being the service principal's.
///
/// A subscription named by a scope that does not exist yet is created, bound to the development
/// tenant and owned by the development application (as if it had used it first). Role
/// assignments are stored as a PUT would store them, so ARM reads and the permissions endpoint
/// see them. Everything is checked before anything is created.
fn create_principal(shared: &Shared, request: &Incoming) -> Response {
    let body: PrincipalRequest = match serde_json::from_slice(&request.body) {
        Ok(body) => body,
        Err(failure) => {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestContent",
                format!("The body must be {{\"displayName\", \"roles\"?: [{{\"role\", \"scope\"}}]}}: {failure}"),
            );
        }
    };
    if body.display_name.trim().is_empty() {
        return error(StatusCode::BAD_REQUEST, "InvalidDisplayName", "The displayName must not be empty.");
    }
    let mut grants = Vec::new();
    for wanted in &body.roles {
        let Some(role) = crate::arm::rbac::role_by_name_or_id(&wanted.role) else {
            return error(
                StatusCode::BAD_REQUEST,
                "UnknownRole",
                format!("The emulator knows no built-in role '{}' (by name or GUID).", wanted.role),
            );
        };
        let scope = wanted.scope.trim_end_matches('/');
        let subscription = match split_id(scope) {
            Ok((subscription, _)) => subscription,
            Err(message) => return error(StatusCode::BAD_REQUEST, "InvalidScope", message),
        };
        grants.push((subscription, scope.to_owned(), role.id.clone()));
    }

    let tenant_id = crate::DEV_TENANT_ID;
    let now = shared.clock.now();
    let now_text = shared.clock.now_rfc3339();
    let secret = crate::graph::applications::new_secret();
    let end = now.replace_year(now.year() + 2).unwrap_or(now + Duration::days(730));
    let application = crate::directory::ApplicationRecord {
        id: uuid::Uuid::new_v4().to_string(),
        app_id: uuid::Uuid::new_v4().to_string(),
        created_date_time: crate::graph::toolkit::graph_time(now),
        properties: Map::from_iter([("displayName".to_owned(), json!(body.display_name))]),
        password_credentials: vec![crate::directory::PasswordCredentialRecord {
            key_id: uuid::Uuid::new_v4().to_string(),
            display_name: Some("exai emulator admin route".to_owned()),
            hint: secret.chars().take(3).collect(),
            start_date_time: crate::graph::toolkit::graph_time(now),
            end_date_time: crate::graph::toolkit::graph_time(end),
            secret_sha256: crate::directory::secret_hash(&secret),
        }],
        federated_identity_credentials: Vec::new(),
        unique_name: None,
    };
    let principal = crate::directory::ServicePrincipalRecord {
        id: uuid::Uuid::new_v4().to_string(),
        app_id: application.app_id.clone(),
        display_name: body.display_name.clone(),
        account_enabled: true,
        tags: Vec::new(),
    };
    let answer = json!({
        "appId": application.app_id,
        "objectId": principal.id,
        "tenantId": tenant_id,
        "clientSecret": secret,
    });

    let mut state = shared.state();
    state.ensure_tenant(tenant_id, None);
    if let Some(tenant) = state.tenants.get_mut(tenant_id) {
        tenant.principals.insert(
            principal.id.clone(),
            crate::state::PrincipalRecord {
                object_id: principal.id.clone(),
                app_id: principal.app_id.clone(),
                principal_type: "ServicePrincipal".to_owned(),
                display_name: principal.display_name.clone(),
                source: "application".to_owned(),
            },
        );
    }
    let directory = state.directory.tenants.entry(tenant_id.to_owned()).or_default();
    directory.applications.insert(application.id.clone(), application);
    let principal_id = principal.id.clone();
    directory.service_principals.insert(principal.id.clone(), principal);
    for (subscription, scope, role_guid) in grants {
        let owner = crate::state::service_principal_object_id(tenant_id, crate::DEV_CLIENT_ID);
        crate::arm::subscriptions::ensure(&mut state, &subscription, tenant_id, &owner, &now_text);
        crate::arm::rbac::grant(&mut state, &subscription, &scope, &role_guid, &principal_id, &now_text);
    }
    state.dirty = true;
    json_response(StatusCode::CREATED, &answer)
}
