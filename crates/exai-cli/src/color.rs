//! Whether to colour what goes to standard output: only on a terminal, and never when
//! `NO_COLOR` is set to anything but the empty string (no-color.org).

use std::io::IsTerminal;

/// Returns true when standard output should get colour.
pub fn stdout_wants_color() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stdout().is_terminal()
}

/// Returns the text-rendering options for standard output.
pub fn text_options() -> exai_planner::TextOptions {
    exai_planner::TextOptions { color: stdout_wants_color() }
}
