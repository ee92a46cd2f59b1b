//! `exai output`: the values a deploy needs, read from live Azure for one environment.
//!
//! The values come from the objects the environment declares, as Azure holds them — never from
//! the spec alone: a registry's login server, a cluster's node resource group and kubelet
//! identity exist only once Azure made them. The reads are observation's
//! ([`exai_executor::observe_with`], the one place exai reads declared objects), restricted to
//! the group, registry, cluster and deployer application, without the permission reads; plus
//! the subscription itself (`GET /subscriptions/{id}`), which holds the tenant's id even when
//! the spec names the tenant by a domain.
//!
//! Nothing here is secret: ids, names and a host name. A declared object Azure does not hold
//! is an error naming every one missing, never an absent key: a deploy that read an empty
//! login server would push somewhere else.

use exai_azure::{AzureClient, AzureError};
use exai_executor::ObserveError;
use exai_model::{Address, ApiRequest, DesiredState, LiveState, Method, Observation};
use exai_spec::{Environment, Spec};
use serde_json::Value;

/// The keys `exai output` writes, in order: the contract with the deploy workflow
/// (`examples/github/workflows/exai-deploy.yml`) and docs/github-actions.md.
pub const OUTPUT_KEYS: &[&str] = &[
    "subscription_id",
    "tenant_id",
    "resource_group",
    "registry_name",
    "registry_login_server",
    "cluster_name",
    "cluster_resource_group",
    "node_resource_group",
    "kubelet_client_id",
    "kubelet_object_id",
    "deployer_client_id",
];

/// The api-version of `GET /subscriptions/{id}` (Subscriptions - Get, Microsoft.Resources).
const SUBSCRIPTION_API_VERSION: &str = "2022-12-01";

/// Where each value is in the live documents: `(key, the section's address path, JSON pointer)`.
/// Sources: `Registry.properties.loginServer` (containerregistry.json 2025-11-01);
/// `ManagedCluster.properties.nodeResourceGroup` and `identityProfile.kubeletidentity`
/// (`clientId`, `objectId`; managedClusters.json 2026-08-01); Graph `application.appId`.
const FROM_DOCUMENTS: &[(&str, &str, &str)] = &[
    ("resource_group", "resourceGroup", "/name"),
    ("registry_name", "registry", "/name"),
    ("registry_login_server", "registry", "/properties/loginServer"),
    ("cluster_name", "cluster", "/name"),
    ("node_resource_group", "cluster", "/properties/nodeResourceGroup"),
    ("kubelet_client_id", "cluster", "/properties/identityProfile/kubeletidentity/clientId"),
    ("kubelet_object_id", "cluster", "/properties/identityProfile/kubeletidentity/objectId"),
    ("deployer_client_id", "deployer.app", "/appId"),
];

/// The sections whose objects `exai output` reads, by address path.
const READ: &[&str] = &["resourceGroup", "registry", "cluster", "deployer.app"];

/// The values of one environment, in [`OUTPUT_KEYS`] order; a key whose section the
/// environment does not declare (no registry, no deployer) is left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployOutputs {
    /// The environment.
    pub environment: String,
    /// `(key, value)`, in [`OUTPUT_KEYS`] order.
    pub values: Vec<(&'static str, String)>,
}

/// Why the values could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The spec has several environments and none was chosen.
    #[error("the spec declares {} environments; `exai output` reads one", .declared.len())]
    EnvironmentNeeded {
        /// The environments declared.
        declared: Vec<String>,
    },
    /// `--env` names no environment of the spec.
    #[error("{0}")]
    UnknownEnvironment(exai_spec::UnknownEnvironment),
    /// A declared object could not be read.
    #[error("{0}")]
    Observe(ObserveError),
    /// The subscription could not be read.
    #[error("cannot read the subscription `{subscription}`: {source}")]
    Subscription {
        /// Its id.
        subscription: String,
        /// Why.
        #[source]
        source: Box<AzureError>,
    },
    /// Declared objects do not exist in Azure (yet).
    #[error("not in Azure: {}", .missing.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", "))]
    Missing {
        /// The environment.
        environment: String,
        /// The addresses of the objects not found.
        missing: Vec<Address>,
    },
    /// An object exists but lacks a value (a cluster still being created has no kubelet
    /// identity yet).
    #[error("`{address}` has no `{pointer}` in Azure's answer (needed for `{key}`)")]
    NoValue {
        /// The object.
        address: Address,
        /// Where the value should be.
        pointer: String,
        /// The output key.
        key: &'static str,
    },
}

impl OutputError {
    /// Returns what to do next.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::EnvironmentNeeded { declared } => Some(format!("pass `--env` with one of: {}", declared.join(", "))),
            Self::UnknownEnvironment(_) => Some("pass one of the declared names to `--env`".to_owned()),
            Self::Observe(e) => e.hint(),
            Self::Subscription { source, .. } => source.hint(),
            Self::Missing { environment, .. } => {
                Some(format!("run `exai apply --env {environment}` to create them, then `exai output` again"))
            }
            Self::NoValue { .. } => Some(
                "Azure has not finished making it (an operation still running?): `exai plan` shows its state; try again once it has settled"
                    .to_owned(),
            ),
        }
    }

    /// Returns Azure's request id, when Azure answered.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Observe(e) => e.request_id(),
            Self::Subscription { source, .. } => source.request_id(),
            _ => None,
        }
    }
}

