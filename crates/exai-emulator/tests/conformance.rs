//! Conformance tests: a real emulator on `127.0.0.1:0`, spoken to over HTTPS by reqwest trusting
//! only the emulator's CA, checked against Azure's documented shapes, codes and messages.

use std::time::Duration;

use exai_emulator::{
    Clock, DEV_CLIENT_ID, DEV_CLIENT_SECRET, DEV_SUBSCRIPTION_ID, DEV_TENANT_ID, Emulator, EmulatorError,
    EmulatorOptions, RequestKind,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

mod common;

use common::{API, ARM_SCOPE, Harness, Reply, TestResult, example, keys, read, set, shape};

const OTHER_TENANT: &str = "0a000000-0000-4000-8000-00000000000b";

fn rg_path(name: &str) -> String {
    format!("subscriptions/{DEV_SUBSCRIPTION_ID}/resourcegroups/{name}?{API}")
}

#[tokio::test]
async fn issues_tokens_in_entra_shape() -> TestResult {
    let harness = Harness::new().await?;
    let reply = harness
        .token_request(
            DEV_TENANT_ID,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", DEV_CLIENT_ID),
                ("client_secret", DEV_CLIENT_SECRET),
                ("scope", ARM_SCOPE),
            ],
        )
        .await?;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let body = reply.json();
    assert_eq!(keys(&body), set(&["token_type", "expires_in", "ext_expires_in", "access_token"]));
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["ext_expires_in"], 3599);
    assert_eq!(body["access_token"].as_str().map(|token| token.split('.').count()), Some(3), "tokens are JWT-shaped");

    // A domain-name tenant and the az CLI's double-slash scope work too.
    harness.token_for("contoso.onmicrosoft.com", "https://management.core.windows.net//.default").await?;
    harness.token_for(OTHER_TENANT, "https://graph.microsoft.com/.default").await?;
    Ok(())
}

#[tokio::test]
async fn refuses_bad_token_requests_like_entra() -> TestResult {
    let harness = Harness::new().await?;
    let good = [
        ("grant_type", "client_credentials"),
        ("client_id", DEV_CLIENT_ID),
        ("client_secret", DEV_CLIENT_SECRET),
        ("scope", ARM_SCOPE),
    ];
    let with = |name: &str, value: Option<&'static str>| -> Vec<(&'static str, &'static str)> {
        good.iter()
            .filter_map(
                |(key, original)| {
                    if *key == name { value.map(|value| (*key, value)) } else { Some((*key, *original)) }
                },
            )
            .collect()
    };

    let reply = harness.token_request(DEV_TENANT_ID, &with("client_secret", Some("wrong"))).await?;
    let description = reply.assert_entra_error(StatusCode::UNAUTHORIZED, "invalid_client", 7000215);
    assert!(description.contains("Invalid client secret provided."));
    assert!(!description.contains("wrong"), "the sent secret is echoed");

    let reply = harness.token_request(DEV_TENANT_ID, &with("client_secret", None)).await?;
    reply.assert_entra_error(StatusCode::UNAUTHORIZED, "invalid_client", 7000218);

    let reply =
        harness.token_request(DEV_TENANT_ID, &with("client_id", Some("11111111-1111-4111-8111-111111111111"))).await?;
    let description = reply.assert_entra_error(StatusCode::BAD_REQUEST, "unauthorized_client", 700016);
    assert!(
        description.contains(
            "Application with identifier '11111111-1111-4111-8111-111111111111' was not found in the directory"
        )
    );

    let reply = harness.token_request(DEV_TENANT_ID, &with("grant_type", None)).await?;
    let description = reply.assert_entra_error(StatusCode::BAD_REQUEST, "invalid_request", 900144);
    assert!(description.contains("'grant_type'"));

    let reply = harness.token_request(DEV_TENANT_ID, &with("grant_type", Some("password"))).await?;
    reply.assert_entra_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", 70003);

    for scope in [
        "https://management.azure.com/user_impersonation",
        "https://example.com/.default",
        "https://management.azure.com/.default https://graph.microsoft.com/.default",
    ] {
        let reply = harness.token_request(DEV_TENANT_ID, &with("scope", Some(scope))).await?;
        reply.assert_entra_error(StatusCode::BAD_REQUEST, "invalid_scope", 70011);
    }

    let reply = harness.token_request("common", &good).await?;
    reply.assert_entra_error(StatusCode::BAD_REQUEST, "invalid_request", 900023);

    // A JSON body is not a form: Entra sees no parameters at all.
    let reply = read(
        harness
            .client
            .post(harness.url(&format!("{DEV_TENANT_ID}/oauth2/v2.0/token")))
            .header("content-type", "application/json")
            .body(json!({"grant_type": "client_credentials"}).to_string())
            .send()
            .await?,
    )
    .await?;
    reply.assert_entra_error(StatusCode::BAD_REQUEST, "invalid_request", 900144);

    let reply =
        read(harness.client.get(harness.url(&format!("{DEV_TENANT_ID}/oauth2/v2.0/token"))).send().await?).await?;
    reply.assert_entra_error(StatusCode::BAD_REQUEST, "invalid_request", 900561);
    Ok(())
}

