use crate::PermissionCheck;
use exai_model::checks::{EnvironmentChecks, Severity};
use exai_model::{
    Address, ApiRequest, DesiredState, Known, LiveState, Mark, Observation, OwnedFields, ResourceId, fingerprint,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The version of the plan document's format. Bumped on any incompatible change.
///
/// 2: the `wait` action (a resource Azure is still creating, updating or deleting). A new value
/// of a closed set breaks a reader that matches it exhaustively, and a reader that took an
/// unknown action for "nothing to do" would hide exactly the change it was added to show.
///
/// 3: `exai_commit`, the commit of the exai that made the plan (a plan of format 2 has none, so
/// the check that a saved plan was made by the exai applying it cannot hold for it: it is
/// refused as of another format, with the same hint: plan again); the `read` action (an object
/// the spec references and exai does not own) and the summary's `read` count; `checks`, the
/// findings of the Kubernetes checks of each environment with `kubernetes:` (their errors make
/// `apply` refuse: a reader that ignored the field would apply what exai refuses).
pub const FORMAT_VERSION: u32 = 3;

/// What exai will do to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Azure already matches the spec.
    NoOp,
    /// The resource does not exist and will be created.
    Create,
    /// Owned fields differ and can be changed in place.
    Update,
    /// An owned field that cannot change in place differs: delete, then create.
    Replace,
    /// The resource will be deleted.
    Delete,
    /// Azure is still carrying out an operation on the resource ([`Change::in_progress`]):
    /// apply waits for it to end, then checks the owned fields again and sends what they
    /// still need.
    Wait,
    /// The spec references the object (`{ id }`) and exai does not own it: it is read for what
    /// the environment builds on it, never written or deleted. Not a change.
    Read,
}

impl Action {
    /// Returns the marker shown before the address in text plans.
    pub fn marker(self) -> &'static str {
        match self {
            Self::NoOp => "=",
            Self::Create => "+",
            Self::Update => "~",
            Self::Replace => "-/+",
            Self::Delete => "-",
            Self::Wait => "...",
            Self::Read => "<=",
        }
    }

    /// Returns true when the action changes nothing in Azure: a no-op, or the read of an object
    /// exai does not own.
    pub fn changes_nothing(self) -> bool {
        matches!(self, Self::NoOp | Self::Read)
    }
}

/// The operation Azure is still carrying out on a resource, from its non-terminal
/// `provisioningState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Operation {
    /// `Creating`.
    Creating,
    /// Any other non-terminal state of an existing resource (`Updating`, `Accepted`,
    /// `Provisioning`, `Upgrading`, ...).
    Updating,
    /// `Deleting`.
    Deleting,
}

impl Operation {
    /// Returns how plans word it: `creating in Azure`.
    pub fn phrase(self) -> &'static str {
        match self {
            Self::Creating => "creating in Azure",
            Self::Updating => "updating in Azure",
            Self::Deleting => "deleting in Azure",
        }
    }
}

/// An operation Azure is carrying out on a resource when it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InProgress {
    /// What the operation does.
    pub operation: Operation,
    /// The `provisioningState` Azure reported, verbatim (`Creating`, `Accepted`, ...).
    pub provisioning_state: String,
}

impl InProgress {
    /// Returns the operation a live document shows Azure still carrying out: any
    /// `properties.provisioningState` but the terminal `Succeeded`, `Failed` and `Canceled`
    /// ("all other values indicate the operation is still running", async-operations.md).
    /// `None` for a document without one (Graph objects, role assignments).
    pub fn of(document: &Value) -> Option<Self> {
        let state = document.pointer("/properties/provisioningState").and_then(Value::as_str)?;
        let lower = state.to_ascii_lowercase();
        if ["succeeded", "failed", "canceled", "cancelled"].contains(&lower.as_str()) {
            return None;
        }
        let operation = match lower.as_str() {
            "creating" => Operation::Creating,
            "deleting" => Operation::Deleting,
            _ => Operation::Updating,
        };
        Some(Self { operation, provisioning_state: state.to_owned() })
    }
}

/// One owned field that differs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDiff {
    /// The dotted path, e.g. `tags.project`.
    pub path: String,
    /// The live value; absent when Azure holds none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// The desired value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
    /// Why this field cannot change in place, when it cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forces_replacement: Option<String>,
}

