use crate::kinds::{
    Application, ClientSecret, Cluster, DataCollectionRule, DataCollectionRuleAssociation, FederatedCredential,
    Registry, ResourceGroup, RoleAssignment, ServicePrincipal, Workspace,
};
use crate::{Address, ApiRequest, OwnedFields, ResourceId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The kinds of Azure object exai manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ResourceKind {
    /// `Microsoft.Resources/resourceGroups`.
    ResourceGroup,
    /// `Microsoft.ContainerRegistry/registries`.
    Registry,
    /// `Microsoft.OperationalInsights/workspaces`.
    Workspace,
    /// `Microsoft.Insights/dataCollectionRules`.
    DataCollectionRule,
    /// `Microsoft.Insights/dataCollectionRuleAssociations`.
    DataCollectionRuleAssociation,
    /// `Microsoft.ContainerService/managedClusters`.
    Cluster,
    /// `Microsoft.Authorization/roleAssignments`.
    RoleAssignment,
    /// A Microsoft Graph application.
    Application,
    /// A Microsoft Graph service principal.
    ServicePrincipal,
    /// A Microsoft Graph federated identity credential.
    FederatedCredential,
    /// A Microsoft Graph application password.
    ClientSecret,
}

impl ResourceKind {
    /// Returns the Azure resource type, e.g. `Microsoft.Resources/resourceGroups`.
    pub fn azure_type(self) -> &'static str {
        match self {
            Self::ResourceGroup => ResourceGroup::AZURE_TYPE,
            Self::Registry => Registry::AZURE_TYPE,
            Self::Workspace => Workspace::AZURE_TYPE,
            Self::DataCollectionRule => DataCollectionRule::AZURE_TYPE,
            Self::DataCollectionRuleAssociation => DataCollectionRuleAssociation::AZURE_TYPE,
            Self::Cluster => Cluster::AZURE_TYPE,
            Self::RoleAssignment => RoleAssignment::AZURE_TYPE,
            Self::Application => "microsoft.graph.application",
            Self::ServicePrincipal => "microsoft.graph.servicePrincipal",
            Self::FederatedCredential => "microsoft.graph.federatedIdentityCredential",
            Self::ClientSecret => "microsoft.graph.passwordCredential",
        }
    }

    /// Returns true when this version of exai reads, plans and applies this kind. Other kinds
    /// are declared, validated and listed in plans as not managed yet — never silently dropped.
    pub fn is_managed(self) -> bool {
        matches!(self, Self::ResourceGroup)
    }
}

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
}

/// Not every operation applies to every kind; these are the no-ops for kinds not yet managed.
const NOTHING: Vec<ApiRequest> = Vec::new();

impl DesiredSpec {
    /// Returns the kind of resource.
    pub fn kind(&self) -> ResourceKind {
        match self {
            Self::ResourceGroup(_) => ResourceKind::ResourceGroup,
            Self::Registry(_) => ResourceKind::Registry,
            Self::Workspace(_) => ResourceKind::Workspace,
            Self::DataCollectionRule(_) => ResourceKind::DataCollectionRule,
            Self::DataCollectionRuleAssociation(_) => ResourceKind::DataCollectionRuleAssociation,
            Self::Cluster(_) => ResourceKind::Cluster,
            Self::RoleAssignment(_) => ResourceKind::RoleAssignment,
            Self::Application(_) => ResourceKind::Application,
            Self::ServicePrincipal(_) => ResourceKind::ServicePrincipal,
            Self::FederatedCredential(_) => ResourceKind::FederatedCredential,
            Self::ClientSecret(_) => ResourceKind::ClientSecret,
        }
    }

    /// Returns the Azure id the resource has (or will have once created), when it can be known
    /// before apply; see [`DesiredSpec::id_note`] otherwise.
    pub fn id(&self) -> Option<ResourceId> {
        match self {
            Self::ResourceGroup(r) => Some(r.id()),
            Self::Registry(r) => Some(r.id()),
            Self::Workspace(r) => Some(r.id()),
            Self::DataCollectionRule(r) => Some(r.id()),
            Self::DataCollectionRuleAssociation(r) => Some(r.id()),
            Self::Cluster(r) => Some(r.id()),
            Self::RoleAssignment(r) => Some(r.id()),
            Self::Application(_) | Self::ServicePrincipal(_) | Self::FederatedCredential(_) | Self::ClientSecret(_) => {
                None
            }
        }
    }