/// Returns the environment `only` names, or the spec's only one.
pub fn output_environment<'s>(spec: &'s Spec, only: Option<&str>) -> Result<&'s Environment, OutputError> {
    let selected = spec.select(only).map_err(OutputError::UnknownEnvironment)?;
    match selected.as_slice() {
        [one] => Ok(one),
        _ => {
            Err(OutputError::EnvironmentNeeded { declared: spec.environments.iter().map(|e| e.name.clone()).collect() })
        }
    }
}

/// Reads the values a deploy needs for the environment `only` selects (the spec's only one
/// without it) through `client`.
pub async fn read_outputs(spec: &Spec, only: Option<&str>, client: &AzureClient) -> Result<DeployOutputs, OutputError> {
    let environment = output_environment(spec, only)?;
    let desired = spec.desired_state(Some(&environment.name)).map_err(OutputError::UnknownEnvironment)?;
    let wanted: Vec<Address> = READ.iter().map(|path| Address::new(&environment.name, path)).collect();
    let desired = DesiredState {
        tenant: desired.tenant,
        resources: desired.resources.into_iter().filter(|r| wanted.contains(&r.address)).collect(),
    };
    let subscription = async {
        let path = format!("/subscriptions/{}", environment.subscription);
        let request = ApiRequest::arm(Method::Get, path, SUBSCRIPTION_API_VERSION, None);
        client.read(&request).await.map_err(|source| OutputError::Subscription {
            subscription: environment.subscription.clone(),
            source: Box::new(source),
        })
    };
    let observed = exai_executor::observe_with(&desired, client, crate::READ_PARALLELISM, false);
    let (subscription, live) = futures::future::join(subscription, observed).await;
    let live = live.map_err(OutputError::Observe)?;
    let subscription = subscription?;
    outputs_from(environment, &desired, subscription.as_ref(), &live)
}

