//! `Microsoft.ContainerService/managedClusters`, api-version 2026-08-01 (swagger
//! `aks/stable/2026-08-01/managedClusters.json`; examples `ManagedClustersGet.json` (2026-08-01)
//! and `ManagedClustersCreate_Update.json` (2026-07-01)); also the default of
//! azure-mgmt-containerservice 41.8.0.
//!
//! A cluster is returned with everything AKS fills in: `fqdn` and `azurePortalFQDN`
//! (`<dnsPrefix>-<8 hex>.hcp.<location>.azmk8s.io`), the node resource group
//! `MC_<rg>_<name>_<location>` (created, managed by the cluster, deleted with it), the system
//! identity's `principalId`/`tenantId`, the kubelet identity `<cluster>-agentpool` in the node
//! resource group (`identityProfile.kubeletidentity`), addon identities, network and agent-pool
//! defaults, the current Kubernetes version, `powerState`, `maxAgentPools`, `supportPlan`, the
//! `resourceUID`, the `oidcIssuerProfile` (with its `issuerURL` once enabled), the application
//! routing add-on's identity and NGINX default (`ingressProfile.webAppRouting`), `systemData` (see
//! `system_data`) and a new `eTag` (and per-pool `eTag`) on every write. The identities are registered as principals
//! of the subscription's tenant (source `managedIdentity`), so role assignments can name them.
//!
//! Only managed-identity clusters are modeled: a body without `identity` is refused (stricter
//! than Azure, which also takes a service principal).

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::provider::{
    Provider, WriteContext, location, only_members, optional_object, optional_string, same_location, tags, wrong_type,
};
use super::toolkit::ArmError;
use crate::arm::toolkit::Subscription;
use crate::context::Shared;
use crate::state::{PrincipalRecord, ProvisioningState, ResourceGroupRecord, State};

/// The ARM resource type.
const RESOURCE_TYPE: &str = "Microsoft.ContainerService/managedClusters";

/// The Kubernetes versions the emulator offers, oldest first. The list is the emulator's
/// choice (AKS's list changes monthly); the last but one is the default, as AKS defaults to
/// a version below the newest.
const KUBERNETES_VERSIONS: [&str; 3] = ["1.32.9", "1.33.5", "1.34.1"];

/// The version a cluster gets when `kubernetesVersion` is absent or empty.
const DEFAULT_KUBERNETES_VERSION: &str = "1.33.5";

/// The node image of Linux pools (the emulator's choice, in AKS's format).
const NODE_IMAGE_VERSION: &str = "AKSUbuntu-2204gen2containerd-202610.01.0";

/// The VM size of a pool that names none (the emulator's choice).
const DEFAULT_VM_SIZE: &str = "Standard_DS2_v2";

/// Settable members of `ManagedClusterProperties` the emulator accepts.
const SETTABLE: [&str; 35] = [
    "kubernetesVersion",
    "dnsPrefix",
    "fqdnSubdomain",
    "agentPoolProfiles",
    "linuxProfile",
    "windowsProfile",
    "servicePrincipalProfile",
    "addonProfiles",
    "podIdentityProfile",
    "oidcIssuerProfile",
    "nodeResourceGroup",
    "nodeResourceGroupProfile",
    "enableRBAC",
    "supportPlan",
    "networkProfile",
    "aadProfile",
    "autoUpgradeProfile",
    "upgradeSettings",
    "autoScalerProfile",
    "apiServerAccessProfile",
    "diskEncryptionSetID",
    "identityProfile",
    "privateLinkResources",
    "disableLocalAccounts",
    "httpProxyConfig",
    "securityProfile",
    "storageProfile",
    "ingressProfile",
    "publicNetworkAccess",
    "workloadAutoScalerProfile",
    "azureMonitorProfile",
    "serviceMeshProfile",
    "metricsProfile",
    "nodeProvisioningProfile",
    "bootstrapProfile",
];

/// Read-only members of `ManagedClusterProperties` a client may echo back; ignored.
const READ_ONLY: [&str; 9] = [
    "provisioningState",
    "powerState",
    "maxAgentPools",
    "currentKubernetesVersion",
    "fqdn",
    "privateFQDN",
    "azurePortalFQDN",
    "resourceUID",
    "status",
];

/// The managed cluster provider.
pub(crate) struct Clusters;

fn invalid(message: impl Into<String>) -> ArmError {
    ArmError::bad_request("InvalidParameter", message)
}

/// The AKS answer to a change of an immutable property.
fn change_not_allowed(property: &str) -> ArmError {
    ArmError::bad_request("PropertyChangeNotAllowed", format!("Changing property '{property}' is not allowed."))
}

/// Returns `(kubernetesVersion as answered, the full current version)`.
fn kubernetes_version(requested: Option<&str>) -> Result<(String, &'static str), ArmError> {
    let requested = requested.unwrap_or_default();
    if requested.is_empty() {
        return Ok((DEFAULT_KUBERNETES_VERSION.to_owned(), DEFAULT_KUBERNETES_VERSION));
    }
    let full = KUBERNETES_VERSIONS
        .iter()
        .rev()
        .find(|known| **known == requested || known.strip_prefix(requested).is_some_and(|rest| rest.starts_with('.')))
        .copied();
    match full {
        Some(full) if requested.matches('.').count() >= 1 => Ok((requested.to_owned(), full)),
        _ => Err(ArmError::bad_request(
            "K8sVersionNotSupported",
            format!(
                "Version {requested} is not supported in this region. Please use [az aks get-versions] command to get the supported version list in this region. For more information, please check https://aka.ms/supported-version-list"
            ),
        )),
    }
}

