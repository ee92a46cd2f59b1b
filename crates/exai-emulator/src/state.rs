//! What the emulated Azure holds, and how it is kept in a JSON state file.
//!
//! The state is keyed the way Azure is: tenants (with their principals), then subscriptions (each
//! bound to the tenant that first used it), then what lives in a subscription (resource groups,
//! and every other resource by lowercase id, kept as the JSON GET answers) and the long-running
//! operations running against it.
//!
//! The file is versioned (`{"version":1,...}`), read strictly (unknown members are an error, so a
//! file from a newer emulator is refused rather than half-read), written atomically (a temporary
//! file in the same directory, then a rename) and guarded by an OS lock on `<state>.lock` so two
//! emulators never share one state.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::EmulatorError;

/// The state file format this emulator reads and writes.
pub(crate) const STATE_VERSION: u32 = 1;

/// How long a finished operation stays pollable.
const FINISHED_OPERATION_RETENTION_MS: i64 = 24 * 60 * 60 * 1000;

/// Everything the emulated Azure holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct State {
    /// The state file format version; always [`STATE_VERSION`].
    pub version: u64,
    /// Tenants by tenant id (lowercase GUID).
    #[serde(default)]
    pub tenants: BTreeMap<String, TenantRecord>,
    /// Subscriptions by subscription id (lowercase GUID).
    #[serde(default)]
    pub subscriptions: BTreeMap<String, SubscriptionRecord>,
    /// Microsoft Graph's directory objects (applications, service principals) per tenant.
    #[serde(default, skip_serializing_if = "crate::directory::Directory::is_empty")]
    pub directory: crate::directory::Directory,
    /// Whether the state changed since it was last saved.
    #[serde(skip)]
    pub dirty: bool,
}

/// A tenant, created the first time a token is requested from it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct TenantRecord {
    /// The tenant id (lowercase GUID).
    pub tenant_id: String,
    /// Domain names tokens were requested with (lowercase), e.g. `contoso.onmicrosoft.com`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<String>,
    /// Every principal of the tenant (service principals, managed identities) by object id
    /// (lowercase GUID): what role assignments check `principalId` against.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub principals: BTreeMap<String, PrincipalRecord>,
}

/// A security principal of a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct PrincipalRecord {
    /// The object id (lowercase GUID).
    pub object_id: String,
    /// The application (client) id, for service principals and managed identities.
    pub app_id: String,
    /// `ServicePrincipal` for application service principals and managed identities alike
    /// (what ARM's `principalType` calls both).
    pub principal_type: String,
    /// A display name.
    pub display_name: String,
    /// Where it comes from: `application` (Graph) or `managedIdentity` (a cluster's identities).
    pub source: String,
}

/// A subscription, created the first time a token uses it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SubscriptionRecord {
    /// The subscription id (lowercase GUID).
    pub subscription_id: String,
    /// The tenant the subscription belongs to.
    pub tenant_id: String,
    /// The display name.
    pub display_name: String,
    /// Resource groups by lowercase name.
    #[serde(default)]
    pub resource_groups: BTreeMap<String, ResourceGroupRecord>,
    /// Long-running operations by their opaque id.
    #[serde(default)]
    pub operations: BTreeMap<String, OperationRecord>,
    /// Resources below resource groups (and extension resources) by lowercase resource id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resources: BTreeMap<String, ResourceRecord>,
}

/// A resource of a provider (registry, workspace, cluster, role assignment ...), kept as the
/// JSON a GET answers, with ARM's metadata beside it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ResourceRecord {
    /// The resource as GET shows it now (with `provisioningState` `Creating`, `Deleting` ...
    /// while an operation runs).
    pub body: Value,
    /// The body to show once the running operation succeeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_body: Option<Value>,
    /// The entity tag, new on every write.
    pub etag: String,
    /// The id of the running operation, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
}

