//! A local Azure: Azure Resource Manager, Microsoft Graph and the Entra ID token endpoint on one
//! HTTPS origin, with fault injection on demand.
//!
//! # Purpose
//!
//! `exai-emulator` is the substrate of every exai test and the embedded default for a user who
//! tries `exai` without an Azure account. It answers the requests Azure's own clients send
//! (`azure_identity`'s client-secret credential, ARM REST calls, `az rest`, Python SDKs) with the
//! shapes, status codes, headers and error codes Azure uses, so that code which works against the
//! emulator works against Azure.
//!
//! # Boundaries
//!
//! - **It never depends on another exai crate.** It models Azure from Azure's documents (the
//!   REST API specs, their examples, observed error messages), not from our client's reading of
//!   them: if the emulator shared the planner's or the model's interpretation of Azure, a
//!   misreading would be invisible to every test.
//! - **It is stricter than Azure, never looser.** Where Azure's behaviour is unclear the emulator
//!   refuses (unknown body members, unknown regions, malformed GUIDs, a scope list with more than
//!   one scope), so a client that passes here does not fail on Azure for a reason the emulator
//!   waved through.
//! - **HTTPS only.** Azure clients refuse to send bearer tokens over plain HTTP. Each start
//!   generates a certificate authority ("exai emulator CA") and a server certificate for
//!   `127.0.0.1`, `localhost` and `::1`; clients trust [`Emulator::ca_certificate_pem`].
//! - **It never records a secret.** Tokens and client secrets are never logged, recorded in the
//!   request log or written to the state file.
//!
//! # Key design decisions
//!
//! - **One front door, routed by hand.** A single axum handler classifies each request (token
//!   endpoint, ARM, Microsoft Graph under `/v1.0/`, or the emulator's own `/_emulator/` admin
//!   routes), applies any configured fault (`faults`), and routes on
//!   percent-decoded, case-insensitive path segments, because ARM paths are case-insensitive and
//!   every miss must be answered in ARM's own error shape. ARM routing goes through one gate
//!   (token, subscription, `api-version`, then Azure RBAC: `arm::rbac` checks the caller's role
//!   assignments against the built-in roles' real permissions) and then to one module per
//!   provider, each with its own
//!   router: `arm::resource_groups`, `arm::authorization`, and the tracked-resource framework
//!   `arm::resources` (registries, workspaces, data collection rules, clusters) with its
//!   long-running operations in `arm::lro`. Graph lives in `graph`, identities in `auth` and
//!   `jwt` (client assertions, the GitHub-like OIDC issuer).
//! - **Shared vocabulary outside the router.** Handlers import `http` (the request as they see
//!   it, path decoding, response builders) and `context` (the shared state), never `server`,
//!   the front door; ARM providers import `arm::toolkit` and `arm::provider`, Graph handlers
//!   `graph::toolkit`, not their routers; `state` and `directory` hold data and import no handler.
//! - **State keyed like Azure.** Tenants, then subscriptions (the development subscription
//!   from the start, in the development tenant; any other bound to the tenant of the first token
//!   that uses it), then the resources and long-running operations in each. The state
//!   is in memory, optionally persisted to a versioned JSON file written atomically after every
//!   change and locked against a second emulator.
//! - **Time advances lazily.** Long-running operations (resource-group deletes, resource
//!   writes) finish when a request arrives after their configured delay; there is no background
//!   task. Every reading of the time, and every wait (a fault's `latency=` or `hang`), goes
//!   through the emulator's [`Clock`], which a test can make manual
//!   ([`Emulator::start_with_clock`]) and advance instead of sleeping.
//! - **Errors a client causes are HTTP answers, not [`EmulatorError`]s.** The library's error
//!   type covers only what stops the emulator itself: certificates, the listen address, the state
//!   and log files.
//! - **TLS provider.** The server is built with axum-server's `tls-rustls` feature, which selects
//!   rustls' aws-lc-rs provider for the configuration it builds (`builder_with_provider`) rather
//!   than requiring a process-wide default; it defers to a process default only if the host
//!   process installed one. Naming the provider in this crate would need `rustls` as a direct
//!   dependency, which the workspace does not declare.
//!
//! # Example
//!
//! ```no_run
//! # async fn example() -> Result<(), exai_emulator::EmulatorError> {
//! use exai_emulator::{Emulator, EmulatorOptions};
//!
//! let emulator = Emulator::start(EmulatorOptions::default()).await?;
//! println!("ARM and the token endpoint are at {}", emulator.url());
//! println!("trust this CA:\n{}", emulator.ca_certificate_pem());
//! emulator.shutdown().await?;
//! # Ok(())
//! # }
//! ```

