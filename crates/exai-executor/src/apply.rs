use crate::Sender;
use exai_azure::{Accepted, AzureError};
use exai_model::ApiRequest;
use exai_model::{Address, DesiredState, Known, LiveResource, LiveState, OWNER_TAG, Observation};
use exai_planner::{Action, Change, InProgress, Plan};
use futures::stream::{FuturesUnordered, StreamExt};
use serde_json::Value;
use std::collections::HashMap;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How to apply.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// At most this many requests are in flight at once. A resource waiting for Azure (an
    /// operation being followed, a replication delay, a value exai makes meanwhile) holds none,
    /// so independent resources start while others are waited on.
    pub parallelism: usize,
    /// Allow deletes and replacements (a replacement deletes first).
    pub allow_delete: bool,
    /// Retries of writes Entra refuses for a principal it has not replicated yet.
    pub principal_retry: PrincipalRetry,
    /// How often a running write reports progress ([`ApplyEvent::StillRunning`]).
    pub progress_every: Duration,
    /// Where secrets Azure shows once (a client secret) are written, one private file each.
    /// A write that returns one is refused, before it is sent, when this is `None`.
    pub secrets_dir: Option<PathBuf>,
    /// Values exai makes itself while applying (the SSH key pair of a cluster it creates),
    /// awaited only by the requests whose placeholders name them.
    pub inputs: Vec<ApplyInput>,
    /// Stops the apply when triggered (Ctrl-C): nothing new starts, what is in flight finishes
    /// its round trip, and the report says what was done, what was in flight, what was not
    /// started.
    pub interrupt: Interrupt,
    /// How a resource Azure was still working on (a `wait`) is planned again once Azure is
    /// done with it. Without it, a `wait` is done when the resource ends `Succeeded` with the
    /// fields the plan showed, and fails otherwise.
    pub recheck: Option<Recheck>,
}

/// The outcome of an [`ApplyInput`]: its value, or what failed and what to do about it.
pub type InputResult = Result<Value, (String, String)>;

/// A value some request needs that exai produces itself during apply, off the critical path
/// (an SSH key pair generated on a blocking thread while the cluster's dependencies are
/// written). A request whose body holds a placeholder naming it waits for it; nothing else does.
#[derive(Clone)]
pub struct ApplyInput {
    name: String,
    value: futures::future::Shared<futures::future::BoxFuture<'static, InputResult>>,
}

impl ApplyInput {
    /// Returns the input `name` (the address its placeholders name) whose value `future` makes.
    pub fn new(name: &str, future: impl std::future::Future<Output = InputResult> + Send + 'static) -> Self {
        use futures::FutureExt;
        Self { name: name.to_owned(), value: future.boxed().shared() }
    }

    /// Returns the name placeholders give it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Waits for the value (every caller gets the same one).
    pub async fn value(&self) -> InputResult {
        self.value.clone().await
    }
}

impl std::fmt::Debug for ApplyInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApplyInput").field("name", &self.name).finish_non_exhaustive()
    }
}

impl Default for ApplyOptions {
    fn default() -> Self {
        Self {
            parallelism: 4,
            allow_delete: false,
            principal_retry: PrincipalRetry::default(),
            progress_every: Duration::from_secs(15),
            secrets_dir: None,
            inputs: Vec::new(),
            interrupt: Interrupt::default(),
            recheck: None,
        }
    }
}

/// A request to stop an apply, shared between whoever asks (a signal handler) and the apply.
/// Clones share one state; once triggered it stays triggered.
#[derive(Debug, Clone)]
pub struct Interrupt {
    state: Arc<tokio::sync::watch::Sender<bool>>,
}

impl Default for Interrupt {
    fn default() -> Self {
        Self { state: Arc::new(tokio::sync::watch::Sender::new(false)) }
    }
}

impl Interrupt {
    /// Asks the apply to stop.
    pub fn trigger(&self) {
        self.state.send_replace(true);
    }

    /// Returns true once [`Interrupt::trigger`] was called.
    pub fn is_triggered(&self) -> bool {
        *self.state.borrow()
    }

    /// Returns once [`Interrupt::trigger`] has been called.
    pub async fn triggered(&self) {
        let mut receiver = self.state.subscribe();
        // The sender lives as long as `self`, so waiting cannot fail.
        let _ = receiver.wait_for(|triggered| *triggered).await;
    }
}

/// The desired state and the live state a plan was made from: with them, apply plans a
/// resource again from what Azure holds once an operation it waited for has ended.
#[derive(Debug, Clone)]
pub struct Recheck {
    desired: Arc<DesiredState>,
    live: Arc<LiveState>,
}

impl Recheck {
    /// Returns a recheck against `desired`, starting from `live`.
    pub fn new(desired: DesiredState, live: LiveState) -> Self {
        Self { desired: Arc::new(desired), live: Arc::new(live) }
    }

