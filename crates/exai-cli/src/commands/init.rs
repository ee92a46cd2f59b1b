use crate::connect::{TargetArgs, connect};
use crate::error::CliError;
use crate::exit::ExitStatus;
use exai_session::from_azure::{self, FromAzureError, Source};
use std::path::PathBuf;

/// Write an exai.yaml from what a resource group already holds (adopt what `az` built).
///
/// Reads the group, its registry and AKS cluster (node pools, identity, monitoring add-on and
/// its workspace, the kubelet identity's AcrPull), and with `--deployer` the application GitHub
/// Actions deploys with (its service principal, role assignment and federated credentials).
/// Writes a spec whose first `exai plan` only adds exai's ownership marks, plus the cluster's
/// live SSH public key beside it. Reads only; secrets are never read. Refuses to replace an
/// existing file without `--force`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Read the spec from live Azure (the only source `init` has).
    #[arg(long, required = true)]
    from_azure: bool,

    /// The resource group to describe.
    #[arg(long, short = 'g', value_name = "NAME")]
    resource_group: String,

    /// The group's subscription [default: $AZURE_SUBSCRIPTION_ID].
    #[arg(long, value_name = "ID")]
    subscription: Option<String>,

    /// The tenant [default: $AZURE_TENANT_ID].
    #[arg(long, value_name = "ID")]
    tenant: Option<String>,

    /// The display name of the application GitHub Actions deploys with (`az ad sp
    /// create-for-rbac --name`).
    #[arg(long, value_name = "NAME")]
    deployer: Option<String>,

    /// The cluster to describe, when the group holds several.
    #[arg(long, value_name = "NAME")]
    cluster: Option<String>,

    /// The registry to describe, when the group holds several.
    #[arg(long, value_name = "NAME")]
    registry: Option<String>,

    /// The environment's name [default: from the group's, `exai-perso-rg` → `perso`].
    #[arg(long = "env", value_name = "NAME")]
    env: Option<String>,

    /// Where to write the spec.
    #[arg(short = 'o', long = "output", value_name = "FILE", default_value = "exai.yaml")]
    output: PathBuf,

    /// Replace the spec (and the SSH key file) if they exist.
    #[arg(long)]
    force: bool,
}

/// Returns `flag`'s value, else the variable `name`, else (against an emulator) the emulator's
/// development value, with a note; else an error naming both.
fn resolve(flag: Option<String>, name: &str, flag_name: &str, fallback: Option<&str>) -> Result<String, CliError> {
    if let Some(value) = flag.or_else(|| std::env::var(name).ok()).filter(|v| !v.is_empty()) {
        return Ok(value);
    }
    match fallback {
        Some(value) => {
            eprintln!("note: {name} is not set; using the emulator's development value {value}");
            Ok(value.to_owned())
        }
        None => Err(CliError::new(format!("no {} given", flag_name.trim_start_matches('-')))
            .hint(format!("pass `{flag_name} ID` or set `{name}`"))),
    }
}

impl From<FromAzureError> for CliError {
    fn from(e: FromAzureError) -> Self {
        let error = Self::new(e.to_string());
        match e.hint() {
            Some(hint) => error.hint(hint),
            None => error,
        }
    }
}

pub async fn run(args: InitArgs, target: &TargetArgs) -> Result<ExitStatus, CliError> {
    let emulator = target.uses_emulator();
    let tenant = resolve(args.tenant, "AZURE_TENANT_ID", "--tenant", emulator.then_some(exai_emulator::DEV_TENANT_ID))?;
    let subscription = resolve(
        args.subscription,
        "AZURE_SUBSCRIPTION_ID",
        "--subscription",
        emulator.then_some(exai_emulator::DEV_SUBSCRIPTION_ID),
    )?;
    // Nothing is read before the files are known to be writable: a refusal costs no request.
    let spec_path = args.output;
    if !args.force && spec_path.exists() {
        return Err(FromAzureError::Exists { path: spec_path.display().to_string() }.into());
    }
    let shown = |text: &str| exai_model::escape_shown(text).into_owned();
    eprintln!("exai init: resource group `{}` in subscription {}", shown(&args.resource_group), shown(&subscription));
    let connection = connect(target, &tenant).await?;
    eprintln!("target: {}", shown(&connection.target));
    eprintln!("credential: {}", shown(connection.client.credential_description()));
    let source = Source {
        tenant,
        subscription,
        resource_group: args.resource_group,
        deployer: args.deployer,
        cluster: args.cluster,
        registry: args.registry,
        environment: args.env,
    };
    let found = from_azure::read(&connection.client, source).await.map_err(CliError::from);
    let found = super::close(connection, found).await?;
    let written = from_azure::spec_text(&found)?;
    let paths = from_azure::write_files(&spec_path, &written, args.force)?;
    println!("environment `{}`:", written.environment);
    for line in &written.summary {
        println!("  {}", shown(line));
    }
    for path in &paths {
        println!("wrote {}", shown(&path.display().to_string()));
    }
    println!(
        "next: review {}, then `exai plan -f {}`: it should only add exai's ownership marks",
        shown(&spec_path.display().to_string()),
        shown(&spec_path.display().to_string())
    );
    Ok(ExitStatus::Success)
}
