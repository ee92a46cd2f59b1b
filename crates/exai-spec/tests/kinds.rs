//! The table of kinds against the expansion: every kind exai manages is one some spec declares.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use exai_model::KindName;
use std::collections::BTreeSet;
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

/// A kind in `exai_model::KindName` that no example spec expands to is a kind the expansion
/// forgot (or an example the docs lack): either way the end-to-end tests, which run the
/// examples, never exercise it. A new kind passes once `Environment::expand` produces it and an
/// example in `specs/valid/` declares it.
#[test]
fn the_examples_expand_to_every_kind_in_the_table() {
    let mut files = vec![repo("specs/exai.yaml")];
    files.extend(std::fs::read_dir(repo("specs/valid")).unwrap().map(|e| e.unwrap().path()));
    let mut expanded = BTreeSet::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let spec = exai_spec::parse(&file.display().to_string(), &text, &env)
            .unwrap_or_else(|e| panic!("{} does not parse: {e:?}", file.display()));
        let state = spec.desired_state(None).unwrap();
        expanded.extend(state.resources.iter().map(|r| r.spec.as_kind().name()));
    }
    let missing: Vec<KindName> = KindName::ALL.iter().copied().filter(|k| !expanded.contains(k)).collect();
    assert!(missing.is_empty(), "no example spec declares a resource of kind {missing:?}");
}

/// Every ARM request any kind of the examples sends (create, update, delete) has the ARM
/// action it needs, so the plan's permission check covers every kind (a path the derivation
/// cannot read would leave a change silently unchecked).
#[test]
fn every_arm_request_of_every_kind_needs_an_action_the_check_can_name() {
    use exai_model::permissions::required_action;
    use exai_model::{Known, LiveResource, ResourceId, Service};
    let mut files = vec![repo("specs/exai.yaml")];
    files.extend(std::fs::read_dir(repo("specs/valid")).unwrap().map(|e| e.unwrap().path()));
    let mut seen = BTreeSet::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let spec = exai_spec::parse(&file.display().to_string(), &text, &env).unwrap();
        for resource in spec.desired_state(None).unwrap().resources {
            let kind = resource.spec.as_kind();
            // An id known only once a dependency is read (a rule named after a referenced
            // workspace's region) is the one its create is sent to.
            let created = kind.create_requests(Known::nothing()).into_iter().find(|r| r.service == Service::Arm);
            let id = kind
                .id()
                .or_else(|| created.and_then(|r| ResourceId::parse(&r.path).ok()))
                .unwrap_or_else(|| ResourceId::graph("/applications/0"));
            let live = LiveResource { id, document: serde_json::json!({}) };
            let requests = kind
                .create_requests(Known::nothing())
                .into_iter()
                .chain(kind.update_requests(&live, Known::nothing()))
                .chain(kind.delete_requests(&live));
            for request in requests.filter(|r| r.service == Service::Arm) {
                let needed = required_action(&request).unwrap_or_else(|| {
                    panic!("{}: no action for {} {}", resource.address, request.method, request.path)
                });
                let verb = needed.action.rsplit('/').next().unwrap();
                assert!(
                    ["read", "write", "delete", "action"].contains(&verb) && needed.action.matches('/').count() >= 2,
                    "{}: {} {} → {}",
                    resource.address,
                    request.method,
                    request.path,
                    needed.action
                );
                seen.insert(needed.action);
            }
        }
    }
    for expected in [
        "Microsoft.Resources/subscriptions/resourceGroups/write",
        "Microsoft.ContainerRegistry/registries/write",
        "Microsoft.ContainerService/managedClusters/write",
        "Microsoft.Authorization/roleAssignments/write",
        "Microsoft.Insights/dataCollectionRules/write",
        "Microsoft.Insights/dataCollectionRuleAssociations/write",
        "Microsoft.OperationalInsights/workspaces/write",
    ] {
        assert!(seen.contains(expected), "{expected} not among {seen:#?}");
    }
}
