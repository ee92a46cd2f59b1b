//! What every example spec expands into: each resource, its dependencies and its whole desired
//! form (ownership marks, inherited tags and locations, derived names), as one snapshot per
//! example. A change to validation or expansion that changes what exai would ask Azure for shows
//! here as a snapshot diff.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::path::PathBuf;

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

fn env(name: &str) -> Option<String> {
    match name {
        "AZURE_TENANT_ID" => Some("ee000000-0000-4000-8000-000000000001".into()),
        "AZURE_SUBSCRIPTION_ID" => Some("ee000000-0000-4000-8000-000000000002".into()),
        _ => None,
    }
}

#[test]
fn every_example_expands_to_its_snapshot() {
    let mut files = vec![repo("specs/exai.yaml")];
    let mut examples: Vec<PathBuf> =
        std::fs::read_dir(repo("specs/valid")).unwrap().map(|e| e.unwrap().path()).collect();
    examples.sort();
    files.extend(examples);
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let spec = exai_spec::parse("exai.yaml", &text, &env).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let state = spec.desired_state(None).unwrap();
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let name = if file.parent() == Some(repo("specs").as_path()) { "exai".to_owned() } else { stem };
        insta::assert_json_snapshot!(name, state);
    }
}

/// Returns each resource of `text` as `address <- dependencies`, in expansion order.
fn edges(text: &str) -> Vec<String> {
    let spec = exai_spec::parse("exai.yaml", text, &env).unwrap();
    let state = spec.desired_state(None).unwrap();
    state
        .resources
        .iter()
        .map(|r| {
            let needs: Vec<&str> = r.depends_on.iter().map(|a| a.as_str()).collect();
            format!("{} <- [{}]", r.address.as_str(), needs.join(", "))
        })
        .collect()
}

/// The cluster's edges to the registry and the workspace exist only when its flags ask for them:
/// the sections being declared is not enough.
#[test]
fn cluster_edges_follow_its_flags_not_its_siblings() {
    let text = |flags: &str| {
        format!(
            "version: 1
azure:
  tenant: ${{AZURE_TENANT_ID}}
  subscription: ${{AZURE_SUBSCRIPTION_ID}}
defaults: {{ location: francecentral }}
environments:
  dev:
    resourceGroup: {{ name: exai-dev-rg }}
    registry: {{ name: exaidevacr }}
    monitoring: {{ workspace: exai-dev-logs }}
    cluster:
      name: exai-dev-aks
      nodePools: [ {{ name: system, count: 1, vmSize: Standard_B2s }} ]
      ssh: {{ generate: true }}
{flags}"
        )
    };
    assert_eq!(
        edges(&text("")),
        [
            "dev.resourceGroup <- []",
            "dev.registry <- [dev.resourceGroup]",
            "dev.monitoring <- [dev.resourceGroup]",
            "dev.cluster <- [dev.resourceGroup]",
        ]
    );
    assert_eq!(
        edges(&text("      attachRegistry: true\n      monitoring: true\n")),
        [
            "dev.resourceGroup <- []",
            "dev.registry <- [dev.resourceGroup]",
            "dev.monitoring <- [dev.resourceGroup]",
            "dev.cluster.dcr <- [dev.resourceGroup, dev.monitoring]",
            "dev.cluster <- [dev.resourceGroup, dev.cluster.dcr]",
            "dev.cluster.dcr-association <- [dev.cluster, dev.cluster.dcr]",
            "dev.cluster.acr-pull <- [dev.cluster, dev.registry]",
        ]
    );
}

/// A deployer's role waits for the resource group only when it is scoped to it.
#[test]
fn identity_role_waits_for_the_group_only_when_scoped_to_it() {
    let text = |scope: &str| {
        format!(
            "version: 1
azure:
  tenant: ${{AZURE_TENANT_ID}}
  subscription: ${{AZURE_SUBSCRIPTION_ID}}
environments:
  dev:
    resourceGroup: {{ name: exai-dev-rg, location: westeurope }}
    deployer:
      name: exai-dev-deployer
      role: Owner
      scope: {scope}
      github: {{ repository: my-org/infra, branches: [main] }}
"
        )
    };
    let role = |scope: &str| edges(&text(scope)).into_iter().find(|e| e.starts_with("dev.deployer.role")).unwrap();
    assert_eq!(role("subscription"), "dev.deployer.role <- [dev.deployer.sp]");
    assert_eq!(role("resourceGroup"), "dev.deployer.role <- [dev.deployer.sp, dev.resourceGroup]");
}

