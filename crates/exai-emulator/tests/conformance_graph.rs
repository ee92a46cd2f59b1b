//! Conformance tests for Microsoft Graph, the token endpoint's application logins and the
//! GitHub-like OIDC issuer: a real emulator on `127.0.0.1:0`, spoken to over HTTPS by reqwest
//! trusting only the emulator's CA, checked against Graph's and Entra's documented shapes, codes
//! and messages.

use std::error::Error;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use exai_emulator::{DEV_CLIENT_ID, DEV_CLIENT_SECRET, DEV_TENANT_ID, RequestKind};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

mod common;

use common::{ARM_SCOPE, GRAPH_SCOPE, Harness, Reply, TestResult, claims, keys, set, text, with_json, with_query};

const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
const EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const SUBSCRIPTION: &str = "0c000000-0000-4000-8000-0000000000a1";

impl Harness {
    /// Creates an application with a service principal; returns the application and the principal.
    async fn application_with_principal(&self, graph: &str, name: &str) -> Result<(Value, Value), Box<dyn Error>> {
        let application =
            self.graph(Method::POST, "v1.0/applications", graph, Some(json!({"displayName": name}))).await?;
        assert_eq!(application.status, StatusCode::CREATED, "{}", application.text);
        let application = application.json();
        let principal = self
            .graph(Method::POST, "v1.0/servicePrincipals", graph, Some(json!({"appId": application["appId"]})))
            .await?;
        assert_eq!(principal.status, StatusCode::CREATED, "{}", principal.text);
        Ok((application, principal.json()))
    }

    /// An ARM read with a token.
    async fn arm_get(&self, token: &str) -> Result<Reply, Box<dyn Error>> {
        let path = format!("subscriptions/{SUBSCRIPTION}/resourcegroups?api-version=2025-04-01");
        self.send(self.client.get(self.url(&path)).bearer_auth(token)).await
    }

    /// Starts a GitHub-like run and returns its request URL and request token.
    async fn github_run(&self, run: Value) -> Result<(String, String), Box<dyn Error>> {
        let reply = self.send(with_json(self.client.post(self.url("_emulator/github/runs")), &run)).await?;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let body = reply.json();
        Ok((text(&body["requestUrl"]), text(&body["requestToken"])))
    }

    /// Fetches the run's OIDC token as `core.getIDToken(audience)` does.
    async fn github_token(&self, run: Value, audience: &str) -> Result<String, Box<dyn Error>> {
        let (url, request_token) = self.github_run(run).await?;
        let reply = self
            .send(
                self.client
                    .get(format!("{url}&audience={audience}"))
                    .header("Authorization", format!("bearer {request_token}")),
            )
            .await?;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        Ok(text(&reply.json()["value"]))
    }

    /// Everything the emulator recorded and saved, as text, for secret hunting.
    fn recorded_text(&self) -> Result<String, Box<dyn Error>> {
        self.emulator.save_state()?;
        let log = serde_json::to_string(&self.emulator.requests())?;
        let state_file = self.state_file().ok_or("no state file")?;
        Ok(format!("{log}\n{}", std::fs::read_to_string(state_file)?))
    }
}

