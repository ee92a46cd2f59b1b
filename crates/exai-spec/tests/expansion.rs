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
