//! Table-driven planner tests for the GitHub deployer: Graph application, service principal,
//! federated credentials, client secret and role assignment; desired × live → plan, with no I/O.
//!
//! Live documents start from the Microsoft Graph v1.0 reference examples
//! (microsoftgraph/microsoft-graph-docs-contrib, `api-reference/v1.0/api/application-get.md`,
//! `serviceprincipal-get.md`, `application-list-federatedidentitycredentials.md`), adapted to the
//! spec's names and carrying exai's marks, and from `RoleAssignments_Get.json` for the role.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use exai_model::kinds::{
    Application, ClientSecret, FEDERATION_AUDIENCE, FederatedCredential, GITHUB_ISSUER, PrincipalRef, RoleAssignment,
    ServicePrincipal,
};
use exai_model::{
    Address, DesiredResource, DesiredSpec, DesiredState, Known, LiveResource, LiveState, Mark, Observation, ResourceId,
};
use exai_planner::{Action, plan};
use serde_json::{Value, json};

const SUB: &str = "ee000000-0000-4000-8000-000000000002";
const APP_OBJECT: &str = "03ef14b0-ca33-4840-8f4f-d6e91916010e";
const APP_ID: &str = "631a96bc-a705-4eda-9f99-fdaf9f54f6a2";
const SP_OBJECT: &str = "00af5dfb-85da-4b41-a677-0c6b86dd34f8";
const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";

fn address(path: &str) -> Address {
    Address::new("perso", path)
}

/// The spec's mark for `path`.
fn mark(path: &str) -> Mark {
    Mark::new("my-org/exai", &address(path), false)
}

fn resource(path: &str, depends_on: &[&str], spec: DesiredSpec) -> DesiredResource {
    DesiredResource {
        address: address(path),
        depends_on: depends_on.iter().map(|p| address(p)).collect(),
        protect: false,
        spec,
    }
}

fn credential(name: &str, subject: &str) -> FederatedCredential {
    FederatedCredential {
        address: address(&format!("deployer.federated.{name}")),
        mark: mark(&format!("deployer.federated.{name}")),
        application: address("deployer.app"),
        name: name.into(),
        issuer: GITHUB_ISSUER.into(),
        subject: subject.into(),
        audiences: vec![FEDERATION_AUDIENCE.into()],
    }
}

fn role() -> RoleAssignment {
    RoleAssignment::new(
        ResourceId::subscription(SUB),
        CONTRIBUTOR,
        PrincipalRef { from: address("deployer.sp"), field: "id".into() },
        mark("deployer.role"),
    )
}

/// The deployer of specs/exai.yaml's `perso`, with a client secret.
fn desired() -> DesiredState {
    DesiredState {
        tenant: "t".into(),
        resources: vec![
            resource(
                "deployer.app",
                &[],
                DesiredSpec::Application(Application {
                    address: address("deployer.app"),
                    mark: mark("deployer.app"),
                    display_name: "exai-perso-github-sp".into(),
                }),
            ),
            resource(
                "deployer.sp",
                &["deployer.app"],
                DesiredSpec::ServicePrincipal(ServicePrincipal {
                    address: address("deployer.sp"),
                    mark: mark("deployer.sp"),
                    application: address("deployer.app"),
                }),
            ),
            resource(
                "deployer.federated.github-branch-production",
                &["deployer.app"],
                DesiredSpec::FederatedCredential(credential(
                    "github-branch-production",
                    "repo:my-org/exai:ref:refs/heads/production",
                )),
            ),
            resource(
                "deployer.secret",
                &["deployer.app"],
                DesiredSpec::ClientSecret(ClientSecret {
                    address: address("deployer.secret"),
                    mark: mark("deployer.secret"),
                    application: address("deployer.app"),
                    expires_in_days: 30,
                    end_date_time: Some("2027-01-01T00:00:00Z".into()),
                    subscription: SUB.into(),
                    tenant: "t".into(),
                    handover: None,
                }),
            ),
            resource("deployer.role", &["deployer.sp"], DesiredSpec::RoleAssignment(role())),
        ],
    }
}

