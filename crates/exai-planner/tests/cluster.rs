//! Planner tests for the AKS cluster: desired × live → plan, with no I/O. What Terraform and
//! Bicep get wrong on AKS (false diffs on server-filled fields, fights with the autoscaler,
//! whole-cluster replacement for a pool change) is pinned down here.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use exai_model::kinds::{Cluster, NodePool, PoolMode, PoolSize, SshKeySource};
use exai_model::{
    Address, DesiredResource, DesiredSpec, DesiredState, LiveResource, LiveState, Location, Method, OWNER_TAG,
    Observation, ResourceId, Tags,
};
use exai_planner::{Action, Change, plan};
use serde_json::{Value, json};

const SUB: &str = "ee000000-0000-4000-8000-000000000002";
const KEY: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC test@exai";

fn address() -> Address {
    Address::new("perso", "cluster")
}

fn workspace() -> ResourceId {
    ResourceId::in_group(SUB, "exai-perso-rg", "Microsoft.OperationalInsights/workspaces", "exai-perso-logs")
}

/// The recipe's cluster: one fixed system pool, no pinned version, no monitoring.
fn recipe() -> Cluster {
    let mut tags: Tags = [("project".to_owned(), "exai".to_owned())].into_iter().collect();
    tags.insert(OWNER_TAG, address().as_str());
    Cluster {
        address: Address::new("perso", "cluster"),
        subscription: SUB.into(),
        resource_group: "exai-perso-rg".into(),
        name: "exai-perso-aks".into(),
        location: Location::parse("francecentral").unwrap(),
        kubernetes_version: None,
        dns_prefix: Cluster::default_dns_prefix("exai-perso-aks", "exai-perso-rg", SUB),
        node_pools: vec![NodePool {
            name: "nodepool1".into(),
            vm_size: "Standard_B2s".into(),
            mode: PoolMode::System,
            size: PoolSize::Fixed { count: 1 },
        }],
        ssh: SshKeySource::Generate,
        monitoring_workspace: None,
        app_routing: None,
        tags,
        ssh_public_key: Some(KEY.into()),
    }
}

/// A richer cluster: a pinned version, an autoscaled user pool, monitoring on.
fn full() -> Cluster {
    let mut c = recipe();
    c.kubernetes_version = Some("1.33.5".into());
    c.node_pools.push(NodePool {
        name: "work".into(),
        vm_size: "Standard_D4s_v5".into(),
        mode: PoolMode::User,
        size: PoolSize::Autoscale { min: 1, max: 5, initial: 2 },
    });
    c.monitoring_workspace = Some(workspace());
    c
}