/// The plan for one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The resource's address.
    pub address: Address,
    /// The Azure resource type.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// The Azure id, when known before apply.
    pub id: Option<ResourceId>,
    /// How the id becomes known, when it is not known yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_note: Option<String>,
    /// What will be done.
    pub action: Action,
    /// Why, for a replace: the fields that force it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The operation Azure was still carrying out when the resource was read (action `wait`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub in_progress: Option<InProgress>,
    /// A warning a reviewer must see (e.g. what a delete takes with it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// Owned fields as Azure holds them (absent for a create).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<OwnedFields>,
    /// Owned fields as the spec wants them (absent for a delete).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<OwnedFields>,
    /// Values only known after apply, with where they come from.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub after_unknown: BTreeMap<String, String>,
    /// Why exai will not carry this change out (e.g. AKS cannot resize a pool in place), with
    /// what to do instead. `apply` refuses a plan with a blocked change before any write.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub blocked: Option<String>,
    /// The resource is protected, by the spec or by the mark on the live object: it is never
    /// deleted or replaced.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub protect: bool,
    /// The owned fields that differ.
    pub diffs: Vec<FieldDiff>,
    /// What the live object holds that exai does not manage (e.g. tags added by policy).
    #[serde(skip_serializing_if = "OwnedFields::is_empty", default)]
    pub observed: OwnedFields,
    /// The fingerprint of the live owned fields this plan was made against (absent when the
    /// resource did not exist). `apply` of a saved plan refuses to write if it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Addresses that must be applied first.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub depends_on: Vec<Address>,
    /// The requests that carry the change out, in order.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub requests: Vec<ApiRequest>,
}

/// Counts of changes by action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Resources to create.
    pub add: usize,
    /// Resources to update in place.
    pub change: usize,
    /// Resources to replace.
    pub replace: usize,
    /// Resources to delete.
    pub destroy: usize,
    /// Resources already as declared.
    pub unchanged: usize,
    /// Resources Azure is still creating, updating or deleting: apply waits for them. Left out
    /// of the document when zero.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub wait: usize,
    /// Objects the spec references and exai only reads (never a change). Left out of the
    /// document when zero.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub read: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Summary {
    /// Returns true when the plan changes nothing. A resource Azure is still working on is a
    /// change: what it ends as is not known yet.
    pub fn is_empty(&self) -> bool {
        self.add + self.change + self.replace + self.destroy + self.wait == 0
    }
}

/// What would change, resource by resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// The version of exai that made the plan, its package version (`0.1.0`): `apply` of a
    /// saved plan refuses another.
    #[serde(default)]
    pub exai_version: String,
    /// The commit of exai that made the plan (7 hexadecimal digits, or `unknown` for a build
    /// outside a git checkout): two builds of one version differ by it, and `apply` of a saved
    /// plan refuses another.
    #[serde(default)]
    pub exai_commit: String,
    /// The spec the plan was made from (`apply` of a saved plan refuses a changed spec).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<SpecRef>,
    /// The environments planned, in the spec's order.
    #[serde(default)]
    pub environments: Vec<String>,
    /// One entry per declared resource, in dependency order, then the deletions of what left
    /// the spec.
    pub resource_changes: Vec<Change>,
    /// Counts by action.
    pub summary: Summary,
    /// What the check of the caller's permissions found; absent when they were not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<PermissionCheck>,
    /// The Kubernetes checks of each planned environment with `kubernetes:` (its overlay
    /// rendered and checked against the environment); absent when none declares it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<EnvironmentChecks>,
}

/// The spec a plan was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecRef {
    /// The spec's path, as given on the command line.
    pub file: String,
    /// `sha256:` and the hex SHA-256 of the spec's bytes.
    pub digest: String,
}

impl Change {
    /// Returns a change of `address` (of Azure type `resource_type`) doing `action`, and nothing
    /// else known yet: no id, fields, diffs, dependencies or requests.
    pub fn new(address: Address, resource_type: impl Into<String>, action: Action) -> Self {
        Self {
            address,
            resource_type: resource_type.into(),
            id: None,
            id_note: None,
            action,
            reason: None,
            in_progress: None,
            warning: None,
            before: None,
            after: None,
            after_unknown: BTreeMap::new(),
            blocked: None,
            protect: false,
            diffs: Vec::new(),
            observed: OwnedFields::new(),
            fingerprint: None,
            depends_on: Vec::new(),
            requests: Vec::new(),
        }
    }
}

