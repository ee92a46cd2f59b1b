//! The AKS cluster end to end: the real binary against the embedded emulator. Plan, apply,
//! plan again shows no change; each owned field changed alone plans as exactly that change and
//! applies; the autoscaler resizing a pool behind exai's back is not a change.

use crate::harness::{Filters, InProcessEmulator, Run, Scratch, assert_run};
use exai_emulator::{DEV_SUBSCRIPTION_ID, DEV_TENANT_ID};
use serde_json::Value;

const SPEC: &str = r#"version: 1
azure:
  tenant: ${AZURE_TENANT_ID}
  subscription: ${AZURE_SUBSCRIPTION_ID}
defaults:
  location: francecentral
  tags: { project: exai }
environments:
  perso:
    resourceGroup: { name: exai-perso-rg }
    cluster:
      name: exai-perso-aks
      kubernetesVersion: "1.33.5"
      identity: SystemAssigned
      nodePools:
        - { name: nodepool1, mode: System, count: 1, vmSize: Standard_B2s }
        - { name: work, mode: User, vmSize: Standard_D4s_v5, autoscale: { min: 1, max: 5 } }
      ssh: { generate: true }
      tags: { tier: compute }
"#;

fn plan(s: &Scratch, extra: &[&str]) -> Run {
    let mut args = vec!["plan", "--emulator", "-f", "exai.yaml"];
    args.extend_from_slice(extra);
    s.run(&args)
}

fn apply(s: &Scratch) -> Run {
    s.run(&["apply", "--emulator", "-f", "exai.yaml", "--auto-approve"])
}

/// Returns the plan document's entry for the cluster.
fn cluster_change(s: &Scratch) -> Value {
    let run = plan(s, &["--format", "json"]);
    run.expect_code(0);
    let doc: Value = serde_json::from_str(&run.stdout).expect("plan JSON");
    let changes = doc["resource_changes"].as_array().cloned().unwrap_or_default();
    changes.into_iter().find(|c| c["address"] == "perso.cluster").expect("perso.cluster is in the plan")
}

fn diff_paths(change: &Value) -> Vec<String> {
    change["diffs"].as_array().into_iter().flatten().filter_map(|d| d["path"].as_str().map(str::to_owned)).collect()
}

/// Applies `SPEC` and checks that the next plan has no change (what each step prints is
/// `apply_creates_the_cluster_and_the_next_plan_has_no_changes`'s snapshots).
fn converged() -> Scratch {
    let s = Scratch::with_spec(SPEC);
    apply(&s).expect_code(0);
    plan(&s, &["--detailed-exitcode"]).expect_code(0);
    s
}

#[test]
fn apply_creates_the_cluster_and_the_next_plan_has_no_changes() {
    let s = Scratch::with_spec(SPEC);
    let filters = Filters::default().scratch(&s);
    // The plan says a key pair will be generated; the apply generates it and says where it is.
    assert_run!("cluster_first_plan", filters, plan(&s, &["--detailed-exitcode"]));
    assert!(!s.path().join(".exai/ssh").exists(), "a plan generated a key");
    assert_run!("cluster_apply", filters, apply(&s));
    assert_run!("cluster_plan_after_apply", filters, plan(&s, &["--detailed-exitcode"]));
    // A second apply writes nothing and says nothing of keys.
    assert_run!("cluster_second_apply", filters, apply(&s));
}

#[test]
fn each_owned_field_changed_alone_plans_as_exactly_that_change_and_applies() {
    let s = converged();
    // A tag change alone is AKS's tags PATCH; anything else the PUT of the writable members.
    let cases = [
        (
            "agentPoolProfiles.nodepool1.count",
            "count: 1, vmSize: Standard_B2s",
            "count: 2, vmSize: Standard_B2s",
            "PUT",
        ),
        ("tags.tier", "tags: { tier: compute }", "tags: { tier: platform }", "PATCH"),
        ("kubernetesVersion", "kubernetesVersion: \"1.33.5\"", "kubernetesVersion: \"1.34.1\"", "PUT"),
        ("agentPoolProfiles.work.maxCount", "autoscale: { min: 1, max: 5 }", "autoscale: { min: 1, max: 7 }", "PUT"),
    ];
    for (path, from, to, method) in cases {
        let spec = s.spec();
        assert!(spec.contains(from), "{path}: the spec holds `{from}`");
        s.write_spec(&spec.replace(from, to));
        // The plan shows exactly that field changed.
        insta::with_settings!({ filters => Filters::default().scratch(&s).settings(), snapshot_suffix => path }, {
            insta::assert_snapshot!("one_field_changed", plan(&s, &["--detailed-exitcode"]).shown());
        });
        let change = cluster_change(&s);
        assert_eq!(change["requests"][0]["method"], method, "{path}");
        apply(&s).expect_code(0);
        plan(&s, &["--detailed-exitcode"]).expect_code(0);
    }
}

