//! `Microsoft.Authorization/roleAssignments`, api-version 2022-04-01.
//!
//! Source: azure-rest-api-specs `Microsoft.Authorization/stable/2022-04-01/
//! authorization-RoleAssignmentsCalls.json` (see docs/azure-facts.md §4).

use crate::{Address, ApiRequest, Known, LiveResource, Mark, Method, OwnedFields, ResourceId};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The namespace of exai's role assignment names (UUID v5).
const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6a1f_3c2e_9b7d_4e55_8f0a_e3a1_0000_0001);

/// Azure built-in roles exai knows by name: `(name, role definition GUID)`.
///
/// Built-in role GUIDs are the same in every tenant. Source: "Azure built-in roles"
/// (learn.microsoft.com/azure/role-based-access-control/built-in-roles); Contributor, AcrPull
/// and Role Based Access Control Administrator are also in docs/azure-facts.md §4.
pub const BUILT_IN_ROLES: &[(&str, &str)] = &[
    ("AcrDelete", "c2f4ef07-c644-48eb-af81-4b1b4947fb11"),
    ("AcrPull", "7f951dda-4ed3-4680-a7ca-43fe172d538d"),
    ("AcrPush", "8311e382-0749-4cb8-b61a-304f252e45ec"),
    ("Azure Kubernetes Service Cluster Admin Role", "0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8"),
    ("Azure Kubernetes Service Cluster User Role", "4abbcc35-e782-43d8-92c5-2d3f1bd2253f"),
    ("Azure Kubernetes Service Contributor Role", "ed7f3fbd-7b88-4dd4-9017-9adb7ce333f8"),
    ("Azure Kubernetes Service RBAC Admin", "3498e952-d568-435e-9b2c-8d77e338d7f7"),
    ("Azure Kubernetes Service RBAC Cluster Admin", "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"),
    ("Azure Kubernetes Service RBAC Writer", "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb"),
    ("Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c"),
    ("Log Analytics Contributor", "92aaf0da-9dab-42b6-94a3-d43ce8d16293"),
    ("Log Analytics Reader", "73c42c96-874c-492b-b04d-ab87d138a893"),
    ("Monitoring Metrics Publisher", "3913510d-42f4-4e42-8a64-420c390055eb"),
    ("Monitoring Reader", "43d0d8ad-25c7-4714-9337-8ba259a9fe05"),
    ("Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"),
    ("Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7"),
    ("Role Based Access Control Administrator", "f58310d9-a9f6-439a-9e8d-f62e7b41a168"),
    ("User Access Administrator", "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"),
];

/// The roles that may create role assignments (`Microsoft.Authorization/roleAssignments/write`).
/// Contributor may not: its `notActions` exclude `Microsoft.Authorization/*/Write`.
pub const ROLE_ASSIGNMENT_WRITERS: &[&str] =
    &["Owner", "User Access Administrator", "Role Based Access Control Administrator"];

/// Returns the built-in role named `name` (compared case-insensitively) as `(name, GUID)`.
pub fn built_in_role(name: &str) -> Option<(&'static str, &'static str)> {
    BUILT_IN_ROLES.iter().copied().find(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// Returns the name of the built-in role with GUID `guid`.
pub fn built_in_role_name(guid: &str) -> Option<&'static str> {
    BUILT_IN_ROLES.iter().find(|(_, g)| g.eq_ignore_ascii_case(guid)).map(|(n, _)| *n)
}

/// Who gets the role: an object id known only once another resource exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrincipalRef {
    /// The resource whose apply reveals the principal.
    pub from: Address,
    /// Where in that resource the object id is.
    pub field: String,
}

/// A role assignment as the spec implies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignment {
    /// Where the role applies.
    pub scope: ResourceId,
    /// The role definition's GUID.
    pub role_definition: String,
    /// The principal.
    pub principal: PrincipalRef,
    /// The assignment's name: a UUID v5 of scope, role and address, so re-runs never duplicate.
    pub name: String,
    /// Its ownership mark (role assignments have no tags: it goes in the `description`).
    pub mark: Mark,
    /// Where the principal's assignments are listed to find this one, when not at its own
    /// scope ([`RoleAssignment::listed_at`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_scope: Option<ResourceId>,
}

impl RoleAssignment {
    /// The Azure resource type.
    pub const AZURE_TYPE: &'static str = "Microsoft.Authorization/roleAssignments";

