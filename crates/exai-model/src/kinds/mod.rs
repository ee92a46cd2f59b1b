//! One module per Azure resource kind: its id, its requests, and its owned-field projection.
//!
//! Every fact a module relies on names its source (a swagger file, an official example, or the
//! facts in `docs/azure-facts.md`), because a wrong fact here is a wrong plan.

mod cluster;
mod common;
mod graph;
mod monitoring;
mod read_only;
mod reference;
mod registry;
mod resource_group;
mod role_assignment;
mod table;
mod workspace;

pub use cluster::{
    Cluster, NodePool, PoolMode, PoolSize, SSH_PUBLIC_KEY_POINTER, SshKeySource, read_only_members_in, read_only_paths,
    writable_members,
};
pub use graph::{
    Application, ClientSecret, FEDERATION_AUDIENCE, FederatedCredential, GITHUB_ISSUER, GRAPH_PERMISSIONS,
    GraphPermission, MICROSOFT_GRAPH_APP_ID, SecretHandover, ServicePrincipal, github_subjects, graph_permission,
    odata_literal,
};
pub use monitoring::{DataCollectionRule, DataCollectionRuleAssociation, RegionOf};
pub use read_only::{read_only_members_of, read_only_paths_of, read_only_types, resource_type_of};
pub use reference::{Reference, ReferencedKind};
pub use registry::{Registry, RegistrySku};
pub use resource_group::ResourceGroup;
pub use role_assignment::{
    BUILT_IN_ROLES, PrincipalRef, ROLE_ASSIGNMENT_WRITERS, RoleAssignment, built_in_role, built_in_role_name,
};
pub use table::{Deletion, KindInfo, KindName, MarkPlace, Orphans};
pub use workspace::{Workspace, WorkspaceSku};