#[tokio::test]
async fn tokens_work_only_for_their_audience() -> TestResult {
    let harness = Harness::persistent().await?;
    let arm = harness.token_for(DEV_TENANT_ID, ARM_SCOPE).await?;
    let graph = harness.token_for(DEV_TENANT_ID, GRAPH_SCOPE).await?;
    // The az CLI's v1-resource form of the Graph scope.
    let cli_graph = harness.token_for(DEV_TENANT_ID, "https://graph.microsoft.com//.default").await?;
    assert_eq!(claims(&graph)["aud"], "https://graph.microsoft.com");

    let reply = harness.graph(Method::GET, "v1.0/applications", &arm, None).await?;
    let message = reply.assert_graph_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken");
    assert_eq!(message, "Access token validation failure. Invalid audience.");
    assert!(reply.header("www-authenticate").is_some_and(|value| value.starts_with("Bearer ")));

    let reply = harness.send(harness.client.get(harness.url("v1.0/applications"))).await?;
    assert_eq!(
        reply.assert_graph_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken"),
        "Access token is empty."
    );

    // Both forms make the same Graph token (ARM's refusal of a Graph token is asserted in
    // conformance.rs, `refuses_unauthenticated_arm_requests`).
    assert_eq!(claims(&cli_graph)["aud"], claims(&graph)["aud"]);
    for token in [&graph, &cli_graph] {
        let reply = harness.graph(Method::GET, "v1.0/applications", token, None).await?;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    }
    assert_eq!(harness.arm_get(&arm).await?.status, StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn applications_are_created_read_filtered_updated_and_deleted() -> TestResult {
    let harness = Harness::persistent().await?;
    let graph = harness.token_for(DEV_TENANT_ID, GRAPH_SCOPE).await?;

    let reply = harness
        .graph(Method::POST, "v1.0/applications", &graph, Some(json!({"displayName": "exai-perso-github-sp"})))
        .await?;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert!(reply.header("request-id").is_some());
    assert!(reply.header("client-request-id").is_some());
    let application = reply.json();
    assert_eq!(application["@odata.context"], "https://graph.microsoft.com/v1.0/$metadata#applications/$entity");
    for member in ["id", "appId"] {
        assert!(uuid::Uuid::parse_str(application[member].as_str().unwrap_or_default()).is_ok(), "{member}");
    }
    assert_eq!(application["displayName"], "exai-perso-github-sp");
    assert_eq!(application["passwordCredentials"], json!([]));
    assert_eq!(application["keyCredentials"], json!([]));
    assert!(application["createdDateTime"].as_str().is_some_and(|time| time.ends_with('Z')));
    let id = text(&application["id"]);
    let app_id = text(&application["appId"]);
    harness.graph(Method::POST, "v1.0/applications", &graph, Some(json!({"displayName": "other"}))).await?;

    // Ids are case-insensitive; the alternate key finds the same application.
    for path in [format!("v1.0/applications/{}", id.to_uppercase()), format!("v1.0/applications(appId='{app_id}')")] {
        let reply = harness.graph(Method::GET, &path, &graph, None).await?;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(reply.json()["id"], id.as_str());
    }

    for filter in ["displayName eq 'exai-perso-github-sp'", "startswith(displayName,'EXAI-perso')"] {
        let reply = harness
            .send(
                harness
                    .client
                    .get(with_query(&harness.url("v1.0/applications"), "$filter", filter))
                    .bearer_auth(&graph),
            )
            .await?;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let body = reply.json();
        assert_eq!(keys(&body), set(&["@odata.context", "value"]));
        assert_eq!(body["value"].as_array().map(Vec::len), Some(1), "{filter}: {}", reply.text);
        assert_eq!(body["value"][0]["id"], id.as_str());
    }
    let unsupported = |property: &str| {
        format!(
            "Unsupported or invalid query filter clause specified for property '{property}' of resource 'application'."
        )
    };
    for (name, value, code, message) in [
        ("$filter", "notes eq 'x'", "Request_UnsupportedQuery", unsupported("notes")),
        ("$filter", "displayName ne 'x'", "Request_UnsupportedQuery", unsupported("displayName")),
        ("$filter", "startswith(appId,'x')", "Request_UnsupportedQuery", unsupported("appId")),
        (
            "$filter",
            "displayName eq 'unterminated",
            "BadRequest",
            "Invalid filter clause: displayName eq 'unterminated".to_owned(),
        ),
        (
            "$filter",
            "displayName eq 'a' and appId eq 'b'",
            "BadRequest",
            "Invalid filter clause: displayName eq 'a' and appId eq 'b'".to_owned(),
        ),
        (
            "$filter",
            "endswith(displayName,'x')",
            "BadRequest",
            "Invalid filter clause: endswith(displayName,'x')".to_owned(),
        ),
        (
            "$top",
            "1",
            "Request_UnsupportedQuery",
            "The emulator does not implement the query option '$top'; only $filter is supported.".to_owned(),
        ),
    ] {
        let reply = harness
            .send(harness.client.get(with_query(&harness.url("v1.0/applications"), name, value)).bearer_auth(&graph))
            .await?;
        assert_eq!(reply.assert_graph_error(StatusCode::BAD_REQUEST, code), message, "{name}={value}");
    }

    let reply = harness
        .graph(Method::PATCH, &format!("v1.0/applications/{id}"), &graph, Some(json!({"notes": "rotated"})))
        .await?;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    assert!(reply.text.is_empty());
    let reply = harness.graph(Method::GET, &format!("v1.0/applications/{id}"), &graph, None).await?;
    assert_eq!(reply.json()["notes"], "rotated");

    let reply =
        harness.graph(Method::PATCH, &format!("v1.0/applications/{id}"), &graph, Some(json!({"web": {}}))).await?;
    let message = reply.assert_graph_error(StatusCode::BAD_REQUEST, "Request_BadRequest");
    assert!(message.contains("'web' does not exist"), "{message}");
    let reply = harness.graph(Method::POST, "v1.0/applications", &graph, Some(json!({"notes": "no name"}))).await?;
    reply.assert_graph_error(StatusCode::BAD_REQUEST, "Request_BadRequest");
    let reply = harness.graph(Method::GET, "v1.0/applications/not-a-guid", &graph, None).await?;
    assert_eq!(
        reply.assert_graph_error(StatusCode::BAD_REQUEST, "Request_BadRequest"),
        "Invalid object identifier 'not-a-guid'."
    );
    let reply = harness.graph(Method::GET, "v1.0/groups", &graph, None).await?;
    reply.assert_graph_error(StatusCode::BAD_REQUEST, "BadRequest");

    let reply = harness.graph(Method::DELETE, &format!("v1.0/applications/{id}"), &graph, None).await?;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let reply = harness
        .send(
            harness
                .client
                .get(harness.url(&format!("v1.0/applications/{id}")))
                .bearer_auth(&graph)
                .header("client-request-id", "my-request-7"),
        )
        .await?;
    let message = reply.assert_graph_error(StatusCode::NOT_FOUND, "Request_ResourceNotFound");
    assert!(message.starts_with(&format!("Resource '{id}' does not exist")), "{message}");
    assert_eq!(reply.header("client-request-id"), Some("my-request-7"));
    assert_eq!(reply.json()["error"]["innerError"]["client-request-id"], "my-request-7");

    let writes = harness
        .emulator
        .requests()
        .iter()
        .filter(|request| request.kind == RequestKind::Graph && request.is_write())
        .count();
    assert_eq!(writes, 6);
    Ok(())
}

#[tokio::test]
async fn passwords_are_shown_once_and_log_the_application_in() -> TestResult {
    let harness = Harness::persistent().await?;
    let graph = harness.token_for(DEV_TENANT_ID, GRAPH_SCOPE).await?;
    let reply = harness.graph(Method::POST, "v1.0/applications", &graph, Some(json!({"displayName": "ci"}))).await?;
    let application = reply.json();
    let (id, app_id) = (text(&application["id"]), text(&application["appId"]));

    let reply = harness
        .graph(
            Method::POST,
            &format!("v1.0/applications/{id}/addPassword"),
            &graph,
            Some(json!({"passwordCredential": {"displayName": "rbac"}})),
        )
        .await?;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let password = reply.json();
    for member in ["keyId", "startDateTime", "endDateTime", "hint", "secretText"] {
        assert!(password[member].is_string(), "{member}: {}", reply.text);
    }
    assert_eq!(password["displayName"], "rbac");
    let secret = text(&password["secretText"]);
    assert_eq!(secret.len(), 40);
    assert!(secret.starts_with(password["hint"].as_str().unwrap_or("?")));
    let key_id = text(&password["keyId"]);

    let listed = harness.graph(Method::GET, &format!("v1.0/applications/{id}"), &graph, None).await?.json();
    assert_eq!(listed["passwordCredentials"][0]["keyId"], key_id.as_str());
    assert_eq!(listed["passwordCredentials"][0]["secretText"], Value::Null);

    let login = [("client_id", app_id.as_str()), ("client_secret", secret.as_str()), ("scope", ARM_SCOPE)];
    // No service principal in the tenant yet.
    harness.client_credentials(DEV_TENANT_ID, &login).await?.assert_entra_error(
        StatusCode::BAD_REQUEST,
        "invalid_client",
        7000229,
    );
    let reply = harness.graph(Method::POST, "v1.0/servicePrincipals", &graph, Some(json!({"appId": app_id}))).await?;
    let principal_id = text(&reply.json()["id"]);
    let arm = harness.token(DEV_TENANT_ID, &login).await?;
    assert_eq!(claims(&arm)["appid"], app_id.as_str());
    assert_eq!(claims(&arm)["oid"], principal_id.as_str());
    assert_eq!(harness.arm_get(&arm).await?.status, StatusCode::OK);
    // Another tenant does not know the application.
    harness.client_credentials("0d000000-0000-4000-8000-000000000001", &login).await?.assert_entra_error(
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
        700016,
    );
    // An application registered through Graph holds no Graph permissions.
    let own_graph = harness
        .token(DEV_TENANT_ID, &[("client_id", &app_id), ("client_secret", &secret), ("scope", GRAPH_SCOPE)])
        .await?;
    harness
        .graph(Method::GET, "v1.0/applications", &own_graph, None)
        .await?
        .assert_graph_error(StatusCode::FORBIDDEN, "Authorization_RequestDenied");

    let wrong = [("client_id", app_id.as_str()), ("client_secret", "not-the-secret"), ("scope", ARM_SCOPE)];
    harness.client_credentials(DEV_TENANT_ID, &wrong).await?.assert_entra_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        7000215,
    );

    let reply = harness
        .graph(Method::POST, &format!("v1.0/applications/{id}/removePassword"), &graph, Some(json!({"keyId": key_id})))
        .await?;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    harness.client_credentials(DEV_TENANT_ID, &login).await?.assert_entra_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        7000215,
    );

    let expired = harness
        .graph(
            Method::POST,
            &format!("v1.0/applications/{id}/addPassword"),
            &graph,
            Some(json!({"passwordCredential": {"startDateTime": "2020-01-01T00:00:00Z", "endDateTime": "2021-01-01T00:00:00Z"}})),
        )
        .await?
        .json();
    let expired_secret = text(&expired["secretText"]);
    let login = [("client_id", app_id.as_str()), ("client_secret", expired_secret.as_str()), ("scope", ARM_SCOPE)];
    harness.client_credentials(DEV_TENANT_ID, &login).await?.assert_entra_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        7000222,
    );

    let recorded = harness.recorded_text()?;
    for leaked in [&secret, &expired_secret, &arm] {
        assert!(!recorded.contains(leaked.as_str()), "a secret or token was recorded");
    }
    assert!(recorded.contains(&key_id), "the state file keeps the password's keyId");
    Ok(())
}

