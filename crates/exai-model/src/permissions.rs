//! What a request needs the caller to be allowed, and what Azure's roles allow.
//!
//! ARM authorizes every request against one *action*, derived from its method and its path
//! (`PUT .../registries/x` → `Microsoft.ContainerRegistry/registries/write`), at the scope the
//! request targets. A caller is allowed the action when one of the role assignments that apply
//! at that scope (or above it) grants a role whose `actions` match it and whose `notActions` do
//! not. [`required_action`] derives the action of any [`ApiRequest`] — one function for every
//! kind, from the request itself, so a new kind needs nothing here. [`PermissionSet`] is one
//! entry of what `GET {scope}/providers/Microsoft.Authorization/permissions` answers, and
//! [`granted`] holds an action against them as ARM does. [`BUILTIN_ROLES`] is the table of the
//! built-in roles exai's hints name, copied from Azure's documentation, and [`smallest_roles`]
//! picks from it the narrowest roles that grant an action.
//!
//! Microsoft Graph requests have no ARM action: Graph authorizes by the application
//! permissions in its token's `roles` claim, which exai does not check before apply (see
//! docs/plan-format.md).

use crate::{ApiRequest, Method, ResourceId, Service};
use serde::{Deserialize, Serialize};

/// One entry of the caller's effective permissions at a scope: the `permissions` of one role
/// assignment that applies there, as `Permissions - List For Resource Group` (api 2022-04-01)
/// answers it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionSet {
    /// The control-plane actions granted (wildcards allowed).
    #[serde(default)]
    pub actions: Vec<String>,
    /// The control-plane actions taken out of `actions` (wildcards allowed).
    #[serde(default)]
    pub not_actions: Vec<String>,
    /// The data-plane actions granted.
    #[serde(default)]
    pub data_actions: Vec<String>,
    /// The data-plane actions taken out of `dataActions`.
    #[serde(default)]
    pub not_data_actions: Vec<String>,
}

impl PermissionSet {
    /// Returns true when this set grants `action`: one of its `actions` matches it and none of
    /// its `notActions` does ([`action_matches`]).
    ///
    /// "Azure RBAC determines the effective permissions by subtracting the NotActions from the
    /// Actions" (learn.microsoft.com/azure/role-based-access-control/role-definitions#notactions).
    pub fn grants(&self, action: &str) -> bool {
        self.actions.iter().any(|p| action_matches(p, action))
            && !self.not_actions.iter().any(|p| action_matches(p, action))
    }
}

/// Returns true when one of `sets` grants `action`.
///
/// The sets are not combined before the subtraction: each role's `notActions` only take from
/// that role, so a second role that grants an action another role's `notActions` excludes
/// allows it ("NotActions is not a deny rule", learn.microsoft.com/azure/role-based-access-control/role-definitions#notactions).
pub fn granted(sets: &[PermissionSet], action: &str) -> bool {
    sets.iter().any(|set| set.grants(action))
}

/// Returns true when the action `pattern` of a role definition matches `action`, as ARM
/// matches them: case-insensitively, with `*` standing for any run of characters, `/`
/// included (`*`, `*/read`, `Microsoft.Authorization/*/Write`, `Microsoft.Support/*`).
///
/// Source: learn.microsoft.com/azure/role-based-access-control/role-definitions ("The wildcard
/// (`*`) extends an operation to everything that matches the string you provide";
/// `Microsoft.Authorization/*/Write` in Contributor's `notActions` covers role assignments,
/// role definitions and policy assignments alike).
pub fn action_matches(pattern: &str, action: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let action = action.to_ascii_lowercase();
    let mut parts = pattern.split('*');
    // No `*`: the whole pattern must equal the action.
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = action.strip_prefix(first) else { return false };
    let middle: Vec<&str> = parts.collect();
    let Some((last, middle)) = middle.split_last() else { return rest.is_empty() };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// The action a request needs, and the scope it is performed at (for a role assignment, the
/// scope it is assigned at).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequiredAction {
    /// The ARM action, e.g. `Microsoft.Authorization/roleAssignments/write`.
    pub action: String,
    /// The resource (or the scope) the action is performed on: the request's path without an
    /// action name or a collection at its end.
    pub scope: ResourceId,
}