/// Returns a new `resourceUID`: swagger 2026-08-01 `ManagedClusterProperties.resourceUID`
/// ("uniquely identifies ManagedClusters that reuse ARM ResourceIds (i.e: create, delete, create
/// sequence)", `readOnly`), so it is kept by updates and new for each creation. Its form, 24
/// lowercase hex digits whose first 8 are the creation time in Unix seconds, is the one
/// `az aks show` prints (`"resourceUid": "661cf1d2d0847d0001e6fa05"` in a public cluster dump).
fn new_resource_uid(shared: &Shared) -> String {
    let seconds = u32::try_from(shared.clock.now_unix_ms() / 1000).unwrap_or(u32::MAX);
    format!("{seconds:08x}0001{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff)
}

/// Returns the `oidcIssuerProfile` a cluster answers (`ManagedClusterOIDCIssuerProfile`:
/// `enabled`, and `issuerURL`, `readOnly`, "The OIDC issuer url of the Managed Cluster").
///
/// From AKS's "Create an OpenID Connect provider on AKS" (learn.microsoft.com/azure/aks/use-oidc-issuer):
/// the issuer is enabled by default for new clusters of Kubernetes 1.34 and later, must be
/// enabled by hand below that, and "You can't disable OIDC issuer once enabled". When enabled,
/// AKS answers `issuerURL` in the form the same page shows,
/// `https://<region>.oic.prod-aks.azure.com/<tenant id>/<GUID>/`, kept for the cluster's life.
fn oidc_issuer_profile(
    sent: Option<&Value>,
    existing: Option<&Value>,
    current_version: &str,
    location: &str,
    tenant_id: &str,
) -> Result<Value, ArmError> {
    let sent = optional_object("properties.oidcIssuerProfile", sent.unwrap_or(&Value::Null))?.unwrap_or_default();
    only_members(&sent, "properties.oidcIssuerProfile.", "ManagedClusterOIDCIssuerProfile", &["enabled", "issuerURL"])?;
    let asked = match sent.get("enabled") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(enabled)) => Some(*enabled),
        Some(other) => return Err(wrong_type("properties.oidcIssuerProfile.enabled", "a boolean", other)),
    };
    let had_url = existing.and_then(|profile| profile.get("issuerURL")).and_then(Value::as_str);
    let was_enabled = existing.and_then(|profile| profile.get("enabled")).and_then(Value::as_bool);
    if was_enabled == Some(true) && asked == Some(false) {
        // The refusal's wording is the emulator's (UNVERIFIED against AKS's own message).
        return Err(invalid("The OIDC issuer cannot be disabled once it is enabled on a cluster."));
    }
    let default = was_enabled.unwrap_or_else(|| {
        let minor = current_version.split('.').nth(1).and_then(|minor| minor.parse::<u32>().ok());
        current_version.starts_with("1.") && minor.is_some_and(|minor| minor >= 34)
    });
    if !asked.unwrap_or(default) {
        return Ok(json!({"enabled": false}));
    }
    let url = had_url.map(str::to_owned).unwrap_or_else(|| {
        format!("https://{}.oic.prod-aks.azure.com/{tenant_id}/{}/", location.to_lowercase(), Uuid::new_v4())
    });
    Ok(json!({"enabled": true, "issuerURL": url}))
}

/// The values of `NginxIngressControllerType` (swagger 2026-08-01).
const NGINX_INGRESS_CONTROLLER_TYPES: [&str; 4] = ["AnnotationControlled", "External", "Internal", "None"];

/// Returns the `ingressProfile` a cluster answers for the one sent (`None`: none sent, and the
/// cluster has none; like every profile here, a PUT that leaves it out leaves it out).
///
/// From swagger 2026-08-01 `ManagedClusterIngressProfile` (`webAppRouting`, `gatewayAPI`) and
/// `ManagedClusterIngressProfileWebAppRouting`: `enabled` ("Whether to enable the Application
/// Routing add-on"), `dnsZoneResourceIds` (at most 5, `maxItems`), `nginx`
/// (`ManagedClusterIngressProfileNginx.defaultIngressControllerType`, one of
/// `NginxIngressControllerType`), `gatewayAPIImplementations`, and `identity`, `readOnly`: the
/// "Managed identity of the Application Routing add-on", a `UserAssignedIdentity`
/// (`resourceId`, `clientId`, `objectId`). An enabled add-on answers that identity, named
/// `webapprouting-<cluster>` in the node resource group as AKS names it (learn.microsoft.com
/// "Managed NGINX ingress with the application routing add-on"; the name as `az aks show`
/// prints it, UNVERIFIED in the swagger, which names no resource), kept for as long as the
/// add-on stays enabled, and, when no `nginx` is sent, `AnnotationControlled`: the type whose
/// description is what enabling the add-on does by default ("The default NginxIngressController
/// will be created. Users can edit the default NginxIngressController Custom Resource to
/// configure load balancer annotations"; the swagger gives no `default`, so which value AKS
/// answers is UNVERIFIED). A disabled add-on answers no identity (UNVERIFIED).
fn ingress_profile(
    sent: Option<&Value>,
    existing: Option<&Value>,
    identity_resource_id: &str,
) -> Result<Option<Value>, ArmError> {
    const PATH: &str = "properties.ingressProfile.webAppRouting";
    let Some(mut profile) = optional_object("properties.ingressProfile", sent.unwrap_or(&Value::Null))? else {
        return Ok(None);
    };
    only_members(
        &profile,
        "properties.ingressProfile.",
        "ManagedClusterIngressProfile",
        &["webAppRouting", "gatewayAPI"],
    )?;
    let Some(mut routing) = optional_object(PATH, profile.get("webAppRouting").unwrap_or(&Value::Null))? else {
        profile.remove("webAppRouting");
        return Ok(Some(Value::Object(profile)));
    };
    only_members(
        &routing,
        &format!("{PATH}."),
        "ManagedClusterIngressProfileWebAppRouting",
        &["enabled", "gatewayAPIImplementations", "dnsZoneResourceIds", "nginx", "identity"],
    )?;
    let enabled = match routing.get("enabled") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(enabled)) => *enabled,
        Some(other) => return Err(wrong_type(&format!("{PATH}.enabled"), "a boolean", other)),
    };
    match routing.get("dnsZoneResourceIds") {
        None | Some(Value::Null) => {
            routing.remove("dnsZoneResourceIds");
        }
        Some(Value::Array(zones)) => {
            if let Some(zone) = zones.iter().find(|zone| !zone.is_string()) {
                return Err(wrong_type(&format!("{PATH}.dnsZoneResourceIds"), "an array of strings", zone));
            }
            if zones.len() > 5 {
                // The wording is the emulator's; the limit is the swagger's `maxItems: 5`.
                return Err(invalid("The application routing add-on supports up to five DNS zones."));
            }
        }
        Some(other) => return Err(wrong_type(&format!("{PATH}.dnsZoneResourceIds"), "an array", other)),
    }
    let nginx = optional_object(&format!("{PATH}.nginx"), routing.get("nginx").unwrap_or(&Value::Null))?;
    if let Some(nginx) = &nginx {
        only_members(
            nginx,
            &format!("{PATH}.nginx."),
            "ManagedClusterIngressProfileNginx",
            &["defaultIngressControllerType"],
        )?;
        let kind = nginx.get("defaultIngressControllerType").unwrap_or(&Value::Null);
        let known = kind.as_str().is_some_and(|kind| NGINX_INGRESS_CONTROLLER_TYPES.contains(&kind));
        if !kind.is_null() && !known {
            return Err(invalid(format!(
                "The value of {PATH}.nginx.defaultIngressControllerType is invalid. It must be one of {}.",
                NGINX_INGRESS_CONTROLLER_TYPES.join(", ")
            )));
        }
    }
    // `identity` is read-only: what a client echoes is ignored.
    routing.remove("identity");
    routing.remove("nginx");
    routing.insert("enabled".to_owned(), json!(enabled));
    match nginx {
        Some(nginx) => {
            routing.insert("nginx".to_owned(), Value::Object(nginx));
        }
        None if enabled => {
            routing.insert("nginx".to_owned(), json!({"defaultIngressControllerType": "AnnotationControlled"}));
        }
        None => {}
    }
    if enabled {
        let identity =
            kept_identity(existing, "/properties/ingressProfile/webAppRouting/identity", identity_resource_id);
        routing.insert("identity".to_owned(), identity);
    }
    profile.insert("webAppRouting".to_owned(), Value::Object(routing));
    Ok(Some(Value::Object(profile)))
}

