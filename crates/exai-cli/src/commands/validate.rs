use super::SpecArgs;
use crate::connect::TargetArgs;
use crate::error::CliError;
use crate::load::load;

/// Check a spec without contacting Azure, and show what each environment becomes.
///
/// Every problem is reported at once, with its file:line:column. Exits 0 when the spec is
/// valid, 1 otherwise.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    spec: SpecArgs,
}

pub fn run(args: ValidateArgs, target: &TargetArgs) -> Result<u8, CliError> {
    let loaded = load(&args.spec.file, target.uses_emulator())?;
    let desired = loaded.spec.desired_state(args.spec.env.as_deref()).map_err(|e| CliError::new(e.to_string()))?;
    let environments = loaded.spec.select(args.spec.env.as_deref()).unwrap_or_default();
    println!(
        "{} is valid: {} environment{}, {} resource{}",
        loaded.file,
        environments.len(),
        if environments.len() == 1 { "" } else { "s" },
        desired.resources.len(),
        if desired.resources.len() == 1 { "" } else { "s" }
    );
    for env in environments {
        println!("\n{}", env.name);
        for resource in desired.resources.iter().filter(|r| r.address.environment() == env.name) {
            println!("  {}  {}", resource.address, resource.spec.kind().azure_type());
            println!("      id: {}", resource.spec.id());
            if !resource.depends_on.is_empty() {
                let deps: Vec<String> = resource.depends_on.iter().map(ToString::to_string).collect();
                println!("      after: {}", deps.join(", "));
            }
        }
    }
    Ok(0)
}
