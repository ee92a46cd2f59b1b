//! `Microsoft.Authorization/roleAssignments` and `roleDefinitions`, api-version 2022-04-01
//! (swagger `authorization-RoleAssignmentsCalls.json`, `authorization-RoleDefinitionsCalls.json`;
//! examples `RoleAssignments_CreateForResource.json`, `RoleAssignments_Get.json`); also the
//! default of azure-mgmt-authorization 4.0.0. Served in every api-version of
//! `api_versions::ROLE_ASSIGNMENTS` and `ROLE_DEFINITIONS` (az 2.91 reads definitions in
//! 2022-05-01-preview); any other refused as ARM refuses it for `Microsoft.Authorization`.
//!
//! Role assignments live at any scope below a subscription (the subscription, a resource group,
//! a resource), are stored under `{scope}/providers/Microsoft.Authorization/roleAssignments/{name}`
//! and go with their scope when it is deleted. PUT is synchronous (201, then 200). The answers
//! follow Azure's:
//!
//! - `roleDefinitionId` is answered in tenant form (`/providers/Microsoft.Authorization/roleDefinitions/{guid}`)
//!   whatever form was sent (the examples);
//! - a principal the tenant does not know is 400 `PrincipalNotFound`, with Azure's message about
//!   replication delay and `principalType` (quoted in Azure/HubAndSpokeResearchEnclave#50);
//! - the same principal, role and scope under another name is 409 `RoleAssignmentExists`,
//!   "The role assignment already exists." (quoted in hashicorp/terraform-provider-azurerm#28557);
//! - `principalType` defaults to `User` and is stored as sent; an explicit type that differs from
//!   the principal's is refused (`UnmatchedPrincipalType`).
//!
//! Role definitions are the built-in roles of `data/built-in-roles.json` (see [`super::rbac`],
//! which also enforces them), answered at any scope with a subscription-form id, and listed with
//! `$filter=roleName eq '...'` (case-insensitive, as the az CLI's `acrpull` lookup relies on).

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::api_versions;
use super::provider;
use super::provider::{key_of, only_members, optional_object, optional_string};
use super::rbac::{self, RoleDefinition};
use super::toolkit::{ArmError, Subscription, json_object_body, method_not_allowed};
use crate::context::Shared;
use crate::http::{Incoming, parse_guid};
use crate::http::{empty_response, json_response};
use crate::odata;
use crate::state::{ResourceRecord, State};

/// The principal types of `RoleAssignmentProperties.principalType`.
const PRINCIPAL_TYPES: [&str; 4] = ["User", "Group", "ServicePrincipal", "ForeignGroup"];

const ROLE_DEFINITION_PREFIX: &str = "/providers/Microsoft.Authorization/roleDefinitions/";

/// Returns a role definition as ARM shows it at a subscription.
pub(crate) fn role_json(subscription_id: &str, role: &RoleDefinition) -> Value {
    let guid = &role.id;
    json!({
        "id": format!("/subscriptions/{subscription_id}{ROLE_DEFINITION_PREFIX}{guid}"),
        "name": guid,
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": role.role_name,
            "type": "BuiltInRole",
            "description": role.description,
            "assignableScopes": ["/"],
            "permissions": [role.permissions],
            "createdOn": "2015-02-02T21:55:09.8806423Z",
            "updatedOn": "2024-01-01T00:00:00.0000000Z",
            "createdBy": null,
            "updatedBy": null,
        },
    })
}

fn role_not_found(id: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "RoleDefinitionDoesNotExist",
        format!("The specified role definition with ID '{id}' does not exist."),
    )
}

/// The scope a request names, checked to exist.
pub(crate) struct Scope {
    /// The scope as answered (`/subscriptions/{sub}/resourceGroups/{rg}/...`).
    pub id: String,
    /// Its lowercase key.
    pub key: String,
}