/// Checks a DNS prefix against the swagger pattern `^[a-zA-Z0-9]$|^[a-zA-Z0-9][-a-zA-Z0-9]{0,52}[a-zA-Z0-9]$`.
/// Checks `linuxProfile`: `adminUsername` (pattern `^[A-Za-z][-A-Za-z0-9_]*$`) and exactly one
/// SSH key (`ssh.publicKeys`, "A maximum of 1 key may be specified"; `keyData` required), which
/// must be an RSA key: AKS refuses ed25519 keys (Azure/AKS#4431). Sources: managedClusters.json
/// 2026-08-01 `ContainerServiceLinuxProfile`, docs/azure-facts.md §3.
fn check_linux_profile(linux: &Map<String, Value>) -> Result<(), ArmError> {
    let bad = |parameter: &str| {
        ArmError::bad_request("InvalidParameter", format!("The value of parameter {parameter} is invalid."))
    };
    let user = linux.get("adminUsername").and_then(Value::as_str).unwrap_or_default();
    let user_ok = user.starts_with(|c: char| c.is_ascii_alphabetic())
        && user.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !user_ok {
        return Err(bad("linuxProfile.adminUsername"));
    }
    let keys = linux.get("ssh").and_then(|ssh| ssh.get("publicKeys")).and_then(Value::as_array);
    let key = match keys.map(Vec::as_slice) {
        Some([one]) => one.get("keyData").and_then(Value::as_str).unwrap_or_default(),
        _ => return Err(bad("linuxProfile.ssh.publicKeys")),
    };
    let mut parts = key.split_whitespace();
    let rsa = parts.next() == Some("ssh-rsa") && parts.next().is_some_and(|body| body.starts_with("AAAA"));
    if !rsa {
        return Err(bad("linuxProfile.ssh.publicKeys.keyData"));
    }
    Ok(())
}

fn valid_dns_prefix(prefix: &str) -> bool {
    let bytes = prefix.as_bytes();
    (1..=54).contains(&bytes.len())
        && bytes.iter().all(|byte| byte.is_ascii_alphanumeric() || *byte == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
}

/// Checks an agent pool name against `^[a-z][a-z0-9]{0,11}$`.
fn valid_pool_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (1..=12).contains(&bytes.len())
        && bytes.first().is_some_and(u8::is_ascii_lowercase)
        && bytes.iter().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit())
}

/// Returns a user-assigned identity's id in a resource group.
fn identity_id(subscription_id: &str, group: &str, name: &str) -> String {
    format!(
        "/subscriptions/{subscription_id}/resourcegroups/{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
    )
}

/// Returns the identity at `pointer` in `existing`, or a new one `{resourceId, clientId, objectId}`.
fn kept_identity(existing: Option<&Value>, pointer: &str, resource_id: &str) -> Value {
    existing.and_then(|body| body.pointer(pointer)).cloned().unwrap_or_else(|| {
        json!({
            "resourceId": resource_id,
            "clientId": Uuid::new_v4().to_string(),
            "objectId": Uuid::new_v4().to_string(),
        })
    })
}

