//! Conformance tests of the emulator's Azure RBAC: principals made through
//! `POST /_emulator/principals` sign in with their client secret, and ARM answers each as the
//! built-in roles it holds allow (ARM's `AuthorizationFailed` otherwise); the permissions
//! endpoint; the built-in role definitions held against `data/built-in-roles.json`; the
//! development application's ownership of what it creates.

use std::error::Error;

use exai_emulator::{DEV_SUBSCRIPTION_ID, DEV_TENANT_ID, EmulatorOptions};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

mod common;

use common::{ARM_SCOPE, Harness, TestResult, claims};

const ACR_API: &str = "api-version=2025-11-01";
const AUTH_API: &str = "api-version=2022-04-01";
const RG_API: &str = "api-version=2025-04-01";
const SUBSCRIPTION_API: &str = "api-version=2022-12-01";
const ACR_PULL: &str = "7f951dda-4ed3-4680-a7ca-43fe172d538d";
const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";

/// The checked-in role definitions.
fn catalog() -> Result<Vec<Value>, Box<dyn Error>> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/built-in-roles.json"))?;
    let value: Value = serde_json::from_str(&text)?;
    Ok(value["roles"].as_array().ok_or("no roles")?.clone())
}

/// The checked-in `permissions` of a role, by name.
fn permissions_of(role_name: &str) -> Result<Value, Box<dyn Error>> {
    let roles = catalog()?;
    let role = roles.iter().find(|role| role["roleName"] == role_name).ok_or("no such role")?;
    Ok(role["permissions"].clone())
}

fn subscription() -> String {
    format!("/subscriptions/{DEV_SUBSCRIPTION_ID}")
}

fn group_id(name: &str) -> String {
    format!("{}/resourceGroups/{name}", subscription())
}

fn registry_id(group: &str, name: &str) -> String {
    format!("{}/providers/Microsoft.ContainerRegistry/registries/{name}", group_id(group))
}

fn assignment_id(scope: &str, name: &str) -> String {
    format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}")
}

/// A principal made through the admin route, signed in to ARM.
struct Principal {
    app_id: String,
    object_id: String,
    token: String,
}

impl Principal {
    /// Creates a principal holding `roles` (`(role, scope)`) and signs it in with its secret.
    async fn new(harness: &Harness, name: &str, roles: &[(&str, &str)]) -> Result<Self, Box<dyn Error>> {
        let roles: Vec<Value> = roles.iter().map(|(role, scope)| json!({"role": role, "scope": scope})).collect();
        let made =
            harness.admin(Method::POST, "principals", Some(json!({"displayName": name, "roles": roles}))).await?;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
        let answer = made.json();
        let text = |member: &str| answer[member].as_str().map(str::to_owned).ok_or(format!("no {member}"));
        assert_eq!(text("tenantId")?, DEV_TENANT_ID);
        let (app_id, secret) = (text("appId")?, text("clientSecret")?);
        let token = harness
            .token(DEV_TENANT_ID, &[("client_id", &app_id), ("client_secret", &secret), ("scope", ARM_SCOPE)])
            .await?;
        Ok(Self { app_id, object_id: text("objectId")?, token })
    }

    async fn arm(
        &self,
        harness: &Harness,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<common::Reply, Box<dyn Error>> {
        harness.send_as(method, path, Some(&self.token), body).await
    }

    /// ARM's message refusing this principal `action` over `scope`.
    fn refusal(&self, action: &str, scope: &str) -> String {
        format!(
            "The client '{}' with object id '{}' does not have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
            self.app_id, self.object_id
        )
    }
}

fn registry_body() -> Value {
    json!({"location": "francecentral", "sku": {"name": "Standard"}})
}

fn assignment_body(principal_id: &str) -> Value {
    json!({"properties": {
        "roleDefinitionId": format!("/providers/Microsoft.Authorization/roleDefinitions/{ACR_PULL}"),
        "principalId": principal_id,
        "principalType": "ServicePrincipal",
    }})
}

/// A harness whose development application made the subscription and the group `rg`.
async fn world() -> Result<Harness, Box<dyn Error>> {
    let harness = Harness::new().await?;
    harness.group(DEV_SUBSCRIPTION_ID, "rg").await?;
    Ok(harness)
}

#[tokio::test]
async fn a_reader_reads_but_its_write_is_refused_in_arm_s_words() -> TestResult {
    let harness = world().await?;
    let reader = Principal::new(&harness, "ci-planner", &[("Reader", &subscription())]).await?;
    let group = reader.arm(&harness, Method::GET, &format!("{}?{RG_API}", group_id("rg")), None).await?;
    assert_eq!(group.status, StatusCode::OK, "{}", group.text);

    let refused = reader
        .arm(&harness, Method::PUT, &format!("{}?{ACR_API}", registry_id("rg", "exaiacr01")), Some(registry_body()))
        .await?;
    let message = refused.assert_arm_error(StatusCode::FORBIDDEN, "AuthorizationFailed");
    assert_eq!(
        message,
        reader.refusal("Microsoft.ContainerRegistry/registries/write", &registry_id("rg", "exaiacr01"))
    );
    let missing = harness.arm(Method::GET, &format!("{}?{ACR_API}", registry_id("rg", "exaiacr01")), None).await?;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "nothing was written: {}", missing.text);
    // A group's delete is refused the same way.
    let message = reader
        .arm(&harness, Method::DELETE, &format!("{}?{RG_API}", group_id("rg")), None)
        .await?
        .assert_arm_error(StatusCode::FORBIDDEN, "AuthorizationFailed");
    assert_eq!(message, reader.refusal("Microsoft.Resources/subscriptions/resourceGroups/delete", &group_id("rg")));
    Ok(())
}