#[tokio::test]
async fn refuses_unauthenticated_arm_requests() -> TestResult {
    let harness = Harness::new().await?;
    let path = rg_path("rg");
    let challenge_of = |reply: &Reply| reply.header("www-authenticate").map(str::to_owned);

    let reply = harness.send_as(Method::GET, &path, None, None).await?;
    let message = reply.assert_arm_error(StatusCode::UNAUTHORIZED, "AuthenticationFailed");
    assert_eq!(message, "Authentication failed. The 'Authorization' header is missing.");
    let challenge = challenge_of(&reply).ok_or("no WWW-Authenticate")?;
    assert!(challenge.starts_with("Bearer authorization_uri=\"https://login.microsoftonline.com/"));
    assert!(challenge.contains("error=\"invalid_token\""));
    assert!(challenge.contains("error_description=\""));

    let reply =
        read(harness.client.get(harness.url(&path)).header("authorization", "Basic dXNlcjpwYXNz").send().await?)
            .await?;
    let message = reply.assert_arm_error(StatusCode::UNAUTHORIZED, "AuthenticationFailed");
    assert!(message.ends_with("The 'Authorization' header is provided in an invalid format."), "{message}");
    assert!(challenge_of(&reply).is_some());

    let reply = harness.send_as(Method::GET, &path, Some("not-a-token-we-issued"), None).await?;
    reply.assert_arm_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken");
    assert!(challenge_of(&reply).is_some());

    let expired = harness.mint(json!({"tenantId": DEV_TENANT_ID, "expiresInSeconds": -60})).await?;
    let reply = harness.send_as(Method::GET, &path, Some(&expired), None).await?;
    let message = reply.assert_arm_error(StatusCode::UNAUTHORIZED, "ExpiredAuthenticationToken");
    assert!(message.starts_with("The access token expiry UTC time '"));
    assert!(challenge_of(&reply).is_some());

    let graph = harness.token_for(DEV_TENANT_ID, "https://graph.microsoft.com/.default").await?;
    let reply = harness.send_as(Method::GET, &path, Some(&graph), None).await?;
    let message = reply.assert_arm_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationTokenAudience");
    assert!(message.contains("'https://graph.microsoft.com'"));
    assert!(challenge_of(&reply).is_some());

    // The subscription is bound to the tenant of the first token that uses it.
    let token = harness.arm_token().await?;
    let reply = harness.send_as(Method::GET, &path, Some(&token), None).await?;
    reply.assert_arm_error(StatusCode::NOT_FOUND, "ResourceGroupNotFound");
    let other = harness.token_for(OTHER_TENANT, ARM_SCOPE).await?;
    let reply = harness.send_as(Method::GET, &path, Some(&other), None).await?;
    let message = reply.assert_arm_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationTokenTenant");
    assert!(message.contains(&format!("https://sts.windows.net/{OTHER_TENANT}/")));
    let challenge = challenge_of(&reply).ok_or("no WWW-Authenticate")?;
    assert!(challenge.contains(&format!("https://login.microsoftonline.com/{DEV_TENANT_ID}\"")));

    let reply = harness
        .send_as(Method::GET, &format!("subscriptions/not-a-guid/resourcegroups?{API}"), Some(&token), None)
        .await?;
    let message = reply.assert_arm_error(StatusCode::BAD_REQUEST, "InvalidSubscriptionId");
    assert_eq!(message, "The provided subscription identifier 'not-a-guid' is malformed or invalid.");
    Ok(())
}

