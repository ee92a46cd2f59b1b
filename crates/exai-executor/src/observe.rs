use exai_azure::{AzureClient, AzureError};
use exai_model::{Address, DesiredResource, DesiredState, Known, LiveResource, LiveState, Observation, ResourceId};
use futures::stream::{self, StreamExt};
use std::collections::BTreeSet;

/// A declared resource could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read `{address}`: {source}")]
pub struct ObserveError {
    /// The resource.
    pub address: Address,
    /// Why.
    #[source]
    pub source: AzureError,
}

async fn observe_one(
    resource: &DesiredResource,
    client: &AzureClient,
    known: Known<'_>,
) -> Result<Observation, ObserveError> {
    let kind = resource.spec.as_kind();
    if kind.known_absent(known) {
        return Ok(Observation::Absent);
    }
    let Some(request) = kind.read_request_with(known) else { return Ok(Observation::Absent) };
    let answer =
        client.read(&request).await.map_err(|source| ObserveError { address: resource.address.clone(), source })?;
    let Some(document) = answer.and_then(|a| kind.select_live(a)) else { return Ok(Observation::Absent) };
    // Trust the id Azure returned (its casing, or another name for the same role assignment);
    // fall back to ours when a body has none.
    let id = document
        .get("id")
        .and_then(|v| v.as_str())
        .and_then(|s| ResourceId::parse(s).ok())
        .or_else(|| resource.spec.id());
    let Some(id) = id else {
        return Err(ObserveError {
            address: resource.address.clone(),
            source: AzureError::InvalidResponse {
                url: request.path.clone(),
                message: "the object has no `id`, and its id cannot be derived from the spec".to_owned(),
            },
        });
    };
    Ok(Observation::Present(LiveResource { id, document }))
}

/// Reads every managed resource: one read each, at most `parallelism` at a time, in waves that
/// follow the dependencies, so a read that needs another resource's live value (a role
/// assignment needs its principal's object id) has it.
///
/// A resource Azure says does not exist is [`Observation::Absent`]; any other failure is an
/// error, because a plan made without it would silently omit it. Kinds not managed yet are not
/// read (the planner lists them as such).
pub async fn observe(
    desired: &DesiredState,
    client: &AzureClient,
    parallelism: usize,
) -> Result<LiveState, ObserveError> {
    let mut live = LiveState::new();
    let managed: Vec<&DesiredResource> = desired.resources.iter().filter(|r| r.spec.is_managed()).collect();
    let managed_addresses: BTreeSet<&Address> = managed.iter().map(|r| &r.address).collect();
    let mut pending = managed;
    while !pending.is_empty() {
        // Ready: every managed dependency already read. A cycle (not produced by the spec)
        // would leave nothing ready: read what remains rather than loop.
        let (mut wave, rest): (Vec<&DesiredResource>, Vec<&DesiredResource>) = pending
            .iter()
            .partition(|r| r.depends_on.iter().all(|d| !managed_addresses.contains(d) || live.get(d).is_some()));
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
