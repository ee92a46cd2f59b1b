//! `Microsoft.ContainerService/managedClusters`, api-version 2026-08-01.
//!
//! Sources, named where each fact is used:
//! - swagger: azure-rest-api-specs `specification/containerservice/resource-manager/
//!   Microsoft.ContainerService/aks/stable/2026-08-01/managedClusters.json` (read-only flags,
//!   defaults, `dnsPrefix` "cannot be updated once the Managed Cluster has been created");
//! - the official example `ManagedClustersGet.json` (2026-08-01): the shape of a GET;
//! - azure-cli `acs/custom.py` and `acs/managed_cluster_decorator.py`: what `az aks create`
//!   sends, and how `az aks scale` / `az aks upgrade` update a cluster (GET, change the model,
//!   PUT the whole cluster back);
//! - all of it summarized, with index ids and commits, in `docs/azure-facts.md` §3.
//!
//! # What exai owns on a cluster, and what it never compares
//!
//! Owned (compared, written): `location`, `dnsPrefix`, `kubernetesVersion` (only when the spec
//! pins one), `identity.type`, the set of node pool names, per pool (keyed by name, never by
//! array index) `vmSize`, `mode`, `enableAutoScaling`, and `count` for fixed-size pools or
//! `minCount`/`maxCount` for autoscaled ones, the monitoring add-on's `enabled` flag and
//! workspace id, the application routing add-on's `ingressProfile.webAppRouting.enabled` (only
//! when the spec says `cluster.ingress.appRouting`: absent, the add-on is not exai's, see
//! [`Cluster::app_routing`]), and the managed tag keys.
//!
//! Never compared: everything AKS fills in or changes by itself — `eTag`s, `fqdn`,
//! `nodeResourceGroup`, `identityProfile`, `nodeImageVersion`, `powerState`,
//! `provisioningState`, `currentKubernetesVersion`, `currentOrchestratorVersion`,
//! `networkProfile` defaults, `maxAgentPools`, `upgradeSettings`, what the application routing
//! add-on holds besides `enabled` (its `identity`, `dnsZoneResourceIds`, `nginx`), and the `count` of an
//! autoscaled pool, which belongs to the cluster autoscaler (fighting it is the classic AKS
//! drift loop). The SSH key is written at creation but not owned afterwards: a key generated on
//! one machine must not show as a change on another.
//!
//! # How an update is written
//!
//! A change of the managed tags alone is AKS's tags PATCH (`ManagedClusters_UpdateTags`,
//! `PATCH .../managedClusters/{name}` with a `TagsObject`, a long-running operation): a PUT is a
//! full reconcile of the cluster, which takes minutes, for a change that touches nothing running.
//!
//! Any other change is a read-modify-write, like `az aks scale` and `az aks upgrade`: the live
//! GET document projected onto its *writable* members ([`writable_members`]: every member the
//! swagger marks `readOnly` is left out, from the sourced list in
//! `fixtures/read_only.txt`), with the owned fields set, PUT back whole. Every
//! field exai does not own keeps the value Azure holds, so nothing set outside exai is reset;
//! `kubernetesVersion` is written only when the spec pins one. The PUT carries
//! `If-Match: <live eTag>` ([`Cluster::if_match`]) so a change made between the read and the
//! write fails with 412 instead of being overwritten.

use super::common::{foreign_tags, insert_desired_tags, insert_live_tags, live_tags};
use crate::{Address, ApiRequest, Kind, Known, LiveResource, Location, Method, OwnedFields, ResourceId, Tags};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// The JSON pointer of the public key line in the value of a cluster's SSH key input
/// ([`Cluster::ssh_key_input`]): `{"publicKey": "ssh-rsa AAAA..."}`.
pub const SSH_PUBLIC_KEY_POINTER: &str = "/publicKey";

/// The ARM type of a managed cluster, as `fixtures/read_only.txt` names its section.
const RESOURCE_TYPE: &str = "Microsoft.ContainerService/managedClusters";

/// Returns the paths of the members of a `ManagedCluster` the swagger marks `readOnly`
/// (api-version 2026-08-01), e.g. `properties.networkProfile.loadBalancerProfile.effectiveOutboundIPs`;
/// `*` stands for every item of an array or value of a map. The sourced list is the cluster's
/// section of `fixtures/read_only.txt` ([`super::read_only_paths_of`]).
pub fn read_only_paths() -> impl Iterator<Item = &'static str> {
    super::read_only_paths_of(RESOURCE_TYPE)
}

/// Returns `document` (a managed cluster as a GET returns it) without the members the swagger
/// marks `readOnly` ([`read_only_paths`]): what a PUT may carry back.
pub fn writable_members(document: &Value) -> Value {
    let mut body = document.clone();
    for path in read_only_paths() {
        let segments: Vec<&str> = path.split('.').collect();
        remove_path(&mut body, &segments);
    }
    body
}

/// Returns the read-only paths of a managed cluster ([`read_only_paths`]) that `body` holds,
/// spelled with the array index or map key found (`properties.agentPoolProfiles.0.eTag`).
pub fn read_only_members_in(body: &Value) -> Vec<String> {
    super::read_only_members_of(RESOURCE_TYPE, body)
}

fn remove_path(value: &mut Value, segments: &[&str]) {
    let [first, rest @ ..] = segments else { return };
    match (value, *first) {
        (Value::Array(items), "*") => items.iter_mut().for_each(|item| remove_path(item, rest)),
        (Value::Object(map), "*") => map.values_mut().for_each(|item| remove_path(item, rest)),
        (Value::Object(map), name) if rest.is_empty() => {
            map.remove(name);
        }
        (Value::Object(map), name) => {
            if let Some(inner) = map.get_mut(name) {
                remove_path(inner, rest);
            }
        }
        _ => {}
    }
}

pub(super) fn find_path(value: &Value, segments: &[&str], at: String, found: &mut Vec<String>) {
    let [first, rest @ ..] = segments else {
        found.push(at);
        return;
    };
    let join = |key: &str| if at.is_empty() { key.to_owned() } else { format!("{at}.{key}") };
    match (value, *first) {
        (Value::Array(items), "*") => {
            items.iter().enumerate().for_each(|(i, item)| find_path(item, rest, join(&i.to_string()), found))
        }
        (Value::Object(map), "*") => map.iter().for_each(|(k, item)| find_path(item, rest, join(k), found)),
        (Value::Object(map), name) => {
            if let Some(inner) = map.get(name) {
                find_path(inner, rest, join(name), found);
            }
        }
        _ => {}
    }
}

/// A node pool's mode.
// exai-spec deserializes it directly (`nodePools[].mode`): these doc comments are the descriptions
// in the spec's JSON Schema, written for people who edit `exai.yaml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum PoolMode {
    /// Runs system pods; a cluster needs at least one.
    System,
    /// Runs workloads only.
    User,
}