mod admin;
mod arm;
mod auth;
mod clock;
mod context;
mod directory;
mod error;
mod faults;
mod graph;
mod http;
mod jwt;
mod log;
mod odata;
mod server;
mod state;
mod tls;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum_server::Handle;
use tokio::task::JoinHandle;
use url::Url;

pub use crate::clock::Clock;
pub use crate::error::EmulatorError;
pub use crate::faults::{FaultRule, FaultSyntaxError};
pub use crate::log::{REDACTED, RecordedRequest, RequestKind};

use crate::context::Shared;

/// The tenant of the development application (any other tenant works too; it is created on first
/// use).
pub const DEV_TENANT_ID: &str = "ee000000-0000-4000-8000-000000000001";

/// The subscription `exai` uses against the emulator by default. It exists from the start, in
/// [`DEV_TENANT_ID`], owned by the development application.
pub const DEV_SUBSCRIPTION_ID: &str = "ee000000-0000-4000-8000-000000000002";

/// The client id of the development application, known in every tenant.
pub const DEV_CLIENT_ID: &str = "ee000000-0000-4000-8000-000000000003";

/// The client secret of the development application. Public on purpose: it protects nothing.
pub const DEV_CLIENT_SECRET: &str = "exai-emulator-development-secret";

/// The address the emulator listens on when none is given: a free port on the IPv4 loopback.
const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

/// How long [`Emulator::shutdown`] lets in-flight requests finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// How to start an emulator.
#[derive(Debug, Clone, Default)]
pub struct EmulatorOptions {
    /// The address to listen on; `127.0.0.1:0` (a free port) when `None`.
    pub listen: Option<SocketAddr>,
    /// A JSON file to load the state from at start and save it to after every change; the
    /// state lives only in memory when `None`.
    pub state_file: Option<PathBuf>,
    /// A file to append every request to, as JSON lines.
    pub request_log_file: Option<PathBuf>,
    /// How long a resource-group delete runs before the group is gone (0 by default).
    pub delete_delay: Duration,
    /// How long a long-running create or update (registry, workspace, cluster) stays
    /// `Creating`/`Updating` before it turns `Succeeded` (0 by default: done at the next poll).
    pub operation_delay: Duration,
    /// Faults to inject from the start (see `docs/emulator.md`); more can be added and removed
    /// through `/_emulator/faults`.
    pub faults: Vec<FaultRule>,
    /// The seed of the draws of faults with a probability, so a run can be reproduced; a random
    /// seed (shown by `GET /_emulator/faults`) when `None`.
    pub fault_seed: Option<u64>,
}

/// A running emulator. It stops when dropped or on [`Emulator::shutdown`].
pub struct Emulator {
    url: Url,
    ca_pem: String,
    shared: Arc<Shared>,
    handle: Handle<SocketAddr>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Emulator").field("url", &self.url.as_str()).finish_non_exhaustive()
    }
}

/// Returns the URL clients use to reach an emulator listening on `address`.
fn url_for(address: SocketAddr) -> Result<Url, EmulatorError> {
    // An emulator listening on every interface is still reached through the loopback.
    let ip = match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let text = format!("https://{}/", SocketAddr::new(ip, address.port()));
    Url::parse(&text).map_err(|error| EmulatorError::Server {
        source: std::io::Error::other(format!("`{text}` is not a valid URL: {error}")),
    })
}

impl Emulator {
    /// Starts an emulator: generates its certificates, loads and locks the state file, opens the
    /// request log file and starts serving HTTPS on the listen address.
    ///
    /// Must be called from within a tokio runtime; the server runs as a task on it.
    pub async fn start(options: EmulatorOptions) -> Result<Emulator, EmulatorError> {
        Self::start_with_clock(options, Clock::system()).await
    }