/// A planned failure of a long-running operation: ARM's error code and message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct OperationFailure {
    /// The error code (`InternalOperationError`).
    pub code: String,
    /// The error message.
    pub message: String,
}

/// What a long-running operation on a resource does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ResourceAction {
    /// Creates the resource (PUT of a new resource).
    Create,
    /// Updates it (PUT or PATCH of an existing resource).
    Update,
    /// Deletes it.
    Delete,
}

/// The provisioning state of a resource group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ProvisioningState {
    /// The group exists.
    Succeeded,
    /// A delete is running; the group disappears when it finishes.
    Deleting,
}

impl ProvisioningState {
    /// Returns the value ARM shows in `properties.provisioningState`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "Succeeded",
            Self::Deleting => "Deleting",
        }
    }
}

/// A resource group.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ResourceGroupRecord {
    /// The name as first created (ARM keeps the original casing).
    pub name: String,
    /// The normalized location (`francecentral`).
    pub location: String,
    /// The tags, in the order they were given; `None` when the group has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Map<String, Value>>,
    /// The id of the resource managing the group, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_by: Option<String>,
    /// Whether the group exists or is being deleted.
    pub provisioning_state: ProvisioningState,
}

/// What a long-running operation does when it finishes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind", deny_unknown_fields)]
pub(crate) enum OperationKind {
    /// Deletes a resource group.
    #[serde(rename_all = "camelCase")]
    DeleteResourceGroup {
        /// The lowercase name of the group.
        resource_group: String,
    },
    /// Creates, updates or deletes a resource.
    #[serde(rename_all = "camelCase")]
    Resource {
        /// The lowercase id of the resource.
        resource_id: String,
        /// What the operation does.
        action: ResourceAction,
        /// The provider namespace the status URL is under (`Microsoft.ContainerService`).
        namespace: String,
        /// The location the status URL is under (`francecentral`).
        location: String,
        /// Set when the operation starts, when it is to end `Failed` (fault injection).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fail: Option<OperationFailure>,
    },
}

/// The status of a long-running operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum OperationStatus {
    /// Still running.
    Running,
    /// Finished successfully.
    Succeeded,
    /// Finished with an error.
    Failed,
}

/// A long-running operation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct OperationRecord {
    /// What the operation does.
    pub operation: OperationKind,
    /// Whether it is still running.
    pub status: OperationStatus,
    /// When it started, in Unix milliseconds.
    pub started_at_ms: i64,
    /// When it finishes (or finished), in Unix milliseconds.
    pub completes_at_ms: i64,
}

impl Default for State {
    fn default() -> Self {
        Self {
            version: u64::from(STATE_VERSION),
            tenants: BTreeMap::new(),
            subscriptions: BTreeMap::new(),
            directory: crate::directory::Directory::default(),
            dirty: false,
        }
    }
}

impl State {
    /// Records a tenant (and the domain name it was reached by) the first time it is seen.
    pub fn ensure_tenant(&mut self, tenant_id: &str, domain: Option<&str>) {
        let mut changed = false;
        let tenant = self.tenants.entry(tenant_id.to_owned()).or_insert_with(|| {
            changed = true;
            // Every tenant knows the development application, so its service principal exists
            // in every tenant too, as a signed-in application's always does in Azure.
            let object_id = service_principal_object_id(tenant_id, crate::DEV_CLIENT_ID);
            let principal = PrincipalRecord {
                object_id: object_id.clone(),
                app_id: crate::DEV_CLIENT_ID.to_owned(),
                principal_type: "ServicePrincipal".to_owned(),
                display_name: "exai emulator development application".to_owned(),
                source: "application".to_owned(),
            };
            TenantRecord {
                tenant_id: tenant_id.to_owned(),
                domains: Vec::new(),
                principals: BTreeMap::from([(object_id, principal)]),
            }
        });
        if let Some(domain) = domain
            && !tenant.domains.iter().any(|known| known == domain)
        {
            tenant.domains.push(domain.to_owned());
            changed = true;
        }
        self.dirty |= changed;
    }

