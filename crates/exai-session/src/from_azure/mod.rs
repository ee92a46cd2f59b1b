//! `exai init --from-azure`: reads what a resource group holds and writes the `exai.yaml` that
//! describes it, so a platform built by hand (the seed's `az` recipe) is adopted rather than
//! rebuilt.
//!
//! # Boundaries
//!
//! [`read`] is the only part that talks to Azure: a handful of GETs (the group, its clusters and
//! registries, the monitoring workspace, the AcrPull assignments of the kubelet identity, the
//! deployer's application, its federated credentials, service principal and role assignments).
//! It returns a [`Found`], plain JSON documents. [`spec_text`] turns a `Found` into the spec's
//! text with no I/O (unit-tested from documents), and [`write_files`] writes it, refusing to
//! replace a file unless asked.
//!
//! # Key design decision: write what plans as no change
//!
//! Every value written is the live one, and a value Azure fills in that exai would otherwise
//! leave to Azure (the Kubernetes version) is left out, so the first `exai plan` of the written
//! spec changes nothing but ownership marks. Where a choice is needed, the one that plans as no
//! change wins: the cluster's live SSH public key goes to a file next to the spec (used only if
//! the cluster is ever created again), a workspace outside the group is *referenced* by id
//! (used, never written), and a client secret exai did not make is left alone
//! (`clientSecret: false`). The written text is parsed by `exai-spec` before it is written: a
//! spec `init` writes always validates.

mod spec_text;

pub use spec_text::{Written, spec_text};

use exai_azure::{AzureClient, AzureError};
use exai_model::kinds::{Cluster, Registry, ResourceGroup, Workspace, odata_literal};
use exai_model::{ApiRequest, Method};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The api-version of role assignment lists (docs/azure-facts.md §4).
const ROLE_ASSIGNMENTS_API_VERSION: &str = "2022-04-01";

/// What to read, and the choices the caller made.
#[derive(Debug, Clone)]
pub struct Source {
    /// The tenant (written to the spec).
    pub tenant: String,
    /// The subscription holding the group.
    pub subscription: String,
    /// The resource group to describe.
    pub resource_group: String,
    /// The display name of the deployer's application (`az ad sp create-for-rbac --name`).
    pub deployer: Option<String>,
    /// The cluster to describe, when the group holds several.
    pub cluster: Option<String>,
    /// The registry to describe, when the group holds several.
    pub registry: Option<String>,
    /// The environment's name; derived from the group's name when absent.
    pub environment: Option<String>,
}

/// What [`read`] found: Azure's documents as it answered them.
#[derive(Debug, Clone)]
pub struct Found {
    /// What was asked for.
    pub source: Source,
    /// The resource group.
    pub group: Value,
    /// The registry, if the group holds one.
    pub registry: Option<Value>,
    /// When the group holds no registry: the id of the registry outside it that the cluster
    /// pulls from (its kubelet identity's AcrPull), referenced rather than owned.
    pub registry_reference: Option<String>,
    /// The cluster, if the group holds one.
    pub cluster: Option<FoundCluster>,
    /// The deployer, if one was asked for.
    pub deployer: Option<FoundDeployer>,
    /// Objects of the group that the spec does not describe (`type` and name), said in a comment.
    pub left_out: Vec<String>,
}

/// A cluster and what hangs off it.
#[derive(Debug, Clone)]
pub struct FoundCluster {
    /// The cluster.
    pub document: Value,
    /// The id of the workspace its monitoring add-on sends to, as the add-on's configuration
    /// spells it (`None` without the add-on).
    pub workspace_id: Option<String>,
    /// That workspace (`None` without the add-on, or when the workspace no longer exists).
    pub workspace: Option<Value>,
    /// The kubelet identity's AcrPull assignment on the registry, if there is one.
    pub acr_pull: Option<Value>,
}

/// The identity GitHub Actions deploys with.
#[derive(Debug, Clone)]
pub struct FoundDeployer {
    /// The application.
    pub application: Value,
    /// Its federated identity credentials.
    pub federated: Vec<Value>,
    /// Its service principal, if it has one.
    pub service_principal: Option<Value>,
    /// The service principal's role assignments anywhere in the subscription.
    pub role_assignments: Vec<Value>,
}

