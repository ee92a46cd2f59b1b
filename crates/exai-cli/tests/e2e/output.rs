//! What exai prints and how it exits, through the real binary: exit codes from one mapping
//! (2 only ever means "changes present"), no noise on a no-op plan (no warning, no `observed`
//! line a reviewer can do nothing about), and nothing from outside — Azure's error messages, a
//! spec's names — reaching the terminal raw.
//!
//! Every run also passes the harness's scan for raw control characters
//! ([`crate::harness::Run::expect_terminal_safe`], called by `expect_code`).

use crate::harness::{Filters, InProcessEmulator, Scratch, assert_run};
use exai_emulator::{DEV_SUBSCRIPTION_ID, DEV_TENANT_ID, EmulatorOptions, FaultRule};

#[test]
fn a_usage_error_exits_1_and_help_and_version_exit_0() {
    let s = Scratch::with_example();
    let filters = Filters::default();
    assert_run!("typo", filters, s.run(&["plan", "--formt", "markdown"]));
    // Usage errors of every kind: a bad value, a missing command, an invalid fault rule.
    assert_run!("bad_value", filters, s.run(&["plan", "--format", "yaml"]));
    assert_run!("no_command", filters, s.run(&[]));
    assert_run!("bad_fault_rule", filters, s.run(&["emulator", "--fault", "GET"]));
    assert_run!("typo_with_detailed_exitcode", filters, s.run(&["plan", "--detailed-exitcode", "--formt", "json"]));

    assert_run!("help", filters, s.run(&["--help"]));
    s.run(&["plan", "--help"]).expect_code(0);
    s.run(&["help", "apply"]).expect_code(0);
    let version = s.run(&["--version"]);
    version.expect_code(0);
    assert_eq!(version.stdout, format!("exai {}\n", exai_session::VERSION));
}

#[test]
fn detailed_exitcode_is_2_for_changes_0_for_none_and_1_for_any_error() {
    let s = Scratch::with_example();
    let plan = |s: &Scratch| s.run(&["plan", "--emulator", "--env", "perso", "--detailed-exitcode"]);
    plan(&s).expect_code(2);
    // Without the flag, changes are a success.
    s.run(&["plan", "--emulator", "--env", "perso"]).expect_code(0);
    s.run(&["apply", "--emulator", "--env", "perso", "--auto-approve"]).expect_code(0);
    plan(&s).expect_code(0);

    let spec = s.spec();
    s.write_spec(&spec.replace("project: exai", "project: exai-2"));
    plan(&s).expect_code(2);
    // An invalid spec, with or without changes pending: 1, never 2.
    s.write_spec(&spec.replace("name: exai-perso-rg", "name: exai perso rg"));
    plan(&s).expect_code(1);
    s.write_spec(&spec);
    // No credentials (no emulator, no `az`): 1.
    let mut azure = Scratch::with_example();
    azure.env("AZURE_TENANT_ID", DEV_TENANT_ID).env("AZURE_SUBSCRIPTION_ID", DEV_SUBSCRIPTION_ID);
    azure.run(&["plan", "--detailed-exitcode"]).expect_code(1);
    // A refused apply (the old branch's credential would be deleted, without `--allow-delete`): 1.
    s.write_spec(&spec.replace("branches: [production]\n      clientSecret", "branches: [main]\n      clientSecret"));
    plan(&s).expect_code(2);
    assert_run!(
        "refused_apply",
        Filters::default().scratch(&s),
        s.run(&["apply", "--emulator", "--env", "perso", "--auto-approve"])
    );
}

/// Runs `exai ARGS --emulator` in `s`.
fn run(s: &Scratch, args: &[&str]) -> crate::harness::Run {
    let mut all = args.to_vec();
    all.push("--emulator");
    s.run(&all)
}

