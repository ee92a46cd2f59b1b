//! Azure role-based access control over ARM: the built-in role definitions, the action and scope
//! of each request, the check of the caller's role assignments, and the effective-permissions
//! read.
//!
//! # What ARM documents, and what the emulator does
//!
//! - **Role definitions** are the built-in roles of `data/built-in-roles.json`, copied with
//!   their `actions` / `notActions` / `dataActions` / `notDataActions` from Microsoft Learn's
//!   "Azure built-in roles" pages (each role names its page in `source`).
//! - **Actions** ("Azure resource provider operations", learn.microsoft.com
//!   /azure/role-based-access-control/resource-provider-operations) are
//!   `{Namespace}/{type}[/{child type}...]/{read|write|delete|action}`: GET reads, PUT and PATCH
//!   write, DELETE deletes, a POST to `.../{name}/{verb}` is `.../{verb}/action` (but the name
//!   checks its provider registers as reads, see [`PROVIDER_READS`]). Resource
//!   groups are `Microsoft.Resources/subscriptions/resourceGroups/...`; an extension resource
//!   (`{scope}/providers/Microsoft.Authorization/roleAssignments/{name}`) takes the namespace of
//!   its last `providers` segment.
//! - **Matching** ("Understand Azure role definitions", learn.microsoft.com
//!   /azure/role-based-access-control/role-definitions): a role grants an action when one of its
//!   `actions` matches it and none of its `notActions` does; `*` matches any run of characters,
//!   `/` included (`*/read`, `Microsoft.Authorization/*/Write`), and the comparison ignores case.
//!   `notActions` are not deny rules: they subtract from their own role only, so another role
//!   assigned to the same principal can grant what one role's `notActions` removed.
//! - **Inheritance** ("Understand scope for Azure RBAC"): an assignment at a scope applies to
//!   that scope and every scope below it (subscription → resource group → resource → child).
//! - **Denials** answer 403 `AuthorizationFailed` with ARM's message, as quoted in "Troubleshoot
//!   Azure RBAC" (learn.microsoft.com/azure/role-based-access-control/troubleshooting): "The
//!   client '{appId}' with object id '{objectId}' does not have authorization to perform action
//!   '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted,
//!   please refresh your credentials."
//! - **Lists** (resource groups, `/resources`, a resource type's list, role assignments) are
//!   answered whole to a caller who may read at the list's scope; a caller who may not, but holds
//!   some assignment in the subscription, gets only the items it may read (ARM trims lists to
//!   what the caller can see); a caller with no assignment in the subscription is refused.
//! - **Polls of long-running operations**: "Track asynchronous Azure operations" names no action
//!   for the status URLs ARM hands out, so the emulator authorizes a poll as a read of the
//!   resource the operation runs on (the resource group, for a group delete): whoever may read
//!   that resource may follow what happens to it, wherever its status URL lives.
//!
//! Data actions (`dataActions`) are served and reported but never checked: the emulator models
//! no data plane. Deny assignments, conditions (ABAC) and groups are not modeled.

use std::sync::LazyLock;

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::toolkit::{ArmError, Subscription};
use crate::auth::TokenInfo;
use crate::context::Shared;
use crate::http::{Incoming, json_response};
use crate::state::{ResourceRecord, State};

/// The checked-in role definitions (see the module documentation).
const BUILT_IN_ROLES_JSON: &str = include_str!("../../data/built-in-roles.json");

/// The GUID of the Owner built-in role.
pub(crate) const OWNER_ROLE_ID: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";

/// The segment that marks a role assignment in a resource key.
const ASSIGNMENT_MARKER: &str = "/providers/microsoft.authorization/roleassignments/";

