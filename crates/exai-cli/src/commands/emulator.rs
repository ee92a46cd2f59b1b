use crate::error::CliError;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Run the Azure emulator: ARM and the Entra token endpoint over HTTPS on one local address.
///
/// On start it prints its URL, the path of its CA certificate, and the development tenant id,
/// subscription id, client id and client secret, one `name: value` per line. Point exai at it
/// with `--endpoint URL --ca-cert FILE`; Azure SDKs trust it through the certificate (for
/// Python: `REQUESTS_CA_BUNDLE=FILE`). Stops on Ctrl-C, saving its state.
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
}

pub async fn run(args: EmulatorArgs) -> Result<u8, CliError> {
    let options = exai_emulator::EmulatorOptions {
        listen: Some(args.listen),
        state_file: args.state,
        request_log_file: args.request_log,
        ..Default::default()
    };
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
    eprintln!("emulator running; press Ctrl-C to stop");
    tokio::signal::ctrl_c().await.map_err(|e| CliError::new(format!("cannot wait for Ctrl-C: {e}")))?;
    emulator.shutdown().await.map_err(|e| CliError::new(format!("cannot save the emulator's state: {e}")))?;
    eprintln!("emulator stopped");
    Ok(0)
}