    /// Returns the change `address` needs now that Azure holds `document` (`None`: it no
    /// longer exists), everything else as the plan saw it.
    fn change(&self, address: &Address, document: Option<Value>) -> Result<Change, String> {
        let resource = self
            .desired
            .resources
            .iter()
            .find(|r| &r.address == address)
            .ok_or_else(|| format!("`{address}` is not declared in the spec"))?;
        let mut live = (*self.live).clone();
        let observation = match document {
            None => Observation::Absent,
            Some(document) => {
                let id = resource
                    .spec
                    .as_kind()
                    .live_id(&document, Known::from(&self.live))
                    .ok_or_else(|| format!("Azure's answer for `{address}` has no `id`"))?;
                Observation::Present(LiveResource { id, document })
            }
        };
        live.insert(address.clone(), observation);
        let plan = exai_planner::plan(&self.desired, &live).map_err(|e| e.to_string())?;
        plan.resource_changes
            .into_iter()
            .find(|c| &c.address == address)
            .ok_or_else(|| format!("`{address}` is not in the plan made again"))
    }
}

/// What happens while applying, for progress output.
#[derive(Debug, Clone, PartialEq)]
pub enum ApplyEvent {
    /// Work on a resource starts.
    Started {
        /// The resource.
        address: Address,
        /// What is done to it.
        action: Action,
    },
    /// A request is about to be sent (or, in a dry run, is recorded instead).
    Request {
        /// The resource.
        address: Address,
        /// The HTTP method.
        method: String,
        /// The full URL.
        url: String,
        /// The body, if any.
        body: Option<Value>,
        /// The file the secret in the answer goes to, when the answer holds one.
        secret_file: Option<PathBuf>,
    },
    /// A write is still running (an AKS cluster takes minutes): emitted every
    /// [`ApplyOptions::progress_every`] while it does.
    StillRunning {
        /// The resource.
        address: Address,
        /// What is being done.
        action: Action,
        /// How long it has been running.
        elapsed: Duration,
    },
    /// A resource is done.
    Finished {
        /// The resource.
        address: Address,
        /// What was done.
        action: Action,
        /// How long it took.
        elapsed: Duration,
    },
    /// A resource failed.
    Failed {
        /// The resource.
        address: Address,
        /// What failed.
        error: String,
        /// What to do about it.
        hint: Option<String>,
    },
    /// A secret Azure returned was written to its file (the event names the file, never the
    /// secret).
    SecretWritten {
        /// The resource.
        address: Address,
        /// The file.
        path: PathBuf,
    },
    /// Azure said what a create makes already exists (a concurrent run, or someone, made it
    /// since the plan), and exai read it, checked it is what the spec asks for, and adopted it
    /// instead of making a second one.
    Adopted {
        /// The resource.
        address: Address,
        /// What was found, and how.
        note: String,
    },
    /// A resource was not touched because something it depends on did not succeed.
    Skipped {
        /// The resource.
        address: Address,
        /// The dependency that did not succeed.
        because: Address,
    },
    /// Apply waits for an operation Azure is carrying out on a resource (a `wait`), polling
    /// `url`; in a dry run, it would.
    Waiting {
        /// The resource.
        address: Address,
        /// What Azure is doing.
        in_progress: InProgress,
        /// The resource's URL, read until the operation ends.
        url: String,
    },
}

/// The outcome for one resource.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Nothing to do.
    Unchanged,
    /// The action was carried out (or, in a dry run, recorded). For a `wait`, what was finally
    /// done: `Wait` when the resource ended as declared, `Update` or `Create` when the plan made
    /// again once Azure was done needed a write.
    Done(Action),
    /// It failed.
    Failed {
        /// What failed.
        error: String,
    },
    /// It was not attempted.
    Skipped {
        /// The dependency that did not succeed.
        because: Address,
    },
    /// It was in flight when the apply was interrupted: what was sent reached Azure, and
    /// Azure may still be carrying it out.
    Interrupted {
        /// Where to see how Azure's operation ends (its status URL, or the resource's), when
        /// one was running.
        operation: Option<String>,
    },
    /// The apply was interrupted before it started.
    NotStarted,
}

/// What an apply did, resource by resource, in plan order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApplyReport {
    /// Each resource's outcome.
    pub outcomes: Vec<(Address, Outcome)>,
    /// The documents the writes returned, by address (secrets removed): what a created
    /// resource turned out to be (an application's `appId`).
    pub documents: BTreeMap<Address, Value>,
}

impl ApplyReport {
    /// Returns true when nothing failed or was skipped.
    pub fn succeeded(&self) -> bool {
        self.outcomes.iter().all(|(_, o)| matches!(o, Outcome::Unchanged | Outcome::Done(_)))
    }

