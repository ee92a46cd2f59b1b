//! The Azure client against the emulator: authentication, reads that tell "absent" from
//! "failed", writes followed through ARM's long-running operations, and typed errors.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use exai_azure::{AzureClient, AzureError, ClientConfig, CredentialChoice, Endpoints};
use exai_emulator::{DEV_CLIENT_ID, DEV_CLIENT_SECRET, DEV_SUBSCRIPTION_ID, DEV_TENANT_ID, Emulator, EmulatorOptions};
use exai_model::{ApiRequest, Method};
use serde_json::json;
use std::time::Duration;

fn client(emulator: &Emulator, tenant: &str, secret: &str) -> AzureClient {
    AzureClient::new(ClientConfig {
        endpoints: Endpoints::emulator(&emulator.url()),
        tenant: tenant.to_owned(),
        credential: CredentialChoice::client_secret(DEV_CLIENT_ID, secret, "test"),
        extra_ca_pem: Some(emulator.ca_certificate_pem().to_owned()),
        operation_timeout: Duration::from_secs(30),
        network: exai_azure::NetworkOptions::default(),
    })
    .unwrap()
}

fn group(method: Method, name: &str, body: Option<serde_json::Value>) -> ApiRequest {
    ApiRequest::arm(method, format!("/subscriptions/{DEV_SUBSCRIPTION_ID}/resourcegroups/{name}"), "2025-04-01", body)
}

