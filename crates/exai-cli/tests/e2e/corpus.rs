//! The spec corpus through the real binary: every file in `specs/invalid/` fails validation
//! with exit 1 and exactly the diagnostics of its snapshot; every file in `specs/valid/` (and the
//! examples) validates with exit 0 and prints its expansion.
//!
//! Review changed snapshots with `cargo insta review` (or `INSTA_UPDATE=always` and `git diff`).

use crate::harness::{Scratch, repo_root, run_in_repo};
use std::path::Path;

fn relative(path: &Path) -> String {
    path.strip_prefix(repo_root()).unwrap_or(path).display().to_string()
}

#[test]
fn every_invalid_spec_fails_with_its_diagnostics() {
    let count = std::fs::read_dir(repo_root().join("specs/invalid")).map(|d| d.count()).unwrap_or(0);
    assert!(count >= 40, "the invalid corpus has {count} files; it must have at least 40");
    insta::glob!("../../../../specs/invalid", "*.yaml", |path| {
        let file = relative(path);
        let run = run_in_repo(&["validate", "--emulator", "-f", &file]);
        run.expect_code(1);
        assert!(run.stdout.is_empty(), "{file}: nothing on stdout for an invalid spec:\n{}", run.stdout);
        assert!(run.stderr.starts_with("error: "), "{file}: the first line is an error:\n{}", run.stderr);
        insta::assert_snapshot!(run.stderr);
    });
}

#[test]
fn every_valid_spec_validates_and_prints_its_expansion() {
    insta::glob!("../../../../specs", "{valid/*.yaml,exai.yaml}", |path| {
        let file = relative(path);
        let run = run_in_repo(&["validate", "--emulator", "-f", &file]);
        run.expect_code(0);
        insta::assert_snapshot!(run.stdout);
    });
}

#[test]
fn every_example_starts_with_the_schema_line() {
    insta::glob!("../../../../specs", "{valid/*.yaml,exai.yaml}", |path| {
        let text = std::fs::read_to_string(path).expect("read spec");
        assert!(
            text.starts_with("# yaml-language-server: $schema="),
            "{} must start with the schema line",
            path.display()
        );
    });
}

/// The 10 MB case is generated here rather than committed, to keep the repository small.
#[test]
fn a_ten_megabyte_spec_is_refused_before_parsing() {
    let s = Scratch::with_spec(&format!("version: 1\n# {}\n", "x".repeat(10 * 1024 * 1024)));
    let run = s.run(&["validate", "--emulator", "-f", "exai.yaml"]);
    run.expect_code(1);
    assert!(run.stderr.contains("exai reads specs of at most 1048576 bytes"), "{}", run.stderr);
}
