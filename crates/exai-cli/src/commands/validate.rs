use super::SpecArgs;
use crate::connect::TargetArgs;
use crate::error::CliError;
use crate::exit::ExitStatus;
use crate::load::{load, print_warnings};

/// Check a spec without contacting Azure, and show what each environment becomes.
///
/// Every problem is reported at once, with its file:line:column. For a valid spec, prints each
/// resource's address, Azure type, id (or how it becomes known) and what it depends on. Exits 0
/// when the spec is valid (warnings included), 1 otherwise.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    spec: SpecArgs,
}

pub fn run(args: ValidateArgs, target: &TargetArgs) -> Result<ExitStatus, CliError> {
    let loaded = load(&args.spec.file(), target.uses_emulator())?;
    let desired = loaded.spec.desired_state(args.spec.env.as_deref()).map_err(|e| CliError::new(e.to_string()))?;
    let environments = loaded.spec.select(args.spec.env.as_deref()).unwrap_or_default();
    // Checking a spec is when its advice is due: every warning of the selected environments.
    print_warnings(&loaded, &loaded.spec.warnings_for(args.spec.env.as_deref()));
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    println!(
        "{} is valid: {} environment{}, {} resource{}",
        loaded.file,
        environments.len(),
        plural(environments.len()),
        desired.resources.len(),
        plural(desired.resources.len())
    );
    let name = &loaded.spec.name;
    println!("spec: {} (its id in ownership marks, from {})", name.id, name.origin);
    // Each environment's resources, in one pass: filtering them all for each environment made
    // validation quadratic in the number of environments.
    let mut by_environment: std::collections::HashMap<&str, Vec<&exai_model::DesiredResource>> =
        std::collections::HashMap::new();
    for resource in &desired.resources {
        by_environment.entry(resource.address.environment()).or_default().push(resource);
    }
    for env in environments {
        println!("\n{} (subscription {})", env.name, env.subscription);
        for resource in by_environment.get(env.name.as_str()).into_iter().flatten() {
            let kind = resource.spec.as_kind();
            println!("  {}  {}", resource.address, kind.azure_type());
            match (resource.spec.id(), resource.spec.id_note()) {
                (Some(id), _) => println!("      id: {id}"),
                (None, Some(note)) => println!("      id: ({note})"),
                (None, None) => {}
            }
            for (field, note) in kind.unknown_values(exai_model::Known::nothing()) {
                println!("      {field}: ({note})");
            }
            if !resource.depends_on.is_empty() {
                let deps: Vec<String> = resource.depends_on.iter().map(ToString::to_string).collect();
                println!("      after: {}", deps.join(", "));
            }
            if resource.protect {
                println!("      protected: never deleted or replaced, even after its block is removed");
            }
            if resource.spec.as_reference().is_some() {
                println!("      referenced: not managed by exai, read and never written or deleted");
            }
        }
    }
    Ok(ExitStatus::Success)
}