    /// Finishes every operation whose time has come, as of `now_ms`.
    ///
    /// Operations advance lazily, when a request arrives, so the emulator needs no background
    /// task and a test controls time through the delays it configures.
    pub fn advance(&mut self, now_ms: i64) {
        let mut changed = false;
        for subscription in self.subscriptions.values_mut() {
            for operation in subscription.operations.values_mut() {
                if operation.status != OperationStatus::Running || operation.completes_at_ms > now_ms {
                    continue;
                }
                operation.status = OperationStatus::Succeeded;
                match &operation.operation {
                    OperationKind::DeleteResourceGroup { resource_group } => {
                        let deleting = subscription
                            .resource_groups
                            .get(resource_group)
                            .is_some_and(|group| group.provisioning_state == ProvisioningState::Deleting);
                        if deleting {
                            subscription.resource_groups.remove(resource_group);
                            // Deleting a group deletes everything in it.
                            let prefix = format!(
                                "/subscriptions/{}/resourcegroups/{resource_group}/",
                                subscription.subscription_id
                            );
                            subscription.resources.retain(|id, _| !id.starts_with(&prefix));
                        }
                    }
                    OperationKind::Resource { resource_id, action, fail, .. } => {
                        if fail.is_some() {
                            operation.status = OperationStatus::Failed;
                        }
                        finish_resource_operation(&mut subscription.resources, resource_id, *action, fail.is_some());
                    }
                }
                changed = true;
            }
            let before = subscription.operations.len();
            subscription.operations.retain(|_, operation| {
                operation.status == OperationStatus::Running
                    || now_ms - operation.completes_at_ms < FINISHED_OPERATION_RETENTION_MS
            });
            changed |= subscription.operations.len() != before;
        }
        if changed {
            self.dirty = true;
        }
    }
}

/// Applies the end of an operation to the resource it ran on.
fn finish_resource_operation(
    resources: &mut BTreeMap<String, ResourceRecord>,
    resource_id: &str,
    action: ResourceAction,
    failed: bool,
) {
    let Some(record) = resources.get_mut(resource_id) else { return };
    record.operation = None;
    match (action, failed) {
        (ResourceAction::Delete, false) => {
            resources.remove(resource_id);
            // Extension resources (role assignments, associations) go with their parent.
            let prefix = format!("{resource_id}/providers/");
            resources.retain(|id, _| !id.starts_with(&prefix));
        }
        (_, false) => {
            if let Some(body) = record.final_body.take() {
                record.body = body;
            }
        }
        (_, true) => {
            // A failed operation leaves the resource in place, marked `Failed`, as ARM does.
            record.final_body = None;
            if let Some(properties) = record.body.get_mut("properties").and_then(Value::as_object_mut) {
                properties.insert("provisioningState".to_owned(), Value::String("Failed".to_owned()));
            }
        }
    }
}

/// Parses a state file's text.
fn parse(path: &Path, text: &str) -> Result<State, EmulatorError> {
    let value: Value = serde_json::from_str(text).map_err(|error| EmulatorError::StateCorrupt {
        path: path.to_owned(),
        message: format!("not valid JSON: {error}"),
    })?;
    let version = value
        .get("version")
        .ok_or_else(|| EmulatorError::StateCorrupt {
            path: path.to_owned(),
            message: "it has no `version` member".to_owned(),
        })?
        .as_u64()
        .ok_or_else(|| EmulatorError::StateCorrupt {
            path: path.to_owned(),
            message: "its `version` is not a positive integer".to_owned(),
        })?;
    if version != u64::from(STATE_VERSION) {
        return Err(EmulatorError::StateVersion { path: path.to_owned(), found: version, supported: STATE_VERSION });
    }
    serde_json::from_value(value)
        .map_err(|error| EmulatorError::StateCorrupt { path: path.to_owned(), message: error.to_string() })
}

