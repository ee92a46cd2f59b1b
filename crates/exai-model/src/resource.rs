use crate::kinds::{
    Application, ClientSecret, Cluster, DataCollectionRule, DataCollectionRuleAssociation, FederatedCredential,
    GraphPermission, Reference, Registry, ResourceGroup, RoleAssignment, ServicePrincipal, Workspace,
};
use crate::permissions::{PermissionSet, ScopePermissions};
use crate::{Address, Kind, OwnedObject, ResourceId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// What one declared resource should be, per kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum DesiredSpec {
    /// A resource group.
    ResourceGroup(ResourceGroup),
    /// A container registry.
    Registry(Registry),
    /// A Log Analytics workspace.
    Workspace(Workspace),
    /// A data collection rule.
    DataCollectionRule(DataCollectionRule),
    /// A data collection rule association.
    DataCollectionRuleAssociation(DataCollectionRuleAssociation),
    /// An AKS cluster.
    Cluster(Box<Cluster>),
    /// A role assignment.
    RoleAssignment(RoleAssignment),
    /// An Entra application.
    Application(Application),
    /// A service principal.
    ServicePrincipal(ServicePrincipal),
    /// A federated identity credential.
    FederatedCredential(FederatedCredential),
    /// A client secret.
    ClientSecret(ClientSecret),
    /// A Microsoft Graph application permission.
    GraphPermission(GraphPermission),
    /// An object the spec uses by its id and does not own (a shared registry, the workspace
    /// `az aks create` made): read, never written.
    Reference(Reference),
}

impl DesiredSpec {
    /// Returns what this kind knows how to do: every other question goes through it.
    pub fn as_kind(&self) -> &dyn Kind {
        match self {
            Self::ResourceGroup(r) => r,
            Self::Registry(r) => r,
            Self::Workspace(r) => r,
            Self::DataCollectionRule(r) => r,
            Self::DataCollectionRuleAssociation(r) => r,
            Self::Cluster(r) => r.as_ref(),
            Self::RoleAssignment(r) => r,
            Self::Application(r) => r,
            Self::ServicePrincipal(r) => r,
            Self::FederatedCredential(r) => r,
            Self::ClientSecret(r) => r,
            Self::GraphPermission(r) => r,
            Self::Reference(r) => r,
        }
    }

    /// Returns the object this resource only references, when it is one: the planner reads it
    /// and never plans a write or a delete of it.
    pub fn as_reference(&self) -> Option<&Reference> {
        match self {
            Self::Reference(r) => Some(r),
            _ => None,
        }
    }

    /// Returns the Azure id the resource has (or will have once created), when it can be known
    /// before apply; see [`DesiredSpec::id_note`] otherwise.
    pub fn id(&self) -> Option<ResourceId> {
        self.as_kind().id()
    }

    /// Returns how the id becomes known, for resources whose id is assigned by Azure.
    pub fn id_note(&self) -> Option<String> {
        self.as_kind().id_note()
    }
}

/// One declared resource: where it lives in the spec, what it is, what it needs first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesiredResource {
    /// The stable address, e.g. `perso.resourceGroup`.
    pub address: Address,
    /// The addresses that must exist before this one.
    pub depends_on: Vec<Address>,
    /// Never delete or replace this resource.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub protect: bool,
    /// The resource itself.
    pub spec: DesiredSpec,
}

/// Every resource a spec declares, across the environments selected.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DesiredState {
    /// The Entra tenant everything lives in.
    pub tenant: String,
    /// The resources, in declaration order.
    pub resources: Vec<DesiredResource>,
}

/// A live Azure object as last read: its id and the document Azure returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveResource {
    /// The id, as Azure spelled it.
    pub id: ResourceId,
    /// The JSON document Azure returned, untouched.
    pub document: Value,
}

/// What reading one declared resource found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum Observation {
    /// Azure answered that the object does not exist.
    Absent,
    /// Azure returned the object.
    Present(LiveResource),
}