    /// Returns how the id becomes known, for resources whose id is assigned by Azure.
    pub fn id_note(&self) -> Option<String> {
        match self {
            Self::Application(a) => {
                Some(format!("known after apply: Graph assigns the object id of application `{}`", a.display_name))
            }
            Self::ServicePrincipal(sp) => {
                Some(format!("known after apply: Graph assigns it when `{}` exists", sp.application))
            }
            Self::FederatedCredential(f) => {
                Some(format!("known after apply: `{}`'s federatedIdentityCredentials/{}", f.application, f.name))
            }
            Self::ClientSecret(s) => {
                Some(format!("known after apply: the keyId `{}`'s addPassword returns", s.application))
            }
            _ => None,
        }
    }

    /// Returns a note on values only known after apply (e.g. a role assignment's principal).
    pub fn unknown_values(&self) -> Vec<(String, String)> {
        match self {
            Self::RoleAssignment(r) => {
                vec![(
                    "principalId".to_owned(),
                    format!("known after apply: {} → {}", r.principal.from, r.principal.field),
                )]
            }
            _ => Vec::new(),
        }
    }

    /// Returns the request that reads the live object, for managed kinds.
    pub fn read_request(&self) -> Option<ApiRequest> {
        match self {
            Self::ResourceGroup(rg) => Some(rg.read_request()),
            _ => None,
        }
    }

    /// Returns the requests that create the resource from nothing.
    pub fn create_requests(&self) -> Vec<ApiRequest> {
        match self {
            Self::ResourceGroup(rg) => vec![rg.create_request()],
            _ => NOTHING,
        }
    }

    /// Returns the requests that bring `live` to the desired owned fields in place.
    pub fn update_requests(&self, live: &LiveResource) -> Vec<ApiRequest> {
        match self {
            Self::ResourceGroup(rg) => vec![rg.update_request(live)],
            _ => NOTHING,
        }
    }

    /// Returns the requests that delete `live`.
    pub fn delete_requests(&self, live: &LiveResource) -> Vec<ApiRequest> {
        match self {
            Self::ResourceGroup(_) => vec![ResourceGroup::delete_request(&live.id)],
            _ => NOTHING,
        }
    }

    /// Returns the owned fields as declared.
    pub fn desired_fields(&self) -> OwnedFields {
        match self {
            Self::ResourceGroup(rg) => rg.desired_fields(),
            _ => OwnedFields::new(),
        }
    }

    /// Returns the same owned fields as Azure holds them in `live`, normalized.
    pub fn live_fields(&self, live: &LiveResource) -> OwnedFields {
        match self {
            Self::ResourceGroup(rg) => rg.live_fields(&live.document),
            _ => OwnedFields::new(),
        }
    }

    /// Returns why a change of `path` cannot be made in place, if it cannot.
    pub fn replace_reason(&self, path: &str) -> Option<&'static str> {
        match self {
            Self::ResourceGroup(_) => ResourceGroup::replace_reason(path),
            _ => None,
        }
    }

    /// Returns what `live` holds that exai does not manage and a reviewer may want to know
    /// about, as `path → value`.
    pub fn observed(&self, live: &LiveResource) -> OwnedFields {
        match self {
            Self::ResourceGroup(rg) => rg.observed(&live.document),
            _ => OwnedFields::new(),
        }
    }

    /// Returns a warning to show whenever this resource is deleted or replaced.
    pub fn destroy_warning(&self) -> Option<&'static str> {
        match self {
            Self::ResourceGroup(_) => Some("deleting a resource group deletes every resource in it"),
            Self::Registry(_) => Some("deleting a registry deletes every image in it"),
            Self::Workspace(_) => Some("deleting a workspace deletes the logs it holds"),
            Self::Cluster(_) => Some("deleting a cluster deletes every workload running on it"),
            _ => None,
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