    /// Returns the assignment of `role_definition` at `scope` to `principal`, owned as `mark`
    /// says (its name derives from the mark's address, not its spec, so a mark rewritten by a
    /// newer exai keeps the name).
    pub fn new(scope: ResourceId, role_definition: &str, principal: PrincipalRef, mark: Mark) -> Self {
        let seed = format!(
            "{}|{}|{}",
            scope.as_str().to_ascii_lowercase(),
            role_definition.to_ascii_lowercase(),
            mark.address
        );
        let name = uuid::Uuid::new_v5(&NAMESPACE, seed.as_bytes()).to_string();
        Self { scope, role_definition: role_definition.to_ascii_lowercase(), principal, name, mark, list_scope: None }
    }

    /// Returns the assignment, found by listing its principal's assignments at `scope` (a scope
    /// at or above its own) instead of at its own scope.
    ///
    /// ARM's list at a scope with `$filter=principalId eq '{id}'` answers the principal's
    /// assignments "at, above or below the scope" (Role Assignments - List For Scope,
    /// api-version 2022-04-01), so a list at the resource group shows every assignment exai
    /// made for the principal in the group: the assignments of one principal listed at one
    /// scope share one read, and one that left the spec (the deployer's AcrPush once
    /// `deploy.registry` is removed) is in that answer, to be deleted
    /// ([`crate::Kind::owned_in`]), even when no other assignment of the principal lies at or
    /// above its scope.
    pub fn listed_at(mut self, scope: ResourceId) -> Self {
        self.list_scope = Some(scope);
        self
    }

    /// Returns the assignment's id.
    pub fn id(&self) -> ResourceId {
        self.scope.child("Microsoft.Authorization/roleAssignments", &self.name)
    }
}

/// The api-version of role assignments (latest stable, docs/azure-facts.md §4).
const API_VERSION: &str = "2022-04-01";

impl RoleAssignment {
    fn principal_id(&self, known: Known<'_>) -> Option<String> {
        known.get(&self.principal.from, &self.principal.pointer()).and_then(|v| v.as_str().map(str::to_ascii_lowercase))
    }

    fn role_definition_id(&self) -> String {
        // The subscription form `az role assignment create` sends; Azure answers the tenant form
        // `/providers/Microsoft.Authorization/roleDefinitions/{guid}` (docs/azure-facts.md §4), so only the
        // trailing GUID is ever compared.
        match self.scope.segment_after("subscriptions") {
            Some(sub) => format!(
                "/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{}",
                self.role_definition
            ),
            None => format!("/providers/Microsoft.Authorization/roleDefinitions/{}", self.role_definition),
        }
    }
}

/// Returns the last segment of a role definition id, lower-cased: the GUID, whatever the form.
fn role_guid(role_definition_id: &str) -> String {
    role_definition_id.rsplit('/').next().unwrap_or(role_definition_id).to_ascii_lowercase()
}

impl RoleAssignment {
    /// The kind's row in the table of kinds ([`crate::KindName::info`]).
    pub const INFO: crate::KindInfo = crate::KindInfo {
        azure_type: Self::AZURE_TYPE,
        destroy_warning: None,
        orphans: crate::Orphans::OwnedIn,
        deletion: crate::Deletion::Arm(API_VERSION),
        mark_place: crate::MarkPlace::RoleAssignmentDescription,
    };
}

impl crate::Kind for RoleAssignment {
    fn name(&self) -> crate::KindName {
        crate::KindName::RoleAssignment
    }

    fn id(&self) -> Option<ResourceId> {
        Some(RoleAssignment::id(self))
    }

    fn unknown_values(&self, known: Known<'_>) -> Vec<(String, String)> {
        if self.principal_id(known).is_some() {
            return Vec::new();
        }
        vec![(
            "principalId".to_owned(),
            format!("known after apply: {} → {}", self.principal.from, self.principal.field),
        )]
    }

    fn read_request(&self) -> Option<ApiRequest> {
        Some(ApiRequest::arm(Method::Get, RoleAssignment::id(self).as_str(), API_VERSION, None))
    }

    /// Reads the principal's assignments at the scope (or at its list scope,
    /// [`RoleAssignment::listed_at`]) rather than the assignment by name: the
    /// same principal, role and scope may already be assigned under another name (by `az aks
    /// create --attach-acr`, or by hand), and Azure refuses a second one (409
    /// `RoleAssignmentExists`). Found that way, an existing assignment is a no-op, not a fight.
    fn read_request_with(&self, known: Known<'_>) -> Option<ApiRequest> {
        let principal = self.principal_id(known)?;
        let list_scope = self.list_scope.as_ref().unwrap_or(&self.scope);
        let list = format!("{list_scope}/providers/Microsoft.Authorization/roleAssignments");
        Some(
            ApiRequest::arm(Method::Get, list, API_VERSION, None)
                .with_query("$filter", &format!("principalId eq '{principal}'")),
        )
    }

