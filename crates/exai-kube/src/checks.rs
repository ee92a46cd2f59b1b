//! The checks: each rendered object against the others and against the environment.
//!
//! Every check is about something that breaks *after* Azure is built, when the deploy applies
//! the manifests or a pod starts (docs/kubernetes.md has each one with its source). A check
//! yields [`Raw`] findings naming the object they are about and the text that locates them;
//! the caller turns them into located [`exai_model::checks::Finding`]s.

use crate::render::{Object, get};
use exai_model::checks::Severity;
use exai_spec::{ExternalObject, suggest};
use serde_yaml::Value;
use std::collections::{BTreeMap, BTreeSet};

use exai_model::kinds::Cluster as ClusterKind;

/// The storage classes every AKS cluster provides.
///
/// Source: learn.microsoft.com, "Storage options for applications in Azure Kubernetes Service
/// (AKS)", section "Storage classes" (and "Use the Azure Disk/Files CSI driver": `managed-csi`,
/// `managed-csi-premium`, `azurefile-csi`, `azurefile-csi-premium`; `default` is
/// `managed-csi`; `managed`, `managed-premium`, `azurefile`, `azurefile-premium` are the
/// in-tree names kept for older manifests).
pub const AKS_STORAGE_CLASSES: &[&str] = &[
    "default",
    "managed-csi",
    "managed-csi-premium",
    "managed-premium",
    "managed",
    "azurefile",
    "azurefile-csi",
    "azurefile-csi-premium",
    "azurefile-premium",
];

/// Kinds that live in no namespace: the namespace check leaves them out (kustomize's
/// `namespace:` even sets one on the custom ones, such as a ClusterIssuer, which Kubernetes
/// ignores).
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "ClusterIssuer",
    "ClusterRole",
    "ClusterRoleBinding",
    "StorageClass",
    "CustomResourceDefinition",
    "PersistentVolume",
    "IngressClass",
    "PriorityClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "APIService",
    "CSIDriver",
    "RuntimeClass",
    "VolumeSnapshotClass",
];

/// What the checks know of the environment.
pub(crate) struct Environment<'a> {
    /// Its name.
    pub(crate) name: &'a str,
    /// The namespace the deploy targets (`kubernetes.namespace`).
    pub(crate) namespace: Option<&'a str>,
    /// Its registry's name.
    pub(crate) registry: Option<&'a str>,
    /// The other environments' registries, as `(environment, name)`.
    pub(crate) other_registries: &'a [(String, String)],
    /// Whether it declares the application routing add-on.
    pub(crate) app_routing: bool,
    /// Secrets the deploy creates outside the overlay.
    pub(crate) external_secrets: &'a [ExternalObject],
    /// ConfigMaps the deploy creates outside the overlay.
    pub(crate) external_config_maps: &'a [ExternalObject],
}

impl Environment<'_> {
    /// Returns the ingress classes a controller of the environment serves.
    fn served_classes(&self) -> Vec<&'static str> {
        if self.app_routing { vec![ClusterKind::APP_ROUTING_CLASS] } else { Vec::new() }
    }
}

/// A finding before it is located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Raw {
    pub(crate) severity: Severity,
    pub(crate) code: &'static str,
    pub(crate) message: String,
    pub(crate) hint: String,
    /// The object it is about (an index into the rendered objects).
    pub(crate) object: usize,
    /// Texts that locate it in the sources, the most precise first.
    pub(crate) needles: Vec<String>,
}

/// Runs every check over `objects`.
pub(crate) fn run(objects: &[Object], env: &Environment<'_>) -> Vec<Raw> {
    let mut checks = Checks { objects, env, out: Vec::new() };
    checks.references();
    checks.images();
    checks.namespaces();
    checks.ingresses();
    checks.selectors();
    checks.storage_classes();
    let mut out = checks.out;
    out.sort_by_key(|r| (r.severity, r.object));
    out
}

struct Checks<'a> {
    objects: &'a [Object],
    env: &'a Environment<'a>,
    out: Vec<Raw>,
}

