//! The table of kinds: every kind exai manages, named once, with what exai knows of it without
//! an object of it.
//!
//! Every list of kinds derives from this table: the planner's resource types and destroy
//! warnings (`<dyn Kind>::info`), every delete (a declared resource's, `<dyn Kind>::delete_requests`,
//! and an orphan's, [`crate::owned_in_scan`] and [`crate::Kind::owned_in`], all from
//! [`KindInfo::deletion`]) and where a mark is released ([`crate::Mark::release_hint`]). Adding a kind fails to compile until
//! its row is filled: [`KindName`] gets a variant (its [`crate::Kind::name`] returns it, and
//! [`KindName::ALL`] is made from the same list), and [`KindName::info`] matches every variant
//! without a wildcard, so the compiler names the missing row. A row is a struct literal without
//! defaults: one without its [`Deletion`] does not compile either.

use super::{
    Application, ClientSecret, Cluster, DataCollectionRule, DataCollectionRuleAssociation, FederatedCredential,
    GraphPermission, Registry, ResourceGroup, RoleAssignment, ServicePrincipal, Workspace,
};
use crate::{ApiRequest, ApiVersion, Method, ResourceId};
use serde_json::json;

/// Declares [`KindName`] and [`KindName::ALL`] from one list, so no variant can be left out of
/// `ALL` (and out of the scans that walk it).
macro_rules! kind_names {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// Names one kind exai manages, without its data: the row of the table of kinds.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum KindName {
            $($(#[$doc])* $name,)*
        }

        impl KindName {
            /// Every kind, in declaration order.
            pub const ALL: &'static [KindName] = &[$(KindName::$name,)*];
        }
    };
}

kind_names! {
    /// [`ResourceGroup`].
    ResourceGroup,
    /// [`Registry`].
    Registry,
    /// [`Workspace`].
    Workspace,
    /// [`DataCollectionRule`].
    DataCollectionRule,
    /// [`DataCollectionRuleAssociation`].
    DataCollectionRuleAssociation,
    /// [`Cluster`].
    Cluster,
    /// [`RoleAssignment`].
    RoleAssignment,
    /// [`Application`].
    Application,
    /// [`ServicePrincipal`].
    ServicePrincipal,
    /// [`FederatedCredential`].
    FederatedCredential,
    /// [`ClientSecret`].
    ClientSecret,
    /// [`GraphPermission`].
    GraphPermission,
}

/// How exai finds an object of a kind that exai made and the spec no longer declares (an
/// *orphan*), to plan its deletion.
#[derive(Debug, Clone, Copy)]
pub enum Orphans {
    /// Listed by the ownership scan of the resource group it lives in
    /// ([`crate::ownership_scan`]), and deleted from its id alone ([`KindInfo::deletion`]).
    GroupScan,
    /// Found in the answer to a read exai makes anyway, by [`crate::Kind::owned_in`] of a
    /// declared resource (an application's secrets, a principal's role assignments).
    OwnedIn,
    /// Not looked for: finding it would mean scanning a whole subscription or tenant, where
    /// another project's objects may carry the same mark (a resource group), or it goes with
    /// its parent (an association with its cluster, a service principal with its application).
    NotSought,
}

/// How an object of a kind is deleted, from its id alone: the one source of the request that
/// deletes a declared resource (`<dyn Kind>::delete_requests`) and of the one that deletes an
/// orphan ([`crate::OwnedObject::delete`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    /// `DELETE {id}?api-version=…` of an ARM resource, resource group or role assignment, at the
    /// kind's api-version.
    Arm(ApiVersion),
    /// `DELETE /v1.0{id}` of a Graph object, addressed by its path.
    GraphObject,
    /// `POST /v1.0/applications/{app}/removePassword` with `{"keyId": …}`: a client secret (a
    /// password credential, id `/applications/{app}/passwordCredentials/{keyId}`) is part of its
    /// application, not an object Graph deletes on its own
    /// (learn.microsoft.com/graph/api/application-removepassword).
    GraphPassword,
}

impl Deletion {
    /// Returns the request that deletes the object with id `id`.
    pub fn request(self, id: &ResourceId) -> ApiRequest {
        match self {
            Self::Arm(api_version) => ApiRequest::arm(Method::Delete, id.as_str(), api_version, None),
            Self::GraphObject => ApiRequest::graph(Method::Delete, id.as_str(), None),
            Self::GraphPassword => {
                let (application, key) = id.as_str().rsplit_once("/passwordCredentials/").unwrap_or_default();
                ApiRequest::graph(Method::Post, format!("{application}/removePassword"), Some(json!({ "keyId": key })))
            }
        }
    }
}

/// Where an object of a kind holds its ownership mark ([`crate::Mark`]), so a reviewer can be
/// told how to release it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkPlace {
    /// The `exai-owner` tag of an ARM resource or resource group.
    ArmTag,
    /// The description of a role assignment (role assignments have no tags).
    RoleAssignmentDescription,
    /// An entry of a Graph object's `tags`.
    GraphTags,
    /// A Graph object's `description` (a federated credential).
    GraphDescription,
    /// A Graph object's `displayName` (a client secret).
    GraphDisplayName,
    /// Nowhere: the object carries no mark (an app role assignment, which exai tells by its
    /// role on its principal).
    Unmarked,
}

