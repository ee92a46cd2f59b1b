//! `Microsoft.ContainerService/managedClusters`, api-version 2026-08-01.
//!
//! Source: azure-rest-api-specs `Microsoft.ContainerService/aks/stable/2026-08-01/
//! managedClusters.json`, and what `az aks create` sends (shared/reference/azure-rest-facts.md §3).

use crate::{Location, ResourceId, Tags};
use serde::{Deserialize, Serialize};

/// A node pool's mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PoolMode {
    /// System pods.
    System,
    /// Workloads only.
    User,
}

/// How many nodes a pool has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum PoolSize {
    /// A fixed count, owned by the spec.
    Fixed {
        /// The node count.
        count: u32,
    },
    /// Sized by the cluster autoscaler: only the bounds are owned; the count is the
    /// autoscaler's (`initial` is used only when the pool is created).
    Autoscale {
        /// The fewest nodes.
        min: u32,
        /// The most nodes.
        max: u32,
        /// The size at creation.
        initial: u32,
    },
}

/// A node pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodePool {
    /// The name.
    pub name: String,
    /// The VM size.
    pub vm_size: String,
    /// The mode.
    pub mode: PoolMode,
    /// The size.
    pub size: PoolSize,
}

/// Where the nodes' SSH public key comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum SshKeySource {
    /// A public key file.
    File {
        /// The path, as written in the spec (`~` not yet expanded).
        path: String,
    },
    /// A key pair exai generates once and keeps.
    Generate,
}

/// An AKS cluster as the spec declares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cluster {
    /// The subscription.
    pub subscription: String,
    /// The resource group.
    pub resource_group: String,
    /// The name.
    pub name: String,
    /// The region.
    pub location: Location,
    /// The Kubernetes version, when the spec pins one.
    pub kubernetes_version: Option<String>,
    /// The API server's DNS prefix.
    pub dns_prefix: String,
    /// The node pools.
    pub node_pools: Vec<NodePool>,
    /// The SSH key.
    pub ssh: SshKeySource,
    /// The Log Analytics workspace of the monitoring add-on, when monitoring is on.
    pub monitoring_workspace: Option<ResourceId>,
    /// The managed tags.
    pub tags: Tags,
}

impl Cluster {
    /// The Azure resource type.
    pub const AZURE_TYPE: &'static str = "Microsoft.ContainerService/managedClusters";

    /// Returns the cluster's id.
    pub fn id(&self) -> ResourceId {
        ResourceId::in_group(&self.subscription, &self.resource_group, Self::AZURE_TYPE, &self.name)
    }

    /// Returns the DNS prefix `az aks create` derives when none is given:
    /// `{name[..10]}-{group[..16]}-{subscription[..6]}`, each part reduced to letters, digits and
    /// `-`, the name part prefixed with `a` unless it starts with a letter.
    ///
    /// Source: azure-cli `acs/custom.py` `_get_default_dns_prefix`.
    pub fn default_dns_prefix(name: &str, resource_group: &str, subscription: &str) -> String {
        let clean = |s: &str| s.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect::<String>();
        let mut name_part: String = clean(name).chars().take(10).collect();
        if !name_part.starts_with(|c: char| c.is_ascii_alphabetic()) {
            name_part = format!("a{}", name_part.chars().take(9).collect::<String>());
        }
        let group_part: String = clean(resource_group).chars().take(16).collect();
        let subscription_part: String = subscription.chars().take(6).collect();
        format!("{name_part}-{group_part}-{subscription_part}")
    }
}

impl crate::Kind for Cluster {
    fn azure_type(&self) -> &'static str {
        Self::AZURE_TYPE
    }
    fn id(&self) -> Option<ResourceId> {
        Some(Cluster::id(self))
    }
    fn destroy_warning(&self) -> Option<&'static str> {
        Some("deleting a cluster deletes every workload running on it")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_prefix_is_derived_like_the_azure_cli() {
        assert_eq!(
            Cluster::default_dns_prefix("exai-perso-aks", "exai-perso-rg", "ee000000-0000-4000-8000-000000000002"),
            "exai-perso-exai-perso-rg-ee0000"
        );
        assert_eq!(Cluster::default_dns_prefix("1cluster", "rg", "abcdef12"), "a1cluster-rg-abcdef");
    }
}
