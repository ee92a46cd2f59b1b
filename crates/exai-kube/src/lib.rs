//! The Kubernetes checks: an environment's kustomize overlay, rendered with the real kustomize
//! and checked against the environment exai manages (`exai check`, and the `checks` of a plan).
//!
//! Half of what breaks the seed's platform breaks *after* Azure is built, when the deploy
//! applies the manifests: a Secret key written `database_url` where the Secret has
//! `database-url`, an image on Docker Hub or on the other environment's registry, an Ingress
//! on a class no controller serves. exai knows both sides — the environment's registry and
//! ingress controller, and the manifests — so it checks them together, in the pull request.
//!
//! # Boundaries
//!
//! No I/O but running `kustomize build` (or `kubectl kustomize`) and reading the manifest
//! files findings point into. No home-made kustomize: the overlay is rendered exactly as the
//! deploy renders it ([`render`]). Nothing here talks to a cluster or to Azure: the checks
//! need only the spec, so they run in a pull request with no credentials.
//!
//! # Key design decision: a Secret's values are never held
//!
//! Rendering a `secretGenerator` yields the Secret's values. They are dropped as each rendered
//! document is read: a Secret is kept as its name and keys only, so no output, error or log
//! of exai can show one, whatever a check says about it.

mod checks;
mod locate;
mod render;

pub use checks::AKS_STORAGE_CLASSES;
use exai_model::checks::{EnvironmentChecks, Finding, Severity};
use exai_spec::{Environment, ExternalObject, Spec, UnknownEnvironment};
use render::{RenderError, Renderer};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// What the checks of one environment need: its overlay and what the spec says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The environment's name.
    pub environment: String,
    /// The overlay, as the spec writes it.
    pub overlay: String,
    /// The spec's directory, which the overlay and shown paths are relative to.
    pub base: PathBuf,
    /// The spec's file name as shown, and the line of `overlay:` in it, for findings about
    /// the overlay itself.
    pub declared_at: (String, Option<usize>),
    /// The namespace the deploy targets.
    pub namespace: Option<String>,
    /// The environment's registry name.
    pub registry: Option<String>,
    /// The other environments' registries, as `(environment, name)`.
    pub other_registries: Vec<(String, String)>,
    /// Whether the environment's cluster runs the application routing add-on.
    pub app_routing: bool,
    /// Secrets the deploy creates outside the overlay.
    pub external_secrets: Vec<ExternalObject>,
    /// ConfigMaps the deploy creates outside the overlay.
    pub external_config_maps: Vec<ExternalObject>,
}

impl Target {
    /// Returns the target of `environment` of `spec` (read from `file`), or `None` when it
    /// declares no `kubernetes:`.
    pub fn of(spec: &Spec, environment: &Environment, file: &Path) -> Option<Self> {
        let kubernetes = environment.kubernetes.as_ref()?;
        let base = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
        let file_name =
            file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned());
        let registry_of = |e: &Environment| e.registry.as_ref().map(|r| r.resource.name.clone());
        Some(Self {
            environment: environment.name.clone(),
            overlay: kubernetes.overlay.clone(),
            base,
            declared_at: (file_name, kubernetes.overlay_span.map(|s| s.line)),
            namespace: kubernetes.namespace.clone(),
            registry: registry_of(environment),
            other_registries: spec
                .environments
                .iter()
                .filter(|e| e.name != environment.name)
                .filter_map(|e| Some((e.name.clone(), registry_of(e)?)))
                .collect(),
            app_routing: environment.cluster.as_ref().is_some_and(|c| c.resource.app_routing == Some(true)),
            external_secrets: kubernetes.external_secrets.clone(),
            external_config_maps: kubernetes.external_config_maps.clone(),
        })
    }
}

/// Returns the targets of the environments `only` selects (every one without it) that declare
/// `kubernetes:`, in the spec's order.
pub fn targets(spec: &Spec, only: Option<&str>, file: &Path) -> Result<Vec<Target>, UnknownEnvironment> {
    Ok(spec.select(only)?.into_iter().filter_map(|e| Target::of(spec, e, file)).collect())
}

