use crate::Diagnostic;
use exai_model::kinds::{
    Application, ClientSecret, Cluster, DataCollectionRule, DataCollectionRuleAssociation, FEDERATION_AUDIENCE,
    FederatedCredential, GITHUB_ISSUER, GraphPermission, NodePool, PrincipalRef, Registry, RegistrySku, ResourceGroup,
    RoleAssignment, ServicePrincipal, SshKeySource, Workspace, WorkspaceSku, github_subjects,
};
use exai_model::{Address, DesiredResource, DesiredSpec, DesiredState, Location, Mark, OWNER_TAG, ResourceId, Tags};
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
    pub resource_group: ResourceGroupDecl,
    /// Its registry.
    pub registry: Option<RegistryDecl>,
    /// Its Log Analytics workspace.
    pub monitoring: Option<MonitoringDecl>,
    /// Its AKS cluster.
    pub cluster: Option<ClusterDecl>,
    /// Its GitHub deployer identity.
    pub deployer: Option<DeployerDecl>,
    /// Its read-only identity for pull-request plans (Reader; Graph `Application.Read.All`).
    pub planner: Option<DeployerDecl>,
}

/// A resource group.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceGroupDecl {
    /// The name.
    pub name: String,
    /// The region.
    pub location: Location,
    /// The tags the spec manages (defaults, environment and own, merged).
    pub tags: Tags,
    /// Never delete or replace.
    pub protect: bool,
}

/// A container registry.
#[derive(Debug, Clone, PartialEq)]
pub struct RegistryDecl {
    /// The name.
    pub name: String,
    /// Where the name is written in the spec (a taken name is reported there).
    pub name_span: Option<crate::SourceSpan>,
    /// The SKU.
    pub sku: RegistrySku,
    /// Whether the admin user is enabled.
    pub admin_user_enabled: bool,
    /// The region.
    pub location: Location,
    /// The managed tags.
    pub tags: Tags,
    /// Never delete or replace.
    pub protect: bool,
}

/// A Log Analytics workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitoringDecl {
    /// The workspace's name.
    pub workspace: String,
    /// Days of retention.
    pub retention_days: u32,
    /// The pricing tier.
    pub sku: WorkspaceSku,
    /// The region.
    pub location: Location,
    /// The managed tags.
    pub tags: Tags,
    /// Never delete or replace.
    pub protect: bool,
}

/// An AKS cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterDecl {
    /// The name.
    pub name: String,
    /// The Kubernetes version, when pinned.
    pub kubernetes_version: Option<String>,
    /// The DNS prefix (derived like `az aks create` when the spec has none).
    pub dns_prefix: String,
    /// The node pools.
    pub node_pools: Vec<NodePool>,
    /// Grant AcrPull on the environment's registry to the kubelet identity.
    pub attach_registry: bool,
    /// Enable container insights into the environment's workspace.
    pub monitoring: bool,
    /// The SSH key.
    pub ssh: SshKeySource,
    /// The region.
    pub location: Location,
    /// The managed tags.
    pub tags: Tags,
    /// Never delete or replace.
    pub protect: bool,
}

/// Where the deployer's role applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployerScope {
    /// The subscription.
    Subscription,
    /// The environment's resource group.
    ResourceGroup,
}

/// The identity GitHub Actions deploys with.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployerDecl {
    /// The display name of the application and service principal.
    pub name: String,
    /// The role's name, when it is a built-in role exai knows.
    pub role_name: Option<String>,
    /// The role definition's GUID.
    pub role_definition: String,
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

fn owned(tags: &Tags, mark: &Mark) -> Tags {
    let mut tags = tags.clone();
    tags.insert(OWNER_TAG, mark.tag_value());
    tags
}