impl Summary {
    /// Returns the counts of `changes` by action.
    pub fn of_changes(changes: &[Change]) -> Self {
        let mut summary = Self::default();
        for change in changes {
            match change.action {
                Action::NoOp => summary.unchanged += 1,
                Action::Create => summary.add += 1,
                Action::Update => summary.change += 1,
                Action::Replace => summary.replace += 1,
                Action::Delete => summary.destroy += 1,
                Action::Wait => summary.wait += 1,
                Action::Read => summary.read += 1,
            }
        }
        summary
    }
}

impl Plan {
    /// Returns the plan of `resource_changes`, counted by action, with no origin yet (see
    /// [`Plan::with_origin`]) and no permission check.
    pub fn new(resource_changes: Vec<Change>) -> Self {
        Self {
            format_version: FORMAT_VERSION,
            exai_version: String::new(),
            exai_commit: String::new(),
            spec: None,
            environments: Vec::new(),
            summary: Summary::of_changes(&resource_changes),
            resource_changes,
            permissions: None,
            checks: Vec::new(),
        }
    }

    /// Returns the environments whose Kubernetes checks found errors: `apply` refuses them.
    pub fn failed_checks(&self) -> Vec<&EnvironmentChecks> {
        self.checks.iter().filter(|c| c.has_errors()).collect()
    }

    /// Returns how many findings of `severity` the Kubernetes checks made, in all.
    pub fn check_count(&self, severity: Severity) -> usize {
        self.checks.iter().map(|c| c.count(severity)).sum()
    }

    /// Returns the plan with where it comes from: the exai version and commit, the spec and
    /// the environments planned.
    pub fn with_origin(
        mut self,
        exai_version: &str,
        exai_commit: &str,
        spec: SpecRef,
        environments: Vec<String>,
    ) -> Self {
        self.exai_version = exai_version.to_owned();
        self.exai_commit = exai_commit.to_owned();
        self.spec = Some(spec);
        self.environments = environments;
        self
    }
}

/// A plan that cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A declared resource has no observation: it was not read, so nothing can be said of it.
    #[error("`{address}` was not read from Azure, so it cannot be planned")]
    NotObserved {
        /// The resource's address.
        address: Address,
    },
    /// Objects the spec references by id (`{ id }`) do not exist: exai never creates what it
    /// does not own, and what the environment builds on them cannot be planned.
    #[error("{}", references_not_found(.missing))]
    ReferenceNotFound {
        /// Each reference whose object Azure says does not exist.
        missing: Vec<MissingReference>,
    },
    /// Objects the spec declares carry the ownership mark of another spec (or of another
    /// address): exai never adopts, changes or deletes them.
    #[error("{}", owned_elsewhere(.conflicts))]
    OwnedElsewhere {
        /// Each declared resource whose object is owned elsewhere.
        conflicts: Vec<OwnershipConflict>,
    },
}

/// A referenced object that does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingReference {
    /// The address of the reference.
    pub address: Address,
    /// Its Azure type.
    pub resource_type: String,
    /// The id the spec gives.
    pub id: ResourceId,
}

fn references_not_found(missing: &[MissingReference]) -> String {
    let lines: Vec<String> = missing
        .iter()
        .map(|m| format!("`{}` references `{}`, which Azure says does not exist", m.address, m.id))
        .collect();
    format!(
        "{} the spec references {} not exist: {}",
        plural(missing.len(), "object"),
        if missing.len() == 1 { "does" } else { "do" },
        lines.join("; ")
    )
}

/// A declared resource whose live object another spec owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnershipConflict {
    /// The declared resource.
    pub address: Address,
    /// Its Azure type.
    pub resource_type: String,
    /// The live object.
    pub id: ResourceId,
    /// The mark it carries.
    pub owner: Mark,
}