/// Returns the scope key of a role assignment's key (`{scope}/providers/microsoft.authorization/
/// roleassignments/{name}`), `None` for another resource's. Called for every resource of a
/// subscription on every authorized request: it looks for the last `/` and compares what comes
/// before it, rather than searching the key for the marker (which was 40 % of the emulator's CPU
/// in a 200-environment plan).
pub(crate) fn assignment_scope(key: &str) -> Option<&str> {
    let (head, name) = key.rsplit_once('/')?;
    if name.is_empty() {
        return None;
    }
    head.strip_suffix(ASSIGNMENT_MARKER.trim_end_matches('/'))
}

/// The `permissions` of a role definition, as ARM shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Permissions {
    /// The control-plane actions granted (patterns).
    pub actions: Vec<String>,
    /// The control-plane actions taken out of `actions` (patterns).
    pub not_actions: Vec<String>,
    /// The data-plane actions granted (patterns).
    pub data_actions: Vec<String>,
    /// The data-plane actions taken out of `dataActions` (patterns).
    pub not_data_actions: Vec<String>,
}

impl Permissions {
    /// Returns whether these permissions grant a control-plane action.
    pub fn grants(&self, action: &str) -> bool {
        self.actions.iter().any(|pattern| matches(pattern, action))
            && !self.not_actions.iter().any(|pattern| matches(pattern, action))
    }
}

/// A built-in role definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct RoleDefinition {
    /// The role's GUID (the `name` of its ARM resource).
    pub id: String,
    /// The role's name (`Contributor`).
    pub role_name: String,
    /// Azure's description of the role.
    pub description: String,
    /// What the role grants.
    pub permissions: Permissions,
    /// The Microsoft Learn page the definition was copied from.
    pub source: String,
}

/// The checked-in file: a comment and the roles.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Catalog {
    #[allow(dead_code)] // documents the file; read by people, not code
    comment: String,
    roles: Vec<RoleDefinition>,
}

/// The built-in roles, parsed once. A file that does not parse leaves no role (and every ARM
/// request is then refused); a unit test parses it, so it never ships so.
static ROLES: LazyLock<Vec<RoleDefinition>> =
    LazyLock::new(|| match serde_json::from_str::<Catalog>(BUILT_IN_ROLES_JSON) {
        Ok(catalog) => catalog.roles,
        Err(error) => {
            tracing::error!(%error, "the emulator's built-in role definitions do not parse");
            Vec::new()
        }
    });

/// Returns every built-in role, in the order of the checked-in file.
pub(crate) fn built_in_roles() -> &'static [RoleDefinition] {
    &ROLES
}

/// Returns the built-in role with this GUID (lowercase).
pub(crate) fn role(guid: &str) -> Option<&'static RoleDefinition> {
    ROLES.iter().find(|role| role.id.eq_ignore_ascii_case(guid))
}

/// Returns the built-in role with this name (compared case-insensitively) or GUID.
pub(crate) fn role_by_name_or_id(name: &str) -> Option<&'static RoleDefinition> {
    ROLES.iter().find(|role| role.role_name.eq_ignore_ascii_case(name) || role.id.eq_ignore_ascii_case(name))
}

/// Returns whether an action pattern matches an action: case-insensitive, `*` standing for any
/// run of characters (slashes included).
pub(crate) fn matches(pattern: &str, action: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().flat_map(char::to_lowercase).collect();
    let action: Vec<char> = action.chars().flat_map(char::to_lowercase).collect();
    // Greedy matching with backtracking to the last `*`: linear in practice, never exponential.
    let (mut p, mut a) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while a < action.len() {
        if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, a));
            p += 1;
        } else if p < pattern.len() && pattern[p] == action[a] {
            p += 1;
            a += 1;
        } else if let Some((star_p, star_a)) = star {
            p = star_p + 1;
            a = star_a + 1;
            star = Some((star_p, star_a + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|character| *character == '*')
}

/// Provider-level POSTs that their resource provider registers as reads, not actions: the name
/// checks ("Azure resource provider operations" lists
/// `Microsoft.ContainerRegistry/checkNameAvailability/read`, "Checks whether the container
/// registry name is available for use"; ARM's denials of them quote `.../checkNameAvailability/read`
/// over the subscription's scope).
const PROVIDER_READS: [(&str, &str); 1] = [("Microsoft.ContainerRegistry", "checkNameAvailability")];

/// What a request does, as RBAC sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Operation {
    /// The action (`Microsoft.ContainerRegistry/registries/write`).
    pub action: String,
    /// The scope the action is performed over (`/subscriptions/{id}/resourceGroups/{rg}`).
    pub scope: String,
    /// Whether the request reads a list (answered trimmed to what the caller may read).
    pub list: bool,
}

