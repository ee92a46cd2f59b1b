//! Where requests go: Azure, the embedded emulator, or an emulator at `--endpoint`.

use crate::error::CliError;
use exai_azure::{
    AzureClient, ClientConfig, CredentialChoice, CredentialKind, Endpoints, NetworkOptions, Wait, choose_credential,
};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Where exai sends requests. Without either flag: Azure, with the first credential found.
#[derive(Debug, clap::Args)]
pub struct TargetArgs {
    /// Use the embedded Azure emulator instead of Azure: no account needed. Its state is kept
    /// in `.exai/emulator/` under the current directory, so plan and apply see the same world.
    #[arg(long, global = true, conflicts_with = "endpoint")]
    pub emulator: bool,

    /// Use an emulator already running at URL (started with `exai emulator`).
    #[arg(long, global = true, value_name = "URL", env = "EXAI_ENDPOINT")]
    pub endpoint: Option<Url>,

    /// The CA certificate (PEM) to trust for `--endpoint`; `exai emulator` prints its path.
    #[arg(long, global = true, value_name = "FILE", env = "EXAI_CA_CERT")]
    pub ca_cert: Option<PathBuf>,

    /// How long one request to Azure (ARM, Graph or the token endpoint) may take, from sending
    /// it to the last byte of the answer, e.g. `30s`, `2m`. Long-running operations are
    /// followed for up to an hour regardless.
    #[arg(long, global = true, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub request_timeout: Duration,

    /// How long a failed request (connection refused or closed, 5xx, no answer) is sent again
    /// before exai gives up, e.g. `15s`, `2m`. Throttling (429) is waited out as Azure asks, up
    /// to 5 minutes per request.
    #[arg(long, global = true, value_name = "DURATION", default_value = "15s", value_parser = parse_duration)]
    pub retry_timeout: Duration,
}

/// Parses `500ms`, `30s`, `2m` or a number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let value: f64 = number.parse().map_err(|_| format!("`{text}` is not a duration such as 30s or 2m"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("`{text}` is not a duration such as 30s or 2m (units: ms, s, m)")),
    };
    let duration = Duration::try_from_secs_f64(seconds).map_err(|_| format!("`{text}` is out of range"))?;
    if duration.is_zero() || duration > Duration::from_secs(3600) {
        return Err(format!("`{text}`: give a duration above 0 and at most 60m"));
    }
    Ok(duration)
}

impl TargetArgs {
    pub fn uses_emulator(&self) -> bool {
        self.emulator || self.endpoint.is_some()
    }

    /// Returns the network options these flags ask for; every wait is printed on stderr, so
    /// plan and apply both say when Azure throttles or a connection is retried.
    fn network(&self, ca_origin: Option<String>) -> NetworkOptions {
        let print: Arc<dyn Fn(&Wait) + Send + Sync> = Arc::new(|wait: &Wait| eprintln!("waiting: {wait}"));
        NetworkOptions {
            connect_timeout: self.request_timeout.min(Duration::from_secs(10)),
            request_timeout: self.request_timeout,
            retry_timeout: self.retry_timeout,
            ca_origin,
            on_wait: Some(print),
        }
    }
}

/// A connected client, and the embedded emulator behind it when there is one.
pub struct Connection {
    pub client: AzureClient,
    /// Where requests go, for the header of each command's output.
    pub target: String,
    emulator: Option<exai_emulator::Emulator>,
}

/// The directory of the embedded emulator's state.
pub const EMULATOR_DIR: &str = ".exai/emulator";

/// How long exai follows one long-running operation (an AKS cluster takes 5 to 15 minutes).
const OPERATION_TIMEOUT: Duration = Duration::from_secs(60 * 60);

fn emulator_credential() -> CredentialChoice {
    CredentialChoice::client_secret(
        exai_emulator::DEV_CLIENT_ID,
        exai_emulator::DEV_CLIENT_SECRET,
        "the emulator's development application",
    )
}

/// Connects to the target for tenant `tenant`.
pub async fn connect(target: &TargetArgs, tenant: &str) -> Result<Connection, CliError> {
    let env = |name: &str| std::env::var(name).ok();
    if target.emulator {
        let dir = PathBuf::from(EMULATOR_DIR);
        std::fs::create_dir_all(&dir)
            .map_err(|e| CliError::new(format!("cannot create `{}` for the emulator's state: {e}", dir.display())))?;
        let options = exai_emulator::EmulatorOptions {
            state_file: Some(dir.join("state.json")),
            request_log_file: Some(dir.join("requests.jsonl")),
            ..Default::default()
        };
        let emulator = exai_emulator::Emulator::start(options)
            .await
            .map_err(|e| CliError::new(format!("cannot start the embedded emulator: {e}")))?;
        let config = ClientConfig {
            endpoints: Endpoints::emulator(&emulator.url()),
            tenant: tenant.to_owned(),
            credential: emulator_credential(),
            extra_ca_pem: Some(emulator.ca_certificate_pem().to_owned()),
            operation_timeout: OPERATION_TIMEOUT,
            network: target.network(Some("the embedded emulator's CA".to_owned())),
        };
        let client = AzureClient::new(config)?;
        let target = format!("embedded emulator (state in {}/state.json)", dir.display());
        return Ok(Connection { client, target, emulator: Some(emulator) });
    }
    if let Some(url) = &target.endpoint {
        let extra_ca_pem = match &target.ca_cert {
            Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
                CliError::new(format!("cannot read the CA certificate `{}`: {e}", path.display()))
                    .hint("`exai emulator` prints the path of its certificate on its `ca-certificate:` line")
            })?),
            None => None,
        };
        let ca_origin = target.ca_cert.as_ref().map(|path| format!("`{}` (--ca-cert)", path.display()));
        // An emulator knows its development application; a client id in the environment (a
        // secret, a GitHub OIDC token, a federated token file) is used when there is one, so the
        // same logins can be tested against the emulator.
        let credential = match choose_credential(&env) {
            Ok(choice) if choice.kind != CredentialKind::AzureCli => choice,
            _ => emulator_credential(),
        };
        let config = ClientConfig {
            endpoints: Endpoints::emulator(url),
            tenant: tenant.to_owned(),
            credential,
            extra_ca_pem,
            operation_timeout: OPERATION_TIMEOUT,
            network: target.network(ca_origin),
        };
        let client = AzureClient::new(config)?;
        return Ok(Connection { client, target: format!("emulator at {url}"), emulator: None });
    }
    let credential = choose_credential(&env)?;
    let config = ClientConfig {
        endpoints: Endpoints::azure_public(),
        tenant: tenant.to_owned(),
        credential,
        extra_ca_pem: None,
        operation_timeout: OPERATION_TIMEOUT,
        network: target.network(None),
    };
    let client = AzureClient::new(config)?;
    Ok(Connection { client, target: format!("Azure (tenant {tenant})"), emulator: None })
}

impl Connection {
    /// Stops the embedded emulator, saving its state.
    pub async fn close(self) -> Result<(), CliError> {
        if let Some(emulator) = self.emulator {
            emulator
                .shutdown()
                .await
                .map_err(|e| CliError::new(format!("cannot save the embedded emulator's state: {e}")))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations_take_ms_s_and_m_and_refuse_zero_and_nonsense() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("2h").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("61m").is_err());
    }
}
