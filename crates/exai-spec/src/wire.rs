//! The wire form of `exai.yaml`: serde types that mirror the file, each value with its span.
//!
//! Nothing here is validated beyond YAML syntax, types and known keys; that is `convert`'s job,
//! which can then report every problem at once. The doc comments on these types are written for
//! the people who edit `exai.yaml`: they become the descriptions in the JSON Schema, which editors
//! show on hover.
//!
//! Enums the model also uses (SKUs, pool modes) are the model's own, deserialized here directly:
//! their doc comments in `exai-model` are the schema's descriptions.

use exai_model::kinds::{PoolMode, RegistrySku, WorkspaceSku};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

/// A value with the span it was read from.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct Spanned<T>(marked_yaml::Spanned<T>);

impl<T> Spanned<T> {
    /// Returns `value` as written at `span` (a part of a value read as a whole, such as the
    /// name in `monitoring.workspace`).
    pub fn at(span: &marked_yaml::Span, value: T) -> Self {
        Self(marked_yaml::Spanned::new(*span, value))
    }

    /// Returns where the value was written.
    pub fn span(&self) -> &marked_yaml::Span {
        self.0.span()
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: JsonSchema> JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

/// A mapping whose entries keep the file's order.
///
/// Keys are plain strings so that serde_path_to_error records them and every error inside an
/// entry is located precisely; a key's own position comes from `Document::key_span`.
pub type OrderedMap<V> = Vec<(String, V)>;

/// A section that must be written as a YAML mapping.
///
/// serde's derived struct visitors also accept a *sequence* (fields by position), so without
/// this wrapper `resourceGroup: [my-rg]` would be read as `resourceGroup: { name: my-rg }`. A
/// spec is read strictly: a section is a mapping or an error.
#[derive(Debug)]
pub struct Mapping<T>(pub T);

impl<T> std::ops::Deref for Mapping<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Mapping<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MappingVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for MappingVisitor<T> {
            type Value = Mapping<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of `key: value` lines")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Mapping)
            }
        }
        deserializer.deserialize_map(MappingVisitor(PhantomData))
    }
}

impl<T: JsonSchema> JsonSchema for Mapping<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

/// Tags: `key: value` pairs, in the file's order.
pub type TagMap = OrderedMap<Spanned<String>>;

/// The whole file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "exai.yaml",
    description = "The desired state of an Azure platform, read by `exai plan` and `exai apply`."
)]
pub struct SpecFile {
    /// The spec format version. This exai reads version `1`.
    pub version: Spanned<u32>,
    /// The spec's id in ownership marks: everything exai creates is marked with it (and its
    /// address), and no other spec may adopt, change or delete it. 1 to 140 letters, digits,
    /// `-`, `_`, `.` or `/`, starting with a letter or digit, e.g. `my-org/platform`. Defaults to
    /// the first `deployer.github.repository` (or `planner.github.repository`), else the first
    /// environment's name. Changing it hands nothing over: objects marked with the old id are
    /// refused until released.
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    /// The tenant and subscription every environment lives in (an environment may override the
    /// subscription).
    pub azure: Mapping<AzureSection>,
    /// Values every environment inherits unless it sets its own.
    #[serde(default)]
    pub defaults: Option<Mapping<Defaults>>,
    /// The environments, by name (`perso`, `prod`, ...). Each becomes a set of Azure resources
    /// whose addresses start with its name.
    #[serde(deserialize_with = "ordered_map")]
    #[schemars(with = "BTreeMap<String, EnvironmentSection>")]
    pub environments: OrderedMap<Mapping<EnvironmentSection>>,
}

/// `azure:` — where the platform lives.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AzureSection {
    /// The Entra tenant: its id (a GUID) or one of its domains (`contoso.onmicrosoft.com`).
    /// Usually `${AZURE_TENANT_ID}`.
    pub tenant: Spanned<String>,
    /// The subscription id (a GUID). Usually `${AZURE_SUBSCRIPTION_ID}`.
    pub subscription: Spanned<String>,
}