/// Renders and checks `target`, finding `kustomize` or `kubectl` on `path` (the `PATH`
/// variable's value).
pub fn check(target: &Target, path: Option<&OsString>) -> EnvironmentChecks {
    let findings = findings(target, path.map(OsString::as_os_str));
    EnvironmentChecks { environment: target.environment.clone(), overlay: target.overlay.clone(), findings }
}

/// Renders and checks each of `targets`, with the `PATH` of this process.
pub fn check_all(targets: &[Target]) -> Vec<EnvironmentChecks> {
    let path = std::env::var_os("PATH");
    targets.iter().map(|t| check(t, path.as_ref())).collect()
}

fn findings(target: &Target, path: Option<&std::ffi::OsStr>) -> Vec<Finding> {
    let (spec_file, spec_line) = &target.declared_at;
    let about_overlay = |code: &str, message: String, hint: String| Finding {
        severity: Severity::Error,
        code: code.to_owned(),
        message,
        hint,
        file: Some(spec_file.clone()),
        line: *spec_line,
        object: None,
    };
    let overlay = target.base.join(&target.overlay);
    let overlay = match std::fs::canonicalize(&overlay) {
        Ok(dir)
            if dir.join("kustomization.yaml").is_file()
                || dir.join("kustomization.yml").is_file()
                || dir.join("Kustomization").is_file() =>
        {
            dir
        }
        Ok(_) | Err(_) => {
            let message = format!(
                "the overlay `{}` of environment `{}` is not a kustomize directory (no `kustomization.yaml` at `{}`)",
                target.overlay,
                target.environment,
                overlay.display()
            );
            let hint = "`kubernetes.overlay` is relative to the spec's directory: name the directory holding the overlay's kustomization.yaml".to_owned();
            return vec![about_overlay("overlay-not-found", message, hint)];
        }
    };
    let Some(renderer) = Renderer::find(path) else {
        let message =
            format!("cannot render the overlay `{}`: neither `kustomize` nor `kubectl` is on the PATH", target.overlay);
        let hint = "install kubectl (it includes kustomize: https://kubernetes.io/docs/tasks/tools/) or kustomize (https://kubectl.docs.kubernetes.io/installation/kustomize/), then run again".to_owned();
        return vec![about_overlay("renderer-not-found", message, hint)];
    };
    let base = std::fs::canonicalize(&target.base).unwrap_or_else(|_| target.base.clone());
    let objects = match render::render(&renderer, &overlay) {
        Ok(objects) => objects,
        Err(error) => {
            let why = match error {
                RenderError::Io(why) | RenderError::Refused(why) | RenderError::Output(why) => why,
            };
            let why = render::relative_paths(&why, &base);
            let message = format!("`{}` of the overlay `{}` failed: {why}", renderer.shown(), target.overlay);
            let hint = "fix the overlay until the deploy's own `kustomize build` renders it; nothing else was checked"
                .to_owned();
            return vec![about_overlay("render-failed", message, hint)];
        }
    };
    let env = checks::Environment {
        name: &target.environment,
        namespace: target.namespace.as_deref(),
        registry: target.registry.as_deref(),
        other_registries: &target.other_registries,
        app_routing: target.app_routing,
        external_secrets: &target.external_secrets,
        external_config_maps: &target.external_config_maps,
    };
    let mut sources = locate::Sources::default();
    checks::run(&objects, &env)
        .into_iter()
        .map(|raw| {
            let object = &objects[raw.object];
            let place =
                if raw.needles.is_empty() { sources.object(object) } else { sources.field(object, &raw.needles) };
            let file = place.as_ref().map(|p| render::relative(&base, &p.file).to_string_lossy().into_owned());
            Finding {
                severity: raw.severity,
                code: raw.code.to_owned(),
                message: raw.message,
                hint: raw.hint,
                file,
                line: place.and_then(|p| p.line),
                object: Some(object.shown()),
            }
        })
        .collect()
}