/// Returns the action and scope of a request to `/subscriptions/{subscription_id}/{rest...}`.
pub(crate) fn operation(state: &State, method: &Method, subscription_id: &str, rest: &[String]) -> Operation {
    if let Some(polled) = poll(state, subscription_id, rest) {
        return polled;
    }
    let verb = match *method {
        Method::GET | Method::HEAD => "read",
        Method::PUT | Method::PATCH => "write",
        Method::DELETE => "delete",
        _ => "action",
    };
    let mut namespace = "Microsoft.Resources".to_owned();
    let mut types = vec!["subscriptions".to_owned()];
    let mut scope = format!("/subscriptions/{subscription_id}");
    // `/providers/{Namespace}`, waiting for the type and name that make it part of a scope.
    let mut pending = String::new();
    let mut list = false;
    let mut index = 0;
    while index < rest.len() {
        let segment = &rest[index];
        match rest.get(index + 1) {
            Some(next) if segment.eq_ignore_ascii_case("providers") => {
                namespace = registered(next);
                types.clear();
                pending = format!("/providers/{next}");
            }
            Some(name) => {
                types.push(registered(segment));
                scope = format!("{scope}{pending}/{segment}/{name}");
                pending.clear();
            }
            None => {
                // A last lone segment: a collection (GET) or an action on what precedes (POST).
                types.push(registered(segment));
                list = *method == Method::GET;
            }
        }
        index += 2;
    }
    // A provider-level POST its provider registers as a read (see [`PROVIDER_READS`]).
    if *method == Method::POST
        && types.len() == 1
        && pending.starts_with("/providers/")
        && PROVIDER_READS.iter().any(|(provider, operation)| {
            provider.eq_ignore_ascii_case(&namespace) && operation.eq_ignore_ascii_case(&types[0])
        })
    {
        return Operation { action: format!("{namespace}/{}/read", types[0]), scope, list: false };
    }
    let action = if types.is_empty() {
        format!("{namespace}/{verb}")
    } else {
        format!("{namespace}/{}/{verb}", types.join("/"))
    };
    Operation { action, scope, list }
}

/// The namespaces and types the emulator serves, as their resource providers register them.
/// ARM names an operation with the registered casing, whatever casing the request's path used
/// ("Azure resource provider operations", learn.microsoft.com: e.g.
/// `Microsoft.Resources/subscriptions/resourceGroups/write`).
const REGISTERED: &[&str] = &[
    "Microsoft.Resources",
    "subscriptions",
    "resourceGroups",
    "Microsoft.ContainerRegistry",
    "registries",
    "checkNameAvailability",
    "Microsoft.ContainerService",
    "managedClusters",
    "agentPools",
    "Microsoft.OperationalInsights",
    "workspaces",
    "Microsoft.Insights",
    "dataCollectionRules",
    "dataCollectionRuleAssociations",
    "Microsoft.Authorization",
    "roleAssignments",
    "roleDefinitions",
    "permissions",
];

/// Returns `segment` in its registered casing when the emulator knows it, else as sent.
fn registered(segment: &str) -> String {
    REGISTERED
        .iter()
        .find(|known| known.eq_ignore_ascii_case(segment))
        .map_or_else(|| segment.to_owned(), |known| (*known).to_owned())
}