/// `defaults:` — inherited by every environment.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// The Azure region of every resource that does not name one (`francecentral`, or the
    /// display form `France Central`).
    #[serde(default)]
    pub location: Option<Spanned<String>>,
    /// Tags on every resource. Only the keys named here and on resources are managed by exai;
    /// tags others add (Azure Policy, a colleague) are left alone.
    #[serde(default, deserialize_with = "optional_ordered_map")]
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub tags: Option<TagMap>,
}

/// `environments.<name>:` — one copy of the platform.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvironmentSection {
    /// The subscription of this environment, when it differs from `azure.subscription`.
    #[serde(default)]
    pub subscription: Option<Spanned<String>>,
    /// The region of this environment's resources, overriding `defaults.location`.
    #[serde(default)]
    pub location: Option<Spanned<String>>,
    /// Tags on every resource of this environment, on top of `defaults.tags`.
    #[serde(default, deserialize_with = "optional_ordered_map")]
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub tags: Option<TagMap>,
    /// The resource group that holds the environment's resources
    /// (`az group create`).
    pub resource_group: Mapping<ResourceGroupSection>,
    /// The container registry (`az acr create`).
    #[serde(default)]
    pub registry: Option<Mapping<RegistrySection>>,
    /// The Log Analytics workspace the cluster's monitoring sends to.
    #[serde(default)]
    pub monitoring: Option<Mapping<MonitoringSection>>,
    /// The AKS cluster (`az aks create`).
    #[serde(default)]
    pub cluster: Option<Mapping<ClusterSection>>,
    /// The identity GitHub Actions deploys with (`az ad sp create-for-rbac`, done safely).
    #[serde(default)]
    pub deployer: Option<Mapping<DeployerSection>>,
    /// A read-only identity for pull-request plans: Reader, and Graph's `Application.Read.All`.
    #[serde(default)]
    pub planner: Option<Mapping<PlannerSection>>,
    /// The Kubernetes manifests deployed to this environment's cluster: `exai check` and
    /// `exai plan` render the overlay with kustomize and check it against the environment
    /// (Secret keys, images on the registry, namespace, ingress class, ...). exai never applies
    /// them.
    #[serde(default)]
    pub kubernetes: Option<Mapping<KubernetesSection>>,
}

/// `environments.<name>.kubernetes:` — the manifests the deploy workflow applies.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubernetesSection {
    /// The kustomize overlay the deploy renders (`skaffold deploy`, `kubectl apply -k`), relative
    /// to this spec's directory, e.g. `k8s/overlays/azure`.
    pub overlay: Spanned<String>,
    /// The namespace the deploy targets (`skaffold deploy -n exai`), created outside the overlay
    /// (`kubectl create namespace`): objects without a namespace go there, and objects in it need
    /// no `Namespace` in the overlay.
    #[serde(default)]
    pub namespace: Option<Spanned<String>>,
    /// Secrets and ConfigMaps the deploy creates outside the overlay (`kubectl create secret`),
    /// which manifests may reference.
    #[serde(default)]
    pub external: Option<Mapping<ExternalSection>>,
}

/// `kubernetes.external:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExternalSection {
    /// Secrets created outside the overlay, in the deploy's namespace.
    #[serde(default)]
    pub secrets: Option<Vec<Mapping<ExternalObjectSection>>>,
    /// ConfigMaps created outside the overlay, in the deploy's namespace.
    #[serde(default)]
    pub config_maps: Option<Vec<Mapping<ExternalObjectSection>>>,
}

/// `kubernetes.external.secrets[]` and `configMaps[]`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalObjectSection {
    /// Its name, as the manifests reference it.
    pub name: Spanned<String>,
    /// Its keys (never values), so references to them are still checked; when absent, any key
    /// is accepted.
    #[serde(default)]
    pub keys: Option<Vec<Spanned<String>>>,
}

