//! Rendering an overlay with the real kustomize, and reading what it renders.
//!
//! The overlay is rendered the way the seed's pipeline renders it (Skaffold runs
//! `kustomize build --load-restrictor=LoadRestrictionsNone`), through a wrapper kustomization
//! in a temporary directory whose only resource is the overlay and which adds
//! `buildMetadata: [originAnnotations, transformerAnnotations]`: kustomize then records, on
//! every object, the file it comes from and the kustomizations that transformed it, and the
//! user's files are never touched.
//!
//! Secret values are dropped as each document is read: a [`Object`] of kind Secret holds its
//! keys, never its values.

use serde_yaml::Value;
use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

/// The annotation kustomize's `buildMetadata: [originAnnotations]` sets.
const ORIGIN: &str = "config.kubernetes.io/origin";
/// The annotation kustomize's `buildMetadata: [transformerAnnotations]` sets.
const TRANSFORMATIONS: &str = "alpha.config.kubernetes.io/transformations";

/// The program that renders overlays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Renderer {
    /// The standalone `kustomize`.
    Kustomize(PathBuf),
    /// `kubectl kustomize`, kustomize built into kubectl.
    Kubectl(PathBuf),
}

impl Renderer {
    /// Returns the first of `kustomize` and `kubectl` found on `path` (the `PATH` variable's
    /// value), or `None`.
    pub(crate) fn find(path: Option<&std::ffi::OsStr>) -> Option<Self> {
        let dirs: Vec<PathBuf> = path.map(|p| std::env::split_paths(p).collect()).unwrap_or_default();
        let find = |name: &str| dirs.iter().map(|d| d.join(name)).find(|p| is_executable(p));
        find("kustomize").map(Self::Kustomize).or_else(|| find("kubectl").map(Self::Kubectl))
    }

    /// Returns the command as a person would type it, for messages.
    pub(crate) fn shown(&self) -> &'static str {
        match self {
            Self::Kustomize(_) => "kustomize build --load-restrictor=LoadRestrictionsNone",
            Self::Kubectl(_) => "kubectl kustomize --load-restrictor=LoadRestrictionsNone",
        }
    }

    fn command(&self, dir: &Path) -> Command {
        let mut command = match self {
            Self::Kustomize(program) => {
                let mut c = Command::new(program);
                c.arg("build");
                c
            }
            Self::Kubectl(program) => {
                let mut c = Command::new(program);
                c.arg("kustomize");
                c
            }
        };
        command.arg("--load-restrictor=LoadRestrictionsNone").arg(".").current_dir(dir);
        command
    }
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// Why an overlay could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RenderError {
    /// The wrapper kustomization could not be written, or the renderer not started.
    Io(String),
    /// The renderer refused the overlay: its message, cleaned of kubectl's log prefix.
    Refused(String),
    /// The output is not the YAML kustomize writes.
    Output(String),
}

/// Where an object comes from, from kustomize's annotations, as absolute paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Origin {
    /// The manifest file that declares it.
    pub(crate) file: Option<PathBuf>,
    /// The kustomization whose generator made it (`secretGenerator`, `configMapGenerator`).
    pub(crate) generated_in: Option<PathBuf>,
    /// The kustomizations whose transformers changed it (patches, `images:`, `namespace:`).
    pub(crate) transformed_in: Vec<PathBuf>,
}

/// One rendered object. A Secret's values are never kept: only its keys.
#[derive(Debug, Clone)]
pub(crate) struct Object {
    /// `kind`.
    pub(crate) kind: String,
    /// `metadata.name`, as rendered (with a generator's hash suffix).
    pub(crate) name: String,
    /// `metadata.namespace`.
    pub(crate) namespace: Option<String>,
    /// The document, without a Secret's `data` and `stringData`, and without the annotations
    /// kustomize added for exai.
    pub(crate) body: Value,
    /// A Secret's or ConfigMap's keys.
    pub(crate) keys: BTreeSet<String>,
    /// Where it comes from.
    pub(crate) origin: Origin,
}

impl Object {
    /// Returns the name as the manifests write it: a generated object without the hash suffix
    /// kustomize appends (`gateway-secrets-4276m9hm2b` → `gateway-secrets`).
    pub(crate) fn written_name(&self) -> &str {
        if self.origin.generated_in.is_some()
            && let Some((base, suffix)) = self.name.rsplit_once('-')
            && suffix.len() == 10
            && suffix.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        {
            return base;
        }
        &self.name
    }