#[tokio::test]
async fn manages_the_resource_group_lifecycle() -> TestResult {
    let harness = Harness::new().await?;
    let token = harness.arm_token().await?;
    let bearer = format!("Bearer {token}");
    let token = Some(token.as_str());
    let path = rg_path("exai-perso-rg");

    let created = harness.send_as(Method::PUT, &path, token, Some(json!({"location": "francecentral"}))).await?;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let expected = json!({
        "id": format!("/subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/exai-perso-rg"),
        "name": "exai-perso-rg",
        "type": "Microsoft.Resources/resourceGroups",
        "location": "francecentral",
        "properties": {"provisioningState": "Succeeded"},
    });
    assert_eq!(created.json(), expected);
    assert_eq!(created.header("content-type"), Some("application/json; charset=utf-8"));

    // The GET answer has exactly the members of the official example.
    let got = harness.send_as(Method::GET, &path, token, None).await?;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.json(), expected);
    let get_example = example("resourcegroups-get.json")?;
    assert_eq!(shape(&got.json()), shape(&get_example["responses"]["200"]["body"]));
    // The create example omits `type`, which the GET example (and ARM) return.
    let create_example = example("resourcegroups-createorupdate.json")?;
    let mut create_shape = shape(&create_example["responses"]["201"]["body"]);
    create_shape.insert("type".to_owned());
    assert_eq!(shape(&created.json()), create_shape);

    let updated = harness
        .send_as(
            Method::PUT,
            &path,
            token,
            Some(json!({"location": "France Central", "tags": {"owner": "exai", "env": "perso"}})),
        )
        .await?;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_eq!(updated.json()["tags"], json!({"owner": "exai", "env": "perso"}));
    assert_eq!(updated.json()["location"], "francecentral");

    let head = harness.send_as(Method::HEAD, &path, token, None).await?;
    assert_eq!(head.status, StatusCode::NO_CONTENT);
    assert!(head.text.is_empty());

    let patched = harness.send_as(Method::PATCH, &path, token, Some(json!({"tags": {"env": "demo"}}))).await?;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.json()["tags"], json!({"env": "demo"}));
    assert_eq!(patched.json()["location"], "francecentral");

    let list = harness
        .send_as(Method::GET, &format!("subscriptions/{DEV_SUBSCRIPTION_ID}/resourcegroups?{API}"), token, None)
        .await?;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.json()["value"], json!([patched.json()]));

    // A PUT without tags replaces the definition: the tags are gone, and so is the member.
    let replaced = harness.send_as(Method::PUT, &path, token, Some(json!({"location": "francecentral"}))).await?;
    assert_eq!(replaced.json(), expected);

    let deleted = harness.send_as(Method::DELETE, &path, token, None).await?;
    assert_eq!(deleted.status, StatusCode::ACCEPTED, "{}", deleted.text);
    assert_eq!(deleted.header("retry-after"), Some("0"));
    let location = deleted.header("location").ok_or("no Location")?.to_owned();
    let prefix = format!("{}subscriptions/{DEV_SUBSCRIPTION_ID}/operationresults/", harness.emulator.url());
    assert!(location.starts_with(&prefix), "{location}");
    assert!(location.ends_with("?api-version=2025-04-01"), "{location}");

    let polled = read(harness.client.get(&location).header("authorization", &bearer).send().await?).await?;
    assert_eq!(polled.status, StatusCode::OK);
    let gone = harness.send_as(Method::GET, &path, token, None).await?;
    gone.assert_arm_error(StatusCode::NOT_FOUND, "ResourceGroupNotFound");
    Ok(())
}