/// What AKS returns for [`full`]: every server-filled member, ids in other casings.
fn full_live() -> Value {
    json!({
        "id": format!("/subscriptions/{SUB}/resourcegroups/exai-perso-rg/providers/Microsoft.ContainerService/managedClusters/exai-perso-aks"),
        "name": "exai-perso-aks",
        "type": "Microsoft.ContainerService/managedClusters",
        "location": "francecentral",
        "eTag": "a1",
        "tags": {"project": "exai", "exai-owner": "perso.cluster"},
        "identity": {"type": "SystemAssigned", "principalId": "00000000-0000-0000-0000-0000000000p1", "tenantId": "t"},
        "sku": {"name": "Base", "tier": "Free"},
        "properties": {
            "provisioningState": "Succeeded",
            "powerState": {"code": "Running"},
            "kubernetesVersion": "1.33.5",
            "currentKubernetesVersion": "1.33.5",
            "dnsPrefix": "exai-perso-exai-perso-rg-ee0000",
            "fqdn": "exai-perso-exai-perso-rg-ee0000-1a2b3c4d.hcp.francecentral.azmk8s.io",
            "azurePortalFQDN": "exai-perso-exai-perso-rg-ee0000-1a2b3c4d.portal.hcp.francecentral.azmk8s.io",
            "agentPoolProfiles": [
                {"name": "nodepool1", "count": 1, "vmSize": "Standard_B2s", "osType": "Linux", "mode": "System",
                 "type": "VirtualMachineScaleSets", "eTag": "p1", "orchestratorVersion": "1.33.5",
                 "currentOrchestratorVersion": "1.33.5", "nodeImageVersion": "AKSUbuntu-2204gen2containerd-202610.01.0",
                 "provisioningState": "Succeeded", "powerState": {"code": "Running"}, "upgradeSettings": {"maxSurge": "10%"},
                 "maxPods": 110, "osDiskSizeGB": 128},
                {"name": "work", "count": 2, "vmSize": "Standard_D4s_v5", "osType": "Linux", "mode": "User",
                 "type": "VirtualMachineScaleSets", "enableAutoScaling": true, "minCount": 1, "maxCount": 5, "eTag": "p2",
                 "orchestratorVersion": "1.33.5", "nodeImageVersion": "AKSUbuntu-2204gen2containerd-202610.01.0"}
            ],
            "linuxProfile": {"adminUsername": "azureuser", "ssh": {"publicKeys": [{"keyData": "ssh-rsa other-machine"}]}},
            "servicePrincipalProfile": {"clientId": "msi"},
            "addonProfiles": {"omsagent": {"enabled": true, "config": {
                "logAnalyticsWorkspaceResourceID": workspace().as_str(), "useAADAuth": "true"},
                "identity": {"resourceId": "x", "clientId": "c", "objectId": "o"}}},
            "nodeResourceGroup": "MC_exai-perso-rg_exai-perso-aks_francecentral",
            "enableRBAC": true,
            "supportPlan": "KubernetesOfficial",
            "networkProfile": {"networkPlugin": "kubenet", "podCidr": "10.244.0.0/16", "serviceCidr": "10.0.0.0/16",
                "dnsServiceIP": "10.0.0.10", "outboundType": "loadBalancer", "loadBalancerSku": "standard"},
            "maxAgentPools": 100,
            "identityProfile": {"kubeletidentity": {"resourceId": "k", "clientId": "kc", "objectId": "ko"}},
            "autoUpgradeProfile": {"upgradeChannel": "none", "nodeOSUpgradeChannel": "NodeImage"}
        }
    })
}

/// The official example `ManagedClustersGet.json` (2026-08-01), adapted to the recipe: the
/// names, region (in display form), DNS prefix, VM size and count are the spec's; a
/// `SystemAssigned` identity and the managed tags are added (the example is a service-principal
/// cluster without them). Everything else — `eTag`s, `fqdn`, `nodeImageVersion`, the network
/// profile, `maxAgentPools`, `upgradeSettings`, foreign tags, a pool without `mode` — is kept.
fn official_example() -> Value {
    let path =
        concat!(env!("CARGO_MANIFEST_DIR"), "/../exai-emulator/tests/fixtures/arm-examples/managedclusters-get.json");
    let example: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut body = example["responses"]["200"]["body"].clone();
    let text = serde_json::to_string(&body)
        .unwrap()
        .replace("00000000-0000-0000-0000-000000000000", SUB)
        .replace("clustername1", "exai-perso-aks")
        .replace("/resourceGroups/rg1/", "/resourceGroups/exai-perso-rg/")
        .replace("MC_rg1", "MC_exai-perso-rg")
        .replace("dnsprefix1", "exai-perso-exai-perso-rg-ee0000");
    body = serde_json::from_str(&text).unwrap();
    body["location"] = json!("France Central");
    body["identity"] = json!({"type": "SystemAssigned", "principalId": "p", "tenantId": "t"});
    body["tags"]["project"] = json!("exai");
    body["tags"][OWNER_TAG] = json!("perso.cluster");
    let pool = &mut body["properties"]["agentPoolProfiles"][0];
    pool["vmSize"] = json!("Standard_B2s");
    pool["count"] = json!(1);
    body
}

fn desired(cluster: Cluster) -> DesiredState {
    DesiredState {
        tenant: "t".into(),
        resources: vec![DesiredResource {
            address: address(),
            depends_on: vec![],
            protect: false,
            spec: DesiredSpec::Cluster(Box::new(cluster)),
        }],
    }
}

fn live(document: Option<Value>) -> LiveState {
    let mut state = LiveState::new();
    let observation = match document {
        None => Observation::Absent,
        Some(document) => Observation::Present(LiveResource {
            id: ResourceId::parse(document["id"].as_str().unwrap()).unwrap(),
            document,
        }),
    };
    state.insert(address(), observation);
    state
}

