use exai_azure::{AzureClient, AzureError};
use exai_model::ApiRequest;
use serde_json::Value;
use std::sync::Mutex;

/// Something that carries out writes: Azure itself, or a dry run.
pub trait Sender: Sync {
    /// Sends a write and waits for it to finish; returns the resulting object, if any.
    fn execute(
        &self,
        request: &ApiRequest,
    ) -> impl std::future::Future<Output = Result<Option<Value>, AzureError>> + Send;
    /// Returns the URL `request` goes to.
    fn url(&self, request: &ApiRequest) -> String;
    /// Returns true when writes are only recorded.
    fn is_dry_run(&self) -> bool {
        false
    }
}

impl Sender for AzureClient {
    fn execute(
        &self,
        request: &ApiRequest,
    ) -> impl std::future::Future<Output = Result<Option<Value>, AzureError>> + Send {
        AzureClient::execute(self, request)
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
    fn execute(
        &self,
        request: &ApiRequest,
    ) -> impl std::future::Future<Output = Result<Option<Value>, AzureError>> + Send {
        if let Ok(mut recorded) = self.recorded.lock() {
            recorded.push(request.clone());
        }
        let body = request.body.clone();
        async move { Ok(body) }
    }
    fn url(&self, request: &ApiRequest) -> String {
        self.client.url(request)
    }
    fn is_dry_run(&self) -> bool {
        true
    }
}