#[tokio::test]
async fn service_principals_follow_their_application_and_register_as_principals() -> TestResult {
    let harness = Harness::persistent().await?;
    let graph = harness.token_for(DEV_TENANT_ID, GRAPH_SCOPE).await?;
    let unknown = "0e000000-0000-4000-8000-000000000001";
    let reply = harness.graph(Method::POST, "v1.0/servicePrincipals", &graph, Some(json!({"appId": unknown}))).await?;
    let message = reply.assert_graph_error(StatusCode::BAD_REQUEST, "Request_BadRequest");
    assert_eq!(
        message,
        format!("The appId '{unknown}' of the service principal does not reference a valid application object.")
    );

    let (application, principal) = harness.application_with_principal(&graph, "exai-perso-github-sp").await?;
    let app_id = text(&application["appId"]);
    let id = text(&principal["id"]);
    assert_eq!(principal["@odata.context"], "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals/$entity");
    assert_eq!(principal["appId"], app_id.as_str());
    assert_eq!(principal["displayName"], "exai-perso-github-sp");
    assert_eq!(principal["accountEnabled"], true);
    assert_eq!(principal["servicePrincipalType"], "Application");

    let reply = harness.graph(Method::POST, "v1.0/servicePrincipals", &graph, Some(json!({"appId": app_id}))).await?;
    reply.assert_graph_error(StatusCode::CONFLICT, "Request_MultipleObjectsWithSameKeyValue");

    for filter in [format!("appId eq '{app_id}'"), "displayName eq 'exai-perso-github-sp'".to_owned()] {
        let reply = harness
            .send(
                harness
                    .client
                    .get(with_query(&harness.url("v1.0/servicePrincipals"), "$filter", &filter))
                    .bearer_auth(&graph),
            )
            .await?;
        assert_eq!(reply.json()["value"][0]["id"], id.as_str(), "{filter}: {}", reply.text);
    }
    let reply = harness.graph(Method::GET, &format!("v1.0/servicePrincipals/{id}"), &graph, None).await?;
    assert_eq!(reply.status, StatusCode::OK);

    harness.emulator.save_state()?;
    let state: Value = serde_json::from_str(&std::fs::read_to_string(harness.state_file().ok_or("no state file")?)?)?;
    let registered = &state["tenants"][DEV_TENANT_ID]["principals"][&id];
    assert_eq!(registered["principalType"], "ServicePrincipal");
    assert_eq!(registered["source"], "application");
    assert_eq!(registered["appId"], app_id.as_str());

    let reply = harness.graph(Method::DELETE, &format!("v1.0/servicePrincipals/{id}"), &graph, None).await?;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    harness
        .graph(Method::GET, &format!("v1.0/servicePrincipals/{id}"), &graph, None)
        .await?
        .assert_graph_error(StatusCode::NOT_FOUND, "Request_ResourceNotFound");
    harness.emulator.save_state()?;
    let state: Value = serde_json::from_str(&std::fs::read_to_string(harness.state_file().ok_or("no state file")?)?)?;
    assert_eq!(state["tenants"][DEV_TENANT_ID]["principals"][&id], Value::Null);

    // Deleting an application deletes its service principal.
    let (application, principal) = harness.application_with_principal(&graph, "second").await?;
    harness.graph(Method::DELETE, &format!("v1.0/applications/{}", text(&application["id"])), &graph, None).await?;
    harness
        .graph(Method::GET, &format!("v1.0/servicePrincipals/{}", text(&principal["id"])), &graph, None)
        .await?
        .assert_graph_error(StatusCode::NOT_FOUND, "Request_ResourceNotFound");
    Ok(())
}

fn credential(name: &str, subject: &str) -> Value {
    json!({"name": name, "issuer": GITHUB_ISSUER, "subject": subject, "audiences": [EXCHANGE_AUDIENCE]})
}

#[tokio::test]
async fn federated_credentials_enforce_graphs_rules() -> TestResult {
    let harness = Harness::persistent().await?;
    let graph = harness.token_for(DEV_TENANT_ID, GRAPH_SCOPE).await?;
    let application =
        harness.graph(Method::POST, "v1.0/applications", &graph, Some(json!({"displayName": "fic"}))).await?.json();
    let id = text(&application["id"]);
    let collection = format!("v1.0/applications/{id}/federatedIdentityCredentials");

    let reply = harness
        .graph(Method::POST, &collection, &graph, Some(credential("github-main", "repo:exai/demo:ref:refs/heads/main")))
        .await?;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let created = reply.json();
    assert_eq!(
        created["@odata.context"],
        format!("https://graph.microsoft.com/v1.0/$metadata#applications('{id}')/federatedIdentityCredentials/$entity")
    );
    assert_eq!(keys(&created), set(&["@odata.context", "id", "name", "issuer", "subject", "description", "audiences"]));
    assert_eq!(created["audiences"], json!([EXCHANGE_AUDIENCE]));

    let reply = harness
        .graph(Method::POST, &collection, &graph, Some(credential("GitHub-Main", "repo:exai/demo:environment:prod")))
        .await?;
    let message = reply.assert_graph_error(StatusCode::CONFLICT, "Request_MultipleObjectsWithSameKeyValue");
    assert_eq!(message, "FederatedIdentityCredential with name GitHub-Main already exists.");
    let reply = harness
        .graph(Method::POST, &collection, &graph, Some(credential("again", "repo:exai/demo:ref:refs/heads/main")))
        .await?;
    reply.assert_graph_error(StatusCode::BAD_REQUEST, "InvalidFederatedIdentityCredentialValue");

    let mut two_audiences = credential("two", "s2");
    two_audiences["audiences"] = json!([EXCHANGE_AUDIENCE, "api://other"]);
    let mut no_audience = credential("none", "s3");
    no_audience["audiences"] = json!([]);
    let mut long_issuer = credential("long-issuer", "s4");
    long_issuer["issuer"] = json!(format!("https://example.com/{}", "a".repeat(600)));
    let mut no_name = credential("x", "s5");
    no_name.as_object_mut().map(|members| members.remove("name"));
    for invalid in [
        two_audiences,
        no_audience,
        long_issuer,
        no_name,
        credential(&"n".repeat(121), "s6"),
        credential("not url friendly", "s7"),
        credential("long-subject", &"s".repeat(601)),
    ] {
        let reply = harness.graph(Method::POST, &collection, &graph, Some(invalid.clone())).await?;
        reply.assert_graph_error(StatusCode::BAD_REQUEST, "Request_BadRequest");
    }
    let reply = harness.graph(Method::POST, &collection, &graph, Some(credential(&"n".repeat(120), "s8"))).await?;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);

    for index in 3..=20 {
        let reply = harness
            .graph(Method::POST, &collection, &graph, Some(credential(&format!("c{index}"), &format!("sub-{index}"))))
            .await?;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    }
    let reply = harness.graph(Method::POST, &collection, &graph, Some(credential("c21", "sub-21"))).await?;
    let message = reply.assert_graph_error(StatusCode::BAD_REQUEST, "Request_BadRequest");
    assert!(message.contains("(20)"), "{message}");
    let listed = harness.graph(Method::GET, &collection, &graph, None).await?.json();
    assert_eq!(listed["value"].as_array().map(Vec::len), Some(20));

    let by_name = format!("{collection}/github-main");
    let by_id = format!("{collection}/{}", text(&created["id"]).to_uppercase());
    for path in [&by_name, &by_id] {
        let reply = harness.graph(Method::GET, path, &graph, None).await?;
        assert_eq!(reply.json()["id"], created["id"], "{path}");
    }
    let reply = harness.graph(Method::PATCH, &by_name, &graph, Some(json!({"name": "renamed"}))).await?;
    reply.assert_graph_error(StatusCode::BAD_REQUEST, "Request_BadRequest");
    let reply = harness
        .graph(Method::PATCH, &by_name, &graph, Some(json!({"subject": "repo:exai/demo:environment:prod"})))
        .await?;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    assert_eq!(
        harness.graph(Method::GET, &by_id, &graph, None).await?.json()["subject"],
        "repo:exai/demo:environment:prod"
    );
    let reply = harness.graph(Method::DELETE, &by_name, &graph, None).await?;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    harness
        .graph(Method::GET, &by_id, &graph, None)
        .await?
        .assert_graph_error(StatusCode::NOT_FOUND, "Request_ResourceNotFound");
    Ok(())
}