fn change(cluster: Cluster, document: Option<Value>) -> Change {
    plan(&desired(cluster), &live(document)).unwrap().resource_changes.remove(0)
}

fn paths(change: &Change) -> Vec<&str> {
    change.diffs.iter().map(|d| d.path.as_str()).collect()
}

#[test]
fn an_absent_cluster_is_created_with_the_body_az_aks_create_sends() {
    let c = change(recipe(), None);
    assert_eq!(c.action, Action::Create);
    assert_eq!(c.requests.len(), 1);
    let request = &c.requests[0];
    assert_eq!(request.method, Method::Put);
    assert_eq!(
        request.path,
        format!(
            "/subscriptions/{SUB}/resourceGroups/exai-perso-rg/providers/Microsoft.ContainerService/managedClusters/exai-perso-aks"
        )
    );
    assert_eq!(request.api_version.as_deref(), Some("2026-08-01"));
    assert_eq!(
        request.body,
        Some(json!({
            "location": "francecentral",
            "tags": {"exai-owner": "perso.cluster", "project": "exai"},
            "identity": {"type": "SystemAssigned"},
            "properties": {
                "dnsPrefix": "exai-perso-exai-perso-rg-ee0000",
                "agentPoolProfiles": [{"name": "nodepool1", "vmSize": "Standard_B2s", "osType": "Linux", "mode": "System",
                                        "type": "VirtualMachineScaleSets", "count": 1}],
                "linuxProfile": {"adminUsername": "azureuser", "ssh": {"publicKeys": [{"keyData": KEY}]}},
                "enableRBAC": true
            }
        }))
    );
}

#[test]
fn monitoring_pinned_version_and_autoscaling_are_in_the_create_body() {
    let c = change(full(), None);
    let body = c.requests[0].body.as_ref().unwrap();
    assert_eq!(body["properties"]["kubernetesVersion"], "1.33.5");
    assert_eq!(
        body["properties"]["addonProfiles"],
        json!({"omsagent": {"enabled": true, "config": {
            "logAnalyticsWorkspaceResourceID": workspace().as_str(), "useAADAuth": "true"}}})
    );
    assert_eq!(
        body["properties"]["agentPoolProfiles"][1],
        json!({"name": "work", "vmSize": "Standard_D4s_v5", "osType": "Linux", "mode": "User",
               "type": "VirtualMachineScaleSets", "count": 2, "enableAutoScaling": true, "minCount": 1, "maxCount": 5})
    );
}

#[test]
fn the_official_example_plans_without_noise() {
    let c = change(recipe(), Some(official_example()));
    assert_eq!(c.action, Action::NoOp, "{:#?}", c.diffs);
    assert!(c.requests.is_empty());
    assert_eq!(c.observed.keys().collect::<Vec<_>>(), ["tags.archv2", "tags.tier"]);
}

#[test]
fn the_full_cluster_as_aks_returns_it_plans_without_noise() {
    let c = change(full(), Some(full_live()));
    assert_eq!(c.action, Action::NoOp, "{:#?}", c.diffs);
    assert!(c.observed.is_empty(), "the autoscaler's count within its bounds: {:?}", c.observed);
}

