//! `/v1.0/servicePrincipals`: an application's presence in a tenant, and the principal role
//! assignments name.
//!
//! Every service principal is registered in the tenant's `principals` (source `application`,
//! type `ServicePrincipal`), where ARM's role assignments look for `principalId`, and removed
//! from it when deleted. Creating one for an unknown `appId` fails as Graph does (400
//! `Request_BadRequest`, "The appId '...' of the service principal does not reference a valid
//! application object.", observed in openshift/openshift-azure#1534 and
//! microsoftgraph/msgraph-sdk-powershell#846); a second one for the same application is a 409
//! `Request_MultipleObjectsWithSameKeyValue`.
//!
//! Microsoft Graph's own service principal (see `app_roles`) is part of every tenant's list, is
//! found by id, by `(appId='00000003-0000-0000-c000-000000000000')` and by `$filter`, and answers
//! 403 `Authorization_RequestDenied` to a `PATCH` or `DELETE`. Deleting a service principal
//! deletes its app role assignments, as principal and as resource.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::app_roles::{self, GRAPH_APP_ID, MICROSOFT_TENANT_ID};
use super::toolkit::{Caller, GraphError, ObjectKey, context, json_body, json_response, no_content};
use crate::context::Shared;
use crate::directory::ServicePrincipalRecord;
use crate::http::{Incoming, parse_guid};
use crate::state::{PrincipalRecord, State};

fn to_json(tenant_id: &str, principal: &ServicePrincipalRecord) -> Map<String, Value> {
    let is_graph = principal.app_id == GRAPH_APP_ID;
    let (owner, audience, names) = if is_graph {
        (MICROSOFT_TENANT_ID, "AzureADMultipleOrgs", json!([GRAPH_APP_ID, "https://graph.microsoft.com"]))
    } else {
        (tenant_id, "AzureADMyOrg", json!([principal.app_id]))
    };
    let value = json!({
        "id": principal.id,
        "deletedDateTime": null,
        "accountEnabled": principal.account_enabled,
        "appDisplayName": principal.display_name,
        "appId": principal.app_id,
        "appOwnerOrganizationId": owner,
        "appRoles": app_roles::app_roles_json(principal),
        "displayName": principal.display_name,
        "servicePrincipalNames": names,
        "servicePrincipalType": "Application",
        "signInAudience": audience,
        "tags": principal.tags,
        "keyCredentials": [],
        "passwordCredentials": [],
    });
    value.as_object().cloned().unwrap_or_default()
}

/// Removes an application's service principal from a tenant (directory and principals).
pub(crate) fn remove_for_app(state: &mut State, tenant_id: &str, app_id: &str) {
    let Some(tenant) = state.directory.tenants.get_mut(tenant_id) else { return };
    let ids: Vec<String> = tenant
        .service_principals
        .values()
        .filter(|principal| principal.app_id == app_id)
        .map(|principal| principal.id.clone())
        .collect();
    for id in ids {
        remove(state, tenant_id, &id);
    }
}

fn remove(state: &mut State, tenant_id: &str, id: &str) {
    app_roles::remove_for_principal(state, tenant_id, id);
    if let Some(tenant) = state.directory.tenants.get_mut(tenant_id) {
        tenant.service_principals.remove(id);
    }
    if let Some(tenant) = state.tenants.get_mut(tenant_id) {
        tenant.principals.remove(id);
    }
    state.dirty = true;
}