/// Returns the values of `environment` from what was read: `desired` (the objects it declares
/// that `exai output` reads), their `live` state and the `subscription`'s document (`None`
/// when Azure answered that it does not exist).
pub fn outputs_from(
    environment: &Environment,
    desired: &DesiredState,
    subscription: Option<&Value>,
    live: &LiveState,
) -> Result<DeployOutputs, OutputError> {
    let env = &environment.name;
    let mut missing = Vec::new();
    let mut documents: Vec<(&str, &Value)> = Vec::new();
    for resource in &desired.resources {
        match live.get(&resource.address) {
            Some(Observation::Present(found)) => {
                let path = resource.address.as_str().strip_prefix(&format!("{env}.")).unwrap_or_default();
                if let Some(path) = READ.iter().find(|p| **p == path) {
                    documents.push((path, &found.document));
                }
            }
            _ => missing.push(resource.address.clone()),
        }
    }
    let subscription_document = match subscription {
        Some(document) => Some(document),
        None => {
            missing.insert(0, Address::new(env, "subscription"));
            None
        }
    };
    if !missing.is_empty() {
        return Err(OutputError::Missing { environment: env.clone(), missing });
    }
    let text = |document: &Value, address: Address, pointer: &str, key: &'static str| match document
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
    {
        Some(value) => Ok((key, value.to_owned())),
        None => Err(OutputError::NoValue { address, pointer: pointer.to_owned(), key }),
    };
    let mut values = Vec::new();
    if let Some(document) = subscription_document {
        let address = Address::new(env, "subscription");
        values.push(text(document, address.clone(), "/subscriptionId", "subscription_id")?);
        values.push(text(document, address, "/tenantId", "tenant_id")?);
    }
    for (key, path, pointer) in FROM_DOCUMENTS {
        let Some((_, document)) = documents.iter().find(|(p, _)| p == path) else { continue };
        values.push(text(document, Address::new(env, path), pointer, key)?);
        if *key == "cluster_name" {
            // The cluster's group is in its id, as Azure spells it.
            let id = document.get("id").and_then(Value::as_str).and_then(|id| exai_model::ResourceId::parse(id).ok());
            let group = id.as_ref().and_then(|id| id.segment_after("resourceGroups").map(str::to_owned));
            match group {
                Some(group) => values.push(("cluster_resource_group", group)),
                None => {
                    return Err(OutputError::NoValue {
                        address: Address::new(env, "cluster"),
                        pointer: "/id".to_owned(),
                        key: "cluster_resource_group",
                    });
                }
            }
        }
    }
    values.sort_by_key(|(key, _)| OUTPUT_KEYS.iter().position(|k| k == key));
    Ok(DeployOutputs { environment: env.clone(), values })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

    use super::*;
    use exai_model::{LiveResource, ResourceId};
    use serde_json::json;

    const SUB: &str = "ee000000-0000-4000-8000-000000000002";

    fn spec(sections: &str) -> Spec {
        let text = format!(
            "version: 1\nazure: {{ tenant: contoso.onmicrosoft.com, subscription: {SUB} }}\ndefaults: {{ location: francecentral }}\nenvironments:\n  dev:\n    resourceGroup: {{ name: dev-rg }}\n{sections}"
        );
        exai_spec::parse("exai.yaml", &text, &|_| None).unwrap()
    }

    fn present(live: &mut LiveState, address: &str, id: &str, document: Value) {
        let id = ResourceId::parse(id).unwrap();
        live.insert(Address::parse(address).unwrap(), Observation::Present(LiveResource { id, document }));
    }

    fn read_set(spec: &Spec) -> DesiredState {
        let desired = spec.desired_state(Some("dev")).unwrap();
        let wanted: Vec<Address> = READ.iter().map(|p| Address::new("dev", p)).collect();
        DesiredState {
            tenant: desired.tenant,
            resources: desired.resources.into_iter().filter(|r| wanted.contains(&r.address)).collect(),
        }
    }

    /// The tenant comes from the subscription as Azure holds it (a GUID), not from the spec
    /// (here a domain); sections the environment does not declare leave their keys out.
    #[test]
    fn keys_of_undeclared_sections_are_left_out_and_the_tenant_is_azure_s() {
        let spec = spec("    registry: { name: devacr }\n");
        let desired = read_set(&spec);
        let group = format!("/subscriptions/{SUB}/resourceGroups/dev-rg");
        let mut live = LiveState::new();
        present(&mut live, "dev.resourceGroup", &group, json!({"name": "dev-rg"}));
        let registry = format!("{group}/providers/Microsoft.ContainerRegistry/registries/devacr");
        present(
            &mut live,
            "dev.registry",
            &registry,
            json!({"name": "devacr", "properties": {"loginServer": "devacr.azurecr.io"}}),
        );
        let subscription = json!({"subscriptionId": SUB, "tenantId": "ee000000-0000-4000-8000-000000000001"});
        let outputs = outputs_from(&spec.environments[0], &desired, Some(&subscription), &live).unwrap();
        assert_eq!(
            outputs.values,
            [
                ("subscription_id", SUB.to_owned()),
                ("tenant_id", "ee000000-0000-4000-8000-000000000001".to_owned()),
                ("resource_group", "dev-rg".to_owned()),
                ("registry_name", "devacr".to_owned()),
                ("registry_login_server", "devacr.azurecr.io".to_owned()),
            ]
        );
    }

    /// A declared object Azure does not hold is an error naming it; one that lacks a value (a
    /// cluster being created, no kubelet identity yet) names the value.
    #[test]
    fn a_missing_object_or_value_is_an_error_not_an_absent_key() {
        let spec = spec(
            "    cluster:\n      name: dev-aks\n      nodePools: [ { name: system, count: 1, vmSize: Standard_B2s } ]\n      ssh: { generate: true }\n",
        );
        let desired = read_set(&spec);
        let group = format!("/subscriptions/{SUB}/resourceGroups/dev-rg");
        let subscription = json!({"subscriptionId": SUB, "tenantId": "t"});
        let mut live = LiveState::new();
        present(&mut live, "dev.resourceGroup", &group, json!({"name": "dev-rg"}));
        live.insert(Address::new("dev", "cluster"), Observation::Absent);
        let error = outputs_from(&spec.environments[0], &desired, Some(&subscription), &live).unwrap_err();
        assert_eq!(error.to_string(), "not in Azure: `dev.cluster`");
        assert_eq!(error.hint().unwrap(), "run `exai apply --env dev` to create them, then `exai output` again");

        let cluster = format!("{group}/providers/Microsoft.ContainerService/managedClusters/dev-aks");
        let creating = json!({"id": cluster, "name": "dev-aks", "properties": {"nodeResourceGroup": "MC_dev"}});
        present(&mut live, "dev.cluster", &cluster, creating);
        let error = outputs_from(&spec.environments[0], &desired, Some(&subscription), &live).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`dev.cluster` has no `/properties/identityProfile/kubeletidentity/clientId` in Azure's answer (needed for `kubelet_client_id`)"
        );
    }

    #[test]
    fn one_environment_is_read_and_several_need_a_choice() {
        let one = spec("");
        assert_eq!(output_environment(&one, None).unwrap().name, "dev");
        let text = format!(
            "version: 1\nazure: {{ tenant: t.onmicrosoft.com, subscription: {SUB} }}\ndefaults: {{ location: francecentral }}\nenvironments:\n  a: {{ resourceGroup: {{ name: a-rg }} }}\n  b: {{ resourceGroup: {{ name: b-rg }} }}\n"
        );
        let two = exai_spec::parse("exai.yaml", &text, &|_| None).unwrap();
        let error = output_environment(&two, None).unwrap_err();
        assert_eq!(error.hint().unwrap(), "pass `--env` with one of: a, b");
        assert_eq!(output_environment(&two, Some("b")).unwrap().name, "b");
        assert!(matches!(output_environment(&two, Some("c")), Err(OutputError::UnknownEnvironment(_))));
    }
}