#[test]
fn each_owned_field_changed_alone_is_exactly_that_diff() {
    type Edit = fn(&mut Cluster, &mut Value);
    let cases: Vec<(&str, Edit)> = vec![
        ("kubernetesVersion", |c, _| c.kubernetes_version = Some("1.34.1".into())),
        ("agentPoolProfiles.nodepool1.count", |c, _| c.node_pools[0].size = PoolSize::Fixed { count: 3 }),
        ("agentPoolProfiles.work.mode", |c, _| c.node_pools[1].mode = PoolMode::System),
        ("agentPoolProfiles.work.minCount", |c, _| {
            c.node_pools[1].size = PoolSize::Autoscale { min: 2, max: 5, initial: 2 }
        }),
        ("agentPoolProfiles.work.maxCount", |c, _| {
            c.node_pools[1].size = PoolSize::Autoscale { min: 1, max: 9, initial: 2 }
        }),
        ("agentPoolProfiles.work.enableAutoScaling", |_, live| {
            live["properties"]["agentPoolProfiles"][1]["enableAutoScaling"] = json!(false)
        }),
        ("addonProfiles.omsagent.enabled", |_, live| {
            live["properties"]["addonProfiles"]["omsagent"]["enabled"] = json!(false)
        }),
        ("addonProfiles.omsagent.config.logAnalyticsWorkspaceResourceID", |c, _| {
            c.monitoring_workspace =
                Some(ResourceId::in_group(SUB, "other-rg", "Microsoft.OperationalInsights/workspaces", "logs"))
        }),
        ("identity.type", |_, live| live["identity"] = json!({"type": "UserAssigned", "userAssignedIdentities": {}})),
        ("tags.project", |c, _| c.tags.insert("project", "exai-platform")),
        ("tags.team", |c, _| c.tags.insert("team", "platform")),
    ];
    for (path, edit) in cases {
        let mut cluster = full();
        let mut document = full_live();
        edit(&mut cluster, &mut document);
        let c = change(cluster, Some(document));
        assert_eq!(c.action, Action::Update, "{path}: {:#?}", c.diffs);
        assert_eq!(paths(&c), [path], "{path}");
        assert!(c.diffs[0].forces_replacement.is_none(), "{path}");
        assert_eq!(c.requests.len(), 1, "{path}");
        assert!(c.blocked.is_none(), "{path}");
        let body = c.requests[0].body.as_ref().unwrap();
        if path.starts_with("tags.") {
            // A tag change alone: AKS's tags PATCH, the live tags with the managed ones set.
            assert_eq!(c.requests[0].method, Method::Patch, "{path}");
            let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["tags"], "{path}");
            assert_eq!(body["tags"][path.trim_start_matches("tags.")], c.diffs[0].after.clone().unwrap(), "{path}");
        } else {
            // Anything else: the PUT of the writable members, conditional on the eTag.
            assert_eq!(c.requests[0].method, Method::Put, "{path}");
            assert_eq!(c.requests[0].headers, [("If-Match".to_owned(), "a1".to_owned())], "{path}");
            assert_eq!(exai_model::kinds::read_only_members_in(body), Vec::<String>::new(), "{path}");
        }
    }
}

#[test]
fn a_tag_change_with_another_change_is_one_put_carrying_both() {
    let mut cluster = full();
    cluster.tags.insert("team", "platform");
    cluster.node_pools[0].size = PoolSize::Fixed { count: 3 };
    let c = change(cluster, Some(full_live()));
    assert_eq!(paths(&c), ["agentPoolProfiles.nodepool1.count", "tags.team"]);
    assert_eq!(c.requests.len(), 1);
    assert_eq!(c.requests[0].method, Method::Put);
    let body = c.requests[0].body.as_ref().unwrap();
    assert_eq!(body["tags"]["team"], "platform");
    assert_eq!(body["properties"]["agentPoolProfiles"][0]["count"], 3);
}

#[test]
fn the_update_body_carries_the_change_and_keeps_the_autoscaler_count() {
    let mut cluster = full();
    cluster.node_pools[0].size = PoolSize::Fixed { count: 3 };
    let mut document = full_live();
    document["properties"]["agentPoolProfiles"][1]["count"] = json!(4);
    let c = change(cluster, Some(document));
    let pools = &c.requests[0].body.as_ref().unwrap()["properties"]["agentPoolProfiles"];
    assert_eq!(pools[0]["count"], 3);
    assert_eq!(pools[1]["count"], 4, "the autoscaler's count is written back as it is");
    assert_eq!(pools[0]["upgradeSettings"]["maxSurge"], "10%", "unowned fields are kept");
}

