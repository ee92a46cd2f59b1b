//! The spec's text from what [`super::read`] found: pure, so each choice is tested from
//! documents.

use super::{Found, FoundCluster, FoundDeployer, FromAzureError};
use exai_model::Location;
use exai_model::kinds::{GITHUB_ISSUER, built_in_role_name, github_subjects};
use serde_json::Value;
use std::fmt::Write as _;

/// The files `init` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The environment's name in the spec.
    pub environment: String,
    /// The spec's text.
    pub spec: String,
    /// Other files, by name, written beside the spec (the cluster's SSH public key).
    pub files: Vec<(String, String)>,
    /// What the spec describes, one line each, for the command's summary.
    pub summary: Vec<String>,
}

/// Lines of YAML with their indentation.
struct Yaml(String);

impl Yaml {
    fn line(&mut self, depth: usize, text: &str) {
        let _ = writeln!(self.0, "{:indent$}{text}", "", indent = depth * 2);
    }
    fn comment(&mut self, depth: usize, text: &str) {
        for line in text.lines() {
            self.line(depth, &if line.is_empty() { "#".to_owned() } else { format!("# {line}") });
        }
    }
}

/// Returns `text` as a YAML scalar that reads back as exactly `text`: plain when that is
/// unambiguous, else double-quoted (JSON's escapes are YAML's). `${` is doubled, so the spec's
/// interpolation reads it literally.
fn scalar(text: &str) -> String {
    let text = text.replace("${", "$${");
    let plain = !text.is_empty()
        && text.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '/')
        && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | '@'))
        && text.parse::<f64>().is_err()
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "~"
        );
    if plain { text } else { serde_json::to_string(&text).unwrap_or_default() }
}

fn text<'a>(document: &'a Value, pointer: &str) -> Option<&'a str> {
    document.pointer(pointer).and_then(Value::as_str)
}

/// A resource's tags, without exai's mark (the spec may not set it).
fn tags(document: &Value) -> Vec<(String, String)> {
    let Some(map) = document.get("tags").and_then(Value::as_object) else { return Vec::new() };
    let mut tags: Vec<(String, String)> = map
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case(exai_model::OWNER_TAG))
        .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
        .collect();
    tags.sort();
    tags
}

fn write_tags(yaml: &mut Yaml, depth: usize, document: &Value) {
    let tags = tags(document);
    if tags.is_empty() {
        return;
    }
    yaml.line(depth, "tags:");
    for (k, v) in tags {
        yaml.line(depth + 1, &format!("{}: {}", scalar(&k), scalar(&v)));
    }
}

/// Writes `location:` when the object is not in the environment's region.
fn write_location(yaml: &mut Yaml, depth: usize, document: &Value, environment: &Location) {
    if let Some(location) = text(document, "/location").map(Location::from_azure)
        && &location != environment
    {
        yaml.line(depth, &format!("location: {}", scalar(location.as_str())));
    }
}

/// Returns the first ownership mark on the group, registry or cluster: an environment exai
/// already manages keeps its spec's id and environment name, so its marks still match.
fn existing_mark(found: &Found) -> Option<exai_model::Mark> {
    let documents = [Some(&found.group), found.registry.as_ref(), found.cluster.as_ref().map(|c| &c.document)];
    documents.into_iter().flatten().find_map(|document| {
        let tags = document.get("tags")?.as_object()?;
        let (_, value) = tags.iter().find(|(k, _)| k.eq_ignore_ascii_case(exai_model::OWNER_TAG))?;
        exai_model::Mark::from_tag_value(value.as_str()?)
    })
}

/// Returns the environment's name: the one given, else the one in an existing mark, else the
/// group's with `-rg` and a leading project prefix taken off (`exai-perso-rg` → `perso`).
fn environment_name(found: &Found) -> Result<String, FromAzureError> {
    let marked = existing_mark(found)
        .map(|mark| mark.address.environment().to_owned())
        .filter(|name| exai_spec::rules::environment_name(name).is_ok());
    let name = match (found.source.environment.clone(), marked) {
        (Some(name), _) | (None, Some(name)) => name,
        (None, None) => {
            let group = found.source.resource_group.to_ascii_lowercase();
            let stem = group.strip_suffix("-rg").or_else(|| group.strip_suffix("_rg")).unwrap_or(&group);
            let last = stem.rsplit(['-', '_', '.']).find(|part| !part.is_empty()).unwrap_or(stem);
            let name: String = last.chars().filter(|c| c.is_ascii_alphanumeric()).take(32).collect();
            if exai_spec::rules::environment_name(&name).is_ok() { name } else { "main".to_owned() }
        }
    };
    exai_spec::rules::environment_name(&name).map_err(|_| FromAzureError::EnvironmentName { name: name.clone() })?;
    Ok(name)
}

