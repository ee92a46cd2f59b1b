//! Application permissions: Microsoft Graph's service principal, present in every tenant with
//! the app roles it defines, and the app role assignments that grant those roles to other
//! service principals (`/v1.0/servicePrincipals/{id}/appRoleAssignments` from the principal's
//! side, `/v1.0/servicePrincipals/{id}/appRoleAssignedTo` from the resource's side).
//!
//! Modeled on the v1.0 reference (microsoftgraph/microsoft-graph-docs-contrib,
//! `api-reference/v1.0/api/serviceprincipal-post-approleassignments.md`,
//! `serviceprincipal-post-approleassignedto.md`, `serviceprincipal-list-approleassignments.md`,
//! `serviceprincipal-list-approleassignedto.md`, `serviceprincipal-delete-approleassignments.md`,
//! `serviceprincipal-delete-approleassignedto.md`) and the Microsoft Graph permissions reference
//! (the app role ids).
//!
//! - Microsoft Graph's service principal (appId `00000003-0000-0000-c000-000000000000`) is not
//!   stored: its object id is derived from the tenant id (UUID v5), so it is the same in a tenant
//!   across restarts. It defines four application permissions (`Application.Read.All`,
//!   `Application.ReadWrite.All`, `Application.ReadWrite.OwnedBy`, `Directory.Read.All`), is owned
//!   by Microsoft's tenant, and cannot be patched or deleted (403 `Authorization_RequestDenied`,
//!   as for any Microsoft first-party principal). It is not an ARM role-assignment principal.
//! - Service principals created through Graph define no app roles, so nothing can be assigned on
//!   them (400, "Permission being assigned was not found on application '{appId}'.").
//! - Only the development application may grant or revoke app roles (granting application
//!   permissions takes a privileged administrator in Entra); every other caller gets 403
//!   `Authorization_RequestDenied`, whatever it holds.
//! - A duplicate (principal, resource, appRoleId) is 400 `Request_BadRequest` "Permission being
//!   assigned already exists on the object" (the wording clients match on). A body whose
//!   `principalId` (resp. `resourceId`) is not the service principal of the path is refused with
//!   400 `Request_BadRequest` (Graph's wording for that case is not documented).
//! - Deleting a service principal (or its application) deletes the assignments it holds and
//!   those granted on it.
//! - Assignment ids are Graph's 43-character base64url keys whose first 16 bytes are the
//!   principal's object id (as in the reference's examples).

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::toolkit::{Caller, GraphError, ObjectKey, context, graph_time, json_body, json_response};
use crate::context::Shared;
use crate::directory::AppRoleAssignmentRecord;
use crate::directory::ServicePrincipalRecord;
use crate::http::{Incoming, parse_guid};
use crate::state::State;

/// Microsoft Graph's application id, the same in every tenant.
pub(crate) const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// The tenant that owns Microsoft's first-party applications (`appOwnerOrganizationId`).
pub(crate) const MICROSOFT_TENANT_ID: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

/// Microsoft Graph's display name.
pub(crate) const GRAPH_DISPLAY_NAME: &str = "Microsoft Graph";

/// `Application.Read.All` (application permission).
pub(crate) const APPLICATION_READ_ALL: &str = "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30";
/// `Application.ReadWrite.All` (application permission).
pub(crate) const APPLICATION_READ_WRITE_ALL: &str = "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9";
/// `Application.ReadWrite.OwnedBy` (application permission).
pub(crate) const APPLICATION_READ_WRITE_OWNED_BY: &str = "18a4783c-866b-4cc7-a460-3d5e5662c884";
/// `Directory.Read.All` (application permission).
pub(crate) const DIRECTORY_READ_ALL: &str = "7ab1d382-f21e-4acd-a863-ba3e13f7da61";

/// Microsoft Graph's application permissions the emulator defines: id, value, display name,
/// description (from the Microsoft Graph permissions reference).
const GRAPH_APP_ROLES: [(&str, &str, &str, &str); 4] = [
    (
        APPLICATION_READ_ALL,
        "Application.Read.All",
        "Read all applications",
        "Allows the app to read all applications and service principals without a signed-in user.",
    ),
    (
        APPLICATION_READ_WRITE_ALL,
        "Application.ReadWrite.All",
        "Read and write all applications",
        "Allows the app to create, read, update and delete applications and service principals without a signed-in user. Does not allow management of consent grants.",
    ),
    (
        APPLICATION_READ_WRITE_OWNED_BY,
        "Application.ReadWrite.OwnedBy",
        "Manage apps that this app creates or owns",
        "Allows the app to create other applications, and fully manage those applications (read, update, update application secrets and delete), without a signed-in user. It cannot update any apps that it is not an owner of.",
    ),
    (
        DIRECTORY_READ_ALL,
        "Directory.Read.All",
        "Read directory data",
        "Allows the app to read data in your organization's directory, such as users, groups and apps, without a signed-in user.",
    ),
];