#[test]
fn a_no_op_plan_of_the_example_prints_no_warning_and_no_observed_line() {
    let s = Scratch::with_example();
    let filters = Filters::default().scratch(&s);
    // The Contributor deployer's warning is the spec's: `validate` (no Azure access) prints it.
    // A plan checks the caller's own permissions instead (here the emulator's Owner, who may
    // write every role assignment), so it does not print the spec's guess beside the answer.
    assert_run!("validate_prod", filters, run(&s, &["validate", "--env", "prod"]));
    let first = run(&s, &["plan"]);
    first.expect_code(0);
    assert_eq!(first.stderr.matches("warning: ").count(), 0, "{}", first.stderr);
    assert_run!("plan_perso", filters, run(&s, &["plan", "--env", "perso"]));

    run(&s, &["apply", "--auto-approve"]).expect_code(0);
    let no_op = run(&s, &["plan"]);
    assert!(!no_op.stdout.contains("warning") && !no_op.stderr.contains("warning"), "{no_op:?}");
    assert!(!no_op.stdout.contains("observed") && !no_op.stderr.contains("observed"), "{no_op:?}");
    assert_run!(filters, no_op);
}

#[test]
fn an_azure_error_holding_escape_sequences_bel_and_a_newline_prints_escaped() {
    // An error body echoing a name (as ARM and Graph do) that holds an escape sequence, a BEL
    // and a newline followed by a forged, green "Apply complete" line.
    let message = "The name 'exai\u{1b}]0;pwned\u{7}' is invalid.\n\u{1b}[32mApply complete: 0 failed.\u{1b}[0m";
    let fault: FaultRule =
        format!("PATCH /v1.0/applications* 500 code=BadRequest message=\"{message}\"").parse().expect("a fault rule");
    let emulator = InProcessEmulator::start_with(EmulatorOptions { faults: vec![fault], ..Default::default() });
    let mut s = Scratch::with_example();
    s.env("AZURE_TENANT_ID", DEV_TENANT_ID).env("AZURE_SUBSCRIPTION_ID", DEV_SUBSCRIPTION_ID);
    let run = s.run_against(&emulator, &["apply", "--env", "perso", "--auto-approve", "-f", "exai.yaml"]);
    // No forged line starts a line of its own.
    assert!(!run.stdout.lines().any(|l| l.starts_with("Apply complete")), "{}", run.stdout);
    assert_run!(Filters::default().literal(&emulator.ca_cert.display().to_string(), "[ca]").scratch(&s), run);
}

#[test]
fn a_write_refused_with_authorization_failed_names_the_action_the_scope_and_the_role_to_grant() {
    // ARM's answer to a principal whose roles do not grant the write (issue 12, contract 3),
    // given by a fault rule here; the emulator's own RBAC answers the same shape.
    let scope = format!(
        "/subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/exai-perso-rg/providers/Microsoft.ContainerRegistry/registries/exaipersoacr"
    );
    let message = format!(
        "The client 'aa000000-0000-4000-8000-000000000001' with object id 'bb000000-0000-4000-8000-000000000002' does not have authorization to perform action 'Microsoft.ContainerRegistry/registries/write' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials."
    );
    let fault: FaultRule = format!(
        "PUT /subscriptions/*/resourceGroups/exai-perso-rg/providers/Microsoft.ContainerRegistry/registries/exaipersoacr 403 code=AuthorizationFailed message=\"{message}\""
    )
    .parse()
    .expect("a fault rule");
    let emulator = InProcessEmulator::start_with(EmulatorOptions { faults: vec![fault], ..Default::default() });
    // A group and its registry: one written after the other, so the whole output is the same
    // from run to run.
    let mut s = Scratch::with_spec(
        "version: 1\nazure:\n  tenant: ${AZURE_TENANT_ID}\n  subscription: ${AZURE_SUBSCRIPTION_ID}\ndefaults:\n  location: francecentral\nenvironments:\n  perso:\n    resourceGroup: { name: exai-perso-rg }\n    registry: { name: exaipersoacr, sku: Standard }\n",
    );
    s.env("AZURE_TENANT_ID", DEV_TENANT_ID).env("AZURE_SUBSCRIPTION_ID", DEV_SUBSCRIPTION_ID);
    let run = s.run_against(&emulator, &["apply", "--auto-approve", "-f", "exai.yaml"]);
    run.expect_code(1);
    assert_run!(Filters::default().scratch(&s), run);
}

