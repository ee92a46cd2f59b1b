//! The Kubernetes checks through the real binary: `exai check` of the example overlay (passes)
//! and of each broken overlay of the corpus (`crates/exai-kube/tests/corpus/`, one mistake
//! each: its one finding, located in its source file), `exai plan` showing the checks in text,
//! Markdown and the JSON document, `exai apply` refusing, no Secret value in any output, and
//! the error when neither kustomize nor kubectl is installed.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crate::harness::{Filters, InProcessEmulator, Run, assert_run, repo_root, tools_path};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

/// The corpus's spec, relative to the repository: `perso` of the example, its overlay `${CASE}`.
const CORPUS_SPEC: &str = "crates/exai-kube/tests/corpus/exai.yaml";

/// Runs `exai ARGS` from the repository root with the harness's clean environment, `PATH`
/// and `CASE` (the corpus case the corpus spec checks).
fn exai(args: &[&str], case: &str, path: &str) -> Run {
    let output = Command::new(crate::harness::exai_bin())
        .args(args)
        .current_dir(repo_root())
        .env_clear()
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env("CASE", case)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Returns the corpus's cases: every directory beside its spec.
fn cases() -> Vec<String> {
    let dir = repo_root().join("crates/exai-kube/tests/corpus");
    let mut cases: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    cases.sort();
    cases
}

/// Returns every Secret value of the example's `secretGenerator`s, as written and as the
/// base64 kustomize renders: what no output may hold.
fn secret_values() -> Vec<String> {
    let text = std::fs::read_to_string(repo_root().join("examples/k8s/base/secrets/kustomization.yaml")).unwrap();
    let values: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- "))
        .filter_map(|l| l.split_once('='))
        .map(|(_, value)| value.to_owned())
        .collect();
    assert!(values.len() >= 3, "the example's Secrets have literal values: {values:?}");
    let encoded = values.iter().map(|v| base64(v.as_bytes()));
    values.iter().cloned().chain(encoded).collect()
}

/// Standard base64 (RFC 4648), as a Secret's `data` holds it.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Panics if any of `runs` shows a Secret value of the example, on either stream.
fn assert_no_secret_value(runs: &[&Run]) {
    let values = secret_values();
    for run in runs {
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            for value in &values {
                assert!(!text.contains(value.as_str()), "{stream} shows the Secret value {value:?}:\n{text}");
            }
        }
    }
}

#[test]
fn base64_is_the_standard_one() {
    assert_eq!(base64(b"secret"), "c2VjcmV0");
    assert_eq!(base64(b"ab"), "YWI=");
    assert_eq!(base64(b"a"), "YQ==");
}

#[test]
fn the_example_overlay_passes_its_checks() {
    let run = exai(&["check", "-f", "specs/exai.yaml"], "", &tools_path());
    assert_run!("example_passes", Filters::default(), run.expect_code(0));
    let json = exai(&["check", "-f", "specs/exai.yaml", "--format", "json"], "", &tools_path());
    json.expect_code(0);
    let document: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(document["checks"][0]["environment"], "perso");
    assert_eq!(document["checks"][0]["findings"], serde_json::json!([]));
    assert_no_secret_value(&[&run, &json]);
}

#[test]
fn each_broken_overlay_fails_with_its_one_finding_located_in_its_source() {
    let cases = cases();
    assert!(cases.len() >= 15, "the corpus holds at least 15 broken overlays: {cases:?}");
    let mut runs = Vec::new();
    for case in &cases {
        // `scratch` has no `kubernetes.namespace` and no registry, for the cases about those.
        let env = if case == "namespace-none" { "scratch" } else { "perso" };
        let text = exai(&["check", "-f", CORPUS_SPEC, "--env", env], case, &tools_path());
        let json = exai(&["check", "-f", CORPUS_SPEC, "--env", env, "--format", "json"], case, &tools_path());
        let document: Value =
            serde_json::from_str(&json.stdout).unwrap_or_else(|e| panic!("{case}: {e}\n{}", json.stdout));
        let findings = document["checks"][0]["findings"].as_array().unwrap().clone();
        assert_eq!(findings.len(), 1, "{case}: one mistake, one finding: {findings:#?}");
        let finding = &findings[0];
        // A floating tag beside pinned ones is a warning: shown, exit 0.
        let code = if finding["severity"] == "warning" { 0 } else { 1 };
        assert_eq!(finding["severity"] == "warning", case == "image-latest-job", "{case}: {finding}");
        text.expect_code(code);
        json.expect_code(code);
        let file = finding["file"].as_str().unwrap_or_else(|| panic!("{case}: located in a file: {finding}"));
        assert!(finding["line"].as_u64().is_some(), "{case}: on a line: {finding}");
        let source = repo_root().join("crates/exai-kube/tests/corpus").join(file);
        assert!(source.is_file(), "{case}: `{file}` is a source file");
        insta::with_settings!({ filters => Filters::default().settings() }, {
            insta::assert_snapshot!(format!("corpus_{case}"), text.shown());
        });
        runs.push(text);
        runs.push(json);
    }
    assert_no_secret_value(&runs.iter().collect::<Vec<_>>());
}

