//! The README's examples and checkable claims, against the binary: the spec diagnostic it shows
//! is what exai prints, verbatim, for that mistake; the counts it gives are the repository's;
//! the tour's commands do what their comments say.

use crate::harness::{Run, Scratch, example_spec, repo_root};

fn readme() -> String {
    std::fs::read_to_string(repo_root().join("README.md")).expect("read README.md")
}

/// Returns the body of the first fenced block of `language` after `marker` in the README.
fn block_after(readme: &str, marker: &str, language: &str) -> String {
    let start = readme.find(marker).unwrap_or_else(|| panic!("the README says {marker:?}"));
    let fence = format!("```{language}\n");
    let rest = &readme[start..];
    let open = rest.find(&fence).unwrap_or_else(|| panic!("a ```{language} block after {marker:?}")) + fence.len();
    let close = rest[open..].find("```").expect("the block is closed");
    rest[open..open + close].to_owned()
}

/// Returns the number the README writes right after `before`.
fn number_after(readme: &str, before: &str) -> usize {
    let start = readme.find(before).unwrap_or_else(|| panic!("the README says {before:?}")) + before.len();
    let digits: String = readme[start..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or_else(|_| panic!("a number after {before:?}"))
}

/// Returns the comments of the tour's lines that run exactly `command`, in order.
fn tour_comments(readme: &str, command: &str) -> Vec<String> {
    let tour = block_after(readme, "## A short tour", "sh");
    tour.lines()
        .filter_map(|l| l.split_once("# "))
        .filter(|(run, _)| run.trim_end() == command)
        .map(|(_, comment)| comment.trim().to_owned())
        .collect()
}

#[test]
fn the_readme_spec_diagnostic_is_what_exai_prints_for_that_mistake() {
    let readme = readme();
    let shown = block_after(&readme, "A mistake in the spec is reported", "text");
    let s = Scratch::with_spec("");
    std::fs::create_dir_all(s.path().join("specs")).expect("create specs/");
    let spec = example_spec();
    assert!(spec.contains("      name: exai-perso-rg\n"));
    std::fs::write(
        s.path().join("specs/exai.yaml"),
        spec.replacen("      name: exai-perso-rg\n", "      nmae: exai-perso-rg\n", 1),
    )
    .expect("write the spec");
    let run = s.run(&["validate", "--emulator", "-f", "specs/exai.yaml"]);
    run.expect_code(1);
    assert_eq!(run.stderr, shown, "the README's block must be exactly what exai prints");
}

#[test]
fn the_readme_counts_are_the_repository_s() {
    let readme = readme();
    let invalid = std::fs::read_dir(repo_root().join("specs/invalid"))
        .expect("read specs/invalid")
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "yaml"))
        .count();
    assert_eq!(number_after(&readme, "`specs/invalid/` holds "), invalid, "specs/invalid/ examples");

    let resources = number_after(&readme, "prints all ");
    let run = crate::harness::run_in_repo(&["validate", "--emulator", "-f", "specs/exai.yaml"]);
    run.expect_code(0);
    let expected = format!("specs/exai.yaml is valid: 2 environments, {resources} resources\n");
    assert!(run.stdout.starts_with(&expected), "the README says {resources} resources:\n{}", run.stdout);
}

/// Runs the tour's command `command` (`exai` is the binary) in `s`.
fn tour(s: &Scratch, command: &str) -> Run {
    let args: Vec<&str> = command.split_whitespace().skip(1).collect();
    s.run(&args)
}

#[test]
fn the_readme_tour_does_what_its_comments_say() {
    let readme = readme();
    let s = Scratch::with_spec("");
    std::fs::create_dir_all(s.path().join("specs")).expect("create specs/");
    let write = |spec: &str| std::fs::write(s.path().join("specs/exai.yaml"), spec).expect("write the spec");
    write(&example_spec());

    let plan = "exai plan  --emulator -f specs/exai.yaml";
    let claims = tour_comments(&readme, plan);
    let [created, changed_claim, deleted] = claims.as_slice() else { panic!("the tour plans three times: {claims:?}") };

    // "+ perso.resourceGroup, registry, cluster ... will be created"
    let first = tour(&s, plan);
    first.expect_code(0);
    assert!(created.starts_with("+ perso.resourceGroup") && created.ends_with("will be created"), "{created}");
    for address in ["perso.resourceGroup", "perso.registry", "perso.cluster"] {
        assert!(first.stdout.contains(&format!("  + {address} (")), "{address}:\n{}", first.stdout);
    }

    let apply = "exai apply --emulator -f specs/exai.yaml --auto-approve";
    assert_eq!(tour_comments(&readme, apply), ["creates them"]);
    tour(&s, apply).expect_code(0);

    let detailed = "exai plan  --emulator -f specs/exai.yaml --detailed-exitcode; echo $?";
    assert_eq!(tour_comments(&readme, detailed), ["No changes. → 0"]);
    let clean = tour(&s, detailed.trim_end_matches("; echo $?"));
    clean.expect_code(0);
    assert!(clean.stdout.contains("\nNo changes."), "{}", clean.stdout);

    // "change `project: exai` in specs/exai.yaml": ~ tags.project = "exai" → "..."
    write(&example_spec().replace("project: exai", "project: exai-tour"));
    let changed = tour(&s, plan);
    changed.expect_code(0);
    let claim = changed_claim.strip_suffix("\"...\"").expect("the claim ends with the new value, elided");
    assert!(changed.stdout.contains(&format!("{claim}\"exai-tour\"")), "{claim}\n{}", changed.stdout);

    // "remove the `environments: [production]` line under prod's deployer.github"
    let spec = example_spec();
    let kept: Vec<&str> = spec.lines().filter(|l| l.trim_start().starts_with("environments: [production]")).collect();
    assert_eq!(kept.len(), 1, "the example has the one line the tour removes");
    write(&spec.lines().filter(|l| !kept.contains(l)).map(|l| format!("{l}\n")).collect::<String>());
    let removed = tour(&s, plan);
    removed.expect_code(0);
    let (address, verb) = deleted.split_once(" will ").expect("`- ADDRESS will be deleted`");
    let shown = removed.stdout.lines().find(|l| l.trim_start().starts_with(&format!("{address} (")));
    assert!(shown.is_some_and(|l| l.ends_with(&format!("will {verb}"))), "{deleted}\n{}", removed.stdout);
}