/// Builds the agent pools.
fn agent_pools(
    value: Option<&Value>,
    version: &str,
    current_version: &str,
    existing: Option<&Value>,
) -> Result<Vec<Value>, ArmError> {
    let pools = match value {
        None | Some(Value::Null) => existing
            .and_then(|body| body.pointer("/properties/agentPoolProfiles"))
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| {
                invalid("The agentPoolProfiles property is required: a cluster needs at least one agent pool.")
            })?,
        Some(Value::Array(pools)) => pools.clone(),
        Some(other) => return Err(wrong_type("properties.agentPoolProfiles", "an array", other)),
    };
    if pools.is_empty() {
        return Err(invalid("The agentPoolProfiles property is required: a cluster needs at least one agent pool."));
    }
    // An existing cluster's pools are changed through the agent pool API, not the cluster's PUT:
    // "Adding agent pools to an existing cluster is not allowed through managed cluster
    // operations" (AKS, quoted in pulumi/pulumi-azure-native#579); removing one likewise
    // (stricter than Azure if Azure is looser there), and a pool's VM size cannot change at all
    // ("You can't change the VM size of a node pool after you create it",
    // MicrosoftDocs aks/use-multiple-node-pools.md).
    let existing_pools: Vec<&Map<String, Value>> = existing
        .and_then(|body| body.pointer("/properties/agentPoolProfiles"))
        .and_then(Value::as_array)
        .map(|pools| pools.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default();
    if existing.is_some() {
        let name_of = |pool: &Value| pool.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
        let sent: BTreeSet<String> = pools.iter().map(name_of).collect();
        let had: BTreeSet<String> =
            existing_pools.iter().filter_map(|p| p.get("name").and_then(Value::as_str).map(str::to_owned)).collect();
        if let Some(added) = sent.difference(&had).next() {
            return Err(invalid(format!(
                "Adding agent pools to an existing cluster is not allowed through managed cluster operations (agent pool '{added}'). Use the agent pool API (az aks nodepool add) instead."
            )));
        }
        if let Some(removed) = had.difference(&sent).next() {
            return Err(invalid(format!(
                "Removing agent pools from an existing cluster is not allowed through managed cluster operations (agent pool '{removed}'). Use the agent pool API (az aks nodepool delete) instead."
            )));
        }
        for pool in &pools {
            let name = name_of(pool);
            let before = existing_pools
                .iter()
                .find(|p| p.get("name").and_then(Value::as_str) == Some(name.as_str()))
                .and_then(|p| p.get("vmSize"))
                .and_then(Value::as_str);
            let after = pool.get("vmSize").and_then(Value::as_str);
            if let (Some(before), Some(after)) = (before, after)
                && !before.eq_ignore_ascii_case(after)
            {
                return Err(change_not_allowed(&format!("agentPoolProfiles['{name}'].vmSize")));
            }
        }
    }
    let mut names = BTreeSet::new();
    let mut rendered = Vec::new();
    for (index, pool) in pools.iter().enumerate() {
        let path = format!("properties.agentPoolProfiles[{index}]");
        let pool = optional_object(&path, pool)?.unwrap_or_default();
        let name = pool.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
        if !valid_pool_name(&name) {
            return Err(invalid(format!(
                "The agent pool name '{name}' is invalid. It must start with a lowercase letter, contain only lowercase letters and digits, and be at most 12 characters long."
            )));
        }
        if !names.insert(name.clone()) {
            return Err(invalid(format!("The agent pool name '{name}' is used more than once.")));
        }
        let string = |member: &str, default: &str| -> Result<String, ArmError> {
            Ok(pool
                .get(member)
                .map(|value| optional_string(&format!("{path}.{member}"), value))
                .transpose()?
                .flatten()
                .unwrap_or_else(|| default.to_owned()))
        };
        let count = match pool.get("count") {
            None | Some(Value::Null) => 1,
            Some(value) => value.as_i64().filter(|count| (0..=1000).contains(count)).ok_or_else(|| {
                invalid(format!("The count of agent pool '{name}' must be an integer from 0 to 1000."))
            })?,
        };
        let os_type = string("osType", "Linux")?;
        if !["Linux", "Windows"].contains(&os_type.as_str()) {
            return Err(invalid(format!("The osType '{os_type}' of agent pool '{name}' is invalid.")));
        }
        let pool_type = string("type", "VirtualMachineScaleSets")?;
        if !["VirtualMachineScaleSets", "AvailabilitySet", "VirtualMachines"].contains(&pool_type.as_str()) {
            return Err(invalid(format!("The type '{pool_type}' of agent pool '{name}' is invalid.")));
        }
        let default_mode = if index == 0 { "System" } else { "User" };
        let mode = string("mode", default_mode)?;
        if !["System", "User", "Gateway"].contains(&mode.as_str()) {
            return Err(invalid(format!("The mode '{mode}' of agent pool '{name}' is invalid.")));
        }
        // A pool that names no version keeps its own (an existing pool), or gets the cluster's.
        let own_version = existing_pools
            .iter()
            .find(|p| p.get("name").and_then(Value::as_str) == Some(name.as_str()))
            .and_then(|p| p.get("orchestratorVersion"))
            .and_then(Value::as_str)
            .unwrap_or(version);
        let mut out = Map::new();
        out.insert("name".to_owned(), json!(name));
        out.insert("count".to_owned(), json!(count));
        out.insert("vmSize".to_owned(), json!(string("vmSize", DEFAULT_VM_SIZE)?));
        out.insert(
            "osDiskSizeGB".to_owned(),
            pool.get("osDiskSizeGB").filter(|value| !value.is_null()).cloned().unwrap_or(json!(128)),
        );
        out.insert("osDiskType".to_owned(), json!(string("osDiskType", "Managed")?));
        out.insert("kubeletDiskType".to_owned(), json!("OS"));
        out.insert(
            "maxPods".to_owned(),
            pool.get("maxPods").filter(|value| !value.is_null()).cloned().unwrap_or(json!(110)),
        );
        out.insert("type".to_owned(), json!(pool_type));
        out.insert("provisioningState".to_owned(), json!("Succeeded"));
        out.insert("powerState".to_owned(), json!({"code": "Running"}));
        // `az aks create` sends `orchestratorVersion: ""` when `--kubernetes-version` is not
        // given; AKS treats it as absent (swagger 2026-08-01 `ManagedClusterAgentPoolProfile
        // Properties.orchestratorVersion`: "As a best practice, you should upgrade all node pools
        // in an AKS cluster to the same Kubernetes version"; a new pool gets the control plane's).
        let sent_version = string("orchestratorVersion", "")?;
        let pool_version = if sent_version.is_empty() { own_version.to_owned() } else { sent_version };
        out.insert("orchestratorVersion".to_owned(), json!(pool_version));
        out.insert("currentOrchestratorVersion".to_owned(), json!(current_version));
        out.insert(
            "enableNodePublicIP".to_owned(),
            pool.get("enableNodePublicIP").filter(|value| !value.is_null()).cloned().unwrap_or(json!(false)),
        );
        out.insert("mode".to_owned(), json!(mode));
        out.insert("osType".to_owned(), json!(os_type));
        out.insert(
            "osSKU".to_owned(),
            json!(string("osSKU", if os_type == "Linux" { "Ubuntu" } else { "Windows2022" })?),
        );
        out.insert("nodeImageVersion".to_owned(), json!(string("nodeImageVersion", NODE_IMAGE_VERSION)?));
        // AKS's default surge for new pools (docs "Upgrade options": 10% since 2024; swagger
        // 2026-08-01 `AgentPoolUpgradeSettings.maxSurge`: "If not specified, the default is
        // 10%"), also when the settings come empty, as `az aks create` sends them (`{}`).
        let mut upgrade =
            optional_object(&format!("{path}.upgradeSettings"), pool.get("upgradeSettings").unwrap_or(&Value::Null))?
                .unwrap_or_default();
        upgrade.entry("maxSurge").or_insert(json!("10%"));
        out.insert("upgradeSettings".to_owned(), Value::Object(upgrade));
        // Members the emulator does not interpret are echoed as sent.
        for (member, value) in &pool {
            if !out.contains_key(member)
                && !["eTag", "currentOrchestratorVersion", "provisioningState", "powerState"].contains(&member.as_str())
                && !value.is_null()
            {
                out.insert(member.clone(), value.clone());
            }
        }
        out.insert("eTag".to_owned(), json!(super::provider::new_etag()));
        rendered.push(Value::Object(out));
    }
    if !rendered.iter().any(|pool| pool["mode"] == "System") {
        return Err(ArmError::bad_request("MustDefineAtLeastOneSystemPool", "Must define at least one system pool."));
    }
    Ok(rendered)
}