#[test]
fn an_azure_error_stopping_a_plan_prints_escaped() {
    // Read errors are reported by `error::report`: Azure's message, then its request id and hint.
    // `retry-after=0` lets the client's retries of a 503 run out at once.
    let message = "Group 'exai\u{1b}[2J\u{7}' is busy.\r\nApply complete: 0 failed.";
    let fault: FaultRule = format!(
        "GET /subscriptions/*/resourcegroups/exai-perso-rg 503 retry-after=0 code=ServerBusy message=\"{message}\""
    )
    .parse()
    .expect("a fault rule");
    let emulator = InProcessEmulator::start_with(EmulatorOptions { faults: vec![fault], ..Default::default() });
    let mut s = Scratch::with_example();
    s.env("AZURE_TENANT_ID", DEV_TENANT_ID).env("AZURE_SUBSCRIPTION_ID", DEV_SUBSCRIPTION_ID);
    let run = s.run_against(&emulator, &["plan", "--env", "perso", "--detailed-exitcode", "-f", "exai.yaml"]);
    // How many times the read is sent again before the retries run out depends on the machine's
    // speed: the announcements are shown as one line.
    let filters = Filters::default()
        .literal(&emulator.ca_cert.display().to_string(), "[ca]")
        .scratch(&s)
        .pattern(r"(?m)(^waiting: ARM answered 503 .*\n)+", "[waiting: ARM answered 503 …, once per attempt]\n");
    assert_run!(filters, run);
}

#[test]
fn a_spec_value_holding_escapes_is_shown_escaped_in_plans_and_dry_runs() {
    // A tag value is free text: YAML's escapes put an ESC and a right-to-left override in it.
    let s = Scratch::with_example();
    s.write_spec(&s.spec().replacen("    project: exai\n", "    project: \"ex\\e[2Jai\\u202e\"\n", 1));
    let filters = Filters::default().scratch(&s);
    assert_run!("plan", filters, s.run(&["plan", "--emulator", "--env", "perso"]));
    assert_run!("markdown", filters, s.run(&["plan", "--emulator", "--env", "perso", "--format", "markdown"]));
    assert_run!("dry_run", filters, s.run(&["apply", "--emulator", "--env", "perso", "--dry-run"]));
}

#[test]
fn completions_print_each_shell_s_script_and_an_unknown_shell_is_a_usage_error() {
    // A line by which each shell registers the script for `exai` (clap_complete's generators).
    let shells = [
        ("bash", "    complete -F _exai -o bashdefault -o default exai"),
        ("zsh", "#compdef exai"),
        (
            "fish",
            "complete -c exai -n \"__fish_exai_needs_command\" -f -a \"plan\" -d 'Show what apply would change: the spec against live Azure, resource by resource'",
        ),
        ("powershell", "Register-ArgumentCompleter -Native -CommandName 'exai' -ScriptBlock {"),
    ];
    for (shell, registration) in shells {
        let run = crate::harness::run_in_repo(&["completions", shell]);
        run.expect_code(0);
        assert_eq!(run.stderr, "", "{shell}");
        assert!(run.stdout.lines().any(|line| line == registration), "{shell}: no `{registration}` in\n{}", run.stdout);
        for command in ["validate", "schema", "plan", "apply", "emulator", "completions"] {
            assert!(run.stdout.contains(command), "{shell}: `{command}` is not completed");
        }
    }
    assert_run!("unknown_shell", Filters::default(), crate::harness::run_in_repo(&["completions", "tcsh"]));
}
