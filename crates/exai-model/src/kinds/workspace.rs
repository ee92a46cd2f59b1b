//! `Microsoft.OperationalInsights/workspaces`, api-version 2026-03-01.
//!
//! Source: azure-rest-api-specs `Microsoft.OperationalInsights/OperationalInsights/stable/
//! 2026-03-01/openapi.json` and its example `WorkspacesCreate.json`.

use crate::{Location, ResourceId, Tags};
use serde::{Deserialize, Serialize};

/// A Log Analytics pricing tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WorkspaceSku {
    /// Pay-as-you-go per GB.
    PerGB2018,
    /// A commitment tier.
    CapacityReservation,
}

/// A Log Analytics workspace as the spec declares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workspace {
    /// The subscription.
    pub subscription: String,
    /// The resource group.
    pub resource_group: String,
    /// The name.
    pub name: String,
    /// The region.
    pub location: Location,
    /// Days of retention.
    pub retention_days: u32,
    /// The pricing tier.
    pub sku: WorkspaceSku,
    /// The managed tags.
    pub tags: Tags,
}

impl Workspace {
    /// The Azure resource type.
    pub const AZURE_TYPE: &'static str = "Microsoft.OperationalInsights/workspaces";

    /// Returns the workspace's id.
    pub fn id(&self) -> ResourceId {
        ResourceId::in_group(&self.subscription, &self.resource_group, Self::AZURE_TYPE, &self.name)
    }
}

impl crate::Kind for Workspace {
    fn azure_type(&self) -> &'static str {
        Self::AZURE_TYPE
    }
    fn id(&self) -> Option<ResourceId> {
        Some(Workspace::id(self))
    }
    fn destroy_warning(&self) -> Option<&'static str> {
        Some("deleting a workspace deletes the logs it holds")
    }
}