/// Returns the operation of a poll of a long-running operation's status or result: a read of the
/// resource it runs on.
fn poll(state: &State, subscription_id: &str, rest: &[String]) -> Option<Operation> {
    let is = |segment: &String, name: &str| segment.eq_ignore_ascii_case(name);
    let operation_id = match rest {
        [providers, _, locations, _, collection, id]
            if is(providers, "providers")
                && is(locations, "locations")
                && (is(collection, "operationStatuses") || is(collection, "operationResults")) =>
        {
            id
        }
        [collection, id] if is(collection, "operationresults") => id,
        _ => return None,
    };
    let subscription = state.subscriptions.get(subscription_id)?;
    let record = subscription.operations.get(&operation_id.to_ascii_lowercase())?;
    let target = match &record.operation {
        crate::state::OperationKind::Resource { resource_id, .. } => subscription
            .resources
            .get(resource_id)
            .and_then(|resource| resource.body.get("id").and_then(Value::as_str))
            .map_or_else(|| resource_id.clone(), str::to_owned),
        crate::state::OperationKind::DeleteResourceGroup { resource_group } => {
            let name = subscription.resource_groups.get(resource_group).map_or(resource_group, |group| &group.name);
            format!("/subscriptions/{subscription_id}/resourceGroups/{name}")
        }
    };
    let segments = id_segments(subscription_id, &target)?;
    Some(operation(state, &Method::GET, subscription_id, &segments))
}

/// Returns the segments after `/subscriptions/{id}` of an ARM id in that subscription.
fn id_segments(subscription_id: &str, id: &str) -> Option<Vec<String>> {
    let segments: Vec<&str> = id.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        [first, subscription, rest @ ..]
            if first.eq_ignore_ascii_case("subscriptions") && subscription.eq_ignore_ascii_case(subscription_id) =>
        {
            Some(rest.iter().map(|segment| (*segment).to_owned()).collect())
        }
        _ => None,
    }
}

/// Returns whether `ancestor` is `scope` or a scope above it (lowercase keys). Called for every
/// role assignment of a subscription on every authorized request: no allocation.
pub(crate) fn at_or_above(ancestor: &str, scope: &str) -> bool {
    scope.strip_prefix(ancestor).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Returns the roles assigned to a principal at a scope or above it, one per assignment.
pub(crate) fn assigned_roles(
    state: &State,
    subscription_id: &str,
    principal_id: &str,
    scope: &str,
) -> Vec<&'static RoleDefinition> {
    let scope = super::provider::key_of(scope);
    let Some(subscription) = state.subscriptions.get(subscription_id) else { return Vec::new() };
    subscription
        .resources
        .iter()
        .filter_map(|(key, record)| {
            let assignment_scope = assignment_scope(key)?;
            let property = |name: &str| record.body.pointer(&format!("/properties/{name}")).and_then(Value::as_str);
            let for_principal = property("principalId").is_some_and(|id| id.eq_ignore_ascii_case(principal_id));
            (for_principal && at_or_above(assignment_scope, &scope)).then_some(())?;
            let role_guid = property("roleDefinitionId")?.rsplit('/').next()?;
            role(role_guid)
        })
        .collect()
}

/// Returns whether a principal holds any role assignment in a subscription, at any scope.
pub(crate) fn has_any_assignment(state: &State, subscription_id: &str, principal_id: &str) -> bool {
    state.subscriptions.get(subscription_id).is_some_and(|subscription| {
        subscription.resources.iter().any(|(key, record)| {
            assignment_scope(key).is_some()
                && record
                    .body
                    .pointer("/properties/principalId")
                    .and_then(Value::as_str)
                    .is_some_and(|id| id.eq_ignore_ascii_case(principal_id))
        })
    })
}

/// Returns whether a principal may perform an action over a scope.
pub(crate) fn allows(state: &State, subscription_id: &str, principal_id: &str, action: &str, scope: &str) -> bool {
    assigned_roles(state, subscription_id, principal_id, scope).iter().any(|role| role.permissions.grants(action))
}