/// `environments.<name>.resourceGroup:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceGroupSection {
    /// The group's name: 1–90 letters, digits, `-`, `_`, `.`, `(`, `)`, not ending with `.`.
    pub name: Spanned<String>,
    /// Its region; the environment's or `defaults.location` when absent.
    #[serde(default)]
    pub location: Option<Spanned<String>>,
    /// Its tags, on top of the environment's and the defaults'.
    #[serde(default, deserialize_with = "optional_ordered_map")]
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub tags: Option<TagMap>,
    /// Never delete or replace this resource, whatever the spec or the flags say.
    #[serde(default)]
    pub protect: Option<Spanned<bool>>,
}

/// `environments.<name>.registry:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RegistrySection {
    /// The registry's name: 5–50 lowercase letters and digits, unique across all of Azure (it
    /// becomes `<name>.azurecr.io`). Either `name` (a registry exai owns) or `id`.
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    /// The id of an existing registry exai uses but does not own (shared between environments,
    /// or built elsewhere): `/subscriptions/<sub>/resourceGroups/<group>/providers/Microsoft.ContainerRegistry/registries/<name>`.
    /// exai reads it and never writes or deletes it; `attachRegistry: true` still grants the
    /// cluster AcrPull on it. No other key goes with `id`.
    #[serde(default)]
    pub id: Option<Spanned<String>>,
    /// `Basic`, `Standard` or `Premium`. Default `Standard`.
    #[serde(default)]
    pub sku: Option<Spanned<RegistrySku>>,
    /// Enable the admin user (a shared username and password). Default `false`: the cluster pulls
    /// with its managed identity instead.
    #[serde(default)]
    pub admin_user_enabled: Option<Spanned<bool>>,
    /// Its region; the environment's when absent.
    #[serde(default)]
    pub location: Option<Spanned<String>>,
    /// Its tags, on top of the environment's and the defaults'.
    #[serde(default, deserialize_with = "optional_ordered_map")]
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub tags: Option<TagMap>,
    /// Never delete or replace this resource.
    #[serde(default)]
    pub protect: Option<Spanned<bool>>,
}

/// `environments.<name>.monitoring:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MonitoringSection {
    /// The Log Analytics workspace: its name (4–63 letters, digits and `-`, starting and ending
    /// with a letter or digit) for one exai owns, or `{ id: <workspace id> }` for an existing one
    /// exai uses but does not own (the `DefaultWorkspace-<sub>-<region>` `az aks create
    /// --enable-addons monitoring` made).
    pub workspace: Spanned<WorkspaceSetting>,
    /// How many days logs are kept: 30 to 730. Default 30. Not with `workspace: { id }`.
    #[serde(default)]
    pub retention_days: Option<Spanned<u32>>,
    /// `PerGB2018` (default) or `CapacityReservation`.
    #[serde(default)]
    pub sku: Option<Spanned<WorkspaceSku>>,
    /// Its region; the environment's when absent.
    #[serde(default)]
    pub location: Option<Spanned<String>>,
    /// Its tags, on top of the environment's and the defaults'.
    #[serde(default, deserialize_with = "optional_ordered_map")]
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub tags: Option<TagMap>,
    /// Never delete or replace this resource.
    #[serde(default)]
    pub protect: Option<Spanned<bool>>,
}

/// `monitoring.workspace`: a name, or `{ id }`.
#[derive(Debug)]
pub enum WorkspaceSetting {
    /// The name of a workspace exai owns, in the environment's group.
    Name(String),
    /// An existing workspace exai uses but does not own.
    Reference(ReferenceSection),
}

impl<'de> Deserialize<'de> for WorkspaceSetting {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SettingVisitor;
        impl<'de> Visitor<'de> for SettingVisitor {
            type Value = WorkspaceSetting;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a workspace name or `{ id: <workspace id> }`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(WorkspaceSetting::Name(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                ReferenceSection::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(WorkspaceSetting::Reference)
            }
        }
        deserializer.deserialize_any(SettingVisitor)
    }
}