/// Returns the ARM action `request` needs and where, from its method and path alone (contract
/// of ARM's operations: learn.microsoft.com/azure/role-based-access-control/resource-provider-operations):
///
/// - `PUT`/`PATCH` → `{Namespace}/{type}[/{subtype}...]/write`, `GET`/`HEAD` → `/read`,
///   `DELETE` → `/delete`, where the namespace and types come from the path's last
///   `/providers/{Namespace}/...` (an extension resource — a role assignment on a registry —
///   is authorized as its own type, not its parent's);
/// - `POST .../{name}` to an action → `{Namespace}/{type}/{name}/action`;
/// - a path with no `providers` segment is `Microsoft.Resources`' (`subscriptions`,
///   `subscriptions/resourceGroups`, `subscriptions/resources`).
///
/// `None` for Microsoft Graph requests and for paths that are not ARM paths.
pub fn required_action(request: &ApiRequest) -> Option<RequiredAction> {
    if request.service != Service::Arm {
        return None;
    }
    let segments: Vec<&str> = request.path.trim_start_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let providers = segments.iter().rposition(|s| s.eq_ignore_ascii_case("providers"));
    let (namespace, typed, start) = match providers {
        Some(at) => (*segments.get(at + 1)?, segments.get(at + 2..)?, at + 2),
        None => ("Microsoft.Resources", &segments[..], 0),
    };
    // Type names and object names alternate; an odd count ends with a collection (a list) or,
    // for a POST, with the name of an action.
    let odd = typed.len() % 2 == 1;
    let posted_action = (odd && request.method == Method::Post).then(|| typed[typed.len() - 1]);
    let types_of = if posted_action.is_some() { &typed[..typed.len() - 1] } else { typed };
    let mut action: Vec<String> = vec![namespace.to_owned()];
    action.extend(types_of.iter().step_by(2).map(|t| canonical_type(t)));
    action.push(match (posted_action, request.method) {
        // A provider-level name check is registered as a read, though it is a POST
        // ("Azure resource provider operations": `Microsoft.ContainerRegistry/checkNameAvailability/read`).
        (Some(name), _) if types_of.is_empty() && name.eq_ignore_ascii_case("checkNameAvailability") => {
            format!("{name}/read")
        }
        (Some(name), _) => format!("{name}/action"),
        (None, Method::Get | Method::Head) => "read".to_owned(),
        (None, Method::Put | Method::Patch) => "write".to_owned(),
        (None, Method::Delete) => "delete".to_owned(),
        // A POST to an object itself names no action: ARM has no such operation.
        (None, Method::Post) => "action".to_owned(),
    });
    // The scope: everything before the collection or action name at the end.
    // (`{scope}/providers/{Namespace}/{collection}` leaves `providers/{Namespace}` out too.)
    // Role assignments (and Microsoft.Authorization's other objects) are made *at* a scope: the
    // one before their `providers` segment is where they act.
    let kept = match (odd, providers) {
        (_, Some(at)) if namespace.eq_ignore_ascii_case("Microsoft.Authorization") => at,
        (false, _) => segments.len(),
        (true, Some(at)) if typed.len() == 1 => at,
        (true, _) => start + typed.len() - 1,
    };
    let kept: Vec<String> = segments.get(..kept)?.iter().map(|s| canonical_type(s)).collect();
    let scope = ResourceId::parse(&format!("/{}", kept.join("/"))).ok()?;
    Some(RequiredAction { action: action.join("/"), scope })
}

