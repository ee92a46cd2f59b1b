//! The validated spec: what `convert` makes of the wire form, and how it expands into the
//! model's [`DesiredState`].
//!
//! # One chain, and why this layer remains
//!
//! A section of `exai.yaml` is written once as a wire type ([`crate::wire`], every value with its
//! span), validated once by `convert` into the **model's own type** ([`Registry`], [`Workspace`],
//! [`Cluster`], [`ResourceGroup`]) wrapped in [`Declared`], and expanded here into
//! [`DesiredResource`]s. Enums are shared, not copied: the wire layer deserializes the model's
//! [`RegistrySku`](exai_model::kinds::RegistrySku), [`WorkspaceSku`](exai_model::kinds::WorkspaceSku)
//! and [`PoolMode`](exai_model::kinds::PoolMode). Adding a field to the registry touches the wire
//! type, its validation in `convert`, and the model's `Registry`.
//!
//! What this layer holds that neither the wire form nor the model does:
//!
//! - **[`Declared`]**: a model resource whose tags do not yet carry the ownership mark. The mark
//!   names the spec's id, which may derive from an identity's GitHub repository
//!   ([`SpecName::derived`]) and is therefore known only once every environment is validated;
//!   plus `protect` and where the name is written.
//! - **[`ClusterDecl`]**: the cluster and its edges to sibling sections (`attachRegistry`,
//!   `monitoring`), which become resources of their own (an AcrPull assignment, a data
//!   collection rule and its association) only when the whole environment is known.
//! - **[`DeployerDecl`]**: an identity is not one kind but up to six (application, service
//!   principal, federated credentials, secret, Graph permissions, role assignment); it holds the
//!   validated choices they are all built from, shared by `deployer:` and `planner:` (the role
//!   resolved to its GUID, Graph permissions to their app role ids). Its [`GitHubDecl`] is the
//!   validated `github:` block, from which the federated credentials' subjects derive.
//!
//! Expansion is one function per section ([`Environment::expand`] is the driver), each owning
//! its resources and their dependency edges.

use crate::wire::DeployerScope;
use crate::{Diagnostic, SourceSpan};
use exai_model::kinds::{
    Application, ClientSecret, Cluster, DataCollectionRule, DataCollectionRuleAssociation, FEDERATION_AUDIENCE,
    FederatedCredential, GITHUB_ISSUER, GraphPermission, PrincipalRef, Reference, ReferencedKind, RegionOf, Registry,
    ResourceGroup, RoleAssignment, ServicePrincipal, Workspace, github_subjects,
};
use exai_model::{Address, DesiredResource, DesiredSpec, DesiredState, Mark, OWNER_TAG, ResourceId, Tags};
use std::fmt;

/// A validated spec: every value interpolated, normalized and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// Its id in ownership marks.
    pub name: SpecName,
    /// The Entra tenant (id or domain).
    pub tenant: String,
    /// The environments, in the file's order.
    pub environments: Vec<Environment>,
    /// Problems that do not stop exai but that a person should know about.
    pub warnings: Vec<Warning>,
}

/// A problem that does not stop exai, with the environment it concerns and when it is worth
/// showing: a warning no one can act on is noise, and noise teaches people to skip warnings.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    /// The environment it concerns: shown only when that environment is selected.
    pub environment: String,
    /// The Azure type whose writes it is about (e.g. `Microsoft.Authorization/roleAssignments`),
    /// when it matters only for them: a plan shows it only when it writes one in its
    /// environment; `exai validate` always shows it. `None`: always shown.
    pub writes_of: Option<&'static str>,
    /// What, where, and what to do.
    pub diagnostic: Diagnostic,
}

/// The spec's id in ownership marks ([`Mark`]), and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecName {
    /// The id.
    pub id: String,
    /// Where it comes from.
    pub origin: SpecNameOrigin,
}

/// Where a spec's id comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecNameOrigin {
    /// `name:` at the top of the spec.
    Declared,
    /// The GitHub repository of an identity: the repository the spec lives in.
    Repository {
        /// The environment.
        environment: String,
        /// `deployer` or `planner`.
        identity: &'static str,
    },
    /// The first environment's name, for a spec with neither.
    FirstEnvironment,
}

