use exai_azure::{Accepted, AzureClient, AzureError, Operation};
use exai_model::ApiRequest;
use serde_json::Value;
use std::sync::Mutex;

/// Something that carries out writes: Azure itself, or a dry run.
///
/// A write is two steps, so an interrupted apply can stop between them: [`Sender::start`] is
/// one round trip, after which Azure has the request; [`Sender::follow`] waits for the
/// long-running operation it may have started.
pub trait Sender: Sync {
    /// Sends a write once and says whether Azure finished it or carries it on.
    fn start(&self, request: &ApiRequest) -> impl std::future::Future<Output = Result<Accepted, AzureError>> + Send;
    /// Follows an operation [`Sender::start`] returned to its end; returns the resulting
    /// object, if any.
    fn follow(
        &self,
        request: &ApiRequest,
        operation: Operation,
    ) -> impl std::future::Future<Output = Result<Option<Value>, AzureError>> + Send;
    /// Reads `read` (a resource's GET) until Azure's operation on it ends; returns the resource
    /// as it ends, or `None` once it no longer exists.
    fn wait_until_settled(
        &self,
        read: &ApiRequest,
    ) -> impl std::future::Future<Output = Result<Option<Value>, AzureError>> + Send;
    /// Sends a write and waits for it to finish; returns the resulting object, if any.
    fn execute(
        &self,
        request: &ApiRequest,
    ) -> impl std::future::Future<Output = Result<Option<Value>, AzureError>> + Send {
        async move {
            match self.start(request).await? {
                Accepted::Done(document) => Ok(document),
                Accepted::Running(operation) => self.follow(request, operation).await,
            }
        }
    }
    /// Returns the URL `request` goes to.
    fn url(&self, request: &ApiRequest) -> String;
    /// Returns true when writes are only recorded.
    fn is_dry_run(&self) -> bool {
        false
    }
}

impl Sender for AzureClient {
    fn start(&self, request: &ApiRequest) -> impl std::future::Future<Output = Result<Accepted, AzureError>> + Send {
        AzureClient::start(self, request)
    }
    fn follow(
        &self,
        request: &ApiRequest,
        operation: Operation,
    ) -> impl std::future::Future<Output = Result<Option<Value>, AzureError>> + Send {
        AzureClient::follow(self, request, operation)
    }
    fn wait_until_settled(
        &self,
        read: &ApiRequest,
    ) -> impl std::future::Future<Output = Result<Option<Value>, AzureError>> + Send {
        AzureClient::wait_until_settled(self, read)
    }
    fn url(&self, request: &ApiRequest) -> String {
        AzureClient::url(self, request)
    }
}

/// A sender that records writes and sends none of them.
pub struct DryRun<'a> {
    client: &'a AzureClient,
    recorded: Mutex<Vec<ApiRequest>>,
}

impl<'a> DryRun<'a> {
    /// Returns a dry run that resolves URLs with `client` but never sends through it.
    pub fn new(client: &'a AzureClient) -> Self {
        Self { client, recorded: Mutex::new(Vec::new()) }
    }

    /// Returns the writes that would have been sent, in order.
    pub fn recorded(&self) -> Vec<ApiRequest> {
        self.recorded.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Sender for DryRun<'_> {
    fn start(&self, request: &ApiRequest) -> impl std::future::Future<Output = Result<Accepted, AzureError>> + Send {
        if let Ok(mut recorded) = self.recorded.lock() {
            recorded.push(request.clone());
        }
        let body = request.body.clone();
        async move { Ok(Accepted::Done(body)) }
    }
    async fn follow(&self, _request: &ApiRequest, operation: Operation) -> Result<Option<Value>, AzureError> {
        // A recorded write is done at once (`start`), so there is nothing to follow: the
        // accepted answer is all there is.
        Ok(operation.accepted.body)
    }
    fn wait_until_settled(
        &self,
        read: &ApiRequest,
    ) -> impl std::future::Future<Output = Result<Option<Value>, AzureError>> + Send {
        // A read, not a write: a dry run may look at what Azure holds now, but does not wait.
        self.client.read(read)
    }
    fn url(&self, request: &ApiRequest) -> String {
        self.client.url(request)
    }
    fn is_dry_run(&self) -> bool {
        true
    }
}