/// One row of the table: what exai knows of a kind without an object of it.
#[derive(Debug, Clone, Copy)]
pub struct KindInfo {
    /// The Azure resource type (or Graph type), as plans show it.
    pub azure_type: &'static str,
    /// A warning to show whenever an object of this kind is deleted or replaced; `None` when
    /// deleting it takes nothing else with it.
    pub destroy_warning: Option<&'static str>,
    /// How an orphan of this kind is found.
    pub orphans: Orphans,
    /// How an object of this kind is deleted, declared or orphaned.
    pub deletion: Deletion,
    /// Where an object of this kind holds its ownership mark.
    pub mark_place: MarkPlace,
}

impl KindName {
    /// Returns the row of this kind.
    pub const fn info(self) -> KindInfo {
        match self {
            Self::ResourceGroup => ResourceGroup::INFO,
            Self::Registry => Registry::INFO,
            Self::Workspace => Workspace::INFO,
            Self::DataCollectionRule => DataCollectionRule::INFO,
            Self::DataCollectionRuleAssociation => DataCollectionRuleAssociation::INFO,
            Self::Cluster => Cluster::INFO,
            Self::RoleAssignment => RoleAssignment::INFO,
            Self::Application => Application::INFO,
            Self::ServicePrincipal => ServicePrincipal::INFO,
            Self::FederatedCredential => FederatedCredential::INFO,
            Self::ClientSecret => ClientSecret::INFO,
            Self::GraphPermission => GraphPermission::INFO,
        }
    }

    /// Returns the kind of Azure (or Graph) type `azure_type`, compared ignoring case as ARM
    /// compares types; `None` for a type exai does not manage.
    pub fn of_azure_type(azure_type: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|kind| kind.info().azure_type.eq_ignore_ascii_case(azure_type))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_kind_has_its_own_azure_type_and_is_found_by_it() {
        let types: BTreeSet<String> = KindName::ALL.iter().map(|k| k.info().azure_type.to_ascii_lowercase()).collect();
        assert_eq!(types.len(), KindName::ALL.len(), "two kinds share an Azure type: {types:?}");
        for &kind in KindName::ALL {
            let upper = kind.info().azure_type.to_ascii_uppercase();
            assert_eq!(KindName::of_azure_type(&upper), Some(kind));
        }
        assert_eq!(KindName::of_azure_type("Microsoft.Storage/storageAccounts"), None);
    }

    /// The kinds the resource-group scan finds are the ARM kinds that live in a group and carry
    /// the ownership tag: a change here changes which orphans are planned for deletion.
    #[test]
    fn the_group_scan_finds_the_tagged_arm_kinds_that_live_in_a_group() {
        let scanned: Vec<KindName> =
            KindName::ALL.iter().copied().filter(|k| matches!(k.info().orphans, Orphans::GroupScan)).collect();
        assert_eq!(scanned, [KindName::Registry, KindName::Workspace, KindName::DataCollectionRule, KindName::Cluster]);
        for kind in scanned {
            assert_eq!(kind.info().mark_place, MarkPlace::ArmTag, "{kind:?}");
            assert!(kind.info().destroy_warning.is_some(), "{kind:?}");
        }
    }

    /// Every kind's delete, as the one request both a declared delete and an orphan's are built
    /// from: ARM kinds at their own api-version, Graph objects by path, a client secret through
    /// its application's `removePassword`.
    #[test]
    fn every_kind_is_deleted_by_the_request_of_its_row() {
        let arm = ResourceId::parse("/subscriptions/s/resourceGroups/rg/providers/T/things/n").unwrap();
        let graph = ResourceId::graph("/applications/a1/passwordCredentials/k1".to_owned());
        let deletes: Vec<String> = KindName::ALL
            .iter()
            .map(|&kind| {
                let deletion = kind.info().deletion;
                let id = if matches!(deletion, Deletion::Arm(_)) { &arm } else { &graph };
                let request = deletion.request(id);
                let body = request.body.as_ref().map(|b| format!(" {b}")).unwrap_or_default();
                format!("{kind:?}: {} {}{body}", request.method, request.path_and_query())
            })
            .collect();
        let arm = "/subscriptions/s/resourceGroups/rg/providers/T/things/n?api-version=";
        let object = "/v1.0/applications/a1/passwordCredentials/k1";
        assert_eq!(
            deletes,
            [
                format!("ResourceGroup: DELETE {arm}2025-04-01"),
                format!("Registry: DELETE {arm}2025-11-01"),
                format!("Workspace: DELETE {arm}2026-03-01"),
                format!("DataCollectionRule: DELETE {arm}2022-06-01"),
                format!("DataCollectionRuleAssociation: DELETE {arm}2022-06-01"),
                format!("Cluster: DELETE {arm}2026-08-01"),
                format!("RoleAssignment: DELETE {arm}2022-04-01"),
                format!("Application: DELETE {object}"),
                format!("ServicePrincipal: DELETE {object}"),
                format!("FederatedCredential: DELETE {object}"),
                r#"ClientSecret: POST /v1.0/applications/a1/removePassword {"keyId":"k1"}"#.to_owned(),
                format!("GraphPermission: DELETE {object}"),
            ]
        );
    }
}
