//! The path globs of fault rules: case-insensitive, as ARM compares paths, with `*` within one
//! segment, `**` across segments and `?` for one character.
//!
//! Hand-written rather than `globset`: globset's `**` crosses segments only as a whole path
//! component (`/a/**/b`; `a**b` degrades to `*`), its `/**/` also matches no segment at all,
//! and it gives `[...]` and `{a,b}` a meaning the rule language does not have. Matching here is
//! dynamic programming over pattern × path, so no path makes it slower than their product.

/// A case-insensitive glob over a decoded path.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PathPattern {
    /// `None` for `*` or `**` alone: any path.
    tokens: Option<Vec<GlobToken>>,
}

/// One element of a glob.
#[derive(Debug, Clone, Copy, PartialEq)]
enum GlobToken {
    /// A character to match (lowercased).
    Literal(char),
    /// `?`: one character other than `/`.
    One,
    /// `*`: any run of characters without `/`.
    Segment,
    /// `**`: any run of characters.
    Deep,
}

impl PathPattern {
    /// Parses a rule's path: `*` or `**` alone for any path, otherwise a glob starting with `/`.
    pub(super) fn parse(text: &str) -> Result<Self, String> {
        if text == "*" || text == "**" {
            return Ok(Self { tokens: None });
        }
        if !text.starts_with('/') {
            return Err(format!("the path `{text}` must start with `/` (or be `*` for any path)"));
        }
        let mut tokens = Vec::new();
        let mut characters = text.chars().flat_map(char::to_lowercase).peekable();
        while let Some(character) = characters.next() {
            tokens.push(match character {
                '*' if characters.peek() == Some(&'*') => {
                    characters.next();
                    GlobToken::Deep
                }
                '*' => GlobToken::Segment,
                '?' => GlobToken::One,
                other => GlobToken::Literal(other),
            });
        }
        Ok(Self { tokens: Some(tokens) })
    }

    /// Returns whether the (decoded) path matches, by dynamic programming over the pattern so
    /// that no path, however long, makes matching slower than pattern length × path length.
    pub(super) fn matches(&self, path: &str) -> bool {
        let Some(tokens) = &self.tokens else {
            return true;
        };
        let path: Vec<char> = path.chars().flat_map(char::to_lowercase).collect();
        // reachable[j]: the tokens so far can match the first j characters of the path.
        let mut reachable = vec![false; path.len() + 1];
        reachable[0] = true;
        for token in tokens {
            let mut next = vec![false; path.len() + 1];
            for j in 0..=path.len() {
                match token {
                    GlobToken::Literal(expected) => {
                        next[j] = j > 0 && reachable[j - 1] && path[j - 1] == *expected;
                    }
                    GlobToken::One => next[j] = j > 0 && reachable[j - 1] && path[j - 1] != '/',
                    GlobToken::Segment => {
                        next[j] = reachable[j] || (j > 0 && next[j - 1] && path[j - 1] != '/');
                    }
                    GlobToken::Deep => next[j] = reachable[j] || (j > 0 && next[j - 1]),
                }
            }
            reachable = next;
        }
        reachable[path.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_case_insensitively_by_segment() {
        let pattern = |text: &str| PathPattern::parse(text).unwrap_or(PathPattern { tokens: Some(Vec::new()) });
        let groups = pattern("/subscriptions/*/resourceGroups/*");
        assert!(groups.matches("/subscriptions/abc/resourcegroups/rg1"));
        assert!(groups.matches("/SUBSCRIPTIONS/abc/RESOURCEGROUPS/RG1"));
        assert!(!groups.matches("/subscriptions/abc/resourcegroups/rg1/providers/x"));
        assert!(!groups.matches("/subscriptions/abc/resourcegroups"));
        let deep = pattern("/subscriptions/**/managedclusters/*");
        assert!(
            deep.matches("/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/c")
        );
        assert!(pattern("/a?c").matches("/abc"));
        assert!(!pattern("/a?c").matches("/a/c"));
        assert!(pattern("*").matches("/anything/at/all"));
        let long = format!("/{}", "a/".repeat(5000));
        assert!(!pattern("/**b**b**b").matches(&long));
    }
}