/// ARM's spelling of `Microsoft.Resources` types written lower-cased in request paths (an
/// object named `resourcegroups` would be shown `resourceGroups`, which ARM reads the same).
fn canonical_type(segment: &str) -> String {
    if segment.eq_ignore_ascii_case("resourcegroups") { "resourceGroups".to_owned() } else { segment.to_owned() }
}

/// Returns the scopes whose effective permissions decide what the caller may do at `target`,
/// nearest first: its resource group (when it lies in one), then its subscription. The
/// permissions read at a scope include every assignment above it, so the nearest one that
/// exists is enough.
pub fn permission_scopes(target: &ResourceId) -> Vec<ResourceId> {
    let mut scopes = Vec::new();
    let Some(subscription) = target.segment_after("subscriptions") else { return scopes };
    if let Some(group) = target.segment_after("resourceGroups") {
        scopes.push(ResourceId::resource_group(subscription, group));
    }
    scopes.push(ResourceId::subscription(subscription));
    scopes
}

/// The read of the caller's effective permissions at `scope`
/// (`Permissions - List For Resource Group` / `For Resource`, api 2022-04-01).
pub fn permissions_request(scope: &ResourceId) -> ApiRequest {
    ApiRequest::arm(
        Method::Get,
        format!("{}/providers/Microsoft.Authorization/permissions", scope.as_str()),
        "2022-04-01",
        None,
    )
}

/// What reading the caller's effective permissions at one scope found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum ScopePermissions {
    /// Azure answered the permissions (one set per role assignment that applies).
    Read {
        /// The sets.
        sets: Vec<PermissionSet>,
    },
    /// The scope does not exist (yet): a scope above it decides.
    Absent,
    /// The read failed: what the caller may do there is not known.
    Unknown {
        /// Why, as Azure or the client said it.
        reason: String,
    },
}

impl ScopePermissions {
    /// Returns the permissions in an answer to [`permissions_request`] (`{"value": [...]}`).
    pub fn from_answer(answer: &serde_json::Value) -> Self {
        match answer.get("value").map(|v| serde_json::from_value::<Vec<PermissionSet>>(v.clone())) {
            Some(Ok(sets)) => Self::Read { sets },
            Some(Err(e)) => Self::Unknown { reason: format!("the answer's `value` is not a list of permissions: {e}") },
            None => Self::Unknown { reason: "the answer has no `value` list".to_owned() },
        }
    }
}

/// A built-in Azure role: its documented definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltinRole {
    /// The role's name, e.g. `Contributor`.
    pub name: &'static str,
    /// The role definition's GUID (the same in every tenant).
    pub id: &'static str,
    /// Its `permissions[0].actions`.
    pub actions: &'static [&'static str],
    /// Its `permissions[0].notActions`.
    pub not_actions: &'static [&'static str],
    /// Where the definition is documented.
    pub source: &'static str,
    /// Said of it in a hint, e.g. that a condition can narrow it.
    pub note: Option<&'static str>,
}

impl BuiltinRole {
    /// Returns the role's permissions as a [`PermissionSet`].
    pub fn permission_set(&self) -> PermissionSet {
        PermissionSet {
            actions: self.actions.iter().map(|a| (*a).to_owned()).collect(),
            not_actions: self.not_actions.iter().map(|a| (*a).to_owned()).collect(),
            ..PermissionSet::default()
        }
    }

    /// Returns true when the role grants `action`.
    pub fn grants(&self, action: &str) -> bool {
        self.actions.iter().any(|p| action_matches(p, action))
            && !self.not_actions.iter().any(|p| action_matches(p, action))
    }

    /// How broad the role is, narrowest first: a role that grants every action (`*`) last; then
    /// fewer wildcard actions first, fewer named actions first; and, among roles equal so far,
    /// the one with more `notActions` first (Contributor before Owner).
    fn breadth(&self) -> (bool, usize, usize, std::cmp::Reverse<usize>) {
        let everything = self.actions.contains(&"*");
        let wildcards = self.actions.iter().filter(|a| a.contains('*')).count();
        (everything, wildcards, self.actions.len() - wildcards, std::cmp::Reverse(self.not_actions.len()))
    }
}