    fn known_absent(&self, known: Known<'_>) -> bool {
        self.principal_id(known).is_none()
    }

    fn select_live(&self, answer: Value) -> Result<Option<Value>, String> {
        let scope = self.scope.as_str().to_ascii_lowercase();
        let items = answer.get("value").and_then(Value::as_array).ok_or("the answer has no `value` list")?;
        Ok(items.iter().find_map(|item| {
            let properties = item.get("properties")?;
            let same_role = role_guid(properties.get("roleDefinitionId")?.as_str()?) == self.role_definition;
            let same_scope = properties.get("scope")?.as_str()?.to_ascii_lowercase() == scope;
            (same_role && same_scope).then(|| item.clone())
        }))
    }

    /// The assignments exai made for this principal that are not this one: the deployer's
    /// previous role or scope, left behind when the spec changed.
    fn owned_in(&self, answer: &Value, _known: Known<'_>) -> Vec<crate::OwnedObject> {
        let items = answer.get("value").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        items
            .iter()
            .filter_map(|item| {
                let mark = item.pointer("/properties/description").and_then(Value::as_str).and_then(Mark::from_text)?;
                let id = ResourceId::parse(item.get("id")?.as_str()?).ok()?;
                let live = LiveResource { id, document: item.clone() };
                let role = item.pointer("/properties/roleDefinitionId").and_then(Value::as_str).map(role_guid)?;
                let role = built_in_role_name(&role).map_or(role.clone(), str::to_owned);
                let warning = format!("the principal loses the role `{role}` at this scope");
                let fields = self.live_fields(&live);
                Some(crate::OwnedObject::found(crate::KindName::RoleAssignment, mark, live, fields, Some(warning)))
            })
            .collect()
    }

    fn create_requests(&self, known: Known<'_>) -> Vec<ApiRequest> {
        let body = json!({ "properties": {
            "roleDefinitionId": self.role_definition_id(),
            "principalId": known.value(&self.principal.from, &self.principal.pointer()),
            // Without it, Entra's replication delay makes new principals fail intermittently
            // (docs/azure-facts.md §4, "Always send principalType").
            "principalType": "ServicePrincipal",
            // Role assignments have no tags: the ownership mark goes in the description.
            "description": self.mark.text(),
        }});
        // The same principal, role and scope assigned under another name since the plan (a
        // concurrent run, `az`): Azure refuses a second (409 `RoleAssignmentExists`); that one
        // is read from the principal's assignments at the scope and adopted.
        let principal = known.path_value(&self.principal.from, &self.principal.pointer());
        let list = format!("{}/providers/Microsoft.Authorization/roleAssignments", self.scope);
        let read = ApiRequest::arm(Method::Get, list, API_VERSION, None)
            .with_query("$filter", &format!("principalId eq '{principal}'"));
        let adoption = crate::Adoption {
            codes: vec!["RoleAssignmentExists".to_owned()],
            read: Box::new(read),
            select: vec![("/properties/scope".to_owned(), Value::from(self.scope.as_str()))],
            select_ending: vec![("/properties/roleDefinitionId".to_owned(), format!("/{}", self.role_definition))],
            verify: vec![("/properties/principalId".to_owned(), Value::from(principal))],
        };
        vec![
            ApiRequest::arm(Method::Put, RoleAssignment::id(self).as_str(), API_VERSION, Some(body))
                .with_adoption(adoption),
        ]
    }

    /// Only the mark can differ in place (role, scope and principal force a replacement): the
    /// assignment is PUT again under its own name, as Azure holds it, with the new description
    /// (`az role assignment update` does the same; Azure refuses a change of anything else,
    /// `RoleAssignmentUpdateNotPermitted`).
    fn update_requests(&self, live: &LiveResource, _known: Known<'_>) -> Vec<ApiRequest> {
        let properties = live.document.get("properties");
        let keep = |name: &str| properties.and_then(|p| p.get(name)).cloned().unwrap_or(Value::Null);
        let body = json!({ "properties": {
            "roleDefinitionId": keep("roleDefinitionId"),
            "principalId": keep("principalId"),
            "principalType": properties
                .and_then(|p| p.get("principalType"))
                .cloned()
                .unwrap_or_else(|| Value::from("ServicePrincipal")),
            "description": self.mark.text(),
        }});
        vec![ApiRequest::arm(Method::Put, live.id.as_str(), API_VERSION, Some(body))]
    }