#[tokio::test]
async fn shows_a_running_delete() -> TestResult {
    // On a manual clock the delete runs until the test moves time past its end, however slow
    // the machine.
    let clock = Clock::manual();
    let options = EmulatorOptions { delete_delay: Duration::from_secs(300), ..EmulatorOptions::default() };
    let harness = Harness::start_with_clock(options, clock.clone()).await?;
    let token = harness.arm_token().await?;
    let bearer = format!("Bearer {token}");
    let token = Some(token.as_str());
    let path = rg_path("slow");
    harness.send_as(Method::PUT, &path, token, Some(json!({"location": "westeurope"}))).await?;
    let deleted = harness.send_as(Method::DELETE, &path, token, None).await?;
    assert_eq!(deleted.status, StatusCode::ACCEPTED);
    let location = deleted.header("location").ok_or("no Location")?.to_owned();

    let during = harness.send_as(Method::GET, &path, token, None).await?;
    assert_eq!(during.status, StatusCode::OK);
    assert_eq!(during.json()["properties"]["provisioningState"], "Deleting");
    let put = harness.send_as(Method::PUT, &path, token, Some(json!({"location": "westeurope"}))).await?;
    put.assert_arm_error(StatusCode::CONFLICT, "ResourceGroupBeingDeleted");

    let poll = || async { read(harness.client.get(&location).header("authorization", &bearer).send().await?).await };
    let running = poll().await?;
    assert_eq!(running.status, StatusCode::ACCEPTED);
    assert_eq!(running.header("location"), Some(location.as_str()));
    assert!(running.header("retry-after").is_some());

    clock.advance(Duration::from_secs(299));
    assert_eq!(poll().await?.status, StatusCode::ACCEPTED);
    clock.advance(Duration::from_secs(1));
    assert_eq!(poll().await?.status, StatusCode::OK);
    let gone = harness.send_as(Method::GET, &path, token, None).await?;
    gone.assert_arm_error(StatusCode::NOT_FOUND, "ResourceGroupNotFound");
    Ok(())
}

#[tokio::test]
async fn answers_missing_groups_with_arm_404s() -> TestResult {
    let harness = Harness::new().await?;
    let token = harness.arm_token().await?;
    let token = Some(token.as_str());
    let path = rg_path("missing-rg");

    let message = harness
        .send_as(Method::GET, &path, token, None)
        .await?
        .assert_arm_error(StatusCode::NOT_FOUND, "ResourceGroupNotFound");
    assert_eq!(message, "Resource group 'missing-rg' could not be found.");
    harness
        .send_as(Method::DELETE, &path, token, None)
        .await?
        .assert_arm_error(StatusCode::NOT_FOUND, "ResourceGroupNotFound");
    harness
        .send_as(Method::PATCH, &path, token, Some(json!({"tags": {}})))
        .await?
        .assert_arm_error(StatusCode::NOT_FOUND, "ResourceGroupNotFound");
    let head = harness.send_as(Method::HEAD, &path, token, None).await?;
    assert_eq!(head.status, StatusCode::NOT_FOUND);
    assert!(head.text.is_empty());
    Ok(())
}