/// `application-get.md`'s example, named as the spec names it and carrying exai's mark and
/// secret.
fn application() -> Value {
    json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#applications/$entity",
        "id": APP_OBJECT, "deletedDateTime": null, "isFallbackPublicClient": null, "appId": APP_ID,
        "applicationTemplateId": null, "identifierUris": [], "createdDateTime": "2019-09-17T19:10:35.2742618Z",
        "disabledByMicrosoftStatus": null, "displayName": "exai-perso-github-sp", "isDeviceOnlyAuthSupported": null,
        "groupMembershipClaims": null, "optionalClaims": null, "addIns": [], "publisherDomain": "contoso.com",
        "signInAudience": "AzureADMyOrg", "tags": ["exai-owner:my-org/exai:perso.deployer.app"], "tokenEncryptionKeyId": null,
        "api": {"requestedAccessTokenVersion": 2, "acceptMappedClaims": null, "knownClientApplications": [],
                "oauth2PermissionScopes": [], "preAuthorizedApplications": []},
        "appRoles": [], "publicClient": {"redirectUris": []},
        "info": {"termsOfServiceUrl": null, "supportUrl": null, "privacyStatementUrl": null, "marketingUrl": null, "logoUrl": null},
        "keyCredentials": [],
        "parentalControlSettings": {"countriesBlockedForMinors": [], "legalAgeGroupRule": "Allow"},
        "passwordCredentials": [
            {"customKeyIdentifier": null, "displayName": "exai-owner:my-org/exai:perso.deployer.secret",
             "endDateTime": "2027-01-01T00:00:00Z", "hint": "abc", "keyId": "f0b0b335-1d71-4883-8f98-567911bfdca6",
             "secretText": null, "startDateTime": "2026-12-01T00:00:00Z"}
        ],
        "requiredResourceAccess": [],
        "web": {"redirectUris": [], "homePageUrl": null, "logoutUrl": null,
                "implicitGrantSettings": {"enableIdTokenIssuance": false, "enableAccessTokenIssuance": false}}
    })
}

/// `serviceprincipal-get.md`'s example, for the application above.
fn service_principal() -> Value {
    json!({
        "accountEnabled": true, "addIns": [], "alternativeNames": [], "appDisplayName": "exai-perso-github-sp",
        "appId": APP_ID, "appOwnerOrganizationId": "65415bb1-9267-4313-bbf5-ae259732ee12",
        "appRoleAssignmentRequired": false, "appRoles": [], "disabledByMicrosoftStatus": null,
        "displayName": "exai-perso-github-sp", "endpoints": [], "homepage": null, "id": SP_OBJECT,
        "info": {"termsOfServiceUrl": null, "supportUrl": null, "privacyStatementUrl": null, "marketingUrl": null, "logoUrl": null},
        "keyCredentials": [], "logoutUrl": null, "oauth2PermissionScopes": [], "passwordCredentials": [],
        "publisherName": null, "replyUrls": [], "resourceSpecificApplicationPermissions": [],
        "servicePrincipalNames": [APP_ID], "servicePrincipalType": "Application", "signInAudience": "AzureADMyOrg",
        "tags": ["exai-owner:my-org/exai:perso.deployer.sp"], "tokenEncryptionKeyId": null
    })
}

/// An item of `application-list-federatedidentitycredentials.md`'s example.
fn federated(name: &str, subject: &str, owner: &str) -> Value {
    json!({
        "@odata.id": format!("https://graph.microsoft.com/v2/3d1e2be9-a10a-4a0c-8380-7ce190f98ed9/directoryObjects/$/Microsoft.DirectoryServices.Application('{APP_OBJECT}')/federatedIdentityCredentials/bdad0963-4a7a-43ae-b569-e67e1da3f2c0"),
        "id": format!("bdad0963-4a7a-43ae-b569-{:0>12}", name.len()),
        "name": name,
        "issuer": GITHUB_ISSUER,
        "subject": subject,
        "description": format!("exai-owner:my-org/exai:{owner}"),
        "audiences": [FEDERATION_AUDIENCE]
    })
}