    fn desired_fields(&self, known: Known<'_>) -> OwnedFields {
        let mut fields = OwnedFields::new();
        fields.insert("roleDefinition".into(), Value::from(self.role_definition.clone()));
        fields.insert("scope".into(), Value::from(self.scope.as_str().to_ascii_lowercase()));
        if let Some(principal) = self.principal_id(known) {
            fields.insert("principalId".into(), Value::from(principal));
        }
        fields.insert(Mark::field(), Value::from(self.mark.tag_value()));
        fields
    }

    fn live_fields(&self, live: &LiveResource) -> OwnedFields {
        let properties = live.document.get("properties");
        let text =
            |name: &str| properties.and_then(|p| p.get(name)).and_then(Value::as_str).map(str::to_ascii_lowercase);
        let mut fields = OwnedFields::new();
        if let Some(role) = text("roleDefinitionId") {
            fields.insert("roleDefinition".into(), Value::from(role_guid(&role)));
        }
        if let Some(scope) = text("scope") {
            fields.insert("scope".into(), Value::from(scope));
        }
        if let Some(principal) = text("principalId") {
            fields.insert("principalId".into(), Value::from(principal));
        }
        let description = properties.and_then(|p| p.get("description")).and_then(Value::as_str);
        if let Some(mark) = description.and_then(Mark::from_text) {
            fields.insert(Mark::field(), Value::from(mark.tag_value()));
        }
        fields
    }

    fn replace_reason(&self, path: &str) -> Option<&'static str> {
        matches!(path, "roleDefinition" | "scope" | "principalId")
            .then_some("a role assignment's role, scope and principal cannot change; it is deleted and created again")
    }
}