const GENERAL: &str = "learn.microsoft.com/azure/role-based-access-control/built-in-roles/general";
const PRIVILEGED: &str = "learn.microsoft.com/azure/role-based-access-control/built-in-roles/privileged";
const CONTAINERS: &str = "learn.microsoft.com/azure/role-based-access-control/built-in-roles/containers";

/// The built-in roles exai's hints name, as Azure documents them ("Azure built-in roles",
/// learn.microsoft.com; each row cites its page). Definitions only grow more precise over
/// time: a role missing here is one exai never suggests, never one it mis-describes.
pub const BUILTIN_ROLES: &[BuiltinRole] = &[
    BuiltinRole {
        name: "Owner",
        id: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        actions: &["*"],
        not_actions: &[],
        source: PRIVILEGED,
        note: None,
    },
    BuiltinRole {
        name: "Contributor",
        id: "b24988ac-6180-42a0-ab88-20f7382dd24c",
        actions: &["*"],
        not_actions: &[
            "Microsoft.Authorization/*/Delete",
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/elevateAccess/Action",
            "Microsoft.Blueprint/blueprintAssignments/write",
            "Microsoft.Blueprint/blueprintAssignments/delete",
            "Microsoft.Compute/galleries/share/action",
            "Microsoft.Purview/consents/write",
            "Microsoft.Purview/consents/delete",
            "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
            "Microsoft.Subscription/cancel/action",
            "Microsoft.Subscription/enable/action",
        ],
        source: PRIVILEGED,
        note: None,
    },
    BuiltinRole {
        name: "Reader",
        id: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
        actions: &["*/read"],
        not_actions: &[],
        source: GENERAL,
        note: None,
    },
    BuiltinRole {
        name: "User Access Administrator",
        id: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        actions: &["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"],
        not_actions: &[],
        source: PRIVILEGED,
        note: None,
    },
    BuiltinRole {
        name: "Role Based Access Control Administrator",
        id: "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
        actions: &[
            "Microsoft.Authorization/roleAssignments/write",
            "Microsoft.Authorization/roleAssignments/delete",
            "*/read",
            "Microsoft.Support/*",
        ],
        not_actions: &[],
        source: PRIVILEGED,
        // learn.microsoft.com/azure/role-based-access-control/delegate-role-assignments-overview
        note: Some("conditions"),
    },
    BuiltinRole {
        name: "AcrPull",
        id: "7f951dda-4ed3-4680-a7ca-43fe172d538d",
        actions: &["Microsoft.ContainerRegistry/registries/pull/read"],
        not_actions: &[],
        source: CONTAINERS,
        note: None,
    },
    BuiltinRole {
        name: "AcrPush",
        id: "8311e382-0749-4cb8-b61a-304f252e45ec",
        actions: &[
            "Microsoft.ContainerRegistry/registries/pull/read",
            "Microsoft.ContainerRegistry/registries/push/write",
        ],
        not_actions: &[],
        source: CONTAINERS,
        note: None,
    },
    BuiltinRole {
        name: "Azure Kubernetes Service Cluster User Role",
        id: "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
        actions: &[
            "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
            "Microsoft.ContainerService/managedClusters/read",
        ],
        not_actions: &[],
        source: CONTAINERS,
        note: None,
    },
];

/// Returns the built-in role of GUID `id` (any case), if the table has it.
pub fn builtin_role(id: &str) -> Option<&'static BuiltinRole> {
    BUILTIN_ROLES.iter().find(|r| r.id.eq_ignore_ascii_case(id))
}

