//! An object exai uses but does not own: a workspace or a registry the spec names by its id
//! (`monitoring: { workspace: { id } }`, `registry: { id }`).
//!
//! A reference is read, never written: it has no owned fields, no mark, no create, update or
//! delete requests, and the planner gives it the action `read` when it exists and fails the
//! plan when it does not. What the environment builds on it (the cluster's data collection
//! rule into the workspace, the AcrPull assignment on the registry) is the environment's own and
//! managed as usual; only the object itself belongs to someone else.
//!
//! The read is the kind's own GET, at the kind's api-version, so a reference costs the same
//! one read an owned object does, and two environments referencing one registry share it (reads
//! that are the same request are sent once).

use crate::{ApiRequest, Kind, KindName, Known, LiveResource, Method, OwnedFields, ResourceId};
use serde::{Deserialize, Serialize};

use super::{Registry, Workspace};

/// The kinds a spec may reference by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ReferencedKind {
    /// A Log Analytics workspace (`Microsoft.OperationalInsights/workspaces`).
    Workspace,
    /// A container registry (`Microsoft.ContainerRegistry/registries`).
    Registry,
}

impl ReferencedKind {
    /// Returns the kind's row in the table of kinds.
    pub fn kind_name(self) -> KindName {
        match self {
            Self::Workspace => KindName::Workspace,
            Self::Registry => KindName::Registry,
        }
    }

    /// Returns the Azure resource type an id of this kind must name.
    pub fn azure_type(self) -> &'static str {
        self.kind_name().info().azure_type
    }

    /// Returns the api-version exai reads it with (the owned kind's).
    pub fn api_version(self) -> &'static str {
        match self {
            Self::Workspace => Workspace::API_VERSION,
            Self::Registry => Registry::API_VERSION,
        }
    }

    /// Returns how people call it: `workspace`, `registry`.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Workspace => "workspace",
            Self::Registry => "registry",
        }
    }

    /// Checks that `id` names one object of this kind in a resource group:
    /// `/subscriptions/{sub}/resourceGroups/{group}/providers/{type}/{name}`, the type compared
    /// ignoring case as ARM compares it. Returns why not.
    pub fn check_id(self, id: &str) -> Result<ResourceId, String> {
        let expected =
            format!("/subscriptions/<subscription>/resourceGroups/<group>/providers/{}/<name>", self.azure_type());
        let parsed = ResourceId::parse(id).map_err(|e| e.to_string())?;
        let segments: Vec<&str> = id.trim_start_matches('/').split('/').collect();
        let shape = segments.len() == 8
            && segments[0].eq_ignore_ascii_case("subscriptions")
            && segments[2].eq_ignore_ascii_case("resourceGroups")
            && segments[4].eq_ignore_ascii_case("providers");
        if !shape {
            return Err(format!("not the id of one resource in a resource group: expected `{expected}`"));
        }
        let azure_type = format!("{}/{}", segments[5], segments[6]);
        if !azure_type.eq_ignore_ascii_case(self.azure_type()) {
            return Err(format!("the id of a `{azure_type}`, not of a {}: expected `{expected}`", self.noun()));
        }
        Ok(parsed)
    }
}

/// An existing object the spec uses by its id, owned by someone else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reference {
    /// What it is.
    pub of: ReferencedKind,
    /// Its id, as the spec writes it.
    pub id: ResourceId,
}

impl Reference {
    /// Returns the GET that reads it (404 when it does not exist).
    pub fn read_request(&self) -> ApiRequest {
        ApiRequest::arm(Method::Get, self.id.as_str(), self.of.api_version(), None)
    }
}

impl Kind for Reference {
    fn name(&self) -> KindName {
        self.of.kind_name()
    }
    fn id(&self) -> Option<ResourceId> {
        Some(self.id.clone())
    }
    fn read_request(&self) -> Option<ApiRequest> {
        Some(Reference::read_request(self))
    }
    /// Never created: a missing reference fails the plan.
    fn create_requests(&self, _known: Known<'_>) -> Vec<ApiRequest> {
        Vec::new()
    }
    /// Never written.
    fn update_requests(&self, _live: &LiveResource, _known: Known<'_>) -> Vec<ApiRequest> {
        Vec::new()
    }
    /// Nothing of it is the spec's.
    fn desired_fields(&self, _known: Known<'_>) -> OwnedFields {
        OwnedFields::new()
    }
    fn live_fields(&self, _live: &LiveResource) -> OwnedFields {
        OwnedFields::new()
    }
    fn replace_reason(&self, _path: &str) -> Option<&'static str> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WS: &str = "/subscriptions/ee000000-0000-4000-8000-000000000002/resourceGroups/DefaultResourceGroup-PAR/providers/Microsoft.OperationalInsights/workspaces/DefaultWorkspace-ee000000-0000-4000-8000-000000000002-PAR";

    #[test]
    fn an_id_must_name_one_object_of_the_kind_in_a_group() {
        assert_eq!(
            ReferencedKind::Workspace.check_id(WS).unwrap().name(),
            "DefaultWorkspace-ee000000-0000-4000-8000-000000000002-PAR"
        );
        let lower = WS.replace("Microsoft.OperationalInsights/workspaces", "microsoft.operationalinsights/Workspaces");
        assert!(ReferencedKind::Workspace.check_id(&lower).is_ok(), "types compare ignoring case");
        let registry = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/shared";
        assert_eq!(
            ReferencedKind::Workspace.check_id(registry).unwrap_err(),
            "the id of a `Microsoft.ContainerRegistry/registries`, not of a workspace: expected `/subscriptions/<subscription>/resourceGroups/<group>/providers/Microsoft.OperationalInsights/workspaces/<name>`"
        );
        assert!(ReferencedKind::Registry.check_id(registry).is_ok());
        assert!(ReferencedKind::Registry.check_id("shared").unwrap_err().contains("must start with `/subscriptions/`"));
        assert!(
            ReferencedKind::Registry
                .check_id("/subscriptions/s/resourceGroups/rg")
                .unwrap_err()
                .starts_with("not the id of one resource")
        );
        assert!(ReferencedKind::Registry.check_id(&format!("{registry}/replications/x")).is_err());
    }

    #[test]
    fn a_reference_is_read_at_its_kind_s_api_version_and_never_written() {
        let reference = Reference { of: ReferencedKind::Workspace, id: ResourceId::parse(WS).unwrap() };
        let read = reference.read_request();
        assert_eq!((read.method, read.path.as_str()), (Method::Get, WS));
        assert_eq!(read.api_version.as_deref(), Some(Workspace::API_VERSION));
        let kind: &dyn Kind = &reference;
        assert_eq!(kind.azure_type(), "Microsoft.OperationalInsights/workspaces");
        let live = LiveResource { id: reference.id.clone(), document: serde_json::json!({"id": WS}) };
        assert!(kind.create_requests(Known::nothing()).is_empty());
        assert!(kind.update_requests(&live, Known::nothing()).is_empty());
        assert!(kind.desired_fields(Known::nothing()).is_empty() && kind.mark().is_none());
    }
}
