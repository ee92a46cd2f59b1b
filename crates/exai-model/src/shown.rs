//! Text from outside exai, made safe to print: the one escaping function every sink uses.
//!
//! Azure and Microsoft Graph echo names and tag values back in error messages, and a spec can
//! hold any character YAML lets through. Printed raw, an escape sequence recolours or clears the
//! terminal, a BEL rings, a carriage return or newline forges a line of exai's own ("Apply
//! complete: 0 failed."), and a bidirectional override reorders what a reviewer reads. So every
//! sink — plan values (the planner's renderers), error messages and hints (the command line),
//! spec diagnostics — passes outside text through [`escape_shown`] (prose) or
//! [`quote_shown`] (a quoted value): control and invisible formatting characters come out as
//! Rust writes them (`\u{1b}`, `\n`), visibly, and a very long text is cut with
//! "… (N more characters)".

use std::borrow::Cow;
use std::fmt::Write as _;

/// The most characters of one outside text a sink prints; the rest is counted, not shown.
pub const MAX_SHOWN_CHARS: usize = 1000;

/// Returns true when `c` must not reach a terminal as itself: control characters (C0, DEL,
/// C1, so ESC, BEL, CR, LF and TAB) and the characters Rust's `Debug` also escapes because
/// they print nothing visible (bidirectional overrides, zero-width characters, unassigned
/// code points).
fn needs_escape(c: char) -> bool {
    c.is_control() || c.escape_debug().next() == Some('\\') && !matches!(c, '"' | '\'' | '\\')
}

/// Writes `text` into `out` with [`needs_escape`] characters escaped (and, when `quoted`, `"`
/// and `\` too, as in a string literal), at most [`MAX_SHOWN_CHARS`] characters of it.
fn escape_into(out: &mut String, text: &str, quoted: bool) {
    let mut chars = text.chars();
    for c in chars.by_ref().take(MAX_SHOWN_CHARS) {
        if needs_escape(c) || quoted && matches!(c, '"' | '\\') {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    let more = chars.count();
    if more > 0 {
        let _ = write!(out, "… ({more} more character{})", if more == 1 { "" } else { "s" });
    }
}

/// Returns `text` safe to print as prose: control and invisible characters escaped
/// (`\u{1b}`, `\n`), cut after [`MAX_SHOWN_CHARS`] characters with "… (N more characters)".
/// Borrowed, unchanged, when there is nothing to escape or cut.
pub fn escape_shown(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) && text.chars().nth(MAX_SHOWN_CHARS).is_none() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    escape_into(&mut out, text, false);
    Cow::Owned(out)
}

/// Returns `text` as a quoted value, the way plans show strings: in double quotes, with `"` and
/// `\` escaped as well as what [`escape_shown`] escapes, and cut the same way.
pub fn quote_shown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    escape_into(&mut out, text, true);
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_invisible_characters_are_escaped_visibly() {
        let forged = "bad name\u{1b}[32m\u{7}\nApply complete: 0 failed.\r\t\u{9b}\u{202e}end";
        assert_eq!(escape_shown(forged), r"bad name\u{1b}[32m\u{7}\nApply complete: 0 failed.\r\t\u{9b}\u{202e}end");
        let shown = escape_shown(forged);
        assert!(!shown.chars().any(char::is_control), "{shown}");
    }

    #[test]
    fn ordinary_text_is_borrowed_as_it_is() {
        for text in ["`exai-perso-rg`: AuthorizationFailed", "région « France Central » — ok", "quote \" and \\"] {
            assert!(matches!(escape_shown(text), Cow::Borrowed(t) if t == text), "{text}");
        }
    }

    #[test]
    fn quoted_values_match_what_plans_always_showed() {
        for text in ["exai", "a \"b\" \\ c", "é 😀", "\u{1b}[2J", "line\nnext", "\u{200b}"] {
            assert_eq!(quote_shown(text), format!("{text:?}"), "{text:?}");
        }
    }

    #[test]
    fn long_text_is_cut_and_says_how_much_was_left_out() {
        let text = "é".repeat(MAX_SHOWN_CHARS + 5);
        let shown = escape_shown(&text);
        assert_eq!(shown, format!("{}… (5 more characters)", "é".repeat(MAX_SHOWN_CHARS)));
        assert_eq!(escape_shown(&"x".repeat(MAX_SHOWN_CHARS)).len(), MAX_SHOWN_CHARS, "the limit itself is kept");
        assert!(quote_shown(&"y".repeat(MAX_SHOWN_CHARS + 1)).ends_with("… (1 more character)\""));
    }
}