/// Returns the spec's text for `found` (validated by `exai-spec` before it is returned).
pub fn spec_text(found: &Found) -> Result<Written, FromAzureError> {
    let environment = environment_name(found)?;
    let source = &found.source;
    let group = &found.group;
    let location = Location::from_azure(text(group, "/location").unwrap_or_default());
    let mut yaml = Yaml(String::new());
    let mut files = Vec::new();
    let mut summary = vec![format!("resource group `{}` ({})", source.resource_group, location.as_str())];

    yaml.comment(
        0,
        &format!(
            "Written by `exai init --from-azure` from what Azure holds in resource group
`{group}`, subscription {sub}.
Each value is the live one; the comments say where it was read. Review it, then run
`exai plan`: it should only add exai's ownership marks.

Adoption: an object with no ownership mark (what `az` built) is adopted by the first
`exai apply`, which writes the mark — the `exai-owner` tag, or `exai-owner:...` in a Graph
object's tags or a role assignment's description — and changes nothing else. From then on
exai owns it: it may change it to match this file, and deletes it only with
`--allow-delete` once its block is removed. `protect: true` on a block forbids that for good.",
            group = source.resource_group,
            sub = source.subscription,
        ),
    );
    if !found.left_out.is_empty() {
        yaml.comment(0, "\nAlso in the group, not described here (exai leaves them alone):");
        for item in &found.left_out {
            yaml.comment(0, &format!("  - {item}"));
        }
    }
    yaml.line(0, "version: 1");
    match existing_mark(found).and_then(|mark| mark.spec) {
        Some(id) => {
            yaml.comment(0, "The spec's id, from the ownership marks already on these objects: keep it.");
            yaml.line(0, &format!("name: {}", scalar(&id)));
        }
        None => {
            yaml.comment(
                0,
                "The spec's id in the marks `exai apply` writes: keep it when renaming the file or repository.",
            );
            yaml.line(0, &format!("name: {}", scalar(&environment)));
        }
    }
    yaml.line(0, "azure:");
    yaml.line(1, &format!("tenant: {}", scalar(&source.tenant)));
    yaml.line(1, &format!("subscription: {}", scalar(&source.subscription)));
    yaml.line(0, "environments:");
    yaml.line(1, &format!("{environment}:"));
    yaml.line(2, &format!("location: {}   # the group's region", scalar(location.as_str())));
    yaml.line(2, "resourceGroup:");
    yaml.line(3, &format!("name: {}", scalar(&source.resource_group)));
    write_tags(&mut yaml, 3, group);

    if let Some(registry) = &found.registry {
        let name = text(registry, "/name").unwrap_or_default();
        summary.push(format!("registry `{name}`"));
        yaml.line(2, "registry:");
        yaml.comment(3, &format!("registry `{name}` ({})", text(registry, "/properties/loginServer").unwrap_or(name)));
        yaml.line(3, &format!("name: {}", scalar(name)));
        if let Some(sku) = text(registry, "/sku/name") {
            yaml.line(3, &format!("sku: {}", scalar(sku)));
        }
        if registry.pointer("/properties/adminUserEnabled").and_then(Value::as_bool) == Some(true) {
            yaml.line(3, "adminUserEnabled: true   # as live; `false` would turn the admin user off");
        }
        write_location(&mut yaml, 3, registry, &location);
        write_tags(&mut yaml, 3, registry);
    }

    if let (None, Some(id)) = (&found.registry, &found.registry_reference) {
        let name = id.rsplit('/').next().unwrap_or_default();
        summary.push(format!("registry `{name}` (referenced: outside the group)"));
        yaml.line(2, "registry:");
        yaml.comment(
            3,
            "the registry the cluster pulls from (its kubelet identity has AcrPull on it), outside
this group: exai uses it by id and never writes or deletes it.",
        );
        yaml.line(3, &format!("id: {}", scalar(id)));
    }
    if let Some(cluster) = &found.cluster {
        write_monitoring(&mut yaml, found, cluster, &location, &mut summary);
        write_cluster(&mut yaml, cluster, &location, &mut files, &mut summary);
    }
    if let Some(deployer) = &found.deployer {
        write_deployer(&mut yaml, found, deployer, &mut summary);
    } else {
        yaml.comment(
            2,
            "No `--deployer` was given: the identity GitHub Actions deploys with is not described.
Run `exai init --from-azure --deployer NAME` to add it.",
        );
    }

    let text = yaml.0;
    // What `init` writes must validate; `${...}` never appears unescaped, so no variable is read.
    exai_spec::parse("exai.yaml", &text, &|_| None).map_err(|error| FromAzureError::Invalid {
        message: error.diagnostics.iter().map(|d| d.message.clone()).collect::<Vec<_>>().join("; "),
    })?;
    Ok(Written { environment, spec: text, files, summary })
}