impl PoolMode {
    /// Returns the value of `mode` on the wire (swagger enum `AgentPoolMode`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "System",
            Self::User => "User",
        }
    }
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
    /// The cluster's address (`perso.cluster`): names its SSH key input and key files.
    pub address: Address,
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
    /// AKS's application routing add-on (`ingressProfile.webAppRouting.enabled`): the managed
    /// NGINX ingress controller, class [`Cluster::APP_ROUTING_CLASS`]. `Some(true)` enables it,
    /// `Some(false)` disables it; `None` (the spec does not say `cluster.ingress.appRouting`)
    /// leaves it as it is, never compared nor written: an add-on someone turned on with
    /// `az aks approuting enable` is not disabled by a spec that never mentioned it (it shows
    /// as observed). Whether a controller serves the class is `== Some(true)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_routing: Option<bool>,
    /// The managed tags.
    pub tags: Tags,
    /// The OpenSSH public key line (`ssh-rsa AAAA...`) resolved from [`Cluster::ssh`], only for a
    /// cluster that will be created (`exai_executor::prepare_ssh_keys` reads the file, or the
    /// pair generated earlier): the key is an input of creation only, never compared. When it is
    /// `None` the create body carries a placeholder for the input [`Cluster::ssh_key_input`],
    /// which `exai apply` fills with the key pair it generates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh_public_key: Option<String>,
}

/// The user name `az aks create` gives the nodes' administrator (`admin_username="azureuser"`
/// in `aks_create`'s signature; docs/azure-facts.md §3).
pub const ADMIN_USERNAME: &str = "azureuser";

/// The monitoring add-on's key in `addonProfiles` (azure-cli `acs/_consts.py`
/// `CONST_MONITORING_ADDON_NAME = "omsagent"`; docs/azure-facts.md §3).
pub const MONITORING_ADDON: &str = "omsagent";

/// The add-on config key holding the workspace id (`acs/_consts.py`
/// `CONST_MONITORING_LOG_ANALYTICS_WORKSPACE_RESOURCE_ID`; docs/azure-facts.md §3).
pub const MONITORING_WORKSPACE_KEY: &str = "logAnalyticsWorkspaceResourceID";

/// The add-on config key selecting managed-identity authentication (`acs/_consts.py`
/// `CONST_MONITORING_USING_AAD_MSI_AUTH`; MSI auth is `az aks create`'s default; docs/azure-facts.md §3d).
pub const MONITORING_AAD_AUTH_KEY: &str = "useAADAuth";

/// Returns `properties.ingressProfile.webAppRouting.enabled` of a GET response; absent (no
/// ingress profile, as AKS answers for a cluster that never had the add-on) is `false`.
fn live_app_routing(document: &Value) -> bool {
    document.pointer("/properties/ingressProfile/webAppRouting/enabled").and_then(Value::as_bool).unwrap_or(false)
}

/// Members of an agent pool profile never echoed in a read-modify-write body although the
/// swagger does not mark them `readOnly`: `status` holds read-only information, and setting
/// `nodeImageVersion` "triggers an agentPool rollback" (swagger 2026-08-01).
const NEVER_ECHOED_POOL_MEMBERS: [&str; 2] = ["status", "nodeImageVersion"];

/// Returns `live` when it names the same thing as `desired` ignoring ASCII case, spelled as
/// `desired`; otherwise `live` as is. Azure returns ids, VM sizes and enum values in casings of
/// its own choosing; a casing difference is not a change.
fn same_spelling(live: &str, desired: &str) -> Value {
    Value::from(if live.eq_ignore_ascii_case(desired) { desired } else { live })
}