/// Why `init --from-azure` wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum FromAzureError {
    /// The group does not exist in the subscription.
    #[error("resource group `{group}` not found in subscription `{subscription}`")]
    GroupNotFound {
        /// The group asked for.
        group: String,
        /// The subscription searched.
        subscription: String,
    },
    /// The group holds several objects of a kind the environment has one of.
    #[error("resource group `{group}` holds {} {what}s: {}", names.len(), quoted(names))]
    Several {
        /// The group.
        group: String,
        /// `cluster` or `registry`.
        what: &'static str,
        /// The flag that picks one.
        flag: &'static str,
        /// Their names.
        names: Vec<String>,
    },
    /// The object named by `--cluster` or `--registry` is not in the group.
    #[error("no {what} `{name}` in resource group `{group}`{}", found(names))]
    NotInGroup {
        /// The group.
        group: String,
        /// `cluster` or `registry`.
        what: &'static str,
        /// The name asked for.
        name: String,
        /// The names the group holds.
        names: Vec<String>,
    },
    /// No application has the deployer's display name.
    #[error("no application named `{name}` in the tenant")]
    NoApplication {
        /// The display name.
        name: String,
    },
    /// Several applications have the deployer's display name.
    #[error("{} applications are named `{name}` (appId {})", app_ids.len(), quoted(app_ids))]
    SeveralApplications {
        /// The display name.
        name: String,
        /// Their `appId`s.
        app_ids: Vec<String>,
    },
    /// A read failed.
    #[error("cannot read {what}: {source}")]
    Read {
        /// What was being read.
        what: String,
        /// Azure's answer (boxed: it is large, and rare).
        source: Box<AzureError>,
    },
    /// The environment name given or derived is not one a spec accepts.
    #[error("`{name}` cannot name an environment")]
    EnvironmentName {
        /// The name.
        name: String,
    },
    /// The text written does not validate: a bug of `init`, never written to disk.
    #[error("the spec written from Azure does not validate: {message}")]
    Invalid {
        /// The diagnostics, rendered.
        message: String,
    },
    /// A file to write exists.
    #[error("`{path}` exists")]
    Exists {
        /// The file.
        path: String,
    },
    /// A file could not be written.
    #[error("cannot write `{path}`: {source}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

fn quoted(names: &[String]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

fn found(names: &[String]) -> String {
    if names.is_empty() { " (it holds none)".to_owned() } else { format!(" (it holds {})", quoted(names)) }
}

impl FromAzureError {
    /// Returns what to do next.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Self::GroupNotFound { .. } => "check the name (`az group list -o table`) and the subscription \
                (`--subscription`, or `AZURE_SUBSCRIPTION_ID`)"
                .to_owned(),
            Self::Several { flag, what, .. } => format!(
                "an environment has one {what}: pick the one to describe with `{flag} NAME` (the others are \
                 listed in the spec's header and left alone)"
            ),
            Self::NotInGroup { .. } => "check the name, or leave the flag out to take the group's only one".to_owned(),
            Self::NoApplication { .. } => "`--deployer` is the application's display name, as given to \
                `az ad sp create-for-rbac --name`; list them with `az ad app list --display-name NAME`"
                .to_owned(),
            Self::SeveralApplications { .. } => "exai cannot tell which one deploys: rename or delete the others \
                (`az ad app update --id APPID --display-name ...`), or leave `--deployer` out"
                .to_owned(),
            Self::Read { source, .. } => return source.hint(),
            Self::EnvironmentName { .. } => {
                "give `--env NAME`: 1 to 32 characters, a lowercase letter, then lowercase letters, digits or `-`"
                    .to_owned()
            }
            Self::Invalid { .. } => {
                "this is a bug in exai; please report it with the resource group's shape".to_owned()
            }
            Self::Exists { .. } => "pass `--force` to replace it, or `-o FILE` to write elsewhere".to_owned(),
            Self::Write { .. } => "check that the directory exists and is writable".to_owned(),
        })
    }
}

async fn get(
    client: &AzureClient,
    request: ApiRequest,
    what: impl Into<String>,
) -> Result<Option<Value>, FromAzureError> {
    client.read(&request).await.map_err(|source| FromAzureError::Read { what: what.into(), source: Box::new(source) })
}