fn write_monitoring(
    yaml: &mut Yaml,
    found: &Found,
    cluster: &FoundCluster,
    location: &Location,
    summary: &mut Vec<String>,
) {
    let (Some(workspace), Some(id)) = (&cluster.workspace, &cluster.workspace_id) else {
        if let Some(id) = &cluster.workspace_id {
            yaml.comment(
                2,
                &format!(
                    "The monitoring add-on sends to `{id}`, which does not exist any more:
no `monitoring` here, so the plan turns the add-on off. Declare a workspace to keep it on."
                ),
            );
        }
        return;
    };
    let name = text(workspace, "/name").unwrap_or_default();
    let group_of =
        exai_model::ResourceId::parse(id).ok().and_then(|id| id.segment_after("resourceGroups").map(str::to_owned));
    let in_group = group_of.as_deref().is_some_and(|g| g.eq_ignore_ascii_case(&found.source.resource_group));
    yaml.line(2, "monitoring:");
    if in_group {
        summary.push(format!("workspace `{name}` (owned)"));
        yaml.comment(
            3,
            &format!("the workspace the cluster's monitoring add-on sends to, in `{}`", found.source.resource_group),
        );
        yaml.line(3, &format!("workspace: {}", scalar(name)));
        if let Some(sku) = text(workspace, "/properties/sku/name")
            && ["PerGB2018", "CapacityReservation"].iter().any(|s| s.eq_ignore_ascii_case(sku))
        {
            yaml.line(3, &format!("sku: {}", scalar(sku)));
        }
        if let Some(days) = workspace.pointer("/properties/retentionInDays").and_then(Value::as_u64)
            && (30..=730).contains(&days)
        {
            yaml.line(3, &format!("retentionDays: {days}"));
        }
        write_location(yaml, 3, workspace, location);
        write_tags(yaml, 3, workspace);
    } else {
        summary.push(format!("workspace `{name}` (referenced: in `{}`)", group_of.as_deref().unwrap_or("?")));
        yaml.comment(
            3,
            &format!(
                "the workspace the cluster's monitoring add-on sends to, outside this group (in `{}`):
`az aks create --enable-addons monitoring` made it for the whole region. exai uses it by
id and never writes or deletes it (the plan shows it as `read`).",
                group_of.as_deref().unwrap_or("?")
            ),
        );
        yaml.line(3, "workspace:");
        yaml.line(4, &format!("id: {}", scalar(id)));
    }
}