/// Sets up an application with a service principal and one federated credential for `subject`;
/// returns its appId.
async fn federated_application(harness: &Harness, subject: &str) -> Result<String, Box<dyn Error>> {
    let graph = harness.token_for(DEV_TENANT_ID, GRAPH_SCOPE).await?;
    let (application, _) = harness.application_with_principal(&graph, "github-oidc").await?;
    let path = format!("v1.0/applications/{}/federatedIdentityCredentials", text(&application["id"]));
    let reply = harness.graph(Method::POST, &path, &graph, Some(credential("github-main", subject))).await?;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    Ok(text(&application["appId"]))
}

#[tokio::test]
async fn a_github_workflow_logs_in_with_its_oidc_token() -> TestResult {
    let harness = Harness::persistent().await?;
    let app_id = federated_application(&harness, "repo:exai/demo:ref:refs/heads/main").await?;

    let (request_url, request_token) =
        harness.github_run(json!({"repository": "exai/demo", "ref": "refs/heads/main"})).await?;
    assert_eq!(request_url, harness.url("_emulator/github/oidc/token?api-version=2.0"));
    let reply = harness
        .send(
            harness
                .client
                .get(format!("{request_url}&audience={EXCHANGE_AUDIENCE}"))
                .header("Authorization", format!("bearer {request_token}")),
        )
        .await?;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let assertion = text(&reply.json()["value"]);
    let claims = claims(&assertion);
    assert_eq!(claims["iss"], GITHUB_ISSUER);
    assert_eq!(claims["sub"], "repo:exai/demo:ref:refs/heads/main");
    assert_eq!(claims["aud"], EXCHANGE_AUDIENCE);
    assert_eq!(claims["repository"], "exai/demo");
    assert_eq!(claims["ref"], "refs/heads/main");
    assert_eq!(claims["job_workflow_ref"], "exai/demo/.github/workflows/deploy.yml@refs/heads/main");
    let lifetime = claims["exp"].as_i64().unwrap_or(0) - claims["iat"].as_i64().unwrap_or(0);
    assert_eq!(lifetime, 300);

    let arm = harness
        .token(
            DEV_TENANT_ID,
            &[
                ("client_id", &app_id),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &assertion),
                ("scope", ARM_SCOPE),
            ],
        )
        .await?;
    let reply = harness.arm_get(&arm).await?;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);

    // Without the request token, the OIDC endpoint refuses.
    let reply = harness.send(harness.client.get(format!("{request_url}&audience={EXCHANGE_AUDIENCE}"))).await?;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    let recorded = harness.recorded_text()?;
    for leaked in [&request_token, &assertion, &arm] {
        assert!(!recorded.contains(leaked.as_str()), "a token was recorded");
    }
    Ok(())
}

#[tokio::test]
async fn github_subjects_follow_githubs_formats() -> TestResult {
    let harness = Harness::persistent().await?;
    for (run, subject) in [
        (json!({"repository": "exai/demo", "environment": "prod"}), "repo:exai/demo:environment:prod"),
        (json!({"repository": "exai/demo", "pullRequest": true}), "repo:exai/demo:pull_request"),
        (json!({"repository": "exai/demo", "ref": "refs/tags/v1"}), "repo:exai/demo:ref:refs/tags/v1"),
    ] {
        let token = harness.github_token(run, EXCHANGE_AUDIENCE).await?;
        assert_eq!(claims(&token)["sub"], subject);
    }
    for invalid in [
        json!({"repository": "no-slash"}),
        json!({"repository": "a/b", "ref": "main"}),
        json!({"repository": "a/b", "extra": 1}),
    ] {
        let reply =
            harness.send(with_json(harness.client.post(harness.url("_emulator/github/runs")), &invalid)).await?;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{invalid}");
    }
    Ok(())
}