/// Fills the network profile's defaults (swagger defaults and `ManagedClustersGet.json`).
fn network_profile(
    value: Option<&Value>,
    subscription_id: &str,
    node_group: &str,
    existing: Option<&Value>,
) -> Result<Value, ArmError> {
    let sent = optional_object("properties.networkProfile", value.unwrap_or(&Value::Null))?.unwrap_or_default();
    let mut profile = Map::new();
    let plugin = sent.get("networkPlugin").and_then(Value::as_str).unwrap_or("kubenet").to_owned();
    profile.insert("networkPlugin".to_owned(), json!(plugin));
    profile.insert("podCidr".to_owned(), sent.get("podCidr").cloned().unwrap_or(json!("10.244.0.0/16")));
    profile.insert("serviceCidr".to_owned(), sent.get("serviceCidr").cloned().unwrap_or(json!("10.0.0.0/16")));
    profile.insert("dnsServiceIP".to_owned(), sent.get("dnsServiceIP").cloned().unwrap_or(json!("10.0.0.10")));
    profile.insert("outboundType".to_owned(), sent.get("outboundType").cloned().unwrap_or(json!("loadBalancer")));
    profile.insert("loadBalancerSku".to_owned(), sent.get("loadBalancerSku").cloned().unwrap_or(json!("standard")));
    let outbound_ip = existing
        .and_then(|body| body.pointer("/properties/networkProfile/loadBalancerProfile/effectiveOutboundIPs"))
        .cloned()
        .unwrap_or_else(|| {
            json!([{"id": format!(
                "/subscriptions/{subscription_id}/resourceGroups/{node_group}/providers/Microsoft.Network/publicIPAddresses/{}",
                Uuid::new_v4()
            )}])
        });
    let mut balancer = optional_object(
        "properties.networkProfile.loadBalancerProfile",
        sent.get("loadBalancerProfile").unwrap_or(&Value::Null),
    )?
    .unwrap_or_default();
    balancer.entry("managedOutboundIPs").or_insert(json!({"count": 1}));
    balancer.insert("effectiveOutboundIPs".to_owned(), outbound_ip);
    balancer.entry("allocatedOutboundPorts").or_insert(json!(0));
    balancer.entry("idleTimeoutInMinutes").or_insert(json!(30));
    profile.insert("loadBalancerProfile".to_owned(), Value::Object(balancer));
    let pod_cidr = profile["podCidr"].clone();
    let service_cidr = profile["serviceCidr"].clone();
    profile.insert("podCidrs".to_owned(), sent.get("podCidrs").cloned().unwrap_or(json!([pod_cidr])));
    profile.insert("serviceCidrs".to_owned(), sent.get("serviceCidrs").cloned().unwrap_or(json!([service_cidr])));
    profile.insert("ipFamilies".to_owned(), sent.get("ipFamilies").cloned().unwrap_or(json!(["IPv4"])));
    for (member, value) in sent {
        profile.entry(member).or_insert(value);
    }
    Ok(Value::Object(profile))
}

/// Fills the storage profile's defaults: swagger 2026-08-01 `ManagedClusterStorageProfile`'s
/// `diskCSIDriver.enabled`, `fileCSIDriver.enabled` and `snapshotController.enabled` ("The
/// default value is true"), also when the profile comes empty, as `az aks create` sends it
/// (`{}`). `blobCSIDriver` ("The default value is false") is shown only when sent. A write that
/// sends no profile keeps the cluster's.
fn storage_profile(sent: Option<&Value>, existing: Option<&Value>) -> Result<Value, ArmError> {
    let sent = optional_object("properties.storageProfile", sent.unwrap_or(&Value::Null))?;
    let mut profile = sent
        .or_else(|| {
            existing.and_then(|body| body.pointer("/properties/storageProfile")).and_then(Value::as_object).cloned()
        })
        .unwrap_or_default();
    for driver in ["diskCSIDriver", "fileCSIDriver", "snapshotController"] {
        let path = format!("properties.storageProfile.{driver}");
        let mut settings = optional_object(&path, profile.get(driver).unwrap_or(&Value::Null))?.unwrap_or_default();
        settings.entry("enabled").or_insert(json!(true));
        profile.insert(driver.to_owned(), Value::Object(settings));
    }
    Ok(Value::Object(profile))
}

/// Registers (or refreshes) a managed identity as a principal of a tenant.
fn register(state: &mut State, tenant_id: &str, object_id: &str, app_id: &str, display_name: &str) {
    state.ensure_tenant(tenant_id, None);
    if let Some(tenant) = state.tenants.get_mut(tenant_id) {
        tenant.principals.insert(
            object_id.to_ascii_lowercase(),
            PrincipalRecord {
                object_id: object_id.to_ascii_lowercase(),
                app_id: app_id.to_ascii_lowercase(),
                principal_type: "ServicePrincipal".to_owned(),
                display_name: display_name.to_owned(),
                source: "managedIdentity".to_owned(),
            },
        );
    }
    state.dirty = true;
}

/// Returns the object ids of every identity a cluster body carries.
fn identity_object_ids(body: &Value) -> Vec<String> {
    let mut ids = Vec::new();
    if let Some(id) = body.pointer("/identity/principalId").and_then(Value::as_str) {
        ids.push(id.to_owned());
    }
    if let Some(identities) = body.pointer("/identity/userAssignedIdentities").and_then(Value::as_object) {
        ids.extend(
            identities
                .values()
                .filter_map(|identity| identity.get("principalId").and_then(Value::as_str))
                .map(str::to_owned),
        );
    }
    if let Some(id) = body.pointer("/properties/identityProfile/kubeletidentity/objectId").and_then(Value::as_str) {
        ids.push(id.to_owned());
    }
    if let Some(id) = body.pointer("/properties/ingressProfile/webAppRouting/identity/objectId").and_then(Value::as_str)
    {
        ids.push(id.to_owned());
    }
    if let Some(addons) = body.pointer("/properties/addonProfiles").and_then(Value::as_object) {
        ids.extend(
            addons
                .values()
                .filter_map(|addon| addon.pointer("/identity/objectId").and_then(Value::as_str))
                .map(str::to_owned),
        );
    }
    ids
}

impl Provider for Clusters {
    fn validate_name(&self, name: &str) -> Result<(), ArmError> {
        // Swagger `resourceName`: 1 to 63 characters, `^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$`.
        let bytes = name.as_bytes();
        let valid = (1..=63).contains(&bytes.len())
            && bytes.iter().all(|byte| byte.is_ascii_alphanumeric() || b"-_".contains(byte))
            && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
            && bytes.last().is_some_and(u8::is_ascii_alphanumeric);
        if valid {
            return Ok(());
        }
        Err(invalid(format!(
            "The resource name '{name}' is invalid. It must be 1 to 63 letters, digits, '-' or '_', and begin and end with a letter or digit."
        )))
    }