impl Environment {
    /// Returns the resources this environment becomes, each with its dependencies, in an order
    /// where every resource comes after what it depends on. Each is marked as owned by the spec
    /// `spec` (its id), under its address, protected when its block says so.
    pub fn expand(&self, tenant: &str, spec: &str) -> Vec<DesiredResource> {
        let env = self.name.as_str();
        let mark = |path: &str, protect: bool| Mark::new(spec, &Address::new(env, path), protect);
        let sub = self.subscription.as_str();
        let rg = &self.resource_group;
        let mut out = Vec::new();
        let mut push = |path: &str, depends_on: Vec<&Address>, protect: bool, spec: DesiredSpec| -> Address {
            let address = Address::new(env, path);
            out.push(DesiredResource {
                address: address.clone(),
                depends_on: depends_on.into_iter().cloned().collect(),
                protect,
                spec,
            });
            address
        };

        let group = push(
            "resourceGroup",
            vec![],
            rg.protect,
            DesiredSpec::ResourceGroup(ResourceGroup::new(
                sub,
                &rg.name,
                rg.location.clone(),
                rg.tags.clone(),
                &mark("resourceGroup", rg.protect).tag_value(),
            )),
        );

        let registry = self.registry.as_ref().map(|r| {
            let spec = Registry {
                subscription: sub.to_owned(),
                resource_group: rg.name.clone(),
                name: r.name.clone(),
                location: r.location.clone(),
                sku: r.sku,
                admin_user_enabled: r.admin_user_enabled,
                tags: owned(&r.tags, &mark("registry", r.protect)),
            };
            let id = spec.id();
            (push("registry", vec![&group], r.protect, DesiredSpec::Registry(spec)), id)
        });

        let workspace = self.monitoring.as_ref().map(|m| {
            let spec = Workspace {
                subscription: sub.to_owned(),
                resource_group: rg.name.clone(),
                name: m.workspace.clone(),
                location: m.location.clone(),
                retention_days: m.retention_days,
                sku: m.sku,
                tags: owned(&m.tags, &mark("monitoring", m.protect)),
            };
            let id = spec.id();
            (push("monitoring", vec![&group], m.protect, DesiredSpec::Workspace(spec)), id, m.location.clone())
        });

        if let Some(c) = &self.cluster {
            let monitoring = workspace.as_ref().filter(|_| c.monitoring);
            let rule = monitoring.map(|(ws_address, ws_id, ws_location)| {
                let spec = DataCollectionRule {
                    subscription: sub.to_owned(),
                    resource_group: rg.name.clone(),
                    name: DataCollectionRule::default_name(ws_location, &c.name),
                    location: ws_location.clone(),
                    workspace_id: ws_id.clone(),
                    tags: owned(&c.tags, &mark("cluster.dcr", c.protect)),
                };
                let id = spec.id();
                (push("cluster.dcr", vec![&group, ws_address], c.protect, DesiredSpec::DataCollectionRule(spec)), id)
            });
            let address = Address::new(env, "cluster");
            let cluster = Cluster {
                address: address.clone(),
                subscription: sub.to_owned(),
                resource_group: rg.name.clone(),
                name: c.name.clone(),
                location: c.location.clone(),
                kubernetes_version: c.kubernetes_version.clone(),
                dns_prefix: c.dns_prefix.clone(),
                node_pools: c.node_pools.clone(),
                ssh: c.ssh.clone(),
                monitoring_workspace: monitoring.map(|(_, id, _)| id.clone()),
                tags: owned(&c.tags, &mark("cluster", c.protect)),
                // Filled, for a cluster to be created, by `exai_executor::prepare_ssh_keys`.
                ssh_public_key: None,
            };
            let cluster_id = cluster.id();
            let mut needs = vec![&group];
            if let Some((rule_address, _)) = &rule {
                needs.push(rule_address);
            }
            let cluster_address = push("cluster", needs, c.protect, DesiredSpec::Cluster(Box::new(cluster)));
            if let Some((rule_address, rule_id)) = &rule {
                push(
                    "cluster.dcr-association",
                    vec![&cluster_address, rule_address],
                    c.protect,
                    DesiredSpec::DataCollectionRuleAssociation(DataCollectionRuleAssociation {
                        cluster_id: cluster_id.clone(),
                        rule_id: rule_id.clone(),
                    }),
                );
            }
            if let (true, Some((registry_address, registry_id))) = (c.attach_registry, &registry) {
                let principal = PrincipalRef {
                    from: cluster_address.clone(),
                    field: "properties.identityProfile.kubeletidentity.objectId".to_owned(),
                };
                let acr_pull = exai_model::kinds::built_in_role("AcrPull").map(|(_, guid)| guid).unwrap_or_default();
                let assignment =
                    RoleAssignment::new(registry_id.clone(), acr_pull, principal, mark("cluster.acr-pull", c.protect));
                push(
                    "cluster.acr-pull",
                    vec![&cluster_address, registry_address],
                    c.protect,
                    DesiredSpec::RoleAssignment(assignment),
                );
            }
        }

        // The deployer, and the read-only planner: the same kinds under their own prefixes.
        for (who, d) in [("deployer", &self.deployer), ("planner", &self.planner)] {
            let Some(d) = d else { continue };
            let at = |path: &str| format!("{who}.{path}");
            let app = push(
                &at("app"),
                vec![],
                d.protect,
                DesiredSpec::Application(Application {
                    address: Address::new(env, &at("app")),
                    mark: mark(&at("app"), d.protect),
                    display_name: d.name.clone(),
                }),
            );
            let sp = push(
                &at("sp"),
                vec![&app],
                d.protect,
                DesiredSpec::ServicePrincipal(ServicePrincipal {
                    address: Address::new(env, &at("sp")),
                    mark: mark(&at("sp"), d.protect),
                    application: app.clone(),
                }),
            );
            if let Some(github) = &d.github {
                for (name, subject) in github.subjects() {
                    let credential = FederatedCredential {
                        address: Address::new(env, &at(&format!("federated.{name}"))),
                        mark: mark(&at(&format!("federated.{name}")), d.protect),
                        application: app.clone(),
                        name: name.clone(),
                        issuer: GITHUB_ISSUER.to_owned(),
                        subject,
                        audiences: vec![FEDERATION_AUDIENCE.to_owned()],
                    };
                    push(
                        &at(&format!("federated.{name}")),
                        vec![&app],
                        d.protect,
                        DesiredSpec::FederatedCredential(credential),
                    );
                }
            }
            if let Some(days) = d.client_secret_days {
                push(
                    &at("secret"),
                    vec![&app],
                    d.protect,
                    DesiredSpec::ClientSecret(ClientSecret {
                        address: Address::new(env, &at("secret")),
                        mark: mark(&at("secret"), d.protect),
                        application: app.clone(),
                        expires_in_days: days,
                        end_date_time: None,
                        subscription: sub.to_owned(),
                        tenant: tenant.to_owned(),
                        handover: None,
                    }),
                );
            }
            for (permission, app_role_id) in &d.graph_permissions {
                let path = at(&format!("graph.{}", permission.to_ascii_lowercase().replace('.', "-")));
                push(
                    &path,
                    vec![&sp],
                    d.protect,
                    DesiredSpec::GraphPermission(GraphPermission {
                        address: Address::new(env, &path),
                        principal: sp.clone(),
                        permission: permission.clone(),
                        app_role_id: app_role_id.clone(),
                    }),
                );
            }
            let (scope, mut needs) = match d.scope {
                DeployerScope::Subscription => (ResourceId::subscription(sub), vec![&sp]),
                DeployerScope::ResourceGroup => (ResourceId::resource_group(sub, &rg.name), vec![&sp, &group]),
            };
            needs.dedup();
            let principal = PrincipalRef { from: sp.clone(), field: "id".to_owned() };
            let assignment = RoleAssignment::new(scope, &d.role_definition, principal, mark(&at("role"), d.protect));
            push(&at("role"), needs, d.protect, DesiredSpec::RoleAssignment(assignment));
        }
        out
    }
}

impl Spec {
    /// Returns, for each declared resource whose name the spec writes and Azure may refuse
    /// (a registry name is global across Azure), its address and where the name is written.
    pub fn name_positions(&self) -> Vec<(Address, crate::SourceSpan)> {
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