#[tokio::test]
async fn client_assertions_are_refused_with_entras_codes() -> TestResult {
    let harness = Harness::persistent().await?;
    let app_id = federated_application(&harness, "repo:exai/demo:ref:refs/heads/main").await?;
    let login = |assertion: String| {
        let app_id = app_id.clone();
        let harness = &harness;
        async move {
            harness
                .client_credentials(
                    DEV_TENANT_ID,
                    &[
                        ("client_id", &app_id),
                        ("client_assertion_type", JWT_BEARER),
                        ("client_assertion", &assertion),
                        ("scope", ARM_SCOPE),
                    ],
                )
                .await
        }
    };
    let main = json!({"repository": "exai/demo", "ref": "refs/heads/main"});

    login("not-a-jwt".to_owned()).await?.assert_entra_error(StatusCode::BAD_REQUEST, "invalid_request", 50027);

    for (run, audience) in [
        (json!({"repository": "exai/demo", "environment": "prod"}), EXCHANGE_AUDIENCE),
        (json!({"repository": "exai/demo", "pullRequest": true}), EXCHANGE_AUDIENCE),
        (json!({"repository": "Exai/demo", "ref": "refs/heads/main"}), EXCHANGE_AUDIENCE),
        (main.clone(), "api://other"),
    ] {
        let assertion = harness.github_token(run.clone(), audience).await?;
        let description = login(assertion).await?.assert_entra_error(StatusCode::BAD_REQUEST, "invalid_request", 70021);
        assert!(description.contains("No matching federated identity record found"), "{run}: {description}");
    }

    // A token whose claims were changed no longer carries the issuer's signature.
    let genuine = harness.github_token(json!({"repository": "exai/other"}), EXCHANGE_AUDIENCE).await?;
    let mut forged_claims = claims(&genuine);
    forged_claims["sub"] = json!("repo:exai/demo:ref:refs/heads/main");
    let parts: Vec<&str> = genuine.split('.').collect();
    let forged = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(forged_claims.to_string()), parts[2]);
    login(forged).await?.assert_entra_error(StatusCode::UNAUTHORIZED, "invalid_client", 700027);

    let mut expired_run = main.clone();
    expired_run["tokenLifetimeSeconds"] = json!(-60);
    let expired = harness.github_token(expired_run, EXCHANGE_AUDIENCE).await?;
    let description = login(expired).await?.assert_entra_error(StatusCode::UNAUTHORIZED, "invalid_client", 700024);
    assert!(description.contains("Client assertion is not within its valid time range."), "{description}");

    // Both credentials, or an assertion of another type, are refused.
    let valid = harness.github_token(main, EXCHANGE_AUDIENCE).await?;
    harness
        .client_credentials(
            DEV_TENANT_ID,
            &[
                ("client_id", &app_id),
                ("client_assertion", &valid),
                ("client_assertion_type", "jwt"),
                ("scope", ARM_SCOPE),
            ],
        )
        .await?
        .assert_entra_error(StatusCode::BAD_REQUEST, "invalid_request", 900144);
    harness
        .client_credentials(
            DEV_TENANT_ID,
            &[
                ("client_id", &app_id),
                ("client_assertion", &valid),
                ("client_assertion_type", JWT_BEARER),
                ("client_secret", "x"),
                ("scope", ARM_SCOPE),
            ],
        )
        .await?
        .assert_entra_error(StatusCode::BAD_REQUEST, "invalid_request", 900144);
    assert_eq!(login(valid).await?.status, StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn applications_and_their_passwords_survive_a_restart() -> TestResult {
    let harness = Harness::persistent().await?;
    let graph = harness.token_for(DEV_TENANT_ID, GRAPH_SCOPE).await?;
    let (application, principal) = harness.application_with_principal(&graph, "persisted").await?;
    let path = format!("v1.0/applications/{}/addPassword", text(&application["id"]));
    let secret = text(&harness.graph(Method::POST, &path, &graph, Some(json!({}))).await?.json()["secretText"]);
    let harness = harness.restart().await?;
    let app_id = text(&application["appId"]);
    let arm = harness
        .token(DEV_TENANT_ID, &[("client_id", &app_id), ("client_secret", &secret), ("scope", ARM_SCOPE)])
        .await?;
    assert_eq!(claims(&arm)["oid"], principal["id"]);
    Ok(())
}

const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
const APPLICATION_READ_ALL: &str = "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30";
const APPLICATION_READ_WRITE_ALL: &str = "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9";
const APPLICATION_READ_WRITE_OWNED_BY: &str = "18a4783c-866b-4cc7-a460-3d5e5662c884";
const DIRECTORY_READ_ALL: &str = "7ab1d382-f21e-4acd-a863-ba3e13f7da61";

impl Harness {
    /// Returns Microsoft Graph's service principal in the development tenant, found by appId.
    async fn graph_principal(&self, graph: &str) -> Result<Value, Box<dyn Error>> {
        let reply =
            self.graph(Method::GET, &format!("v1.0/servicePrincipals(appId='{GRAPH_APP_ID}')"), graph, None).await?;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        Ok(reply.json())
    }

    /// A GET with a `$filter`.
    async fn filtered(&self, path: &str, filter: &str, token: &str) -> Result<Reply, Box<dyn Error>> {
        self.send(self.client.get(with_query(&self.url(path), "$filter", filter)).bearer_auth(token)).await
    }

    /// Creates an application with a service principal and a password; returns the application,
    /// the principal and the secret.
    async fn application_with_secret(&self, graph: &str, name: &str) -> Result<(Value, Value, String), Box<dyn Error>> {
        let (application, principal) = self.application_with_principal(graph, name).await?;
        let path = format!("v1.0/applications/{}/addPassword", text(&application["id"]));
        let reply = self.graph(Method::POST, &path, graph, Some(json!({}))).await?;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let secret = text(&reply.json()["secretText"]);
        Ok((application, principal, secret))
    }
}

fn assignment_body(principal_id: &str, resource_id: &str, app_role_id: &str) -> Value {
    json!({"principalId": principal_id, "resourceId": resource_id, "appRoleId": app_role_id})
}

#[tokio::test]
async fn microsoft_graphs_service_principal_is_in_every_tenant_with_its_app_roles() -> TestResult {
    let harness = Harness::persistent().await?;
    let graph = harness.token_for(DEV_TENANT_ID, GRAPH_SCOPE).await?;
    let principal = harness.graph_principal(&graph).await?;
    let id = text(&principal["id"]);
    assert_eq!(principal["@odata.context"], "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals/$entity");
    assert_eq!(principal["appId"], GRAPH_APP_ID);
    assert_eq!(principal["displayName"], "Microsoft Graph");
    assert_eq!(principal["servicePrincipalType"], "Application");
    assert_eq!(principal["appOwnerOrganizationId"], "f8cdef31-a31e-4b4a-93e4-5f571e91255a");
    let roles = principal["appRoles"].as_array().cloned().unwrap_or_default();
    for (role_id, value) in [
        (APPLICATION_READ_ALL, "Application.Read.All"),
        (APPLICATION_READ_WRITE_ALL, "Application.ReadWrite.All"),
        (APPLICATION_READ_WRITE_OWNED_BY, "Application.ReadWrite.OwnedBy"),
        (DIRECTORY_READ_ALL, "Directory.Read.All"),
    ] {
        let role = roles.iter().find(|role| role["id"] == role_id).ok_or(value)?;
        assert_eq!(role["value"], value);
        assert_eq!(role["allowedMemberTypes"], json!(["Application"]));
        assert_eq!(role["isEnabled"], true);
        assert_eq!(role["origin"], "Application");
        assert!(role["displayName"].is_string() && role["description"].is_string(), "{role}");
    }

    // By object id, by $filter and in the unfiltered list; stable for the tenant.
    let by_id = harness.graph(Method::GET, &format!("v1.0/servicePrincipals/{id}"), &graph, None).await?;
    assert_eq!(by_id.json()["appId"], GRAPH_APP_ID, "{}", by_id.text);
    let filtered = harness.filtered("v1.0/servicePrincipals", &format!("appId eq '{GRAPH_APP_ID}'"), &graph).await?;
    assert_eq!(filtered.json()["value"].as_array().map(Vec::len), Some(1), "{}", filtered.text);
    assert_eq!(filtered.json()["value"][0]["id"], id.as_str());
    let all = harness.graph(Method::GET, "v1.0/servicePrincipals", &graph, None).await?.json();
    assert!(all["value"].as_array().is_some_and(|value| value.iter().any(|principal| principal["id"] == id.as_str())));
    assert_eq!(harness.graph_principal(&graph).await?["id"], id.as_str());

    // Another tenant has its own.
    let other = harness
        .token(
            "0d000000-0000-4000-8000-000000000002",
            &[("client_id", DEV_CLIENT_ID), ("client_secret", DEV_CLIENT_SECRET), ("scope", GRAPH_SCOPE)],
        )
        .await?;
    let elsewhere = harness.graph_principal(&other).await?;
    assert_eq!(elsewhere["appId"], GRAPH_APP_ID);
    assert_ne!(elsewhere["id"], id.as_str());

    // No one may change or delete it, nor create a second one.
    let path = format!("v1.0/servicePrincipals/{id}");
    harness
        .graph(Method::PATCH, &path, &graph, Some(json!({"tags": ["mine"]})))
        .await?
        .assert_graph_error(StatusCode::FORBIDDEN, "Authorization_RequestDenied");
    harness
        .graph(Method::DELETE, &path, &graph, None)
        .await?
        .assert_graph_error(StatusCode::FORBIDDEN, "Authorization_RequestDenied");
    harness
        .graph(Method::POST, "v1.0/servicePrincipals", &graph, Some(json!({"appId": GRAPH_APP_ID})))
        .await?
        .assert_graph_error(StatusCode::CONFLICT, "Request_MultipleObjectsWithSameKeyValue");
    assert_eq!(harness.graph_principal(&graph).await?["id"], id.as_str());
    Ok(())
}

#[tokio::test]
async fn granted_application_permissions_let_an_application_read_graph() -> TestResult {
    let harness = Harness::persistent().await?;
    let graph = harness.token_for(DEV_TENANT_ID, GRAPH_SCOPE).await?;
    let graph_id = text(&harness.graph_principal(&graph).await?["id"]);
    let (application, principal, secret) = harness.application_with_secret(&graph, "reader").await?;
    let (app_id, principal_id) = (text(&application["appId"]), text(&principal["id"]));
    let (other, _) = harness.application_with_principal(&graph, "other").await?;
    let other_id = text(&other["id"]);
    let fic = format!("v1.0/applications/{other_id}/federatedIdentityCredentials");
    let reply = harness
        .graph(Method::POST, &fic, &graph, Some(credential("main", "repo:exai/demo:ref:refs/heads/main")))
        .await?;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);

    let login = [("client_id", app_id.as_str()), ("client_secret", secret.as_str()), ("scope", GRAPH_SCOPE)];
    let token = harness.token(DEV_TENANT_ID, &login).await?;
    let by_name = "displayName eq 'other'";
    let by_app_id = format!("appId eq '{}'", text(&other["appId"]));
    // No permission yet: every read and write is refused.
    for reply in [
        harness.filtered("v1.0/applications", by_name, &token).await?,
        harness.filtered("v1.0/servicePrincipals", &by_app_id, &token).await?,
        harness.graph(Method::GET, &fic, &token, None).await?,
        harness.graph(Method::POST, "v1.0/applications", &token, Some(json!({"displayName": "x"}))).await?,
    ] {
        let message = reply.assert_graph_error(StatusCode::FORBIDDEN, "Authorization_RequestDenied");
        assert_eq!(message, "Insufficient privileges to complete the operation.");
    }

    // The development application grants Application.Read.All from the resource's side.
    let granted_to = format!("v1.0/servicePrincipals/{graph_id}/appRoleAssignedTo");
    let reply = harness
        .graph(Method::POST, &granted_to, &graph, Some(assignment_body(&principal_id, &graph_id, APPLICATION_READ_ALL)))
        .await?;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let assignment = reply.json();
    assert_eq!(
        assignment["@odata.context"],
        format!("https://graph.microsoft.com/v1.0/$metadata#servicePrincipals('{graph_id}')/appRoleAssignedTo/$entity")
    );
    let shape = set(&[
        "id",
        "deletedDateTime",
        "appRoleId",
        "createdDateTime",
        "principalDisplayName",
        "principalId",
        "principalType",
        "resourceDisplayName",
        "resourceId",
    ]);
    let mut with_context = shape.clone();
    with_context.insert("@odata.context".to_owned());
    assert_eq!(keys(&assignment), with_context, "{assignment}");
    assert_eq!(assignment["deletedDateTime"], Value::Null);
    assert_eq!(assignment["appRoleId"], APPLICATION_READ_ALL);
    assert_eq!(assignment["principalId"], principal_id.as_str());
    assert_eq!(assignment["principalDisplayName"], "reader");
    assert_eq!(assignment["principalType"], "ServicePrincipal");
    assert_eq!(assignment["resourceId"], graph_id.as_str());
    assert_eq!(assignment["resourceDisplayName"], "Microsoft Graph");
    assert!(assignment["createdDateTime"].as_str().is_some_and(|time| time.ends_with('Z')));
    let assignment_id = text(&assignment["id"]);
    assert_eq!(assignment_id.len(), 43, "{assignment_id}");

    // The same token now reads applications, service principals and federated credentials.
    let reply = harness.filtered("v1.0/applications", by_name, &token).await?;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["value"][0]["id"], other_id.as_str());
    let reply = harness.filtered("v1.0/servicePrincipals", &by_app_id, &token).await?;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["value"][0]["appId"], other["appId"]);
    let reply = harness.graph(Method::GET, &fic, &token, None).await?;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["value"][0]["name"], "main");
    // But it writes nothing, and cannot grant itself more.
    for reply in [
        harness.graph(Method::POST, "v1.0/applications", &token, Some(json!({"displayName": "x"}))).await?,
        harness.graph(Method::DELETE, &format!("v1.0/applications/{other_id}"), &token, None).await?,
        harness
            .graph(
                Method::POST,
                &granted_to,
                &token,
                Some(assignment_body(&principal_id, &graph_id, APPLICATION_READ_WRITE_ALL)),
            )
            .await?,
    ] {
        reply.assert_graph_error(StatusCode::FORBIDDEN, "Authorization_RequestDenied");
    }

    // Both sides list the grant, with the documented shape.
    let held = format!("v1.0/servicePrincipals/{principal_id}/appRoleAssignments");
    for (path, fragment) in [
        (held.clone(), format!("servicePrincipals('{principal_id}')/appRoleAssignments")),
        (granted_to.clone(), format!("servicePrincipals('{graph_id}')/appRoleAssignedTo")),
        (
            format!("v1.0/servicePrincipals(appId='{app_id}')/appRoleAssignments"),
            format!("servicePrincipals('{principal_id}')/appRoleAssignments"),
        ),
        (
            format!("v1.0/servicePrincipals(appId='{GRAPH_APP_ID}')/appRoleAssignedTo"),
            format!("servicePrincipals('{graph_id}')/appRoleAssignedTo"),
        ),
    ] {
        for token in [&graph, &token] {
            let reply = harness.graph(Method::GET, &path, token, None).await?;
            assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
            let list = reply.json();
            assert_eq!(keys(&list), set(&["@odata.context", "value"]));
            assert_eq!(list["@odata.context"], format!("https://graph.microsoft.com/v1.0/$metadata#{fragment}"));
            assert_eq!(list["value"].as_array().map(Vec::len), Some(1), "{path}: {}", reply.text);
            assert_eq!(keys(&list["value"][0]), shape);
            assert_eq!(list["value"][0]["id"], assignment_id.as_str());
        }
    }
    // The other application holds nothing.
    let reply = harness
        .graph(
            Method::GET,
            &format!("v1.0/servicePrincipals(appId='{}')/appRoleAssignments", text(&other["appId"])),
            &graph,
            None,
        )
        .await?;
    assert_eq!(reply.json()["value"], json!([]), "{}", reply.text);

    // Revoking it (from the principal's side) refuses the same token at once.
    let reply = harness.graph(Method::DELETE, &format!("{held}/{assignment_id}"), &graph, None).await?;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    harness
        .filtered("v1.0/applications", by_name, &token)
        .await?
        .assert_graph_error(StatusCode::FORBIDDEN, "Authorization_RequestDenied");
    harness
        .graph(Method::DELETE, &format!("{held}/{assignment_id}"), &graph, None)
        .await?
        .assert_graph_error(StatusCode::NOT_FOUND, "Request_ResourceNotFound");

    // Application.ReadWrite.All allows writes, granted from the principal's side.
    let reply = harness
        .graph(Method::POST, &held, &graph, Some(assignment_body(&principal_id, &graph_id, APPLICATION_READ_WRITE_ALL)))
        .await?;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(
        reply.json()["@odata.context"],
        format!(
            "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals('{principal_id}')/appRoleAssignments/$entity"
        )
    );
    let written_id = text(&reply.json()["id"]);
    let reply = harness.graph(Method::POST, "v1.0/applications", &token, Some(json!({"displayName": "made"}))).await?;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    // ... and it is revoked from the resource's side.
    let reply = harness.graph(Method::DELETE, &format!("{granted_to}/{written_id}"), &graph, None).await?;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);

    // Application.ReadWrite.OwnedBy allows no write (owners are not modeled), nor reads.
    let reply = harness
        .graph(
            Method::POST,
            &held,
            &graph,
            Some(assignment_body(&principal_id, &graph_id, APPLICATION_READ_WRITE_OWNED_BY)),
        )
        .await?;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    harness
        .graph(Method::POST, "v1.0/applications", &token, Some(json!({"displayName": "x"})))
        .await?
        .assert_graph_error(StatusCode::FORBIDDEN, "Authorization_RequestDenied");
    // Directory.Read.All reads.
    let reply = harness
        .graph(Method::POST, &held, &graph, Some(assignment_body(&principal_id, &graph_id, DIRECTORY_READ_ALL)))
        .await?;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(harness.filtered("v1.0/applications", by_name, &token).await?.status, StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn app_role_assignments_are_validated_as_graph_does() -> TestResult {
    let harness = Harness::persistent().await?;
    let graph = harness.token_for(DEV_TENANT_ID, GRAPH_SCOPE).await?;
    let graph_id = text(&harness.graph_principal(&graph).await?["id"]);
    let (application, principal) = harness.application_with_principal(&graph, "client").await?;
    let principal_id = text(&principal["id"]);
    let held = format!("v1.0/servicePrincipals/{principal_id}/appRoleAssignments");
    let granted_to = format!("v1.0/servicePrincipals/{graph_id}/appRoleAssignedTo");

    let reply = harness
        .graph(Method::POST, &held, &graph, Some(assignment_body(&principal_id, &graph_id, DIRECTORY_READ_ALL)))
        .await?;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    // A duplicate, from either side.
    for path in [&held, &granted_to] {
        let reply = harness
            .graph(Method::POST, path, &graph, Some(assignment_body(&principal_id, &graph_id, DIRECTORY_READ_ALL)))
            .await?;
        let message = reply.assert_graph_error(StatusCode::BAD_REQUEST, "Request_BadRequest");
        assert_eq!(message, "Permission being assigned already exists on the object");
    }
    // A role Microsoft Graph does not define.
    let unknown_role = "0f000000-0000-4000-8000-000000000001";
    let reply = harness
        .graph(Method::POST, &held, &graph, Some(assignment_body(&principal_id, &graph_id, unknown_role)))
        .await?;
    let message = reply.assert_graph_error(StatusCode::BAD_REQUEST, "Request_BadRequest");
    assert_eq!(message, format!("Permission being assigned was not found on application '{GRAPH_APP_ID}'."));
    // An unknown principal or resource.
    let nobody = "0f000000-0000-4000-8000-000000000002";
    let reply = harness
        .graph(Method::POST, &granted_to, &graph, Some(assignment_body(nobody, &graph_id, APPLICATION_READ_ALL)))
        .await?;
    assert!(reply.assert_graph_error(StatusCode::NOT_FOUND, "Request_ResourceNotFound").contains(nobody));
    let reply = harness
        .graph(
            Method::POST,
            &format!("v1.0/servicePrincipals/{nobody}/appRoleAssignedTo"),
            &graph,
            Some(assignment_body(&principal_id, nobody, APPLICATION_READ_ALL)),
        )
        .await?;
    reply.assert_graph_error(StatusCode::NOT_FOUND, "Request_ResourceNotFound");
    // The path names another principal than the body.
    let reply = harness
        .graph(
            Method::POST,
            &granted_to,
            &graph,
            Some(assignment_body(&principal_id, &principal_id, APPLICATION_READ_ALL)),
        )
        .await?;
    reply.assert_graph_error(StatusCode::BAD_REQUEST, "Request_BadRequest");
    // Missing, malformed and unknown members.
    for body in [
        json!({"principalId": principal_id, "resourceId": graph_id}),
        json!({"principalId": "not-a-guid", "resourceId": graph_id, "appRoleId": APPLICATION_READ_ALL}),
        json!({"principalId": principal_id, "resourceId": graph_id, "appRoleId": APPLICATION_READ_ALL, "extra": 1}),
    ] {
        harness
            .graph(Method::POST, &held, &graph, Some(body))
            .await?
            .assert_graph_error(StatusCode::BAD_REQUEST, "Request_BadRequest");
    }
    // A service principal created through Graph defines no app roles.
    let (_, resource) = harness.application_with_principal(&graph, "api").await?;
    let resource_id = text(&resource["id"]);
    let reply = harness
        .graph(Method::POST, &held, &graph, Some(assignment_body(&principal_id, &resource_id, APPLICATION_READ_ALL)))
        .await?;
    let message = reply.assert_graph_error(StatusCode::BAD_REQUEST, "Request_BadRequest");
    assert_eq!(
        message,
        format!("Permission being assigned was not found on application '{}'.", text(&resource["appId"]))
    );
    // An unknown assignment id, and one seen from the wrong principal.
    let assignment_id = text(&harness.graph(Method::GET, &held, &graph, None).await?.json()["value"][0]["id"]);
    harness
        .graph(Method::DELETE, &format!("{held}/unknown"), &graph, None)
        .await?
        .assert_graph_error(StatusCode::NOT_FOUND, "Request_ResourceNotFound");
    harness
        .graph(
            Method::DELETE,
            &format!("v1.0/servicePrincipals/{resource_id}/appRoleAssignedTo/{assignment_id}"),
            &graph,
            None,
        )
        .await?
        .assert_graph_error(StatusCode::NOT_FOUND, "Request_ResourceNotFound");

    // Deleting the principal's application removes its assignments.
    let reply =
        harness.graph(Method::DELETE, &format!("v1.0/applications/{}", text(&application["id"])), &graph, None).await?;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    let reply = harness.graph(Method::GET, &granted_to, &graph, None).await?;
    assert_eq!(reply.json()["value"], json!([]), "{}", reply.text);
    harness
        .graph(Method::GET, &held, &graph, None)
        .await?
        .assert_graph_error(StatusCode::NOT_FOUND, "Request_ResourceNotFound");
    Ok(())
}

#[tokio::test]
async fn application_permissions_survive_a_restart() -> TestResult {
    let harness = Harness::persistent().await?;
    let graph = harness.token_for(DEV_TENANT_ID, GRAPH_SCOPE).await?;
    let graph_id = text(&harness.graph_principal(&graph).await?["id"]);
    let (application, principal, secret) = harness.application_with_secret(&graph, "persisted-reader").await?;
    let principal_id = text(&principal["id"]);
    let held = format!("v1.0/servicePrincipals/{principal_id}/appRoleAssignments");
    let reply = harness
        .graph(Method::POST, &held, &graph, Some(assignment_body(&principal_id, &graph_id, APPLICATION_READ_ALL)))
        .await?;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let assignment_id = text(&reply.json()["id"]);
    let harness = harness.restart().await?;
    let graph = harness.token_for(DEV_TENANT_ID, GRAPH_SCOPE).await?;
    assert_eq!(harness.graph_principal(&graph).await?["id"], graph_id.as_str());
    let reply = harness.graph(Method::GET, &held, &graph, None).await?;
    assert_eq!(reply.json()["value"][0]["id"], assignment_id.as_str(), "{}", reply.text);
    let app_id = text(&application["appId"]);
    let token = harness
        .token(DEV_TENANT_ID, &[("client_id", &app_id), ("client_secret", &secret), ("scope", GRAPH_SCOPE)])
        .await?;
    let reply = harness.graph(Method::GET, "v1.0/applications", &token, None).await?;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    Ok(())
}

/// Graph's upsert of an application by its client-provided alternate key
/// (learn.microsoft.com/graph/api/application-upsert, v1.0).
#[tokio::test]
async fn applications_are_upserted_by_unique_name() -> TestResult {
    let harness = Harness::persistent().await?;
    let graph = harness.token_for(DEV_TENANT_ID, GRAPH_SCOPE).await?;
    let upsert = |prefer: Option<&'static str>, body: Value| {
        let mut request = harness.client.patch(harness.url("v1.0/applications(uniqueName='exai-perso-app')"));
        request = request.bearer_auth(&graph);
        if let Some(prefer) = prefer {
            request = request.header("Prefer", prefer);
        }
        with_json(request, &body)
    };

    // Without `Prefer: create-if-missing` it is an update, and there is nothing to update.
    let reply = harness.send(upsert(None, json!({"displayName": "exai-perso-github-sp"}))).await?;
    reply.assert_graph_error(StatusCode::NOT_FOUND, "Request_ResourceNotFound");
    // `displayName` is required to create.
    let reply = harness.send(upsert(Some("create-if-missing"), json!({"notes": "x"}))).await?;
    reply.assert_graph_error(StatusCode::BAD_REQUEST, "Request_BadRequest");

    let reply = harness.send(upsert(Some("create-if-missing"), json!({"displayName": "exai-perso-github-sp"}))).await?;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let created = reply.json();
    assert_eq!(created["uniqueName"], "exai-perso-app");
    assert_eq!(created["displayName"], "exai-perso-github-sp");
    let id = text(&created["id"]);

    // Once it exists: updated, 204 with no body, or 200 with it when asked for.
    let reply = harness
        .send(upsert(Some("create-if-missing"), json!({"displayName": "exai-perso-github-sp", "notes": "a"})))
        .await?;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    assert!(reply.text.is_empty());
    let reply = harness
        .send(upsert(Some("create-if-missing, return=representation"), json!({"displayName": "exai-perso-github-sp"})))
        .await?;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["id"], id.as_str());
    assert_eq!(reply.json()["notes"], "a");

    // The key is unique in the tenant (compared without regard to case) and finds the object.
    let request = harness
        .client
        .patch(harness.url("v1.0/applications(uniqueName='EXAI-PERSO-APP')"))
        .bearer_auth(&graph)
        .header("Prefer", "create-if-missing")
        .header("Prefer", "return=representation");
    let reply = harness.send(with_json(request, &json!({"displayName": "exai-perso-github-sp"}))).await?;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["id"], id.as_str(), "the same application, whatever the case of its key");
    let reply = harness.graph(Method::GET, "v1.0/applications(uniqueName='exai-perso-app')", &graph, None).await?;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["id"], id.as_str());
    let all = harness.graph(Method::GET, "v1.0/applications", &graph, None).await?.json();
    assert_eq!(all["value"].as_array().map(Vec::len), Some(1), "one application: {all}");

    // Immutable: never accepted in a body, on create or update.
    let reply = harness
        .graph(Method::PATCH, &format!("v1.0/applications/{id}"), &graph, Some(json!({"uniqueName": "other"})))
        .await?;
    reply.assert_graph_error(StatusCode::BAD_REQUEST, "Request_BadRequest");
    let reply = harness
        .graph(Method::POST, "v1.0/applications", &graph, Some(json!({"displayName": "x", "uniqueName": "other"})))
        .await?;
    reply.assert_graph_error(StatusCode::BAD_REQUEST, "Request_BadRequest");
    let reply = harness.graph(Method::GET, &format!("v1.0/applications/{id}"), &graph, None).await?;
    assert_eq!(reply.json()["uniqueName"], "exai-perso-app");

    // An application made without one (`az ad sp create-for-rbac`) shows `uniqueName: null`.
    let plain = harness.graph(Method::POST, "v1.0/applications", &graph, Some(json!({"displayName": "y"}))).await?;
    assert_eq!(plain.json()["uniqueName"], Value::Null);
    Ok(())
}

/// Two upserts of one uniqueName at once make one application: the second finds the first.
#[tokio::test]
async fn concurrent_upserts_make_one_application() -> TestResult {
    let harness = Harness::persistent().await?;
    let graph = harness.token_for(DEV_TENANT_ID, GRAPH_SCOPE).await?;
    let send = || {
        let request = harness
            .client
            .patch(harness.url("v1.0/applications(uniqueName='exai-race')"))
            .bearer_auth(&graph)
            .header("Prefer", "create-if-missing, return=representation");
        harness.send(with_json(request, &json!({"displayName": "race"})))
    };
    let (a, b) = tokio::join!(send(), send());
    let (a, b) = (a?, b?);
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 201]);
    assert_eq!(a.json()["id"], b.json()["id"]);
    Ok(())
}