    /// Returns `Kind/name`, as findings name objects.
    pub(crate) fn shown(&self) -> String {
        format!("{}/{}", self.kind, self.written_name())
    }

    /// Returns the value at `path` (mapping keys) in the document.
    pub(crate) fn get(&self, path: &[&str]) -> Option<&Value> {
        get(&self.body, path)
    }
}

/// Returns the value at `path` (mapping keys) in `value`.
pub(crate) fn get<'v>(value: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, key| v.get(*key))
}

/// Renders the overlay at `overlay` (absolute) with `renderer` and reads every object.
pub(crate) fn render(renderer: &Renderer, overlay: &Path) -> Result<Vec<Object>, RenderError> {
    let wrapper = tempfile::Builder::new()
        .prefix("exai-kustomize-")
        .tempdir()
        .map_err(|e| RenderError::Io(format!("cannot create a temporary directory: {e}")))?;
    let root = std::fs::canonicalize(wrapper.path())
        .map_err(|e| RenderError::Io(format!("cannot read the temporary directory: {e}")))?;
    // kustomize refuses absolute paths as resources: the overlay is named relative to the
    // wrapper, which `LoadRestrictionsNone` lets it leave.
    let resource = relative(&root, overlay);
    let resource = resource.to_string_lossy().replace('\\', "/");
    let quoted = serde_yaml::to_string(&resource).map_err(|e| RenderError::Io(e.to_string()))?;
    let text = format!(
        "# written by exai to render the overlay with the origin of every object\nresources:\n  - {}buildMetadata: [originAnnotations, transformerAnnotations]\n",
        quoted
    );
    std::fs::write(root.join("kustomization.yaml"), text)
        .map_err(|e| RenderError::Io(format!("cannot write the wrapper kustomization: {e}")))?;
    let output = renderer
        .command(&root)
        .output()
        .map_err(|e| RenderError::Io(format!("cannot run `{}`: {e}", renderer.shown())))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(RenderError::Refused(clean_message(&stderr, &root, overlay)));
    }
    let stdout = String::from_utf8(output.stdout)
        .map_err(|_| RenderError::Output("the rendered manifests are not UTF-8 text".to_owned()))?;
    let objects = read_objects(&stdout, &root);
    drop(stdout);
    objects
}

/// Returns kustomize's error without kubectl's log prefix (`E1205 15:34:11.625198 4495
/// run.go:72] "command failed" err="..."`), and with the wrapper's directory left out.
fn clean_message(stderr: &str, root: &Path, overlay: &Path) -> String {
    let line = stderr.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("no message");
    let message = match line.find("err=\"") {
        Some(at) => {
            let inner = &line[at + 5..];
            inner.strip_suffix('"').unwrap_or(inner).replace("\\\"", "\"").replace("\\'", "'")
        }
        None => line.strip_prefix("Error: ").unwrap_or(line).to_owned(),
    };
    let relative_overlay = relative(root, overlay).to_string_lossy().into_owned();
    let overlay_shown = overlay.to_string_lossy().into_owned();
    let root_shown = root.to_string_lossy().into_owned();
    message
        .replace(&format!("{root_shown}/{relative_overlay}"), &overlay_shown)
        .replace(&relative_overlay, &overlay_shown)
}

/// Returns `message` with every absolute path under `base` written relative to it, as
/// findings write paths.
pub(crate) fn relative_paths(message: &str, base: &Path) -> String {
    let prefix = format!("{}/", base.to_string_lossy());
    if prefix == "/" { message.to_owned() } else { message.replace(&prefix, "") }
}

/// Reads the objects of kustomize's output, dropping every Secret's values as it goes.
pub(crate) fn read_objects(text: &str, root: &Path) -> Result<Vec<Object>, RenderError> {
    use serde::Deserialize;
    let mut objects = Vec::new();
    for document in serde_yaml::Deserializer::from_str(text) {
        // The error names a position, never the text, so a Secret's value cannot leak here.
        let value = Value::deserialize(document)
            .map_err(|e| RenderError::Output(format!("the rendered manifests are not YAML: {e}")))?;
        if value.is_null() {
            continue;
        }
        objects.push(object(value, root));
    }
    Ok(objects)
}