impl PrincipalRef {
    /// Returns the JSON pointer of the principal's object id in the source's document.
    pub fn pointer(&self) -> String {
        format!("/{}", self.field.replace('.', "/"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_deterministic_and_depend_on_scope_role_and_address() {
        let scope = ResourceId::parse("/subscriptions/s").unwrap();
        let p = PrincipalRef { from: Address::new("perso", "deployer.sp"), field: "id".into() };
        let a = RoleAssignment::new(
            scope.clone(),
            "B24988AC-6180-42a0-ab88-20f7382dd24c",
            p.clone(),
            Mark::new("my-org/exai", &Address::new("perso", "deployer.role"), false),
        );
        let b = RoleAssignment::new(
            scope.clone(),
            "b24988ac-6180-42a0-ab88-20f7382dd24c",
            p.clone(),
            Mark::new("my-org/exai", &Address::new("perso", "deployer.role"), false),
        );
        let c = RoleAssignment::new(
            scope,
            "b24988ac-6180-42a0-ab88-20f7382dd24c",
            p,
            Mark::new("my-org/exai", &Address::new("prod", "deployer.role"), false),
        );
        assert_eq!(a.name, b.name);
        assert_ne!(a.name, c.name);
        assert!(a.id().as_str().starts_with("/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/"));
    }

    fn acr_pull() -> (RoleAssignment, crate::LiveState) {
        let scope = ResourceId::parse(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/acr",
        )
        .unwrap();
        let cluster = Address::new("perso", "cluster");
        let principal =
            PrincipalRef { from: cluster.clone(), field: "properties.identityProfile.kubeletidentity.objectId".into() };
        let assignment = RoleAssignment::new(
            scope,
            "7f951dda-4ed3-4680-a7ca-43fe172d538d",
            principal,
            Mark::new("my-org/exai", &Address::new("perso", "cluster.acr-pull"), false),
        );
        let mut live = crate::LiveState::new();
        let document =
            serde_json::json!({"properties": {"identityProfile": {"kubeletidentity": {"objectId": "AAAA-kubelet"}}}});
        live.insert(
            cluster,
            crate::Observation::Present(crate::LiveResource {
                id: ResourceId::parse(
                    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks",
                )
                .unwrap(),
                document,
            }),
        );
        (assignment, live)
    }

    #[test]
    fn an_assignment_is_found_by_principal_role_and_scope_under_any_name() {
        use crate::Kind;
        let (assignment, live) = acr_pull();
        let known = crate::Known::from(&live);
        let read = assignment.read_request_with(known).unwrap();
        assert_eq!(read.query, [("$filter".to_owned(), "principalId eq 'aaaa-kubelet'".to_owned())]);
        assert!(!assignment.known_absent(known));
        let answer = serde_json::json!({"value": [
            // Same principal, another role: not ours.
            {"id": "x1", "properties": {"roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c", "scope": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/acr", "principalId": "aaaa-kubelet"}},
            // Our role, inherited from the subscription: not at our scope.
            {"id": "x2", "properties": {"roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d", "scope": "/subscriptions/s", "principalId": "aaaa-kubelet"}},
            // Made by `az aks create --attach-acr` under a random name, casing of its own: ours.
            {"id": "x3", "properties": {"roleDefinitionId": "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/7F951DDA-4ED3-4680-A7CA-43FE172D538D", "scope": "/subscriptions/S/resourcegroups/RG/providers/Microsoft.ContainerRegistry/registries/ACR", "principalId": "AAAA-KUBELET"}}
        ]});
        let found = assignment.select_live(answer).unwrap().unwrap();
        assert_eq!(found["id"], "x3");
        let live_resource =
            crate::LiveResource { id: ResourceId::parse("/subscriptions/s/x3").unwrap(), document: found };
        let mut desired = assignment.desired_fields(known);
        assert_eq!(desired.remove(&Mark::field()), Some(Value::from("my-org/exai:perso.cluster.acr-pull")));
        assert_eq!(assignment.live_fields(&live_resource), desired, "no noise from ids' casing or role id forms");
        // Adopting it writes the mark, under its own name, keeping what Azure holds.
        let update = assignment.update_requests(&live_resource, known);
        assert_eq!(update[0].method, Method::Put);
        assert_eq!(update[0].path, "/subscriptions/s/x3");
        let properties = &update[0].body.as_ref().unwrap()["properties"];
        assert_eq!(properties["principalId"], "AAAA-KUBELET");
        assert_eq!(properties["description"], "exai-owner:my-org/exai:perso.cluster.acr-pull");
    }

    #[test]
    fn without_the_cluster_the_assignment_is_absent_and_its_principal_known_after_apply() {
        use crate::Kind;
        let (assignment, _) = acr_pull();
        let nothing = crate::Known::nothing();
        assert!(assignment.known_absent(nothing));
        let create = assignment.create_requests(nothing);
        let principal = &create[0].body.as_ref().unwrap()["properties"]["principalId"];
        assert_eq!(
            crate::as_placeholder(principal),
            Some(("perso.cluster".to_owned(), "/properties/identityProfile/kubeletidentity/objectId".to_owned()))
        );
        assert_eq!(create[0].body.as_ref().unwrap()["properties"]["principalType"], "ServicePrincipal");
        assert_eq!(assignment.unknown_values(nothing).len(), 1);
    }

    /// An assignment listed at a wider scope reads its principal's assignments there, and still
    /// picks only the one of its own role at its own scope; the create is unchanged.
    #[test]
    fn an_assignment_listed_at_the_group_is_read_there_and_picked_by_its_own_scope() {
        use crate::Kind;
        let (assignment, live) = acr_pull();
        let group = ResourceId::parse("/subscriptions/s/resourceGroups/rg").unwrap();
        let listed = assignment.clone().listed_at(group);
        let known = crate::Known::from(&live);
        let read = listed.read_request_with(known).unwrap();
        assert_eq!(read.path, "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments");
        assert_eq!(read.query, [("$filter".to_owned(), "principalId eq 'aaaa-kubelet'".to_owned())]);
        assert_eq!(listed.name, assignment.name, "the name does not depend on where it is listed");
        let answer = serde_json::json!({"value": [
            // The same role for the principal on another object of the group: not this one.
            {"id": "x1", "properties": {"roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d", "scope": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/other", "principalId": "aaaa-kubelet"}},
            {"id": "x2", "properties": {"roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d", "scope": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/acr", "principalId": "aaaa-kubelet"}}
        ]});
        assert_eq!(listed.select_live(answer).unwrap().unwrap()["id"], "x2");
        assert_eq!(listed.create_requests(known), assignment.create_requests(known));
    }

    #[test]
    fn built_in_roles_are_found_by_name_in_any_case_and_by_guid() {
        assert_eq!(built_in_role("contributor"), Some(("Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c")));
        assert_eq!(built_in_role_name("7F951DDA-4ED3-4680-A7CA-43FE172D538D"), Some("AcrPull"));
        for pair in BUILT_IN_ROLES.windows(2) {
            assert!(pair[0].0 < pair[1].0);
        }
    }
}