impl JsonSchema for WorkspaceSetting {
    fn schema_name() -> Cow<'static, str> {
        "WorkspaceSetting".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let reference = generator.subschema_for::<ReferenceSection>();
        json_schema!({
            "description": "The Log Analytics workspace: its name (4–63 letters, digits and `-`) for one exai owns, or `{ id: <workspace id> }` for an existing one exai uses but does not own.",
            "anyOf": [
                { "type": "string", "description": "The name of a workspace exai owns, in the environment's resource group." },
                reference
            ]
        })
    }
}

/// `{ id }`: an existing object exai uses but does not own.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferenceSection {
    /// The object's Azure id, `/subscriptions/<sub>/resourceGroups/<group>/providers/<type>/<name>`.
    /// exai reads it and never writes or deletes it.
    pub id: Spanned<String>,
}

/// The kind of identity a cluster runs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum ClusterIdentity {
    /// A system-assigned managed identity (`--enable-managed-identity`).
    SystemAssigned,
}

/// `environments.<name>.cluster:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterSection {
    /// The cluster's name: 1–63 letters, digits, `-` and `_`, starting and ending with a letter or
    /// digit.
    pub name: Spanned<String>,
    /// The Kubernetes version (`1.33` or `1.33.2`); Azure's default when absent, and then upgrades
    /// are not managed by exai.
    #[serde(default)]
    pub kubernetes_version: Option<Spanned<String>>,
    /// The DNS prefix of the API server: 1–54 letters, digits and `-`, starting and ending with a
    /// letter or digit. Derived from the cluster and group names when absent, like `az aks create`
    /// does. Cannot change once the cluster exists.
    #[serde(default)]
    pub dns_prefix: Option<Spanned<String>>,
    /// `SystemAssigned` (default): a managed identity, no secret to rotate.
    #[serde(default)]
    pub identity: Option<Spanned<ClusterIdentity>>,
    /// The node pools; at least one, and at least one in `System` mode.
    pub node_pools: Spanned<Vec<Mapping<NodePoolSection>>>,
    /// Let the cluster's kubelet identity pull from this environment's registry (AcrPull role
    /// assignment, `--attach-acr`). Needs `registry:`.
    #[serde(default)]
    pub attach_registry: Option<Spanned<bool>>,
    /// Send container logs and metrics to this environment's Log Analytics workspace (the
    /// monitoring add-on with a data collection rule, `--enable-addons monitoring`). Needs
    /// `monitoring:`.
    #[serde(default)]
    pub monitoring: Option<Spanned<bool>>,
    /// The ingress controller the cluster runs: `{ appRouting: true }` is AKS's application
    /// routing add-on (a managed NGINX, ingress class `webapprouting.kubernetes.azure.com`).
    #[serde(default)]
    pub ingress: Option<Mapping<IngressSection>>,
    /// The SSH key of the nodes' admin user: `{ publicKeyFile: ~/.ssh/id_rsa.pub }` or
    /// `{ generate: true }`.
    pub ssh: Mapping<SshSection>,
    /// Its region; the environment's when absent.
    #[serde(default)]
    pub location: Option<Spanned<String>>,
    /// Its tags, on top of the environment's and the defaults'.
    #[serde(default, deserialize_with = "optional_ordered_map")]
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub tags: Option<TagMap>,
    /// Never delete or replace this resource.
    #[serde(default)]
    pub protect: Option<Spanned<bool>>,
}

/// `cluster.ingress:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IngressSection {
    /// `true`: AKS's application routing add-on (`ingressProfile.webAppRouting.enabled`), the
    /// managed NGINX ingress controller serving the class `webapprouting.kubernetes.azure.com`;
    /// `false`: the add-on is disabled. Absent: exai leaves the add-on as it is (enabled with
    /// `az aks approuting enable`, it is shown as observed).
    #[serde(default)]
    pub app_routing: Option<Spanned<bool>>,
}