    fn put(
        &self,
        shared: &Shared,
        state: &mut State,
        context: &WriteContext<'_>,
        existing: Option<&Value>,
        body: Map<String, Value>,
    ) -> Result<Value, ArmError> {
        only_members(
            &body,
            "",
            "ManagedCluster",
            &[
                "location",
                "tags",
                "identity",
                "sku",
                "kind",
                "extendedLocation",
                "properties",
                "eTag",
                "id",
                "name",
                "type",
                "systemData",
            ],
        )?;
        let location = location(&body)?;
        same_location(existing, location)?;
        let tags = tags(&body)?;
        let sent = optional_object("properties", body.get("properties").unwrap_or(&Value::Null))?.unwrap_or_default();
        let mut known: Vec<&str> = SETTABLE.to_vec();
        known.extend(READ_ONLY);
        only_members(&sent, "properties.", "ManagedClusterProperties", &known)?;
        let subscription_id = context.subscription.id.as_str();
        let tenant_id = context.subscription.tenant_id.as_str();
        let previous =
            |pointer: &str| existing.and_then(|body| body.pointer(pointer)).and_then(Value::as_str).map(str::to_owned);

        // Versions.
        // An update that names no version keeps the cluster's: only a version sent is an upgrade
        // (swagger 2026-08-01 `kubernetesVersion`: "Updating the cluster with the same
        // <major.minor> once it has been created ... will not trigger an upgrade"; keeping the
        // version when it is left out is the RP's observed behaviour, UNVERIFIED in the docs).
        let requested_version = sent
            .get("kubernetesVersion")
            .map(|value| optional_string("properties.kubernetesVersion", value))
            .transpose()?
            .flatten()
            .filter(|version| !version.is_empty())
            .or_else(|| previous("/properties/kubernetesVersion"));
        let (version, current_version) = kubernetes_version(requested_version.as_deref())?;

        // DNS prefix: required, and immutable (swagger: "cannot be updated once the Managed Cluster has been created").
        let dns_prefix = match sent
            .get("dnsPrefix")
            .map(|value| optional_string("properties.dnsPrefix", value))
            .transpose()?
            .flatten()
        {
            Some(prefix) => prefix,
            None => previous("/properties/dnsPrefix").ok_or_else(|| invalid("The dnsPrefix property is required."))?,
        };
        if !valid_dns_prefix(&dns_prefix) {
            return Err(invalid(format!(
                "The DNS prefix '{dns_prefix}' is invalid. It must be 1 to 54 letters, digits or '-', and begin and end with a letter or digit."
            )));
        }
        if previous("/properties/dnsPrefix").is_some_and(|current| current != dns_prefix) {
            return Err(change_not_allowed("dnsPrefix"));
        }

        // Node resource group: immutable, created with the cluster.
        let default_group = format!("MC_{}_{}_{location}", context.resource_group, context.name);
        let node_group = sent
            .get("nodeResourceGroup")
            .map(|value| optional_string("properties.nodeResourceGroup", value))
            .transpose()?
            .flatten()
            .or_else(|| previous("/properties/nodeResourceGroup"))
            .unwrap_or(default_group);
        if previous("/properties/nodeResourceGroup").is_some_and(|current| current != node_group) {
            return Err(change_not_allowed("nodeResourceGroup"));
        }

        // Identities are registered only once the whole body is known to be valid.
        let mut principals: Vec<(String, String, String)> = Vec::new();

        // Identity: managed identities only.
        let identity_value = optional_object("identity", body.get("identity").unwrap_or(&Value::Null))?.ok_or_else(|| {
            invalid("The exai emulator models managed-identity clusters only: set identity.type to 'SystemAssigned' or 'UserAssigned'.")
        })?;
        only_members(
            &identity_value,
            "identity.",
            "ManagedClusterIdentity",
            &["type", "userAssignedIdentities", "principalId", "tenantId", "delegatedResources"],
        )?;
        let identity_type = identity_value.get("type").and_then(Value::as_str).unwrap_or_default().to_owned();
        let mut identity = Map::new();
        match identity_type.as_str() {
            "SystemAssigned" => {
                let principal = previous("/identity/principalId").unwrap_or_else(|| Uuid::new_v4().to_string());
                identity.insert("type".to_owned(), json!("SystemAssigned"));
                identity.insert("principalId".to_owned(), json!(principal));
                identity.insert("tenantId".to_owned(), json!(tenant_id));
                principals.push((principal.clone(), Uuid::new_v4().to_string(), context.name.to_owned()));
            }
            "UserAssigned" => {
                let assigned = identity_value.get("userAssignedIdentities").and_then(Value::as_object).filter(|map| map.len() == 1).ok_or_else(|| {
                    invalid("A UserAssigned cluster identity needs exactly one entry in identity.userAssignedIdentities.")
                })?;
                let mut rendered = Map::new();
                for resource_id in assigned.keys() {
                    let kept = existing
                        .and_then(|body| body.pointer("/identity/userAssignedIdentities"))
                        .and_then(|map| map.get(resource_id))
                        .cloned();
                    let value = kept.unwrap_or_else(
                        || json!({"clientId": Uuid::new_v4().to_string(), "principalId": Uuid::new_v4().to_string()}),
                    );
                    let object_id = value["principalId"].as_str().unwrap_or_default().to_owned();
                    let client_id = value["clientId"].as_str().unwrap_or_default().to_owned();
                    let display = resource_id.rsplit('/').next().unwrap_or_default().to_owned();
                    principals.push((object_id, client_id, display));
                    rendered.insert(resource_id.clone(), value);
                }
                identity.insert("type".to_owned(), json!("UserAssigned"));
                identity.insert("userAssignedIdentities".to_owned(), Value::Object(rendered));
            }
            other => {
                return Err(invalid(format!(
                    "The identity type '{other}' is invalid. It must be 'SystemAssigned' or 'UserAssigned'."
                )));
            }
        }

        // Kubelet identity: `<cluster>-agentpool` in the node resource group.
        let kubelet_id = identity_id(subscription_id, &node_group, &format!("{}-agentpool", context.name));
        let kubelet = kept_identity(existing, "/properties/identityProfile/kubeletidentity", &kubelet_id);
        principals.push((
            kubelet["objectId"].as_str().unwrap_or_default().to_owned(),
            kubelet["clientId"].as_str().unwrap_or_default().to_owned(),
            format!("{}-agentpool", context.name),
        ));

        // Addons: enabled ones with an identity get `omsagent-<cluster>`-style identities.
        let mut addons = Map::new();
        let sent_addons =
            optional_object("properties.addonProfiles", sent.get("addonProfiles").unwrap_or(&Value::Null))?
                .unwrap_or_default();
        for (name, addon) in sent_addons {
            let path = format!("properties.addonProfiles.{name}");
            let addon = optional_object(&path, &addon)?.unwrap_or_default();
            only_members(
                &addon,
                &format!("{path}."),
                "ManagedClusterAddonProfile",
                &["enabled", "config", "identity"],
            )?;
            let enabled = addon.get("enabled").and_then(Value::as_bool).ok_or_else(|| {
                ArmError::invalid_content(format!("Required property 'enabled' not found in JSON. Path '{path}'"))
            })?;
            let mut out = Map::new();
            out.insert("enabled".to_owned(), json!(enabled));
            if let Some(config) =
                optional_object(&format!("{path}.config"), addon.get("config").unwrap_or(&Value::Null))?
            {
                if let Some((key, value)) = config.iter().find(|(_, value)| !value.is_string()) {
                    return Err(wrong_type(&format!("{path}.config.{key}"), "a string", value));
                }
                out.insert("config".to_owned(), Value::Object(config));
            }
            if enabled
                && ["omsagent", "azurepolicy", "ingressApplicationGateway", "azureKeyvaultSecretsProvider"]
                    .contains(&name.as_str())
            {
                let resource_id =
                    identity_id(subscription_id, &node_group, &format!("{}-{}", name.to_lowercase(), context.name));
                let addon_identity =
                    kept_identity(existing, &format!("/properties/addonProfiles/{name}/identity"), &resource_id);
                principals.push((
                    addon_identity["objectId"].as_str().unwrap_or_default().to_owned(),
                    addon_identity["clientId"].as_str().unwrap_or_default().to_owned(),
                    format!("{}-{}", name.to_lowercase(), context.name),
                ));
                out.insert("identity".to_owned(), addon_identity);
            }
            addons.insert(name, Value::Object(out));
        }

        let pools = agent_pools(sent.get("agentPoolProfiles"), &version, current_version, existing)?;
        let network = network_profile(sent.get("networkProfile"), subscription_id, &node_group, existing)?;
        let hash = previous("/properties/fqdn")
            .and_then(|fqdn| fqdn.split('.').next().and_then(|host| host.rsplit('-').next()).map(str::to_owned))
            .unwrap_or_else(|| format!("{:08x}", rand::random::<u32>()));
        let host = format!("{}-{hash}", dns_prefix.to_lowercase());

        let mut properties = Map::new();
        properties.insert("provisioningState".to_owned(), json!("Succeeded"));
        properties.insert("powerState".to_owned(), json!({"code": "Running"}));
        properties.insert("kubernetesVersion".to_owned(), json!(version));
        properties.insert("currentKubernetesVersion".to_owned(), json!(current_version));
        properties.insert("dnsPrefix".to_owned(), json!(dns_prefix));
        properties.insert("fqdn".to_owned(), json!(format!("{host}.hcp.{location}.azmk8s.io")));
        properties.insert("azurePortalFQDN".to_owned(), json!(format!("{host}.portal.hcp.{location}.azmk8s.io")));
        properties.insert("agentPoolProfiles".to_owned(), Value::Array(pools));
        if let Some(linux) =
            optional_object("properties.linuxProfile", sent.get("linuxProfile").unwrap_or(&Value::Null))?
        {
            check_linux_profile(&linux)?;
            properties.insert("linuxProfile".to_owned(), Value::Object(linux));
        }
        if let Some(mut windows) =
            optional_object("properties.windowsProfile", sent.get("windowsProfile").unwrap_or(&Value::Null))?
        {
            // The password is write-only.
            windows.remove("adminPassword");
            properties.insert("windowsProfile".to_owned(), Value::Object(windows));
        }
        // A managed-identity cluster shows the placeholder client id `msi`.
        properties.insert("servicePrincipalProfile".to_owned(), json!({"clientId": "msi"}));
        properties.insert("addonProfiles".to_owned(), Value::Object(addons));
        properties.insert("nodeResourceGroup".to_owned(), json!(node_group));
        properties.insert(
            "enableRBAC".to_owned(),
            sent.get("enableRBAC").filter(|value| value.is_boolean()).cloned().unwrap_or(json!(true)),
        );
        properties.insert(
            "supportPlan".to_owned(),
            sent.get("supportPlan").filter(|value| !value.is_null()).cloned().unwrap_or(json!("KubernetesOfficial")),
        );
        properties.insert("networkProfile".to_owned(), network);
        properties.insert("storageProfile".to_owned(), storage_profile(sent.get("storageProfile"), existing)?);
        properties.insert("maxAgentPools".to_owned(), json!(100));
        properties.insert(
            "autoUpgradeProfile".to_owned(),
            sent.get("autoUpgradeProfile")
                .filter(|value| !value.is_null())
                .cloned()
                .unwrap_or(json!({"upgradeChannel": "none", "nodeOSUpgradeChannel": "NodeImage"})),
        );
        properties.insert("identityProfile".to_owned(), json!({"kubeletidentity": kubelet}));
        properties.insert(
            "resourceUID".to_owned(),
            json!(previous("/properties/resourceUID").unwrap_or_else(|| new_resource_uid(shared))),
        );
        let oidc_issuer = oidc_issuer_profile(
            sent.get("oidcIssuerProfile"),
            existing.and_then(|body| body.pointer("/properties/oidcIssuerProfile")),
            current_version,
            location,
            tenant_id,
        )?;
        properties.insert("oidcIssuerProfile".to_owned(), oidc_issuer);
        let routing_name = format!("webapprouting-{}", context.name);
        let routing_id = identity_id(subscription_id, &node_group, &routing_name);
        if let Some(ingress) = ingress_profile(sent.get("ingressProfile"), existing, &routing_id)? {
            if let Some(identity) = ingress.pointer("/webAppRouting/identity") {
                principals.push((
                    identity["objectId"].as_str().unwrap_or_default().to_owned(),
                    identity["clientId"].as_str().unwrap_or_default().to_owned(),
                    routing_name,
                ));
            }
            properties.insert("ingressProfile".to_owned(), ingress);
        }
        for (member, value) in &sent {
            if !properties.contains_key(member) && !READ_ONLY.contains(&member.as_str()) && !value.is_null() {
                properties.insert(member.clone(), value.clone());
            }
        }

        for (object_id, client_id, display_name) in &principals {
            register(state, tenant_id, object_id, client_id, display_name);
        }

        // The node resource group, managed by the cluster.
        if let Some(subscription) = state.subscriptions.get_mut(subscription_id) {
            subscription.resource_groups.entry(node_group.to_lowercase()).or_insert_with(|| ResourceGroupRecord {
                name: node_group.clone(),
                location: location.to_owned(),
                tags: None,
                managed_by: Some(context.id.clone()),
                provisioning_state: ProvisioningState::Succeeded,
            });
        }

        let sku = optional_object("sku", body.get("sku").unwrap_or(&Value::Null))?
            .map(Value::Object)
            .unwrap_or(json!({"name": "Base", "tier": "Free"}));
        let mut rendered = Map::new();
        rendered.insert("id".to_owned(), json!(context.id));
        rendered.insert("location".to_owned(), json!(location));
        rendered.insert("name".to_owned(), json!(context.name));
        if let Some(tags) = tags {
            rendered.insert("tags".to_owned(), Value::Object(tags));
        }
        rendered.insert("type".to_owned(), json!(RESOURCE_TYPE));
        rendered.insert("sku".to_owned(), sku);
        rendered.insert("identity".to_owned(), Value::Object(identity));
        rendered.insert("properties".to_owned(), Value::Object(properties));
        Ok(Value::Object(rendered))
    }

