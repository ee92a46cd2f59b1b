use super::SpecArgs;
use crate::error::CliError;
use crate::exit::ExitStatus;
use std::io::Write;

/// Check the Kubernetes manifests of each environment against the environment, without Azure.
///
/// For each environment with `kubernetes:`, renders its overlay with `kustomize build` (or
/// `kubectl kustomize`) as the deploy does, and checks what the deploy would otherwise find
/// out when a pod fails to start: Secret and ConfigMap keys, images on the environment's
/// registry, namespaces, ingress classes and ClusterIssuers, Service backends and selectors,
/// storage classes (docs/kubernetes.md). Never prints a Secret's values. Exits 1 when a check
/// finds an error, 0 otherwise (warnings are shown).
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    spec: SpecArgs,

    /// Output format: `text` for people, `json` for programs.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

pub fn run(args: CheckArgs) -> Result<ExitStatus, CliError> {
    let file = args.spec.file();
    // No Azure is contacted: the tenant and subscription only have to be well-formed, so an
    // unset variable takes the emulator's development value, silently.
    let env = |name: &str| {
        std::env::var(name).ok().or_else(|| match name {
            "AZURE_TENANT_ID" => Some(exai_emulator::DEV_TENANT_ID.to_owned()),
            "AZURE_SUBSCRIPTION_ID" => Some(exai_emulator::DEV_SUBSCRIPTION_ID.to_owned()),
            _ => None,
        })
    };
    let loaded = exai_session::read_spec(&file, &env)?;
    let only = args.spec.env.as_deref();
    let targets = exai_kube::targets(&loaded.spec, only, &file).map_err(|e| {
        CliError::new(e.to_string())
            .hint("pass one of the declared names to `--env`, or leave it out to check every environment")
    })?;
    if targets.is_empty() {
        let which = only.map_or_else(|| "no environment".to_owned(), |name| format!("environment `{name}`"));
        return Err(CliError::new(format!("{which} of `{}` declares `kubernetes:`: nothing to check", loaded.file))
            .hint("add `kubernetes: { overlay: <dir>, namespace: <name> }` to an environment (docs/kubernetes.md)"));
    }
    let shown = |text: &str| exai_model::escape_shown(text).into_owned();
    let names: Vec<&str> = targets.iter().map(|t| t.environment.as_str()).collect();
    eprintln!("exai check: {} (environments: {})", shown(&loaded.file), shown(&names.join(", ")));
    let checks = exai_kube::check_all(&targets);
    let mut stdout = std::io::stdout().lock();
    let written = match args.format {
        Format::Text => {
            let _ = writeln!(stdout);
            exai_planner::render_checks_text(&checks, &mut stdout, crate::color::stdout_wants_color())
        }
        Format::Json => serde_json::to_writer_pretty(&mut stdout, &serde_json::json!({ "checks": checks }))
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(stdout)),
    };
    written.map_err(|e| CliError::new(format!("cannot write the checks: {e}")))?;
    let failed: Vec<&str> = checks.iter().filter(|c| c.has_errors()).map(|c| c.environment.as_str()).collect();
    if failed.is_empty() {
        return Ok(ExitStatus::Success);
    }
    crate::error::report(
        &CliError::new(format!("the Kubernetes checks of {} found errors", backticked(&failed)))
            .hint("fix each error at the file and line shown; `exai apply` refuses an environment whose checks fail"),
    );
    Ok(ExitStatus::Failure)
}

fn backticked(names: &[&str]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}
