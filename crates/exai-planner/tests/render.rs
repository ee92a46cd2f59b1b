//! Renderer tests: each plan shape snapshotted as text, coloured text, Markdown and JSON, and
//! the Markdown comment's size budget held whatever the plan.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use exai_model::kinds::{
    Application, ClientSecret, Cluster, NodePool, PoolMode, PoolSize, PrincipalRef, Registry, RegistrySku,
    ResourceGroup, RoleAssignment, ServicePrincipal, SshKeySource, Workspace, WorkspaceSku,
};
use exai_model::{
    Address, DesiredResource, DesiredSpec, DesiredState, LiveResource, LiveState, Location, Mark, OWNER_TAG,
    Observation, ResourceId, Tags, owned_in_scan,
};
use exai_planner::{
    Action, GITHUB_COMMENT_LIMIT, MarkdownOptions, Plan, SpecRef, TextOptions, plan, render_markdown, render_text,
    render_text_with,
};
use serde_json::{Value, json};

const SUB: &str = "ee000000-0000-4000-8000-000000000002";
const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
const MARKER: &str = "<!-- exai:plan -->";
const FULL_PLAN: &str = "The full plan is in the workflow run's summary and in the `plan.json` artifact.";

// ---------------------------------------------------------------------------------------------
// Desired and live state

fn resource(address: Address, depends_on: &[&Address], spec: DesiredSpec) -> DesiredResource {
    DesiredResource { address, depends_on: depends_on.iter().map(|a| (*a).clone()).collect(), protect: false, spec }
}

/// The mark of `address` in the spec these plans come from.
fn mark(address: &Address) -> Mark {
    Mark::new("my-org/exai", address, false)
}

fn tags(address: &Address) -> Tags {
    let mut tags: Tags = [("project".to_owned(), "exai".to_owned())].into_iter().collect();
    tags.insert(OWNER_TAG, mark(address).tag_value());
    tags
}

fn group_name(environment: &str) -> String {
    format!("exai-{environment}-rg")
}

fn group(environment: &str, location: &str) -> DesiredResource {
    let address = Address::new(environment, "resourceGroup");
    let tags: Tags = [("project".to_owned(), "exai".to_owned())].into_iter().collect();
    let location = Location::parse(location).unwrap();
    let rg = ResourceGroup::new(SUB, &group_name(environment), location, tags, &mark(&address).tag_value());
    resource(address, &[], DesiredSpec::ResourceGroup(rg))
}

fn registry(environment: &str) -> DesiredResource {
    let address = Address::new(environment, "registry");
    let registry = Registry {
        subscription: SUB.into(),
        resource_group: group_name(environment),
        name: format!("exai{environment}acr"),
        location: Location::parse("francecentral").unwrap(),
        sku: RegistrySku::Standard,
        admin_user_enabled: false,
        tags: tags(&address),
    };
    resource(address, &[&Address::new(environment, "resourceGroup")], DesiredSpec::Registry(registry))
}

fn workspace_id(environment: &str) -> ResourceId {
    ResourceId::in_group(
        SUB,
        &group_name(environment),
        "Microsoft.OperationalInsights/workspaces",
        &format!("exai-{environment}-logs"),
    )
}

fn workspace(environment: &str) -> DesiredResource {
    let address = Address::new(environment, "monitoring");
    let workspace = Workspace {
        subscription: SUB.into(),
        resource_group: group_name(environment),
        name: format!("exai-{environment}-logs"),
        location: Location::parse("francecentral").unwrap(),
        retention_days: 30,
        sku: WorkspaceSku::PerGB2018,
        tags: tags(&address),
    };
    resource(address, &[&Address::new(environment, "resourceGroup")], DesiredSpec::Workspace(workspace))
}