    fn patch(
        &self,
        _shared: &Shared,
        _state: &mut State,
        _context: &WriteContext<'_>,
        existing: &Value,
        body: Map<String, Value>,
    ) -> Result<Value, ArmError> {
        // `ManagedClusters_UpdateTags`: a `TagsObject`.
        only_members(&body, "", "TagsObject", &["tags"])?;
        let mut updated = existing.clone();
        if let Some(object) = updated.as_object_mut() {
            match tags(&body)? {
                Some(tags) => {
                    object.insert("tags".to_owned(), Value::Object(tags));
                }
                None => {
                    object.remove("tags");
                }
            }
        }
        if let Some(pools) = updated.pointer_mut("/properties/agentPoolProfiles").and_then(Value::as_array_mut) {
            for pool in pools {
                pool["eTag"] = json!(super::provider::new_etag());
            }
        }
        Ok(updated)
    }

    fn etag_member(&self) -> Option<&'static str> {
        Some("eTag")
    }

    fn mark(&self, body: &mut Value, state: &str) {
        super::provider::set_provisioning_state(body, state);
        if let Some(pools) = body.pointer_mut("/properties/agentPoolProfiles").and_then(Value::as_array_mut) {
            for pool in pools {
                if let Some(pool) = pool.as_object_mut() {
                    pool.insert("provisioningState".to_owned(), json!(state));
                }
            }
        }
    }

    fn on_delete(&self, state: &mut State, subscription: &Subscription, body: &Value) {
        let ids = identity_object_ids(body);
        if let Some(tenant) = state.tenants.get_mut(&subscription.tenant_id) {
            for id in ids {
                tenant.principals.remove(&id.to_ascii_lowercase());
            }
        }
        // The node resource group goes with the cluster.
        if let Some(group) = body.pointer("/properties/nodeResourceGroup").and_then(Value::as_str)
            && let Some(record) = state.subscriptions.get_mut(&subscription.id)
        {
            let key = group.to_lowercase();
            let managed_here = record.resource_groups.get(&key).is_some_and(|group| {
                group.managed_by.as_deref().is_some_and(|owner| Some(owner) == body.get("id").and_then(Value::as_str))
            });
            if managed_here {
                record.resource_groups.remove(&key);
                let prefix = format!("/subscriptions/{}/resourcegroups/{key}/", subscription.id);
                record.resources.retain(|id, _| !id.starts_with(&prefix));
            }
        }
        state.dirty = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_kubernetes_versions() -> Result<(), String> {
        let resolve = |text: Option<&str>| kubernetes_version(text).map_err(|error| error.message);
        assert_eq!(resolve(None)?, (DEFAULT_KUBERNETES_VERSION.to_owned(), DEFAULT_KUBERNETES_VERSION));
        assert_eq!(resolve(Some(""))?.1, DEFAULT_KUBERNETES_VERSION);
        assert_eq!(resolve(Some("1.34"))?, ("1.34".to_owned(), "1.34.1"));
        assert_eq!(resolve(Some("1.32.9"))?.1, "1.32.9");
        assert!(resolve(Some("1.3")).is_err());
        assert!(resolve(Some("1.20")).is_err());
        assert!(resolve(Some("1")).is_err());
        Ok(())
    }

    const ROUTING_ID: &str = "/subscriptions/s/resourcegroups/MC_rg_aks_francecentral/providers/Microsoft.ManagedIdentity/userAssignedIdentities/webapprouting-aks";

    #[test]
    fn an_enabled_app_routing_add_on_answers_its_identity_and_nginx_default() -> Result<(), String> {
        let answer = |sent: Value, existing: Option<&Value>| {
            ingress_profile(Some(&sent), existing, ROUTING_ID).map_err(|error| error.message)
        };
        assert_eq!(answer(Value::Null, None)?, None);
        let on = answer(json!({"webAppRouting": {"enabled": true}}), None)?.ok_or("a profile")?;
        let routing = &on["webAppRouting"];
        assert_eq!(routing["enabled"], true);
        assert_eq!(routing["nginx"], json!({"defaultIngressControllerType": "AnnotationControlled"}));
        assert_eq!(routing["identity"]["resourceId"], ROUTING_ID);
        for member in ["clientId", "objectId"] {
            assert!(Uuid::parse_str(routing["identity"][member].as_str().unwrap_or_default()).is_ok(), "{member}");
        }
        // Kept while enabled, whatever a client echoes; its settings kept as sent.
        let existing = json!({"properties": {"ingressProfile": on.clone()}});
        let echoed = json!({"webAppRouting": {"enabled": true, "identity": {"resourceId": "/elsewhere"},
            "nginx": {"defaultIngressControllerType": "Internal"}, "dnsZoneResourceIds": ["/z"]}});
        let kept = answer(echoed, Some(&existing))?.ok_or("a profile")?;
        assert_eq!(kept["webAppRouting"]["identity"], routing["identity"]);
        assert_eq!(kept["webAppRouting"]["nginx"]["defaultIngressControllerType"], "Internal");
        assert_eq!(kept["webAppRouting"]["dnsZoneResourceIds"], json!(["/z"]));
        // Disabled: no identity, the rest as sent.
        let off = answer(json!({"webAppRouting": {"enabled": false, "dnsZoneResourceIds": ["/z"]}}), Some(&existing))?;
        assert_eq!(off, Some(json!({"webAppRouting": {"enabled": false, "dnsZoneResourceIds": ["/z"]}})));
        Ok(())
    }

    #[test]
    fn refuses_an_app_routing_profile_the_swagger_does_not_allow() {
        let refused = |sent: Value| ingress_profile(Some(&sent), None, ROUTING_ID).err().map(|error| error.message);
        let six: Vec<String> = (0..6).map(|i| format!("/zone{i}")).collect();
        for sent in [
            json!({"webAppRouting": {"enabled": "yes"}}),
            json!({"webAppRouting": {"enabled": true, "nginx": {"defaultIngressControllerType": "Public"}}}),
            json!({"webAppRouting": {"enabled": true, "dnsZoneResourceIds": six}}),
            json!({"webAppRouting": {"enabled": true, "dnsZoneResourceIds": [1]}}),
            json!({"webAppRouting": {"enable": true}}),
            json!({"appRouting": {"enabled": true}}),
            json!([]),
        ] {
            assert!(refused(sent.clone()).is_some(), "{sent}");
        }
    }

    #[test]
    fn checks_names_and_prefixes() {
        assert!(valid_pool_name("nodepool1"));
        assert!(!valid_pool_name("Nodepool1"));
        assert!(!valid_pool_name("nodepool12345"));
        assert!(valid_dns_prefix("exai-perso-exai-perso-rg-ee0000"));
        assert!(!valid_dns_prefix("-a"));
        assert!(!valid_dns_prefix(&"a".repeat(55)));
    }
}