/// A Secret or ConfigMap as references see it.
enum Store<'a> {
    /// In the rendered manifests, with its keys.
    Rendered(&'a Object),
    /// Declared in `kubernetes.external`, with its keys when listed.
    External(&'a ExternalObject),
}

fn text(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str)
}

fn sequence(value: Option<&Value>) -> impl Iterator<Item = &Value> {
    value.and_then(Value::as_sequence).into_iter().flatten()
}

fn is_true(value: Option<&Value>) -> bool {
    value.and_then(Value::as_bool).unwrap_or(false)
}

/// Returns the pod template of a workload (`metadata.labels` and `spec` of its pods).
fn pod_template(object: &Object) -> Option<&Value> {
    match object.kind.as_str() {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => object.get(&["spec", "template"]),
        "CronJob" => object.get(&["spec", "jobTemplate", "spec", "template"]),
        "Pod" => Some(&object.body),
        _ => None,
    }
}

/// Returns the containers and init containers of a pod template.
fn containers(template: &Value) -> impl Iterator<Item = &Value> {
    sequence(get(template, &["spec", "initContainers"])).chain(sequence(get(template, &["spec", "containers"])))
}

fn backticked(items: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    let shown: Vec<String> = items.into_iter().map(|i| format!("`{}`", i.as_ref())).collect();
    if shown.is_empty() { "none".to_owned() } else { shown.join(", ") }
}

fn did_you_mean<'c>(given: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<String> {
    suggest(given, candidates, 3).filter(|s| *s != given).map(|s| format!("did you mean `{s}`? "))
}

/// A parsed image reference: `[host/]repository[:tag][@digest]`.
struct Image<'a> {
    /// The registry host; `docker.io` when the reference names none (Docker Hub).
    host: &'a str,
    /// The tag, when written.
    tag: Option<&'a str>,
    /// Whether it is pinned by digest.
    digest: bool,
}

impl<'a> Image<'a> {
    fn parse(reference: &'a str) -> Self {
        let (name, digest) = match reference.split_once('@') {
            Some((name, _)) => (name, true),
            None => (reference, false),
        };
        let host = match name.split_once('/') {
            Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => first,
            _ => "docker.io",
        };
        let last = name.rsplit('/').next().unwrap_or(name);
        let tag = last.split_once(':').map(|(_, tag)| tag);
        Self { host, tag, digest }
    }

    /// Returns true when the image is `:latest` or has no tag (which pulls `:latest`).
    fn floating(&self) -> bool {
        !self.digest && self.tag.is_none_or(|t| t == "latest")
    }
}

impl<'a> Checks<'a> {
    fn push(
        &mut self,
        severity: Severity,
        code: &'static str,
        object: usize,
        needles: Vec<String>,
        message: String,
        hint: String,
    ) {
        self.out.push(Raw { severity, code, message, hint, object, needles });
    }