impl SpecName {
    /// Returns the id a spec without `name:` gets: the first `github.repository` of a deployer
    /// or planner, in the file's order (the repository the spec lives in), else the first
    /// environment's name. `None` without environments.
    pub fn derived(environments: &[Environment]) -> Option<Self> {
        let repository = environments.iter().find_map(|e| {
            [("deployer", &e.deployer), ("planner", &e.planner)].into_iter().find_map(|(identity, d)| {
                let repository = &d.as_ref()?.github.as_ref()?.repository;
                let origin = SpecNameOrigin::Repository { environment: e.name.clone(), identity };
                Some(Self { id: repository.clone(), origin })
            })
        });
        repository.or_else(|| {
            let first = environments.first()?;
            Some(Self { id: first.name.clone(), origin: SpecNameOrigin::FirstEnvironment })
        })
    }
}

impl fmt::Display for SpecNameOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Declared => f.write_str("`name`"),
            Self::Repository { environment, identity } => {
                write!(f, "`{environment}.{identity}.github.repository`, as the spec has no `name`")
            }
            Self::FirstEnvironment => {
                f.write_str("the first environment's name, as the spec has no `name` and no GitHub repository")
            }
        }
    }
}

/// One environment, with defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    /// Its name: the first segment of every address in it.
    pub name: String,
    /// Its subscription.
    pub subscription: String,
    /// Its resource group.
    pub resource_group: Declared<ResourceGroup>,
    /// Its registry.
    pub registry: Option<Declared<Registry>>,
    /// Its Log Analytics workspace.
    pub monitoring: Option<Declared<Workspace>>,
    /// Its AKS cluster.
    pub cluster: Option<ClusterDecl>,
    /// Its GitHub deployer identity.
    pub deployer: Option<DeployerDecl>,
    /// Its read-only identity for pull-request plans (Reader; Graph `Application.Read.All`).
    pub planner: Option<DeployerDecl>,
    /// The Kubernetes manifests deployed to it, checked by `exai check` and `exai plan`.
    pub kubernetes: Option<KubernetesDecl>,
}

/// `kubernetes:` of an environment: the manifests its deploy applies, and what the deploy
/// creates outside them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubernetesDecl {
    /// The kustomize overlay, as written (relative to the spec's directory).
    pub overlay: String,
    /// Where `overlay` is written in the spec.
    pub overlay_span: Option<SourceSpan>,
    /// The namespace the deploy targets, created outside the overlay.
    pub namespace: Option<String>,
    /// Secrets created outside the overlay.
    pub external_secrets: Vec<ExternalObject>,
    /// ConfigMaps created outside the overlay.
    pub external_config_maps: Vec<ExternalObject>,
}

/// A Secret or ConfigMap the deploy creates outside the overlay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalObject {
    /// Its name.
    pub name: String,
    /// Its keys, when the spec lists them (`None`: any key is accepted).
    pub keys: Option<Vec<String>>,
}

/// A resource a section declares, validated into the model's type `K`.
#[derive(Debug, Clone, PartialEq)]
pub struct Declared<K> {
    /// The resource, its location resolved and its tags merged (defaults, environment, own), but
    /// without the ownership tag: expansion adds it, once the spec's id is known.
    pub resource: K,
    /// Never delete or replace.
    pub protect: bool,
    /// Where the name is written in the spec (a name Azure refuses is reported there).
    pub name_span: Option<SourceSpan>,
    /// The spec only references it (`{ id }`): it exists, someone else owns it, and exai reads
    /// it and never writes or deletes it. Only its id (subscription, group, name) comes from the
    /// spec; its other fields are the environment's defaults (its region the environment's, else
    /// its group's), never compared nor written.
    pub referenced: bool,
}

/// An AKS cluster, with its edges to the environment's other sections.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterDecl {
    /// The cluster, without its ownership tag and its monitoring workspace (expansion sets both).
    pub resource: Cluster,
    /// Grant AcrPull on the environment's registry to the kubelet identity.
    pub attach_registry: bool,
    /// Enable container insights into the environment's workspace.
    pub monitoring: bool,
    /// Never delete or replace.
    pub protect: bool,
}

/// The identity GitHub Actions deploys with.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployerDecl {
    /// The display name of the application and service principal.
    pub name: String,
    /// The role's name, when it is a built-in role exai knows.
    pub role_name: Option<String>,
    /// The role definition's GUID, when a role is given (`role:`; a deployer with only `deploy`
    /// access has none).
    pub role_definition: Option<String>,
    /// Its access for deploys, on the environment's registry and cluster (`deploy:`).
    pub deploy: DeployAccess,
    /// Where the role applies.
    pub scope: DeployerScope,
    /// The GitHub workflows that may log in.
    pub github: Option<GitHubDecl>,
    /// Days a client secret is valid, when one is wanted.
    pub client_secret_days: Option<u32>,
    /// Microsoft Graph application permissions, as `(name, app role id)`.
    pub graph_permissions: Vec<(String, String)>,
    /// Never delete.
    pub protect: bool,
}