/// `RoleAssignments_Get.json`'s shape for the deployer's Contributor at the subscription, as
/// Azure answers it (tenant-form role id, upper-case GUIDs).
fn assignment() -> Value {
    let role = role();
    json!({
        "properties": {
            "roleDefinitionId": format!("/providers/Microsoft.Authorization/roleDefinitions/{}", CONTRIBUTOR.to_uppercase()),
            "principalId": SP_OBJECT.to_uppercase(), "principalType": "ServicePrincipal",
            "scope": format!("/subscriptions/{}", SUB.to_uppercase()),
            "condition": null, "conditionVersion": null, "createdOn": "2026-12-01T00:00:00Z",
            "updatedOn": "2026-12-01T00:00:00Z", "createdBy": null, "updatedBy": "a", "delegatedManagedIdentityResourceId": null,
            "description": "exai-owner:my-org/exai:perso.deployer.role"
        },
        "id": role.id().as_str(),
        "type": "Microsoft.Authorization/roleAssignments",
        "name": role.name
    })
}

/// Observes `desired` the way the executor does, from canned answers to each kind's read.
fn observe(desired: &DesiredState, answers: &dyn Fn(&str) -> Option<Value>) -> LiveState {
    let mut live = LiveState::new();
    for resource in &desired.resources {
        let kind = resource.spec.as_kind();
        let mut owned = Vec::new();
        let observation = {
            let known = Known::from(&live);
            let document = if kind.known_absent(known) {
                None
            } else if let Some(found) = kind.observe_from(known) {
                found
            } else {
                let request = kind.read_request_with(known).unwrap();
                answers(&request.path_and_query()).and_then(|answer| {
                    owned = kind.owned_in(&answer, known);
                    kind.select_live(answer).unwrap()
                })
            };
            match document {
                Some(document) => {
                    let id = kind.live_id(&document, known).unwrap();
                    Observation::Present(LiveResource { id, document })
                }
                None => Observation::Absent,
            }
        };
        live.insert(resource.address.clone(), observation);
        for object in owned {
            live.insert_owned(object);
        }
    }
    live
}

/// The answers of a deployer exai applied: `credentials` are the application's federated
/// credentials.
fn applied(credentials: Vec<Value>) -> impl Fn(&str) -> Option<Value> {
    move |path: &str| {
        if path.starts_with("/v1.0/applications?") {
            Some(json!({"value": [application()]}))
        } else if path.starts_with("/v1.0/servicePrincipals?") {
            Some(json!({"value": [service_principal()]}))
        } else if path == format!("/v1.0/applications/{APP_OBJECT}/federatedIdentityCredentials") {
            Some(json!({"value": credentials.clone()}))
        } else if path.contains("roleAssignments?") {
            Some(json!({"value": [assignment()]}))
        } else {
            panic!("unexpected read {path}")
        }
    }
}

#[test]
fn documentation_examples_of_an_applied_deployer_plan_no_change() {
    let d = desired();
    let production = federated(
        "github-branch-production",
        "repo:my-org/exai:ref:refs/heads/production",
        "perso.deployer.federated.github-branch-production",
    );
    let live = observe(&d, &applied(vec![production]));
    let p = plan(&d, &live).unwrap();
    let actions: Vec<(String, Action)> = p.resource_changes.iter().map(|c| (c.address.to_string(), c.action)).collect();
    assert!(p.summary.is_empty(), "no noise from server-filled fields or id casing: {actions:?}");
    assert_eq!(p.resource_changes.len(), 5, "every declared resource is listed");
    let secret = p.resource_changes.iter().find(|c| c.address.as_str() == "perso.deployer.secret").unwrap();
    assert_eq!(secret.observed["endDateTime"], "2027-01-01T00:00:00Z", "when the secret expires is shown");
    assert_eq!(
        secret.id.as_ref().unwrap().as_str(),
        format!("/applications/{APP_OBJECT}/passwordCredentials/f0b0b335-1d71-4883-8f98-567911bfdca6")
    );
}