#[tokio::test]
async fn matches_paths_and_names_case_insensitively() -> TestResult {
    let harness = Harness::new().await?;
    let token = harness.arm_token().await?;
    let token = Some(token.as_str());
    let created = harness
        .send_as(
            Method::PUT,
            &format!("subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/MyGroup?{API}"),
            token,
            Some(json!({"location": "eastus"})),
        )
        .await?;
    assert_eq!(created.status, StatusCode::CREATED);
    let got = harness
        .send_as(
            Method::GET,
            &format!("SUBSCRIPTIONS/{}/RESOURCEGROUPS/mygroup?{API}", DEV_SUBSCRIPTION_ID.to_uppercase()),
            token,
            None,
        )
        .await?;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    assert_eq!(got.json()["name"], "MyGroup");
    assert_eq!(got.json()["id"], format!("/subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/MyGroup"));
    let again = harness.send_as(Method::PUT, &rg_path("MYGROUP"), token, Some(json!({"location": "eastus"}))).await?;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["name"], "MyGroup");
    Ok(())
}

#[tokio::test]
async fn checks_the_api_version() -> TestResult {
    let harness = Harness::new().await?;
    let token = harness.arm_token().await?;
    let token = Some(token.as_str());
    let base = format!("subscriptions/{DEV_SUBSCRIPTION_ID}/resourcegroups/rg");

    let message = harness
        .send_as(Method::GET, &base, token, None)
        .await?
        .assert_arm_error(StatusCode::BAD_REQUEST, "MissingApiVersionParameter");
    assert_eq!(message, "The api-version query parameter (?api-version=) is required for all requests.");
    let message = harness
        .send_as(Method::GET, &format!("{base}?api-version=2013-01-01"), token, None)
        .await?
        .assert_arm_error(StatusCode::BAD_REQUEST, "InvalidApiVersionParameter");
    let listing = harness.admin(Method::GET, "api-versions", None).await?.json();
    let supported: Vec<&str> = listing["resourceGroups, resources, operationresults"]
        .as_array()
        .ok_or("no resource group versions")?
        .iter()
        .filter_map(|row| row["version"].as_str())
        .collect();
    assert_eq!(
        message,
        format!("The api-version '2013-01-01' is invalid. The supported versions are '{}'.", supported.join(","))
    );

    let subscription = harness
        .send_as(Method::GET, &format!("subscriptions/{DEV_SUBSCRIPTION_ID}?api-version=2022-12-01"), token, None)
        .await?;
    assert_eq!(subscription.status, StatusCode::OK, "{}", subscription.text);
    let body = subscription.json();
    assert_eq!(body["subscriptionId"], DEV_SUBSCRIPTION_ID);
    assert_eq!(body["tenantId"], DEV_TENANT_ID);
    assert_eq!(body["state"], "Enabled");
    assert_eq!(body["id"], format!("/subscriptions/{DEV_SUBSCRIPTION_ID}"));
    assert!(body["displayName"].is_string());
    harness
        .send_as(Method::GET, &format!("subscriptions/{DEV_SUBSCRIPTION_ID}?{API}"), token, None)
        .await?
        .assert_arm_error(StatusCode::BAD_REQUEST, "InvalidApiVersionParameter");
    Ok(())
}