fn object(mut body: Value, root: &Path) -> Object {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let kind = text(body.get("kind")).unwrap_or_default();
    let name = text(get(&body, &["metadata", "name"])).unwrap_or_default();
    let namespace = text(get(&body, &["metadata", "namespace"]));
    let mut keys = BTreeSet::new();
    let key_fields: &[&str] = match kind.as_str() {
        "Secret" => &["data", "stringData"],
        "ConfigMap" => &["data", "binaryData"],
        _ => &[],
    };
    if let Value::Mapping(map) = &mut body {
        for field in key_fields {
            if let Some(Value::Mapping(entries)) = map.get(*field) {
                keys.extend(entries.keys().filter_map(Value::as_str).map(str::to_owned));
            }
            if kind == "Secret" {
                // Dropped at once: a Secret's values are never kept, so never shown.
                map.remove(*field);
            }
        }
    }
    let mut origin = Origin::default();
    if let Some(Value::Mapping(annotations)) = body.get_mut("metadata").and_then(|m| m.get_mut("annotations")) {
        if let Some(Value::String(text)) = annotations.remove(ORIGIN) {
            let parsed: Value = serde_yaml::from_str(&text).unwrap_or(Value::Null);
            let local = parsed.get("repo").is_none();
            let resolve =
                |v: Option<&Value>| v.and_then(Value::as_str).filter(|_| local).map(|p| normalize(&root.join(p)));
            origin.file = resolve(parsed.get("path"));
            origin.generated_in = resolve(parsed.get("configuredIn"));
        }
        if let Some(Value::String(text)) = annotations.remove(TRANSFORMATIONS) {
            let parsed: Value = serde_yaml::from_str(&text).unwrap_or(Value::Null);
            for entry in parsed.as_sequence().into_iter().flatten() {
                if let Some(path) = entry.get("configuredIn").and_then(Value::as_str) {
                    let path = normalize(&root.join(path));
                    if !origin.transformed_in.contains(&path) {
                        origin.transformed_in.push(path);
                    }
                }
            }
        }
    }
    Object { kind, name, namespace, body, keys, origin }
}

/// Returns `path` with `.` and `..` resolved lexically (kustomize's paths are relative to the
/// wrapper and climb out of it).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Returns `to` relative to the directory `from` (both absolute and normalized).
pub(crate) fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component<'_>> = from.components().collect();
    let to: Vec<Component<'_>> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for component in &to[common..] {
        out.push(component);
    }
    if out.as_os_str().is_empty() { PathBuf::from(".") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_made_relative_and_normalized() {
        assert_eq!(relative(Path::new("/tmp/x"), Path::new("/work/k8s/ov")), PathBuf::from("../../work/k8s/ov"));
        assert_eq!(relative(Path::new("/a/b"), Path::new("/a/b/c")), PathBuf::from("c"));
        assert_eq!(relative(Path::new("/a/b"), Path::new("/a/b")), PathBuf::from("."));
        assert_eq!(normalize(Path::new("/tmp/x/../../work/./k8s")), PathBuf::from("/work/k8s"));
    }

    #[test]
    fn secret_values_are_dropped_as_documents_are_read() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s-b6622h5t6h\n  annotations:\n    config.kubernetes.io/origin: |\n      configuredIn: ../base/kustomization.yaml\n      configuredBy:\n        kind: SecretGenerator\ndata:\n  database-url: c2VjcmV0\nstringData:\n  secret-key: plain-secret\n---\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  log-level: info\n";
        let objects = read_objects(text, Path::new("/tmp/w")).expect("YAML");
        let secret = &objects[0];
        assert_eq!(secret.keys.iter().collect::<Vec<_>>(), ["database-url", "secret-key"]);
        let shown = serde_yaml::to_string(&secret.body).expect("YAML");
        assert!(!shown.contains("c2VjcmV0") && !shown.contains("plain-secret") && !shown.contains("origin"), "{shown}");
        assert_eq!(secret.origin.generated_in, Some(PathBuf::from("/tmp/base/kustomization.yaml")));
        assert_eq!(secret.written_name(), "s");
        assert_eq!(objects[1].keys.iter().collect::<Vec<_>>(), ["log-level"]);
        assert_eq!(objects[1].written_name(), "c", "not generated: the name is as written");
    }

    #[test]
    fn kubectl_log_prefixes_are_left_out_of_messages() {
        let stderr = "E1205 15:34:11.625198    4495 run.go:72] \"command failed\" err=\"accumulating resources: 'x' not found\"\n";
        let message = clean_message(stderr, Path::new("/tmp/w"), Path::new("/work/ov"));
        assert_eq!(message, "accumulating resources: 'x' not found");
        assert_eq!(
            clean_message("Error: no kustomization\n", Path::new("/tmp/w"), Path::new("/o")),
            "no kustomization"
        );
    }
}