fn write_cluster(
    yaml: &mut Yaml,
    cluster: &FoundCluster,
    location: &Location,
    files: &mut Vec<(String, String)>,
    summary: &mut Vec<String>,
) {
    let document = &cluster.document;
    let name = text(document, "/name").unwrap_or_default();
    summary.push(format!("cluster `{name}`"));
    yaml.line(2, "cluster:");
    yaml.line(3, &format!("name: {}", scalar(name)));
    if let Some(version) = text(document, "/properties/currentKubernetesVersion")
        .or_else(|| text(document, "/properties/kubernetesVersion"))
    {
        yaml.comment(
            3,
            &format!(
                "kubernetesVersion: {version}   (live; not pinned, so exai leaves upgrades to you and AKS.
Uncomment to pin it: a later change of this line upgrades the cluster.)"
            ),
        );
    }
    if let Some(prefix) = text(document, "/properties/dnsPrefix") {
        yaml.line(
            3,
            &format!("dnsPrefix: {}   # the live one (`az aks create` derives it); cannot change", scalar(prefix)),
        );
    }
    match text(document, "/identity/type") {
        Some(kind) if kind.eq_ignore_ascii_case("SystemAssigned") => {
            yaml.line(3, "identity: SystemAssigned   # --enable-managed-identity");
        }
        Some(kind) => yaml.comment(3, &format!("identity: the live cluster's is `{kind}`, which exai does not manage")),
        None => {}
    }
    yaml.line(3, "nodePools:");
    let pools =
        document.pointer("/properties/agentPoolProfiles").and_then(Value::as_array).cloned().unwrap_or_default();
    for (index, pool) in pools.iter().enumerate() {
        let pool_name = text(pool, "/name").unwrap_or_default();
        yaml.line(4, &format!("- name: {}", scalar(pool_name)));
        let mode = text(pool, "/mode").unwrap_or(if index == 0 { "System" } else { "User" });
        yaml.line(5, &format!("mode: {}", scalar(mode)));
        if let Some(size) = text(pool, "/vmSize") {
            yaml.line(5, &format!("vmSize: {}", scalar(size)));
        }
        let autoscaled = pool.get("enableAutoScaling").and_then(Value::as_bool) == Some(true);
        let number = |member: &str| pool.get(member).and_then(Value::as_u64);
        match (autoscaled, number("minCount"), number("maxCount")) {
            (true, Some(min), Some(max)) => {
                yaml.line(5, &format!("autoscale: {{ min: {min}, max: {max} }}   # the autoscaler owns the count"));
            }
            _ => {
                if let Some(count) = number("count") {
                    yaml.line(5, &format!("count: {count}"));
                }
            }
        }
    }
    if cluster.acr_pull.is_some() {
        let principal = text(document, "/properties/identityProfile/kubeletidentity/objectId").unwrap_or("?");
        yaml.line(3, "attachRegistry: true   # --attach-acr");
        yaml.comment(3, &format!("(the kubelet identity {principal} has AcrPull on the registry)"));
    }
    if cluster.workspace.is_some() {
        yaml.line(3, "monitoring: true   # --enable-addons monitoring (add-on `omsagent`)");
    }
    if document.pointer("/properties/ingressProfile/webAppRouting/enabled").and_then(Value::as_bool) == Some(true) {
        yaml.line(3, "ingress: { appRouting: true }   # the application routing add-on is on");
    }
    match text(document, "/properties/linuxProfile/ssh/publicKeys/0/keyData") {
        Some(key) => {
            let file = format!("{name}.pub");
            yaml.comment(
                3,
                "The nodes' live public key (`--generate-ssh-keys` used ~/.ssh/id_rsa.pub), written beside
this file. An existing cluster's key is never read or changed; it is sent only if the
cluster is ever created again, so the key you hold keeps working.",
            );
            yaml.line(3, "ssh:");
            yaml.line(4, &format!("publicKeyFile: {}", scalar(&file)));
            files.push((file, format!("{}\n", key.trim_end())));
        }
        None => {
            yaml.comment(3, "The live cluster has no SSH key; one is generated only if the cluster is created again.");
            yaml.line(3, "ssh: { generate: true }");
        }
    }
    write_location(yaml, 3, document, location);
    write_tags(yaml, 3, document);
}