#[tokio::test]
async fn validates_resource_group_definitions() -> TestResult {
    let harness = Harness::new().await?;
    let token = harness.arm_token().await?;
    let bearer = format!("Bearer {token}");
    let token = Some(token.as_str());
    let put = |name: &str, body: Value| {
        let path = rg_path(name);
        let harness = &harness;
        async move { harness.send_as(Method::PUT, &path, token, Some(body)).await }
    };
    let location = json!({"location": "francecentral"});

    let message =
        put("bad%20name", location.clone()).await?.assert_arm_error(StatusCode::BAD_REQUEST, "InvalidResourceGroup");
    assert!(message.contains("has these invalid characters: ' '"), "{message}");
    put("ends-with-dot.", location.clone()).await?.assert_arm_error(StatusCode::BAD_REQUEST, "InvalidResourceGroup");
    put(&"a".repeat(91), location.clone()).await?.assert_arm_error(StatusCode::BAD_REQUEST, "InvalidResourceGroup");

    let message = put("rg", json!({"tags": {}})).await?.assert_arm_error(StatusCode::BAD_REQUEST, "LocationRequired");
    assert_eq!(message, "The location property is required for this definition.");
    let message = put("rg", json!({"location": "Canada"}))
        .await?
        .assert_arm_error(StatusCode::BAD_REQUEST, "LocationNotAvailableForResourceGroup");
    assert!(message.starts_with(
        "The provided location 'Canada' is not available for resource group. List of available regions is '"
    ));
    assert!(message.contains("francecentral"));

    put("rg", json!({"location": "francecentral", "tags": {"a/b": "x"}}))
        .await?
        .assert_arm_error(StatusCode::BAD_REQUEST, "InvalidTagNameCharacters");
    put("rg", json!({"location": "francecentral", "tags": {"k": "v".repeat(257)}}))
        .await?
        .assert_arm_error(StatusCode::BAD_REQUEST, "InvalidTagName");
    put("rg", json!({"location": "francecentral", "colour": "blue"}))
        .await?
        .assert_arm_error(StatusCode::BAD_REQUEST, "InvalidRequestContent");

    let malformed = read(
        harness
            .client
            .put(harness.url(&rg_path("rg")))
            .header("authorization", &bearer)
            .header("content-type", "application/json")
            .body("{\"location\": ")
            .send()
            .await?,
    )
    .await?;
    let message = malformed.assert_arm_error(StatusCode::BAD_REQUEST, "InvalidRequestContent");
    assert!(message.starts_with("The request content was invalid and could not be deserialized: '"));
    let wrong_type = read(
        harness
            .client
            .put(harness.url(&rg_path("rg")))
            .header("authorization", &bearer)
            .header("content-type", "text/plain")
            .body(location.to_string())
            .send()
            .await?,
    )
    .await?;
    wrong_type.assert_arm_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "UnsupportedMediaType");

    let created = put("rg", location.clone()).await?;
    assert_eq!(created.status, StatusCode::CREATED);
    let message = put("rg", json!({"location": "westeurope"}))
        .await?
        .assert_arm_error(StatusCode::CONFLICT, "InvalidResourceGroupLocation");
    assert_eq!(
        message,
        "Invalid resource group location 'westeurope'. The Resource group already exists in location 'francecentral'."
    );
    Ok(())
}