    /// Returns how many resources got `action`.
    pub fn count(&self, action: Action) -> usize {
        self.outcomes.iter().filter(|(_, o)| *o == Outcome::Done(action)).count()
    }

    /// Returns true when the apply was interrupted before every resource was done.
    pub fn interrupted(&self) -> bool {
        self.outcomes.iter().any(|(_, o)| matches!(o, Outcome::Interrupted { .. } | Outcome::NotStarted))
    }

    /// Returns how many resources failed, and how many were skipped.
    pub fn failures(&self) -> (usize, usize) {
        let failed = self.outcomes.iter().filter(|(_, o)| matches!(o, Outcome::Failed { .. })).count();
        let skipped = self.outcomes.iter().filter(|(_, o)| matches!(o, Outcome::Skipped { .. })).count();
        (failed, skipped)
    }
}

/// A plan exai refuses to apply as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecutorError {
    /// The plan deletes or replaces resources and `--allow-delete` was not given.
    #[error("the plan deletes or replaces {}, and deletes were not allowed", list(.addresses))]
    DeleteNotAllowed {
        /// The resources that would be deleted.
        addresses: Vec<Address>,
    },
    /// The plan would delete or replace a protected resource (by the spec, or by the mark on
    /// the object).
    #[error("`{address}` would be deleted or replaced, but it is protected (`protect: true`, written on the object)")]
    Protected {
        /// The resource.
        address: Address,
    },
    /// The plan holds a change exai will not carry out (see the plan's `blocked:` line).
    #[error("`{address}` cannot be changed as the spec asks: {why}")]
    Blocked {
        /// The resource.
        address: Address,
        /// Why, and what to do instead.
        why: String,
    },
    /// The plan would delete a resource exai did not create.
    #[error("`{address}` would be deleted, but exai does not own it (its `{OWNER_TAG}` tag is {})", .owner.as_deref().map(|o| format!("`{o}`")).unwrap_or_else(|| "missing".to_owned()))]
    NotOwned {
        /// The resource.
        address: Address,
        /// Its ownership tag's value, if any.
        owner: Option<String>,
    },
}

impl ExecutorError {
    /// Returns what to do about it.
    pub fn hint(&self) -> String {
        match self {
            Self::DeleteNotAllowed { .. } => {
                "review the plan, then run again with `--allow-delete` to let exai delete; nothing was changed".to_owned()
            }
            Self::Blocked { .. } => "follow the advice above, or revert that field in the spec; nothing was changed".to_owned(),
            Self::Protected { .. } => "change the spec so the resource keeps its location and immutable fields, or apply `protect: false` for it first; nothing was changed".to_owned(),
            Self::NotOwned { .. } => "exai only deletes what it created; delete it yourself if you mean to, or change the spec back; nothing was changed".to_owned(),
        }
    }
}

fn list(addresses: &[Address]) -> String {
    addresses.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")
}

/// Checks, before any write, that the plan only deletes what it is allowed to: nothing without
/// `allow_delete`, and never an object whose ownership tag does not name its address.
pub fn refuse_unsafe(plan: &Plan, allow_delete: bool) -> Result<(), ExecutorError> {
    if let Some(change) = plan.resource_changes.iter().find(|c| c.blocked.is_some()) {
        let why = change.blocked.clone().unwrap_or_default();
        return Err(ExecutorError::Blocked { address: change.address.clone(), why });
    }
    let destructive: Vec<&Change> =
        plan.resource_changes.iter().filter(|c| matches!(c.action, Action::Replace | Action::Delete)).collect();
    if destructive.is_empty() {
        return Ok(());
    }
    if let Some(protected) = destructive.iter().find(|c| c.protect) {
        return Err(ExecutorError::Protected { address: protected.address.clone() });
    }
    if !allow_delete {
        return Err(ExecutorError::DeleteNotAllowed {
            addresses: destructive.iter().map(|c| c.address.clone()).collect(),
        });
    }
    for change in destructive {
        // `tags.exai-owner`, or the `description` of a federated credential, which has no tags.
        let marked = change.before.as_ref().and_then(exai_model::Mark::from_fields);
        // What the object holds, shown as it is when it is not a mark exai can read.
        let owner = marked.as_ref().map(exai_model::Mark::tag_value).or_else(|| {
            change
                .before
                .as_ref()
                .and_then(|fields| fields.get(&exai_model::Mark::field())?.as_str().map(str::to_owned))
        });
        // A superseded object's change is `<address>~<its name>`: its mark names `<address>`.
        let address = change.address.as_str();
        let owned_by = address.split_once('~').map_or(address, |(declared, _)| declared);
        if marked.as_ref().map(|m| m.address.as_str()) != Some(owned_by) {
            return Err(ExecutorError::NotOwned { address: change.address.clone(), owner });
        }
    }
    Ok(())
}

