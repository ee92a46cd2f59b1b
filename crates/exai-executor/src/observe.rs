use exai_azure::{AzureClient, AzureError};
use exai_model::permissions::ScopePermissions;
use exai_model::{
    Address, ApiRequest, DesiredResource, DesiredState, Known, LiveResource, LiveState, Observation, ResourceId,
    Service,
};
use futures::stream::{self, StreamExt};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

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
            Self::Ambiguous { .. } => Some(
                "delete or rename the objects that are not this one (`az ad app list --display-name NAME` lists them), or give the resource a name of its own in the spec; nothing was changed".to_owned(),
            ),
        }
    }

    /// Returns Azure's request id, when Azure answered.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Read { source, .. } => source.request_id(),
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

/// The identity of a read: reads of one wave that are the same request are sent once.
fn read_key(request: &ApiRequest) -> (Service, String) {
    (request.service, request.path_and_query())
}

/// Sends `requests` (at most `parallelism` at a time) and returns their answers in order.
async fn read_all(
    client: &AzureClient,
    requests: &[ApiRequest],
    parallelism: usize,
) -> Vec<Result<Option<Value>, AzureError>> {
    stream::iter(requests).map(|request| client.read(request)).buffered(parallelism.max(1)).collect().await
}

/// Sends the preflight request ([`exai_model::Kind::preflight_request`]) of every resource of
/// `wave` found absent, and refuses the first one whose answer says it cannot be created.
///
/// A check Azure refuses to answer the caller (403: a registry's name check needs
/// `Microsoft.ContainerRegistry/checkNameAvailability/read` at the subscription, which a role
/// at a resource group does not grant) does not stop the plan: it is returned, with why, and
/// the plan says the create is checked only by apply.
async fn preflight(
    client: &AzureClient,
    wave: &[&DesiredResource],
    observations: &[(Address, Observation)],
    parallelism: usize,
) -> Result<Vec<(Address, String)>, ObserveError> {
    let mut unchecked = Vec::new();
    let checks: Vec<(&DesiredResource, ApiRequest)> = wave
        .iter()
        .zip(observations)
        .filter(|(_, (_, observation))| matches!(observation, Observation::Absent))
        .filter_map(|(resource, _)| resource.spec.as_kind().preflight_request().map(|request| (*resource, request)))
        .collect();
    let requests: Vec<ApiRequest> = checks.iter().map(|(_, request)| request.clone()).collect();
    let answers = read_all(client, &requests, parallelism).await;
    for ((resource, request), answer) in checks.into_iter().zip(answers) {
        let address = &resource.address;
        let answer = match answer {
            Err(AzureError::Api { status: 403, code, method, url, .. }) => {
                unchecked.push((
                    address.clone(),
                    format!(
                        "its preflight check ({method} {url}) was refused ({code}): the caller may not make it, so whether Azure accepts the create is known only when apply sends it"
                    ),
                ));
                continue;
            }
            answer => answer,
        };
        let answer =
            answer.map_err(|source| ObserveError::Read { address: address.clone(), source: Box::new(source) })?;
        let Some(answer) = answer else {
            return Err(ObserveError::Read {
                address: address.clone(),
                source: Box::new(AzureError::InvalidResponse {
                    url: client.url(&request),
                    message: "the check answered that it does not exist".to_owned(),
                }),
            });
        };
        if let Some(refusal) = resource.spec.as_kind().preflight_refusal(&answer) {
            return Err(ObserveError::Refused {
                address: address.clone(),
                message: refusal.message,
                hint: refusal.hint,
            });
        }
    }
    Ok(unchecked)
}