/// The state file, locked for this emulator's lifetime.
pub(crate) struct StateFile {
    path: PathBuf,
    /// Held open to keep the OS lock; released when dropped.
    _lock: File,
}

impl StateFile {
    /// Locks `<path>.lock` and reads the state from `path` (an empty state if it does not exist).
    pub fn open(path: &Path) -> Result<(Self, State), EmulatorError> {
        if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|source| EmulatorError::StateWrite { path: path.to_owned(), source })?;
        }
        let lock_path = lock_path(path);
        let lock_error =
            |source| EmulatorError::StateLock { path: path.to_owned(), lock_path: lock_path.clone(), source };
        let lock = File::options().create(true).truncate(false).write(true).open(&lock_path).map_err(lock_error)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(EmulatorError::StateInUse { path: path.to_owned(), lock_path });
            }
            Err(std::fs::TryLockError::Error(source)) => return Err(lock_error(source)),
        }
        let state = match std::fs::read_to_string(path) {
            Ok(text) => parse(path, &text)?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => State::default(),
            Err(error) if error.kind() == std::io::ErrorKind::InvalidData => {
                return Err(EmulatorError::StateCorrupt {
                    path: path.to_owned(),
                    message: "it is not UTF-8 text".to_owned(),
                });
            }
            Err(source) => {
                return Err(EmulatorError::StateRead { path: path.to_owned(), source });
            }
        };
        Ok((Self { path: path.to_owned(), _lock: lock }, state))
    }

    /// Saves the state if it changed since the last save (or always, with `force`).
    ///
    /// The caller serializes saves (the state file sits behind a mutex), and the snapshot is
    /// taken under the state lock, so saves land in the order their snapshots were taken.
    pub fn save(&self, state: &Mutex<State>, force: bool) -> Result<(), EmulatorError> {
        let snapshot = {
            let mut state = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if !state.dirty && !force {
                return Ok(());
            }
            let snapshot = serde_json::to_vec_pretty(&*state);
            state.dirty = false;
            snapshot
        };
        let result = snapshot.map_err(std::io::Error::other).and_then(|bytes| write_atomically(&self.path, &bytes));
        if let Err(source) = result {
            state.lock().unwrap_or_else(std::sync::PoisonError::into_inner).dirty = true;
            return Err(EmulatorError::StateWrite { path: self.path.clone(), source });
        }
        Ok(())
    }
}