/// The documents the writes of this apply returned, by address: where placeholders
/// (values known only after apply) are looked up.
type Results = Mutex<HashMap<String, Value>>;

/// How often, and how long apart, a write is retried when Entra has not replicated a new
/// principal yet (`PrincipalNotFound`). The Azure CLI retries 36 × 5 s (docs/azure-facts.md §4, §7); exai
/// waits `base × attempt`, about 2 minutes in all by default.
#[derive(Debug, Clone, Copy)]
pub struct PrincipalRetry {
    /// Attempts after the first.
    pub retries: u32,
    /// The first wait; each later one is longer by as much.
    pub base: Duration,
}

impl Default for PrincipalRetry {
    fn default() -> Self {
        Self { retries: 10, base: Duration::from_secs(2) }
    }
}

/// Resolves the placeholders of `request`'s path, body and secret file from `results`. In a
/// dry run a value not known yet stays a placeholder, which the printer shows as
/// `(known after apply: ...)`.
fn resolve(request: &ApiRequest, results: &Results, dry_run: bool) -> Result<ApiRequest, exai_model::Unresolved> {
    // Resolution is synchronous: read the results under the lock rather than copy them.
    let results = results.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    resolve_with(request, &|a, p| results.get(a).and_then(|d| d.pointer(p).cloned()), dry_run)
}

/// Resolves the placeholders of `request` — path, query, body, secret file, and the reads and
/// values of its adoption and secret guard — from `known`.
fn resolve_with(
    request: &ApiRequest,
    known: &dyn Fn(&str, &str) -> Option<Value>,
    dry_run: bool,
) -> Result<ApiRequest, exai_model::Unresolved> {
    let lookup = |address: &str, pointer: &str| {
        known(address, pointer).or_else(|| dry_run.then(|| exai_model::placeholder(address, pointer)))
    };
    let text = |text: &str| exai_model::resolve_path(text, known, dry_run);
    let value = |value: &Value| -> Result<Value, exai_model::Unresolved> {
        match exai_model::resolve_placeholders(value, &lookup)? {
            Value::String(t) => Ok(Value::String(text(&t)?)),
            other => Ok(other),
        }
    };
    let path = text(&request.path)?;
    let query = request.query.iter().map(|(k, v)| Ok((k.clone(), text(v)?))).collect::<Result<_, _>>()?;
    let body = request.body.as_ref().map(|body| exai_model::resolve_placeholders(body, &lookup)).transpose()?;
    let secret_output = match &request.secret_output {
        Some(output) => {
            let with = exai_model::resolve_placeholders(&Value::Object(output.with.clone()), &lookup)?;
            let with = with.as_object().cloned().unwrap_or_default();
            let guard = match &output.guard {
                Some(guard) => Some(exai_model::SecretGuard {
                    read: Box::new(resolve_with(&guard.read, known, dry_run)?),
                    remove: Box::new(resolve_with(&guard.remove, known, dry_run)?),
                    ..guard.clone()
                }),
                None => None,
            };
            Some(exai_model::SecretOutput { with, guard, ..output.clone() })
        }
        None => None,
    };
    let on_conflict = match &request.on_conflict {
        Some(adoption) => {
            let pairs = |pairs: &[(String, Value)]| -> Result<Vec<(String, Value)>, exai_model::Unresolved> {
                pairs.iter().map(|(p, v)| Ok((p.clone(), value(v)?))).collect()
            };
            Some(exai_model::Adoption {
                read: Box::new(resolve_with(&adoption.read, known, dry_run)?),
                select: pairs(&adoption.select)?,
                verify: pairs(&adoption.verify)?,
                ..adoption.clone()
            })
        }
        None => None,
    };
    Ok(ApiRequest { path, query, body, secret_output, on_conflict, ..request.clone() })
}

/// Returns true when Azure refused a write because what it would create already exists in an
/// equivalent form: the same principal, role and scope assigned under another name. (Requests
/// exai builds carry an [`exai_model::Adoption`] for it; this covers one that does not.)
fn already_converged(error: &AzureError) -> bool {
    matches!(error, AzureError::Api { status: 409, code, .. } if code == "RoleAssignmentExists")
}

/// Returns the adoption of `request` when `error` is Azure saying what it creates already
/// exists.
fn conflict<'a>(request: &'a ApiRequest, error: &AzureError) -> Option<&'a exai_model::Adoption> {
    let adoption = request.on_conflict.as_ref()?;
    match error {
        AzureError::Api { code, .. } if adoption.codes.iter().any(|c| c.eq_ignore_ascii_case(code)) => Some(adoption),
        _ => None,
    }
}