/// What reading the desired resources found, by address.
///
/// A declared resource with no observation is an error in the planner, never a silent no-op:
/// "could not read" and "does not exist" are different answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveState {
    observations: BTreeMap<Address, Observation>,
    /// Objects exai owns found along the way, each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    owned: Vec<OwnedObject>,
    /// The caller's effective permissions, by scope (its id, lower-cased), as read while
    /// observing; empty when they were not read.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    permissions: BTreeMap<String, ScopePermissions>,
    /// The resources found absent whose preflight check ([`crate::Kind::preflight_request`])
    /// Azure refused to answer the caller, with why: whether they can be created is known only
    /// when apply creates them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    unchecked: BTreeMap<Address, String>,
}

/// What decides whether the caller may act on one target: the permissions at the nearest
/// scope that exists, or why they are not known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EffectivePermissions<'a> {
    /// The permissions read at `scope`.
    Read {
        /// The scope they were read at.
        scope: ResourceId,
        /// One set per role assignment that applies there.
        sets: &'a [PermissionSet],
    },
    /// The read at `scope` failed, or answered that every scope up to it does not exist.
    Unknown {
        /// The scope.
        scope: ResourceId,
        /// Why.
        reason: String,
    },
    /// No scope above the target was read (Microsoft Graph, or a plan made without reading
    /// permissions): nothing is checked.
    NotRead,
}

impl LiveState {
    /// Returns an empty live state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records what reading `address` found.
    pub fn insert(&mut self, address: Address, observation: Observation) {
        self.observations.insert(address, observation);
    }

    /// Records an object exai owns (once, whatever the number of reads that showed it).
    pub fn insert_owned(&mut self, object: OwnedObject) {
        if !self.owned.iter().any(|o| o.live.id == object.live.id) {
            self.owned.push(object);
        }
    }

    /// Returns the objects exai owns found while reading, in the order they were found.
    pub fn owned(&self) -> &[OwnedObject] {
        &self.owned
    }

    /// Records that the preflight check of `address` could not be made, and `why`.
    pub fn insert_unchecked(&mut self, address: Address, why: String) {
        self.unchecked.insert(address, why);
    }

    /// Returns why the preflight check of `address` could not be made, if it could not.
    pub fn unchecked(&self, address: &Address) -> Option<&str> {
        self.unchecked.get(address).map(String::as_str)
    }

    /// Records the caller's effective permissions at `scope`.
    pub fn insert_permissions(&mut self, scope: &ResourceId, permissions: ScopePermissions) {
        self.permissions.insert(scope.as_str().to_ascii_lowercase(), permissions);
    }

    /// Returns true when the caller's effective permissions were read at some scope.
    pub fn has_permissions(&self) -> bool {
        !self.permissions.is_empty()
    }

    /// Returns the caller's effective permissions as read at `scope`, if they were read there.
    pub fn permissions_at(&self, scope: &ResourceId) -> Option<&ScopePermissions> {
        self.permissions.get(&scope.as_str().to_ascii_lowercase())
    }

    /// Returns what decides whether the caller may act on `target`: the permissions read at the
    /// nearest scope above it that exists ([`crate::permissions::permission_scopes`]); a scope
    /// Azure says does not exist yet (a group the plan creates) passes to the next one up.
    pub fn effective_permissions(&self, target: &ResourceId) -> EffectivePermissions<'_> {
        let mut absent = None;
        for scope in crate::permissions::permission_scopes(target) {
            match self.permissions_at(&scope) {
                Some(ScopePermissions::Read { sets }) => return EffectivePermissions::Read { scope, sets },
                Some(ScopePermissions::Unknown { reason }) => {
                    return EffectivePermissions::Unknown { scope, reason: reason.clone() };
                }
                Some(ScopePermissions::Absent) => absent = Some(scope),
                None => {}
            }
        }
        // Not even the subscription exists, as far as its read says: nothing decides.
        match absent {
            Some(scope) => {
                EffectivePermissions::Unknown { reason: format!("Azure answered that `{scope}` does not exist"), scope }
            }
            None => EffectivePermissions::NotRead,
        }
    }

    /// Returns what reading `address` found, if it was read.
    pub fn get(&self, address: &Address) -> Option<&Observation> {
        self.observations.get(address)
    }
}
