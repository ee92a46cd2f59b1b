//! The whole recipe (`specs/exai.yaml`, both environments) through the real binary: plan, apply,
//! plan again with no changes; a no-op plan that reads each object once; a failure in the middle
//! of an apply that the next apply repairs without duplicating anything; and no secret anywhere.

use crate::harness::{Filters, InProcessEmulator, Scratch, assert_run, example_spec};

/// A scratch copy of the example pointed at `emulator`, with the development tenant and
/// subscription.
fn recipe(emulator: &InProcessEmulator) -> (Scratch, impl Fn(&Scratch, &[&str]) -> crate::harness::Run) {
    let mut s = Scratch::with_spec(&example_spec());
    s.env("AZURE_TENANT_ID", exai_emulator::DEV_TENANT_ID)
        .env("AZURE_SUBSCRIPTION_ID", exai_emulator::DEV_SUBSCRIPTION_ID);
    let endpoint = emulator.args();
    let run = move |s: &Scratch, args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["-f", "exai.yaml"]);
        all.extend(endpoint.iter().map(String::as_str));
        s.run(&all)
    };
    (s, run)
}

/// Returns how many ARM resources of `azure_type` the emulator holds (from `/_emulator/export`;
/// resources nested under one of them, like a role assignment on a registry, are not counted).
fn count(emulator: &InProcessEmulator, azure_type: &str) -> usize {
    let export = emulator.export();
    let needle = format!("/providers/{}/", azure_type.to_ascii_lowercase());
    let of_type =
        |id: &String| id.to_ascii_lowercase().rsplit_once(&needle).is_some_and(|(_, name)| !name.contains('/'));
    export.as_object().map(|m| m.keys().filter(|id| of_type(id)).count()).unwrap_or(0)
}

#[test]
fn the_whole_recipe_applies_and_then_plans_clean() {
    let emulator = InProcessEmulator::start();
    let (s, exai) = recipe(&emulator);
    let filters = Filters::default().scratch(&s);
    // The first plan of the whole recipe is `skeleton`'s snapshot.
    exai(&s, &["plan", "--detailed-exitcode"]).expect_code(2);
    assert_run!("whole_recipe_apply", filters, exai(&s, &["apply", "--auto-approve"]));

    let before = emulator.emulator.requests().len();
    assert_run!("whole_recipe_plan_after_apply", filters, exai(&s, &["plan", "--detailed-exitcode"]));
    // A no-op plan reads each object once and writes nothing (plus its tokens): 32 objects,
    // of which the 2 federated credentials of prod's deployer share one list, and perso's
    // deployer's role and its 2 deploy grants the principal's list at the group (so 29 reads),
    // and one ownership scan per resource group; and the caller's permissions once per scope
    // (each group and the subscription).
    let reads: Vec<_> = emulator
        .emulator
        .requests()
        .into_iter()
        .skip(before)
        .filter(|r| r.kind != exai_emulator::RequestKind::Token)
        .collect();
    let shown = || reads.iter().map(|r| format!("{} {}", r.method, r.path)).collect::<Vec<_>>();
    assert_eq!(reads.len(), 29 + 2 + 3, "{:#?}", shown());
    assert!(reads.iter().all(|r| r.method == "GET"), "{:#?}", shown());
    let mut distinct: Vec<String> =
        reads.iter().map(|r| format!("{}?{}", r.path, r.query.clone().unwrap_or_default())).collect();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), reads.len(), "nothing is read twice: {:#?}", shown());

    // A no-op apply sends no write.
    let before = emulator.emulator.requests().len();
    assert_run!("whole_recipe_second_apply", filters, exai(&s, &["apply", "--auto-approve"]));
    assert!(emulator.emulator.requests().into_iter().skip(before).all(|r| !r.is_write()));
}

#[test]
fn a_failure_in_the_middle_of_apply_is_repaired_by_the_next_apply_without_duplicates() {
    // The creation of perso's registry ends `Failed` (once): the AcrPull assignment, which
    // needs it, is skipped; everything independent is created.
    let fault: exai_emulator::FaultRule =
        "PUT /subscriptions/*/resourceGroups/exai-perso-rg/providers/Microsoft.ContainerRegistry/registries/* lro-failed times=1"
            .parse()
            .expect("fault rule");
    let emulator =
        InProcessEmulator::start_with(exai_emulator::EmulatorOptions { faults: vec![fault], ..Default::default() });
    let (s, exai) = recipe(&emulator);
    let filters = Filters::default().scratch(&s);
    // `perso.registry` fails, `perso.cluster.acr-pull` is skipped, independent branches finish.
    assert_run!("registry_failed", filters, exai(&s, &["apply", "--auto-approve"]));
    // The registry exists, its operation failed: the PUT is sent again (an update), and what
    // was skipped is created.
    assert_run!("repaired", filters, exai(&s, &["apply", "--auto-approve"]));
    exai(&s, &["plan", "--detailed-exitcode"]).expect_code(0);
    assert_eq!(count(&emulator, "Microsoft.ContainerRegistry/registries"), 2, "one registry per environment");
    assert_eq!(count(&emulator, "Microsoft.ContainerService/managedClusters"), 2, "one cluster per environment");
    assert_eq!(
        count(&emulator, "Microsoft.Authorization/roleAssignments"),
        8,
        "one AcrPull and one deployer role per environment, perso's deployer's deploy access (AcrPush, \
         cluster user), prod's planner's Reader, and the \
         subscription's Owner (the development application, which used it first)"
    );
}

#[test]
fn no_secret_or_private_key_appears_in_any_output_plan_or_log() {
    let emulator = InProcessEmulator::start();
    let (s, exai) = recipe(&emulator);
    let mut runs = vec![exai(&s, &["plan"]), exai(&s, &["apply", "--dry-run"]), exai(&s, &["apply", "--auto-approve"])];
    runs.push(exai(&s, &["plan", "--format", "json"]));
    runs.push(exai(&s, &["apply", "--auto-approve"]));
    let private = std::fs::read_to_string(s.path().join(".exai/ssh/perso.cluster")).expect("the generated private key");
    let private_body: String = private.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(private_body.len() > 100);
    let secrets = [exai_emulator::DEV_CLIENT_SECRET, private_body.as_str()];
    for run in &runs {
        for secret in secrets {
            let first_line = secret.chars().take(64).collect::<String>();
            assert!(!run.stdout.contains(&first_line) && !run.stderr.contains(&first_line), "a secret was printed");
        }
    }
    let log = serde_json::to_string(&emulator.emulator.requests()).expect("log JSON");
    for secret in secrets {
        assert!(
            !log.contains(&secret.chars().take(64).collect::<String>()),
            "a secret is in the emulator's request log"
        );
    }
}