/// The deployer's access for deploys (`deployer.deploy:`): each a role assignment on one
/// resource of the environment, `<env>.deployer.deploy.registry` and
/// `<env>.deployer.deploy.cluster`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeployAccess {
    /// `registry: push`: AcrPush on the environment's registry.
    pub registry_push: bool,
    /// `cluster: user`: the AKS cluster user role on the environment's cluster.
    pub cluster_user: bool,
}

impl DeployAccess {
    /// The role `registry: push` grants on the registry: `AcrPush`
    /// (learn.microsoft.com/azure/role-based-access-control/built-in-roles/containers#acrpush).
    pub const REGISTRY_PUSH_ROLE: &'static str = "AcrPush";
    /// The role `cluster: user` grants on the cluster: `Azure Kubernetes Service Cluster User
    /// Role` (`listClusterUserCredential/action` and `managedClusters/read`,
    /// learn.microsoft.com/azure/role-based-access-control/built-in-roles/containers).
    pub const CLUSTER_USER_ROLE: &'static str = "Azure Kubernetes Service Cluster User Role";

    /// Returns true when it grants nothing.
    pub fn is_empty(&self) -> bool {
        !self.registry_push && !self.cluster_user
    }

    /// Returns the names of the roles it grants, registry first.
    pub fn role_names(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.registry_push {
            names.push(Self::REGISTRY_PUSH_ROLE);
        }
        if self.cluster_user {
            names.push(Self::CLUSTER_USER_ROLE);
        }
        names
    }
}

/// GitHub federation.
#[derive(Debug, Clone, PartialEq)]
pub struct GitHubDecl {
    /// `owner/name`.
    pub repository: String,
    /// Branches that may log in.
    pub branches: Vec<String>,
    /// Whether pull requests may log in.
    pub pull_requests: bool,
    /// Deployment environments that may log in.
    pub environments: Vec<String>,
}

impl GitHubDecl {
    /// Returns the federated credentials, as `(name, subject)`.
    pub fn subjects(&self) -> Vec<(String, String)> {
        github_subjects(&self.repository, &self.branches, self.pull_requests, &self.environments)
    }
}

/// `--env` named an environment the spec does not declare.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment `{name}` is not declared in the spec (it declares: {})", .declared.join(", "))]
pub struct UnknownEnvironment {
    /// The name asked for.
    pub name: String,
    /// The names the spec declares.
    pub declared: Vec<String>,
}

impl Environment {
    /// Returns the resources this environment becomes, each with its dependencies, in an order
    /// where every resource comes after what it depends on. Each is marked as owned by the spec
    /// `spec` (its id), under its address, protected when its block says so.
    pub fn expand(&self, tenant: &str, spec: &str) -> Vec<DesiredResource> {
        let mut expansion = Expansion { environment: &self.name, spec, out: Vec::new() };
        let group = expansion.expand_group(&self.resource_group);
        let registry = self.registry.as_ref().map(|r| expansion.expand_registry(r, &group));
        let workspace = self.monitoring.as_ref().map(|m| expansion.expand_monitoring(m, &group));
        let cluster = self
            .cluster
            .as_ref()
            .map(|cluster| expansion.expand_cluster(cluster, &group, registry.as_ref(), workspace.as_ref()));
        // The deployer, and the read-only planner: the same kinds under their own prefixes.
        for (who, identity) in [("deployer", &self.deployer), ("planner", &self.planner)] {
            if let Some(identity) = identity {
                let sp = expansion.expand_identity(who, identity, &group, tenant);
                expansion.expand_deploy_access(who, identity, &sp, &group, registry.as_ref(), cluster.as_ref());
            }
        }
        expansion.out
    }
}

/// A resource already expanded, as the sections that depend on it see it.
struct Expanded<'d, K> {
    /// Its address: what a dependent waits for.
    address: Address,
    /// Its declaration: what a dependent reads (an id, a location).
    resource: &'d K,
    /// Only referenced: its fields but the id are not the spec's (its region is read live).
    referenced: bool,
}