#[test]
fn the_autoscaler_changing_the_count_is_not_a_change() {
    let s = converged();
    // The autoscaler scales `work` out to 4 nodes: edit the emulator's state behind exai's back.
    let state_path = s.path().join(".exai/emulator/state.json");
    let text = std::fs::read_to_string(&state_path).expect("emulator state");
    let mut state: Value = serde_json::from_str(&text).expect("state JSON");
    let mut scaled = 0;
    scale_pool(&mut state, "work", 4, &mut scaled);
    assert_eq!(scaled, 1, "the state holds the pool once");
    std::fs::write(&state_path, serde_json::to_string(&state).expect("state JSON")).expect("write state");

    // No change, and no observed line: within the bounds the spec sets, the autoscaler's count
    // is nothing a reviewer can act on.
    assert_run!("autoscaled_pool_is_no_change", Filters::default().scratch(&s), plan(&s, &["--detailed-exitcode"]));

    // A change elsewhere writes the autoscaler's count back as it is.
    s.write_spec(&s.spec().replace("count: 1, vmSize", "count: 2, vmSize"));
    let change = cluster_change(&s);
    assert_eq!(diff_paths(&change), ["agentPoolProfiles.nodepool1.count"]);
    let pools = &change["requests"][0]["body"]["properties"]["agentPoolProfiles"];
    let work = pools.as_array().into_iter().flatten().find(|p| p["name"] == "work").expect("pool work");
    assert_eq!(work["count"], 4, "{pools:#}");
    apply(&s).expect_code(0);
    plan(&s, &["--detailed-exitcode"]).expect_code(0);
}

/// Sets `count` of every agent pool named `name` found anywhere in `value`.
fn scale_pool(value: &mut Value, name: &str, count: u64, scaled: &mut usize) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(pools)) = map.get_mut("agentPoolProfiles") {
                for pool in pools.iter_mut().filter(|p| p["name"] == name) {
                    pool["count"] = Value::from(count);
                    *scaled += 1;
                }
            }
            for v in map.values_mut() {
                scale_pool(v, name, count, scaled);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| scale_pool(v, name, count, scaled)),
        _ => {}
    }
}

#[test]
fn the_generated_ssh_key_is_sent_at_creation_and_kept_private() {
    let s = Scratch::with_spec(SPEC);
    // A dry run writes nothing: the key pair is generated by the real apply, so the request
    // holds `keyData` as known after apply.
    let dry = s.run(&["apply", "--emulator", "-f", "exai.yaml", "--dry-run"]);
    assert_run!("dry_run_before_the_key_exists", Filters::default().scratch(&s), dry);
    assert!(!s.path().join(".exai/ssh").exists(), "a dry run generated a key");
    apply(&s).expect_code(0);
    let private = s.path().join(".exai/ssh/perso.cluster");
    let key = std::fs::read_to_string(&private).expect("the private key is kept");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&private).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let public = std::fs::read_to_string(s.path().join(".exai/ssh/perso.cluster.pub")).expect("public key");
    let state = std::fs::read_to_string(s.path().join(".exai/emulator/state.json")).expect("state");
    assert!(state.contains(public.trim()), "the cluster holds the generated public key");
    let secret = key.lines().nth(1).unwrap_or_default();
    assert!(!secret.is_empty());
    for run in [plan(&s, &[]), plan(&s, &["--format", "json"]), apply(&s)] {
        assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret), "the private key was printed");
    }
    assert!(!state.contains(secret));
    // Planned again: the same key, nothing regenerated.
    plan(&s, &["--detailed-exitcode"]).expect_code(0);
    assert_eq!(std::fs::read_to_string(&private).expect("private key"), key);
}

