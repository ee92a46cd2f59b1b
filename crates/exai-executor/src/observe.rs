use exai_azure::{AzureClient, AzureError};
use exai_model::{Address, DesiredState, LiveResource, LiveState, Observation, ResourceId};
use futures::stream::{self, StreamExt};

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

/// Reads every declared resource, at most `parallelism` at a time: one GET per resource.
///
/// A resource Azure says does not exist is [`Observation::Absent`]; any other failure is an
/// error, because a plan made without it would silently omit it.
pub async fn observe(
    desired: &DesiredState,
    client: &AzureClient,
    parallelism: usize,
) -> Result<LiveState, ObserveError> {
    // Kinds this version does not manage have no read; the planner lists them as not managed.
    let managed = desired.resources.iter().filter_map(|r| r.spec.as_kind().read_request().map(|request| (r, request)));
    let reads = managed.map(|(resource, request)| async move {
        let result =
            client.read(&request).await.map_err(|source| ObserveError { address: resource.address.clone(), source })?;
        let observation = match result {
            None => Observation::Absent,
            Some(document) => {
                // Trust the id Azure returned (its casing may differ from ours); fall back to
                // ours when a body has none.
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
                Observation::Present(LiveResource { id, document })
            }
        };
        Ok::<_, ObserveError>((resource.address.clone(), observation))
    });
    // `buffered`, not `buffer_unordered`: reads still run concurrently, but results (and so the
    // error reported when several reads fail) come in declaration order, not in finishing order.
    let results: Vec<_> = stream::iter(reads).buffered(parallelism.max(1)).collect().await;
    let mut live = LiveState::new();
    for result in results {
        let (address, observation) = result?;
        live.insert(address, observation);
    }
    Ok(live)
}