/// Reads the object Azure says exists, picks it and checks it is what the create asked for.
/// Returns its document, or what failed and what to do.
async fn adopt<S: Sender>(
    adoption: &exai_model::Adoption,
    error: &AzureError,
    sender: &S,
) -> Result<Value, (String, Option<String>)> {
    let answer = sender
        .execute(&adoption.read)
        .await
        .map_err(|e| (format!("Azure says it already exists ({error}), and reading it failed: {e}"), e.hint()))?;
    let found = answer.as_ref().and_then(|a| adoption.pick(a)).ok_or_else(|| {
        (
            format!("Azure says it already exists ({error}), but it is not found where exai looks for it"),
            Some("run `exai plan` to see what Azure holds now, then `exai apply` again".to_owned()),
        )
    })?;
    if let Some((pointer, found, wanted)) = adoption.mismatch(found) {
        return Err((
            format!(
                "it already exists, made since the plan, and differs from the spec: `{pointer}` is {found}, not {wanted}"
            ),
            Some("run `exai plan` to see the difference, then `exai apply` again to converge it".to_owned()),
        ));
    }
    Ok(found.clone())
}

/// Removes the marked secrets that appeared since the plan (a concurrent run's), keeping
/// `kept`, the one the secret file holds.
async fn remove_unplanned_secrets<S: Sender>(
    guard: &exai_model::SecretGuard,
    seen: Option<&Value>,
    kept: &str,
    sender: &S,
) -> Result<(), AzureError> {
    let Some(seen) = seen else { return Ok(()) };
    for key in guard.marked(seen) {
        if key.eq_ignore_ascii_case(kept) || guard.planned.iter().any(|p| p.eq_ignore_ascii_case(&key)) {
            continue;
        }
        sender.execute(&guard.removal(&key)).await?;
    }
    Ok(())
}

/// Returns true when Azure refused a write because Entra has not replicated an object created
/// moments ago: ARM's `PrincipalNotFound` for a new principal, Graph's "does not reference a
/// valid application object" for a service principal of a new application (the Azure CLI
/// retries both, docs/azure-facts.md §4 and §7).
fn not_replicated_yet(error: &AzureError) -> bool {
    match error {
        AzureError::Api { code, message, .. } => {
            code == "PrincipalNotFound"
                || (code == "Request_BadRequest" && message.contains("does not reference a valid application"))
        }
        _ => false,
    }
}

/// What one change's work needs besides the change.
struct Context<'a, S> {
    sender: &'a S,
    on_event: &'a (dyn Fn(ApplyEvent) + Sync),
    results: &'a Results,
    options: &'a ApplyOptions,
    started: Instant,
    /// The `parallelism` slots every change shares: one is held while a request of this change
    /// is in flight (or about to be sent), none while it waits.
    slots: &'a tokio::sync::Semaphore,
    /// The slot this change holds, if any.
    slot: Mutex<Option<tokio::sync::SemaphorePermit<'a>>>,
}

