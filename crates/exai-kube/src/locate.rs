//! Mapping a rendered object (and a field of it) back to the line of its source manifest.
//!
//! kustomize's origin annotation names the file an object comes from; the object is the
//! document of that file with its `kind` and `metadata.name`. A finding on a field is put on
//! the first line of that document holding the field's text (a key, an image); when the text
//! is not there, a patch or an `images:` rule changed it, and it is looked for in the
//! kustomizations that transformed the object and the patch files they name.

use crate::render::{Object, get};
use serde_yaml::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The largest manifest read to locate findings: a manifest is kilobytes.
const MAX_SOURCE_BYTES: u64 = 4 * 1024 * 1024;

/// Source files, each read once.
#[derive(Default)]
pub(crate) struct Sources {
    files: HashMap<PathBuf, Option<String>>,
}

/// A place in a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Place {
    /// The file, absolute.
    pub(crate) file: PathBuf,
    /// Its 1-based line.
    pub(crate) line: Option<usize>,
}

impl Sources {
    fn text(&mut self, path: &Path) -> Option<&str> {
        self.files
            .entry(path.to_path_buf())
            .or_insert_with(|| {
                let size = std::fs::metadata(path).ok()?.len();
                (size <= MAX_SOURCE_BYTES).then(|| std::fs::read_to_string(path).ok()).flatten()
            })
            .as_deref()
    }

    /// Returns where `object` is written: the line of its `metadata.name` in its file, or of
    /// the generator entry that makes it.
    pub(crate) fn object(&mut self, object: &Object) -> Option<Place> {
        if let Some(file) = &object.origin.file {
            let line = self.text(file).and_then(|text| {
                let (start, end) = document_of(text, &object.kind, object.written_name())?;
                name_line(text, start, end, object.written_name())
            });
            return Some(Place { file: file.clone(), line });
        }
        let file = object.origin.generated_in.as_ref()?;
        let line = self.text(file).and_then(|text| find_token(text, 0, usize::MAX, object.written_name()));
        Some(Place { file: file.clone(), line })
    }

    /// Returns where the first of `needles` is written for `object`: in its own document,
    /// else in a kustomization that transformed it or a patch file one names; else the
    /// object's own place.
    pub(crate) fn field(&mut self, object: &Object, needles: &[String]) -> Option<Place> {
        let mut elsewhere = Vec::new();
        for kustomization in &object.origin.transformed_in {
            elsewhere.extend(self.patch_files(kustomization));
            elsewhere.push(kustomization.clone());
        }
        elsewhere.extend(object.origin.generated_in.clone());
        // The most precise text first, wherever it is: a key the patch changed is in the
        // patch, even when the object's own document holds a less precise needle.
        for needle in needles {
            if let Some(file) = &object.origin.file
                && let Some(text) = self.text(file)
            {
                let (start, end) = document_of(text, &object.kind, object.written_name()).unwrap_or((0, usize::MAX));
                if let Some(line) = find_token(text, start, end, needle) {
                    return Some(Place { file: file.clone(), line: Some(line) });
                }
            }
            for file in &elsewhere {
                if let Some(line) = self.text(file).and_then(|text| find_token(text, 0, usize::MAX, needle)) {
                    return Some(Place { file: file.clone(), line: Some(line) });
                }
            }
        }
        self.object(object)
    }

    /// Returns the patch files `kustomization` names (`patches[].path`,
    /// `patchesStrategicMerge[]`, `patchesJson6902[].path`), as absolute paths.
    fn patch_files(&mut self, kustomization: &Path) -> Vec<PathBuf> {
        let dir = kustomization.parent().unwrap_or(Path::new("/")).to_path_buf();
        let Some(text) = self.text(kustomization) else { return Vec::new() };
        let Ok(parsed) = serde_yaml::from_str::<Value>(text) else { return Vec::new() };
        let mut out = Vec::new();
        for field in ["patches", "patchesJson6902", "patchesStrategicMerge"] {
            for entry in get(&parsed, &[field]).and_then(Value::as_sequence).into_iter().flatten() {
                let path = entry.as_str().or_else(|| entry.get("path").and_then(Value::as_str));
                // An inline strategic-merge patch is YAML text, not a path.
                if let Some(path) = path.filter(|p| !p.contains('\n')) {
                    out.push(crate::render::normalize(&dir.join(path)));
                }
            }
        }
        out
    }
}