#[test]
fn churn_azure_makes_by_itself_is_no_change() {
    type Churn = fn(&mut Value);
    let cases: Vec<(&str, Churn)> = vec![
        ("new eTags", |d| {
            d["eTag"] = json!("a2");
            d["properties"]["agentPoolProfiles"][0]["eTag"] = json!("p9");
        }),
        ("nodeImageVersion", |d| {
            d["properties"]["agentPoolProfiles"][0]["nodeImageVersion"] =
                json!("AKSUbuntu-2204gen2containerd-202611.02.0")
        }),
        ("powerState", |d| {
            d["properties"]["powerState"] = json!({"code": "Stopped"});
            d["properties"]["agentPoolProfiles"][0]["powerState"] = json!({"code": "Stopped"});
        }),
        // A non-terminal provisioningState (`Updating`) is not churn: it is a `wait` (tests/in_progress.rs).
        ("provisioningState casing", |d| d["properties"]["provisioningState"] = json!("succeeded")),
        ("currentKubernetesVersion", |d| d["properties"]["currentKubernetesVersion"] = json!("1.33.6")),
        ("a foreign tag", |d| d["tags"]["costCenter"] = json!("42")),
        ("tag key casing", |d| {
            d["tags"] = json!({"Project": "exai", "EXAI-OWNER": "perso.cluster"});
        }),
        ("workspace id casing", |d| {
            let id = workspace().as_str().to_lowercase().replace("/resourcegroups/", "/resourceGroups/");
            d["properties"]["addonProfiles"]["omsagent"]["config"]["logAnalyticsWorkspaceResourceID"] =
                json!(id.to_uppercase());
        }),
        ("add-on name and config key casing", |d| {
            let addon = d["properties"]["addonProfiles"]["omsagent"].take();
            let mut addon = addon;
            let id = addon["config"]["logAnalyticsWorkspaceResourceID"].take();
            addon["config"] = json!({"logAnalyticsWorkspaceResourceId": id, "useAADAuth": "true"});
            d["properties"]["addonProfiles"] = json!({"omsAgent": addon});
        }),
        ("region display name", |d| d["location"] = json!("France Central")),
        ("vm size casing", |d| d["properties"]["agentPoolProfiles"][0]["vmSize"] = json!("standard_b2s")),
        ("identity type casing", |d| d["identity"]["type"] = json!("systemassigned")),
        ("pool order", |d| {
            let pools = d["properties"]["agentPoolProfiles"].as_array_mut().unwrap();
            pools.reverse();
        }),
        ("the autoscaler scaling out", |d| d["properties"]["agentPoolProfiles"][1]["count"] = json!(5)),
        ("the autoscaler scaling in", |d| d["properties"]["agentPoolProfiles"][1]["count"] = json!(1)),
        ("the ssh key of another machine", |d| {
            d["properties"]["linuxProfile"]["ssh"]["publicKeys"][0]["keyData"] = json!("ssh-rsa AAAA another")
        }),
        ("server defaults", |d| {
            d["properties"]["networkProfile"]["loadBalancerProfile"] = json!({"managedOutboundIPs": {"count": 1}});
            d["properties"]["maxAgentPools"] = json!(1);
            d["properties"]["agentPoolProfiles"][0]["upgradeSettings"] = json!({"maxSurge": "33%"});
            d["properties"]["nodeResourceGroup"] = json!("MC_other");
        }),
    ];
    for (what, churn) in cases {
        let mut document = full_live();
        churn(&mut document);
        let c = change(full(), Some(document));
        assert_eq!(c.action, Action::NoOp, "{what}: {:#?}", c.diffs);
        assert!(c.requests.is_empty(), "{what}");
    }
}

#[test]
fn dns_prefix_and_region_changes_are_replacements_naming_the_field() {
    for (path, edit) in [
        ("dnsPrefix", (|c: &mut Cluster| c.dns_prefix = "exai-new".into()) as fn(&mut Cluster)),
        ("location", |c: &mut Cluster| c.location = Location::parse("westeurope").unwrap()),
    ] {
        let mut cluster = full();
        edit(&mut cluster);
        let c = change(cluster, Some(full_live()));
        assert_eq!(c.action, Action::Replace, "{path}");
        assert_eq!(paths(&c), [path]);
        let reason = c.reason.unwrap();
        assert!(reason.starts_with(&format!("`{path}` forces replacement")), "{reason}");
        assert!(c.warning.unwrap().contains("every workload"));
        assert_eq!(c.requests[0].method, Method::Delete);
        assert_eq!(c.requests[1].method, Method::Put);
    }
}

#[test]
fn resizing_a_pool_is_explained_not_attempted() {
    let mut cluster = full();
    cluster.node_pools[0].vm_size = "Standard_D2s_v5".into();
    let c = change(cluster.clone(), Some(full_live()));
    assert_eq!(paths(&c), ["agentPoolProfiles.nodepool1.vmSize"]);
    assert_eq!(c.action, Action::Update);
    let why = c.blocked.as_deref().unwrap();
    assert!(
        why.starts_with("`agentPoolProfiles.nodepool1.vmSize`: AKS cannot change the VM size of an existing node pool"),
        "{why}"
    );
    assert!(why.contains("new pool"), "says what to do: {why}");
    assert!(c.requests.is_empty(), "nothing is attempted: {:?}", c.requests);
    // Even if asked, the update body never carries a resize.
    let body = cluster.update_body(&full_live());
    assert_eq!(body["properties"]["agentPoolProfiles"][0]["vmSize"], "Standard_B2s");
}

