//! Container insights plumbing: the data collection rule and its association with the cluster,
//! as `az aks create --enable-addons monitoring` creates them with managed-identity auth.
//!
//! Source: azure-cli `acs/addonconfiguration.py` (rule `MSCI-<workspace region>-<cluster>`,
//! truncated to 64 characters; association `ContainerInsightsExtension`), api-version 2022-06-01
//! (see shared/reference/azure-rest-facts.md §3d).

use crate::{Location, ResourceId, Tags};
use serde::{Deserialize, Serialize};

/// The data collection rule that routes container insights to the workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataCollectionRule {
    /// The subscription.
    pub subscription: String,
    /// The resource group (the cluster's).
    pub resource_group: String,
    /// The rule's name.
    pub name: String,
    /// The region (the workspace's).
    pub location: Location,
    /// The workspace the rule sends to.
    pub workspace_id: ResourceId,
    /// The managed tags.
    pub tags: Tags,
}

impl DataCollectionRule {
    /// The Azure resource type.
    pub const AZURE_TYPE: &'static str = "Microsoft.Insights/dataCollectionRules";

    /// Returns the rule's name for `cluster` with a workspace in `workspace_location`, as the
    /// Azure CLI names it.
    pub fn default_name(workspace_location: &Location, cluster: &str) -> String {
        format!("MSCI-{workspace_location}-{cluster}").chars().take(64).collect()
    }

    /// Returns the rule's id.
    pub fn id(&self) -> ResourceId {
        ResourceId::in_group(&self.subscription, &self.resource_group, Self::AZURE_TYPE, &self.name)
    }
}

/// The association of the rule with the cluster (an extension resource of the cluster).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataCollectionRuleAssociation {
    /// The cluster.
    pub cluster_id: ResourceId,
    /// The rule.
    pub rule_id: ResourceId,
}

impl DataCollectionRuleAssociation {
    /// The Azure resource type.
    pub const AZURE_TYPE: &'static str = "Microsoft.Insights/dataCollectionRuleAssociations";
    /// The association's name, as the Azure CLI writes it.
    pub const NAME: &'static str = "ContainerInsightsExtension";

    /// Returns the association's id.
    pub fn id(&self) -> ResourceId {
        self.cluster_id.child("Microsoft.Insights/dataCollectionRuleAssociations", Self::NAME)
    }
}

impl crate::Kind for DataCollectionRule {
    fn azure_type(&self) -> &'static str {
        Self::AZURE_TYPE
    }
    fn id(&self) -> Option<ResourceId> {
        Some(DataCollectionRule::id(self))
    }
}

impl crate::Kind for DataCollectionRuleAssociation {
    fn azure_type(&self) -> &'static str {
        Self::AZURE_TYPE
    }
    fn id(&self) -> Option<ResourceId> {
        Some(DataCollectionRuleAssociation::id(self))
    }
}