/// Returns the `value` list of an answer (none for an absent list).
fn items(answer: Option<Value>) -> Vec<Value> {
    match answer {
        Some(Value::Object(mut map)) => match map.remove("value") {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn name_of(document: &Value) -> String {
    document.get("name").and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// Picks the one object of a list: the one named `wanted`, or the only one; several are
/// refused, naming them.
fn pick(
    group: &str,
    what: &'static str,
    flag: &'static str,
    mut all: Vec<Value>,
    wanted: Option<&str>,
) -> Result<Option<Value>, FromAzureError> {
    let names: Vec<String> = all.iter().map(name_of).collect();
    if let Some(wanted) = wanted {
        return match all.iter().position(|d| name_of(d).eq_ignore_ascii_case(wanted)) {
            Some(at) => Ok(Some(all.swap_remove(at))),
            None => Err(FromAzureError::NotInGroup { group: group.to_owned(), what, name: wanted.to_owned(), names }),
        };
    }
    match all.len() {
        0 => Ok(None),
        1 => Ok(all.pop()),
        _ => Err(FromAzureError::Several { group: group.to_owned(), what, flag, names }),
    }
}

/// Reads the resource group `source` names and what the environment is made of.
pub async fn read(client: &AzureClient, source: Source) -> Result<Found, FromAzureError> {
    let sub = source.subscription.clone();
    let group_name = source.resource_group.clone();
    let group_path = format!("/subscriptions/{sub}/resourceGroups/{group_name}");
    let group = get(
        client,
        ApiRequest::arm(Method::Get, &group_path, ResourceGroup::API_VERSION, None),
        format!("resource group `{group_name}`"),
    )
    .await?
    .ok_or_else(|| FromAzureError::GroupNotFound { group: group_name.clone(), subscription: sub.clone() })?;

    let list = |azure_type: &str, api_version: &'static str| {
        ApiRequest::arm(Method::Get, format!("{group_path}/providers/{azure_type}"), api_version, None)
    };
    let clusters = items(
        get(client, list(Cluster::AZURE_TYPE, Cluster::API_VERSION), format!("the clusters of `{group_name}`")).await?,
    );
    let registries = items(
        get(client, list(Registry::AZURE_TYPE, Registry::API_VERSION), format!("the registries of `{group_name}`"))
            .await?,
    );
    let cluster = pick(&group_name, "cluster", "--cluster", clusters, source.cluster.as_deref())?;

    // The kubelet identity's AcrPull assignments, per registry of the group: they say which
    // registry is attached, and pick the registry when the group holds several.
    let kubelet = cluster
        .as_ref()
        .and_then(|c| c.pointer("/properties/identityProfile/kubeletidentity/objectId"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut acr_pulls: Vec<(String, Value)> = Vec::new();
    if let Some(principal) = &kubelet {
        for registry in &registries {
            let Some(id) = registry.get("id").and_then(Value::as_str) else { continue };
            let request = ApiRequest::arm(
                Method::Get,
                format!("{id}/providers/Microsoft.Authorization/roleAssignments"),
                ROLE_ASSIGNMENTS_API_VERSION,
                None,
            )
            .with_query("$filter", &format!("principalId eq '{principal}'"));
            let assignments =
                items(get(client, request, format!("the role assignments on `{}`", name_of(registry))).await?);
            if let Some(pull) = assignments.into_iter().find(|a| is_acr_pull_on(a, id)) {
                acr_pulls.push((name_of(registry), pull));
            }
        }
    }
    let registry = match (source.registry.as_deref(), registries.len(), acr_pulls.as_slice()) {
        (None, n, [(attached, _)]) if n > 1 => {
            let attached = attached.clone();
            pick(&group_name, "registry", "--registry", registries, Some(&attached))?
        }
        (wanted, ..) => pick(&group_name, "registry", "--registry", registries, wanted)?,
    };
    let mut acr_pull = registry
        .as_ref()
        .and_then(|r| acr_pulls.iter().find(|(name, _)| *name == name_of(r)))
        .map(|(_, pull)| pull.clone());
    // No registry in the group: one shared from elsewhere is found by the kubelet identity's
    // AcrPull anywhere in the subscription (`az aks create --attach-acr` takes a registry of
    // any group).
    let mut registry_reference = None;
    if let (None, Some(principal)) = (&registry, &kubelet) {
        let request = ApiRequest::arm(
            Method::Get,
            format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments"),
            ROLE_ASSIGNMENTS_API_VERSION,
            None,
        )
        .with_query("$filter", &format!("principalId eq '{principal}'"));
        let assignments = items(get(client, request, "the kubelet identity's role assignments").await?);
        let shared = assignments.into_iter().find_map(|a| {
            let scope = a.pointer("/properties/scope").and_then(Value::as_str)?.to_owned();
            let lower = scope.to_ascii_lowercase();
            let is_registry = lower
                .split_once("/providers/microsoft.containerregistry/registries/")
                .is_some_and(|(_, name)| !name.is_empty() && !name.contains('/'));
            (is_registry && is_acr_pull_on(&a, &scope)).then_some((scope, a))
        });
        if let Some((scope, assignment)) = shared {
            registry_reference = Some(scope);
            acr_pull = Some(assignment);
        }
    }

    let cluster = match cluster {
        Some(document) => {
            let workspace_id = document
                .pointer("/properties/addonProfiles/omsagent")
                .filter(|addon| addon.get("enabled").and_then(Value::as_bool) == Some(true))
                .and_then(|addon| addon.get("config"))
                .and_then(Value::as_object)
                .and_then(|config| {
                    config
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("logAnalyticsWorkspaceResourceID"))
                        .map(|(_, v)| v)
                })
                .and_then(Value::as_str)
                .map(str::to_owned);
            let workspace = match &workspace_id {
                Some(id) => {
                    let request = ApiRequest::arm(Method::Get, id, Workspace::API_VERSION, None);
                    get(client, request, format!("the workspace `{id}`")).await?
                }
                None => None,
            };
            Some(FoundCluster { document, workspace_id, workspace, acr_pull })
        }
        None => None,
    };

    let deployer = match &source.deployer {
        Some(name) => Some(read_deployer(client, &sub, name).await?),
        None => None,
    };

    // What else the group holds, said in the spec so nothing is silently left out.
    let described: Vec<String> = [registry.as_ref(), cluster.as_ref().map(|c| &c.document)]
        .into_iter()
        .flatten()
        .filter_map(|d| d.get("id").and_then(Value::as_str).map(str::to_ascii_lowercase))
        .chain(
            cluster
                .as_ref()
                .and_then(|c| c.workspace.as_ref())
                .and_then(|w| w.get("id"))
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase),
        )
        .collect();
    let everything = items(
        get(
            client,
            ApiRequest::arm(Method::Get, format!("{group_path}/resources"), ResourceGroup::API_VERSION, None),
            format!("the resources of `{group_name}`"),
        )
        .await?,
    );
    let left_out = everything
        .iter()
        .filter(|r| r.get("id").and_then(Value::as_str).is_some_and(|id| !described.contains(&id.to_ascii_lowercase())))
        .filter(|r| {
            // The data collection rule comes with `cluster.monitoring`.
            !r.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case("Microsoft.Insights/dataCollectionRules"))
        })
        .map(|r| {
            let kind = r.get("type").and_then(Value::as_str).unwrap_or("?");
            format!("{kind} `{}`", name_of(r))
        })
        .collect();

    Ok(Found { source, group, registry, registry_reference, cluster, deployer, left_out })
}

/// Returns whether `assignment` grants AcrPull at exactly `scope`.
fn is_acr_pull_on(assignment: &Value, scope: &str) -> bool {
    let text = |name: &str| assignment.pointer(&format!("/properties/{name}")).and_then(Value::as_str).unwrap_or("");
    let acr_pull = exai_model::kinds::built_in_role("AcrPull").map(|(_, guid)| guid).unwrap_or_default();
    text("roleDefinitionId").rsplit('/').next().is_some_and(|g| g.eq_ignore_ascii_case(acr_pull))
        && text("scope").eq_ignore_ascii_case(scope)
}

async fn read_deployer(client: &AzureClient, subscription: &str, name: &str) -> Result<FoundDeployer, FromAzureError> {
    let request = ApiRequest::graph(Method::Get, "/applications", None)
        .with_query("$filter", &format!("displayName eq {}", odata_literal(name)));
    let mut applications = items(get(client, request, format!("the applications named `{name}`")).await?);
    // Graph's `eq` on display names ignores case; an exact name is what `create-for-rbac` matched.
    applications.retain(|a| a.get("displayName").and_then(Value::as_str).is_some_and(|n| n.eq_ignore_ascii_case(name)));
    let application = match applications.len() {
        0 => return Err(FromAzureError::NoApplication { name: name.to_owned() }),
        1 => applications.remove(0),
        _ => {
            let app_ids =
                applications.iter().map(|a| a.get("appId").and_then(Value::as_str).unwrap_or("?").to_owned()).collect();
            return Err(FromAzureError::SeveralApplications { name: name.to_owned(), app_ids });
        }
    };
    let object_id = application.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
    let app_id = application.get("appId").and_then(Value::as_str).unwrap_or_default().to_owned();
    let federated = items(
        get(
            client,
            ApiRequest::graph(Method::Get, format!("/applications/{object_id}/federatedIdentityCredentials"), None),
            format!("the federated credentials of `{name}`"),
        )
        .await?,
    );
    let request = ApiRequest::graph(Method::Get, "/servicePrincipals", None)
        .with_query("$filter", &format!("appId eq {}", odata_literal(&app_id)));
    let service_principal =
        items(get(client, request, format!("the service principal of `{name}`")).await?).into_iter().next();
    let role_assignments = match service_principal.as_ref().and_then(|sp| sp.get("id")).and_then(Value::as_str) {
        Some(principal) => {
            let request = ApiRequest::arm(
                Method::Get,
                format!("/subscriptions/{subscription}/providers/Microsoft.Authorization/roleAssignments"),
                ROLE_ASSIGNMENTS_API_VERSION,
                None,
            )
            .with_query("$filter", &format!("principalId eq '{principal}'"));
            items(get(client, request, format!("the role assignments of `{name}`")).await?)
        }
        None => Vec::new(),
    };
    Ok(FoundDeployer { application, federated, service_principal, role_assignments })
}

/// Writes `written` into `dir` (the spec at `spec`, the other files beside it), each in one step;
/// refuses, before writing anything, when one exists, unless `force`.
pub fn write_files(spec: &Path, written: &Written, force: bool) -> Result<Vec<PathBuf>, FromAzureError> {
    let beside = |name: &str| spec.parent().map_or_else(|| PathBuf::from(name), |dir| dir.join(name));
    let mut files = vec![(spec.to_path_buf(), written.spec.clone())];
    files.extend(written.files.iter().map(|(name, text)| (beside(name), text.clone())));
    if !force && let Some((path, _)) = files.iter().find(|(path, _)| path.exists()) {
        return Err(FromAzureError::Exists { path: path.display().to_string() });
    }
    let existing = if force { exai_executor::Existing::Replace } else { exai_executor::Existing::Keep };
    for (path, text) in &files {
        exai_executor::write_atomically(path, text.as_bytes(), 0o666, existing).map_err(|source| {
            if source.kind() == std::io::ErrorKind::AlreadyExists {
                FromAzureError::Exists { path: path.display().to_string() }
            } else {
                FromAzureError::Write { path: path.display().to_string(), source }
            }
        })?;
    }
    Ok(files.into_iter().map(|(path, _)| path).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn named(names: &[&str]) -> Vec<Value> {
        names.iter().map(|n| json!({"name": n})).collect()
    }

    #[test]
    fn the_one_object_of_a_group_is_picked_several_are_refused_naming_them() {
        assert_eq!(pick("rg", "cluster", "--cluster", named(&[]), None).unwrap(), None);
        assert_eq!(pick("rg", "cluster", "--cluster", named(&["a"]), None).unwrap(), Some(json!({"name": "a"})));
        let several = pick("rg", "cluster", "--cluster", named(&["a", "b"]), None).unwrap_err();
        assert_eq!(several.to_string(), "resource group `rg` holds 2 clusters: `a`, `b`");
        assert!(several.hint().unwrap().contains("`--cluster NAME`"));
        // Named: picked among several (Azure's names ignore case), or refused when absent.
        assert_eq!(
            pick("rg", "cluster", "--cluster", named(&["a", "B"]), Some("b")).unwrap(),
            Some(json!({"name": "B"}))
        );
        let absent = pick("rg", "registry", "--registry", named(&["a"]), Some("c")).unwrap_err();
        assert_eq!(absent.to_string(), "no registry `c` in resource group `rg` (it holds `a`)");
    }

    #[test]
    fn acr_pull_is_recognized_in_either_role_definition_form_at_exactly_its_scope() {
        let scope = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r";
        let assignment = |role: &str, at: &str| json!({"properties": {"roleDefinitionId": role, "scope": at}});
        let tenant_form = "/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d";
        let subscription_form = format!("/subscriptions/s{tenant_form}");
        assert!(is_acr_pull_on(&assignment(tenant_form, scope), scope));
        assert!(is_acr_pull_on(&assignment(&subscription_form, &scope.to_ascii_lowercase()), scope));
        assert!(!is_acr_pull_on(&assignment(tenant_form, "/subscriptions/s"), scope), "another scope");
        let push = "/providers/Microsoft.Authorization/roleDefinitions/8311e382-0749-4cb8-b61a-304f252e45ec";
        assert!(!is_acr_pull_on(&assignment(push, scope), scope), "another role");
    }
}