/// Returns the member of `object` named `key`, matched case-insensitively (AKS has returned
/// add-on names and config keys in other casings, e.g. `omsAgent`).
fn get_ignore_case<'a>(object: &'a Map<String, Value>, key: &str) -> Option<(&'a String, &'a Value)> {
    object.get_key_value(key).or_else(|| object.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
}

fn live_pools(document: &Value) -> Vec<&Map<String, Value>> {
    document
        .pointer("/properties/agentPoolProfiles")
        .and_then(Value::as_array)
        .map(|pools| pools.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default()
}

fn pool_name(pool: &Map<String, Value>) -> Option<&str> {
    pool.get("name").and_then(Value::as_str)
}

impl Cluster {
    /// The ingress class the application routing add-on serves (learn.microsoft.com, "Managed
    /// NGINX ingress with the application routing add-on").
    pub const APP_ROUTING_CLASS: &'static str = "webapprouting.kubernetes.azure.com";

    /// The owned field of the application routing add-on, as plans name it: swagger 2026-08-01
    /// `ManagedClusterProperties.ingressProfile` (`ManagedClusterIngressProfile`) →
    /// `webAppRouting` (`ManagedClusterIngressProfileWebAppRouting`) → `enabled`, "Whether to
    /// enable the Application Routing add-on" (docs/azure-facts.md §3e).
    pub const APP_ROUTING_FIELD: &'static str = "ingressProfile.webAppRouting.enabled";

    /// The Azure resource type.
    pub const AZURE_TYPE: &'static str = "Microsoft.ContainerService/managedClusters";
    /// The api-version exai speaks for clusters (latest stable, docs/azure-facts.md §0).
    pub const API_VERSION: &'static str = "2026-08-01";

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

    /// Returns the GET that reads the cluster (404 `ResourceNotFound` when absent).
    pub fn read_request(&self) -> ApiRequest {
        ApiRequest::arm(Method::Get, self.id().as_str(), Self::API_VERSION, None)
    }

    /// Returns the agent pool profile `az aks create` sends for `pool` (docs/azure-facts.md §3: `name`,
    /// `count`, `vmSize`, `osType: Linux`, `mode`, `type: VirtualMachineScaleSets`; with
    /// `--enable-cluster-autoscaler` also `enableAutoScaling`, `minCount`, `maxCount`, the count
    /// being the initial size).
    fn pool_profile(pool: &NodePool) -> Value {
        let mut profile = json!({
            "name": pool.name,
            "vmSize": pool.vm_size,
            "osType": "Linux",
            "mode": pool.mode.as_str(),
            "type": "VirtualMachineScaleSets",
        });
        match pool.size {
            PoolSize::Fixed { count } => {
                profile["count"] = json!(count);
            }
            PoolSize::Autoscale { min, max, initial } => {
                profile["count"] = json!(initial);
                profile["enableAutoScaling"] = json!(true);
                profile["minCount"] = json!(min);
                profile["maxCount"] = json!(max);
            }
        }
        profile
    }

    /// Returns the monitoring add-on's profile when monitoring is on (docs/azure-facts.md §3d:
    /// `build_monitoring_addon_profile`, MSI auth on, the flag serialized as the string `"true"`).
    fn monitoring_profile(&self) -> Option<Value> {
        self.monitoring_workspace.as_ref().map(|workspace| {
            json!({
                "enabled": true,
                "config": { MONITORING_WORKSPACE_KEY: workspace.as_str(), MONITORING_AAD_AUTH_KEY: "true" },
            })
        })
    }

    /// Returns the body `az aks create` sends for the recipe (docs/azure-facts.md §3 "Reconstructed body"),
    /// with the managed tags. `kubernetesVersion` is sent only when pinned (AKS then picks its
    /// default version); the `sku`, `networkProfile` and every other server default are left
    /// to Azure.
    pub fn create_body(&self) -> Value {
        let mut properties = Map::new();
        if let Some(version) = &self.kubernetes_version {
            properties.insert("kubernetesVersion".into(), json!(version));
        }
        properties.insert("dnsPrefix".into(), json!(self.dns_prefix));
        properties
            .insert("agentPoolProfiles".into(), Value::Array(self.node_pools.iter().map(Self::pool_profile).collect()));
        properties.insert(
            "linuxProfile".into(),
            json!({
                "adminUsername": ADMIN_USERNAME,
                "ssh": { "publicKeys": [ { "keyData": self.key_data() } ] },
            }),
        );
        if let Some(addon) = self.monitoring_profile() {
            properties.insert("addonProfiles".into(), json!({ MONITORING_ADDON: addon }));
        }
        // As `az aks create --enable-app-routing` and the official example
        // `ManagedClustersCreate_IngressProfile_WebAppRouting.json`; without it AKS creates no
        // add-on, so a cluster declared without one sends nothing.
        if self.app_routing == Some(true) {
            properties.insert("ingressProfile".into(), json!({ "webAppRouting": { "enabled": true } }));
        }
        properties.insert("enableRBAC".into(), json!(true));
        json!({
            "location": self.location.as_str(),
            "tags": self.tags,
            "identity": { "type": "SystemAssigned" },
            "properties": properties,
        })
    }

    /// Returns the name under which `exai apply` provides the SSH public key it generates for
    /// this cluster (`perso.cluster.ssh-key`): the create body holds a placeholder for
    /// [`SSH_PUBLIC_KEY_POINTER`] of it until the key exists.
    pub fn ssh_key_input(&self) -> String {
        format!("{}.ssh-key", self.address)
    }

    /// Returns `keyData`: the resolved key, or a placeholder for the key `exai apply` provides.
    fn key_data(&self) -> Value {
        match &self.ssh_public_key {
            Some(key) => json!(key),
            None => crate::placeholder(&self.ssh_key_input(), SSH_PUBLIC_KEY_POINTER),
        }
    }

    /// Returns the PUT that creates the cluster (a long-running operation: 201 +
    /// `Azure-AsyncOperation`, docs/azure-facts.md §3).
    pub fn create_request(&self) -> ApiRequest {
        ApiRequest::arm(Method::Put, self.id().as_str(), Self::API_VERSION, Some(self.create_body()))
    }

    /// Returns the entity tag of `live`, to send as `If-Match` with an update (the PUT accepts
    /// `If-Match`, docs/azure-facts.md §3; the emulator answers a stale one with 412).
    pub fn if_match(live: &LiveResource) -> Option<String> {
        live.document.get("eTag").and_then(Value::as_str).map(str::to_owned)
    }

    /// Returns the body of the read-modify-write that brings `live` to the owned fields.
    ///
    /// Starts from the live document's writable members ([`writable_members`]), removes the
    /// `servicePrincipalProfile` (which `az aks scale`/`az aks upgrade` null out "because
    /// otherwise validation complains"; a managed-identity cluster shows `clientId: "msi"`
    /// there) and the Kubernetes versions unless the spec pins one (exai does not mean to write
    /// a version it does not own: AKS keeps the current one), then sets the owned fields. A
    /// pool's `vmSize` is never written (AKS cannot resize a pool in place:
    /// [`Kind::unsupported_change`]), pools the spec adds or removes are left as they are
    /// (likewise), and the `count` of an autoscaled pool stays the autoscaler's unless it falls
    /// outside the new bounds. The application routing add-on's `enabled` is set only when the
    /// spec says it, the rest of its profile (DNS zones, NGINX settings) kept as AKS holds it,
    /// as `az aks approuting enable`/`disable` do.
    pub fn update_body(&self, live: &Value) -> Value {
        let mut body = writable_members(live);
        let Some(root) = body.as_object_mut() else {
            return self.create_body();
        };
        root.insert("location".into(), json!(self.location.as_str()));
        root.insert("tags".into(), json!(live_tags(live).merged_with(&self.tags)));

        let identity = root.entry("identity").or_insert_with(|| json!({}));
        if let Some(identity) = identity.as_object_mut() {
            identity.insert("type".into(), json!("SystemAssigned"));
        }

        let properties = root.entry("properties").or_insert_with(|| json!({}));
        let Some(properties) = properties.as_object_mut() else {
            return self.create_body();
        };
        // `status` "contains read-only information" (swagger), though not flagged `readOnly`.
        properties.remove("status");
        properties.remove("servicePrincipalProfile");
        properties.insert("dnsPrefix".into(), json!(self.dns_prefix));

        // A version change upgrades the control plane and every pool, as `az aks upgrade` does
        // by default (`agent_profile.orchestrator_version = kubernetes_version` for each pool).
        // An unpinned version is not exai's to write: left out, AKS keeps the current one.
        let live_version = properties.get("kubernetesVersion").and_then(Value::as_str).map(str::to_owned);
        let upgrade_to = self.kubernetes_version.as_deref().filter(|wanted| live_version.as_deref() != Some(*wanted));
        match &self.kubernetes_version {
            Some(version) => {
                properties.insert("kubernetesVersion".into(), json!(version));
            }
            None => {
                properties.remove("kubernetesVersion");
            }
        }

        if let Some(pools) = properties.get_mut("agentPoolProfiles").and_then(Value::as_array_mut) {
            for pool in pools.iter_mut().filter_map(Value::as_object_mut) {
                for member in NEVER_ECHOED_POOL_MEMBERS {
                    pool.remove(member);
                }
                match (upgrade_to, &self.kubernetes_version) {
                    (Some(version), _) => {
                        pool.insert("orchestratorVersion".into(), json!(version));
                    }
                    (None, Some(_)) => {}
                    (None, None) => {
                        pool.remove("orchestratorVersion");
                    }
                }
                let Some(wanted) = self.node_pools.iter().find(|p| Some(p.name.as_str()) == pool_name(pool)) else {
                    continue;
                };
                pool.insert("mode".into(), json!(wanted.mode.as_str()));
                match wanted.size {
                    PoolSize::Fixed { count } => {
                        // As `az aks update --disable-cluster-autoscaler`: the bounds go with it.
                        pool.insert("count".into(), json!(count));
                        pool.insert("enableAutoScaling".into(), json!(false));
                        pool.remove("minCount");
                        pool.remove("maxCount");
                    }
                    PoolSize::Autoscale { min, max, .. } => {
                        pool.insert("enableAutoScaling".into(), json!(true));
                        pool.insert("minCount".into(), json!(min));
                        pool.insert("maxCount".into(), json!(max));
                        let count = pool.get("count").and_then(Value::as_u64);
                        let clamped = count.map_or(u64::from(min), |c| c.clamp(u64::from(min), u64::from(max)));
                        if count != Some(clamped) {
                            pool.insert("count".into(), json!(clamped));
                        }
                    }
                }
            }
        }

        let addons = properties.entry("addonProfiles").or_insert_with(|| json!({}));
        if let Some(addons) = addons.as_object_mut() {
            let key = get_ignore_case(addons, MONITORING_ADDON).map(|(k, _)| k.clone());
            match (self.monitoring_profile(), key) {
                (Some(wanted), Some(key)) => {
                    let addon = addons.entry(key).or_insert_with(|| json!({}));
                    addon["enabled"] = json!(true);
                    let config = addon.as_object_mut().map(|a| a.entry("config").or_insert_with(|| json!({})));
                    if let Some(config) = config.and_then(Value::as_object_mut) {
                        config.retain(|k, _| !k.eq_ignore_ascii_case(MONITORING_WORKSPACE_KEY));
                        config.insert(
                            MONITORING_WORKSPACE_KEY.into(),
                            wanted["config"][MONITORING_WORKSPACE_KEY].clone(),
                        );
                        if get_ignore_case(config, MONITORING_AAD_AUTH_KEY).is_none() {
                            config.insert(MONITORING_AAD_AUTH_KEY.into(), json!("true"));
                        }
                    }
                }
                (Some(wanted), None) => {
                    addons.insert(MONITORING_ADDON.into(), wanted);
                }
                // As `az aks disable-addons monitoring`: the profile becomes `enabled: false`.
                (None, Some(key)) => {
                    addons.insert(key, json!({ "enabled": false }));
                }
                (None, None) => {}
            }
        }

        if let Some(enabled) = self.app_routing {
            let ingress = properties.entry("ingressProfile").or_insert_with(|| json!({}));
            if !ingress.is_object() {
                *ingress = json!({});
            }
            let routing = &mut ingress["webAppRouting"];
            if !routing.is_object() {
                *routing = json!({});
            }
            routing["enabled"] = json!(enabled);
        }
        body
    }

    /// Returns true when the owned fields of `live` differ from the declared ones in managed
    /// tags only.
    pub fn only_tags_differ(&self, live: &Value) -> bool {
        let desired = self.desired_fields();
        let current = self.live_fields(live);
        let mut differing = desired.keys().chain(current.keys()).filter(|k| desired.get(*k) != current.get(*k));
        let mut any = false;
        let all_tags = differing.all(|path| {
            any = true;
            path.starts_with("tags.")
        });
        any && all_tags
    }

    /// Returns the request that brings `live` to the owned fields: AKS's tags PATCH
    /// (`ManagedClusters_UpdateTags`, body `{"tags": ...}`, the live tags merged with the managed
    /// ones, so tags set by others stay) when only managed tags differ; otherwise the PUT of
    /// [`Cluster::update_body`] with `If-Match: <live eTag>`, so a change made between the read
    /// and this write makes Azure answer 412 instead of being overwritten.
    pub fn update_request(&self, live: &LiveResource) -> ApiRequest {
        if self.only_tags_differ(&live.document) {
            let body = json!({ "tags": live_tags(&live.document).merged_with(&self.tags) });
            return ApiRequest::arm(Method::Patch, self.id().as_str(), Self::API_VERSION, Some(body));
        }
        let request =
            ApiRequest::arm(Method::Put, self.id().as_str(), Self::API_VERSION, Some(self.update_body(&live.document)));
        match Self::if_match(live) {
            Some(etag) => request.if_match(&etag),
            None => request,
        }
    }

    /// Returns the sorted names of the declared pools.
    fn pool_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.node_pools.iter().map(|p| p.name.clone()).collect();
        names.sort();
        names
    }

    /// Returns the owned fields as declared.
    pub fn desired_fields(&self) -> OwnedFields {
        let mut fields = OwnedFields::new();
        fields.insert("location".into(), json!(self.location.as_str()));
        fields.insert("dnsPrefix".into(), json!(self.dns_prefix));
        if let Some(version) = &self.kubernetes_version {
            fields.insert("kubernetesVersion".into(), json!(version));
        }
        fields.insert("identity.type".into(), json!("SystemAssigned"));
        fields.insert("agentPoolProfiles".into(), json!(self.pool_names()));
        for pool in &self.node_pools {
            let at = |field: &str| format!("agentPoolProfiles.{}.{field}", pool.name);
            fields.insert(at("vmSize"), json!(pool.vm_size));
            fields.insert(at("mode"), json!(pool.mode.as_str()));
            match pool.size {
                PoolSize::Fixed { count } => {
                    fields.insert(at("enableAutoScaling"), json!(false));
                    fields.insert(at("count"), json!(count));
                }
                PoolSize::Autoscale { min, max, .. } => {
                    fields.insert(at("enableAutoScaling"), json!(true));
                    fields.insert(at("minCount"), json!(min));
                    fields.insert(at("maxCount"), json!(max));
                }
            }
        }
        let addon = format!("addonProfiles.{MONITORING_ADDON}");
        fields.insert(format!("{addon}.enabled"), json!(self.monitoring_workspace.is_some()));
        if let Some(workspace) = &self.monitoring_workspace {
            fields.insert(format!("{addon}.config.{MONITORING_WORKSPACE_KEY}"), json!(workspace.as_str()));
        }
        if let Some(enabled) = self.app_routing {
            fields.insert(Self::APP_ROUTING_FIELD.into(), json!(enabled));
        }
        insert_desired_tags(&mut fields, &self.tags);
        fields
    }

    /// Returns the owned fields as `document` (a GET response) holds them, normalized: region
    /// spelling, casing of ids, VM sizes, enum values, add-on names and config keys, tag keys.
    /// An absent `enableAutoScaling` or add-on `enabled` is `false` (their meaning when unset);
    /// an absent pool `mode` is AKS's default, `System` for the first pool and `User` for the
    /// others (UNVERIFIED for Azure; the emulator does the same, and the official example
    /// `ManagedClustersGet.json` has a single pool without `mode`).
    pub fn live_fields(&self, document: &Value) -> OwnedFields {
        let mut fields = OwnedFields::new();
        let string = |pointer: &str| document.pointer(pointer).and_then(Value::as_str);
        if let Some(location) = string("/location") {
            fields.insert("location".into(), json!(Location::from_azure(location).as_str()));
        }
        if let Some(prefix) = string("/properties/dnsPrefix") {
            fields.insert("dnsPrefix".into(), json!(prefix));
        }
        if let (Some(_), Some(version)) = (&self.kubernetes_version, string("/properties/kubernetesVersion")) {
            fields.insert("kubernetesVersion".into(), json!(version));
        }
        if let Some(kind) = string("/identity/type") {
            fields.insert("identity.type".into(), same_spelling(kind, "SystemAssigned"));
        }
        let pools = live_pools(document);
        let mut names: Vec<String> = pools.iter().filter_map(|p| pool_name(p)).map(str::to_owned).collect();
        names.sort();
        fields.insert("agentPoolProfiles".into(), json!(names));
        for (index, pool) in pools.iter().enumerate() {
            let Some(wanted) = self.node_pools.iter().find(|p| Some(p.name.as_str()) == pool_name(pool)) else {
                continue;
            };
            let at = |field: &str| format!("agentPoolProfiles.{}.{field}", wanted.name);
            if let Some(size) = pool.get("vmSize").and_then(Value::as_str) {
                fields.insert(at("vmSize"), same_spelling(size, &wanted.vm_size));
            }
            let default_mode = if index == 0 { "System" } else { "User" };
            let mode = pool.get("mode").and_then(Value::as_str).unwrap_or(default_mode);
            fields.insert(at("mode"), same_spelling(mode, wanted.mode.as_str()));
            let autoscaled = pool.get("enableAutoScaling").and_then(Value::as_bool).unwrap_or(false);
            fields.insert(at("enableAutoScaling"), json!(autoscaled));
            let number = |member: &str| pool.get(member).filter(|v| v.is_u64()).cloned();
            match wanted.size {
                PoolSize::Fixed { .. } => {
                    if let Some(count) = number("count") {
                        fields.insert(at("count"), count);
                    }
                }
                PoolSize::Autoscale { .. } => {
                    for member in ["minCount", "maxCount"] {
                        if let Some(value) = number(member) {
                            fields.insert(at(member), value);
                        }
                    }
                }
            }
        }
        let addon_path = format!("addonProfiles.{MONITORING_ADDON}");
        let addon = document
            .pointer("/properties/addonProfiles")
            .and_then(Value::as_object)
            .and_then(|addons| get_ignore_case(addons, MONITORING_ADDON))
            .and_then(|(_, addon)| addon.as_object());
        let enabled = addon.and_then(|a| a.get("enabled")).and_then(Value::as_bool).unwrap_or(false);
        fields.insert(format!("{addon_path}.enabled"), json!(enabled));
        if let Some(workspace) = &self.monitoring_workspace {
            let live_workspace = addon
                .and_then(|a| a.get("config"))
                .and_then(Value::as_object)
                .and_then(|config| get_ignore_case(config, MONITORING_WORKSPACE_KEY))
                .and_then(|(_, v)| v.as_str());
            if let Some(live_workspace) = live_workspace {
                fields.insert(
                    format!("{addon_path}.config.{MONITORING_WORKSPACE_KEY}"),
                    same_spelling(live_workspace, workspace.as_str()),
                );
            }
        }
        if self.app_routing.is_some() {
            fields.insert(Self::APP_ROUTING_FIELD.into(), json!(live_app_routing(document)));
        }
        insert_live_tags(&mut fields, &self.tags, document);
        fields
    }

    /// Returns what `document` holds that exai does not manage but a reviewer may want to see:
    /// the tags the spec does not name, the node count the autoscaler chose for each
    /// autoscaled pool, and the application routing add-on when it is on but the spec does not
    /// manage it (an Ingress of its class works there, though the spec does not say so).
    pub fn observed(&self, document: &Value) -> OwnedFields {
        let mut observed = foreign_tags(&self.tags, document);
        if self.app_routing.is_none() && live_app_routing(document) {
            observed.insert(Self::APP_ROUTING_FIELD.into(), json!(true));
        }
        for pool in live_pools(document) {
            // The autoscaler's count within the declared bounds is the autoscaler doing its job,
            // nothing a reviewer can act on; outside them (bounds just changed, autoscaling
            // turned off by hand), it is worth a look.
            let outside_bounds = |count: &Value| {
                self.node_pools.iter().any(|p| match p.size {
                    PoolSize::Autoscale { min, max, .. } => {
                        Some(p.name.as_str()) == pool_name(pool)
                            && count.as_u64().is_none_or(|n| n < u64::from(min) || n > u64::from(max))
                    }
                    PoolSize::Fixed { .. } => false,
                })
            };
            if let (Some(name), Some(count)) = (pool_name(pool), pool.get("count").filter(|c| outside_bounds(c))) {
                observed.insert(format!("agentPoolProfiles.{name}.count"), count.clone());
            }
        }
        observed
    }

    /// Returns why a change of `path` forces the cluster to be replaced.
    ///
    /// `location`: a tracked resource's region cannot change; ARM refuses a PUT of an existing
    /// resource in another region (`InvalidResourceLocation`, UNVERIFIED: not in the facts file).
    /// `dnsPrefix`: swagger 2026-08-01, "This cannot be updated once the Managed Cluster has been
    /// created."
    pub fn replace_reason(path: &str) -> Option<&'static str> {
        match path {
            "location" => Some("a cluster's region cannot be changed once it is created"),
            "dnsPrefix" => Some("the DNS prefix cannot be updated once the managed cluster has been created"),
            _ => None,
        }
    }

    /// Returns why a change of `path` cannot be made by updating the cluster at all, with what
    /// to do instead. Meant for fields Azure already holds (like [`Cluster::replace_reason`]):
    /// a new pool's `vmSize` is not a resize (the new pool is refused through
    /// `agentPoolProfiles` anyway).
    ///
    /// - `agentPoolProfiles.<pool>.vmSize`: "You can't change the VM size of a node pool after
    ///   you create it" (docs `aks/use-multiple-node-pools.md`, Limitations; resizing in place
    ///   exists only as an opt-in preview, azure-cli-extensions PR #9732).
    /// - `agentPoolProfiles` (the set of pool names): a managed-cluster PUT refuses a new pool
    ///   ("Adding agent pools to an existing cluster is not allowed through managed cluster
    ///   operations. For agent pool specific change, please use per agent pool operations",
    ///   quoted in pulumi/pulumi-azure-native#579); pools are added and deleted through the
    ///   `managedClusters/agentPools` API, which exai does not drive yet.
    pub fn unsupported_change(path: &str) -> Option<&'static str> {
        if path == "agentPoolProfiles" {
            return Some(
                "AKS adds and removes node pools only through its agent pool API, not by updating the cluster, and exai does not do that yet; add or delete the pool with `az aks nodepool add` / `az aks nodepool delete`, then run exai again",
            );
        }
        let pool_field = path.strip_prefix("agentPoolProfiles.").and_then(|rest| rest.split_once('.'));
        if matches!(pool_field, Some((_, "vmSize"))) {
            return Some(
                "AKS cannot change the VM size of an existing node pool; declare a new pool with the new size under a new name, apply, move the workloads (`kubectl drain`), then remove the old pool (a cluster needs at least one System pool throughout)",
            );
        }
        None
    }
}

