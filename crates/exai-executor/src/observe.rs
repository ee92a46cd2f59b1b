use exai_azure::{AzureClient, AzureError};
use exai_model::permissions::ScopePermissions;
use exai_model::{
    Address, ApiRequest, DesiredResource, DesiredState, Known, LiveResource, LiveState, Observation, ResourceId,
    Service,
};
use futures::stream::{FuturesUnordered, StreamExt};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap, VecDeque};

/// A declared resource could not be read, or what Azure answered cannot be trusted.
#[derive(Debug, thiserror::Error)]
pub enum ObserveError {
    /// The read failed.
    #[error("cannot read `{address}`: {source}")]
    Read {
        /// The resource.
        address: Address,
        /// Why.
        #[source]
        source: Box<AzureError>,
    },
    /// A resource that does not exist yet cannot be created as declared (a registry name
    /// already taken across Azure): found while planning, before any write.
    #[error("`{address}` cannot be created: {message}")]
    Refused {
        /// The resource.
        address: Address,
        /// Why.
        message: String,
        /// What to do about it.
        hint: String,
    },
    /// An object the spec references (`{ id }`) could not be read: Azure refused the caller
    /// (403). exai only reads it, and needs to.
    #[error("cannot read `{id}`, which `{address}` references: {source}")]
    ReferenceUnreadable {
        /// The reference.
        address: Address,
        /// The object's id.
        id: ResourceId,
        /// The action the read needs (`Microsoft.OperationalInsights/workspaces/read`).
        action: String,
        /// Azure's refusal.
        #[source]
        source: Box<AzureError>,
    },
    /// The answer does not name one object exai can call its own.
    #[error("cannot tell which object is `{address}`: {message}")]
    Ambiguous {
        /// The resource.
        address: Address,
        /// What was found.
        message: String,
    },
}

impl ObserveError {
    /// Returns what to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Read { source, .. } => source.hint(),
            Self::Refused { hint, .. } => Some(hint.clone()),
            Self::ReferenceUnreadable { id, action, source, .. } => {
                let role = exai_model::permissions::smallest_roles(action).first().map_or("Reader", |r| r.name);
                // The caller as Azure named it in its refusal, when it did.
                let assignee = match source.as_ref() {
                    AzureError::Api { code, message, .. } => exai_azure::AuthorizationDenial::parse(code, message)
                        .map(|denial| denial.client.unwrap_or(denial.object_id)),
                    _ => None,
                };
                let assignee = assignee.unwrap_or_else(|| "<the identity exai runs as>".to_owned());
                Some(format!(
                    "exai never writes a referenced object, but it must read it: the identity needs `{action}` on it (`{role}` grants it); whoever owns it can grant that: `az role assignment create --assignee {assignee} --role \"{role}\" --scope {id}`"
                ))
            }
            Self::Ambiguous { .. } => Some(
                "delete or rename the objects that are not this one (`az ad app list --display-name NAME` lists them), or give the resource a name of its own in the spec; nothing was changed".to_owned(),
            ),
        }
    }

    /// Returns Azure's request id, when Azure answered.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Read { source, .. } => source.request_id(),
            Self::ReferenceUnreadable { source, .. } => source.request_id(),
            Self::Refused { .. } | Self::Ambiguous { .. } => None,
        }
    }
}

/// What to do for one resource in a wave: its observation is already known, or it needs a read.
enum Step {
    Known(Observation),
    Read(Box<ApiRequest>),
}

fn step(resource: &DesiredResource, known: Known<'_>) -> Result<Step, ObserveError> {
    let kind = resource.spec.as_kind();
    if kind.known_absent(known) {
        return Ok(Step::Known(Observation::Absent));
    }
    if let Some(found) = kind.observe_from(known) {
        return present(resource, found, String::new(), known).map(Step::Known);
    }
    Ok(match kind.read_request_with(known) {
        Some(request) => Step::Read(Box::new(request)),
        None => Step::Known(Observation::Absent),
    })
}

/// Returns the observation of `document` (absent when `None`).
fn present(
    resource: &DesiredResource,
    document: Option<Value>,
    url: String,
    known: Known<'_>,
) -> Result<Observation, ObserveError> {
    let Some(document) = document else { return Ok(Observation::Absent) };
    // Trust the id Azure returned (its casing, or another name for the same role assignment);
    // fall back to ours when a body has none.
    let Some(id) = resource.spec.as_kind().live_id(&document, known) else {
        return Err(ObserveError::Read {
            address: resource.address.clone(),
            source: Box::new(AzureError::InvalidResponse {
                url,
                message: "the object has no `id`, and its id cannot be derived from the spec".to_owned(),
            }),
        });
    };
    Ok(Observation::Present(LiveResource { id, document }))
}

