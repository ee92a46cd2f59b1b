use crate::error::CliError;
use crate::exit::ExitStatus;
use exai_emulator::FaultRule;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Run the Azure emulator: ARM, Microsoft Graph and the Entra token endpoint over HTTPS on one
/// local address.
///
/// On start it prints its URL, the path of its CA certificate, and the development tenant id,
/// subscription id, client id and client secret, one `name: value` per line. Point exai at it
/// with `--endpoint URL --ca-cert FILE`; Azure SDKs trust it through the certificate (for
/// Python: `REQUESTS_CA_BUNDLE=FILE`). Stops on Ctrl-C, saving its state.
///
/// Faults (`--fault`, repeatable; also `GET/POST/DELETE /_emulator/faults` while it runs) are
/// `METHOD PATH [ACTION] [OPTION=VALUE]...`: METHOD is `*` or `GET,PUT,...`; PATH is `*` or a
/// case-insensitive glob (`*` within a segment, `**` across); ACTION is `403`, `429`, `500`, `502`,
/// `503`, `504`, `drop` (close the connection unanswered), `drop-answer` (handle the request,
/// then close the connection: the write is made, its answer lost), `hang` (never answer),
/// `throttle` (ARM's token buckets) or `lro-failed` (the long-running operation ends `Failed`);
/// options are `latency=200ms`, `times=N`, `p=0.2`, `retry-after=N`, `code=X`, `message="..."`,
/// `body=html` (a proxy's HTML page instead of the API's JSON), and for `throttle`
/// `reads=250 read-rate=25 writes=200 write-rate=10 deletes=200 delete-rate=10`. Examples:
/// `--fault 'PUT /subscriptions/*/resourcegroups/* 500 times=1'`, `--fault '* * 429 p=0.2'`,
/// `--fault 'GET * latency=200ms'`, `--fault '* /subscriptions/** throttle'`.
#[derive(Debug, clap::Args)]
pub struct EmulatorArgs {
    /// The address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8443")]
    listen: SocketAddr,

    /// Keep state in this JSON file (loaded at start, saved after every write); in memory only
    /// when absent.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,

    /// Append every request, as a JSON line, to this file.
    #[arg(long, value_name = "FILE")]
    request_log: Option<PathBuf>,

    /// Where to write the CA certificate (PEM) clients must trust.
    #[arg(long, value_name = "FILE", default_value = ".exai/emulator-ca.pem")]
    ca_cert_out: PathBuf,

    /// Inject a fault: `METHOD PATH [ACTION] [OPTION=VALUE]...` (see above); repeat for more.
    /// Rules are tried in order; `/_emulator/` routes are never faulted.
    #[arg(long = "fault", value_name = "RULE")]
    faults: Vec<FaultRule>,

    /// Seed the random draws of faults given a probability (`p=`), so a run can be reproduced;
    /// random (and printed) when absent.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,

    /// How long a long-running create or update stays `Creating`/`Updating` before it
    /// succeeds, e.g. `500ms` or `5s`.
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
    operation_delay: Duration,

    /// How long a resource-group delete runs before the group is gone, e.g. `500ms` or `5s`.
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
    delete_delay: Duration,
}

/// Parses `500ms`, `5s` or `1.5s` (at most an hour).
fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, scale) = match text.strip_suffix("ms") {
        Some(number) => (number, 0.001),
        None => match text.strip_suffix('s') {
            Some(number) => (number, 1.0),
            None => return Err(format!("`{text}` has no unit: write it as `500ms` or `5s`")),
        },
    };
    number
        .parse::<f64>()
        .ok()
        .filter(|value| value.is_finite() && *value >= 0.0 && value * scale <= 3600.0)
        .and_then(|value| Duration::try_from_secs_f64(value * scale).ok())
        .ok_or_else(|| format!("`{text}` is not a duration between 0s and 3600s, such as `500ms` or `5s`"))
}

pub async fn run(args: EmulatorArgs) -> Result<ExitStatus, CliError> {
    let options = exai_emulator::EmulatorOptions {
        listen: Some(args.listen),
        state_file: args.state,
        request_log_file: args.request_log,
        delete_delay: args.delete_delay,
        operation_delay: args.operation_delay,
        faults: args.faults.clone(),
        // Chosen here rather than by the emulator so it can be printed for a rerun.
        fault_seed: Some(args.seed.unwrap_or_else(clock_seed)),
    };
    let seed = options.fault_seed.unwrap_or_default();
    let emulator = exai_emulator::Emulator::start(options)
        .await
        .map_err(|e| CliError::new(format!("cannot start the emulator: {e}")))?;
    if let Some(dir) = args.ca_cert_out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| CliError::new(format!("cannot create `{}`: {e}", dir.display())))?;
    }
    std::fs::write(&args.ca_cert_out, emulator.ca_certificate_pem()).map_err(|e| {
        CliError::new(format!("cannot write the CA certificate to `{}`: {e}", args.ca_cert_out.display()))
    })?;
    let cert_path = std::fs::canonicalize(&args.ca_cert_out).unwrap_or(args.ca_cert_out);
    println!("url: {}", emulator.url());
    println!("ca-certificate: {}", cert_path.display());
    println!("tenant-id: {}", exai_emulator::DEV_TENANT_ID);
    println!("subscription-id: {}", exai_emulator::DEV_SUBSCRIPTION_ID);
    println!("client-id: {}", exai_emulator::DEV_CLIENT_ID);
    println!("client-secret: {}", exai_emulator::DEV_CLIENT_SECRET);
    for (index, rule) in args.faults.iter().enumerate() {
        eprintln!("fault #{}: {rule}", index + 1);
    }
    if !args.faults.is_empty() {
        eprintln!("fault seed: {seed} (rerun with --seed {seed} for the same draws)");
    }
    eprintln!("emulator running; press Ctrl-C to stop");
    tokio::signal::ctrl_c().await.map_err(|e| CliError::new(format!("cannot wait for Ctrl-C: {e}")))?;
    emulator.shutdown().await.map_err(|e| CliError::new(format!("cannot save the emulator's state: {e}")))?;
    eprintln!("emulator stopped");
    Ok(ExitStatus::Success)
}

/// A seed from the clock, for runs without `--seed`.
fn clock_seed() -> u64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    now.as_secs().wrapping_mul(1_000_000_007) ^ u64::from(now.subsec_nanos())
}