#[test]
fn without_kustomize_or_kubectl_the_error_names_what_to_install() {
    let run = exai(&["check", "-f", "specs/exai.yaml"], "", "/nonexistent");
    assert_run!("no_renderer", Filters::default(), run.expect_code(1));
}

#[test]
fn plan_shows_the_checks_in_text_markdown_and_json_and_apply_refuses() {
    let emulator = InProcessEmulator::start();
    let endpoint = emulator.args();
    let with = |args: &[&str]| -> Vec<String> {
        let (command, rest) = args.split_first().unwrap();
        let mut all: Vec<String> =
            [command, "-f", CORPUS_SPEC, "--env", "perso"].iter().map(|s| s.to_string()).collect();
        all.extend(rest.iter().map(|s| s.to_string()));
        all.extend(endpoint.iter().cloned());
        all
    };
    let run = |args: &[&str]| {
        let args = with(args);
        exai(&args.iter().map(String::as_str).collect::<Vec<_>>(), "secret-key-underscore", &tools_path())
    };
    let filters = Filters::default();

    // Errors fail the plan, even with `--detailed-exitcode` (2 is for "changes", never errors).
    let text = run(&["plan", "--detailed-exitcode"]);
    assert_run!("plan_text", filters, text.expect_code(1));

    let markdown = run(&["plan", "--format", "markdown"]);
    markdown.expect_code(1);
    assert!(markdown.stdout.chars().count() <= exai_planner::GITHUB_COMMENT_LIMIT);
    let section = markdown.stdout.split("### Kubernetes checks").nth(1).expect("a Kubernetes checks section");
    let section = section.split("\n\n<details>").next().unwrap_or(section);
    insta::with_settings!({ filters => filters.settings() }, {
        insta::assert_snapshot!("plan_markdown_checks", format!("### Kubernetes checks{section}"));
    });

    let json = run(&["plan", "--format", "json"]);
    json.expect_code(1);
    let document: Value = serde_json::from_str(&json.stdout).unwrap();
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(repo_root().join("docs/plan.schema.json")).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&document).map(|e| format!("{e} at {}", e.instance_path)).collect();
    assert_eq!(errors, Vec::<String>::new());
    assert_eq!(document["format_version"], 3);
    insta::with_settings!({ filters => filters.settings() }, {
        insta::assert_json_snapshot!("plan_json_checks", document["checks"]);
    });

    // The environment's apply is refused before any write.
    let before = emulator.arm_writes_since(0).len();
    let apply = run(&["apply", "--auto-approve"]);
    apply.expect_code(1);
    let refusal = apply.stderr.lines().skip_while(|l| !l.starts_with("error:")).collect::<Vec<_>>().join("\n");
    insta::assert_snapshot!("apply_refused", refusal);
    assert_eq!(emulator.arm_writes_since(before), Vec::new(), "nothing was written");

    assert_no_secret_value(&[&text, &markdown, &json, &apply]);
}

#[test]
fn the_corpus_spec_and_the_example_name_the_same_fixture() {
    // The corpus patches the example's overlay: a case that stopped patching it would pass
    // for the wrong reason.
    let overlay: PathBuf = repo_root().join("examples/k8s/overlays/azure/kustomization.yaml");
    assert!(overlay.is_file());
    let referencing = cases()
        .iter()
        .filter(|case| {
            let k = repo_root().join("crates/exai-kube/tests/corpus").join(case).join("kustomization.yaml");
            std::fs::read_to_string(k).unwrap().contains("examples/k8s/")
        })
        .count();
    assert_eq!(referencing, cases().len(), "every case builds on examples/k8s");
}

#[test]
fn the_readme_finding_is_what_exai_prints() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let start = readme.find("Kubernetes checks of perso (secret-key-underscore)").expect("the README shows a finding");
    let end = start + readme[start..].find("```").expect("the block is closed");
    let run = exai(&["check", "-f", CORPUS_SPEC, "--env", "perso"], "secret-key-underscore", &tools_path());
    run.expect_code(1);
    assert_eq!(run.stdout.trim(), readme[start..end].trim(), "the README's block must be exactly what exai prints");
}
