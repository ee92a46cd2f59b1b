//! `Microsoft.ContainerRegistry/registries`, api-version 2025-11-01.
//!
//! Source: azure-rest-api-specs `Microsoft.ContainerRegistry/Registry/stable/2025-11-01/
//! containerregistry.json` (see shared/reference/azure-rest-facts.md §2).

use crate::{Location, ResourceId, Tags};
use serde::{Deserialize, Serialize};

/// A registry SKU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegistrySku {
    /// Basic.
    Basic,
    /// Standard.
    Standard,
    /// Premium.
    Premium,
}

/// A container registry as the spec declares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registry {
    /// The subscription.
    pub subscription: String,
    /// The resource group.
    pub resource_group: String,
    /// The name (globally unique; `<name>.azurecr.io`).
    pub name: String,
    /// The region.
    pub location: Location,
    /// The SKU.
    pub sku: RegistrySku,
    /// Whether the admin user is enabled.
    pub admin_user_enabled: bool,
    /// The managed tags (spec tags plus the ownership tag).
    pub tags: Tags,
}

impl Registry {
    /// The Azure resource type.
    pub const AZURE_TYPE: &'static str = "Microsoft.ContainerRegistry/registries";

    /// Returns the registry's id.
    pub fn id(&self) -> ResourceId {
        ResourceId::in_group(&self.subscription, &self.resource_group, Self::AZURE_TYPE, &self.name)
    }
}

impl crate::Kind for Registry {
    fn azure_type(&self) -> &'static str {
        Self::AZURE_TYPE
    }
    fn id(&self) -> Option<ResourceId> {
        Some(Registry::id(self))
    }
    fn destroy_warning(&self) -> Option<&'static str> {
        Some("deleting a registry deletes every image in it")
    }
}