/// Returns the object id of Microsoft Graph's service principal in a tenant.
pub(crate) fn graph_principal_id(tenant_id: &str) -> String {
    Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("exai-emulator/microsoft-graph/{tenant_id}").as_bytes()).to_string()
}

/// Returns Microsoft Graph's service principal in a tenant.
pub(crate) fn graph_principal(tenant_id: &str) -> ServicePrincipalRecord {
    ServicePrincipalRecord {
        id: graph_principal_id(tenant_id),
        app_id: GRAPH_APP_ID.to_owned(),
        display_name: GRAPH_DISPLAY_NAME.to_owned(),
        account_enabled: true,
        tags: Vec::new(),
    }
}

/// Returns the `appRoles` of a service principal: Microsoft Graph's, or none.
pub(crate) fn app_roles_json(principal: &ServicePrincipalRecord) -> Value {
    if principal.app_id != GRAPH_APP_ID {
        return json!([]);
    }
    GRAPH_APP_ROLES
        .iter()
        .map(|(id, value, display_name, description)| {
            json!({
                "allowedMemberTypes": ["Application"],
                "description": description,
                "displayName": display_name,
                "id": id,
                "isEnabled": true,
                "origin": "Application",
                "value": value,
            })
        })
        .collect()
}

/// Returns whether the service principal of `client_id` in a tenant currently holds one of
/// `roles` on Microsoft Graph.
pub(crate) fn holds_graph_role(state: &State, tenant_id: &str, client_id: &str, roles: &[&str]) -> bool {
    let Some(principal) = state.directory.service_principal_by_app_id(tenant_id, client_id) else { return false };
    let graph = graph_principal_id(tenant_id);
    state.directory.tenants.get(tenant_id).is_some_and(|tenant| {
        tenant.app_role_assignments.values().any(|assignment| {
            assignment.principal_id == principal.id
                && assignment.resource_id == graph
                && roles.contains(&assignment.app_role_id.as_str())
        })
    })
}

/// Removes the assignments a service principal holds or that were granted on it.
pub(crate) fn remove_for_principal(state: &mut State, tenant_id: &str, principal_id: &str) {
    if let Some(tenant) = state.directory.tenants.get_mut(tenant_id) {
        tenant
            .app_role_assignments
            .retain(|_, assignment| assignment.principal_id != principal_id && assignment.resource_id != principal_id);
    }
}

/// Which side of an assignment a route looks from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// `appRoleAssignments`: the roles the path's service principal holds.
    Principal,
    /// `appRoleAssignedTo`: the roles granted on the path's service principal.
    Resource,
}

impl Side {
    fn segment(self) -> &'static str {
        match self {
            Side::Principal => "appRoleAssignments",
            Side::Resource => "appRoleAssignedTo",
        }
    }

    /// Returns whether an assignment is seen from the service principal `id` on this side.
    fn sees(self, assignment: &AppRoleAssignmentRecord, id: &str) -> bool {
        match self {
            Side::Principal => assignment.principal_id == id,
            Side::Resource => assignment.resource_id == id,
        }
    }
}

fn to_json(assignment: &AppRoleAssignmentRecord) -> Map<String, Value> {
    let value = json!({
        "id": assignment.id,
        "deletedDateTime": null,
        "appRoleId": assignment.app_role_id,
        "createdDateTime": assignment.created_date_time,
        "principalDisplayName": assignment.principal_display_name,
        "principalId": assignment.principal_id,
        "principalType": "ServicePrincipal",
        "resourceDisplayName": assignment.resource_display_name,
        "resourceId": assignment.resource_id,
    });
    value.as_object().cloned().unwrap_or_default()
}

fn privileged_only(caller: &Caller) -> Result<(), GraphError> {
    if caller.is_development() { Ok(()) } else { Err(GraphError::insufficient_privileges()) }
}

/// `GET /v1.0/servicePrincipals/{id}/appRoleAssignments` and `.../appRoleAssignedTo`.
pub(crate) fn list(shared: &Shared, caller: &Caller, key: &ObjectKey, side: Side) -> Result<Response, GraphError> {
    let state = shared.state();
    let principal = super::service_principals::resolve(&state, caller, key)?;
    let value: Vec<Value> = state
        .directory
        .tenants
        .get(&caller.tenant_id)
        .map(|tenant| {
            tenant
                .app_role_assignments
                .values()
                .filter(|assignment| side.sees(assignment, &principal.id))
                .map(|assignment| Value::Object(to_json(assignment)))
                .collect()
        })
        .unwrap_or_default();
    let context = context(&format!("servicePrincipals('{}')/{}", principal.id, side.segment()));
    Ok(json_response(StatusCode::OK, &json!({"@odata.context": context, "value": value})))
}

/// Reads a GUID member of an assignment body.
fn guid_member(body: &Map<String, Value>, name: &str) -> Result<String, GraphError> {
    body.get(name)
        .and_then(Value::as_str)
        .and_then(parse_guid)
        .ok_or_else(|| GraphError::invalid_value(name, "AppRoleAssignment"))
}