/// The 403 ARM answers a caller without the permission an operation needs.
pub(crate) fn denied(token: &TokenInfo, operation: &Operation) -> ArmError {
    ArmError::new(
        StatusCode::FORBIDDEN,
        "AuthorizationFailed",
        format!(
            "The client '{}' with object id '{}' does not have authorization to perform action '{}' over scope '{}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
            token.client_id, token.object_id, operation.action, operation.scope
        ),
    )
}

/// What the enforcement decided about a request that may proceed.
pub(crate) enum Decision {
    /// The caller may do what it asks.
    Allowed,
    /// The caller may read only part of the list it asks for: the answer is to be trimmed.
    TrimList,
}

/// Decides whether a request to `/subscriptions/{id}/{rest...}` may proceed.
pub(crate) fn authorize(
    state: &State,
    method: &Method,
    subscription_id: &str,
    token: &TokenInfo,
    rest: &[String],
) -> Result<Decision, ArmError> {
    let operation = operation(state, method, subscription_id, rest);
    if allows(state, subscription_id, &token.object_id, &operation.action, &operation.scope) {
        return Ok(Decision::Allowed);
    }
    if operation.list && has_any_assignment(state, subscription_id, &token.object_id) {
        return Ok(Decision::TrimList);
    }
    Err(denied(token, &operation))
}

/// Trims a list answer (`{"value": [...]}`) to the items the caller may read.
pub(crate) fn trim_list(state: &State, subscription_id: &str, principal_id: &str, body: &mut Value) {
    let Some(items) = body.get_mut("value").and_then(Value::as_array_mut) else { return };
    items.retain(|item| {
        let Some(segments) = item.get("id").and_then(Value::as_str).and_then(|id| id_segments(subscription_id, id))
        else {
            return false;
        };
        let read = operation(state, &Method::GET, subscription_id, &segments);
        allows(state, subscription_id, principal_id, &read.action, &read.scope)
    });
}

/// Returns the deterministic name of the assignment of a role to a principal at a scope, so
/// granting it twice stores it once.
fn assignment_name(scope_key: &str, role_guid: &str, principal_id: &str) -> String {
    Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        format!("exai-emulator/role-assignment/{scope_key}/{role_guid}/{principal_id}").as_bytes(),
    )
    .to_string()
}

/// Stores an assignment of a built-in role to a service principal at a scope of a subscription
/// (which must exist in the state), as a PUT of a role assignment would; does nothing if the
/// principal already holds that role there.
pub(crate) fn grant(
    state: &mut State,
    subscription_id: &str,
    scope_id: &str,
    role_guid: &str,
    principal_id: &str,
    now: &str,
) {
    let scope_key = super::provider::key_of(scope_id);
    let name = assignment_name(&scope_key, role_guid, principal_id);
    let key = format!("{scope_key}{ASSIGNMENT_MARKER}{name}");
    let Some(subscription) = state.subscriptions.get_mut(subscription_id) else { return };
    let role_definition_id = format!("/providers/Microsoft.Authorization/roleDefinitions/{role_guid}");
    let same = subscription.resources.iter().any(|(other, record)| {
        assignment_scope(other) == Some(scope_key.as_str())
            && record.body.pointer("/properties/principalId").and_then(Value::as_str) == Some(principal_id)
            && record
                .body
                .pointer("/properties/roleDefinitionId")
                .and_then(Value::as_str)
                .is_some_and(|id| id.eq_ignore_ascii_case(&role_definition_id))
    });
    if same {
        return;
    }
    let body = json!({
        "properties": {
            "roleDefinitionId": role_definition_id,
            "principalId": principal_id,
            "principalType": "ServicePrincipal",
            "scope": scope_id,
            "createdOn": now,
            "updatedOn": now,
        },
        "id": format!("{scope_id}/providers/Microsoft.Authorization/roleAssignments/{name}"),
        "type": "Microsoft.Authorization/roleAssignments",
        "name": name,
    });
    subscription
        .resources
        .insert(key, ResourceRecord { body, final_body: None, etag: super::provider::new_etag(), operation: None });
    state.dirty = true;
}