fn write_deployer(yaml: &mut Yaml, found: &Found, deployer: &FoundDeployer, summary: &mut Vec<String>) {
    let application = &deployer.application;
    let name = text(application, "/displayName").unwrap_or_default();
    let app_id = text(application, "/appId").unwrap_or("?");
    summary.push(format!("application `{name}` (appId {app_id})"));
    let subscription_scope = format!("/subscriptions/{}", found.source.subscription);
    let group_scope = format!("{subscription_scope}/resourceGroups/{}", found.source.resource_group);
    let scope_of = |a: &Value| text(a, "/properties/scope").unwrap_or_default().to_owned();
    let mut roles: Vec<(String, &str, String)> = deployer
        .role_assignments
        .iter()
        .map(|a| {
            let guid = text(a, "/properties/roleDefinitionId").and_then(|r| r.rsplit('/').next()).unwrap_or("?");
            let role = built_in_role_name(guid).map_or_else(|| guid.to_owned(), str::to_owned);
            let scope = scope_of(a);
            let spec_scope = if scope.eq_ignore_ascii_case(&subscription_scope) {
                "subscription"
            } else if scope.eq_ignore_ascii_case(&group_scope) {
                "resourceGroup"
            } else {
                ""
            };
            (role, spec_scope, scope)
        })
        .collect();
    // The subscription's role first (create-for-rbac's `--scopes /subscriptions/<sub>`), then the group's.
    roles.sort_by_key(|(_, spec_scope, _)| match *spec_scope {
        "subscription" => 0,
        "resourceGroup" => 1,
        _ => 2,
    });
    yaml.line(2, "deployer:");
    yaml.comment(3, &format!("application `{name}` (appId {app_id}) and its service principal"));
    yaml.line(3, &format!("name: {}", scalar(name)));
    match roles.first() {
        Some((role, spec_scope, scope)) if !spec_scope.is_empty() => {
            yaml.line(3, &format!("role: {}   # its role assignment at `{scope}`", scalar(role)));
            yaml.line(3, &format!("scope: {spec_scope}"));
            for (other, _, scope) in roles.iter().skip(1) {
                yaml.comment(3, &format!("also `{other}` at `{scope}`: not described, left as it is"));
            }
        }
        _ => {
            yaml.comment(
                3,
                "No role assignment at the subscription or the group: `role` below is Reader at the group,
the least a deployer can have. Change it to what the deploy needs before applying.",
            );
            yaml.line(3, "role: Reader");
            yaml.line(3, "scope: resourceGroup");
            for (other, _, scope) in &roles {
                yaml.comment(3, &format!("it has `{other}` at `{scope}`: not described, left as it is"));
            }
        }
    }
    write_github(yaml, deployer);
    let secrets = application.get("passwordCredentials").and_then(Value::as_array).cloned().unwrap_or_default();
    if !secrets.is_empty() {
        yaml.comment(
            3,
            "Client secrets exai did not make (`az ad sp create-for-rbac` adds one, `rbac`): exai never
reads, changes or deletes them, and plans show them as `observed`. `false` below means
exai adds none. Once the workflows log in with OIDC (`github:`), remove them with
`az ad app credential delete --id <appId> --key-id <keyId>`.",
        );
        for secret in &secrets {
            let shown = |member: &str| text(secret, &format!("/{member}")).unwrap_or("?");
            yaml.comment(
                3,
                &format!("  - `{}`, key id {}, expires {}", shown("displayName"), shown("keyId"), shown("endDateTime")),
            );
        }
    }
    yaml.line(3, "clientSecret: false");
}