    fn namespace_of<'o>(&self, object: &'o Object) -> Option<&'o str>
    where
        'a: 'o,
    {
        object.namespace.as_deref().or(self.env.namespace)
    }

    /// Returns the objects of `kind` in `namespace`.
    fn in_namespace<'s>(&'s self, kind: &'s str, namespace: Option<&'s str>) -> impl Iterator<Item = &'a Object> + 's {
        let objects: &'a [Object] = self.objects;
        objects.iter().filter(move |o| o.kind == kind && self.namespace_of(o) == namespace)
    }

    /// Returns the Secret (`kind`) or ConfigMap named `name` in `namespace`.
    fn store(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<Store<'a>> {
        if let Some(object) = self.in_namespace(kind, namespace).find(|o| o.name == name) {
            return Some(Store::Rendered(object));
        }
        // External objects live in the namespace the deploy targets.
        if namespace != self.env.namespace && namespace.is_some() {
            return None;
        }
        self.external(kind).iter().find(|e| e.name == name).map(Store::External)
    }

    fn external(&self, kind: &str) -> &'a [ExternalObject] {
        if kind == "Secret" { self.env.external_secrets } else { self.env.external_config_maps }
    }

    /// `secretKeyRef`, `configMapKeyRef` and `envFrom` of every container and init container.
    fn references(&mut self) {
        for (index, object) in self.objects.iter().enumerate() {
            let Some(template) = pod_template(object) else { continue };
            let namespace = self.namespace_of(object);
            let mut found = Vec::new();
            for container in containers(template) {
                let container_name = text(container.get("name")).unwrap_or("?");
                for env in sequence(container.get("env")) {
                    let variable = text(env.get("name")).unwrap_or("?");
                    let context = format!("env `{variable}` of container `{container_name}`");
                    for (field, kind) in [("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")] {
                        let Some(reference) = get(env, &["valueFrom", field]) else { continue };
                        if is_true(reference.get("optional")) {
                            continue;
                        }
                        let name = text(reference.get("name")).unwrap_or_default();
                        let key = text(reference.get("key"));
                        found.push((kind, name.to_owned(), key.map(str::to_owned), context.clone()));
                    }
                }
                for source in sequence(container.get("envFrom")) {
                    let context = format!("`envFrom` of container `{container_name}`");
                    for (field, kind) in [("secretRef", "Secret"), ("configMapRef", "ConfigMap")] {
                        let Some(reference) = source.get(field) else { continue };
                        if is_true(reference.get("optional")) {
                            continue;
                        }
                        let name = text(reference.get("name")).unwrap_or_default();
                        found.push((kind, name.to_owned(), None, context.clone()));
                    }
                }
            }
            for (kind, name, key, context) in found {
                self.reference(index, namespace, kind, &name, key.as_deref(), &context);
            }
        }
    }

    fn reference(
        &mut self,
        index: usize,
        namespace: Option<&str>,
        kind: &str,
        name: &str,
        key: Option<&str>,
        context: &str,
    ) {
        let (code_missing, code_key, external_list) = match kind {
            "Secret" => ("secret-not-found", "secret-key-not-found", "kubernetes.external.secrets"),
            _ => ("config-map-not-found", "config-map-key-not-found", "kubernetes.external.configMaps"),
        };
        let object = self.objects[index].shown();
        match self.store(kind, namespace, name) {
            None => {
                let mut candidates: Vec<String> =
                    self.in_namespace(kind, namespace).map(|o| o.written_name().to_owned()).collect();
                candidates.extend(self.external(kind).iter().map(|e| e.name.clone()));
                let guess = did_you_mean(name, candidates.iter().map(String::as_str)).unwrap_or_default();
                let message = format!(
                    "`{object}` references {kind} `{name}` ({context}), which is neither in the rendered manifests nor in `{external_list}`"
                );
                let hint = format!(
                    "{guess}the pod would not start (`CreateContainerConfigError`); add the {kind} to the overlay, or list it under `{external_list}` in exai.yaml if the deploy creates it (`kubectl create {}`)",
                    if kind == "Secret" { "secret" } else { "configmap" }
                );
                self.push(Severity::Error, code_missing, index, vec![name.to_owned()], message, hint);
            }
            Some(store) => {
                let Some(key) = key else { return };
                let (shown, keys): (&str, Option<Vec<&str>>) = match &store {
                    Store::Rendered(o) => (o.written_name(), Some(o.keys.iter().map(String::as_str).collect())),
                    Store::External(e) => (&e.name, e.keys.as_ref().map(|k| k.iter().map(String::as_str).collect())),
                };
                let Some(keys) = keys else { return };
                if keys.contains(&key) {
                    return;
                }
                let guess = did_you_mean(key, keys.iter().copied()).unwrap_or_default();
                let message = format!("{kind} `{shown}` has no key `{key}` ({context} of `{object}`)");
                let hint = format!(
                    "{guess}keys must match exactly, or the pod fails with `CreateContainerConfigError`; `{shown}` has the keys {}",
                    backticked(&keys)
                );
                let (shown, key) = (shown.to_owned(), key.to_owned());
                self.push(Severity::Error, code_key, index, vec![key, shown], message, hint);
            }
        }
    }

    /// Every image on the environment's registry; `:latest` beside pinned workloads.
    fn images(&mut self) {
        let mut workloads = Vec::new();
        for (index, object) in self.objects.iter().enumerate() {
            let Some(template) = pod_template(object) else { continue };
            for container in containers(template) {
                if let Some(image) = text(container.get("image")) {
                    workloads.push((index, image.to_owned()));
                }
            }
        }
        if let Some(registry) = self.env.registry {
            let login_server = format!("{registry}.azurecr.io");
            let mut by_host: BTreeMap<String, Vec<(usize, String)>> = BTreeMap::new();
            for (index, image) in &workloads {
                let host = Image::parse(image).host.to_ascii_lowercase();
                if host != login_server {
                    by_host.entry(host).or_default().push((*index, image.clone()));
                }
            }
            for (host, images) in by_host {
                let first = images[0].0;
                let names: BTreeSet<&str> = images.iter().map(|(_, i)| i.as_str()).collect();
                let owner = self
                    .env
                    .other_registries
                    .iter()
                    .find(|(_, name)| format!("{name}.azurecr.io") == host)
                    .map(|(environment, _)| environment.clone());
                let whose = match (&owner, host.as_str()) {
                    (Some(environment), _) => format!("`{host}`, the registry of environment `{environment}`"),
                    (None, "docker.io") => "Docker Hub".to_owned(),
                    (None, _) => format!("`{host}`"),
                };
                let count = if names.len() == 1 { "1 image".to_owned() } else { format!("{} images", names.len()) };
                let message = format!(
                    "{count} pulled from {whose}, not from `{login_server}`, the registry of environment `{}`: {}",
                    self.env.name,
                    backticked(&names)
                );
                let example = names.iter().next().copied().unwrap_or_default();
                let import = if owner.is_none() && host == "docker.io" {
                    format!(
                        " after importing it (`az acr import --name {registry} --source docker.io/{}`)",
                        if example.contains('/') { example.to_owned() } else { format!("library/{example}") }
                    )
                } else {
                    String::new()
                };
                let hint = format!(
                    "the cluster pulls with its kubelet identity, which `attachRegistry` lets pull from `{login_server}` only; rewrite the image in the overlay's `images:` (`newName: {login_server}/...`){import}"
                );
                let needles = vec![example.to_owned(), host.clone()];
                self.push(Severity::Error, "image-not-on-registry", first, needles, message, hint);
            }
        }
        let pinned = workloads.iter().find(|(_, image)| !Image::parse(image).floating()).map(|(_, i)| i.clone());
        let Some(pinned) = pinned else { return };
        let mut warned = BTreeSet::new();
        for (index, image) in &workloads {
            if !Image::parse(image).floating() || !warned.insert((*index, image.clone())) {
                continue;
            }
            let object = self.objects[*index].shown();
            let message =
                format!("`{object}` runs `{image}`, a floating tag, beside workloads pinned to a tag (`{pinned}`)");
            let hint = "`:latest` is whatever was pushed last, not the commit being deployed: the seed's migration Job runs the api-gateway's `:latest`, so a failed push or two deploys in a row migrate the database with another version than the Deployments run; leave the tag to the overlay's `images:` (`newTag`) so every workload gets the same one".to_owned();
            let needles = vec![image.clone(), image.split(':').next().unwrap_or(image).to_owned()];
            self.push(Severity::Warning, "image-tag-floating", *index, needles, message, hint);
        }
    }

    /// The namespace every namespaced object goes to exists in the output or is the deploy's.
    fn namespaces(&mut self) {
        let declared: BTreeSet<&str> =
            self.objects.iter().filter(|o| o.kind == "Namespace").map(|o| o.name.as_str()).collect();
        let mut without = Vec::new();
        let mut missing: BTreeMap<String, usize> = BTreeMap::new();
        for (index, object) in self.objects.iter().enumerate() {
            if CLUSTER_SCOPED.contains(&object.kind.as_str()) {
                continue;
            }
            match self.namespace_of(object) {
                None => without.push(index),
                Some(ns) if !declared.contains(ns) && Some(ns) != self.env.namespace => {
                    missing.entry(ns.to_owned()).or_insert(index);
                }
                Some(_) => {}
            }
        }
        if let Some(&first) = without.first() {
            let message = format!(
                "{} object{} (`{}` first) {} no namespace, and `kubernetes.namespace` is not set: the deploy would put them in whatever namespace its context uses (`default`)",
                without.len(),
                if without.len() == 1 { "" } else { "s" },
                self.objects[first].shown(),
                if without.len() == 1 { "has" } else { "have" }
            );
            let hint = "set `namespace:` in the overlay's kustomization.yaml, or `kubernetes.namespace` in exai.yaml to the namespace the deploy targets (`skaffold deploy -n`)".to_owned();
            self.push(Severity::Error, "namespace-missing", first, Vec::new(), message, hint);
        }
        let known: Vec<&str> = declared.iter().copied().chain(self.env.namespace).collect();
        for (namespace, first) in missing {
            let guess = did_you_mean(&namespace, known.iter().copied()).unwrap_or_default();
            let message = format!(
                "objects go to the namespace `{namespace}` (`{}` first), which is neither a `Namespace` of the manifests nor `kubernetes.namespace`",
                self.objects[first].shown()
            );
            let hint = format!(
                "{guess}the deploy would fail with `namespaces \"{namespace}\" not found`; fix the overlay's `namespace:`, add a `Namespace` manifest, or set `kubernetes.namespace: {namespace}` if the deploy creates it"
            );
            self.push(Severity::Error, "namespace-not-found", first, vec![namespace], message, hint);
        }
    }

    /// Ingress classes served, ClusterIssuers present, backends existing with their ports.
    fn ingresses(&mut self) {
        let issuers: Vec<&str> =
            self.objects.iter().filter(|o| o.kind == "ClusterIssuer").map(|o| o.name.as_str()).collect();
        let served = self.env.served_classes();
        for (index, object) in self.objects.iter().enumerate() {
            if object.kind != "Ingress" {
                continue;
            }
            let shown = object.shown();
            let annotations = object.get(&["metadata", "annotations"]);
            let class = text(object.get(&["spec", "ingressClassName"]))
                .or_else(|| text(annotations.and_then(|a| a.get("kubernetes.io/ingress.class"))));
            match class {
                None => {
                    let message = format!(
                        "`{shown}` names no ingress class: it is served only if the cluster has a default `IngressClass`"
                    );
                    let hint = self.class_hint();
                    self.push(Severity::Warning, "ingress-class-missing", index, Vec::new(), message, hint);
                }
                Some(class) if !served.contains(&class) => {
                    let by = if served.is_empty() {
                        format!("environment `{}` declares no ingress controller", self.env.name)
                    } else {
                        format!("environment `{}` serves only {}", self.env.name, backticked(&served))
                    };
                    let message = format!(
                        "`{shown}` asks for the ingress class `{class}`, and {by}: the Ingress would get no address"
                    );
                    let retired = if class == "nginx" {
                        "; the community ingress-nginx that served `nginx` is retired since March 2026"
                    } else {
                        ""
                    };
                    let hint = format!("{}{retired}", self.class_hint());
                    self.push(
                        Severity::Error,
                        "ingress-class-not-served",
                        index,
                        vec![class.to_owned()],
                        message,
                        hint,
                    );
                }
                Some(_) => {}
            }
            if let Some(issuer) = text(annotations.and_then(|a| a.get("cert-manager.io/cluster-issuer")))
                && !issuers.contains(&issuer)
            {
                let guess = did_you_mean(issuer, issuers.iter().copied()).unwrap_or_default();
                let message = format!(
                    "`{shown}` asks cert-manager for a certificate from the ClusterIssuer `{issuer}`, which is not in the manifests (they hold {})",
                    backticked(&issuers)
                );
                let hint = format!(
                    "{guess}no certificate would be issued and TLS would fail; add the ClusterIssuer to the overlay or fix the annotation `cert-manager.io/cluster-issuer`"
                );
                self.push(Severity::Error, "cluster-issuer-not-found", index, vec![issuer.to_owned()], message, hint);
            }
            let mut backends: Vec<&Value> = Vec::new();
            backends.extend(object.get(&["spec", "defaultBackend", "service"]));
            for rule in sequence(object.get(&["spec", "rules"])) {
                for path in sequence(get(rule, &["http", "paths"])) {
                    backends.extend(get(path, &["backend", "service"]));
                }
            }
            let namespace = self.namespace_of(object);
            let mut found = Vec::new();
            for backend in backends {
                let name = text(backend.get("name")).unwrap_or_default().to_owned();
                let port = get(backend, &["port", "number"])
                    .and_then(Value::as_u64)
                    .map(|n| n.to_string())
                    .or_else(|| text(get(backend, &["port", "name"])).map(str::to_owned));
                found.push((name, port, get(backend, &["port", "number"]).is_some()));
            }
            for (name, port, by_number) in found {
                self.backend(index, namespace, &name, port.as_deref(), by_number);
            }
        }
    }

    fn class_hint(&self) -> String {
        let class = ClusterKind::APP_ROUTING_CLASS;
        if self.env.app_routing {
            format!("the application routing add-on serves the class `{class}`: set `ingressClassName: {class}`")
        } else {
            format!(
                "declare the ingress controller in exai.yaml: `cluster.ingress.appRouting: true` (AKS's application routing add-on, a managed NGINX), and set `ingressClassName: {class}`"
            )
        }
    }

    fn backend(&mut self, index: usize, namespace: Option<&str>, name: &str, port: Option<&str>, by_number: bool) {
        let shown = self.objects[index].shown();
        let service = self.in_namespace("Service", namespace).find(|s| s.name == name);
        let Some(service) = service else {
            let names: Vec<&str> = self.in_namespace("Service", namespace).map(|s| s.name.as_str()).collect();
            let guess = did_you_mean(name, names.iter().copied()).unwrap_or_default();
            let message = format!(
                "`{shown}` routes to the Service `{name}`, which is not in its namespace (its Services: {})",
                backticked(&names)
            );
            let hint = format!("{guess}requests would get 503s; fix the backend's `service.name`");
            self.push(Severity::Error, "backend-service-not-found", index, vec![name.to_owned()], message, hint);
            return;
        };
        let Some(port) = port else { return };
        let ports: Vec<(String, Option<String>)> = sequence(service.get(&["spec", "ports"]))
            .map(|p| {
                let number = p.get("port").and_then(Value::as_u64).map(|n| n.to_string()).unwrap_or_default();
                (number, text(p.get("name")).map(str::to_owned))
            })
            .collect();
        let matches = ports
            .iter()
            .any(|(number, port_name)| if by_number { number == port } else { port_name.as_deref() == Some(port) });
        if matches {
            return;
        }
        let listed: Vec<String> = ports
            .iter()
            .map(|(number, port_name)| match port_name {
                Some(n) => format!("{number} ({n})"),
                None => number.clone(),
            })
            .collect();
        let what = if by_number { format!("port {port}") } else { format!("port named `{port}`") };
        let message = format!(
            "`{shown}` routes to {what} of the Service `{name}`, which has no such port (its ports: {})",
            listed.join(", ")
        );
        let hint =
            "requests would get 503s; use one of the Service's ports (`port.number`, or `port.name` for a named port)"
                .to_owned();
        self.push(Severity::Error, "backend-port-not-found", index, vec![port.to_owned()], message, hint);
    }

    /// Every Service selector matches some pod template's labels.
    fn selectors(&mut self) {
        let mut found = Vec::new();
        for (index, service) in self.objects.iter().enumerate() {
            if service.kind != "Service" || text(service.get(&["spec", "type"])) == Some("ExternalName") {
                continue;
            }
            let Some(Value::Mapping(selector)) = service.get(&["spec", "selector"]) else { continue };
            if selector.is_empty() {
                continue;
            }
            let selector: Vec<(String, String)> =
                selector.iter().filter_map(|(k, v)| Some((k.as_str()?.to_owned(), scalar(v)?))).collect();
            let namespace = self.namespace_of(service);
            let templates: Vec<Vec<(String, String)>> = self
                .objects
                .iter()
                .filter(|o| self.namespace_of(o) == namespace)
                .filter_map(pod_template)
                .map(|t| match get(t, &["metadata", "labels"]) {
                    Some(Value::Mapping(labels)) => {
                        labels.iter().filter_map(|(k, v)| Some((k.as_str()?.to_owned(), scalar(v)?))).collect()
                    }
                    _ => Vec::new(),
                })
                .collect();
            if templates.iter().any(|labels| selector.iter().all(|pair| labels.contains(pair))) {
                continue;
            }
            found.push((index, selector, templates));
        }
        for (index, selector, templates) in found {
            let shown = self.objects[index].shown();
            let pairs: Vec<String> = selector.iter().map(|(k, v)| format!("{k}={v}")).collect();
            // The nearest label with the same key, in any pod template.
            let guess = selector.iter().find_map(|(key, value)| {
                let values: BTreeSet<&str> =
                    templates.iter().flatten().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect();
                suggest(value, values, 3)
                    .filter(|s| s != value)
                    .map(|s| (value.clone(), format!("did you mean `{key}={s}`? ")))
            });
            let (needle, guess) = guess.unwrap_or_else(|| (selector[0].1.clone(), String::new()));
            let message =
                format!("`{shown}` selects {}, which no pod template in its namespace carries", backticked(&pairs));
            let hint = format!(
                "{guess}the Service would have no endpoints and requests would fail; make its `selector` match the labels of the pods it serves (`spec.template.metadata.labels`)"
            );
            self.push(Severity::Error, "service-selects-nothing", index, vec![needle], message, hint);
        }
    }

    /// A StatefulSet's `volumeClaimTemplates` use a storage class AKS provides.
    fn storage_classes(&mut self) {
        let own: Vec<&str> =
            self.objects.iter().filter(|o| o.kind == "StorageClass").map(|o| o.name.as_str()).collect();
        let mut found = Vec::new();
        for (index, object) in self.objects.iter().enumerate() {
            if object.kind != "StatefulSet" {
                continue;
            }
            for claim in sequence(object.get(&["spec", "volumeClaimTemplates"])) {
                let Some(class) = text(get(claim, &["spec", "storageClassName"])) else { continue };
                if !AKS_STORAGE_CLASSES.contains(&class) && !own.contains(&class) {
                    let claim_name = text(get(claim, &["metadata", "name"])).unwrap_or("?").to_owned();
                    found.push((index, class.to_owned(), claim_name));
                }
            }
        }
        for (index, class, claim) in found {
            let shown = self.objects[index].shown();
            let known = AKS_STORAGE_CLASSES.iter().copied().chain(own.iter().copied());
            let guess = did_you_mean(&class, known).unwrap_or_default();
            let message = format!(
                "`{shown}` claims its volume `{claim}` from the storage class `{class}`, which AKS does not provide and the manifests do not declare"
            );
            let hint = format!(
                "{guess}the claim would stay `Pending` and the pod unscheduled; use one of AKS's classes: {}",
                backticked(AKS_STORAGE_CLASSES)
            );
            self.push(Severity::Error, "storage-class-unknown", index, vec![class], message, hint);
        }
    }
}

