//! Validation of specs with many environments: every cross-environment rule still holds at
//! hundreds of environments (the checks are map lookups, linear in the environments).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use exai_spec::parse;

fn env(_: &str) -> Option<String> {
    None
}

/// Returns one environment of the seed recipe, every name derived from `name`.
fn environment(name: &str, group: &str, registry: &str, deployer: &str) -> String {
    format!(
        "  {name}:
    resourceGroup:
      name: {group}
    registry:
      name: {registry}
    monitoring:
      workspace: exai-{name}-logs
    cluster:
      name: exai-{name}-aks
      nodePools:
        - name: nodepool1
          count: 1
          vmSize: Standard_B2s
      attachRegistry: true
      monitoring: true
      ssh:
        generate: true
    deployer:
      name: {deployer}
      role: Owner
      scope: resourceGroup
      github:
        repository: my-org/exai
        environments: [{name}]
"
    )
}

/// Returns a spec of `n` seed environments (`env0` ... ), followed by `extra` verbatim.
fn spec(n: usize, extra: &str) -> String {
    let mut text = String::from(
        "version: 1
azure:
  tenant: ee000000-0000-4000-8000-000000000001
  subscription: ee000000-0000-4000-8000-000000000002
defaults:
  location: francecentral
environments:
",
    );
    for i in 0..n {
        let name = format!("env{i}");
        text.push_str(&environment(
            &name,
            &format!("exai-{name}-rg"),
            &format!("exai{i}acr"),
            &format!("exai-{name}-sp"),
        ));
    }
    text.push_str(extra);
    text
}

#[test]
fn eight_hundred_distinct_environments_are_valid() {
    let spec = parse("exai.yaml", &spec(800, ""), &env).unwrap();
    assert_eq!(spec.environments.len(), 800);
    assert_eq!(spec.environments[799].name, "env799");
    assert_eq!(spec.environments[799].resource_group.resource.name, "exai-env799-rg");
}

#[test]
fn eight_hundred_environments_still_report_each_clash_once_against_the_first() {
    // The last environment reuses the group of env0 (in other casing), the registry of env17
    // and the deployer name of env400: each clash names the environment that declared it first.
    let last = environment("late", "EXAI-ENV0-RG", "exai17acr", "exai-env400-sp");
    let e = parse("exai.yaml", &spec(800, &last), &env).expect_err("clashes are errors");
    let messages: Vec<_> = e.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "environments `env0` and `late` declare the same resource group `EXAI-ENV0-RG`",
            "environments `env17` and `late` declare the same registry `exai17acr`",
            "environments `env400` and `late` both have an identity named `exai-env400-sp`",
        ]
    );
}