#[tokio::test]
async fn a_contributor_writes_a_registry_but_not_a_role_assignment_which_user_access_administrator_can() -> TestResult {
    let harness = world().await?;
    let deployer = Principal::new(&harness, "ci-deployer", &[("Contributor", &subscription())]).await?;
    let created = deployer
        .arm(&harness, Method::PUT, &format!("{}?{ACR_API}", registry_id("rg", "exaiacr01")), Some(registry_body()))
        .await?;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    // The deployer follows its own long-running operation.
    let status_url = created.header("azure-asyncoperation").ok_or("no Azure-AsyncOperation")?.to_owned();
    let status_path = status_url.strip_prefix(&harness.url("")).ok_or("a status URL on another origin")?;
    let polled = deployer.arm(&harness, Method::GET, status_path, None).await?;
    assert_eq!(polled.status, StatusCode::OK, "{}", polled.text);

    let kubelet = Principal::new(&harness, "kubelet", &[]).await?;
    let assignment = assignment_id(&registry_id("rg", "exaiacr01"), "11111111-1111-4111-8111-111111111111");
    let message = deployer
        .arm(&harness, Method::PUT, &format!("{assignment}?{AUTH_API}"), Some(assignment_body(&kubelet.object_id)))
        .await?
        .assert_arm_error(StatusCode::FORBIDDEN, "AuthorizationFailed");
    assert_eq!(message, deployer.refusal("Microsoft.Authorization/roleAssignments/write", &assignment));

    let admin = Principal::new(&harness, "access-admin", &[("User Access Administrator", &subscription())]).await?;
    let granted = admin
        .arm(&harness, Method::PUT, &format!("{assignment}?{AUTH_API}"), Some(assignment_body(&kubelet.object_id)))
        .await?;
    assert_eq!(granted.status, StatusCode::CREATED, "{}", granted.text);
    // ... which in turn cannot write the registry.
    let message = admin
        .arm(
            &harness,
            Method::PATCH,
            &format!("{}?{ACR_API}", registry_id("rg", "exaiacr01")),
            Some(json!({"tags": {}})),
        )
        .await?
        .assert_arm_error(StatusCode::FORBIDDEN, "AuthorizationFailed");
    assert_eq!(message, admin.refusal("Microsoft.ContainerRegistry/registries/write", &registry_id("rg", "exaiacr01")));
    Ok(())
}

