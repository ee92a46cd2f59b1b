//! No input makes the spec parser panic, overflow its stack, or hang.
//!
//! Property tests run 256 cases per property by default; for a longer search run
//! `PROPTEST_CASES=100000 cargo test --release -p exai-spec --test robustness`. Failing inputs are
//! shrunk and saved in `robustness.proptest-regressions` beside this file, which is committed so they
//! are re-run forever (it already holds the multi-byte-span case this test found).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use proptest::prelude::*;

fn env(name: &str) -> Option<String> {
    match name {
        "AZURE_TENANT_ID" => Some("ee000000-0000-4000-8000-000000000001".into()),
        "AZURE_SUBSCRIPTION_ID" => Some("ee000000-0000-4000-8000-000000000002".into()),
        _ => None,
    }
}

fn example() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../specs/exai.yaml")).unwrap()
}

/// Parses `text` and checks the result is an answer: a spec, or diagnostics whose positions lie
/// inside the text.
fn parse_checked(text: &str) {
    match exai_spec::parse("fuzz.yaml", text, &env) {
        Ok(spec) => {
            let _ = spec.desired_state(None);
        }
        Err(e) => {
            assert!(!e.diagnostics.is_empty(), "an error without a diagnostic");
            for d in &e.diagnostics {
                if let Some(s) = d.span {
                    assert!(s.offset + s.len <= text.len(), "span {s:?} outside a text of {} bytes", text.len());
                    assert!(
                        text.is_char_boundary(s.offset) && text.is_char_boundary(s.offset + s.len),
                        "span {s:?} splits a character"
                    );
                }
                let _ = e.to_string();
            }
        }
    }
}

const TOKENS: &[&str] = &[
    "version",
    "azure",
    "tenant",
    "subscription",
    "defaults",
    "location",
    "tags",
    "environments",
    "perso",
    "resourceGroup",
    "registry",
    "cluster",
    "nodePools",
    "name",
    "count",
    "vmSize",
    "autoscale",
    "min",
    "max",
    "ssh",
    "generate",
    "deployer",
    "github",
    "branches",
    "clientSecret",
    "expiresInDays",
    "protect",
    "monitoring",
    "workspace",
    ": ",
    ":",
    "- ",
    "-",
    "\n",
    "  ",
    "    ",
    "[",
    "]",
    "{",
    "}",
    ", ",
    "'",
    "\"",
    "#",
    "&a ",
    "*a",
    "!!str ",
    "? ",
    "|",
    ">",
    "${AZURE_TENANT_ID}",
    "${X",
    "true",
    "false",
    "null",
    "~",
    "1",
    "-1",
    "4294967296",
    "1.5",
    "francecentral",
    "Standard_B2s",
    "é",
    "\t",
    "\r\n",
    "%YAML 1.2\n",
    "---\n",
    "...\n",
];

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in ".{0,2000}") {
        parse_checked(&text);
    }

    #[test]
    fn yaml_shaped_token_soup_never_panics(tokens in prop::collection::vec(prop::sample::select(TOKENS), 0..300)) {
        parse_checked(&tokens.concat());
    }

    #[test]
    fn mutated_example_never_panics(edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(TOKENS), 0..3u8), 1..8)) {
        let mut text = example();
        for (at, token, op) in edits {
            let mut i = at.index(text.len().max(1));
            while !text.is_char_boundary(i) { i -= 1; }
            match op {
                0 => text.insert_str(i, token),
                1 => { let mut end = (i + token.len()).min(text.len()); while !text.is_char_boundary(end) { end += 1; } text.replace_range(i..end, ""); }
                _ => { let mut end = (i + 1).min(text.len()); while !text.is_char_boundary(end) { end += 1; } text.replace_range(i..end, token); }
            }
        }
        parse_checked(&text);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for text in [
        format!("version: 1\nazure:\n  tenant:\n    {}x\n", "- ".repeat(500_000)),
        format!("version: 1\nazure: {}{}\n", "[".repeat(200), "]".repeat(200)),
        format!("version: 1\nazure: {}{}\n", "{a: ".repeat(100), "}".repeat(100)),
    ] {
        let e = exai_spec::parse("deep.yaml", &text, &env).unwrap_err();
        assert!(e.to_string().contains("levels deep"), "{e}");
    }
}

#[test]
fn alias_bombs_are_refused_before_expansion() {
    let mut text = String::from("version: 1\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        text.push_str(&format!("a{i}: &a{i} [{}]\n", [prev.as_str(); 10].join(", ")));
    }
    let e = exai_spec::parse("bomb.yaml", &text, &env).unwrap_err();
    assert!(e.to_string().contains("anchors and aliases"), "{e}");
}

#[test]
fn a_ten_megabyte_file_is_refused_before_parsing() {
    let text = format!("version: 1\n# {}\n", "x".repeat(10 * 1024 * 1024));
    let e = exai_spec::parse("big.yaml", &text, &env).unwrap_err();
    assert!(e.to_string().contains("at most 1048576 bytes"), "{e}");
}