/// `POST /v1.0/servicePrincipals/{id}/appRoleAssignments` and `.../appRoleAssignedTo` with
/// `{"principalId", "resourceId", "appRoleId"}`: 201 with the assignment.
pub(crate) fn create(
    shared: &Shared,
    request: &Incoming,
    caller: &Caller,
    key: &ObjectKey,
    side: Side,
) -> Result<Response, GraphError> {
    privileged_only(caller)?;
    let body = json_body(request)?;
    for name in body.keys() {
        match name.as_str() {
            "principalId" | "resourceId" | "appRoleId" => {}
            "id"
            | "createdDateTime"
            | "deletedDateTime"
            | "principalDisplayName"
            | "principalType"
            | "resourceDisplayName" => return Err(GraphError::read_only(name)),
            _ => return Err(GraphError::unknown_property(name)),
        }
    }
    let principal_id = guid_member(&body, "principalId")?;
    let resource_id = guid_member(&body, "resourceId")?;
    let app_role_id = guid_member(&body, "appRoleId")?;
    let mut state = shared.state();
    let path = super::service_principals::resolve(&state, caller, key)?;
    let (member, expected) = match side {
        Side::Principal => ("principalId", &principal_id),
        Side::Resource => ("resourceId", &resource_id),
    };
    if &path.id != expected {
        return Err(GraphError::bad_request(format!(
            "The {member} '{expected}' of the app role assignment is not the service principal '{}' of the request URI.",
            path.id
        )));
    }
    let principal = super::service_principals::resolve(&state, caller, &ObjectKey::Id(principal_id.clone()))?;
    let resource = super::service_principals::resolve(&state, caller, &ObjectKey::Id(resource_id.clone()))?;
    let defined = app_roles_json(&resource).as_array().is_some_and(|roles| {
        roles.iter().any(|role| {
            role["id"] == app_role_id.as_str()
                && role["allowedMemberTypes"].as_array().is_some_and(|types| types.contains(&json!("Application")))
        })
    });
    if !defined {
        return Err(GraphError::bad_request(format!(
            "Permission being assigned was not found on application '{}'.",
            resource.app_id
        )));
    }
    let tenant = state.directory.tenants.entry(caller.tenant_id.clone()).or_default();
    if tenant.app_role_assignments.values().any(|assignment| {
        assignment.principal_id == principal.id
            && assignment.resource_id == resource.id
            && assignment.app_role_id == app_role_id
    }) {
        return Err(GraphError::bad_request("Permission being assigned already exists on the object"));
    }
    let principal_uuid = Uuid::parse_str(&principal.id).map_err(|_| GraphError::not_found(&principal.id))?;
    let mut key_bytes = principal_uuid.to_bytes_le().to_vec();
    key_bytes.extend_from_slice(&rand::random::<[u8; 16]>());
    let assignment = AppRoleAssignmentRecord {
        id: URL_SAFE_NO_PAD.encode(&key_bytes),
        app_role_id,
        created_date_time: graph_time(shared.clock.now()),
        principal_id: principal.id.clone(),
        principal_display_name: principal.display_name.clone(),
        resource_id: resource.id.clone(),
        resource_display_name: resource.display_name.clone(),
    };
    let mut answer = Map::new();
    answer.insert(
        "@odata.context".to_owned(),
        json!(context(&format!("servicePrincipals('{}')/{}/$entity", path.id, side.segment()))),
    );
    answer.extend(to_json(&assignment));
    tenant.app_role_assignments.insert(assignment.id.clone(), assignment);
    state.dirty = true;
    Ok(json_response(StatusCode::CREATED, &Value::Object(answer)))
}

/// `DELETE /v1.0/servicePrincipals/{id}/appRoleAssignments/{assignmentId}` and
/// `.../appRoleAssignedTo/{assignmentId}`: 204.
pub(crate) fn delete(
    shared: &Shared,
    caller: &Caller,
    key: &ObjectKey,
    side: Side,
    assignment_id: &str,
) -> Result<Response, GraphError> {
    privileged_only(caller)?;
    let mut state = shared.state();
    let path = super::service_principals::resolve(&state, caller, key)?;
    let removed = state.directory.tenants.get_mut(&caller.tenant_id).and_then(|tenant| {
        let visible =
            tenant.app_role_assignments.get(assignment_id).is_some_and(|assignment| side.sees(assignment, &path.id));
        if visible { tenant.app_role_assignments.remove(assignment_id) } else { None }
    });
    if removed.is_none() {
        return Err(GraphError::not_found(assignment_id));
    }
    state.dirty = true;
    Ok(super::toolkit::no_content())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphs_principal_is_stable_per_tenant() {
        assert_eq!(graph_principal_id("a"), graph_principal_id("a"));
        assert_ne!(graph_principal_id("a"), graph_principal_id("b"));
        let roles = app_roles_json(&graph_principal("a"));
        assert_eq!(roles.as_array().map(Vec::len), Some(4));
        assert_eq!(roles[0]["value"], "Application.Read.All");
    }
}