/// Returns the scope named by the segments after `/subscriptions/{id}`, checked to exist (404
/// `ResourceGroupNotFound` / `ResourceNotFound` as ARM answers otherwise).
pub(crate) fn resolve_scope(
    state: &State,
    subscription: &Subscription,
    segments: &[String],
) -> Result<Scope, ArmError> {
    let is = |segment: &String, name: &str| segment.eq_ignore_ascii_case(name);
    let mut id = format!("/subscriptions/{}", subscription.id);
    match segments {
        [] => {}
        [groups, group, rest @ ..] if is(groups, "resourcegroups") => {
            let name = provider::existing_group(state, &subscription.id, group)?;
            id = format!("{id}/resourceGroups/{name}");
            if !rest.is_empty() {
                id = format!("{id}/{}", rest.join("/"));
                let key = key_of(&id);
                let known = provider::record(state, &subscription.id, &key);
                let Some(record) = known else {
                    return Err(ArmError::new(
                        StatusCode::NOT_FOUND,
                        "ResourceNotFound",
                        format!(
                            "The Resource '{}' under resource group '{name}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
                            rest.join("/")
                        ),
                    ));
                };
                // Answer the scope in the casing the resource was created with.
                if let Some(own) = record.body.get("id").and_then(Value::as_str) {
                    id = own.to_owned();
                }
            }
        }
        _ => {
            return Err(ArmError::bad_request(
                "InvalidScope",
                format!(
                    "The scope '{id}/{}' is not a subscription, a resource group or a resource.",
                    segments.join("/")
                ),
            ));
        }
    }
    Ok(Scope { key: key_of(&id), id })
}

/// Routes `{scope}/providers/Microsoft.Authorization/...`.
pub(crate) fn route(
    shared: &Shared,
    request: &Incoming,
    subscription: &Subscription,
    scope: &[String],
    tail: &[String],
) -> Result<Response, ArmError> {
    let is = |segment: &String, name: &str| segment.eq_ignore_ascii_case(name);
    match tail.first() {
        Some(kind) if is(kind, "roleDefinitions") => {
            api_versions::check_authorization(request, &api_versions::ROLE_DEFINITIONS, "roleDefinitions")?;
        }
        Some(kind) if is(kind, "roleAssignments") => {
            api_versions::check_authorization(request, &api_versions::ROLE_ASSIGNMENTS, "roleAssignments")?;
        }
        _ => {}
    }
    let scope = resolve_scope(&shared.state(), subscription, scope)?;
    match tail {
        [kind] if is(kind, "roleAssignments") => list_assignments(shared, request, subscription, &scope),
        [kind, name] if is(kind, "roleAssignments") => assignment(shared, request, subscription, &scope, name),
        [kind] if is(kind, "roleDefinitions") => list_definitions(request, subscription),
        [kind, id] if is(kind, "roleDefinitions") => {
            if request.method != Method::GET {
                // Custom roles are not modeled: stricter than Azure.
                return Err(method_not_allowed(&request.method, &[Method::GET]));
            }
            let guid = parse_guid(id).ok_or_else(|| role_not_found(id))?;
            let role = rbac::role(&guid).ok_or_else(|| role_not_found(&guid))?;
            Ok(json_response(StatusCode::OK, &role_json(&subscription.id, role)))
        }
        _ => Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
            format!(
                "The resource type '{}' could not be found in the namespace 'Microsoft.Authorization' for api version '{}'.",
                tail.first().map(String::as_str).unwrap_or_default(),
                request.query_values("api-version").join(",")
            ),
        )),
    }
}

fn list_definitions(request: &Incoming, subscription: &Subscription) -> Result<Response, ArmError> {
    if request.method != Method::GET {
        return Err(method_not_allowed(&request.method, &[Method::GET]));
    }
    let filter = request.query_values("$filter").join(",");
    let filter = filter.trim();
    let clauses = odata::parse(filter).ok_or_else(|| invalid_filter(filter))?;
    // No filter lists every role, `roleName eq '...'` the one of that name, `type eq
    // 'BuiltInRole'` every role (the emulator knows only built-in roles) and any other type none.
    let name = match clauses.as_slice() {
        [] => None,
        [clause] => match (clause.equals("roleName"), clause.equals("type")) {
            (Some(name), _) => Some(name),
            (None, Some(kind)) if kind.eq_ignore_ascii_case("BuiltInRole") => None,
            (None, Some(_)) => return Ok(json_response(StatusCode::OK, &json!({"value": []}))),
            (None, None) => return Err(invalid_filter(filter)),
        },
        _ => return Err(invalid_filter(filter)),
    };
    let roles: Vec<Value> = rbac::built_in_roles()
        .iter()
        .filter(|role| name.is_none_or(|name| role.role_name.eq_ignore_ascii_case(name)))
        .map(|role| role_json(&subscription.id, role))
        .collect();
    Ok(json_response(StatusCode::OK, &json!({"value": roles})))
}