#[tokio::test]
async fn answers_unknown_routes_and_methods_in_arm_shape() -> TestResult {
    let harness = Harness::new().await?;
    let token = harness.arm_token().await?;
    let token = Some(token.as_str());
    harness
        .send_as(Method::GET, &format!("subscriptions/{DEV_SUBSCRIPTION_ID}/widgets?{API}"), token, None)
        .await?
        .assert_arm_error(StatusCode::NOT_FOUND, "InvalidResourceType");
    let message = harness
        .send_as(
            Method::GET,
            &format!(
                "subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.Widgets/widgets/w?api-version=2020-01-01"
            ),
            token,
            None,
        )
        .await?
        .assert_arm_error(StatusCode::NOT_FOUND, "NoRegisteredProviderFound");
    assert!(message.contains("Microsoft.Widgets"));
    let reply = harness.send_as(Method::POST, &rg_path("rg"), token, Some(json!({}))).await?;
    reply.assert_arm_error(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed");
    assert!(reply.header("allow").is_some_and(|allow| allow.contains("PUT")));
    Ok(())
}

#[tokio::test]
async fn sends_arm_headers_on_every_response() -> TestResult {
    let harness = Harness::new().await?;
    let token = harness.arm_token().await?;
    let correlation = "5f0e7a58-2b1c-4c3d-9e8f-0a1b2c3d4e5f";
    let send = |method: Method, body: Option<Value>, authorized: bool| {
        let mut request = harness
            .client
            .request(method, harness.url(&rg_path("headers-rg")))
            .header("x-ms-client-request-id", "client-123")
            .header("x-ms-correlation-request-id", correlation);
        if authorized {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        async move { read(request.send().await?).await }
    };

    let write = send(Method::PUT, Some(json!({"location": "uksouth"})), true).await?;
    let read_reply = send(Method::GET, None, true).await?;
    let refused = send(Method::GET, None, false).await?;
    for reply in [&write, &read_reply, &refused] {
        let request_id = reply.header("x-ms-request-id").ok_or("no x-ms-request-id")?;
        assert!(uuid::Uuid::parse_str(request_id).is_ok());
        assert_eq!(reply.header("x-ms-correlation-request-id"), Some(correlation));
        assert_eq!(reply.header("x-ms-client-request-id"), Some("client-123"));
        assert!(reply.header("x-ms-routing-request-id").is_some());
    }
    let remaining = |reply: &Reply, name: &str| reply.header(name).and_then(|value| value.parse::<u32>().ok());
    assert!(remaining(&write, "x-ms-ratelimit-remaining-subscription-writes").is_some_and(|n| n > 0));
    let reads_before =
        remaining(&read_reply, "x-ms-ratelimit-remaining-subscription-reads").ok_or("no reads header")?;
    let again = send(Method::GET, None, true).await?;
    assert_eq!(remaining(&again, "x-ms-ratelimit-remaining-subscription-reads"), Some(reads_before - 1));
    // Without a correlation id, ARM makes one up.
    let plain = harness.send_as(Method::GET, &rg_path("headers-rg"), Some(&token), None).await?;
    assert!(plain.header("x-ms-correlation-request-id").is_some());
    assert!(plain.header("x-ms-client-request-id").is_none());
    Ok(())
}

#[tokio::test]
async fn records_requests_without_secrets() -> TestResult {
    let directory = tempfile::tempdir()?;
    let log_file = directory.path().join("requests.jsonl");
    let harness =
        Harness::start(EmulatorOptions { request_log_file: Some(log_file.clone()), ..EmulatorOptions::default() })
            .await?;
    let token = harness.arm_token().await?;
    let put = read(
        harness
            .client
            .put(harness.url(&rg_path("logged-rg")))
            .header("authorization", format!("Bearer {token}"))
            .header("x-ms-client-request-id", "log-test")
            .header("content-type", "application/json")
            .body(json!({"location": "francecentral", "tags": {"a": "b"}}).to_string())
            .send()
            .await?,
    )
    .await?;
    assert_eq!(put.status, StatusCode::CREATED);
    harness.send_as(Method::GET, &rg_path("logged-rg"), Some(&token), None).await?;

    let requests = harness.emulator.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests.iter().map(|request| request.seq).collect::<Vec<_>>(), [1, 2, 3]);
    let token_request = &requests[0];
    assert_eq!(token_request.kind, RequestKind::Token);
    assert_eq!(token_request.method, "POST");
    assert_eq!(token_request.status, 200);
    assert_eq!(token_request.body, None);
    let write = &requests[1];
    assert_eq!(write.kind, RequestKind::Arm);
    assert!(write.is_write());
    assert_eq!(write.status, 201);
    assert_eq!(write.query.as_deref(), Some(API));
    assert_eq!(write.client_request_id.as_deref(), Some("log-test"));
    assert_eq!(write.body, Some(json!({"location": "francecentral", "tags": {"a": "b"}})));
    assert!(time::OffsetDateTime::parse(&write.time, &time::format_description::well_known::Rfc3339).is_ok());
    assert!(!requests[2].is_write());
    assert_eq!(requests[2].body, None);

    let served = read(harness.client.get(harness.url("_emulator/requests")).send().await?).await?;
    assert_eq!(served.status, StatusCode::OK);
    let served: Vec<exai_emulator::RecordedRequest> = serde_json::from_str(&served.text)?;
    assert_eq!(served, requests);

    let file = std::fs::read_to_string(&log_file)?;
    let everything = format!("{file}{}", serde_json::to_string(&requests)?);
    assert!(!everything.contains(DEV_CLIENT_SECRET), "the client secret was recorded");
    assert!(!everything.contains(&token), "the access token was recorded");
    assert_eq!(file.lines().count(), 4, "{file}");
    for line in file.lines() {
        serde_json::from_str::<exai_emulator::RecordedRequest>(line)?;
    }

    let reset = read(harness.client.post(harness.url("_emulator/reset")).send().await?).await?;
    assert_eq!(reset.status, StatusCode::NO_CONTENT);
    let after = harness.emulator.requests();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].kind, RequestKind::Admin);
    harness
        .send_as(Method::GET, &rg_path("logged-rg"), Some(&token), None)
        .await?
        .assert_arm_error(StatusCode::NOT_FOUND, "ResourceGroupNotFound");
    Ok(())
}