/// Returns the service principal a key names in the caller's tenant, Microsoft Graph's included.
pub(crate) fn resolve(state: &State, caller: &Caller, key: &ObjectKey) -> Result<ServicePrincipalRecord, GraphError> {
    let graph = app_roles::graph_principal(&caller.tenant_id);
    let is_graph = match key {
        ObjectKey::Id(id) => *id == graph.id,
        ObjectKey::AppId(app_id) => app_id == GRAPH_APP_ID,
        ObjectKey::UniqueName(_) => false,
    };
    if is_graph {
        return Ok(graph);
    }
    let principals = state.directory.tenants.get(&caller.tenant_id).map(|tenant| &tenant.service_principals);
    let found = match key {
        ObjectKey::Id(id) => principals.and_then(|principals| principals.get(id)),
        ObjectKey::AppId(app_id) => {
            principals.and_then(|principals| principals.values().find(|principal| &principal.app_id == app_id))
        }
        // Service principals are not addressed by an application's uniqueName.
        ObjectKey::UniqueName(_) => None,
    };
    found.cloned().ok_or_else(|| {
        GraphError::not_found(match key {
            ObjectKey::Id(id) | ObjectKey::AppId(id) | ObjectKey::UniqueName(id) => id,
        })
    })
}

/// `GET /v1.0/servicePrincipals[?$filter=...]`.
pub(crate) fn list(shared: &Shared, request: &Incoming, caller: &Caller) -> Result<Response, GraphError> {
    let filter = super::toolkit::filter(request, "servicePrincipal", &["appId", "displayName"], &["displayName"])?;
    let state = shared.state();
    let graph = app_roles::graph_principal(&caller.tenant_id);
    let stored = state.directory.tenants.get(&caller.tenant_id).map(|tenant| tenant.service_principals.values());
    let value: Vec<Value> = std::iter::once(&graph)
        .chain(stored.into_iter().flatten())
        .filter(|principal| match &filter {
            None => true,
            Some(filter) => {
                filter.matches("appId", &principal.app_id) || filter.matches("displayName", &principal.display_name)
            }
        })
        .map(|principal| Value::Object(to_json(&caller.tenant_id, principal)))
        .collect();
    Ok(json_response(StatusCode::OK, &json!({"@odata.context": context("servicePrincipals"), "value": value})))
}

/// `POST /v1.0/servicePrincipals` with `{"appId"}`: 201.
pub(crate) fn create(shared: &Shared, request: &Incoming, caller: &Caller) -> Result<Response, GraphError> {
    let body = json_body(request)?;
    let mut app_id = None;
    let mut account_enabled = true;
    let mut tags = Vec::new();
    for (name, value) in body {
        match (name.as_str(), value) {
            ("appId", Value::String(text)) => app_id = Some(text),
            ("accountEnabled", Value::Bool(enabled)) => account_enabled = enabled,
            ("tags", Value::Array(items)) => {
                tags = items
                    .iter()
                    .map(|item| item.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| GraphError::invalid_value("tags", "ServicePrincipal"))?;
            }
            ("appId" | "accountEnabled" | "tags", _) => {
                return Err(GraphError::invalid_value(&name, "ServicePrincipal"));
            }
            ("id" | "appOwnerOrganizationId" | "servicePrincipalType" | "appDisplayName", _) => {
                return Err(GraphError::read_only(&name));
            }
            _ => return Err(GraphError::unknown_property(&name)),
        }
    }
    let app_id = app_id.ok_or_else(|| GraphError::invalid_value("appId", "ServicePrincipal"))?;
    let no_application = || {
        GraphError::bad_request(format!(
            "The appId '{app_id}' of the service principal does not reference a valid application object."
        ))
    };
    let app_id_key = parse_guid(&app_id).ok_or_else(no_application)?;
    let already_exists = || {
        GraphError::new(
            StatusCode::CONFLICT,
            "Request_MultipleObjectsWithSameKeyValue",
            format!(
                "The service principal cannot be created, updated, or restored because the service principal name {app_id_key} is already in use."
            ),
        )
    };
    if app_id_key == GRAPH_APP_ID {
        return Err(already_exists());
    }
    let mut state = shared.state();
    let display_name = state
        .directory
        .application_by_app_id(&caller.tenant_id, &app_id_key)
        .map(|application| application.display_name().to_owned())
        .ok_or_else(no_application)?;
    if state.directory.service_principal_by_app_id(&caller.tenant_id, &app_id_key).is_some() {
        return Err(already_exists());
    }
    let principal = ServicePrincipalRecord {
        id: Uuid::new_v4().to_string(),
        app_id: app_id_key,
        display_name,
        account_enabled,
        tags,
    };
    let mut body = Map::new();
    body.insert("@odata.context".to_owned(), json!(context("servicePrincipals/$entity")));
    body.extend(to_json(&caller.tenant_id, &principal));
    state.ensure_tenant(&caller.tenant_id, None);
    if let Some(tenant) = state.tenants.get_mut(&caller.tenant_id) {
        tenant.principals.insert(
            principal.id.clone(),
            PrincipalRecord {
                object_id: principal.id.clone(),
                app_id: principal.app_id.clone(),
                principal_type: "ServicePrincipal".to_owned(),
                display_name: principal.display_name.clone(),
                source: "application".to_owned(),
            },
        );
    }
    state
        .directory
        .tenants
        .entry(caller.tenant_id.clone())
        .or_default()
        .service_principals
        .insert(principal.id.clone(), principal);
    state.dirty = true;
    Ok(json_response(StatusCode::CREATED, &Value::Object(body)))
}