impl Cluster {
    /// The kind's row in the table of kinds ([`crate::KindName::info`]).
    pub const INFO: crate::KindInfo = crate::KindInfo {
        azure_type: Self::AZURE_TYPE,
        destroy_warning: Some("deleting a cluster deletes every workload running on it, and its node resource group"),
        orphans: crate::Orphans::GroupScan,
        // Asynchronous; the node resource group goes with the cluster.
        deletion: crate::Deletion::Arm(Self::API_VERSION),
        mark_place: crate::MarkPlace::ArmTag,
    };
}

impl Kind for Cluster {
    fn name(&self) -> crate::KindName {
        crate::KindName::Cluster
    }
    fn id(&self) -> Option<ResourceId> {
        Some(Cluster::id(self))
    }
    fn read_request(&self) -> Option<ApiRequest> {
        Some(Cluster::read_request(self))
    }
    fn unknown_values(&self, known: Known<'_>) -> Vec<(String, String)> {
        // The key is an input of creation only: nothing to say about an existing cluster's.
        if self.ssh_public_key.is_some() || known.document(&self.address).is_some() {
            return Vec::new();
        }
        let source = match &self.ssh {
            SshKeySource::Generate => {
                format!("an SSH key pair `exai apply` generates, kept in `.exai/ssh/{}`", self.address)
            }
            SshKeySource::File { path } => format!("read from `{path}` by `exai apply`"),
        };
        vec![("linuxProfile.ssh.publicKeys[0].keyData".to_owned(), source)]
    }
    fn create_requests(&self, _known: Known<'_>) -> Vec<ApiRequest> {
        vec![self.create_request()]
    }
    fn update_requests(&self, live: &LiveResource, _known: Known<'_>) -> Vec<ApiRequest> {
        vec![self.update_request(live)]
    }
    fn desired_fields(&self, _known: Known<'_>) -> OwnedFields {
        Cluster::desired_fields(self)
    }
    fn live_fields(&self, live: &LiveResource) -> OwnedFields {
        Cluster::live_fields(self, &live.document)
    }
    fn replace_reason(&self, path: &str) -> Option<&'static str> {
        Self::replace_reason(path)
    }
    fn unsupported_change(&self, path: &str) -> Option<&'static str> {
        Self::unsupported_change(path)
    }
    fn observed(&self, live: &LiveResource) -> OwnedFields {
        Cluster::observed(self, &live.document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OWNER_TAG;

    const SUB: &str = "ee000000-0000-4000-8000-000000000002";

    fn cluster() -> Cluster {
        let mut tags: Tags = [("project".to_owned(), "exai".to_owned())].into_iter().collect();
        tags.insert(OWNER_TAG, "perso.cluster");
        Cluster {
            address: Address::new("perso", "cluster"),
            subscription: SUB.into(),
            resource_group: "exai-perso-rg".into(),
            name: "exai-perso-aks".into(),
            location: Location::from_azure("francecentral"),
            kubernetes_version: None,
            dns_prefix: "exai-perso-exai-perso-rg-ee0000".into(),
            node_pools: vec![
                NodePool {
                    name: "nodepool1".into(),
                    vm_size: "Standard_B2s".into(),
                    mode: PoolMode::System,
                    size: PoolSize::Fixed { count: 1 },
                },
                NodePool {
                    name: "work".into(),
                    vm_size: "Standard_D4s_v5".into(),
                    mode: PoolMode::User,
                    size: PoolSize::Autoscale { min: 1, max: 5, initial: 2 },
                },
            ],
            ssh: SshKeySource::Generate,
            monitoring_workspace: Some(ResourceId::in_group(
                SUB,
                "exai-perso-rg",
                "Microsoft.OperationalInsights/workspaces",
                "exai-perso-logs",
            )),
            app_routing: None,
            tags,
            ssh_public_key: Some("ssh-rsa AAAAB3NzaC1yc2E test".into()),
        }
    }

    /// What AKS returns once `create_body` was applied: server-filled members, other casings.
    fn live() -> Value {
        json!({
            "id": format!("/subscriptions/{SUB}/resourcegroups/exai-perso-rg/providers/Microsoft.ContainerService/managedClusters/exai-perso-aks"),
            "name": "exai-perso-aks",
            "type": "Microsoft.ContainerService/managedClusters",
            "location": "France Central",
            "eTag": "etag-1",
            "tags": {"Project": "exai", "exai-owner": "perso.cluster", "costCenter": "42"},
            "identity": {"type": "SystemAssigned", "principalId": "p", "tenantId": "t"},
            "sku": {"name": "Base", "tier": "Free"},
            "properties": {
                "provisioningState": "Succeeded",
                "powerState": {"code": "Running"},
                "kubernetesVersion": "1.33.5",
                "currentKubernetesVersion": "1.33.5",
                "dnsPrefix": "exai-perso-exai-perso-rg-ee0000",
                "fqdn": "exai-perso-exai-perso-rg-ee0000-1234abcd.hcp.francecentral.azmk8s.io",
                "agentPoolProfiles": [
                    {"name": "work", "count": 4, "vmSize": "standard_d4s_v5", "mode": "User", "enableAutoScaling": true,
                     "minCount": 1, "maxCount": 5, "eTag": "p2", "nodeImageVersion": "img", "currentOrchestratorVersion": "1.33.5",
                     "provisioningState": "Succeeded", "orchestratorVersion": "1.33.5"},
                    {"name": "nodepool1", "count": 1, "vmSize": "Standard_B2s", "mode": "System", "eTag": "p1",
                     "nodeImageVersion": "img", "orchestratorVersion": "1.33.5", "upgradeSettings": {"maxSurge": "10%"}}
                ],
                "servicePrincipalProfile": {"clientId": "msi"},
                "addonProfiles": {"omsAgent": {"enabled": true, "config": {
                    "logAnalyticsWorkspaceResourceId": format!("/subscriptions/{SUB}/resourcegroups/exai-perso-rg/providers/microsoft.operationalinsights/workspaces/exai-perso-logs"),
                    "useAADAuth": "true"}, "identity": {"objectId": "o"}}},
                "nodeResourceGroup": "MC_exai-perso-rg_exai-perso-aks_francecentral",
                "networkProfile": {"networkPlugin": "kubenet", "loadBalancerSku": "standard", "loadBalancerProfile": {
                    "managedOutboundIPs": {"count": 1},
                    "effectiveOutboundIPs": [{"id": "/subscriptions/s/resourceGroups/MC_x/providers/Microsoft.Network/publicIPAddresses/ip"}]}},
                "oidcIssuerProfile": {"enabled": false, "issuerURL": "https://issuer"},
                "resourceUID": "uid",
                "identityProfile": {"kubeletidentity": {"objectId": "k"}},
                "maxAgentPools": 100,
                "enableRBAC": true
            }
        })
    }

    #[test]
    fn a_cluster_as_aks_returns_it_projects_onto_the_declared_fields() {
        let c = cluster();
        assert_eq!(c.live_fields(&live()), c.desired_fields());
    }

    #[test]
    fn the_autoscaler_count_and_foreign_tags_are_observed_not_owned() {
        let observed = cluster().observed(&live());
        assert_eq!(observed["tags.costCenter"], "42");
        assert_eq!(observed.len(), 1, "a count within the autoscaler's bounds is not worth a line: {observed:?}");
        let mut outside = live();
        outside["properties"]["agentPoolProfiles"][0]["count"] = json!(9);
        let observed = cluster().observed(&outside);
        assert_eq!(observed["agentPoolProfiles.work.count"], 9);
        assert_eq!(observed.len(), 2);
    }

    #[test]
    fn create_body_is_what_az_aks_create_sends() {
        let body = cluster().create_body();
        assert_eq!(body["identity"], json!({"type": "SystemAssigned"}));
        assert!(body["properties"].get("kubernetesVersion").is_none());
        assert_eq!(
            body["properties"]["agentPoolProfiles"][1],
            json!({"name": "work", "vmSize": "Standard_D4s_v5", "osType": "Linux", "mode": "User",
                   "type": "VirtualMachineScaleSets", "count": 2, "enableAutoScaling": true, "minCount": 1, "maxCount": 5})
        );
        assert_eq!(
            body["properties"]["linuxProfile"]["ssh"]["publicKeys"][0]["keyData"],
            "ssh-rsa AAAAB3NzaC1yc2E test"
        );
        assert_eq!(body["properties"]["addonProfiles"]["omsagent"]["config"]["useAADAuth"], "true");
        assert_eq!(body["tags"]["exai-owner"], "perso.cluster");
    }

    #[test]
    fn update_keeps_what_exai_does_not_own_and_drops_read_only_members() {
        let mut c = cluster();
        c.node_pools[0].size = PoolSize::Fixed { count: 3 };
        let body = c.update_body(&live());
        for member in ["id", "name", "type", "eTag"] {
            assert!(body.get(member).is_none(), "{member}");
        }
        assert_eq!(body["identity"], json!({"type": "SystemAssigned"}));
        let properties = &body["properties"];
        for member in ["provisioningState", "powerState", "fqdn", "maxAgentPools", "servicePrincipalProfile"] {
            assert!(properties.get(member).is_none(), "{member}");
        }
        assert_eq!(properties["nodeResourceGroup"], "MC_exai-perso-rg_exai-perso-aks_francecentral");
        let pools = properties["agentPoolProfiles"].as_array().unwrap();
        assert_eq!(pools[1]["count"], 3);
        assert_eq!(pools[1]["upgradeSettings"]["maxSurge"], "10%");
        assert_eq!(pools[0]["count"], 4, "the autoscaler's count is kept");
        assert!(pools.iter().all(|p| p.get("eTag").is_none() && p.get("nodeImageVersion").is_none()));
        let addon = &properties["addonProfiles"]["omsAgent"];
        assert!(addon.get("identity").is_none());
        assert_eq!(addon["config"].as_object().unwrap().len(), 2);
        assert_eq!(body["tags"]["costCenter"], "42");
        let request = c.update_request(&LiveResource { id: c.id(), document: live() });
        assert_eq!(request.headers, [("If-Match".to_owned(), "etag-1".to_owned())]);
    }

    #[test]
    fn a_put_carries_no_read_only_member_and_no_version_exai_does_not_pin() {
        assert!(!read_only_members_in(&live()).is_empty(), "the fixture finds members in a GET");
        assert!(read_only_paths().any(|p| p == "properties.networkProfile.loadBalancerProfile.effectiveOutboundIPs"));
        let mut c = cluster();
        c.node_pools[0].size = PoolSize::Fixed { count: 3 };
        let request = c.update_request(&LiveResource { id: c.id(), document: live() });
        assert_eq!(request.method, Method::Put);
        let body = request.body.unwrap_or_default();
        assert_eq!(read_only_members_in(&body), Vec::<String>::new());
        assert!(body["properties"].get("kubernetesVersion").is_none(), "not pinned: AKS keeps its own");
        let pools = body["properties"]["agentPoolProfiles"].as_array().unwrap();
        assert!(pools.iter().all(|p| p.get("orchestratorVersion").is_none()));
        assert_eq!(
            body["properties"]["networkProfile"]["loadBalancerProfile"],
            json!({"managedOutboundIPs": {"count": 1}})
        );
        assert_eq!(body["properties"]["oidcIssuerProfile"], json!({"enabled": false}));
    }

    #[test]
    fn a_tag_change_alone_is_the_tags_patch_anything_else_a_put() {
        let mut c = cluster();
        c.tags.insert("project", "exai2");
        assert!(c.only_tags_differ(&live()));
        let request = c.update_request(&LiveResource { id: c.id(), document: live() });
        assert_eq!(request.method, Method::Patch);
        assert_eq!(request.path, c.id().as_str());
        assert_eq!(
            request.body,
            Some(json!({"tags": {"project": "exai2", "exai-owner": "perso.cluster", "costCenter": "42"}})),
            "the managed keys are set, the others kept"
        );
        c.node_pools[0].size = PoolSize::Fixed { count: 2 };
        assert!(!c.only_tags_differ(&live()));
        assert_eq!(c.update_request(&LiveResource { id: c.id(), document: live() }).method, Method::Put);
        assert!(!cluster().only_tags_differ(&live()), "nothing differs: no tag-only change");
    }

    #[test]
    fn the_key_is_a_placeholder_until_known_and_said_only_of_a_cluster_to_create() {
        let mut c = cluster();
        c.ssh_public_key = None;
        let body = c.create_body();
        assert_eq!(
            crate::as_placeholder(&body["properties"]["linuxProfile"]["ssh"]["publicKeys"][0]["keyData"]),
            Some(("perso.cluster.ssh-key".to_owned(), SSH_PUBLIC_KEY_POINTER.to_owned()))
        );
        let to_create = Kind::unknown_values(&c, Known::nothing());
        assert_eq!(to_create.len(), 1);
        assert!(to_create[0].1.contains("generates"), "{to_create:?}");
        let mut live_state = crate::LiveState::new();
        live_state
            .insert(c.address.clone(), crate::Observation::Present(LiveResource { id: c.id(), document: live() }));
        assert_eq!(Kind::unknown_values(&c, Known::from(&live_state)), Vec::new(), "an existing cluster's key");
    }

    #[test]
    fn a_version_change_upgrades_every_pool_like_az_aks_upgrade() {
        let mut c = cluster();
        c.kubernetes_version = Some("1.34.1".into());
        let body = c.update_body(&live());
        assert_eq!(body["properties"]["kubernetesVersion"], "1.34.1");
        let pools = body["properties"]["agentPoolProfiles"].as_array().unwrap();
        assert!(pools.iter().all(|p| p["orchestratorVersion"] == "1.34.1"));
    }

    #[test]
    fn new_bounds_clamp_the_autoscaler_count_only_when_it_falls_outside() {
        let mut c = cluster();
        c.node_pools[1].size = PoolSize::Autoscale { min: 1, max: 3, initial: 1 };
        let body = c.update_body(&live());
        assert_eq!(body["properties"]["agentPoolProfiles"][0]["count"], 3);
        assert_eq!(body["properties"]["agentPoolProfiles"][0]["maxCount"], 3);
    }

    #[test]
    fn resizing_a_pool_and_changing_the_pool_set_are_explained_not_attempted() {
        assert!(Cluster::unsupported_change("agentPoolProfiles.nodepool1.vmSize").unwrap().contains("new pool"));
        assert!(Cluster::unsupported_change("agentPoolProfiles").unwrap().contains("az aks nodepool add"));
        assert_eq!(Cluster::unsupported_change("agentPoolProfiles.nodepool1.count"), None);
        assert!(Cluster::replace_reason("dnsPrefix").unwrap().contains("cannot be updated"));
        let mut c = cluster();
        c.node_pools[0].vm_size = "Standard_D8s_v5".into();
        let body = c.update_body(&live());
        assert_eq!(body["properties"]["agentPoolProfiles"][1]["vmSize"], "Standard_B2s", "never written");
    }

    #[test]
    fn turning_monitoring_off_disables_the_addon() {
        let mut c = cluster();
        c.monitoring_workspace = None;
        assert_eq!(c.live_fields(&live())["addonProfiles.omsagent.enabled"], true);
        assert_eq!(c.desired_fields()["addonProfiles.omsagent.enabled"], false);
        let body = c.update_body(&live());
        assert_eq!(body["properties"]["addonProfiles"]["omsAgent"], json!({"enabled": false}));
    }

    /// [`live`] with the application routing add-on on, as AKS answers after
    /// `az aks approuting enable`: its identity (`readOnly`) and NGINX default filled in.
    fn live_with_app_routing() -> Value {
        let mut document = live();
        document["properties"]["ingressProfile"] = json!({"webAppRouting": {
            "enabled": true,
            "dnsZoneResourceIds": ["/subscriptions/s/resourceGroups/dns/providers/Microsoft.Network/dnszones/exai.example"],
            "nginx": {"defaultIngressControllerType": "AnnotationControlled"},
            "identity": {
                "resourceId": "/subscriptions/s/resourcegroups/MC_x/providers/Microsoft.ManagedIdentity/userAssignedIdentities/webapprouting-exai-perso-aks",
                "clientId": "c", "objectId": "o"
            }
        }});
        document
    }

    #[test]
    fn app_routing_is_sent_at_creation_only_when_declared_on() {
        let mut c = cluster();
        for declared in [None, Some(false)] {
            c.app_routing = declared;
            assert!(c.create_body()["properties"].get("ingressProfile").is_none(), "{declared:?}");
        }
        c.app_routing = Some(true);
        assert_eq!(c.create_body()["properties"]["ingressProfile"], json!({"webAppRouting": {"enabled": true}}));
    }

    #[test]
    fn app_routing_as_aks_fills_it_in_projects_onto_the_declared_field_without_noise() {
        let mut c = cluster();
        c.app_routing = Some(true);
        assert_eq!(c.desired_fields()[Cluster::APP_ROUTING_FIELD], true);
        assert_eq!(c.live_fields(&live_with_app_routing()), c.desired_fields());
        assert_eq!(c.observed(&live_with_app_routing()).len(), 1, "only the foreign tag");
        // A cluster that never had the add-on has no ingress profile at all: that is `false`.
        c.app_routing = Some(false);
        assert_eq!(c.live_fields(&live()), c.desired_fields());
        let mut explicit = live();
        explicit["properties"]["ingressProfile"] = json!({"webAppRouting": {"enabled": false}});
        assert_eq!(c.live_fields(&explicit), c.desired_fields());
    }

    #[test]
    fn toggling_app_routing_is_one_put_that_keeps_the_rest_of_its_profile() {
        let mut c = cluster();
        c.app_routing = Some(false);
        let live_doc = live_with_app_routing();
        let differing: Vec<String> = {
            let (desired, current) = (c.desired_fields(), c.live_fields(&live_doc));
            desired.keys().filter(|k| desired.get(*k) != current.get(*k)).cloned().collect()
        };
        assert_eq!(differing, [Cluster::APP_ROUTING_FIELD]);
        let request = c.update_request(&LiveResource { id: c.id(), document: live_doc.clone() });
        assert_eq!(request.method, Method::Put);
        assert_eq!(request.headers, [("If-Match".to_owned(), "etag-1".to_owned())]);
        let body = request.body.unwrap_or_default();
        assert_eq!(
            body["properties"]["ingressProfile"],
            json!({"webAppRouting": {
                "enabled": false,
                "dnsZoneResourceIds": ["/subscriptions/s/resourceGroups/dns/providers/Microsoft.Network/dnszones/exai.example"],
                "nginx": {"defaultIngressControllerType": "AnnotationControlled"}
            }}),
            "the add-on's identity is read-only; its zones and NGINX settings are kept"
        );
        assert_eq!(read_only_members_in(&body), Vec::<String>::new());
        // Turned on where AKS holds no ingress profile yet.
        c.app_routing = Some(true);
        let body = c.update_body(&live());
        assert_eq!(body["properties"]["ingressProfile"], json!({"webAppRouting": {"enabled": true}}));
    }

    #[test]
    fn app_routing_left_out_of_the_spec_is_observed_never_compared_nor_written() {
        let c = cluster();
        assert_eq!(c.app_routing, None);
        let live_doc = live_with_app_routing();
        assert!(!c.desired_fields().contains_key(Cluster::APP_ROUTING_FIELD));
        assert_eq!(c.live_fields(&live_doc), c.desired_fields());
        assert_eq!(c.observed(&live_doc)[Cluster::APP_ROUTING_FIELD], true);
        assert!(!c.observed(&live()).contains_key(Cluster::APP_ROUTING_FIELD), "off is not worth a line");
        // Another change writes the add-on back as AKS holds it.
        let mut scaled = cluster();
        scaled.node_pools[0].size = PoolSize::Fixed { count: 3 };
        let body = scaled.update_body(&live_doc);
        assert_eq!(body["properties"]["ingressProfile"]["webAppRouting"]["enabled"], true);
        assert!(scaled.update_body(&live())["properties"].get("ingressProfile").is_none());
    }

    #[test]
    fn dns_prefix_is_derived_like_the_azure_cli() {
        assert_eq!(
            Cluster::default_dns_prefix("exai-perso-aks", "exai-perso-rg", "ee000000-0000-4000-8000-000000000002"),
            "exai-perso-exai-perso-rg-ee0000"
        );
        assert_eq!(Cluster::default_dns_prefix("1cluster", "rg", "abcdef12"), "a1cluster-rg-abcdef");
    }
}