/// `deploy: { registry: push, cluster: user }` becomes exactly two role assignments for the
/// deployer's service principal: AcrPush on the registry and the AKS cluster user role on the
/// cluster, each after the principal and its resource, both listed at the group (one read,
/// whose answer also shows a grant that left the spec); without `role`, nothing else.
#[test]
fn deploy_access_is_two_role_assignments_on_the_registry_and_the_cluster() {
    let text = |deployer: &str| {
        format!(
            "version: 1
azure:
  tenant: ${{AZURE_TENANT_ID}}
  subscription: ${{AZURE_SUBSCRIPTION_ID}}
defaults: {{ location: francecentral }}
environments:
  dev:
    resourceGroup: {{ name: exai-dev-rg }}
    registry: {{ name: exaidevacr }}
    cluster:
      name: exai-dev-aks
      nodePools: [ {{ name: system, count: 1, vmSize: Standard_B2s }} ]
      ssh: {{ generate: true }}
    deployer:
      name: exai-dev-deployer
{deployer}"
        )
    };
    let assignments = |deployer: &str| -> Vec<(String, String, String, String, Vec<String>)> {
        let spec = exai_spec::parse("exai.yaml", &text(deployer), &env).unwrap();
        let state = spec.desired_state(None).unwrap();
        state
            .resources
            .iter()
            .filter_map(|r| match &r.spec {
                exai_model::DesiredSpec::RoleAssignment(a) if r.address.as_str().starts_with("dev.deployer") => Some((
                    r.address.as_str().to_owned(),
                    a.role_definition.clone(),
                    a.scope.as_str().to_owned(),
                    a.list_scope.as_ref().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                    r.depends_on.iter().map(|d| d.as_str().to_owned()).collect(),
                )),
                _ => None,
            })
            .collect()
    };
    let group = "/subscriptions/ee000000-0000-4000-8000-000000000002/resourceGroups/exai-dev-rg";
    let registry = format!("{group}/providers/Microsoft.ContainerRegistry/registries/exaidevacr");
    let cluster = format!("{group}/providers/Microsoft.ContainerService/managedClusters/exai-dev-aks");
    let both = assignments("      deploy: { registry: push, cluster: user }\n");
    assert_eq!(
        both,
        [
            (
                "dev.deployer.deploy.registry".to_owned(),
                "8311e382-0749-4cb8-b61a-304f252e45ec".to_owned(),
                registry.clone(),
                group.to_owned(),
                vec!["dev.deployer.sp".to_owned(), "dev.registry".to_owned()],
            ),
            (
                "dev.deployer.deploy.cluster".to_owned(),
                "4abbcc35-e782-43d8-92c5-2d3f1bd2253f".to_owned(),
                cluster.clone(),
                group.to_owned(),
                vec!["dev.deployer.sp".to_owned(), "dev.cluster".to_owned()],
            ),
        ]
    );
    // One grant alone; and a role beside it keeps its own address and scope.
    let cluster_only = assignments("      deploy: { cluster: user }\n");
    assert_eq!(cluster_only.iter().map(|a| a.0.as_str()).collect::<Vec<_>>(), ["dev.deployer.deploy.cluster"]);
    let with_role = assignments("      role: Contributor\n      deploy: { registry: push }\n");
    let shown: Vec<(&str, &str)> = with_role.iter().map(|a| (a.0.as_str(), a.2.as_str())).collect();
    assert_eq!(shown, [("dev.deployer.role", group), ("dev.deployer.deploy.registry", registry.as_str())]);
    assert_eq!(with_role[0].3, "", "the role is read at its own scope, as before");
}
