//! The AKS cluster end to end: the real binary against the embedded emulator. Plan, apply,
//! plan again shows no change; each owned field changed alone plans as exactly that change and
//! applies; the autoscaler resizing a pool behind exai's back is not a change.

use exai_tests::{Run, Scratch};
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

/// Applies `SPEC` and checks that the next plan has no change.
fn converged() -> Scratch {
    let s = Scratch::with_spec(SPEC);
    let first = plan(&s, &["--detailed-exitcode"]);
    first.expect_code(2);
    assert!(
        first.stdout.contains("+ perso.cluster (Microsoft.ContainerService/managedClusters) will be created"),
        "{}",
        first.stdout
    );
    let run = apply(&s);
    run.expect_code(0);
    assert!(run.stdout.contains("perso.cluster: created"), "{}", run.stdout);
    let again = plan(&s, &["--detailed-exitcode"]);
    again.expect_code(0);
    assert!(again.stdout.contains("= perso.cluster"), "{}", again.stdout);
    s
}

#[test]
fn apply_creates_the_cluster_and_the_next_plan_has_no_changes() {
    let s = converged();
    // A second apply writes nothing.
    let run = apply(&s);
    run.expect_code(0);
    assert!(run.stdout.contains("Nothing to apply."), "{}", run.stdout);
}

#[test]
fn each_owned_field_changed_alone_plans_as_exactly_that_change_and_applies() {
    let s = converged();
    let cases = [
        ("agentPoolProfiles.nodepool1.count", "count: 1, vmSize: Standard_B2s", "count: 2, vmSize: Standard_B2s"),
        ("tags.tier", "tags: { tier: compute }", "tags: { tier: platform }"),
        ("kubernetesVersion", "kubernetesVersion: \"1.33.5\"", "kubernetesVersion: \"1.34.1\""),
        ("agentPoolProfiles.work.maxCount", "autoscale: { min: 1, max: 5 }", "autoscale: { min: 1, max: 7 }"),
    ];
    for (path, from, to) in cases {
        let spec = s.spec();
        assert!(spec.contains(from), "{path}: the spec holds `{from}`");
        s.write_spec(&spec.replace(from, to));
        plan(&s, &["--detailed-exitcode"]).expect_code(2);
        let change = cluster_change(&s);
        assert_eq!(change["action"], "update", "{path}: {change:#}");
        assert_eq!(diff_paths(&change), [path], "{path}: {change:#}");
        assert_eq!(change["requests"][0]["method"], "PUT", "{path}");
        let run = apply(&s);
        run.expect_code(0);
        assert!(run.stdout.contains("perso.cluster: updated"), "{path}: {}", run.stdout);
        let after = plan(&s, &["--detailed-exitcode"]);
        after.expect_code(0);
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

    plan(&s, &["--detailed-exitcode"]).expect_code(0);
    let change = cluster_change(&s);
    assert_eq!(change["action"], "no-op", "{change:#}");
    // Within the bounds the spec sets, the autoscaler's count is nothing a reviewer can act on.
    assert!(change.get("observed").is_none(), "{change:#}");

    // A change elsewhere writes the autoscaler's count back as it is.
    s.write_spec(&s.spec().replace("tags: { tier: compute }", "tags: { tier: platform }"));
    let change = cluster_change(&s);
    assert_eq!(diff_paths(&change), ["tags.tier"]);
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
    let dry = s.run(&["apply", "--emulator", "-f", "exai.yaml", "--dry-run"]);
    dry.expect_code(0);
    // A dry run writes nothing: the key pair is generated by the real apply.
    assert!(dry.stdout.contains("\"keyData\": \"(an SSH key generated by exai apply)\""), "{}", dry.stdout);
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