fn owned_elsewhere(conflicts: &[OwnershipConflict]) -> String {
    let lines: Vec<String> =
        conflicts.iter().map(|c| format!("`{}` is `{}`, which belongs to {}", c.address, c.id, c.owner)).collect();
    format!(
        "{} declared in this spec {} owned elsewhere: {}",
        plural(conflicts.len(), "object"),
        if conflicts.len() == 1 { "is" } else { "are" },
        lines.join("; ")
    )
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

impl PlanError {
    /// Returns what to do about it.
    pub fn hint(&self) -> String {
        match self {
            Self::NotObserved { .. } => {
                "this is a bug in exai: every declared resource is read before planning".to_owned()
            }
            Self::ReferenceNotFound { missing } => {
                let first = missing.first().map(|m| m.id.as_str()).unwrap_or_default();
                format!(
                    "nothing was changed; exai never creates an object the spec only references: check the id (`az resource show --ids {first}`), create the object, or declare it by name for exai to own"
                )
            }
            Self::OwnedElsewhere { conflicts } => {
                let first = conflicts.first().map(|c| c.owner.release_hint(&c.resource_type, c.id.as_str()));
                let more = if conflicts.len() > 1 { " (and likewise for the others)" } else { "" };
                // The same address under another spec id is most often this spec under its
                // earlier id (a default id follows the GitHub repository).
                let renamed = conflicts
                    .iter()
                    .find(|c| c.owner.address == c.address)
                    .and_then(|c| c.owner.spec.as_deref())
                    .map(|earlier| {
                        format!("if `{earlier}` is this spec's earlier id (a spec without `name` is named after its first GitHub repository), set `name: {earlier}` at the top of the spec; ")
                    })
                    .unwrap_or_default();
                format!("nothing was changed; {renamed}{}{more}", first.unwrap_or_default())
            }
        }
    }
}

/// Plans `desired` against `live`.
pub fn plan(desired: &DesiredState, live: &LiveState) -> Result<Plan, PlanError> {
    let mut changes = Vec::with_capacity(desired.resources.len());
    let mut conflicts = Vec::new();
    let mut missing = Vec::new();
    for resource in &desired.resources {
        let spec = resource.spec.as_kind();
        if let Some(reference) = resource.spec.as_reference() {
            // Someone else's object: read for its id, never compared, written or deleted.
            let observation = live
                .get(&resource.address)
                .ok_or_else(|| PlanError::NotObserved { address: resource.address.clone() })?;
            match observation {
                Observation::Absent => missing.push(MissingReference {
                    address: resource.address.clone(),
                    resource_type: spec.azure_type().to_owned(),
                    id: reference.id.clone(),
                }),
                Observation::Present(live_resource) => changes.push(Change {
                    id: Some(live_resource.id.clone()),
                    reason: Some("not managed by exai: read, never written or deleted".to_owned()),
                    depends_on: resource.depends_on.clone(),
                    ..Change::new(resource.address.clone(), spec.azure_type(), Action::Read)
                }),
            }
            continue;
        }
        let known = Known::from(live);
        let after = spec.desired_fields(known);
        let id = spec.id_with(known);
        let mut change = Change {
            id_note: if id.is_none() { spec.id_note() } else { None },
            id,
            after_unknown: spec.unknown_values(known).into_iter().collect(),
            protect: resource.protect,
            after: Some(after.clone()),
            depends_on: resource.depends_on.clone(),
            ..Change::new(resource.address.clone(), spec.azure_type(), Action::NoOp)
        };
        let observation =
            live.get(&resource.address).ok_or_else(|| PlanError::NotObserved { address: resource.address.clone() })?;
        match observation {
            Observation::Absent => {
                change.action = Action::Create;
                change.diffs = diff(&OwnedFields::new(), &after, |_| None);
                change.requests = spec.create_requests(known);
                change.warning = live.unchecked(&resource.address).map(str::to_owned);
            }
            Observation::Present(live_resource) => {
                let before = spec.live_fields(live_resource);
                let ours = spec.mark();
                let theirs = Mark::from_fields(&before);
                if let (Some(ours), Some(theirs)) = (&ours, &theirs)
                    && theirs.is_foreign_to(ours)
                {
                    conflicts.push(OwnershipConflict {
                        address: resource.address.clone(),
                        resource_type: spec.azure_type().to_owned(),
                        id: live_resource.id.clone(),
                        owner: theirs.clone(),
                    });
                    continue;
                }
                // Protection written on the object holds until an applied `protect: false`.
                change.protect |= theirs.as_ref().is_some_and(|m| m.protect);
                change.id = Some(live_resource.id.clone());
                change.fingerprint = Some(fingerprint(&before));
                change.observed = spec.observed(live_resource);
                change.diffs = diff(&before, &after, |path| spec.replace_reason(path));
                change.before = Some(before);
                let forcing: Vec<&FieldDiff> = change.diffs.iter().filter(|d| d.forces_replacement.is_some()).collect();
                if let Some(in_progress) = InProgress::of(&live_resource.document) {
                    // What the object ends as is not known until Azure finishes: another write
                    // now would be refused (`AnotherOperationInProgress`) or race it. Apply waits,
                    // then plans the object again from what Azure holds.
                    change.action = Action::Wait;
                    let then = match in_progress.operation {
                        Operation::Deleting => "creates it again",
                        Operation::Creating | Operation::Updating => "checks the fields again",
                    };
                    change.reason = Some(format!(
                        "Azure reports provisioningState `{}`; apply waits for it to finish, then {then}",
                        in_progress.provisioning_state
                    ));
                    change.in_progress = Some(in_progress);
                    change.requests = spec.read_request_with(known).into_iter().collect();
                } else if !forcing.is_empty() {
                    change.action = Action::Replace;
                    change.reason = Some(
                        forcing
                            .iter()
                            .map(|d| {
                                format!(
                                    "`{}` forces replacement: {}",
                                    d.path,
                                    d.forces_replacement.as_deref().unwrap_or_default()
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("; "),
                    );
                    change.warning = spec.destroy_warning().map(str::to_owned);
                    change.requests =
                        spec.delete_requests(live_resource).into_iter().chain(spec.create_requests(known)).collect();
                } else if !change.diffs.is_empty() {
                    change.action = Action::Update;
                    let reasons: Vec<String> =
                        [spec.update_reason(live_resource), mark_reason(theirs.as_ref(), ours.as_ref(), &change.diffs)]
                            .into_iter()
                            .flatten()
                            .collect();
                    change.reason = (!reasons.is_empty()).then(|| reasons.join("; "));
                    change.requests = spec.update_requests(live_resource, known);
                } else if provisioning_failed(&live_resource.document) {
                    // The fields are right but the last operation on the object failed: ARM's
                    // remedy is to send the PUT again (async-operations.md, "Failed").
                    change.action = Action::Update;
                    change.reason =
                        Some("its last operation failed (provisioningState `Failed`); apply sends it again".to_owned());
                    change.requests = spec.create_requests(known);
                }
                let blocked: Vec<String> = change
                    .diffs
                    .iter()
                    .filter(|d| d.before.is_some())
                    .filter_map(|d| spec.unsupported_change(&d.path).map(|why| format!("`{}`: {why}", d.path)))
                    .collect();
                if !blocked.is_empty() {
                    change.blocked = Some(blocked.join("; "));
                    change.requests.clear();
                }
            }
        }
        changes.push(change);
    }
    if !missing.is_empty() {
        return Err(PlanError::ReferenceNotFound { missing });
    }
    if !conflicts.is_empty() {
        return Err(PlanError::OwnedElsewhere { conflicts });
    }
    changes.extend(deletions(desired, live));
    let permissions = crate::permissions::check(&changes, live);
    Ok(Plan { permissions, ..Plan::new(changes) })
}

/// Returns why the ownership mark of an object is rewritten, when it is: an earlier exai's mark
/// (no spec) is migrated, a change of `protect` is written to the object, and an object with no
/// mark at all (what `az` or a person made) is adopted: a reviewer of a spec written by
/// `exai init --from-azure` sees why each object changes.
fn mark_reason(live: Option<&Mark>, desired: Option<&Mark>, diffs: &[FieldDiff]) -> Option<String> {
    if !diffs.iter().any(|d| Mark::is_field(&d.path)) {
        return None;
    }
    let desired = desired?;
    let Some(live) = live else {
        return Some("it has no ownership mark (made outside exai): apply adopts it by writing the mark".to_owned());
    };
    let mut why = Vec::new();
    if live.spec.is_none() {
        why.push(format!(
            "its ownership mark names no spec (an earlier exai wrote it): apply rewrites it to name spec `{}`",
            desired.spec.as_deref().unwrap_or_default()
        ));
    }
    match (live.protect, desired.protect) {
        (false, true) => why.push(
            "`protect: true` is written into its ownership mark: it stays protected even after its block leaves the spec"
                .to_owned(),
        ),
        (true, false) => why.push("`protect: false` lifts the protection written in its ownership mark".to_owned()),
        _ => {}
    }
    (!why.is_empty()).then(|| why.join("; "))
}

/// Returns the deletions of the objects exai owns that are not the live object of any declared
/// resource: left the spec (a federated credential of a branch no longer listed), or superseded
/// (the deployer's assignment of its previous role). Only objects whose mark names an
/// environment being planned, and this spec (or no spec: an earlier exai's mark), are
/// considered: another spec's objects are never this spec's to delete. An object whose mark says
/// it is protected is kept, with why, whatever `--allow-delete` says.
///
/// A superseded object's mark names an address the spec still declares; its change gets that
/// address with `~` and the start of the object's own name (`perso.deployer.role~1f0c3a9b`),
/// and waits for the declared resource, so the deployer never goes without a role.
fn deletions(desired: &DesiredState, live: &LiveState) -> Vec<Change> {
    let environments: std::collections::BTreeSet<&str> =
        desired.resources.iter().map(|r| r.address.environment()).collect();
    let spec = desired.resources.iter().find_map(|r| r.spec.as_kind().mark()?.spec);
    let matched: Vec<&ResourceId> = desired
        .resources
        .iter()
        .filter_map(|r| match live.get(&r.address) {
            Some(Observation::Present(l)) => Some(&l.id),
            _ => None,
        })
        .collect();
    live.owned()
        .iter()
        .filter(|o| {
            let owner = &o.mark.address;
            environments.contains(owner.environment())
                && spec.as_deref().is_none_or(|spec| o.mark.belongs_to(spec))
                && !matched.contains(&&o.live.id)
        })
        .map(|o| {
            let owner = &o.mark.address;
            let declared = desired.resources.iter().any(|r| &r.address == owner);
            let (address, reason, depends_on) = if declared {
                let short: String = o.live.id.name().chars().take(8).collect();
                (
                    Address::parse(&format!("{owner}~{short}")).unwrap_or_else(|| owner.clone()),
                    format!("superseded: `{owner}` in the spec is now another object, created first"),
                    vec![owner.clone()],
                )
            } else {
                (owner.clone(), "no longer in the spec".to_owned(), Vec::new())
            };
            if o.mark.protect {
                return kept(o, address, &reason);
            }
            Change {
                id: Some(o.live.id.clone()),
                reason: Some(reason),
                warning: o.warning.clone(),
                before: Some(o.fields.clone()),
                diffs: o
                    .fields
                    .iter()
                    .map(|(path, value)| FieldDiff {
                        path: path.clone(),
                        before: Some(value.clone()),
                        after: None,
                        forces_replacement: None,
                    })
                    .collect(),
                fingerprint: Some(fingerprint(&o.fields)),
                depends_on,
                requests: o.delete.clone(),
                ..Change::new(address, o.resource_type.clone(), Action::Delete)
            }
        })
        .collect()
}

/// Returns the change of an owned object that left the spec (`left`: why it would go) but whose
/// mark says it is protected: nothing is done to it.
fn kept(o: &exai_model::OwnedObject, address: Address, left: &str) -> Change {
    Change {
        id: Some(o.live.id.clone()),
        reason: Some(format!(
            "{left}, but kept: its ownership mark says it is protected, whatever `--allow-delete` says; to delete it, declare it again with `protect: false`, apply, then remove it"
        )),
        before: Some(o.fields.clone()),
        after: Some(o.fields.clone()),
        protect: true,
        fingerprint: Some(fingerprint(&o.fields)),
        ..Change::new(address, o.resource_type.clone(), Action::NoOp)
    }
}

/// Returns true when Azure reports that the last operation on the object failed.
fn provisioning_failed(document: &Value) -> bool {
    document
        .pointer("/properties/provisioningState")
        .and_then(Value::as_str)
        .is_some_and(|state| state.eq_ignore_ascii_case("failed"))
}

/// Returns the differing owned fields, in path order. Only paths the spec declares are
/// compared: a field Azure holds and the spec does not own is never a difference.
fn diff(
    before: &OwnedFields,
    after: &OwnedFields,
    replace_reason: impl Fn(&str) -> Option<&'static str>,
) -> Vec<FieldDiff> {
    after
        .iter()
        .filter(|(path, value)| before.get(*path) != Some(value))
        .map(|(path, value)| FieldDiff {
            path: path.clone(),
            before: before.get(path).cloned(),
            after: Some(value.clone()),
            forces_replacement: if before.contains_key(path) { replace_reason(path).map(str::to_owned) } else { None },
        })
        .collect()
}