/// One environment's resources, as each section's `expand_*` adds its own with their edges.
struct Expansion<'a> {
    environment: &'a str,
    spec: &'a str,
    out: Vec<DesiredResource>,
}

impl Expansion<'_> {
    fn address(&self, path: &str) -> Address {
        Address::new(self.environment, path)
    }

    fn mark(&self, path: &str, protect: bool) -> Mark {
        Mark::new(self.spec, &self.address(path), protect)
    }

    /// Returns `tags` with the ownership tag of the ARM resource at `path`.
    fn owned(&self, tags: &Tags, path: &str, protect: bool) -> Tags {
        let mut tags = tags.clone();
        tags.insert(OWNER_TAG, self.mark(path, protect).tag_value());
        tags
    }

    /// Adds the resource at `path`, after `depends_on`, and returns its address.
    fn push(&mut self, path: &str, depends_on: &[&Address], protect: bool, spec: DesiredSpec) -> Address {
        let address = self.address(path);
        let depends_on = depends_on.iter().map(|a| (*a).clone()).collect();
        self.out.push(DesiredResource { address: address.clone(), depends_on, protect, spec });
        address
    }

    /// Adds the object the spec only references at `path` (read, never written; it waits for
    /// nothing of the environment's) and returns its address.
    fn push_reference(&mut self, path: &str, kind: ReferencedKind, id: ResourceId) -> Address {
        self.push(path, &[], false, DesiredSpec::Reference(Reference { of: kind, id }))
    }

    /// `resourceGroup:`: the group, on which every ARM resource of the environment depends.
    fn expand_group<'d>(&mut self, declared: &'d Declared<ResourceGroup>) -> Expanded<'d, ResourceGroup> {
        const PATH: &str = "resourceGroup";
        let mut group = declared.resource.clone();
        group.tags = self.owned(&group.tags, PATH, declared.protect);
        let address = self.push(PATH, &[], declared.protect, DesiredSpec::ResourceGroup(group));
        Expanded { address, resource: &declared.resource, referenced: declared.referenced }
    }

    /// `registry:`: the registry, in the group; or the registry it references, wherever it is.
    fn expand_registry<'d>(
        &mut self,
        declared: &'d Declared<Registry>,
        group: &Expanded<'_, ResourceGroup>,
    ) -> Expanded<'d, Registry> {
        const PATH: &str = "registry";
        let address = if declared.referenced {
            self.push_reference(PATH, ReferencedKind::Registry, declared.resource.id())
        } else {
            let mut registry = declared.resource.clone();
            registry.tags = self.owned(&registry.tags, PATH, declared.protect);
            self.push(PATH, &[&group.address], declared.protect, DesiredSpec::Registry(registry))
        };
        Expanded { address, resource: &declared.resource, referenced: declared.referenced }
    }

    /// `monitoring:`: the Log Analytics workspace, in the group; or the workspace it references,
    /// wherever it is.
    fn expand_monitoring<'d>(
        &mut self,
        declared: &'d Declared<Workspace>,
        group: &Expanded<'_, ResourceGroup>,
    ) -> Expanded<'d, Workspace> {
        const PATH: &str = "monitoring";
        let address = if declared.referenced {
            self.push_reference(PATH, ReferencedKind::Workspace, declared.resource.id())
        } else {
            let mut workspace = declared.resource.clone();
            workspace.tags = self.owned(&workspace.tags, PATH, declared.protect);
            self.push(PATH, &[&group.address], declared.protect, DesiredSpec::Workspace(workspace))
        };
        Expanded { address, resource: &declared.resource, referenced: declared.referenced }
    }

    /// `cluster:`: the cluster; with `monitoring: true`, a data collection rule into the
    /// environment's workspace (created before the cluster, whose add-on names it) and its
    /// association; with `attachRegistry: true`, AcrPull on the registry for the kubelet identity.
    fn expand_cluster(
        &mut self,
        declared: &ClusterDecl,
        group: &Expanded<'_, ResourceGroup>,
        registry: Option<&Expanded<'_, Registry>>,
        workspace: Option<&Expanded<'_, Workspace>>,
    ) -> (Address, ResourceId) {
        let protect = declared.protect;
        let c = &declared.resource;
        let workspace = workspace.filter(|_| declared.monitoring);
        let rule = workspace.map(|workspace| {
            let rule = DataCollectionRule {
                subscription: c.subscription.clone(),
                resource_group: c.resource_group.clone(),
                name: DataCollectionRule::default_name(&workspace.resource.location, &c.name),
                location: workspace.resource.location.clone(),
                workspace_id: workspace.resource.id(),
                tags: self.owned(&c.tags, "cluster.dcr", protect),
                region_of: workspace
                    .referenced
                    .then(|| RegionOf { workspace: workspace.address.clone(), cluster: c.name.clone() }),
            };
            let (id, region_of) = (rule.id(), rule.region_of.clone());
            let depends_on = [&group.address, &workspace.address];
            (self.push("cluster.dcr", &depends_on, protect, DesiredSpec::DataCollectionRule(rule)), id, region_of)
        });

        let mut cluster = c.clone();
        cluster.monitoring_workspace = workspace.map(|w| w.resource.id());
        cluster.tags = self.owned(&c.tags, "cluster", protect);
        let cluster_id = cluster.id();
        let expanded = (self.address("cluster"), cluster_id.clone());
        let mut needs = vec![&group.address];
        if let Some((rule_address, ..)) = &rule {
            needs.push(rule_address);
        }
        let cluster_address = self.push("cluster", &needs, protect, DesiredSpec::Cluster(Box::new(cluster)));

        if let Some((rule_address, rule_id, region_of)) = &rule {
            let association = DataCollectionRuleAssociation {
                cluster_id,
                rule_id: rule_id.clone(),
                rule_region_of: region_of.clone(),
            };
            let depends_on = [&cluster_address, rule_address];
            let spec = DesiredSpec::DataCollectionRuleAssociation(association);
            self.push("cluster.dcr-association", &depends_on, protect, spec);
        }
        if let (true, Some(registry)) = (declared.attach_registry, registry) {
            let principal = PrincipalRef {
                from: cluster_address.clone(),
                field: "properties.identityProfile.kubeletidentity.objectId".to_owned(),
            };
            let acr_pull = exai_model::kinds::built_in_role("AcrPull").map(|(_, guid)| guid).unwrap_or_default();
            let mark = self.mark("cluster.acr-pull", protect);
            let assignment = RoleAssignment::new(registry.resource.id(), acr_pull, principal, mark);
            let depends_on = [&cluster_address, &registry.address];
            self.push("cluster.acr-pull", &depends_on, protect, DesiredSpec::RoleAssignment(assignment));
        }
        expanded
    }

    /// `deployer:` or `planner:` (`who`): the application, its service principal, a federated
    /// credential per GitHub subject, the client secret, the Graph permissions and the role
    /// assignment, when a role is given (which waits for the group when scoped to it). Returns
    /// the service principal's address.
    fn expand_identity(
        &mut self,
        who: &str,
        d: &DeployerDecl,
        group: &Expanded<'_, ResourceGroup>,
        tenant: &str,
    ) -> Address {
        let at = |path: &str| format!("{who}.{path}");
        let protect = d.protect;
        let application = Application {
            address: self.address(&at("app")),
            mark: self.mark(&at("app"), protect),
            display_name: d.name.clone(),
        };
        let app = self.push(&at("app"), &[], protect, DesiredSpec::Application(application));
        let principal = ServicePrincipal {
            address: self.address(&at("sp")),
            mark: self.mark(&at("sp"), protect),
            application: app.clone(),
        };
        let sp = self.push(&at("sp"), &[&app], protect, DesiredSpec::ServicePrincipal(principal));
        for (name, subject) in d.github.iter().flat_map(GitHubDecl::subjects) {
            let path = at(&format!("federated.{name}"));
            let credential = FederatedCredential {
                address: self.address(&path),
                mark: self.mark(&path, protect),
                application: app.clone(),
                name,
                issuer: GITHUB_ISSUER.to_owned(),
                subject,
                audiences: vec![FEDERATION_AUDIENCE.to_owned()],
            };
            self.push(&path, &[&app], protect, DesiredSpec::FederatedCredential(credential));
        }
        if let Some(days) = d.client_secret_days {
            let secret = ClientSecret {
                address: self.address(&at("secret")),
                mark: self.mark(&at("secret"), protect),
                application: app.clone(),
                expires_in_days: days,
                end_date_time: None,
                subscription: group.resource.subscription.clone(),
                tenant: tenant.to_owned(),
                handover: None,
            };
            self.push(&at("secret"), &[&app], protect, DesiredSpec::ClientSecret(secret));
        }
        for (permission, app_role_id) in &d.graph_permissions {
            let path = at(&format!("graph.{}", permission.to_ascii_lowercase().replace('.', "-")));
            let grant = GraphPermission {
                address: self.address(&path),
                principal: sp.clone(),
                permission: permission.clone(),
                app_role_id: app_role_id.clone(),
            };
            self.push(&path, &[&sp], protect, DesiredSpec::GraphPermission(grant));
        }
        if let Some(role_definition) = &d.role_definition {
            let (scope, needs) = match d.scope {
                DeployerScope::Subscription => (ResourceId::subscription(&group.resource.subscription), vec![&sp]),
                DeployerScope::ResourceGroup => (group.resource.id(), vec![&sp, &group.address]),
            };
            let principal = PrincipalRef { from: sp.clone(), field: "id".to_owned() };
            let assignment = RoleAssignment::new(scope, role_definition, principal, self.mark(&at("role"), protect));
            self.push(&at("role"), &needs, protect, DesiredSpec::RoleAssignment(assignment));
        }
        sp
    }

    /// `deployer.deploy:`: AcrPush on the registry (`<env>.deployer.deploy.registry`) and the
    /// AKS cluster user role on the cluster (`<env>.deployer.deploy.cluster`) for the service
    /// principal `sp`, each after the principal and the resource it applies to. Both are found
    /// by listing the principal's assignments at the resource group (one read for both, whose
    /// answer also shows an assignment that left the spec: [`RoleAssignment::listed_at`]).
    fn expand_deploy_access(
        &mut self,
        who: &str,
        d: &DeployerDecl,
        sp: &Address,
        group: &Expanded<'_, ResourceGroup>,
        registry: Option<&Expanded<'_, Registry>>,
        cluster: Option<&(Address, ResourceId)>,
    ) {
        let registry = registry.filter(|_| d.deploy.registry_push).map(|r| (&r.address, r.resource.id()));
        let cluster = cluster.filter(|_| d.deploy.cluster_user).map(|(address, id)| (address, id.clone()));
        let grants = [
            ("deploy.registry", DeployAccess::REGISTRY_PUSH_ROLE, registry),
            ("deploy.cluster", DeployAccess::CLUSTER_USER_ROLE, cluster),
        ];
        for (path, role, target) in grants {
            let Some((target_address, scope)) = target else { continue };
            // Both roles are in exai's table of built-in roles; a test holds them to their GUIDs.
            let Some((_, role_definition)) = exai_model::kinds::built_in_role(role) else { continue };
            let path = format!("{who}.{path}");
            let principal = PrincipalRef { from: sp.clone(), field: "id".to_owned() };
            let assignment = RoleAssignment::new(scope, role_definition, principal, self.mark(&path, d.protect))
                .listed_at(group.resource.id());
            let depends_on = [sp, target_address];
            self.push(&path, &depends_on, d.protect, DesiredSpec::RoleAssignment(assignment));
        }
    }
}

