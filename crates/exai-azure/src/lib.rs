//! The one crate that talks to Azure: credentials, the ARM/Graph client, long-running
//! operations, and Azure's errors as typed values.
//!
//! Requests arrive as plain [`ApiRequest`](exai_model::ApiRequest) values built elsewhere; this
//! crate only sends them: through `azure_core`'s pipeline (client request id, user agent), with
//! a bearer token from `azure_identity`, bounded in time and retried only when that is safe
//! ([`network`]: per-attempt timeouts, `Retry-After` honoured, each wait reported), paced by
//! the service's own buckets so that it is not throttled in the first place (`pacing`), then
//! follows ARM's long-running-operation protocol (`Azure-AsyncOperation`, else `Location`,
//! `Retry-After`, terminal `Succeeded | Failed | Canceled`) to the end.
//!
//! # Boundaries
//!
//! - No knowledge of what a request means: bodies, api-versions and paths come from
//!   `exai-model`. What this crate knows is *how Azure answers*: status codes, error bodies,
//!   headers, operation status resources.
//! - Secrets never leave it: tokens and client secrets are held by `azure_identity` types that
//!   do not print them, and no error built here includes a request header or a token response.
//!
//! # Key design decision: one client, two endpoints
//!
//! The client is configured with an [`Endpoints`] value: Azure's public cloud, or an emulator
//! (ARM, Graph and the token endpoint on one local HTTPS origin, with its own CA certificate).
//! Everything else — credentials, pipeline, LRO — is the same code, so the tests that run
//! against the emulator exercise the code that runs against Azure.

mod client;
mod credential;
mod error;
pub mod network;
mod pacing;

pub use client::{Accepted, AzureClient, ClientConfig, Endpoints, Operation, Response};
pub use credential::{CredentialChoice, CredentialKind, choose_credential};
pub use error::{AuthorizationDenial, AzureError, hint_for};
pub use network::{NetworkOptions, Wait, WaitHook};