impl<S: Sender> Context<'_, S> {
    /// Takes a slot unless this change holds one already; waits for one to be free. The
    /// semaphore is fair: changes get slots in the order they asked.
    async fn hold(&self) {
        if self.slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner).is_some() {
            return;
        }
        // The semaphore is never closed; were it, the change would go on without a slot.
        let permit = self.slots.acquire().await.ok();
        *self.slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = permit;
    }

    /// Gives the slot back while the change waits for something other than a request of its own.
    fn release(&self) {
        self.slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
    }

    /// Waits for `future` without a slot, then takes one again for what follows.
    async fn waiting<T>(&self, future: impl Future<Output = T>) -> T {
        self.release();
        let result = future.await;
        self.hold().await;
        result
    }

    fn fail(&self, address: &Address, error: String, hint: Option<String>) -> Outcome {
        (self.on_event)(ApplyEvent::Failed { address: address.clone(), error: error.clone(), hint });
        Outcome::Failed { error }
    }

    /// Drives `future` to its end, reporting progress every [`ApplyOptions::progress_every`];
    /// `None` when the apply is interrupted first and `interruptible` is set.
    async fn tracked<T>(
        &self,
        address: &Address,
        action: Action,
        future: impl Future<Output = T>,
        interruptible: bool,
    ) -> Option<T> {
        tokio::pin!(future);
        let every = self.options.progress_every;
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        loop {
            tokio::select! {
                biased;
                result = &mut future => return Some(result),
                () = self.options.interrupt.triggered(), if interruptible => return None,
                _ = ticker.tick() => (self.on_event)(ApplyEvent::StillRunning {
                    address: address.clone(),
                    action,
                    elapsed: self.started.elapsed(),
                }),
            }
        }
    }

    /// Sends `requests` for `change`, in order. `Err` holds the outcome when one failed or the
    /// apply was interrupted; `sent_before` says whether anything of the change was sent
    /// already (an interruption before the first request is "not started").
    async fn send_all(
        &self,
        change: &Change,
        action: Action,
        requests: &[ApiRequest],
        sent_before: bool,
    ) -> Result<(), Outcome> {
        let (sender, options, on_event) = (self.sender, self.options, self.on_event);
        let address = &change.address;
        let retry = options.principal_retry;
        for (i, planned) in requests.iter().enumerate() {
            if options.interrupt.is_triggered() {
                return Err(if i == 0 && !sent_before {
                    Outcome::NotStarted
                } else {
                    Outcome::Interrupted { operation: None }
                });
            }
            // Inputs this request names (a key pair generated meanwhile) are awaited now, and
            // only by it.
            let named = planned.body.as_ref().map(exai_model::placeholder_addresses).unwrap_or_default();
            for input in options.inputs.iter().filter(|i| named.iter().any(|n| n == i.name())) {
                match self.waiting(input.value()).await {
                    Ok(value) => {
                        if let Ok(mut results) = self.results.lock() {
                            results.insert(input.name().to_owned(), value);
                        }
                    }
                    Err((error, hint)) => return Err(self.fail(address, error, Some(hint))),
                }
            }
            let request = match resolve(planned, self.results, sender.is_dry_run()) {
                Ok(r) => r,
                Err(e) => {
                    return Err(self.fail(
                        address,
                        e.to_string(),
                        Some("apply the resource it comes from first, then run `exai apply` again".to_owned()),
                    ));
                }
            };
            on_event(ApplyEvent::Request {
                address: address.clone(),
                method: request.method.to_string(),
                url: sender.url(&request),
                body: request.body.clone(),
                secret_file: request
                    .secret_output
                    .as_ref()
                    .map(|o| options.secrets_dir.clone().unwrap_or_default().join(&o.file)),
            });
            // A secret is checked, added and written under its file's lock, so two applies from
            // one directory add it once: the second finds the first's in the file and adopts it.
            // The file is reserved before the write that returns the secret, so a secret is never
            // created in Azure with nowhere to keep it.
            let lock = match (&request.secret_output, sender.is_dry_run()) {
                (Some(output), false) => {
                    match crate::secret::SecretLock::acquire(options.secrets_dir.as_deref(), output).await {
                        Ok(lock) => Some(lock),
                        Err(e) => return Err(self.fail(address, e.to_string(), Some(e.hint()))),
                    }
                }
                _ => None,
            };
            let mut seen: Option<Value> = None;
            if let (Some(lock), Some(output)) = (&lock, &request.secret_output) {
                if let Some(guard) = &output.guard {
                    seen = match sender.execute(&guard.read).await {
                        Ok(answer) => answer,
                        Err(e) => return Err(self.fail(address, e.to_string(), e.hint())),
                    };
                    let held = lock.held_key(output);
                    let found = seen.as_ref().zip(held.as_deref()).and_then(|(seen, key)| guard.find(seen, key));
                    if let (Some(found), Some(key)) = (found, held.as_deref()) {
                        if let Err(e) = remove_unplanned_secrets(guard, seen.as_ref(), key, sender).await {
                            return Err(self.fail(address, e.to_string(), e.hint()));
                        }
                        on_event(ApplyEvent::Adopted {
                            address: address.clone(),
                            note: format!(
                                "a concurrent apply added it while this one waited; `{}` holds it (keyId `{key}`)",
                                output.file
                            ),
                        });
                        if let Ok(mut results) = self.results.lock() {
                            results.insert(address.to_string(), found.clone());
                        }
                        // That apply made the whole change, the rotation's removal included.
                        return Ok(());
                    }
                }
                if let Err(e) = lock.reserve(output) {
                    return Err(self.fail(address, e.to_string(), Some(e.hint())));
                }
            }
            let mut attempt = 0;
            let mut last = loop {
                self.hold().await;
                // The round trip is never abandoned, even when interrupted: once sent, Azure may
                // act on it, and only its answer says what it did.
                let started = self.tracked(address, action, sender.start(&request), false).await;
                let result = match started {
                    Some(Ok(Accepted::Done(document))) => Ok(document),
                    Some(Ok(Accepted::Running(operation))) => {
                        let status = operation.status_url().to_owned();
                        if options.interrupt.is_triggered() {
                            return Err(Outcome::Interrupted { operation: Some(status) });
                        }
                        let follow = self.tracked(address, action, sender.follow(&request, operation), true);
                        match self.waiting(follow).await {
                            Some(result) => result,
                            None => return Err(Outcome::Interrupted { operation: Some(status) }),
                        }
                    }
                    Some(Err(e)) => Err(e),
                    None => return Err(Outcome::Interrupted { operation: None }),
                };
                match result {
                    Ok(document) => break document,
                    Err(e) if conflict(&request, &e).is_some() => {
                        let Some(adoption) = conflict(&request, &e) else { break None };
                        match adopt(adoption, &e, sender).await {
                            Ok(document) => {
                                on_event(ApplyEvent::Adopted {
                                    address: address.clone(),
                                    note: "made since the plan, by a concurrent apply or by hand; read back and checked against the spec"
                                        .to_owned(),
                                });
                                break Some(document);
                            }
                            Err((error, hint)) => return Err(self.fail(address, error, hint)),
                        }
                    }
                    Err(e) if already_converged(&e) => break None,
                    Err(e) if not_replicated_yet(&e) && attempt < retry.retries => {
                        attempt += 1;
                        let pause = tokio::time::sleep(retry.base * attempt);
                        if self.waiting(self.tracked(address, action, pause, true)).await.is_none() {
                            return Err(Outcome::Interrupted { operation: None });
                        }
                    }
                    Err(e) => return Err(self.fail(address, e.to_string(), e.hint())),
                }
            };
            if let (Some(lock), Some(output)) = (&lock, &request.secret_output) {
                match lock.finish(last.as_mut(), output) {
                    Ok(path) => on_event(ApplyEvent::SecretWritten { address: address.clone(), path }),
                    Err(e) => return Err(self.fail(address, e.to_string(), Some(e.hint()))),
                }
                let key = output.key_pointer.as_deref().and_then(|p| last.as_ref()?.pointer(p)?.as_str());
                if let (Some(guard), Some(key)) = (&output.guard, key)
                    && let Err(e) = remove_unplanned_secrets(guard, seen.as_ref(), key, sender).await
                {
                    return Err(self.fail(address, e.to_string(), e.hint()));
                }
            }
            // Each answer is known at once: a later request of the same change may need it (a
            // lookup, then the write that names what it found), and so may the dependants.
            if let (Some(document), Ok(mut results)) = (&last, self.results.lock()) {
                results.insert(address.to_string(), document.clone());
            }
        }
        Ok(())
    }

    /// Waits for the operation Azure is carrying out on the resource of a `wait`, then plans it
    /// again and sends what it still needs. Returns what was finally done.
    async fn wait_then_converge(&self, change: &Change) -> Result<Action, Outcome> {
        let address = &change.address;
        let (Some(in_progress), Some(read)) = (&change.in_progress, change.requests.first()) else {
            return Err(self.fail(
                address,
                format!("the plan waits for `{address}` but does not say how to read it"),
                Some("run `exai plan` again with this exai and apply the new plan".to_owned()),
            ));
        };
        let url = self.sender.url(read);
        (self.on_event)(ApplyEvent::Waiting {
            address: address.clone(),
            in_progress: in_progress.clone(),
            url: url.clone(),
        });
        if self.sender.is_dry_run() {
            return Ok(Action::Wait);
        }
        if self.options.interrupt.is_triggered() {
            return Err(Outcome::NotStarted);
        }
        let settle = self.tracked(address, Action::Wait, self.sender.wait_until_settled(read), true);
        let settled = match self.waiting(settle).await {
            None => return Err(Outcome::Interrupted { operation: Some(url) }),
            Some(Err(e)) => return Err(self.fail(address, e.to_string(), e.hint())),
            Some(Ok(settled)) => settled,
        };
        if let (Some(document), Ok(mut results)) = (&settled, self.results.lock()) {
            results.insert(address.to_string(), document.clone());
        }
        let Some(recheck) = &self.options.recheck else {
            let succeeded = settled
                .as_ref()
                .and_then(|d| d.pointer("/properties/provisioningState"))
                .and_then(Value::as_str)
                .is_some_and(|s| s.eq_ignore_ascii_case("succeeded"));
            if succeeded && change.diffs.is_empty() {
                return Ok(Action::Wait);
            }
            return Err(self.fail(
                address,
                format!("Azure's operation on `{address}` ended, and what it holds now was not checked"),
                Some("run `exai apply` again: it plans from what now exists and converges".to_owned()),
            ));
        };
        let fresh = match recheck.change(address, settled) {
            Ok(fresh) => fresh,
            Err(e) => return Err(self.fail(address, e, None)),
        };
        let review = Some("run `exai plan`, review the plan, then apply it".to_owned());
        match fresh.action {
            Action::NoOp | Action::Read => Ok(Action::Wait),
            _ if fresh.blocked.is_some() => Err(self.fail(
                address,
                format!(
                    "once Azure finished, `{address}` cannot be changed as the spec asks: {}",
                    fresh.blocked.as_deref().unwrap_or_default()
                ),
                review,
            )),
            Action::Create | Action::Update => {
                (self.on_event)(ApplyEvent::Started { address: address.clone(), action: fresh.action });
                self.send_all(&fresh, fresh.action, &fresh.requests, true).await?;
                Ok(fresh.action)
            }
            Action::Wait => Err(self.fail(
                address,
                format!("Azure still reports `{address}` in progress after its operation ended"),
                Some("run `exai apply` again in a moment".to_owned()),
            )),
            Action::Replace | Action::Delete => Err(self.fail(
                address,
                format!(
                    "once Azure finished, `{address}` would have to be {}, which the reviewed plan did not show",
                    if fresh.action == Action::Replace { "replaced" } else { "deleted" }
                ),
                review,
            )),
        }
    }
}