    /// Starts an emulator, as [`Emulator::start`] does, that lives by `clock`: a test gives it a
    /// [`Clock::manual`] and advances time itself instead of sleeping.
    pub async fn start_with_clock(options: EmulatorOptions, clock: Clock) -> Result<Emulator, EmulatorError> {
        let certificates = tls::generate()?;
        let (state_file, state) = match &options.state_file {
            Some(path) => {
                let (file, mut state) = state::StateFile::open(path)?;
                // State files from before RBAC was enforced have subscriptions nobody owns.
                arm::rbac::adopt_unowned_subscriptions(&mut state, &clock.now_rfc3339());
                (Some(file), state)
            }
            None => (None, state::State::default()),
        };
        let mut state = state;
        arm::subscriptions::ensure_development(&mut state, &clock.now_rfc3339());
        let log = log::RequestLog::open(options.request_log_file.as_deref())?;
        let tls_config = tls::server_config(&certificates).await?;

        let address = options.listen.unwrap_or(DEFAULT_LISTEN);
        let bind_error = |source| EmulatorError::Bind { address, source };
        let listener = std::net::TcpListener::bind(address).map_err(bind_error)?;
        listener.set_nonblocking(true).map_err(bind_error)?;
        let local_address = listener.local_addr().map_err(bind_error)?;
        let url = url_for(local_address)?;

        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            state_file: Mutex::new(state_file),
            tokens: Mutex::new(auth::TokenStore::new(clock.clone())),
            log,
            rate_limits: Mutex::new(arm::toolkit::RateLimits::default()),
            faults: faults::Faults::new(options.faults.clone(), options.fault_seed, clock.clone()),
            delete_delay: options.delete_delay,
            operation_delay: options.operation_delay,
            base_url: url.clone(),
            clock,
        });
        let app = Router::new().fallback(server::dispatch).with_state(Arc::clone(&shared));
        let handle = Handle::new();
        // Connections are tracked under TLS so a `drop` fault can close one (see `faults`).
        let server = axum_server::from_tcp_rustls(listener, tls_config)
            .map_err(bind_error)?
            .map(|tls| tls.acceptor(shared.faults.acceptor()))
            .handle(handle.clone());
        let task = tokio::spawn(server.serve(app.into_make_service_with_connect_info::<SocketAddr>()));
        tracing::info!(%url, "the exai emulator is listening");
        Ok(Emulator { url, ca_pem: certificates.ca_pem, shared, handle, task: Some(task) })
    }

    /// Returns the emulator's base URL, `https://127.0.0.1:PORT/`: the token endpoint is
    /// `{url}{tenant}/oauth2/v2.0/token` and ARM is `{url}subscriptions/...`.
    pub fn url(&self) -> Url {
        self.url.clone()
    }

    /// Returns the PEM certificate of the CA that signed the emulator's server certificate.
    pub fn ca_certificate_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Returns every request answered so far (since the last reset), oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.log.entries()
    }

    /// Saves the state to the state file now (does nothing without a state file).
    pub fn save_state(&self) -> Result<(), EmulatorError> {
        self.shared.save(true)
    }

    /// Stops serving (letting in-flight requests finish), saves the state and releases the
    /// state file.
    pub async fn shutdown(mut self) -> Result<(), EmulatorError> {
        self.handle.graceful_shutdown(Some(SHUTDOWN_GRACE));
        let served = match self.task.take() {
            Some(task) => match task.await {
                Ok(result) => result.map_err(|source| EmulatorError::Server { source }),
                Err(join_error) => Err(EmulatorError::Server { source: std::io::Error::other(join_error) }),
            },
            None => Ok(()),
        };
        let saved = self.shared.close_state_file();
        served.and(saved)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if self.task.is_none() {
            return;
        }
        self.handle.shutdown();
        if let Some(task) = self.task.take() {
            task.abort();
        }
        if let Err(error) = self.shared.close_state_file() {
            tracing::warn!(%error, "could not save the emulator state while stopping");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_reachable_address() -> Result<(), EmulatorError> {
        let url = |text: &str| {
            text.parse::<SocketAddr>()
                .map_err(|error| EmulatorError::Server { source: std::io::Error::other(error) })
                .and_then(url_for)
                .map(|url| url.to_string())
        };
        assert_eq!(url("127.0.0.1:8443")?, "https://127.0.0.1:8443/");
        assert_eq!(url("0.0.0.0:8443")?, "https://127.0.0.1:8443/");
        assert_eq!(url("[::]:8443")?, "https://[::1]:8443/");
        Ok(())
    }
}