/// The identity of a read: reads that are the same request are sent once.
fn read_key(request: &ApiRequest) -> (Service, String) {
    (request.service, request.path_and_query())
}

/// The scopes whose effective permissions the plan needs: for each declared ARM resource exai
/// may write (not an object the spec only references), its resource group (when it lies in
/// one) and its subscription. They are read before anything is
/// known to exist, so a group's read may answer that it does not exist: its subscription's then
/// decides ([`LiveState::effective_permissions`]).
fn permission_scopes(desired: &DesiredState) -> Vec<ResourceId> {
    let mut scopes: Vec<ResourceId> = Vec::new();
    for resource in &desired.resources {
        // Graph objects' ids name no subscription: they have no scope here. A referenced
        // object is only read: exai never acts at its scope.
        if resource.spec.as_reference().is_some() {
            continue;
        }
        let Some(id) = resource.spec.id() else { continue };
        for scope in exai_model::permissions::permission_scopes(&id) {
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
    }
    scopes
}

/// The answer to the permissions read at one scope: never a failure. A scope that does not
/// exist is [`ScopePermissions::Absent`], and any other failure is recorded as
/// [`ScopePermissions::Unknown`] with why, for the plan to say it could not check.
fn permissions_found(answer: Result<Option<Value>, AzureError>) -> ScopePermissions {
    match answer {
        Ok(Some(answer)) => ScopePermissions::from_answer(&answer),
        Ok(None) => ScopePermissions::Absent,
        // Azure's own words; the URL is the scope's, named beside the reason.
        Err(AzureError::Api { status, code, message, .. }) => {
            ScopePermissions::Unknown { reason: format!("{status} {code}: {message}") }
        }
        Err(error) => ScopePermissions::Unknown { reason: error.to_string() },
    }
}

/// Judges the answer to the preflight check of `resource` (found absent): `Ok(Some(why))` when
/// the check could not be made (Azure refused it to the caller, 403: a registry's name check
/// needs `Microsoft.ContainerRegistry/checkNameAvailability/read` at the subscription, which a
/// role at a resource group does not grant), `Ok(None)` when the create may go ahead, an error
/// when it cannot or the check failed.
fn judge_preflight(
    client: &AzureClient,
    resource: &DesiredResource,
    request: &ApiRequest,
    answer: Result<Option<Value>, AzureError>,
) -> Result<Option<String>, ObserveError> {
    let address = &resource.address;
    let answer = match answer {
        Err(AzureError::Api { status: 403, code, method, url, .. }) => {
            return Ok(Some(format!(
                "its preflight check ({method} {url}) was refused ({code}): the caller may not make it, so whether Azure accepts the create is known only when apply sends it"
            )));
        }
        answer => answer,
    };
    let answer = answer.map_err(|source| ObserveError::Read { address: address.clone(), source: Box::new(source) })?;
    let Some(answer) = answer else {
        return Err(ObserveError::Read {
            address: address.clone(),
            source: Box::new(AzureError::InvalidResponse {
                url: client.url(request),
                message: "the check answered that it does not exist".to_owned(),
            }),
        });
    };
    match resource.spec.as_kind().preflight_refusal(&answer) {
        Some(refusal) => {
            Err(ObserveError::Refused { address: address.clone(), message: refusal.message, hint: refusal.hint })
        }
        None => Ok(None),
    }
}

/// What a request sent during observation answers.
#[derive(Debug, Clone, Copy)]
enum Task {
    /// A distinct resource read, by its index in the table of reads (one read may serve several
    /// resources: the federated credentials of one application).
    Read(usize),
    /// The caller's permissions at a scope, by its index in the scopes.
    Permissions(usize),
    /// The ownership scan below a resource found present, by the resource's index.
    Scan(usize),
    /// The preflight check of a resource found absent, by the resource's index.
    Preflight(usize),
}

/// Where one distinct resource read stands.
enum ReadState {
    /// Waiting for a free place among the requests in flight, or in flight.
    Waiting,
    /// Answered; an error is taken by the first resource that meets it.
    Answered(Result<Option<Value>, AzureError>),
    /// Its error was taken.
    Failed,
}

/// The wave each resource was read in when observation followed the dependencies (0: no
/// declared dependency): the order in which owned objects were found, which the plan lists
/// them in. A cycle (not produced by the spec) puts what remains in one wave.
fn waves(resources: &[&DesiredResource], declared: &BTreeSet<&Address>) -> Vec<usize> {
    let mut wave_of: HashMap<&Address, usize> = HashMap::new();
    let mut waves = vec![0; resources.len()];
    let mut pending: Vec<usize> = (0..resources.len()).collect();
    let mut wave = 0;
    while !pending.is_empty() {
        let (mut ready, rest): (Vec<usize>, Vec<usize>) = pending
            .iter()
            .partition(|&&i| resources[i].depends_on.iter().all(|d| !declared.contains(d) || wave_of.contains_key(d)));
        if ready.is_empty() {
            ready = rest.clone();
        }
        for &i in &ready {
            waves[i] = wave;
            wave_of.insert(&resources[i].address, wave);
        }
        pending.retain(|i| !ready.contains(i));
        wave += 1;
    }
    waves
}

/// Reads every declared resource: at most one read each, at most `parallelism` requests in
/// flight, scheduled by data rather than by the write order. Every read whose request is
/// computable from the spec and from what is already known ([`exai_model::Kind::read_request_with`])
/// is sent at once, in the first round; a read that needs another resource's live value (a
/// service principal needs its application's `appId`, a role assignment its principal's object
/// id, the AcrPull assignment the cluster's kubelet identity) is sent as soon as that value is
/// known, not after a wave. An answer is interpreted once every declared dependency of its
/// resource is known, with the same knowledge as when reads followed the dependencies. A
/// request is never sent twice: identical reads (the federated credentials of one application)
/// share one answer.
///
/// A resource Azure says does not exist is [`Observation::Absent`]; any other failure is an
/// error, because a plan made without it would silently omit it (when several fail, the first
/// declared among those answered is reported, and nothing more is sent). A resource that cannot
/// exist yet (its parent is absent) or that lives in another's document (a client secret) costs
/// no read. Objects exai owns that the answers show ([`exai_model::OwnedObject`]) are recorded,
/// and each existing resource group costs one more read, sent as soon as its group is found:
/// the list of its resources carrying the ownership tag, which shows those that left the spec.
/// A resource found absent whose kind has a preflight check (a registry's name availability)
/// is checked too: a refusal is an error, so a plan that could not be applied fails before any
/// write; a check Azure refuses the caller (403) does not stop the plan: the live state records
/// why ([`LiveState::insert_unchecked`]) and the plan says the create is checked only by apply.
///
/// The caller's effective permissions are read in the first round too (one read per scope,
/// [`permission_scopes`]), into the live state for the planner's permission check.
pub async fn observe(
    desired: &DesiredState,
    client: &AzureClient,
    parallelism: usize,
) -> Result<LiveState, ObserveError> {
    observe_with(desired, client, parallelism, true).await
}

/// Reads every declared resource as [`observe`] does; the caller's permissions only when
/// `permissions` is set.
pub async fn observe_with(
    desired: &DesiredState,
    client: &AzureClient,
    parallelism: usize,
    permissions: bool,
) -> Result<LiveState, ObserveError> {
    let resources: Vec<&DesiredResource> = desired.resources.iter().collect();
    let declared: BTreeSet<&Address> = resources.iter().map(|r| &r.address).collect();
    let waves = waves(&resources, &declared);
    let scopes = if permissions { permission_scopes(desired) } else { Vec::new() };
    let mut live = LiveState::new();
    // What is decided, and what answers already say of resources not decided yet: only for
    // computing reads early (a read computed from it that turns out different is sent anew).
    let mut provisional = LiveState::new();
    // Each distinct read once: its request, where it stands, and its index by identity.
    let mut reads: Vec<(ApiRequest, ReadState)> = Vec::new();
    let mut read_index: HashMap<(Service, String), usize> = HashMap::new();
    // Requests not yet sent, in the order they are to go; reads found later (those that waited
    // for an answer) go first, for they are on the longest chain.
    let mut queue: VecDeque<(Task, ApiRequest)> = VecDeque::new();
    let mut in_flight = FuturesUnordered::new();
    let mut decided = vec![false; resources.len()];
    // The requests of the scans and preflight checks, by resource, for naming their URL.
    let mut followups: HashMap<usize, ApiRequest> = HashMap::new();
    // Owned objects by (wave, read before scan, resource), the order they were always found in.
    let mut owned: Vec<((usize, u8, usize), Vec<exai_model::OwnedObject>)> = Vec::new();
    let mut failure: Option<(usize, ObserveError)> = None;
    let mut forced = false;
    let mut first_round = true;
    // Which resources to look at again, in declaration order: all at first; then only those
    // an answer or a decision can have changed (the resources that depend on one just known,
    // those sharing a read just answered). Looking at every resource after every answer made
    // a plan quadratic: 200 environments cost 7 s of CPU.
    let mut dirty: BTreeSet<usize> = (0..resources.len()).collect();
    let index_of: HashMap<&Address, usize> =
        resources.iter().enumerate().map(|(index, resource)| (&resource.address, index)).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); resources.len()];
    for (index, resource) in resources.iter().enumerate() {
        for dependency in &resource.depends_on {
            if let Some(&of) = index_of.get(dependency) {
                dependents[of].push(index);
            }
        }
    }
    // The resources that met each read, to look at again once it is answered.
    let mut met: HashMap<usize, Vec<usize>> = HashMap::new();
    let fail = |failure: &mut Option<(usize, ObserveError)>, index: usize, error: ObserveError| {
        if failure.as_ref().is_none_or(|(first, _)| index < *first) {
            *failure = Some((index, error));
        }
    };
    loop {
        // Decide every resource that may have changed (`dirty`), in declaration order, until
        // nothing more can be decided; queue the reads they need.
        while let Some(index) = dirty.pop_first() {
            let resource = resources[index];
            if decided[index] {
                continue;
            }
            let ready = forced || resource.depends_on.iter().all(|d| !declared.contains(d) || live.get(d).is_some());
            if !ready {
                // Not decidable yet, but its read may already be computable from what is
                // known or already answered: send it now.
                let known = Known::from(&provisional);
                let kind = resource.spec.as_kind();
                if kind.observe_from(known).is_some() || provisional.get(&resource.address).is_some() {
                    continue;
                }
                let Some(request) = kind.read_request_with(known) else { continue };
                let read = enqueue_read(&mut reads, &mut read_index, &mut queue, request, first_round);
                met.entry(read).or_default().push(index);
                // Answered already: what it says is what reads waiting on it need (the
                // cluster's kubelet identity for its AcrPull lookup), though it is decided
                // only once its dependencies are.
                if let ReadState::Answered(Ok(answer)) = &reads[read].1
                    && let Ok((observation, _)) = interpret(client, resource, &reads[read].0, answer.clone(), known)
                {
                    provisional.insert(resource.address.clone(), observation);
                    dirty.extend(&dependents[index]);
                }
                continue;
            }
            let known = Known::from(&live);
            let step = match step(resource, known) {
                Ok(step) => step,
                Err(error) => {
                    decided[index] = true;
                    fail(&mut failure, index, error);
                    continue;
                }
            };
            let (observation, found) = match step {
                Step::Known(observation) => (observation, Vec::new()),
                Step::Read(request) => {
                    let read = enqueue_read(&mut reads, &mut read_index, &mut queue, *request, first_round);
                    met.entry(read).or_default().push(index);
                    let answer = match &mut reads[read].1 {
                        ReadState::Waiting => continue,
                        ReadState::Failed => {
                            // Its error is already reported for an earlier resource.
                            decided[index] = true;
                            continue;
                        }
                        ReadState::Answered(Ok(answer)) => answer.clone(),
                        ReadState::Answered(Err(_)) => {
                            decided[index] = true;
                            if let ReadState::Answered(Err(source)) =
                                std::mem::replace(&mut reads[read].1, ReadState::Failed)
                            {
                                fail(&mut failure, index, read_error(resource, &reads[read].0, source));
                            }
                            continue;
                        }
                    };
                    match interpret(client, resource, &reads[read].0, answer, known) {
                        Ok(interpreted) => interpreted,
                        Err(error) => {
                            decided[index] = true;
                            fail(&mut failure, index, error);
                            continue;
                        }
                    }
                }
            };
            decided[index] = true;
            dirty.extend(&dependents[index]);
            if !found.is_empty() {
                owned.push(((waves[index], 0, index), found));
            }
            // What exists may hold owned objects that left the spec: scan it. What does not
            // exist yet may be refused: check it.
            let kind = resource.spec.as_kind();
            let followup = match &observation {
                Observation::Present(_) => kind.scan_request().map(|scan| (Task::Scan(index), scan)),
                Observation::Absent => kind.preflight_request().map(|check| (Task::Preflight(index), check)),
            };
            if let Some((task, request)) = followup {
                followups.insert(index, request.clone());
                queue.push_back((task, request));
            }
            provisional.insert(resource.address.clone(), observation.clone());
            live.insert(resource.address.clone(), observation);
        }
        if first_round {
            first_round = false;
            // The permission reads wait on nothing: they go in the first round, after the
            // resources' reads.
            for (index, scope) in scopes.iter().enumerate() {
                queue.push_back((Task::Permissions(index), exai_model::permissions::permissions_request(scope)));
            }
        }
        // After a failure nothing more is sent: what is in flight is awaited, so the error
        // reported is the first declared among those answered.
        while failure.is_none() && in_flight.len() < parallelism.max(1) {
            let Some((task, request)) = queue.pop_front() else { break };
            in_flight.push(async move {
                let answer = client.read(&request).await;
                (task, answer)
            });
        }
        let Some((task, answer)) = in_flight.next().await else {
            if failure.is_some() || decided.iter().all(|d| *d) || forced {
                break;
            }
            // Nothing in flight and nothing decidable: a cycle (not produced by the spec).
            // Decide what remains with what is known rather than wait forever.
            forced = true;
            dirty.extend((0..resources.len()).filter(|index| !decided[*index]));
            continue;
        };
        match task {
            Task::Read(read) => {
                reads[read].1 = ReadState::Answered(answer);
                dirty.extend(met.remove(&read).unwrap_or_default());
            }
            Task::Permissions(index) => live.insert_permissions(&scopes[index], permissions_found(answer)),
            Task::Scan(index) => match answer {
                Ok(answer) => {
                    owned.push(((waves[index], 1, index), answer.iter().flat_map(exai_model::owned_in_scan).collect()))
                }
                Err(source) => {
                    let address = resources[index].address.clone();
                    fail(&mut failure, index, ObserveError::Read { address, source: Box::new(source) });
                }
            },
            Task::Preflight(index) => {
                let resource = resources[index];
                let Some(request) = followups.get(&index) else { continue };
                match judge_preflight(client, resource, request, answer) {
                    Ok(Some(why)) => live.insert_unchecked(resource.address.clone(), why),
                    Ok(None) => {}
                    Err(error) => fail(&mut failure, index, error),
                }
            }
        }
    }
    if let Some((_, error)) = failure {
        return Err(error);
    }
    owned.sort_by_key(|(order, _)| *order);
    for object in owned.into_iter().flat_map(|(_, found)| found) {
        live.insert_owned(object);
    }
    Ok(live)
}