/// `cluster.nodePools[]`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodePoolSection {
    /// The pool's name: a lowercase letter, then up to 11 lowercase letters or digits.
    pub name: Spanned<String>,
    /// How many nodes. With `autoscale` it is only the starting size: the autoscaler owns the
    /// count, and exai never fights it.
    #[serde(default)]
    pub count: Option<Spanned<u32>>,
    /// The VM size, e.g. `Standard_B2s` or `Standard_D4s_v5`.
    pub vm_size: Spanned<String>,
    /// `System` or `User`. Default `System` for the first pool, `User` for the others.
    #[serde(default)]
    pub mode: Option<Spanned<PoolMode>>,
    /// Let the cluster autoscaler size the pool between `min` and `max` nodes.
    #[serde(default)]
    pub autoscale: Option<Mapping<AutoscaleSection>>,
}

/// `cluster.nodePools[].autoscale:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoscaleSection {
    /// The fewest nodes.
    pub min: Spanned<u32>,
    /// The most nodes.
    pub max: Spanned<u32>,
}

/// `cluster.ssh:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SshSection {
    /// A public key file (OpenSSH format), e.g. `~/.ssh/id_rsa.pub`.
    #[serde(default)]
    pub public_key_file: Option<Spanned<String>>,
    /// `true`: exai generates a key pair once, keeps the private key (mode 0600) next to the
    /// spec in `.exai/`, and never overwrites it.
    #[serde(default)]
    pub generate: Option<Spanned<bool>>,
}

/// Where the deployer's role applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum DeployerScope {
    /// The whole subscription (what the recipe does).
    Subscription,
    /// Only the environment's resource group (least privilege).
    ResourceGroup,
}

/// `environments.<name>.deployer:` — the identity GitHub Actions deploys with.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DeployerSection {
    /// The display name of the Entra application and its service principal.
    pub name: Spanned<String>,
    /// The Azure role it gets: a built-in role name (`Contributor`, `AcrPush`, ...) or a role
    /// definition GUID. Optional when `deploy` is given (one of them is required).
    #[serde(default)]
    pub role: Option<Spanned<String>>,
    /// `subscription` or `resourceGroup` (default): where the role applies.
    #[serde(default)]
    pub scope: Option<Spanned<DeployerScope>>,
    /// The least access a deploy needs, each on one resource of the environment:
    /// `{ registry: push, cluster: user }` — AcrPush on the registry (push and pull images) and
    /// the AKS cluster user role on the cluster (`az aks get-credentials`). Without `role`, the
    /// deployer gets nothing else.
    #[serde(default)]
    pub deploy: Option<Mapping<DeployAccessSection>>,
    /// Which GitHub workflows may log in as it, through federated credentials (OIDC, no secret).
    #[serde(default)]
    pub github: Option<Mapping<GitHubSection>>,
    /// `false` (default): no client secret, GitHub logs in with OIDC. `{ expiresInDays: N }`: a
    /// secret is created once and written to a file of mode 0600, never printed.
    #[serde(default)]
    pub client_secret: Option<Spanned<ClientSecretSetting>>,
    /// Microsoft Graph application permissions it is granted (admin consent), by name:
    /// `Application.Read.All` lets a pull-request plan read the deployer's own Entra objects.
    #[serde(default)]
    pub graph_permissions: Option<Vec<Spanned<String>>>,
    /// Never delete this identity.
    #[serde(default)]
    pub protect: Option<Spanned<bool>>,
}

/// `deployer.deploy:` — the deployer's access for deploys, least privilege.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeployAccessSection {
    /// `push`: the `AcrPush` role on the environment's registry (push and pull images; no
    /// management of the registry). Needs `registry:`.
    #[serde(default)]
    pub registry: Option<Spanned<RegistryAccess>>,
    /// `user`: the `Azure Kubernetes Service Cluster User Role` on the environment's cluster
    /// (its user kubeconfig, `az aks get-credentials`). Needs `cluster:`.
    #[serde(default)]
    pub cluster: Option<Spanned<ClusterAccess>>,
}

/// `deploy.registry:` — what the deployer may do with the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum RegistryAccess {
    /// Push and pull images: the `AcrPush` role on the registry.
    Push,
}

/// `deploy.cluster:` — what the deployer may do with the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ClusterAccess {
    /// Fetch the cluster's user kubeconfig (`az aks get-credentials`,
    /// `listClusterUserCredential`): the `Azure Kubernetes Service Cluster User Role` on the
    /// cluster. What `kubectl` may then do is decided inside the cluster (see docs/spec.md).
    User,
}