#[test]
fn a_new_cluster_apply_sends_the_generated_key_once() {
    // What the plan and the apply say of the key is
    // `apply_creates_the_cluster_and_the_next_plan_has_no_changes`'s snapshots.
    let emulator = InProcessEmulator::start();
    let mut s = Scratch::with_spec(SPEC);
    s.env("AZURE_TENANT_ID", DEV_TENANT_ID).env("AZURE_SUBSCRIPTION_ID", DEV_SUBSCRIPTION_ID);
    s.run_against(&emulator, &["apply", "-f", "exai.yaml", "--auto-approve"]).expect_code(0);
    let public = std::fs::read_to_string(s.path().join(".exai/ssh/perso.cluster.pub")).expect("the public key");
    let puts: Vec<_> = emulator
        .emulator
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT" && r.path.ends_with("/managedClusters/exai-perso-aks"))
        .collect();
    assert_eq!(puts.len(), 1, "{puts:#?}");
    let sent = puts[0].body.as_ref().and_then(|b| b.pointer("/properties/linuxProfile/ssh/publicKeys/0/keyData"));
    assert_eq!(sent.and_then(Value::as_str), Some(public.trim()), "the generated key is the one sent");

    // Applied again: the key files untouched.
    s.run_against(&emulator, &["apply", "-f", "exai.yaml", "--auto-approve"]).expect_code(0);
    assert_eq!(std::fs::read_to_string(s.path().join(".exai/ssh/perso.cluster.pub")).expect("key"), public);
}

#[test]
fn an_apply_in_a_fresh_checkout_against_an_existing_cluster_generates_no_key_and_says_nothing_of_keys() {
    let emulator = InProcessEmulator::start();
    let mut first = Scratch::with_spec(SPEC);
    first.env("AZURE_TENANT_ID", DEV_TENANT_ID).env("AZURE_SUBSCRIPTION_ID", DEV_SUBSCRIPTION_ID);
    first.run_against(&emulator, &["apply", "-f", "exai.yaml", "--auto-approve"]).expect_code(0);

    // Another checkout (a CI run): no `.exai/ssh/`, a spec that changes the cluster's tags, and
    // one that names a key file this machine does not have.
    for (case, ssh) in
        [("generate", "ssh: { generate: true }"), ("missing_file", "ssh: { publicKeyFile: ~/.ssh/missing.pub }")]
    {
        let mut ci = Scratch::with_spec(&SPEC.replace("ssh: { generate: true }", ssh));
        ci.env("AZURE_TENANT_ID", DEV_TENANT_ID)
            .env("AZURE_SUBSCRIPTION_ID", DEV_SUBSCRIPTION_ID)
            .env("HOME", "/nonexistent");
        // Nothing of keys in the plan nor in the apply.
        insta::with_settings!({ filters => Filters::default().scratch(&ci).settings(), snapshot_suffix => case }, {
            insta::assert_snapshot!("fresh_checkout_plan", ci.run_against(&emulator, &["plan", "-f", "exai.yaml"]).shown());
            ci.write_spec(&ci.spec().replace("tier: compute", "tier: platform"));
            let before = emulator.emulator.requests().len();
            let applied = ci.run_against(&emulator, &["apply", "-f", "exai.yaml", "--auto-approve"]);
            insta::assert_snapshot!("fresh_checkout_apply", applied.shown());
        assert!(!ci.path().join(".exai").exists(), "{ssh}: nothing was written next to the spec");
        // The tag change is one tags PATCH of the cluster, and no PUT.
        let writes: Vec<(String, String)> = emulator
            .emulator
            .requests()
            .into_iter()
            .skip(before)
            .filter(|r| r.is_write() && r.path.starts_with("/subscriptions/"))
            .map(|r| (r.method, r.path.rsplit('/').next().unwrap_or_default().to_owned()))
            .collect();
        assert_eq!(writes, [("PATCH".to_owned(), "exai-perso-aks".to_owned())], "{ssh}");
        });
        first.write_spec(&ci.spec().replace(ssh, "ssh: { generate: true }").replace("tier: platform", "tier: compute"));
        first.run_against(&emulator, &["apply", "-f", "exai.yaml", "--auto-approve"]).expect_code(0);
    }
}