#[test]
fn a_credential_exai_made_that_left_the_spec_is_deleted_and_a_foreign_one_is_not() {
    let d = desired();
    let mut foreign = federated("manual", "repo:my-org/other:ref:refs/heads/main", "x");
    foreign["description"] = json!("made by hand");
    let credentials = vec![
        federated(
            "github-branch-production",
            "repo:my-org/exai:ref:refs/heads/production",
            "perso.deployer.federated.github-branch-production",
        ),
        federated(
            "github-pull-request",
            "repo:my-org/exai:pull_request",
            "perso.deployer.federated.github-pull-request",
        ),
        foreign,
    ];
    let live = observe(&d, &applied(credentials));
    let p = plan(&d, &live).unwrap();
    let changed: Vec<_> = p.resource_changes.iter().filter(|c| c.action != Action::NoOp).collect();
    assert_eq!(changed.len(), 1, "{changed:#?}");
    let c = changed[0];
    assert_eq!((c.address.as_str(), c.action), ("perso.deployer.federated.github-pull-request", Action::Delete));
    assert_eq!(c.requests.len(), 1);
    assert_eq!(c.requests[0].method.as_str(), "DELETE");
    assert!(c.requests[0].path.starts_with(&format!("/v1.0/applications/{APP_OBJECT}/federatedIdentityCredentials/")));
    let before = c.before.as_ref().unwrap();
    assert_eq!(before["description"], "exai-owner:my-org/exai:perso.deployer.federated.github-pull-request");
    assert!(!before.contains_key("tags.exai-owner"), "a federated credential has no tags: {before:?}");
    assert_eq!(p.summary.destroy, 1);
}

#[test]
fn a_changed_subject_is_an_update_of_that_field_only() {
    let d = desired();
    let live = observe(
        &d,
        &applied(vec![federated(
            "GitHub-Branch-Production",
            "repo:my-org/exai:ref:refs/heads/main",
            "perso.deployer.federated.github-branch-production",
        )]),
    );
    let p = plan(&d, &live).unwrap();
    let c = p
        .resource_changes
        .iter()
        .find(|c| c.address.as_str() == "perso.deployer.federated.github-branch-production")
        .unwrap();
    assert_eq!(c.action, Action::Update, "found by name whatever its casing");
    assert_eq!(c.diffs.len(), 1);
    assert_eq!(c.diffs[0].path, "subject");
    let body = c.requests[0].body.as_ref().unwrap();
    assert!(body.get("name").is_none(), "a credential's name is immutable and never sent");
    assert_eq!(body["subject"], "repo:my-org/exai:ref:refs/heads/production");
}

#[test]
fn nothing_exists_yet_every_id_is_known_after_apply() {
    let d = desired();
    let live = observe(&d, &|path: &str| {
        assert!(path.starts_with("/v1.0/applications?"), "only the application is read: {path}");
        Some(json!({"value": []}))
    });
    let p = plan(&d, &live).unwrap();
    assert_eq!(p.summary.add, 5);
    let sp = &p.resource_changes[1];
    assert_eq!(sp.after_unknown["appId"], "known after apply: perso.deployer.app → appId");
    let fic = &p.resource_changes[2];
    assert_eq!(fic.requests[0].path, "/v1.0/applications/{{perso.deployer.app#/id}}/federatedIdentityCredentials");
    let secret = &p.resource_changes[3];
    let output = secret.requests[0].secret_output.as_ref().unwrap();
    assert_eq!(output.file, "perso.deployer.secret.json");
    assert_eq!(
        exai_model::as_placeholder(&output.with["clientId"]),
        Some(("perso.deployer.app".to_owned(), "/appId".to_owned()))
    );
    assert_eq!(secret.requests[0].body.as_ref().unwrap()["passwordCredential"]["endDateTime"], "2027-01-01T00:00:00Z");
    let role = &p.resource_changes[4];
    assert_eq!(role.after_unknown["principalId"], "known after apply: perso.deployer.sp → id");
    assert_eq!(
        role.requests[0].body.as_ref().unwrap()["properties"]["description"],
        "exai-owner:my-org/exai:perso.deployer.role"
    );
}
