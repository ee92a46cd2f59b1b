use exai_azure::{AzureClient, AzureError};
use exai_model::{Address, DesiredResource, DesiredState, Known, LiveResource, LiveState, Observation};
use futures::stream::{self, StreamExt};
use std::collections::BTreeSet;

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
        source: AzureError,
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
            Self::Ambiguous { .. } => Some(
                "delete or rename the objects that are not this one (`az ad app list --display-name NAME` lists them), or give the resource a name of its own in the spec; nothing was changed".to_owned(),
            ),
        }
    }

    /// Returns Azure's request id, when Azure answered.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Read { source, .. } => source.request_id(),
            Self::Ambiguous { .. } => None,
        }
    }
}

async fn observe_one(
    resource: &DesiredResource,
    client: &AzureClient,
    known: Known<'_>,
) -> Result<Observation, ObserveError> {
    let kind = resource.spec.as_kind();
    let address = || resource.address.clone();
    if kind.known_absent(known) {
        return Ok(Observation::Absent);
    }
    let (document, url) = match kind.observe_from(known) {
        Some(found) => (found, String::new()),
        None => {
            let Some(request) = kind.read_request_with(known) else { return Ok(Observation::Absent) };
            let answer = client.read(&request).await.map_err(|source| ObserveError::Read { address: address(), source })?;
            let document = match answer {
                Some(answer) => kind
                    .select_live(answer)
                    .map_err(|message| ObserveError::Ambiguous { address: address(), message })?,
                None => None,
            };
            (document, client.url(&request))
        }
    };
    let Some(document) = document else { return Ok(Observation::Absent) };
    // Trust the id Azure returned (its casing, or another name for the same role assignment);
    // fall back to ours when a body has none.
    let Some(id) = kind.live_id(&document, known) else {
        return Err(ObserveError::Read {
            address: address(),
            source: AzureError::InvalidResponse {
                url,
                message: "the object has no `id`, and its id cannot be derived from the spec".to_owned(),
            },
        });
    };
    Ok(Observation::Present(LiveResource { id, document }))
}

/// Reads every declared resource: at most one read each, at most `parallelism` at a time, in waves that
/// follow the dependencies, so a read that needs another resource's live value (a role
/// assignment needs its principal's object id) has it.
///
/// A resource Azure says does not exist is [`Observation::Absent`]; any other failure is an
/// error, because a plan made without it would silently omit it. A resource that cannot exist
/// yet (its parent is absent) or that lives in another's document (a client secret) costs no
/// read.
pub async fn observe(
    desired: &DesiredState,
    client: &AzureClient,
    parallelism: usize,
) -> Result<LiveState, ObserveError> {
    let mut live = LiveState::new();
    let declared: BTreeSet<&Address> = desired.resources.iter().map(|r| &r.address).collect();
    let mut pending: Vec<&DesiredResource> = desired.resources.iter().collect();
    while !pending.is_empty() {
        // Ready: every declared dependency already read. A cycle (not produced by the spec)
        // would leave nothing ready: read what remains rather than loop.
        let (mut wave, rest): (Vec<&DesiredResource>, Vec<&DesiredResource>) = pending
            .iter()
            .partition(|r| r.depends_on.iter().all(|d| !declared.contains(d) || live.get(d).is_some()));
        if wave.is_empty() {
            wave = rest.clone();
        }
        let known = Known::from(&live);
        // `buffered`, not `buffer_unordered`: reads still run concurrently, but results (and so
        // the error reported when several reads fail) come in declaration order.
        let results: Vec<(Address, Result<Observation, ObserveError>)> = stream::iter(wave.iter())
            .map(|resource| async move { (resource.address.clone(), observe_one(resource, client, known).await) })
            .buffered(parallelism.max(1))
            .collect()
            .await;
        let read: BTreeSet<Address> = results.iter().map(|(a, _)| a.clone()).collect();
        for (address, result) in results {
            live.insert(address, result?);
        }
        pending.retain(|r| !read.contains(&r.address));
    }
    Ok(live)
}