/// Returns the line range `[start, end)` (0-based) of the document of `text` whose `kind` is
/// `kind` and whose `metadata.name` is `name`.
fn document_of(text: &str, kind: &str, name: &str) -> Option<(usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut start = 0;
    let mut documents = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("---") {
            documents.push((start, i));
            start = i + 1;
        }
    }
    documents.push((start, lines.len()));
    documents.into_iter().find(|&(start, end)| {
        let has_kind = lines[start..end].iter().any(|l| scalar_of(l, "kind") == Some(kind));
        has_kind && name_line(text, start, end, name).is_some()
    })
}

/// Returns the 1-based line of `metadata.name: <name>` within lines `[start, end)`.
fn name_line(text: &str, start: usize, end: usize, name: &str) -> Option<usize> {
    let mut in_metadata = false;
    // The indent of `metadata`'s own keys: a deeper `name:` (a label) is not its name.
    let mut child_indent = None;
    for (i, line) in text.lines().enumerate().take(end).skip(start) {
        let indent = line.len() - line.trim_start().len();
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if indent == 0 {
            in_metadata = line.trim_end() == "metadata:";
            child_indent = None;
            continue;
        }
        if !in_metadata {
            continue;
        }
        let child = *child_indent.get_or_insert(indent);
        if indent == child && scalar_of(line, "name") == Some(name) {
            return Some(i + 1);
        }
    }
    None
}

/// Returns the value of `line` when it is `key: value` (indented or in a list), unquoted.
fn scalar_of<'l>(line: &'l str, key: &str) -> Option<&'l str> {
    let line = line.trim_start().trim_start_matches("- ").trim_start();
    let rest = line.strip_prefix(key)?.strip_prefix(':')?;
    let value = rest.split(" #").next().unwrap_or(rest).trim();
    Some(value.trim_matches(|c| c == '"' || c == '\''))
}

/// Returns the 1-based line of the first occurrence of `needle` within lines `[start, end)`,
/// as a whole token: not part of a longer name.
fn find_token(text: &str, start: usize, end: usize, needle: &str) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    let part_of_name = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    for (i, line) in text.lines().enumerate().take(end).skip(start) {
        if line.trim_start().starts_with('#') {
            continue;
        }
        let mut from = 0;
        while let Some(at) = line[from..].find(needle) {
            let at = from + at;
            let before = line[..at].chars().next_back();
            let after = line[at + needle.len()..].chars().next();
            if !before.is_some_and(part_of_name) && !after.is_some_and(part_of_name) {
                return Some(i + 1);
            }
            from = at + needle.len();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = "kind: Service\nmetadata:\n  name: api\n---\n# the api\nkind: Deployment\nmetadata:\n  labels:\n    name: other\n  name: api\nspec:\n  key: database_url\n";

    #[test]
    fn an_object_is_found_by_kind_and_name_and_a_field_by_its_text() {
        assert_eq!(document_of(TWO, "Deployment", "api"), Some((4, 12)));
        assert_eq!(name_line(TWO, 4, 12, "api"), Some(10));
        assert_eq!(document_of(TWO, "Deployment", "other"), None, "a label named `name` is not the name");
        assert_eq!(find_token(TWO, 4, 12, "database_url"), Some(12));
        assert_eq!(find_token(TWO, 4, 12, "database"), None, "a token, not part of one");
        assert_eq!(find_token("image: acr.azurecr.io/api:1\n", 0, 9, "api"), Some(1));
        assert_eq!(scalar_of("  - name: \"gateway\" # a comment", "name"), Some("gateway"));
    }
}