fn invalid_filter(filter: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidFilter",
        format!(
            "The filter '{filter}' is not supported. Supported filters are 'atScope()', 'principalId eq '{{id}}'' and both joined by 'and'."
        ),
    )
}

fn list_assignments(
    shared: &Shared,
    request: &Incoming,
    subscription: &Subscription,
    scope: &Scope,
) -> Result<Response, ArmError> {
    if request.method != Method::GET {
        return Err(method_not_allowed(&request.method, &[Method::GET]));
    }
    let filter = request.query_values("$filter").join(",");
    let mut at_scope = false;
    let mut principal: Option<String> = None;
    for clause in odata::parse(&filter).ok_or_else(|| invalid_filter(&filter))? {
        if clause.call("atScope").is_some_and(<[_]>::is_empty) {
            at_scope = true;
        } else if let Some(id) = clause.equals("principalId") {
            principal = Some(id.to_ascii_lowercase());
        } else {
            return Err(invalid_filter(&filter));
        }
    }
    let state = shared.state();
    let value: Vec<Value> = state
        .subscriptions
        .get(&subscription.id)
        .map(|record| {
            record
                .resources
                .iter()
                .filter_map(|(key, record)| {
                    rbac::assignment_scope(key).map(|assignment_scope| (assignment_scope, record))
                })
                .filter(|(assignment_scope, _)| {
                    rbac::at_or_above(assignment_scope, &scope.key)
                        || (!at_scope && rbac::at_or_above(&scope.key, assignment_scope))
                })
                .filter(|(_, record)| {
                    principal.as_deref().is_none_or(|wanted| {
                        record
                            .body
                            .pointer("/properties/principalId")
                            .and_then(Value::as_str)
                            .is_some_and(|id| id.eq_ignore_ascii_case(wanted))
                    })
                })
                .map(|(_, record)| record.body.clone())
                .collect()
        })
        .unwrap_or_default();
    Ok(json_response(StatusCode::OK, &json!({"value": value})))
}

fn assignment_not_found(name: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "RoleAssignmentNotFound",
        format!("The role assignment '{name}' is not found."),
    )
}

fn assignment(
    shared: &Shared,
    request: &Incoming,
    subscription: &Subscription,
    scope: &Scope,
    name: &str,
) -> Result<Response, ArmError> {
    let allowed = [Method::GET, Method::PUT, Method::DELETE];
    if !allowed.contains(&request.method) {
        return Err(method_not_allowed(&request.method, &allowed));
    }
    let guid = parse_guid(name).ok_or_else(|| {
        ArmError::bad_request(
            "InvalidRoleAssignmentId",
            format!("The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID."),
        )
    })?;
    let key = format!("{}/providers/microsoft.authorization/roleassignments/{guid}", scope.key);
    match request.method {
        Method::GET => provider::record(&shared.state(), &subscription.id, &key)
            .map(|record| json_response(StatusCode::OK, &record.body))
            .ok_or_else(|| assignment_not_found(&guid)),
        Method::DELETE => {
            let mut state = shared.state();
            match provider::record(&state, &subscription.id, &key).cloned() {
                Some(record) => {
                    provider::remove(&mut state, &subscription.id, &key);
                    Ok(json_response(StatusCode::OK, &record.body))
                }
                None => Ok(empty_response(StatusCode::NO_CONTENT)),
            }
        }
        _ => create(shared, request, subscription, scope, &guid, &key),
    }
}

