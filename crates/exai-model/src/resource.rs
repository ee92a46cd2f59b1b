use crate::kinds::ResourceGroup;
use crate::{Address, ApiRequest, OwnedFields, ResourceId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The kinds of Azure object exai manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ResourceKind {
    /// `Microsoft.Resources/resourceGroups`.
    ResourceGroup,
}

impl ResourceKind {
    /// Returns the Azure resource type, e.g. `Microsoft.Resources/resourceGroups`.
    pub fn azure_type(self) -> &'static str {
        match self {
            Self::ResourceGroup => ResourceGroup::AZURE_TYPE,
        }
    }
}

/// What one declared resource should be, per kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum DesiredSpec {
    /// A resource group.
    ResourceGroup(ResourceGroup),
}

impl DesiredSpec {
    /// Returns the kind of resource.
    pub fn kind(&self) -> ResourceKind {
        match self {
            Self::ResourceGroup(_) => ResourceKind::ResourceGroup,
        }
    }

    /// Returns the Azure id the resource has (or will have once created).
    pub fn id(&self) -> ResourceId {
        match self {
            Self::ResourceGroup(rg) => rg.id(),
        }
    }

    /// Returns the request that reads the live object.
    pub fn read_request(&self) -> ApiRequest {
        match self {
            Self::ResourceGroup(rg) => rg.read_request(),
        }
    }

    /// Returns the requests that create the resource from nothing.
    pub fn create_requests(&self) -> Vec<ApiRequest> {
        match self {
            Self::ResourceGroup(rg) => vec![rg.create_request()],
        }
    }

    /// Returns the requests that bring `live` to the desired owned fields in place.
    pub fn update_requests(&self, live: &LiveResource) -> Vec<ApiRequest> {
        match self {
            Self::ResourceGroup(rg) => vec![rg.update_request(live)],
        }
    }

    /// Returns the request that deletes `live`.
    pub fn delete_request(&self, live: &LiveResource) -> ApiRequest {
        match self {
            Self::ResourceGroup(_) => ResourceGroup::delete_request(&live.id),
        }
    }

    /// Returns the owned fields as declared.
    pub fn desired_fields(&self) -> OwnedFields {
        match self {
            Self::ResourceGroup(rg) => rg.desired_fields(),
        }
    }

    /// Returns the same owned fields as Azure holds them in `live`, normalized.
    pub fn live_fields(&self, live: &LiveResource) -> OwnedFields {
        match self {
            Self::ResourceGroup(rg) => rg.live_fields(&live.document),
        }
    }

    /// Returns why a change of `path` cannot be made in place, if it cannot.
    pub fn replace_reason(&self, path: &str) -> Option<&'static str> {
        match self {
            Self::ResourceGroup(_) => ResourceGroup::replace_reason(path),
        }
    }

    /// Returns what `live` holds that exai does not manage and a reviewer may want to know
    /// about, as `path → value`.
    pub fn observed(&self, live: &LiveResource) -> OwnedFields {
        match self {
            Self::ResourceGroup(rg) => rg.observed(&live.document),
        }
    }

    /// Returns a warning to show whenever this resource is deleted or replaced.
    pub fn destroy_warning(&self) -> Option<&'static str> {
        match self {
            Self::ResourceGroup(_) => Some("deleting a resource group deletes every resource in it"),
        }
    }
}

/// One declared resource: where it lives in the spec, what it is, what it needs first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesiredResource {
    /// The stable address, e.g. `perso.resourceGroup`.
    pub address: Address,
    /// The addresses that must exist before this one.
    pub depends_on: Vec<Address>,
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

    /// Returns what reading `address` found, if it was read.
    pub fn get(&self, address: &Address) -> Option<&Observation> {
        self.observations.get(address)
    }
}