/// Returns the error of a failed read of `resource` by `request`: a referenced object Azure
/// refuses the caller says so, with the role that would read it.
fn read_error(resource: &DesiredResource, request: &ApiRequest, source: AzureError) -> ObserveError {
    let address = resource.address.clone();
    match (resource.spec.as_reference(), &source) {
        (Some(reference), AzureError::Api { status: 403, .. }) => ObserveError::ReferenceUnreadable {
            address,
            id: reference.id.clone(),
            action: exai_model::permissions::required_action(request)
                .map_or_else(|| format!("{}/read", reference.of.azure_type()), |needed| needed.action),
            source: Box::new(source),
        },
        _ => ObserveError::Read { address, source: Box::new(source) },
    }
}

/// Queues `request` unless the same read is already queued, in flight or answered; returns its
/// index in `reads`.
fn enqueue_read(
    reads: &mut Vec<(ApiRequest, ReadState)>,
    read_index: &mut HashMap<(Service, String), usize>,
    queue: &mut VecDeque<(Task, ApiRequest)>,
    request: ApiRequest,
    first_round: bool,
) -> usize {
    let key = read_key(&request);
    if let Some(index) = read_index.get(&key) {
        return *index;
    }
    let index = reads.len();
    read_index.insert(key, index);
    if first_round {
        queue.push_back((Task::Read(index), request.clone()));
    } else {
        queue.push_front((Task::Read(index), request.clone()));
    }
    reads.push((request, ReadState::Waiting));
    index
}

/// Returns the observation of `resource` in the answer to its read, and the other objects exai
/// owns that the answer shows.
fn interpret(
    client: &AzureClient,
    resource: &DesiredResource,
    request: &ApiRequest,
    answer: Option<Value>,
    known: Known<'_>,
) -> Result<(Observation, Vec<exai_model::OwnedObject>), ObserveError> {
    let kind = resource.spec.as_kind();
    let mut owned = Vec::new();
    let document = match answer {
        Some(answer) => {
            owned.extend(kind.owned_in(&answer, known));
            kind.select_live(answer)
                .map_err(|message| ObserveError::Ambiguous { address: resource.address.clone(), message })?
        }
        None => None,
    };
    Ok((present(resource, document, client.url(request), known)?, owned))
}