/// The parsed `RoleAssignmentProperties` of a PUT.
struct Definition {
    role_guid: String,
    principal_id: String,
    principal_type: Option<String>,
    description: Option<String>,
    condition: Option<String>,
    condition_version: Option<String>,
    delegated_identity: Option<String>,
}

fn parse(body: &Map<String, Value>, subscription: &Subscription) -> Result<Definition, ArmError> {
    only_members(body, "", "RoleAssignmentCreateParameters", &["properties", "id", "name", "type"])?;
    let properties = optional_object("properties", body.get("properties").unwrap_or(&Value::Null))?
        .ok_or_else(|| ArmError::invalid_content("Required property 'properties' not found in JSON. Path ''"))?;
    only_members(
        &properties,
        "properties.",
        "RoleAssignmentProperties",
        &[
            "roleDefinitionId",
            "principalId",
            "principalType",
            "description",
            "condition",
            "conditionVersion",
            "delegatedManagedIdentityResourceId",
            "scope",
            "createdOn",
            "updatedOn",
            "createdBy",
            "updatedBy",
        ],
    )?;
    let read = |member: &str| -> Result<Option<String>, ArmError> {
        properties
            .get(member)
            .map(|value| optional_string(&format!("properties.{member}"), value))
            .transpose()
            .map(Option::flatten)
    };
    let required = |member: &str| -> Result<String, ArmError> {
        read(member)?.ok_or_else(|| {
            ArmError::invalid_content(format!("Required property '{member}' not found in JSON. Path 'properties'"))
        })
    };
    let role_definition_id = required("roleDefinitionId")?;
    let own_prefix = format!("/subscriptions/{}{ROLE_DEFINITION_PREFIX}", subscription.id);
    let lower = role_definition_id.to_ascii_lowercase();
    let tail = [ROLE_DEFINITION_PREFIX.to_ascii_lowercase(), own_prefix.to_ascii_lowercase()]
        .iter()
        .find_map(|prefix| lower.strip_prefix(prefix.as_str()).map(str::to_owned));
    let role_guid = tail.as_deref().and_then(parse_guid).ok_or_else(|| {
        ArmError::bad_request(
            "InvalidRoleDefinitionId",
            format!("The role definition ID '{role_definition_id}' is not valid."),
        )
    })?;
    if rbac::role(&role_guid).is_none() {
        return Err(ArmError::bad_request(
            "RoleDefinitionDoesNotExist",
            format!("The specified role definition with ID '{role_guid}' does not exist."),
        ));
    }
    let principal_text = required("principalId")?;
    let principal_id = parse_guid(&principal_text).ok_or_else(|| {
        ArmError::bad_request(
            "InvalidPrincipalId",
            format!("The principal ID '{principal_text}' is not valid. It must be a GUID."),
        )
    })?;
    let principal_type = read("principalType")?;
    if let Some(kind) = &principal_type
        && !PRINCIPAL_TYPES.contains(&kind.as_str())
    {
        return Err(ArmError::bad_request(
            "InvalidPrincipalType",
            format!("The principal type '{kind}' is not valid. It must be one of '{}'.", PRINCIPAL_TYPES.join("', '")),
        ));
    }
    let condition = read("condition")?;
    let condition_version = read("conditionVersion")?;
    if condition_version.as_deref().is_some_and(|version| version != "2.0")
        || (condition_version.is_some() && condition.is_none())
    {
        return Err(ArmError::bad_request(
            "InvalidConditionVersion",
            "The only accepted conditionVersion is '2.0', and only with a condition.",
        ));
    }
    Ok(Definition {
        role_guid,
        principal_id,
        principal_type,
        description: read("description")?,
        condition,
        condition_version,
        delegated_identity: read("delegatedManagedIdentityResourceId")?,
    })
}