#[test]
fn adding_or_removing_a_pool_is_explained_and_never_replaces_the_cluster() {
    // Added: the pool set differs; the new pool's own fields are additions, not resizes.
    let mut cluster = full();
    cluster.node_pools.push(NodePool {
        name: "gpu".into(),
        vm_size: "Standard_NC6s_v3".into(),
        mode: PoolMode::User,
        size: PoolSize::Fixed { count: 1 },
    });
    let c = change(cluster, Some(full_live()));
    assert_ne!(c.action, Action::Replace);
    assert!(paths(&c).contains(&"agentPoolProfiles"));
    let why = c.blocked.as_deref().unwrap();
    assert!(
        why.contains("`agentPoolProfiles`: AKS adds and removes node pools only through its agent pool API"),
        "{why}"
    );
    assert!(why.contains("az aks nodepool add"), "{why}");
    assert!(c.requests.is_empty());

    // Removed from the spec: never silently ignored.
    let mut cluster = full();
    cluster.node_pools.pop();
    let c = change(cluster, Some(full_live()));
    assert_eq!(paths(&c), ["agentPoolProfiles"]);
    assert_eq!(c.diffs[0].before, Some(json!(["nodepool1", "work"])));
    assert!(c.blocked.is_some() && c.requests.is_empty());
}

/// [`full_live`] with the application routing add-on on, as AKS answers after
/// `az aks approuting enable`: its read-only identity and NGINX default filled in.
fn live_with_app_routing() -> Value {
    let mut document = full_live();
    document["properties"]["ingressProfile"] = json!({"webAppRouting": {
        "enabled": true,
        "nginx": {"defaultIngressControllerType": "AnnotationControlled"},
        "identity": {"resourceId": "r", "clientId": "c", "objectId": "o"}
    }});
    document
}

#[test]
fn app_routing_declared_matches_what_aks_fills_in_and_a_toggle_is_one_in_place_update() {
    let mut on = full();
    on.app_routing = Some(true);
    let c = change(on.clone(), Some(live_with_app_routing()));
    assert_eq!(c.action, Action::NoOp, "{:#?}", c.diffs);
    assert!(c.observed.is_empty(), "{:?}", c.observed);

    // Off where AKS holds no ingress profile: the default, no change either.
    let mut off = full();
    off.app_routing = Some(false);
    assert_eq!(change(off.clone(), Some(full_live())).action, Action::NoOp);

    for (cluster, document, before, after) in
        [(off, live_with_app_routing(), true, false), (on, full_live(), false, true)]
    {
        let c = change(cluster, Some(document));
        assert_eq!(c.action, Action::Update);
        assert_eq!(paths(&c), [Cluster::APP_ROUTING_FIELD]);
        assert_eq!((c.diffs[0].before.clone(), c.diffs[0].after.clone()), (Some(json!(before)), Some(json!(after))));
        assert!(c.diffs[0].forces_replacement.is_none() && c.blocked.is_none());
        assert_eq!(c.requests.len(), 1);
        assert_eq!(c.requests[0].method, Method::Put);
        let body = c.requests[0].body.as_ref().unwrap();
        assert_eq!(body["properties"]["ingressProfile"]["webAppRouting"]["enabled"], after);
        assert!(body.pointer("/properties/ingressProfile/webAppRouting/identity").is_none());
    }
}

#[test]
fn app_routing_left_out_of_the_spec_is_observed_when_on_and_never_planned() {
    let c = change(full(), Some(live_with_app_routing()));
    assert_eq!(c.action, Action::NoOp, "{:#?}", c.diffs);
    assert_eq!(c.observed.get(Cluster::APP_ROUTING_FIELD), Some(&json!(true)));
    assert!(!c.after.unwrap_or_default().contains_key(Cluster::APP_ROUTING_FIELD));
    assert!(change(full(), Some(full_live())).observed.is_empty());
}