#[test]
fn no_body_sent_to_arm_by_the_recipe_and_an_update_of_each_kind_holds_a_read_only_member() {
    let state = tempfile::tempdir().expect("a temporary directory");
    let state_file = state.path().join("state.json");
    let emulator = InProcessEmulator::start_with(exai_emulator::EmulatorOptions {
        state_file: Some(state_file.clone()),
        ..Default::default()
    });
    let mut s = Scratch::with_example();
    s.env("AZURE_TENANT_ID", DEV_TENANT_ID).env("AZURE_SUBSCRIPTION_ID", DEV_SUBSCRIPTION_ID);
    s.run_against(&emulator, &["apply", "-f", "exai.yaml", "--auto-approve"]).expect_code(0);
    // The server fields a read-modify-write must survive are there (the emulator's own tests
    // check their values), and the next plan is empty with them.
    emulator.emulator.save_state().expect("the state saved");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&state_file).expect("the state file"))
        .expect("the state file is JSON");
    let served = |kind: &str| bodies_of_type(&saved, kind);
    let clusters = served("Microsoft.ContainerService/managedClusters");
    assert_eq!(clusters.len(), 2, "{saved:#}");
    for cluster in clusters {
        for pointer in
            ["/systemData/lastModifiedBy", "/properties/resourceUID", "/properties/oidcIssuerProfile/enabled"]
        {
            assert!(cluster.pointer(pointer).is_some(), "{pointer} in {cluster:#}");
        }
    }
    let rules = served("Microsoft.Insights/dataCollectionRules");
    assert!(!rules.is_empty());
    for rule in rules {
        assert!(rule.pointer("/properties/destinations/logAnalytics/0/workspaceId").is_some(), "{rule:#}");
    }
    s.run_against(&emulator, &["plan", "-f", "exai.yaml", "--detailed-exitcode"]).expect_code(0);

    // An update of each kind exai writes: new default tags (the group, registry, workspace and
    // rule, and the cluster's tags PATCH), a pool count (a PUT of the whole cluster), the
    // registry's SKU, the workspace's retention, and the deployer's role (a new role
    // assignment).
    let spec = s.spec();
    let edits = [
        ("  tags:\n    project: exai\n", "  tags:\n    project: exai\n    cost-center: platform\n"),
        ("count: 1                        # --node-count 1", "count: 2"),
        ("      name: exaipersoacr\n      sku: Standard\n", "      name: exaipersoacr\n      sku: Premium\n"),
        ("      workspace: exai-perso-logs\n", "      workspace: exai-perso-logs\n      retentionDays: 60\n"),
        (
            "      role: Reader                        # exai output reads the group, registry and cluster\n",
            "      role: Contributor\n",
        ),
    ];
    let mut edited = spec.clone();
    for (from, to) in edits {
        assert!(edited.contains(from), "the example spec holds {from:?}");
        edited = edited.replacen(from, to, 1);
    }
    s.write_spec(&edited);
    let before = emulator.emulator.requests().len();
    s.run_against(&emulator, &["apply", "-f", "exai.yaml", "--auto-approve", "--env", "perso", "--allow-delete"])
        .expect_code(0);
    s.run_against(&emulator, &["plan", "-f", "exai.yaml", "--detailed-exitcode", "--env", "perso"]).expect_code(0);

    let writes: Vec<_> = emulator
        .emulator
        .requests()
        .into_iter()
        .filter(|r| matches!(r.method.as_str(), "PUT" | "PATCH") && r.path.starts_with("/subscriptions/"))
        .collect();
    let updated: std::collections::BTreeSet<String> = writes[..]
        .iter()
        .filter(|r| r.seq >= before as u64)
        .filter_map(|r| exai_model::kinds::resource_type_of(&r.path))
        .collect();
    for kind in [
        "Microsoft.Resources/resourceGroups",
        "Microsoft.ContainerRegistry/registries",
        "Microsoft.OperationalInsights/workspaces",
        "Microsoft.Insights/dataCollectionRules",
        "Microsoft.ContainerService/managedClusters",
        "Microsoft.Authorization/roleAssignments",
    ] {
        assert!(updated.iter().any(|written| written.eq_ignore_ascii_case(kind)), "no update of {kind}: {updated:?}");
    }
    // Every body exai sent to ARM, checked against its type's list (a type written with no
    // list fails: a new kind comes with its sourced read-only members); POST actions have
    // bodies of their own.
    let listed: Vec<&str> = exai_model::kinds::read_only_types().collect();
    for write in &writes {
        let kind = exai_model::kinds::resource_type_of(&write.path).unwrap_or_default();
        assert!(
            listed.iter().any(|l| l.eq_ignore_ascii_case(&kind)),
            "no read-only list for `{kind}` ({})",
            write.path
        );
        let found =
            write.body.as_ref().map(|body| exai_model::kinds::read_only_members_of(&kind, body)).unwrap_or_default();
        assert_eq!(found, Vec::<String>::new(), "{} {}", write.method, write.path);
    }
}

/// Returns every resource body of ARM type `kind` found anywhere in `value` (the emulator's
/// saved state).
fn bodies_of_type<'a>(value: &'a Value, kind: &str) -> Vec<&'a Value> {
    match value {
        Value::Object(members)
            if members.get("type").and_then(Value::as_str) == Some(kind) && members.contains_key("id") =>
        {
            vec![value]
        }
        Value::Object(members) => members.values().flat_map(|member| bodies_of_type(member, kind)).collect(),
        Value::Array(items) => items.iter().flat_map(|item| bodies_of_type(item, kind)).collect(),
        _ => Vec::new(),
    }
}