async fn apply_one<S: Sender>(change: &Change, context: &Context<'_, S>) -> Outcome {
    // A change starts once it has a slot, unless the apply is interrupted while it waits.
    tokio::select! {
        biased;
        () = context.options.interrupt.triggered() => return Outcome::NotStarted,
        () = context.hold() => {}
    }
    (context.on_event)(ApplyEvent::Started { address: change.address.clone(), action: change.action });
    let done = if change.action == Action::Wait {
        context.wait_then_converge(change).await
    } else {
        context.send_all(change, change.action, &change.requests, false).await.map(|()| change.action)
    };
    match done {
        Ok(action) => {
            (context.on_event)(ApplyEvent::Finished {
                address: change.address.clone(),
                action,
                elapsed: context.started.elapsed(),
            });
            Outcome::Done(action)
        }
        Err(outcome) => outcome,
    }
}

/// Applies `plan` through `sender`: each resource once everything it depends on succeeded, with
/// at most `options.parallelism` requests in flight at a time (a resource whose operation Azure
/// carries on holds no slot while it is followed). Call [`refuse_unsafe`] first.
pub async fn apply<S: Sender>(
    plan: &Plan,
    sender: &S,
    options: ApplyOptions,
    on_event: &(dyn Fn(ApplyEvent) + Sync),
) -> ApplyReport {
    let mut outcomes: BTreeMap<Address, Outcome> = BTreeMap::new();
    let results: Results = Mutex::new(HashMap::new());
    let mut pending: Vec<&Change> = Vec::new();
    for change in &plan.resource_changes {
        // A referenced object is only read: apply sends it nothing.
        if change.action.changes_nothing() {
            outcomes.insert(change.address.clone(), Outcome::Unchanged);
        } else {
            pending.push(change);
        }
    }
    let slots = tokio::sync::Semaphore::new(options.parallelism.max(1));
    let mut running: BTreeSet<Address> = BTreeSet::new();
    let mut in_flight = FuturesUnordered::new();
    loop {
        // Interrupted: nothing new starts.
        if options.interrupt.is_triggered() {
            for change in pending.drain(..) {
                outcomes.insert(change.address.clone(), Outcome::NotStarted);
            }
        }
        // Skip what depends on a failure; start what is ready (it waits for a slot to send).
        let mut i = 0;
        while i < pending.len() {
            let change = pending[i];
            let blocking = change
                .depends_on
                .iter()
                .find(|d| matches!(outcomes.get(*d), Some(Outcome::Failed { .. } | Outcome::Skipped { .. })));
            if let Some(dependency) = blocking {
                on_event(ApplyEvent::Skipped { address: change.address.clone(), because: dependency.clone() });
                outcomes.insert(change.address.clone(), Outcome::Skipped { because: dependency.clone() });
                pending.remove(i);
                continue;
            }
            let ready = change.depends_on.iter().all(|d| {
                matches!(outcomes.get(d), Some(Outcome::Unchanged | Outcome::Done(_)) | None)
                    && !running.contains(d)
                    && !pending.iter().any(|p| &p.address == d)
            });
            if ready {
                running.insert(change.address.clone());
                pending.remove(i);
                let context = Context {
                    sender,
                    on_event,
                    results: &results,
                    options: &options,
                    started: Instant::now(),
                    slots: &slots,
                    slot: Mutex::new(None),
                };
                in_flight.push(async move { (change.address.clone(), apply_one(change, &context).await) });
                continue;
            }
            i += 1;
        }
        match in_flight.next().await {
            Some((address, outcome)) => {
                running.remove(&address);
                outcomes.insert(address, outcome);
            }
            None => break,
        }
    }
    // Anything still pending waits on something that never ran (a dependency cycle or an
    // address outside the plan); it was not attempted.
    for change in pending {
        let because = change.depends_on.first().cloned().unwrap_or_else(|| change.address.clone());
        outcomes.insert(change.address.clone(), Outcome::Skipped { because });
    }
    drop(in_flight);
    let order: Vec<Address> = plan.resource_changes.iter().map(|c| c.address.clone()).collect();
    let documents = results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .into_iter()
        .filter_map(|(address, document)| Address::parse(&address).map(|a| (a, document)))
        .collect();
    ApplyReport { outcomes: order.into_iter().filter_map(|a| outcomes.remove(&a).map(|o| (a, o))).collect(), documents }
}