fn cluster(environment: &str) -> DesiredResource {
    let address = Address::new(environment, "cluster");
    let name = format!("exai-{environment}-aks");
    let cluster = Cluster {
        address: address.clone(),
        subscription: SUB.into(),
        resource_group: group_name(environment),
        dns_prefix: Cluster::default_dns_prefix(&name, &group_name(environment), SUB),
        name,
        location: Location::parse("francecentral").unwrap(),
        kubernetes_version: Some("1.33.5".into()),
        node_pools: vec![
            NodePool {
                name: "nodepool1".into(),
                vm_size: "Standard_B2s".into(),
                mode: PoolMode::System,
                size: PoolSize::Fixed { count: 1 },
            },
            NodePool {
                name: "work".into(),
                vm_size: "Standard_D4s_v5".into(),
                mode: PoolMode::User,
                size: PoolSize::Autoscale { min: 1, max: 5, initial: 2 },
            },
        ],
        ssh: SshKeySource::Generate,
        monitoring_workspace: Some(workspace_id(environment)),
        app_routing: None,
        tags: tags(&address),
        ssh_public_key: Some("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC test@exai".into()),
    };
    let depends_on = [&Address::new(environment, "resourceGroup"), &Address::new(environment, "monitoring")];
    resource(address, &depends_on, DesiredSpec::Cluster(Box::new(cluster)))
}

fn application(environment: &str) -> DesiredResource {
    let address = Address::new(environment, "deployer.app");
    let app = Application {
        address: address.clone(),
        mark: mark(&address),
        display_name: format!("exai-{environment}-github-sp"),
    };
    resource(address, &[], DesiredSpec::Application(app))
}

fn service_principal(environment: &str) -> DesiredResource {
    let address = Address::new(environment, "deployer.sp");
    let application = Address::new(environment, "deployer.app");
    let sp = ServicePrincipal { address: address.clone(), mark: mark(&address), application: application.clone() };
    resource(address, &[&application], DesiredSpec::ServicePrincipal(sp))
}

fn role(environment: &str) -> DesiredResource {
    let address = Address::new(environment, "deployer.role");
    let sp = Address::new(environment, "deployer.sp");
    let role = RoleAssignment::new(
        ResourceId::subscription(SUB),
        CONTRIBUTOR,
        PrincipalRef { from: sp.clone(), field: "id".into() },
        mark(&address),
    );
    resource(address, &[&sp], DesiredSpec::RoleAssignment(role))
}

fn secret(environment: &str) -> DesiredResource {
    let address = Address::new(environment, "deployer.secret");
    let application = Address::new(environment, "deployer.app");
    let secret = ClientSecret {
        address: address.clone(),
        mark: mark(&address),
        application: application.clone(),
        expires_in_days: 30,
        end_date_time: Some("2027-01-01T00:00:00Z".into()),
        subscription: SUB.into(),
        tenant: "t".into(),
        handover: None,
    };
    resource(address, &[&application], DesiredSpec::ClientSecret(secret))
}

/// A resource group as Azure answers a GET: display-form region, foreign tags kept.
fn live_group(environment: &str, location: &str) -> Value {
    json!({
        "id": format!("/subscriptions/{SUB}/resourceGroups/{}", group_name(environment)),
        "name": group_name(environment),
        "type": "Microsoft.Resources/resourceGroups",
        "location": location,
        "tags": {"project": "exai", "exai-owner": format!("my-org/exai:{environment}.resourceGroup"), "costCenter": "42"},
        "properties": { "provisioningState": "Succeeded" }
    })
}

/// A registry exai created in `environment` that left the spec, as the ownership scan finds it.
fn orphan_registry(environment: &str) -> exai_model::OwnedObject {
    let scan = json!({"value": [{
        "id": format!(
            "/subscriptions/{SUB}/resourceGroups/{}/providers/Microsoft.ContainerRegistry/registries/exai{environment}old",
            group_name(environment)
        ),
        "type": "Microsoft.ContainerRegistry/registries",
        "location": "France Central",
        "tags": {"exai-owner": format!("my-org/exai:{environment}.oldRegistry"), "project": "exai"}
    }]});
    owned_in_scan(&scan).remove(0)
}

fn present(document: Value) -> Observation {
    let id = ResourceId::parse(document["id"].as_str().unwrap()).unwrap();
    Observation::Present(LiveResource { id, document })
}