/// The scopes whose effective permissions the plan needs: for each declared ARM resource, its
/// resource group (when it lies in one) and its subscription. They are read before anything is
/// known to exist, so a group's read may answer that it does not exist: its subscription's then
/// decides ([`LiveState::effective_permissions`]).
fn permission_scopes(desired: &DesiredState) -> Vec<ResourceId> {
    let mut scopes: Vec<ResourceId> = Vec::new();
    for resource in &desired.resources {
        // Graph objects' ids name no subscription: they have no scope here.
        let Some(id) = resource.spec.id() else { continue };
        for scope in exai_model::permissions::permission_scopes(&id) {
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
    }
    scopes
}

/// Reads the caller's effective permissions at each of `scopes`. Never fails: a scope that
/// does not exist is [`ScopePermissions::Absent`], and any other failure is recorded as
/// [`ScopePermissions::Unknown`] with why, for the plan to say it could not check.
async fn read_permissions(
    client: &AzureClient,
    scopes: &[ResourceId],
    parallelism: usize,
) -> Vec<(ResourceId, ScopePermissions)> {
    let requests: Vec<ApiRequest> = scopes.iter().map(exai_model::permissions::permissions_request).collect();
    let answers = read_all(client, &requests, parallelism).await;
    scopes
        .iter()
        .zip(answers)
        .map(|(scope, answer)| {
            let found = match answer {
                Ok(Some(answer)) => ScopePermissions::from_answer(&answer),
                Ok(None) => ScopePermissions::Absent,
                // Azure's own words; the URL is the scope's, named beside the reason.
                Err(AzureError::Api { status, code, message, .. }) => {
                    ScopePermissions::Unknown { reason: format!("{status} {code}: {message}") }
                }
                Err(error) => ScopePermissions::Unknown { reason: error.to_string() },
            };
            (scope.clone(), found)
        })
        .collect()
}

/// Reads every declared resource: at most one read each, at most `parallelism` at a time, in
/// waves that follow the dependencies, so a read that needs another resource's live value (a
/// role assignment needs its principal's object id) has it. Identical reads of one wave (the
/// federated credentials of one application) are sent once.
///
/// A resource Azure says does not exist is [`Observation::Absent`]; any other failure is an
/// error, because a plan made without it would silently omit it. A resource that cannot exist
/// yet (its parent is absent) or that lives in another's document (a client secret) costs no
/// read. Objects exai owns that the answers show ([`exai_model::OwnedObject`]) are recorded, and
/// each existing resource group costs one more read: the list of its resources carrying the
/// ownership tag, which shows those that left the spec. A resource found absent whose kind has
/// a preflight check (a registry's name availability) is checked too: a refusal is an error,
/// so a plan that could not be applied fails before any write.
///
/// The caller's effective permissions are read in the first round too, beside the first
/// wave's reads (one read per scope, [`permission_scopes`]), into the live state for the
/// planner's permission check.
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
    let mut live = LiveState::new();
    let declared: BTreeSet<&Address> = desired.resources.iter().map(|r| &r.address).collect();
    let mut pending: Vec<&DesiredResource> = desired.resources.iter().collect();
    let mut scopes = if permissions { permission_scopes(desired) } else { Vec::new() };
    let mut permissions = Vec::new();
    while !pending.is_empty() {
        // Ready: every declared dependency already read. A cycle (not produced by the spec)
        // would leave nothing ready: read what remains rather than loop.
        let (mut wave, rest): (Vec<&DesiredResource>, Vec<&DesiredResource>) =
            pending.iter().partition(|r| r.depends_on.iter().all(|d| !declared.contains(d) || live.get(d).is_some()));
        if wave.is_empty() {
            wave = rest.clone();
        }
        let (observations, owned) = {
            let known = Known::from(&live);
            let steps: Vec<Step> = wave.iter().map(|r| step(r, known)).collect::<Result<_, _>>()?;
            // Each distinct read once, and for each resource the index of its read.
            let mut requests: Vec<ApiRequest> = Vec::new();
            let mut index_of: HashMap<(Service, String), usize> = HashMap::new();
            let reads: Vec<Option<usize>> = steps
                .iter()
                .map(|step| match step {
                    Step::Read(request) => Some(*index_of.entry(read_key(request)).or_insert_with(|| {
                        requests.push((**request).clone());
                        requests.len() - 1
                    })),
                    Step::Known(_) => None,
                })
                .collect();
            // The first round carries the permission reads: they wait on nothing.
            let (mut answers, found) = futures::future::join(
                read_all(client, &requests, parallelism),
                read_permissions(client, &std::mem::take(&mut scopes), parallelism),
            )
            .await;
            permissions.extend(found);
            let mut observations = Vec::with_capacity(wave.len());
            let mut owned = Vec::new();
            // In declaration order, so the error reported when several reads fail is the first.
            for ((resource, step), index) in wave.iter().zip(steps).zip(reads) {
                let observation = match step {
                    Step::Known(observation) => observation,
                    Step::Read(request) => {
                        let index = index.unwrap_or_default();
                        let answer = match std::mem::replace(&mut answers[index], Ok(None)) {
                            Ok(answer) => {
                                // Put it back for the other resources the same read serves.
                                answers[index] = Ok(answer.clone());
                                answer
                            }
                            Err(source) => {
                                return Err(ObserveError::Read {
                                    address: resource.address.clone(),
                                    source: Box::new(source),
                                });
                            }
                        };
                        let kind = resource.spec.as_kind();
                        let document = match answer {
                            Some(answer) => {
                                owned.extend(kind.owned_in(&answer, known));
                                kind.select_live(answer).map_err(|message| ObserveError::Ambiguous {
                                    address: resource.address.clone(),
                                    message,
                                })?
                            }
                            None => None,
                        };
                        present(resource, document, client.url(&request), known)?
                    }
                };
                observations.push((resource.address.clone(), observation));
            }
            for (address, why) in preflight(client, &wave, &observations, parallelism).await? {
                live.insert_unchecked(address, why);
            }
            // What exists may hold owned objects that left the spec: scan it.
            let (scanned, scans): (Vec<&Address>, Vec<ApiRequest>) = wave
                .iter()
                .zip(&observations)
                .filter(|(_, (_, o))| matches!(o, Observation::Present(_)))
                .filter_map(|(r, _)| r.spec.as_kind().scan_request().map(|scan| (&r.address, scan)))
                .unzip();
            for (address, answer) in scanned.into_iter().zip(read_all(client, &scans, parallelism).await) {
                let answer = answer
                    .map_err(|source| ObserveError::Read { address: address.clone(), source: Box::new(source) })?;
                owned.extend(answer.iter().flat_map(exai_model::owned_in_scan));
            }
            (observations, owned)
        };
        for (scope, found) in permissions.drain(..) {
            live.insert_permissions(&scope, found);
        }
        let read: BTreeSet<Address> = observations.iter().map(|(a, _)| a.clone()).collect();
        for (address, observation) in observations {
            live.insert(address, observation);
        }
        for object in owned {
            live.insert_owned(object);
        }
        pending.retain(|r| !read.contains(&r.address));
    }
    Ok(live)
}