/// Returns the built-in role whose definition `set` is, if the table has one: the effective
/// permissions name no role, so a hint recognizes roles by their actions.
pub fn builtin_role_of(set: &PermissionSet) -> Option<&'static BuiltinRole> {
    let same =
        |a: &[String], b: &[&str]| a.len() == b.len() && a.iter().all(|x| b.iter().any(|y| x.eq_ignore_ascii_case(y)));
    BUILTIN_ROLES.iter().find(|r| same(&set.actions, r.actions) && same(&set.not_actions, r.not_actions))
}

/// Returns the built-in roles of the table that grant `action`, narrowest first (see
/// `BuiltinRole::breadth`: roles of named actions before roles of wildcards, `*` last), so a
/// hint suggests the least privilege that works.
pub fn smallest_roles(action: &str) -> Vec<&'static BuiltinRole> {
    let mut roles: Vec<&'static BuiltinRole> = BUILTIN_ROLES.iter().filter(|r| r.grants(action)).collect();
    roles.sort_by_key(|r| r.breadth());
    roles
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SUB: &str = "/subscriptions/ee000000-0000-4000-8000-000000000002";

    /// The emulator keeps its own copy of the built-in roles (it shares no code with exai), from
    /// the same learn.microsoft.com pages: where both list a role, they must agree, or exai's
    /// preflight and the emulator's RBAC would disagree on what a role grants.
    #[test]
    fn every_role_is_the_emulator_s_copy_of_azure_s_definition() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../exai-emulator/data/built-in-roles.json");
        let text = std::fs::read_to_string(path).unwrap();
        let file: serde_json::Value = serde_json::from_str(&text).unwrap();
        let roles = file.as_array().or_else(|| file["roles"].as_array()).unwrap();
        let strings = |value: &serde_json::Value| -> Vec<String> {
            value.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
        };
        for role in BUILTIN_ROLES {
            let theirs = roles.iter().find(|r| r["roleName"] == role.name);
            let theirs = theirs.unwrap_or_else(|| panic!("the emulator has no `{}`", role.name));
            assert_eq!(theirs["id"].as_str(), Some(role.id), "{}", role.name);
            assert_eq!(strings(&theirs["permissions"]["actions"]), role.actions, "{}: actions", role.name);
            assert_eq!(strings(&theirs["permissions"]["notActions"]), role.not_actions, "{}: notActions", role.name);
        }
    }

    fn role(name: &str) -> &'static BuiltinRole {
        BUILTIN_ROLES.iter().find(|r| r.name == name).unwrap()
    }

    #[test]
    fn wildcards_match_as_arm_matches_them() {
        for (pattern, action, expected) in [
            ("*", "Microsoft.ContainerRegistry/registries/write", true),
            ("*/read", "Microsoft.Resources/subscriptions/resourceGroups/read", true),
            ("*/read", "Microsoft.Resources/subscriptions/resourceGroups/write", false),
            ("Microsoft.Authorization/*/Write", "microsoft.authorization/roleassignments/write", true),
            ("Microsoft.Authorization/*/Write", "Microsoft.Authorization/roleAssignments/delete", false),
            ("Microsoft.Authorization/*", "Microsoft.Authorization/roleAssignments/delete", true),
            ("Microsoft.Support/*", "Microsoft.Authorization/roleAssignments/write", false),
            ("Microsoft.ContainerRegistry/registries/pull/read", "Microsoft.ContainerRegistry/registries/read", false),
            ("Microsoft.ContainerRegistry/registries/read", "MICROSOFT.CONTAINERREGISTRY/REGISTRIES/READ", true),
            ("Microsoft.ContainerRegistry/registries/read", "Microsoft.ContainerRegistry/registries/readx", false),
            ("a*b*c", "abc", true),
            ("a*b*c", "ac", false),
            ("*b*", "abc", true),
            ("ab*ab", "ab", false),
        ] {
            assert_eq!(action_matches(pattern, action), expected, "{pattern} vs {action}");
        }
    }

    #[test]
    fn contributor_grants_writes_but_not_role_assignments_and_a_second_role_adds_them() {
        let contributor = role("Contributor").permission_set();
        assert!(contributor.grants("Microsoft.ContainerRegistry/registries/write"));
        assert!(!contributor.grants("Microsoft.Authorization/roleAssignments/write"));
        assert!(!contributor.grants("Microsoft.Authorization/roleAssignments/delete"));
        assert!(contributor.grants("Microsoft.Authorization/roleAssignments/read"));
        let rbac = role("Role Based Access Control Administrator").permission_set();
        assert!(!granted(std::slice::from_ref(&contributor), "Microsoft.Authorization/roleAssignments/write"));
        assert!(granted(&[contributor, rbac], "Microsoft.Authorization/roleAssignments/write"));
        assert!(!granted(&[], "Microsoft.Resources/subscriptions/resourceGroups/read"));
    }

    fn action_of(method: Method, path: &str) -> (String, String) {
        let r = required_action(&ApiRequest::arm(method, path, "v", None)).unwrap();
        (r.action, r.scope.as_str().to_owned())
    }

    #[test]
    fn actions_come_from_the_method_and_the_last_provider_of_the_path() {
        let rg = format!("{SUB}/resourcegroups/exai-perso-rg");
        let group = format!("{SUB}/resourceGroups/exai-perso-rg");
        let acr =
            format!("{SUB}/resourceGroups/exai-perso-rg/providers/Microsoft.ContainerRegistry/registries/exaipersoacr");
        let assignment = format!("{acr}/providers/Microsoft.Authorization/roleAssignments/0f0e");
        let cluster = format!("{SUB}/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/c");
        for (method, path, action, scope) in [
            (Method::Put, rg.clone(), "Microsoft.Resources/subscriptions/resourceGroups/write", group.clone()),
            (Method::Patch, rg.clone(), "Microsoft.Resources/subscriptions/resourceGroups/write", group.clone()),
            (Method::Delete, rg.clone(), "Microsoft.Resources/subscriptions/resourceGroups/delete", group.clone()),
            (Method::Head, rg.clone(), "Microsoft.Resources/subscriptions/resourceGroups/read", group.clone()),
            (Method::Get, SUB.to_owned(), "Microsoft.Resources/subscriptions/read", SUB.to_owned()),
            (
                Method::Get,
                format!("{rg}/resources"),
                "Microsoft.Resources/subscriptions/resourceGroups/resources/read",
                group.clone(),
            ),
            (Method::Put, acr.clone(), "Microsoft.ContainerRegistry/registries/write", acr.clone()),
            (Method::Get, acr.clone(), "Microsoft.ContainerRegistry/registries/read", acr.clone()),
            (Method::Put, assignment.clone(), "Microsoft.Authorization/roleAssignments/write", acr.clone()),
            (Method::Delete, assignment.clone(), "Microsoft.Authorization/roleAssignments/delete", acr.clone()),
            (
                Method::Get,
                format!("{acr}/providers/Microsoft.Authorization/roleAssignments"),
                "Microsoft.Authorization/roleAssignments/read",
                acr.clone(),
            ),
            (
                Method::Post,
                format!("{SUB}/providers/Microsoft.ContainerRegistry/checkNameAvailability"),
                "Microsoft.ContainerRegistry/checkNameAvailability/read",
                SUB.to_owned(),
            ),
            (
                Method::Post,
                format!("{cluster}/listClusterUserCredential"),
                "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
                cluster.clone(),
            ),
            // The deployer's deploy access (`deploy.cluster: user`): an assignment on the
            // cluster is authorized at the cluster, as the registry's is at the registry.
            (
                Method::Put,
                format!("{cluster}/providers/Microsoft.Authorization/roleAssignments/5d18"),
                "Microsoft.Authorization/roleAssignments/write",
                cluster.clone(),
            ),
            (
                Method::Delete,
                format!("{cluster}/providers/Microsoft.Authorization/roleAssignments/5d18"),
                "Microsoft.Authorization/roleAssignments/delete",
                cluster.clone(),
            ),
            (
                Method::Put,
                format!("{cluster}/agentPools/nodepool1"),
                "Microsoft.ContainerService/managedClusters/agentPools/write",
                format!("{cluster}/agentPools/nodepool1"),
            ),
            (
                Method::Put,
                format!("{cluster}/providers/Microsoft.Insights/dataCollectionRuleAssociations/a"),
                "Microsoft.Insights/dataCollectionRuleAssociations/write",
                format!("{cluster}/providers/Microsoft.Insights/dataCollectionRuleAssociations/a"),
            ),
        ] {
            assert_eq!(action_of(method, &path), (action.to_owned(), scope), "{method} {path}");
        }
        assert_eq!(required_action(&ApiRequest::graph(Method::Post, "/applications", None)), None);
    }

    #[test]
    fn the_scopes_of_a_target_are_its_group_then_its_subscription() {
        let target = ResourceId::parse(&format!("{SUB}/resourceGroups/g/providers/A.B/c/d")).unwrap();
        let scopes: Vec<String> = permission_scopes(&target).iter().map(|s| s.as_str().to_owned()).collect();
        assert_eq!(scopes, [format!("{SUB}/resourceGroups/g"), SUB.to_owned()]);
        let at_subscription =
            ResourceId::parse(&format!("{SUB}/providers/Microsoft.Authorization/roleAssignments/x")).unwrap();
        assert_eq!(permission_scopes(&at_subscription), [ResourceId::parse(SUB).unwrap()]);
        assert_eq!(
            permissions_request(&ResourceId::parse(SUB).unwrap()).path_and_query(),
            format!("{SUB}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01")
        );
    }

    #[test]
    fn the_smallest_roles_are_the_narrowest_that_grant_the_action() {
        let names = |action: &str| smallest_roles(action).iter().map(|r| r.name).collect::<Vec<_>>();
        assert_eq!(
            names("Microsoft.Authorization/roleAssignments/write"),
            ["Role Based Access Control Administrator", "User Access Administrator", "Owner"]
        );
        assert_eq!(names("Microsoft.ContainerRegistry/registries/write"), ["Contributor", "Owner"]);
        assert_eq!(names("Microsoft.ContainerRegistry/registries/push/write"), ["AcrPush", "Contributor", "Owner"]);
        assert_eq!(
            names("Microsoft.ContainerService/managedClusters/read"),
            [
                "Azure Kubernetes Service Cluster User Role",
                "Reader",
                "Role Based Access Control Administrator",
                "User Access Administrator",
                "Contributor",
                "Owner"
            ]
        );
    }

    #[test]
    fn permission_answers_are_read_and_roles_recognized_by_their_actions() {
        let answer = json!({"value": [{"actions": ["*"], "notActions": role("Contributor").not_actions, "dataActions": [], "notDataActions": []}]});
        let ScopePermissions::Read { sets } = ScopePermissions::from_answer(&answer) else { panic!("not read") };
        assert_eq!(builtin_role_of(&sets[0]).map(|r| r.name), Some("Contributor"));
        assert_eq!(builtin_role_of(&PermissionSet { actions: vec!["x".into()], ..Default::default() }), None);
        assert!(matches!(ScopePermissions::from_answer(&json!({})), ScopePermissions::Unknown { .. }));
        assert!(matches!(ScopePermissions::from_answer(&json!({"value": 3})), ScopePermissions::Unknown { .. }));
        assert_eq!(builtin_role("B24988AC-6180-42A0-AB88-20F7382DD24C").map(|r| r.name), Some("Contributor"));
        let guids: std::collections::BTreeSet<&str> = BUILTIN_ROLES.iter().map(|r| r.id).collect();
        assert_eq!(guids.len(), BUILTIN_ROLES.len(), "one row per role");
    }
}