/// Plans `resources` against `live`, where every resource not in `live` is absent.
fn plan_of(resources: Vec<DesiredResource>, mut live: LiveState, environments: &[&str]) -> Plan {
    for r in &resources {
        if live.get(&r.address).is_none() {
            live.insert(r.address.clone(), Observation::Absent);
        }
    }
    let desired = DesiredState { tenant: "t".into(), resources };
    let spec = SpecRef {
        file: "exai.yaml".into(),
        digest: "sha256:6d0f2c8a1e5b4f3a9c7e2d1b0a8f6e4c2b9d7a5e3c1f0b8d6a4e2c0b9f7d5a3c".into(),
    };
    plan(&desired, &live).unwrap().with_origin(
        "0.1.0",
        "abc1234",
        spec,
        environments.iter().map(|e| (*e).to_owned()).collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// The plans

fn no_changes() -> Plan {
    let mut live = LiveState::new();
    live.insert(Address::new("perso", "resourceGroup"), present(live_group("perso", "France Central")));
    plan_of(vec![group("perso", "francecentral")], live, &["perso"])
}

fn creates_only() -> Plan {
    plan_of(vec![group("perso", "francecentral"), registry("perso"), workspace("perso")], LiveState::new(), &["perso"])
}

fn replace() -> Plan {
    let mut live = LiveState::new();
    live.insert(Address::new("perso", "resourceGroup"), present(live_group("perso", "francecentral")));
    plan_of(vec![group("perso", "westeurope")], live, &["perso"])
}

fn delete() -> Plan {
    let mut live = LiveState::new();
    live.insert(Address::new("perso", "resourceGroup"), present(live_group("perso", "francecentral")));
    live.insert_owned(orphan_registry("perso"));
    plan_of(vec![group("perso", "francecentral")], live, &["perso"])
}

/// A group Azure is still creating and a registry it is still deleting, both declared: apply
/// waits for each.
fn in_progress() -> Plan {
    let mut live = LiveState::new();
    let mut group_document = live_group("perso", "France Central");
    group_document["properties"]["provisioningState"] = json!("Creating");
    live.insert(Address::new("perso", "resourceGroup"), present(group_document));
    let registry_document = json!({
        "id": format!(
            "/subscriptions/{SUB}/resourceGroups/exai-perso-rg/providers/Microsoft.ContainerRegistry/registries/exaipersoacr"
        ),
        "name": "exaipersoacr",
        "type": "Microsoft.ContainerRegistry/registries",
        "location": "francecentral",
        "sku": {"name": "Standard", "tier": "Standard"},
        "tags": {"project": "exai", "exai-owner": "my-org/exai:perso.registry"},
        "properties": {"adminUserEnabled": false, "provisioningState": "Deleting"}
    });
    live.insert(Address::new("perso", "registry"), present(registry_document));
    plan_of(vec![group("perso", "francecentral"), registry("perso"), workspace("perso")], live, &["perso"])
}

fn unknown_values() -> Plan {
    plan_of(vec![application("perso"), service_principal("perso"), role("perso")], LiveState::new(), &["perso"])
}

fn with_secret() -> Plan {
    plan_of(vec![application("perso"), secret("perso")], LiveState::new(), &["perso"])
}

/// `environments` environments, each with a resource group, a registry, a workspace and a
/// cluster to create; every seventh environment's group moves region instead (a replace), and
/// every eleventh holds a registry that left the spec (a delete).
fn large(environments: usize) -> Plan {
    let names: Vec<String> = (0..environments).map(|i| format!("env{i:02}")).collect();
    let mut live = LiveState::new();
    let mut resources = Vec::new();
    for (i, env) in names.iter().enumerate() {
        if i % 7 == 3 {
            live.insert(Address::new(env, "resourceGroup"), present(live_group(env, "westeurope")));
        }
        if i % 11 == 5 {
            live.insert(Address::new(env, "resourceGroup"), present(live_group(env, "francecentral")));
            live.insert_owned(orphan_registry(env));
        }
        resources.extend([group(env, "francecentral"), registry(env), workspace(env), cluster(env)]);
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    plan_of(resources, live, &names)
}

// ---------------------------------------------------------------------------------------------
// Renderings

fn text(plan: &Plan) -> String {
    let mut out = Vec::new();
    render_text(plan, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn text_with(plan: &Plan, color: bool) -> String {
    let mut out = Vec::new();
    render_text_with(plan, &mut out, TextOptions { color }).unwrap();
    String::from_utf8(out).unwrap()
}

fn options(budget: usize) -> MarkdownOptions {
    MarkdownOptions { budget, full_plan: Some(FULL_PLAN.into()), marker: Some(MARKER.into()) }
}

fn markdown(plan: &Plan) -> String {
    render_markdown(plan, &options(GITHUB_COMMENT_LIMIT))
}

/// Snapshots `plan` in every rendering, and checks what holds for all of them.
fn assert_renderings(name: &str, plan: &Plan) {
    let plain = text(plan);
    assert_eq!(text_with(plan, false), plain, "without colour, byte for byte render_text");
    let colored = text_with(plan, true);
    assert!(colored.contains("\x1b["), "colour is on");
    assert_eq!(strip_ansi(&colored), plain, "colour only adds escapes");
    let md = markdown(plan);
    let first = plain.lines().last().unwrap();
    assert_eq!(md.lines().next(), Some(first), "the comment opens with the text plan's summary line");
    assert_eq!(md.lines().last(), Some(MARKER));
    assert!(!md.contains("Left out"), "a small plan is shown whole");
    for change in &plan.resource_changes {
        assert!(md.contains(change.address.as_str()), "every resource is in the comment: {}", change.address);
    }
    insta::assert_snapshot!(format!("{name}_text"), plain);
    // Escapes shown as ␛ so the snapshot can be read.
    insta::assert_snapshot!(format!("{name}_text_color"), colored.replace('\x1b', "␛"));
    insta::assert_snapshot!(format!("{name}_markdown"), md);
    insta::assert_snapshot!(format!("{name}_json"), serde_json::to_string_pretty(plan).unwrap());
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            chars.by_ref().find(|&c| c == 'm');
        } else {
            out.push(c);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Snapshots of each plan shape

#[test]
fn no_changes_renders_every_resource_and_says_azure_matches() {
    let p = no_changes();
    assert!(p.summary.is_empty());
    assert_renderings("no_changes", &p);
}

#[test]
fn creates_only_render_their_new_values() {
    let p = creates_only();
    assert_eq!(p.summary.add, 3);
    let md = markdown(&p);
    assert!(!md.contains("[!WARNING]"), "nothing is deleted");
    assert_eq!(md.matches("<details>").count(), 3, "one per change");
    assert_renderings("creates_only", &p);
}

#[test]
fn a_replace_is_announced_with_its_reason_before_the_details() {
    let p = replace();
    assert_eq!(p.resource_changes[0].action, Action::Replace);
    let md = markdown(&p);
    let alert = md.find("> [!WARNING]").unwrap();
    let why = md.find("> - `-/+` `perso.resourceGroup`").unwrap();
    assert!(alert < why && why < md.find("<details>").unwrap());
    assert!(md.contains(">   - why: `location` forces replacement"), "{md}");
    assert!(md.contains("`--allow-delete`"));
    assert_renderings("replace", &p);
}

#[test]
fn a_delete_is_announced_with_its_warning() {
    let p = delete();
    let c = p.resource_changes.iter().find(|c| c.action == Action::Delete).unwrap();
    assert_eq!(c.address.as_str(), "perso.oldRegistry");
    let md = markdown(&p);
    assert!(md.contains(">   - warning: deleting a registry deletes every image in it"), "{md}");
    assert_renderings("delete", &p);
}

#[test]
fn what_azure_is_still_doing_is_a_change_apply_waits_for() {
    let p = in_progress();
    let actions: Vec<Action> = p.resource_changes.iter().map(|c| c.action).collect();
    assert_eq!(actions, [Action::Wait, Action::Wait, Action::Create]);
    assert_eq!((p.summary.wait, p.summary.add), (2, 1));
    assert!(!p.summary.is_empty(), "an operation still running is a change");
    assert_renderings("in_progress", &p);
}

#[test]
fn values_known_after_apply_say_where_they_come_from() {
    let p = unknown_values();
    let role = &p.resource_changes[2];
    assert_eq!(role.after_unknown["principalId"], "known after apply: perso.deployer.sp → id");
    let md = markdown(&p);
    assert!(md.contains("+ principalId") && md.contains("= (known after apply: perso.deployer.sp → id)"), "{md}");
    assert_renderings("unknown_values", &p);
}

#[test]
fn a_secret_is_shown_only_as_where_it_will_be_written() {
    let p = with_secret();
    let secret = &p.resource_changes[1];
    let note = secret.after_unknown.values().next().unwrap();
    assert!(note.starts_with("sensitive: written once to .exai/secrets/"), "{note}");
    assert!(markdown(&p).contains(note.as_str()));
    assert_renderings("secret", &p);
}

// ---------------------------------------------------------------------------------------------
// Markdown: escaping and the size budget

#[test]
fn values_cannot_become_markup_or_close_a_fence() {
    let mut p = creates_only();
    let change = &mut p.resource_changes[0];
    let hostile = json!("```\n</details><script>alert(1)</script> ````` @octocat");
    change.after.as_mut().unwrap().insert("tags.project".into(), hostile.clone());
    change.diffs.iter_mut().find(|d| d.path == "tags.project").unwrap().after = Some(hostile);
    change.observed.insert("tags.note".into(), json!("<b>bold</b> `x`"));
    change.warning = Some("a <warning> & `a <code> span`".into());
    let md = markdown(&p);
    let block = &md[md.find("``````diff\n").unwrap()..];
    let block = &block[..block[6..].find("``````").unwrap() + 12];
    assert!(block.contains("<script>"), "{block}");
    assert!(!md.replace(block, "").contains("<script>"), "markup only inside the code block: {md}");
    assert!(md.contains("a &lt;warning&gt; &amp; `a <code> span`"), "{md}");
    // The diff block's fence is longer than the value's longest backtick run (5).
    assert!(md.contains("``````diff\n"), "{md}");
    assert_eq!(md.replace(block, "").matches("</details>").count(), 3, "a value closes no element: {md}");
    assert!(md.contains("``tags.note = \"<b>bold</b> `x`\"``"), "{md}");
}

#[test]
fn sixty_environments_fit_in_one_comment_that_says_what_it_left_out() {
    let p = large(60);
    assert_eq!(p.resource_changes.len(), 240 + p.summary.destroy);
    assert!(p.summary.replace > 0 && p.summary.destroy > 0, "{:?}", p.summary);
    let md = markdown(&p);
    assert!(md.chars().count() <= GITHUB_COMMENT_LIMIT, "{}", md.chars().count());
    assert!(md.starts_with(&format!(
        "Plan: {} to add, {} to change, {} to replace, {} to destroy.\nEnvironments: `env00`, `env01`,",
        p.summary.add, p.summary.change, p.summary.replace, p.summary.destroy
    )));
    assert!(md.contains("> [!NOTE]\n> Left out to keep this comment within 65536 characters: "), "{md}");
    assert!(md.contains(FULL_PLAN), "says where the full plan is");
    assert_eq!(md.lines().last(), Some(MARKER));
    for change in p.resource_changes.iter().filter(|c| matches!(c.action, Action::Replace | Action::Delete)) {
        let line = format!("> - `{}` `{}`", change.action.marker(), change.address);
        assert!(md.contains(&line), "every delete and replace is in the alert: {line}");
    }
}

#[test]
fn each_step_of_shortening_is_said_in_the_comment() {
    let p = large(6);
    let full = markdown(&p);
    assert!(!full.contains("Left out"));
    let length = full.chars().count();
    let shortened = |budget: usize| render_markdown(&p, &options(budget));

    // The field diffs of creates and updates go first, from the end; every resource is still
    // named.
    let md = shortened(length - 1);
    assert!(md.contains("Left out to keep this comment within"), "{md}");
    assert!(md.contains("the field diffs of the last 1 of the 22 resources to create or update"), "{md}");
    assert!(md.contains("\n- `+` `env05.cluster` (Microsoft.ContainerService/managedClusters) will be created\n"));
    assert!(md.contains("<details><summary><code>+</code> <code>env05.monitoring</code>"), "{md}");
    assert!(md.contains("<details><summary><code>-/+</code> <code>env03.resourceGroup</code>"), "{md}");

    // Then the unchanged resources are counted, not named; then deletes and replaces lose their
    // details (the alert keeps their reasons); then creates and updates are cut from the end.
    let mut seen = Vec::new();
    for budget in (400..length).rev().step_by(50) {
        let md = shortened(budget);
        assert!(md.chars().count() <= budget);
        for step in [
            "the field diffs of the 22 resources to create or update",
            "the name of the 1 unchanged resource",
            "the field diffs of all 24 changes",
            "more changes not shown",
            "more not shown",
        ] {
            if md.contains(step) && !seen.contains(&step) {
                seen.push(step);
            }
        }
    }
    assert_eq!(
        seen,
        [
            "the field diffs of the 22 resources to create or update",
            "the name of the 1 unchanged resource",
            "the field diffs of all 24 changes",
            "more changes not shown",
            "more not shown"
        ],
        "each step, in order"
    );
}

#[test]
fn no_budget_and_no_plan_size_breaks_the_limit_or_the_first_line() {
    for environments in [0, 1, 3, 20, 60] {
        let p = large(environments);
        let first = text(&p).lines().last().unwrap().to_owned();
        for budget in [500, 2_000, 10_000, 65_536] {
            for options in [options(budget), MarkdownOptions { budget, ..Default::default() }] {
                let md = render_markdown(&p, &options);
                let n = md.chars().count();
                assert!(n <= budget, "{environments} environments, budget {budget}: {n} characters");
                assert_eq!(md.lines().next(), Some(first.as_str()), "{environments} environments, budget {budget}");
                if let Some(marker) = &options.marker {
                    assert_eq!(md.lines().last(), Some(marker.as_str()), "{environments}, {budget}");
                }
                let complete = p.resource_changes.iter().all(|c| md.contains(c.address.as_str()));
                assert!(complete || md.contains("Left out"), "a cut is always said: {environments}, {budget}");
            }
        }
    }
}

/// Makes `address`'s create a blocked update (a SKU exai does not change), as the planner would
/// have planned it against a live registry of another SKU.
fn block(plan: &mut Plan, address: &str) {
    let change = plan.resource_changes.iter_mut().find(|c| c.address.as_str() == address).unwrap();
    let mut before = change.after.clone().unwrap();
    before.insert("sku.name".into(), json!("Premium"));
    change.diffs = vec![exai_planner::FieldDiff {
        path: "sku.name".into(),
        before: Some(json!("Premium")),
        after: Some(json!("Standard")),
        forces_replacement: None,
    }];
    change.before = Some(before);
    change.action = Action::Update;
    change.blocked = Some("`sku.name`: exai does not downgrade a registry; change it by hand, then plan again".into());
    change.requests.clear();
    plan.summary.add -= 1;
    plan.summary.change += 1;
}

#[test]
fn a_shortened_comment_reads_well() {
    let mut p = large(6);
    block(&mut p, "env01.registry");
    let md = render_markdown(&p, &options(2_500));
    assert!(md.chars().count() <= 2_500);
    assert!(md.contains("more changes not shown"), "{md}");
    insta::assert_snapshot!(md);
}

#[test]
fn a_very_long_field_path_does_not_push_every_value_to_the_right() {
    let mut plan = creates_only();
    let change = &mut plan.resource_changes[0];
    let long = "properties.dataSources.extensions[ContainerInsightsExtension].extensionSettings.enabled";
    change.diffs.push(exai_planner::FieldDiff {
        path: long.to_owned(),
        before: None,
        after: Some(json!(true)),
        forces_replacement: None,
    });
    let out = text(&plan);
    let location = out.lines().find(|l| l.trim_start().starts_with("+ location")).unwrap();
    assert!(location.len() < 70, "short paths stay aligned to at most 40 columns: {location:?}");
    assert!(out.contains(&format!("+ {long} = true")), "{out}");
}