#[tokio::test]
async fn a_role_at_a_group_applies_below_it_only() -> TestResult {
    let harness = world().await?;
    harness.group(DEV_SUBSCRIPTION_ID, "other").await?;
    let deployer = Principal::new(&harness, "ci-deployer", &[("Contributor", &group_id("rg"))]).await?;
    let created = deployer
        .arm(&harness, Method::PUT, &format!("{}?{ACR_API}", registry_id("rg", "exaiacr01")), Some(registry_body()))
        .await?;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let message = deployer
        .arm(&harness, Method::PUT, &format!("{}?{ACR_API}", registry_id("other", "exaiacr02")), Some(registry_body()))
        .await?
        .assert_arm_error(StatusCode::FORBIDDEN, "AuthorizationFailed");
    assert_eq!(
        message,
        deployer.refusal("Microsoft.ContainerRegistry/registries/write", &registry_id("other", "exaiacr02"))
    );
    // The list of groups is trimmed to the one it may read; the subscription is not its to read.
    let groups = deployer
        .arm(&harness, Method::GET, &format!("subscriptions/{DEV_SUBSCRIPTION_ID}/resourcegroups?{RG_API}"), None)
        .await?;
    assert_eq!(groups.status, StatusCode::OK, "{}", groups.text);
    let groups = groups.json();
    let names: Vec<&str> =
        groups["value"].as_array().ok_or("no value")?.iter().filter_map(|group| group["name"].as_str()).collect();
    assert_eq!(names, ["rg"]);
    let message = deployer
        .arm(&harness, Method::GET, &format!("subscriptions/{DEV_SUBSCRIPTION_ID}?{SUBSCRIPTION_API}"), None)
        .await?
        .assert_arm_error(StatusCode::FORBIDDEN, "AuthorizationFailed");
    assert_eq!(message, deployer.refusal("Microsoft.Resources/subscriptions/read", &subscription()));
    // Creating a registry checks its name at the subscription, which a role at the group does not
    // reach (the action its provider registers for the check is a read).
    let message = deployer
        .arm(
            &harness,
            Method::POST,
            &format!("subscriptions/{DEV_SUBSCRIPTION_ID}/providers/Microsoft.ContainerRegistry/checkNameAvailability?{ACR_API}"),
            Some(json!({"name": "exaiacr03", "type": "Microsoft.ContainerRegistry/registries"})),
        )
        .await?
        .assert_arm_error(StatusCode::FORBIDDEN, "AuthorizationFailed");
    assert_eq!(message, deployer.refusal("Microsoft.ContainerRegistry/checkNameAvailability/read", &subscription()));
    Ok(())
}

#[tokio::test]
async fn permissions_are_the_caller_s_assignments_at_the_scope_and_above() -> TestResult {
    let harness = world().await?;
    harness
        .arm(Method::PUT, &format!("{}?{ACR_API}", registry_id("rg", "exaiacr01")), Some(registry_body()))
        .await
        .map(|reply| assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text))?;
    let caller =
        Principal::new(&harness, "mixed", &[("Reader", &subscription()), ("Contributor", &group_id("rg"))]).await?;
    let permissions = |scope: String| {
        let caller = &caller;
        let harness = &harness;
        async move {
            let path = format!("{scope}/providers/Microsoft.Authorization/permissions?{AUTH_API}");
            caller.arm(harness, Method::GET, &path, None).await
        }
    };
    let (reader, contributor) = (permissions_of("Reader")?, permissions_of("Contributor")?);

    let at_subscription = permissions(subscription()).await?;
    assert_eq!(at_subscription.status, StatusCode::OK, "{}", at_subscription.text);
    assert_eq!(at_subscription.json(), json!({"value": [reader]}));
    let mut at_group = permissions(group_id("rg")).await?.json();
    sort_values(&mut at_group);
    let mut expected = json!({"value": [reader, contributor]});
    sort_values(&mut expected);
    assert_eq!(at_group, expected);
    let mut at_registry = permissions(registry_id("rg", "exaiacr01")).await?.json();
    sort_values(&mut at_registry);
    assert_eq!(at_registry, expected);

    permissions(group_id("nope")).await?.assert_arm_error(StatusCode::NOT_FOUND, "ResourceGroupNotFound");
    permissions(registry_id("rg", "nope")).await?.assert_arm_error(StatusCode::NOT_FOUND, "ResourceNotFound");

    // A principal with no role at all may still ask, and holds nothing.
    let nobody = Principal::new(&harness, "nobody", &[]).await?;
    let nothing = nobody
        .arm(
            &harness,
            Method::GET,
            &format!("{}/providers/Microsoft.Authorization/permissions?{AUTH_API}", group_id("rg")),
            None,
        )
        .await?;
    assert_eq!(nothing.json(), json!({"value": []}));
    Ok(())
}

fn sort_values(value: &mut Value) {
    if let Some(items) = value["value"].as_array_mut() {
        items.sort_by_key(Value::to_string);
    }
}

#[tokio::test]
async fn the_served_role_definitions_are_the_checked_in_ones() -> TestResult {
    let harness = world().await?;
    let listed = harness
        .arm(
            Method::GET,
            &format!("{}/providers/Microsoft.Authorization/roleDefinitions?{AUTH_API}", subscription()),
            None,
        )
        .await?;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let listed = listed.json();
    let served = listed["value"].as_array().ok_or("no value")?;
    let checked_in = catalog()?;
    assert_eq!(served.len(), checked_in.len());
    for role in &checked_in {
        let id = role["id"].as_str().ok_or("no id")?;
        let one = harness
            .arm(
                Method::GET,
                &format!("{}/providers/Microsoft.Authorization/roleDefinitions/{id}?{AUTH_API}", subscription()),
                None,
            )
            .await?
            .json();
        assert_eq!(one["name"], role["id"]);
        assert_eq!(one["properties"]["roleName"], role["roleName"]);
        assert_eq!(one["properties"]["description"], role["description"]);
        assert_eq!(one["properties"]["permissions"], json!([role["permissions"]]), "{}", role["roleName"]);
        assert!(served.contains(&one), "{} is listed as it is read", role["roleName"]);
    }
    Ok(())
}