#[tokio::test]
async fn keeps_state_across_restarts() -> TestResult {
    let directory = tempfile::tempdir()?;
    let state_file = directory.path().join("state").join("emulator.json");
    let options = EmulatorOptions { state_file: Some(state_file.clone()), ..EmulatorOptions::default() };

    let first = Harness::start(options.clone()).await?;
    let token = first.arm_token().await?;
    let created = first
        .send_as(
            Method::PUT,
            &rg_path("durable-rg"),
            Some(&token),
            Some(json!({"location": "francecentral", "tags": {"keep": "me"}})),
        )
        .await?;
    assert_eq!(created.status, StatusCode::CREATED);
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&state_file)?)?;
    assert_eq!(saved["version"], 1);
    let text = std::fs::read_to_string(&state_file)?;
    assert!(!text.contains(&token) && !text.contains(DEV_CLIENT_SECRET));
    first.shutdown().await?;

    let second = Harness::start(options).await?;
    let token = second.arm_token().await?;
    let got = second.send_as(Method::GET, &rg_path("durable-rg"), Some(&token), None).await?;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    assert_eq!(got.json(), created.json());
    second.emulator.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn refuses_a_corrupt_state_file() -> TestResult {
    let directory = tempfile::tempdir()?;
    let state_file = directory.path().join("state.json");
    std::fs::write(&state_file, "{\"version\": 1, \"subscriptions\": [")?;
    let result =
        Emulator::start(EmulatorOptions { state_file: Some(state_file.clone()), ..EmulatorOptions::default() }).await;
    match result {
        Err(error @ EmulatorError::StateCorrupt { .. }) => {
            assert!(error.to_string().contains(&state_file.display().to_string()));
        }
        other => return Err(format!("expected StateCorrupt, got {other:?}").into()),
    }
    assert_eq!(
        std::fs::read_to_string(&state_file)?,
        "{\"version\": 1, \"subscriptions\": [",
        "the corrupt file was overwritten"
    );
    Ok(())
}

#[tokio::test]
async fn refuses_a_second_emulator_on_the_same_state_file() -> TestResult {
    let directory = tempfile::tempdir()?;
    let options =
        EmulatorOptions { state_file: Some(directory.path().join("state.json")), ..EmulatorOptions::default() };
    let first = Emulator::start(options.clone()).await?;
    match Emulator::start(options.clone()).await {
        Err(error @ EmulatorError::StateInUse { .. }) => {
            assert!(error.to_string().contains("in use by another emulator"));
        }
        other => return Err(format!("expected StateInUse, got {other:?}").into()),
    }
    first.shutdown().await?;
    let again = Emulator::start(options).await?;
    again.shutdown().await?;
    Ok(())
}