fn create(
    shared: &Shared,
    request: &Incoming,
    subscription: &Subscription,
    scope: &Scope,
    guid: &str,
    key: &str,
) -> Result<Response, ArmError> {
    let body = json_object_body(request)?;
    let definition = parse(&body, subscription)?;
    let mut state = shared.state();
    let principal = state
        .tenants
        .get(&subscription.tenant_id)
        .and_then(|tenant| tenant.principals.get(&definition.principal_id))
        .cloned()
        .ok_or_else(|| {
            ArmError::bad_request(
                "PrincipalNotFound",
                format!(
                    "Principal {} does not exist in the directory {}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype",
                    definition.principal_id.replace('-', ""),
                    subscription.tenant_id
                ),
            )
        })?;
    if let Some(kind) = &definition.principal_type
        && *kind != principal.principal_type
    {
        // Code and wording as ARM answers them (UNVERIFIED beyond third-party quotes).
        return Err(ArmError::bad_request(
            "UnmatchedPrincipalType",
            format!(
                "The PrincipalId '{}' has type '{}' , which is different from specified PrincipalType '{kind}'.",
                definition.principal_id.replace('-', ""),
                principal.principal_type
            ),
        ));
    }
    let role_definition_id = format!("{ROLE_DEFINITION_PREFIX}{}", definition.role_guid);
    let same = |record: &ResourceRecord| {
        let field = |name: &str| {
            record
                .body
                .pointer(&format!("/properties/{name}"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_ascii_lowercase()
        };
        field("principalId") == definition.principal_id
            && field("roleDefinitionId") == role_definition_id.to_ascii_lowercase()
    };
    let resources_here = state.subscriptions.get(&subscription.id).map(|record| &record.resources);
    let duplicate = resources_here.is_some_and(|resources| {
        resources.iter().any(|(other, record)| {
            other != key && rbac::assignment_scope(other) == Some(scope.key.as_str()) && same(record)
        })
    });
    if duplicate {
        return Err(ArmError::new(StatusCode::CONFLICT, "RoleAssignmentExists", "The role assignment already exists."));
    }
    let existing = resources_here.and_then(|resources| resources.get(key)).cloned();
    if let Some(existing) = &existing
        && !same(existing)
    {
        return Err(ArmError::bad_request(
            "RoleAssignmentUpdateNotPermitted",
            "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
        ));
    }
    let now = shared.clock.now_rfc3339();
    let created_on = existing
        .as_ref()
        .and_then(|record| record.body.pointer("/properties/createdOn"))
        .cloned()
        .unwrap_or_else(|| json!(now));
    let mut properties = Map::new();
    properties.insert("roleDefinitionId".to_owned(), json!(role_definition_id));
    properties.insert("principalId".to_owned(), json!(definition.principal_id));
    properties
        .insert("principalType".to_owned(), json!(definition.principal_type.unwrap_or_else(|| "User".to_owned())));
    properties.insert("scope".to_owned(), json!(scope.id));
    for (name, value) in [
        ("description", definition.description),
        ("condition", definition.condition),
        ("conditionVersion", definition.condition_version),
        ("delegatedManagedIdentityResourceId", definition.delegated_identity),
    ] {
        if let Some(value) = value {
            properties.insert(name.to_owned(), json!(value));
        }
    }
    properties.insert("createdOn".to_owned(), created_on);
    properties.insert("updatedOn".to_owned(), json!(now));
    let rendered = json!({
        "properties": properties,
        "id": format!("{}/providers/Microsoft.Authorization/roleAssignments/{guid}", scope.id),
        "type": "Microsoft.Authorization/roleAssignments",
        "name": guid,
    });
    if let Some(record) = state.subscriptions.get_mut(&subscription.id) {
        record.resources.insert(
            key.to_owned(),
            ResourceRecord { body: rendered.clone(), final_body: None, etag: provider::new_etag(), operation: None },
        );
    }
    state.dirty = true;
    let status = if existing.is_some() { StatusCode::OK } else { StatusCode::CREATED };
    Ok(json_response(status, &rendered))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_scopes_at_or_above() {
        assert!(rbac::at_or_above("/subscriptions/s", "/subscriptions/s/resourcegroups/rg"));
        assert!(!rbac::at_or_above("/subscriptions/s/resourcegroups/rg", "/subscriptions/s/resourcegroups/rg2"));
    }
}