/// `GET /v1.0/servicePrincipals/{id}`.
pub(crate) fn get(shared: &Shared, caller: &Caller, key: &ObjectKey) -> Result<Response, GraphError> {
    let state = shared.state();
    let principal = resolve(&state, caller, key)?;
    let mut body = Map::new();
    body.insert("@odata.context".to_owned(), json!(context("servicePrincipals/$entity")));
    body.extend(to_json(&caller.tenant_id, &principal));
    Ok(json_response(StatusCode::OK, &Value::Object(body)))
}

/// `PATCH /v1.0/servicePrincipals/{id}`: 204 (serviceprincipal-update.md). The members the
/// emulator models, `accountEnabled` and `tags`; `appId` and the other read-only members are
/// refused, and so is anything else.
pub(crate) fn update(
    shared: &Shared,
    request: &Incoming,
    caller: &Caller,
    key: &ObjectKey,
) -> Result<Response, GraphError> {
    let body = json_body(request)?;
    let mut account_enabled = None;
    let mut tags = None;
    for (name, value) in body {
        match (name.as_str(), value) {
            ("accountEnabled", Value::Bool(enabled)) => account_enabled = Some(enabled),
            ("tags", Value::Array(items)) => {
                tags = Some(
                    items
                        .iter()
                        .map(|item| item.as_str().map(str::to_owned))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| GraphError::invalid_value("tags", "ServicePrincipal"))?,
                );
            }
            ("accountEnabled" | "tags", _) => return Err(GraphError::invalid_value(&name, "ServicePrincipal")),
            ("id" | "appId" | "appOwnerOrganizationId" | "servicePrincipalType" | "appDisplayName", _) => {
                return Err(GraphError::read_only(&name));
            }
            _ => return Err(GraphError::unknown_property(&name)),
        }
    }
    let mut state = shared.state();
    let id = resolve(&state, caller, key)?.id;
    if id == app_roles::graph_principal_id(&caller.tenant_id) {
        return Err(GraphError::insufficient_privileges());
    }
    let principal = state
        .directory
        .tenants
        .get_mut(&caller.tenant_id)
        .and_then(|tenant| tenant.service_principals.get_mut(&id))
        .ok_or_else(|| GraphError::not_found(&id))?;
    if let Some(enabled) = account_enabled {
        principal.account_enabled = enabled;
    }
    if let Some(tags) = tags {
        principal.tags = tags;
    }
    state.dirty = true;
    Ok(no_content())
}

/// `DELETE /v1.0/servicePrincipals/{id}`: 204, and the principal leaves the tenant.
pub(crate) fn delete(shared: &Shared, caller: &Caller, key: &ObjectKey) -> Result<Response, GraphError> {
    let mut state = shared.state();
    let principal = resolve(&state, caller, key)?;
    if principal.app_id == GRAPH_APP_ID {
        // A Microsoft first-party principal: no one in the tenant may delete it.
        return Err(GraphError::insufficient_privileges());
    }
    remove(&mut state, &caller.tenant_id, &principal.id);
    Ok(no_content())
}