#[tokio::test]
async fn reads_writes_and_long_running_deletes() {
    let emulator = Emulator::start(EmulatorOptions { delete_delay: Duration::from_millis(300), ..Default::default() })
        .await
        .unwrap();
    let azure = client(&emulator, DEV_TENANT_ID, DEV_CLIENT_SECRET);

    assert_eq!(
        azure.read(&group(Method::Get, "rg1", None)).await.unwrap(),
        None,
        "404 ResourceGroupNotFound is absence"
    );

    let created = azure
        .execute(&group(Method::Put, "rg1", Some(json!({"location": "francecentral", "tags": {"a": "b"}}))))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(created["properties"]["provisioningState"], "Succeeded");
    assert_eq!(created["tags"]["a"], "b");

    let read = azure.read(&group(Method::Get, "rg1", None)).await.unwrap().unwrap();
    assert_eq!(read["id"], format!("/subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/rg1"));

    // DELETE answers 202 + Location; execute polls it (Retry-After) until the group is gone.
    let deleted = azure.execute(&group(Method::Delete, "rg1", None)).await.unwrap();
    assert_eq!(deleted, None);
    assert_eq!(azure.read(&group(Method::Get, "rg1", None)).await.unwrap(), None);
    let polls = emulator.requests().iter().filter(|r| r.path.contains("operationresults")).count();
    assert!(polls >= 1, "the delete was followed through its Location: {:?}", emulator.requests());
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_404_that_is_not_an_absence_is_an_error() {
    let emulator = Emulator::start(EmulatorOptions::default()).await.unwrap();
    let azure = client(&emulator, DEV_TENANT_ID, DEV_CLIENT_SECRET);
    let unknown = ApiRequest::arm(
        Method::Get,
        format!("/subscriptions/{DEV_SUBSCRIPTION_ID}/providers/Microsoft.Nope/things"),
        "2025-04-01",
        None,
    );
    let err = azure.read(&unknown).await.unwrap_err();
    // A 404 whose code is not one of absence (an unknown provider): never read as "absent".
    assert!(
        matches!(&err, AzureError::Api { status: 404, code, .. } if code == "NoRegisteredProviderFound"),
        "{err:?}"
    );
}

#[tokio::test]
async fn azure_errors_carry_code_message_request_id_and_a_hint() {
    let emulator = Emulator::start(EmulatorOptions::default()).await.unwrap();
    client(&emulator, DEV_TENANT_ID, DEV_CLIENT_SECRET).read(&group(Method::Get, "rg", None)).await.unwrap();
    // The subscription now belongs to the development tenant; another tenant's token is refused.
    let other = client(&emulator, "ee000000-0000-4000-8000-0000000000aa", DEV_CLIENT_SECRET);
    let err = other.read(&group(Method::Get, "rg", None)).await.unwrap_err();
    let AzureError::Api { status, code, message, request_id, .. } = &err else { panic!("{err:?}") };
    assert_eq!(*status, 401);
    assert_eq!(code, "InvalidAuthenticationTokenTenant");
    assert!(!message.is_empty());
    assert!(request_id.is_some());
    assert!(err.hint().unwrap().contains("azure.tenant"));

    let bad = ApiRequest::arm(
        Method::Put,
        format!("/subscriptions/{DEV_SUBSCRIPTION_ID}/resourcegroups/bad name"),
        "2025-04-01",
        Some(json!({"location": "francecentral"})),
    );
    let err = client(&emulator, DEV_TENANT_ID, DEV_CLIENT_SECRET).execute(&bad).await.unwrap_err();
    assert!(matches!(err, AzureError::Api { status: 400, .. }), "{err:?}");
}

#[tokio::test]
async fn a_wrong_secret_is_a_credential_error_that_never_shows_the_secret() {
    let emulator = Emulator::start(EmulatorOptions::default()).await.unwrap();
    let secret = "not-the-secret-7f3a9c";
    let err = client(&emulator, DEV_TENANT_ID, secret).read(&group(Method::Get, "rg", None)).await.unwrap_err();
    assert!(matches!(err, AzureError::Credential { .. }), "{err:?}");
    let shown = format!("{err} {err:?} {}", err.hint().unwrap_or_default());
    assert!(!shown.contains(secret), "{shown}");
    assert!(
        shown.contains("Entra refused: AADSTS7000215: Invalid client secret provided."),
        "Entra's reason is kept: {shown}"
    );
    assert!(!shown.contains("expected a borrowed string"), "azure_identity's parse failure is not shown: {shown}");
}

#[tokio::test]
async fn a_list_answered_in_pages_is_read_to_its_end() {
    let emulator =
        Emulator::start(EmulatorOptions { operation_delay: Duration::ZERO, ..Default::default() }).await.unwrap();
    let azure = client(&emulator, DEV_TENANT_ID, DEV_CLIENT_SECRET);
    azure.execute(&group(Method::Put, "rg", Some(json!({"location": "francecentral"})))).await.unwrap();
    for name in ["workspaceone", "workspacetwo", "workspacethree"] {
        let path = format!(
            "/subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/{name}"
        );
        let body = json!({"location": "francecentral", "tags": {"exai-owner": format!("perso.{name}")}});
        azure.execute(&ApiRequest::arm(Method::Put, path, "2026-03-01", Some(body))).await.unwrap();
    }
    // One item a page: three pages, read as one list.
    let list = ApiRequest::arm(
        Method::Get,
        format!("/subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/rg/resources"),
        "2025-04-01",
        None,
    )
    .with_query("$filter", "tagName eq 'exai-owner'")
    .with_query("$top", "1");
    let before = emulator.requests().len();
    let answer = azure.read(&list).await.unwrap().unwrap();
    let mut names: Vec<&str> =
        answer["value"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["workspaceone", "workspacethree", "workspacetwo"]);
    assert!(answer.get("nextLink").is_none(), "{answer}");
    let reads = emulator.requests().into_iter().skip(before).filter(|r| r.path.ends_with("/resources")).count();
    assert_eq!(reads, 3, "one read a page");
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_write_started_and_not_followed_can_be_waited_for_by_its_resource() {
    let emulator =
        Emulator::start(EmulatorOptions { operation_delay: Duration::from_millis(1500), ..Default::default() })
            .await
            .unwrap();
    let azure = client(&emulator, DEV_TENANT_ID, DEV_CLIENT_SECRET);
    azure.execute(&group(Method::Put, "rg", Some(json!({"location": "francecentral"})))).await.unwrap();
    let path = format!(
        "/subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/logs"
    );
    let put = ApiRequest::arm(Method::Put, &path, "2026-03-01", Some(json!({"location": "francecentral"})));
    let exai_azure::Accepted::Running(operation) = azure.start(&put).await.unwrap() else {
        panic!("a workspace create is a long-running operation");
    };
    assert!(operation.status_url().contains("/operationStatuses/"), "{}", operation.status_url());
    drop(operation); // not followed: as an interrupted apply leaves it
    let get = ApiRequest::arm(Method::Get, &path, "2026-03-01", None);
    let now = azure.read(&get).await.unwrap().unwrap();
    assert_eq!(now["properties"]["provisioningState"], "Creating");
    let settled = azure.wait_until_settled(&get).await.unwrap().unwrap();
    assert_eq!(settled["properties"]["provisioningState"], "Succeeded");
    let missing = ApiRequest::arm(Method::Get, path.replace("/logs", "/none"), "2026-03-01", None);
    assert_eq!(azure.wait_until_settled(&missing).await.unwrap(), None, "gone is settled");
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_synchronous_create_is_done_with_its_answer_and_read_no_more() {
    let emulator = Emulator::start(EmulatorOptions::default()).await.unwrap();
    let azure = client(&emulator, DEV_TENANT_ID, DEV_CLIENT_SECRET);
    let put = group(Method::Put, "rg", Some(json!({"location": "francecentral"})));
    let before = emulator.requests().len();
    let exai_azure::Accepted::Done(Some(document)) = azure.start(&put).await.unwrap() else {
        panic!("a resource group's PUT answers 201 with the group: nothing to follow");
    };
    assert_eq!(document["properties"]["provisioningState"], "Succeeded");
    let sent: Vec<String> = emulator
        .requests()
        .into_iter()
        .skip(before)
        .filter(|r| r.path.contains("/resourcegroups/"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(sent, [format!("PUT /subscriptions/{DEV_SUBSCRIPTION_ID}/resourcegroups/rg")]);
    emulator.shutdown().await.unwrap();
}