/// Returns a label value as text (YAML may read `version: 2` as a number).
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const NONE: &[ExternalObject] = &[];

    fn environment<'a>(external: &'a [ExternalObject], app_routing: bool) -> Environment<'a> {
        Environment {
            name: "perso",
            namespace: Some("exai"),
            registry: Some("exaipersoacr"),
            other_registries: &[],
            app_routing,
            external_secrets: external,
            external_config_maps: NONE,
        }
    }

    fn codes(manifests: &str, env: &Environment<'_>) -> Vec<(Severity, &'static str)> {
        let objects = crate::render::read_objects(manifests, Path::new("/tmp/w")).expect("YAML");
        run(&objects, env).into_iter().map(|r| (r.severity, r.code)).collect()
    }

    const POD: &str = "kind: Deployment\nmetadata: {name: api}\nspec:\n  template:\n    metadata: {labels: {app: api}}\n    spec:\n      containers:\n        - name: api\n          image: exaipersoacr.azurecr.io/api:1\n          env:\n";

    #[test]
    fn references_are_checked_against_rendered_and_external_objects_and_optional_ones_are_not() {
        let refs = format!(
            "{POD}            - {{name: A, valueFrom: {{secretKeyRef: {{name: ci, key: anything}}}}}}\n            - {{name: B, valueFrom: {{secretKeyRef: {{name: gone, key: k, optional: true}}}}}}\n            - {{name: C, valueFrom: {{secretKeyRef: {{name: listed, key: databse-url}}}}}}\n"
        );
        let external = [
            ExternalObject { name: "ci".into(), keys: None },
            ExternalObject { name: "listed".into(), keys: Some(vec!["database-url".into()]) },
        ];
        assert_eq!(codes(&refs, &environment(&external, true)), [(Severity::Error, "secret-key-not-found")]);
        assert_eq!(
            codes(&refs, &environment(NONE, true)),
            [(Severity::Error, "secret-not-found"), (Severity::Error, "secret-not-found")],
            "without `external`, neither exists; the optional one is still not checked"
        );
    }

    #[test]
    fn ingresses_are_served_only_by_the_controllers_the_environment_declares() {
        let ingress =
            "kind: Ingress\nmetadata: {name: web}\nspec: {ingressClassName: webapprouting.kubernetes.azure.com}\n";
        assert_eq!(codes(ingress, &environment(NONE, true)), []);
        assert_eq!(codes(ingress, &environment(NONE, false)), [(Severity::Error, "ingress-class-not-served")]);
        let unnamed = "kind: Ingress\nmetadata: {name: web}\nspec: {}\n";
        assert_eq!(codes(unnamed, &environment(NONE, true)), [(Severity::Warning, "ingress-class-missing")]);
    }

    #[test]
    fn cluster_scoped_objects_need_no_namespace_and_external_name_services_select_nothing() {
        let env = Environment { namespace: None, ..environment(NONE, true) };
        let objects = "kind: ClusterIssuer\nmetadata: {name: le}\n---\nkind: Namespace\nmetadata: {name: exai}\n---\nkind: Service\nmetadata: {name: db, namespace: exai}\nspec: {type: ExternalName, externalName: db.example.com, selector: {app: none}}\n";
        assert_eq!(codes(objects, &env), []);
    }

    #[test]
    fn a_storage_class_the_manifests_declare_is_accepted() {
        let set = "kind: StatefulSet\nmetadata: {name: db}\nspec:\n  volumeClaimTemplates:\n    - metadata: {name: data}\n      spec: {storageClassName: fast}\n";
        assert_eq!(codes(set, &environment(NONE, true)), [(Severity::Error, "storage-class-unknown")]);
        let declared = format!("{set}---\nkind: StorageClass\nmetadata: {{name: fast}}\n");
        assert_eq!(codes(&declared, &environment(NONE, true)), []);
    }

    #[test]
    fn image_references_are_split_like_docker_does() {
        let hub = Image::parse("postgres:16");
        assert_eq!((hub.host, hub.tag, hub.floating()), ("docker.io", Some("16"), false));
        let acr = Image::parse("exaipersoacr.azurecr.io/exai-api-gateway");
        assert_eq!((acr.host, acr.tag, acr.floating()), ("exaipersoacr.azurecr.io", None, true));
        let port = Image::parse("localhost:5000/x:latest");
        assert_eq!((port.host, port.tag, port.floating()), ("localhost:5000", Some("latest"), true));
        assert!(!Image::parse("library/x@sha256:abc").floating());
        assert_eq!(Image::parse("bitnami/postgresql").host, "docker.io");
    }
}