#[tokio::test]
async fn the_development_application_owns_the_subscription_it_used_first() -> TestResult {
    let harness = world().await?;
    let token = harness.arm_token().await?;
    let oid = claims(&token)["oid"].as_str().ok_or("no oid")?.to_owned();
    let assignments = harness
        .arm(
            Method::GET,
            &format!(
                "{}/providers/Microsoft.Authorization/roleAssignments?$filter=principalId%20eq%20%27{oid}%27&{AUTH_API}",
                subscription()
            ),
            None,
        )
        .await?
        .json();
    let value = assignments["value"].as_array().ok_or("no value")?;
    assert_eq!(value.len(), 1, "{assignments}");
    assert_eq!(
        value[0]["properties"]["roleDefinitionId"],
        format!("/providers/Microsoft.Authorization/roleDefinitions/{OWNER}")
    );
    assert_eq!(value[0]["properties"]["scope"], subscription());
    assert_eq!(value[0]["properties"]["principalType"], "ServicePrincipal");

    // A principal with no role in it does not see the subscription, nor may list its groups.
    let stranger = Principal::new(&harness, "stranger", &[]).await?;
    let listed = stranger.arm(&harness, Method::GET, &format!("subscriptions?{SUBSCRIPTION_API}"), None).await?.json();
    assert_eq!(listed["value"], json!([]));
    let message = stranger
        .arm(&harness, Method::GET, &format!("subscriptions/{DEV_SUBSCRIPTION_ID}/resourcegroups?{RG_API}"), None)
        .await?
        .assert_arm_error(StatusCode::FORBIDDEN, "AuthorizationFailed");
    assert_eq!(message, stranger.refusal("Microsoft.Resources/subscriptions/resourceGroups/read", &subscription()));
    let owned = harness.arm(Method::GET, &format!("subscriptions?{SUBSCRIPTION_API}"), None).await?.json();
    assert_eq!(owned["value"].as_array().map(Vec::len), Some(1));
    Ok(())
}

#[tokio::test]
async fn a_state_file_from_before_rbac_is_owned_by_the_development_application() -> TestResult {
    let directory = tempfile::tempdir()?;
    let path = directory.path().join("state.json");
    let old = json!({
        "version": 1,
        "tenants": {},
        "subscriptions": {DEV_SUBSCRIPTION_ID: {
            "subscriptionId": DEV_SUBSCRIPTION_ID,
            "tenantId": DEV_TENANT_ID,
            "displayName": "old",
            "resourceGroups": {"rg": {"name": "rg", "location": "francecentral", "provisioningState": "Succeeded"}},
            "operations": {},
        }},
    });
    std::fs::write(&path, old.to_string())?;
    let harness = Harness::start(EmulatorOptions { state_file: Some(path), ..EmulatorOptions::default() }).await?;
    let created = harness
        .arm(Method::PUT, &format!("{}?{ACR_API}", registry_id("rg", "exaiacr01")), Some(registry_body()))
        .await?;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    Ok(())
}

#[tokio::test]
async fn the_principals_route_refuses_what_it_cannot_make() -> TestResult {
    let harness = Harness::new().await?;
    for (body, code) in [
        (json!({"displayName": "x", "roles": [{"role": "Wizard", "scope": subscription()}]}), "UnknownRole"),
        (json!({"displayName": "x", "roles": [{"role": "Reader", "scope": "/tenants/x"}]}), "InvalidScope"),
        (json!({"displayName": " "}), "InvalidDisplayName"),
        (json!({"displayName": "x", "extra": 1}), "InvalidRequestContent"),
    ] {
        let reply = harness.admin(Method::POST, "principals", Some(body)).await?;
        assert_eq!((reply.status, reply.code()), (StatusCode::BAD_REQUEST, code.to_owned()), "{}", reply.text);
    }
    // A role by GUID works as by name, and a subscription nobody used yet is created for it.
    let other = "ee000000-0000-4000-8000-0000000000bb";
    let principal = Principal::new(
        &harness,
        "by-guid",
        &[("acdd72a7-3385-48ef-bd42-f606fba81ae7", &format!("/subscriptions/{other}"))],
    )
    .await?;
    let read = principal.arm(&harness, Method::GET, &format!("subscriptions/{other}?{SUBSCRIPTION_API}"), None).await?;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    Ok(())
}