/// Writes `github:` from the application's federated credentials whose issuer is GitHub's.
fn write_github(yaml: &mut Yaml, deployer: &FoundDeployer) {
    let mut repository: Option<String> = None;
    let (mut branches, mut pull_requests, mut environments, mut others) = (Vec::new(), false, Vec::new(), Vec::new());
    for credential in &deployer.federated {
        let subject = text(credential, "/subject").unwrap_or_default();
        let issuer = text(credential, "/issuer").unwrap_or_default();
        let name = text(credential, "/name").unwrap_or_default().to_owned();
        let parsed = subject.strip_prefix("repo:").and_then(|rest| rest.split_once(':'));
        let (Some((repo, what)), true) = (parsed, issuer == GITHUB_ISSUER) else {
            others.push(name);
            continue;
        };
        if repository.as_deref().is_some_and(|r| r != repo) {
            others.push(name);
            continue;
        }
        repository = Some(repo.to_owned());
        if let Some(branch) = what.strip_prefix("ref:refs/heads/") {
            branches.push((name, branch.to_owned()));
        } else if what == "pull_request" {
            pull_requests = true;
        } else if let Some(environment) = what.strip_prefix("environment:") {
            environments.push((name, environment.to_owned()));
        } else {
            others.push(name);
        }
    }
    let Some(repository) = repository else {
        yaml.comment(3, "No federated credential for GitHub: the workflows log in with the client secret.");
        for name in others {
            yaml.comment(3, &format!("federated credential `{name}`: not GitHub's, left as it is"));
        }
        return;
    };
    let names = |list: &[(String, String)]| list.iter().map(|(_, v)| scalar(v)).collect::<Vec<_>>().join(", ");
    yaml.line(3, "github:   # its federated credentials (OIDC)");
    yaml.line(4, &format!("repository: {}", scalar(&repository)));
    if !branches.is_empty() {
        yaml.line(4, &format!("branches: [{}]", names(&branches)));
    }
    if pull_requests {
        yaml.line(4, "pullRequests: true");
    }
    if !environments.is_empty() {
        yaml.line(4, &format!("environments: [{}]", names(&environments)));
    }
    // exai finds its credentials by name: one made by hand under another name would be created
    // again under exai's, which Entra refuses (issuer and subject are unique per application).
    let branch_names: Vec<String> = branches.iter().map(|(_, b)| b.clone()).collect();
    let environment_names: Vec<String> = environments.iter().map(|(_, e)| e.clone()).collect();
    let expected = github_subjects(&repository, &branch_names, pull_requests, &environment_names);
    for credential in &deployer.federated {
        let (Some(name), Some(subject)) = (text(credential, "/name"), text(credential, "/subject")) else { continue };
        if let Some((wanted, _)) =
            expected.iter().find(|(wanted, s)| s == subject && !wanted.eq_ignore_ascii_case(name))
        {
            yaml.comment(
                4,
                &format!(
                    "credential `{name}` has the subject exai names `{wanted}`: rename it (delete and create it
again as `{wanted}`) before applying, or Entra refuses exai's as a duplicate"
                ),
            );
        }
    }
    for name in others {
        yaml.comment(3, &format!("federated credential `{name}`: not described, left as it is"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::from_azure::Source;
    use serde_json::json;

    const SUB: &str = "ee000000-0000-4000-8000-000000000002";

    fn source(group: &str) -> Source {
        Source {
            tenant: "ee000000-0000-4000-8000-000000000001".into(),
            subscription: SUB.into(),
            resource_group: group.into(),
            deployer: None,
            cluster: None,
            registry: None,
            environment: None,
        }
    }

    fn group(name: &str) -> Value {
        json!({"id": format!("/subscriptions/{SUB}/resourceGroups/{name}"), "name": name, "location": "francecentral"})
    }

    fn found(group_name: &str) -> Found {
        Found {
            source: source(group_name),
            group: group(group_name),
            registry: None,
            registry_reference: None,
            cluster: None,
            deployer: None,
            left_out: Vec::new(),
        }
    }

    #[test]
    fn scalars_read_back_as_themselves_and_never_interpolate() {
        assert_eq!(scalar("exai-perso-rg"), "exai-perso-rg");
        assert_eq!(scalar("/subscriptions/x/resourceGroups/y"), "/subscriptions/x/resourceGroups/y");
        for (text, quoted) in [
            ("true", r#""true""#),
            ("No", r#""No""#),
            ("1.33", r#""1.33""#),
            ("a b", r#""a b""#),
            ("", r#""""#),
            ("say \"hi\"", r#""say \"hi\"""#),
            ("${HOME}", r#""$${HOME}""#),
            ("#not a comment", r##""#not a comment""##),
        ] {
            assert_eq!(scalar(text), quoted, "{text}");
        }
    }

    #[test]
    fn the_environment_is_named_after_the_group_unless_given() {
        for (group_name, environment) in
            [("exai-perso-rg", "perso"), ("exai-prod-rg", "prod"), ("MyGroup", "mygroup"), ("123-rg", "main")]
        {
            assert_eq!(environment_name(&found(group_name)).unwrap(), environment, "{group_name}");
        }
        let mut marked = found("exai-perso-rg");
        marked.group["tags"] = json!({"exai-owner": "team-a:staging.resourceGroup"});
        assert_eq!(environment_name(&marked).unwrap(), "staging", "an environment exai manages keeps its name");
        let mut given = found("exai-perso-rg");
        given.source.environment = Some("Perso".into());
        assert!(matches!(environment_name(&given), Err(FromAzureError::EnvironmentName { .. })));
    }

    /// A group with an owned workspace, an autoscaled pool, federated credentials, tags that
    /// need quoting, a registry in another region and a secret: the whole spec, which validates.
    #[test]
    fn everything_a_group_can_hold_is_written_and_validates() {
        let rg = format!("/subscriptions/{SUB}/resourceGroups/exai-prod-rg");
        let workspace_id = format!("{rg}/providers/Microsoft.OperationalInsights/workspaces/exai-prod-logs");
        let mut found = found("exai-prod-rg");
        found.group["tags"] =
            json!({"project": "exai", "exai-owner": "old:prod.resourceGroup", "note": "${not a variable}"});
        found.registry = Some(json!({
            "id": format!("{rg}/providers/Microsoft.ContainerRegistry/registries/exaiprodacr"),
            "name": "exaiprodacr", "location": "westeurope", "sku": {"name": "Premium"},
            "properties": {"adminUserEnabled": true, "loginServer": "exaiprodacr.azurecr.io"},
        }));
        found.cluster = Some(FoundCluster {
            document: json!({
                "name": "exai-prod-aks", "location": "France Central", "tags": {"team": "platform ops"},
                "identity": {"type": "SystemAssigned"},
                "properties": {
                    "kubernetesVersion": "1.33", "currentKubernetesVersion": "1.33.2", "dnsPrefix": "prod",
                    "agentPoolProfiles": [
                        {"name": "system", "count": 1, "vmSize": "Standard_B2s", "mode": "System"},
                        {"name": "apps", "count": 2, "vmSize": "Standard_D2s_v5", "enableAutoScaling": true,
                         "minCount": 1, "maxCount": 3},
                    ],
                    "identityProfile": {"kubeletidentity": {"objectId": "11111111-1111-4111-8111-111111111111"}},
                    "ingressProfile": {"webAppRouting": {"enabled": true}},
                },
            }),
            workspace_id: Some(workspace_id.clone()),
            workspace: Some(json!({
                "id": workspace_id, "name": "exai-prod-logs", "location": "francecentral",
                "properties": {"sku": {"name": "PerGB2018"}, "retentionInDays": 90},
            })),
            acr_pull: Some(json!({})),
        });
        found.deployer = Some(FoundDeployer {
            application: json!({"displayName": "exai-prod-github-sp", "appId": "22222222-2222-4222-8222-222222222222",
                "passwordCredentials": [{"displayName": "rbac", "keyId": "33333333-3333-4333-8333-333333333333",
                    "endDateTime": "2027-01-01T00:00:00Z"}]}),
            federated: vec![
                json!({"name": "github-branch-production", "issuer": GITHUB_ISSUER,
                    "subject": "repo:my-org/exai:ref:refs/heads/production"}),
                json!({"name": "prs", "issuer": GITHUB_ISSUER, "subject": "repo:my-org/exai:pull_request"}),
                json!({"name": "github-environment-production", "issuer": GITHUB_ISSUER,
                    "subject": "repo:my-org/exai:environment:production"}),
                json!({"name": "elsewhere", "issuer": "https://login.example", "subject": "x"}),
            ],
            service_principal: Some(json!({"id": "44444444-4444-4444-8444-444444444444"})),
            role_assignments: vec![
                json!({"properties": {"scope": format!("{rg}/providers/Microsoft.ContainerRegistry/registries/exaiprodacr"),
                    "roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/8311e382-0749-4cb8-b61a-304f252e45ec"}}),
                json!({"properties": {"scope": rg,
                    "roleDefinitionId": format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c")}}),
            ],
        });
        found.left_out = vec!["Microsoft.Storage/storageAccounts `exaistate`".into()];
        let written = spec_text(&found).unwrap();
        assert_eq!(written.environment, "prod");
        assert!(written.files.is_empty(), "no key on the live cluster, so no key file");
        insta::assert_snapshot!(written.spec);
    }
}