impl Spec {
    /// Returns, for each declared resource whose name the spec writes and Azure may refuse
    /// (a registry name is global across Azure), its address and where the name is written.
    pub fn name_positions(&self) -> Vec<(Address, SourceSpan)> {
        self.environments
            .iter()
            .filter_map(|env| {
                let span = env.registry.as_ref()?.name_span?;
                Some((Address::new(&env.name, "registry"), span))
            })
            .collect()
    }

    /// Returns the environments selected by `only` (all of them when `None`).
    pub fn select(&self, only: Option<&str>) -> Result<Vec<&Environment>, UnknownEnvironment> {
        match only {
            None => Ok(self.environments.iter().collect()),
            Some(name) => {
                self.environments.iter().find(|e| e.name == name).map(|e| vec![e]).ok_or_else(|| UnknownEnvironment {
                    name: name.to_owned(),
                    declared: self.environments.iter().map(|e| e.name.clone()).collect(),
                })
            }
        }
    }

    /// Returns the warnings of the environments [`Spec::select`] picks, in the file's order.
    pub fn warnings_for(&self, only: Option<&str>) -> Vec<&Warning> {
        self.warnings.iter().filter(|w| only.is_none_or(|name| w.environment == name)).collect()
    }

    /// Expands the selected environments into the resources they declare.
    pub fn desired_state(&self, only: Option<&str>) -> Result<DesiredState, UnknownEnvironment> {
        let resources = self.select(only)?.into_iter().flat_map(|e| e.expand(&self.tenant, &self.name.id)).collect();
        Ok(DesiredState { tenant: self.tenant.clone(), resources })
    }
}