/// `environments.<name>.planner:` — the identity pull-request workflows plan with. It can read
/// everything a plan reads and change nothing, so a pull request (whose workflow file the
/// pull request itself may change) never holds the deployer's write access.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PlannerSection {
    /// The display name of its Entra application and service principal.
    pub name: Spanned<String>,
    /// Which GitHub workflows may log in as it (usually `pullRequests: true`).
    pub github: Mapping<GitHubSection>,
    /// `subscription` or `resourceGroup`: where it gets Reader; by default the deployer's scope,
    /// else the resource group.
    #[serde(default)]
    pub scope: Option<Spanned<DeployerScope>>,
    /// Never delete this identity.
    #[serde(default)]
    pub protect: Option<Spanned<bool>>,
}

/// `deployer.github:` and `planner.github:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GitHubSection {
    /// The repository, `owner/name`.
    pub repository: Spanned<String>,
    /// Branches whose workflows may log in (`repo:owner/name:ref:refs/heads/<branch>`).
    #[serde(default)]
    pub branches: Option<Vec<Spanned<String>>>,
    /// Let pull-request workflows log in (`repo:owner/name:pull_request`), e.g. to post plans.
    #[serde(default)]
    pub pull_requests: Option<Spanned<bool>>,
    /// GitHub deployment environments whose jobs may log in
    /// (`repo:owner/name:environment:<name>`).
    #[serde(default)]
    pub environments: Option<Vec<Spanned<String>>>,
}

/// `deployer.clientSecret`: `false`, or `{ expiresInDays: N }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientSecretSetting {
    /// No secret (`false`).
    Disabled,
    /// A secret valid for this many days.
    Enabled {
        /// Days until it expires.
        expires_in_days: u32,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ClientSecretMapping {
    expires_in_days: u32,
}

impl<'de> Deserialize<'de> for ClientSecretSetting {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SettingVisitor;
        impl<'de> Visitor<'de> for SettingVisitor {
            type Value = ClientSecretSetting;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`false` or `{ expiresInDays: N }`")
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
                if v {
                    Err(E::invalid_value(serde::de::Unexpected::Bool(true), &self))
                } else {
                    Ok(ClientSecretSetting::Disabled)
                }
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                match v {
                    "false" => Ok(ClientSecretSetting::Disabled),
                    other => Err(E::invalid_value(serde::de::Unexpected::Str(other), &self)),
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let m = ClientSecretMapping::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(ClientSecretSetting::Enabled { expires_in_days: m.expires_in_days })
            }
        }
        deserializer.deserialize_any(SettingVisitor)
    }
}

impl JsonSchema for ClientSecretSetting {
    fn schema_name() -> Cow<'static, str> {
        "ClientSecretSetting".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "`false` (no secret; GitHub logs in with OIDC), or `{ expiresInDays: N }` for a client secret valid N days (1 to 730).",
            "anyOf": [
                { "const": false },
                {
                    "type": "object",
                    "properties": { "expiresInDays": { "type": "integer", "minimum": 1, "maximum": 730, "description": "Days until the secret expires." } },
                    "required": ["expiresInDays"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

fn ordered_map<'de, D, V>(deserializer: D) -> Result<OrderedMap<V>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct OrderedVisitor<V>(PhantomData<V>);
    impl<'de, V: Deserialize<'de>> Visitor<'de> for OrderedVisitor<V> {
        type Value = OrderedMap<V>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a mapping")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(entry) = map.next_entry()? {
                out.push(entry);
            }
            Ok(out)
        }
    }
    deserializer.deserialize_map(OrderedVisitor(PhantomData))
}

fn optional_ordered_map<'de, D, V>(deserializer: D) -> Result<Option<OrderedMap<V>>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    ordered_map(deserializer).map(Some)
}

/// Returns the JSON Schema of `exai.yaml` (draft 2020-12).
pub fn schema() -> Schema {
    schemars::schema_for!(SpecFile)
}