/// Makes a principal Owner of a subscription.
pub(crate) fn grant_owner(state: &mut State, subscription_id: &str, principal_id: &str, now: &str) {
    grant(state, subscription_id, &format!("/subscriptions/{subscription_id}"), OWNER_ROLE_ID, principal_id, now);
}

/// Makes the development application Owner of every subscription that has no role assignment at
/// all: subscriptions of state files and seeds from before the emulator enforced RBAC, which the
/// development application used to be allowed everything on.
pub(crate) fn adopt_unowned_subscriptions(state: &mut State, now: &str) {
    let unowned: Vec<(String, String)> = state
        .subscriptions
        .values()
        .filter(|subscription| !subscription.resources.keys().any(|key| assignment_scope(key).is_some()))
        .map(|subscription| (subscription.subscription_id.clone(), subscription.tenant_id.clone()))
        .collect();
    for (subscription_id, tenant_id) in unowned {
        state.ensure_tenant(&tenant_id, None);
        let owner = crate::state::service_principal_object_id(&tenant_id, crate::DEV_CLIENT_ID);
        grant_owner(state, &subscription_id, &owner, now);
    }
}

/// Answers `GET {scope}/providers/Microsoft.Authorization/permissions` (Permissions - List For
/// Resource Group / List For Resource, api-version 2022-04-01): the permissions of each role
/// assignment of the caller that applies at the scope, one entry per assignment. Returns `None`
/// for any other path.
pub(crate) fn permissions(
    shared: &Shared,
    request: &Incoming,
    subscription: &Subscription,
    token: &TokenInfo,
    rest: &[String],
) -> Option<Result<Response, ArmError>> {
    let is = |segment: &String, name: &str| segment.eq_ignore_ascii_case(name);
    let [scope @ .., providers, namespace, kind] = rest else { return None };
    if !(is(providers, "providers") && is(namespace, "Microsoft.Authorization") && is(kind, "permissions")) {
        return None;
    }
    Some((|| {
        super::api_versions::check_authorization(request, &super::api_versions::ROLE_DEFINITIONS, "permissions")?;
        if request.method != Method::GET {
            return Err(super::toolkit::method_not_allowed(&request.method, &[Method::GET]));
        }
        let state = shared.state();
        let scope = super::authorization::resolve_scope(&state, subscription, scope)?;
        let value: Vec<Value> = assigned_roles(&state, &subscription.id, &token.object_id, &scope.id)
            .iter()
            .map(|role| serde_json::to_value(&role.permissions).unwrap_or(Value::Null))
            .collect();
        Ok(json_response(StatusCode::OK, &json!({"value": value})))
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_assignment_key_gives_its_scope_and_no_other_key_does() {
        let scope = "/subscriptions/s/resourcegroups/rg";
        let key = format!("{scope}/providers/microsoft.authorization/roleassignments/a-guid");
        assert_eq!(assignment_scope(&key), Some(scope));
        let at_subscription = "/subscriptions/s/providers/microsoft.authorization/roleassignments/g";
        assert_eq!(assignment_scope(at_subscription), Some("/subscriptions/s"));
        for other in [
            "/subscriptions/s/resourcegroups/rg",
            "/subscriptions/s/resourcegroups/rg/providers/microsoft.containerregistry/registries/acr",
            "/subscriptions/s/providers/microsoft.authorization/roleassignments/",
            "/subscriptions/s/providers/microsoft.authorization/roledefinitions/g",
        ] {
            assert_eq!(assignment_scope(other), None, "{other}");
        }
    }

    #[test]
    fn the_checked_in_roles_parse_and_name_their_sources() {
        let names: Vec<&str> = built_in_roles().iter().map(|role| role.role_name.as_str()).collect();
        for wanted in [
            "Owner",
            "Contributor",
            "Reader",
            "User Access Administrator",
            "Role Based Access Control Administrator",
            "AcrPull",
            "AcrPush",
            "AcrDelete",
            "Azure Kubernetes Service Cluster User Role",
            "Azure Kubernetes Service Cluster Admin Role",
            "Azure Kubernetes Service RBAC Cluster Admin",
            "Monitoring Contributor",
            "Monitoring Reader",
            "Log Analytics Contributor",
            "Managed Identity Operator",
        ] {
            assert!(names.contains(&wanted), "{wanted} missing from {names:?}");
        }
        for role in built_in_roles() {
            assert!(role.source.starts_with("https://learn.microsoft.com/"), "{}: {}", role.role_name, role.source);
            assert!(crate::http::parse_guid(&role.id).as_deref() == Some(role.id.as_str()), "{}", role.id);
        }
    }

    #[test]
    fn wildcards_match_as_arm_matches_them() {
        assert!(matches("*", "Microsoft.ContainerRegistry/registries/write"));
        assert!(matches("*/read", "Microsoft.ContainerRegistry/registries/read"));
        assert!(matches("*/read", "Microsoft.Resources/subscriptions/resourceGroups/read"));
        assert!(!matches("*/read", "Microsoft.ContainerRegistry/registries/write"));
        assert!(!matches("*/read", "Microsoft.ContainerRegistry/registries/reader"));
        assert!(matches("Microsoft.Authorization/*/Write", "microsoft.authorization/roleAssignments/write"));
        assert!(matches("Microsoft.Authorization/*/Write", "Microsoft.Authorization/policy/assignments/WRITE"));
        assert!(!matches("Microsoft.Authorization/*/Write", "Microsoft.Authorization/roleAssignments/read"));
        assert!(matches("Microsoft.Authorization/*", "Microsoft.Authorization/roleAssignments/delete"));
        assert!(!matches("Microsoft.Authorization/*", "Microsoft.AuthorizationX/roleAssignments/delete"));
        assert!(matches(
            "Microsoft.ContainerService/managedClusters/*",
            "Microsoft.ContainerService/managedClusters/pods/read"
        ));
        assert!(matches("a*b*c", "aXXbYYbZc"));
        assert!(!matches("a*b*c", "aXXbYYbZ"));
        assert!(!matches("", "x"));
    }

    #[test]
    fn not_actions_take_out_of_their_own_role_only() {
        let contributor = role_by_name_or_id("Contributor").map(|role| &role.permissions);
        let uaa = role_by_name_or_id("user access administrator").map(|role| &role.permissions);
        let (Some(contributor), Some(uaa)) = (contributor, uaa) else {
            panic!("built-in roles missing");
        };
        assert!(contributor.grants("Microsoft.ContainerRegistry/registries/write"));
        assert!(contributor.grants("Microsoft.Authorization/roleAssignments/read"));
        assert!(!contributor.grants("Microsoft.Authorization/roleAssignments/write"));
        assert!(!contributor.grants("Microsoft.Authorization/roleAssignments/delete"));
        assert!(uaa.grants("Microsoft.Authorization/roleAssignments/write"));
        assert!(!uaa.grants("Microsoft.ContainerRegistry/registries/write"));
        let reader = role_by_name_or_id("acdd72a7-3385-48ef-bd42-f606fba81ae7").map(|role| &role.permissions);
        assert!(reader.is_some_and(|reader| reader.grants("Microsoft.Insights/dataCollectionRules/read")
            && !reader.grants("Microsoft.Insights/dataCollectionRules/write")));
    }

    #[test]
    fn roles_add_up_and_apply_below_their_scope_only() {
        let mut state = State::default();
        state.subscriptions.insert(
            "s".to_owned(),
            crate::state::SubscriptionRecord {
                subscription_id: "s".to_owned(),
                tenant_id: "t".to_owned(),
                display_name: "d".to_owned(),
                resource_groups: Default::default(),
                operations: Default::default(),
                resources: Default::default(),
            },
        );
        let contributor = "b24988ac-6180-42a0-ab88-20f7382dd24c";
        let access_admin = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9";
        grant(&mut state, "s", "/subscriptions/s", contributor, "p", "now");
        grant(&mut state, "s", "/subscriptions/s", contributor, "p", "now");
        let registry = "/subscriptions/s/resourceGroups/RG/providers/Microsoft.ContainerRegistry/registries/r";
        let write = "Microsoft.Authorization/roleAssignments/write";
        assert!(allows(&state, "s", "p", "Microsoft.ContainerRegistry/registries/write", registry));
        assert!(!allows(&state, "s", "p", write, registry));
        assert!(!allows(&state, "s", "q", "Microsoft.ContainerRegistry/registries/read", registry));
        // User Access Administrator at the group grants what Contributor's notActions took out,
        // there and below, not above.
        grant(&mut state, "s", "/subscriptions/s/resourceGroups/rg", access_admin, "p", "now");
        assert!(allows(&state, "s", "p", write, registry));
        assert!(!allows(&state, "s", "p", write, "/subscriptions/s"));
        assert!(!allows(&state, "s", "p", write, "/subscriptions/s/resourceGroups/rg2"));
        assert_eq!(assigned_roles(&state, "s", "p", registry).len(), 2, "the same grant twice is stored once");
    }

    fn op(method: Method, rest: &str) -> (String, String, bool) {
        let segments: Vec<String> = rest.split('/').filter(|s| !s.is_empty()).map(str::to_owned).collect();
        let operation = operation(&State::default(), &method, "s", &segments);
        (operation.action, operation.scope, operation.list)
    }

    #[test]
    fn requests_have_arm_s_actions_and_scopes() {
        let owned = |(action, scope, list): (&str, &str, bool)| (action.to_owned(), scope.to_owned(), list);
        assert_eq!(op(Method::GET, ""), owned(("Microsoft.Resources/subscriptions/read", "/subscriptions/s", false)));
        assert_eq!(
            op(Method::GET, "resourcegroups"),
            owned(("Microsoft.Resources/subscriptions/resourceGroups/read", "/subscriptions/s", true))
        );
        assert_eq!(
            op(Method::PUT, "resourceGroups/rg"),
            owned((
                "Microsoft.Resources/subscriptions/resourceGroups/write",
                "/subscriptions/s/resourceGroups/rg",
                false
            ))
        );
        let registry = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r";
        assert_eq!(
            op(Method::DELETE, "resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r"),
            owned(("Microsoft.ContainerRegistry/registries/delete", registry, false))
        );
        assert_eq!(
            op(Method::POST, "resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r/listCredentials"),
            owned(("Microsoft.ContainerRegistry/registries/listCredentials/action", registry, false))
        );
        assert_eq!(
            op(Method::GET, "resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries"),
            owned(("Microsoft.ContainerRegistry/registries/read", "/subscriptions/s/resourceGroups/rg", true))
        );
        let assignment = format!("{registry}/providers/Microsoft.Authorization/roleAssignments/g");
        assert_eq!(
            op(Method::PUT, &assignment.replacen("/subscriptions/s/", "", 1)),
            owned(("Microsoft.Authorization/roleAssignments/write", assignment.as_str(), false))
        );
        assert_eq!(
            op(Method::POST, "providers/Microsoft.ContainerRegistry/checkNameAvailability"),
            owned(("Microsoft.ContainerRegistry/checkNameAvailability/read", "/subscriptions/s", false))
        );
        assert_eq!(
            op(Method::PATCH, "resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c/agentPools/p"),
            owned((
                "Microsoft.ContainerService/managedClusters/agentPools/write",
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c/agentPools/p",
                false
            ))
        );
    }
}