/// Returns the lock file guarding a state file: `<state>.lock`.
fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Writes `bytes` to a temporary file next to `path`, flushes it, and renames it over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let directory = path.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or_else(|| Path::new("."));
    let file_name =
        path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_else(|| "state.json".to_owned());
    let suffix: u64 = rand::random();
    let temporary = directory.join(format!(".{file_name}.{suffix:016x}.tmp"));
    let written = (|| {
        let mut file = File::create(&temporary)?;
        file.write_all(bytes)?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// Returns the object id of an application's service principal in a tenant.
///
/// Derived, not stored, so it is stable across restarts of the emulator.
pub(crate) fn service_principal_object_id(tenant_id: &str, client_id: &str) -> String {
    Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("exai-emulator/service-principal/{tenant_id}/{client_id}").as_bytes())
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(name: &str, state: ProvisioningState) -> ResourceGroupRecord {
        ResourceGroupRecord {
            name: name.to_owned(),
            location: "francecentral".to_owned(),
            tags: None,
            managed_by: None,
            provisioning_state: state,
        }
    }

    #[test]
    fn advancing_finishes_due_deletes_only() {
        let mut state = State::default();
        let mut subscription = SubscriptionRecord {
            subscription_id: "s".to_owned(),
            tenant_id: "t".to_owned(),
            display_name: "d".to_owned(),
            resource_groups: BTreeMap::new(),
            operations: BTreeMap::new(),
            resources: BTreeMap::new(),
        };
        for (name, due) in [("due", 100), ("later", 300)] {
            subscription.resource_groups.insert(name.to_owned(), group(name, ProvisioningState::Deleting));
            subscription.operations.insert(
                name.to_owned(),
                OperationRecord {
                    operation: OperationKind::DeleteResourceGroup { resource_group: name.to_owned() },
                    status: OperationStatus::Running,
                    started_at_ms: 0,
                    completes_at_ms: due,
                },
            );
        }
        state.subscriptions.insert("s".to_owned(), subscription);

        state.advance(200);

        let subscription = &state.subscriptions["s"];
        assert!(!subscription.resource_groups.contains_key("due"));
        assert!(subscription.resource_groups.contains_key("later"));
        assert_eq!(subscription.operations["due"].status, OperationStatus::Succeeded);
        assert_eq!(subscription.operations["later"].status, OperationStatus::Running);
        assert!(state.dirty);
    }

    #[test]
    fn advancing_applies_resource_operations() {
        let mut state = State::default();
        let mut subscription = SubscriptionRecord {
            subscription_id: "s".to_owned(),
            tenant_id: "t".to_owned(),
            display_name: "d".to_owned(),
            resource_groups: BTreeMap::new(),
            operations: BTreeMap::new(),
            resources: BTreeMap::new(),
        };
        let creating = serde_json::json!({"properties": {"provisioningState": "Creating"}});
        let done = serde_json::json!({"properties": {"provisioningState": "Succeeded"}});
        for (id, action, fail) in [
            ("ok", ResourceAction::Create, None),
            ("bad", ResourceAction::Create, Some(OperationFailure { code: "C".to_owned(), message: "M".to_owned() })),
            ("gone", ResourceAction::Delete, None),
        ] {
            subscription.resources.insert(
                id.to_owned(),
                ResourceRecord {
                    body: creating.clone(),
                    final_body: Some(done.clone()),
                    etag: "e".to_owned(),
                    operation: Some(id.to_owned()),
                },
            );
            subscription.resources.insert(
                format!("{id}/providers/x/y/z"),
                ResourceRecord { body: done.clone(), final_body: None, etag: "e".to_owned(), operation: None },
            );
            subscription.operations.insert(
                id.to_owned(),
                OperationRecord {
                    operation: OperationKind::Resource {
                        resource_id: id.to_owned(),
                        action,
                        namespace: "N".to_owned(),
                        location: "l".to_owned(),
                        fail,
                    },
                    status: OperationStatus::Running,
                    started_at_ms: 0,
                    completes_at_ms: 10,
                },
            );
        }
        state.subscriptions.insert("s".to_owned(), subscription);

        state.advance(10);

        let subscription = &state.subscriptions["s"];
        assert_eq!(subscription.resources["ok"].body, done);
        assert_eq!(subscription.resources["ok"].operation, None);
        assert_eq!(subscription.resources["bad"].body["properties"]["provisioningState"], "Failed");
        assert_eq!(subscription.operations["bad"].status, OperationStatus::Failed);
        assert!(!subscription.resources.contains_key("gone"));
        assert!(!subscription.resources.contains_key("gone/providers/x/y/z"));
        assert!(subscription.resources.contains_key("ok/providers/x/y/z"));

        // Resources and their operations survive a save and a load.
        let saved = serde_json::to_string(&state).unwrap_or_default();
        let loaded = parse(Path::new("state.json"), &saved).map(|loaded| loaded.subscriptions["s"].resources.len());
        assert!(matches!(loaded, Ok(4)), "{saved}");
    }

    #[test]
    fn refuses_unknown_members_and_other_versions() {
        let path = Path::new("state.json");
        assert!(matches!(parse(path, r#"{"version":1,"extra":true}"#), Err(EmulatorError::StateCorrupt { .. })));
        assert!(matches!(parse(path, r#"{"version":2}"#), Err(EmulatorError::StateVersion { found: 2, .. })));
        assert!(matches!(parse(path, "{not json"), Err(EmulatorError::StateCorrupt { .. })));
        assert!(parse(path, r#"{"version":1}"#).is_ok());
    }
}
