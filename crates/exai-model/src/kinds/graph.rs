//! The deployer identity in Microsoft Graph v1.0: application, service principal, federated
//! identity credentials, client secret.
//!
//! Source: microsoft-graph-docs-contrib `api-reference/v1.0/api/application-post-
//! federatedidentitycredentials.md` and shared/reference/azure-rest-facts.md §7.

use crate::{
    Address, ApiRequest, Known, LiveResource, Mark, Method, OwnedFields, OwnedObject, ResourceId, SecretOutput,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// GitHub's OIDC token issuer.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
/// The audience Entra expects in a federated token.
pub const FEDERATION_AUDIENCE: &str = "api://AzureADTokenExchange";

// An object that has no ARM tags says exai owns it with its mark as text ([`Mark::text`]), in an
// application's or service principal's `tags`, a federated credential's `description`, a client
// secret's `displayName`. It is projected as the owned field `tags.exai-owner` in the tag form,
// like ARM's tag, so ownership and deletes are decided the same way for every kind.

/// Returns `mark`'s projection: the owned field [`Mark::field`] and its value.
fn mark_field(mark: &Mark) -> (String, Value) {
    (Mark::field(), Value::from(mark.tag_value()))
}

/// Returns an OData string literal: single quotes, a quote inside doubled.
fn odata_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Returns the first ownership mark among a Graph `tags` list.
fn mark_in_tags(document: &Value) -> Option<Mark> {
    document.get("tags")?.as_array()?.iter().filter_map(Value::as_str).find_map(Mark::from_text)
}

/// Returns the mark in the text member `member` of `document` (a description, a display name).
fn mark_in(document: &Value, member: &str) -> Option<Mark> {
    document.get(member).and_then(Value::as_str).and_then(Mark::from_text)
}

/// Returns a Graph `tags` list with `mark` in place of any earlier mark, every other tag kept.
fn tags_with_mark(document: &Value, mark: &Mark) -> Value {
    let mut tags: Vec<Value> = document
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|t| t.as_str().is_none_or(|t| Mark::from_text(t).is_none()))
        .cloned()
        .collect();
    tags.push(Value::from(mark.text()));
    Value::Array(tags)
}

/// Returns the `removePassword` of the client secret whose id is
/// `/applications/{app}/passwordCredentials/{keyId}`.
fn remove_password(id: &ResourceId) -> ApiRequest {
    let (application, key) = id.as_str().rsplit_once("/passwordCredentials/").unwrap_or_default();
    ApiRequest::graph(Method::Post, format!("{application}/removePassword"), Some(json!({ "keyId": key })))
}

/// Returns the DELETE of a Graph object, addressed by its path.
fn delete_object(live: &LiveResource) -> Vec<ApiRequest> {
    vec![ApiRequest::graph(Method::Delete, live.id.as_str(), None)]
}

fn object_id(document: &Value) -> Option<&str> {
    document.get("id").and_then(Value::as_str)
}

/// An Entra application registration, found by its display name (as `az ad sp create-for-rbac`
/// finds it, facts §7), so an application the recipe made by hand is adopted, not duplicated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    /// Its address.
    pub address: Address,
    /// Its ownership mark, written in its `tags`.
    pub mark: Mark,
    /// Its display name.
    pub display_name: String,
}

/// The application's service principal in the tenant: the principal role assignments name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePrincipal {
    /// Its address.
    pub address: Address,
    /// Its ownership mark, written in its `tags`.
    pub mark: Mark,
    /// The application it belongs to.
    pub application: Address,
}

/// A federated identity credential: which external tokens may log in as the application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FederatedCredential {
    /// Its address.
    pub address: Address,
    /// Its ownership mark, written in its `description`.
    pub mark: Mark,
    /// The application it belongs to.
    pub application: Address,
    /// Its name (unique per application, immutable).
    pub name: String,
    /// The token issuer.
    pub issuer: String,
    /// The token subject, e.g. `repo:owner/name:ref:refs/heads/main`.
    pub subject: String,
    /// The token audiences.
    pub audiences: Vec<String>,
}

/// A client secret of the application, for workflows that cannot use OIDC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientSecret {
    /// Its address.
    pub address: Address,
    /// Its ownership mark, written in its `displayName` when it is created (Graph cannot change
    /// a password credential afterwards: there is `addPassword` and `removePassword`, no update).
    pub mark: Mark,
    /// The application it belongs to.
    pub application: Address,
    /// Days until it expires.
    pub expires_in_days: u32,
    /// When it expires (RFC 3339), computed from the clock when apply runs
    /// (`exai_executor::prepare_secrets`); Graph's default, two years, when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date_time: Option<String>,
    /// The subscription the `creds` file names.
    pub subscription: String,
    /// The tenant the `creds` file names.
    pub tenant: String,
}

impl ClientSecret {
    /// The name of the file the secret is written to, in `azure/login`'s `creds` shape.
    pub fn file_name(&self) -> String {
        format!("{}.json", self.address)
    }
}

impl crate::Kind for Application {
    fn azure_type(&self) -> &'static str {
        "microsoft.graph.application"
    }
    fn id(&self) -> Option<ResourceId> {
        None
    }
    fn id_note(&self) -> Option<String> {
        Some(format!("known after apply: Graph assigns the object id of application `{}`", self.display_name))
    }
    fn read_request(&self) -> Option<ApiRequest> {
        Some(
            ApiRequest::graph(Method::Get, "/applications", None)
                .with_query("$filter", &format!("displayName eq {}", odata_literal(&self.display_name))),
        )
    }
    /// Graph's `eq` on display names ignores case; so does this. Two applications of that name
    /// are refused: exai cannot tell which one is its own, and a guess could hand GitHub's
    /// login to the wrong one.
    fn select_live(&self, answer: Value) -> Result<Option<Value>, String> {
        let items = answer.get("value").and_then(Value::as_array).ok_or("the answer has no `value` list")?;
        let named: Vec<&Value> = items
            .iter()
            .filter(|a| {
                a.get("displayName").and_then(Value::as_str).is_some_and(|n| n.eq_ignore_ascii_case(&self.display_name))
            })
            .collect();
        match named.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some((*one).clone())),
            many => {
                let ids: Vec<&str> = many.iter().filter_map(|a| a.get("appId").and_then(Value::as_str)).collect();
                Err(format!(
                    "{} applications are named `{}` (appId {}); exai finds its application by display name and cannot tell which one is its own",
                    many.len(),
                    self.display_name,
                    ids.join(", ")
                ))
            }
        }
    }
    fn live_id(&self, document: &Value, _known: Known<'_>) -> Option<ResourceId> {
        object_id(document).map(|id| ResourceId::graph(format!("/applications/{id}")))
    }
    /// The client secrets exai made (their `displayName` is its mark), whether or not the spec
    /// still asks for one.
    fn owned_in(&self, answer: &Value, _known: Known<'_>) -> Vec<OwnedObject> {
        let Ok(Some(application)) = self.select_live(answer.clone()) else { return Vec::new() };
        let Some(app) = object_id(&application) else { return Vec::new() };
        let passwords = application.get("passwordCredentials").and_then(Value::as_array).map(Vec::as_slice);
        passwords
            .unwrap_or_default()
            .iter()
            .filter_map(|password| {
                let mark = mark_in(password, "displayName")?;
                let key = password.get("keyId")?.as_str()?;
                let live = LiveResource {
                    id: ResourceId::graph(format!("/applications/{app}/passwordCredentials/{key}")),
                    document: password.clone(),
                };
                Some(OwnedObject {
                    resource_type: "microsoft.graph.passwordCredential".to_owned(),
                    fields: [mark_field(&mark)].into_iter().collect(),
                    mark,
                    delete: vec![remove_password(&live.id)],
                    warning: Some("workflows that log in with this client secret stop working".to_owned()),
                    live,
                })
            })
            .collect()
    }
    fn create_requests(&self, _known: Known<'_>) -> Vec<ApiRequest> {
        // `az ad sp create-for-rbac` sends only the display name (facts §7); the mark makes the
        // application exai's to delete.
        let body = json!({ "displayName": self.display_name, "tags": [self.mark.text()] });
        vec![ApiRequest::graph(Method::Post, "/applications", Some(body))]
    }
    fn update_requests(&self, live: &LiveResource, _known: Known<'_>) -> Vec<ApiRequest> {
        let body = json!({ "displayName": self.display_name, "tags": tags_with_mark(&live.document, &self.mark) });
        vec![ApiRequest::graph(Method::Patch, live.id.as_str(), Some(body))]
    }
    fn delete_requests(&self, live: &LiveResource) -> Vec<ApiRequest> {
        delete_object(live)
    }
    fn desired_fields(&self, _known: Known<'_>) -> OwnedFields {
        let mut fields = OwnedFields::new();
        fields.insert("displayName".into(), Value::from(self.display_name.clone()));
        fields.extend([mark_field(&self.mark)]);
        fields
    }
    fn live_fields(&self, live: &LiveResource) -> OwnedFields {
        let mut fields = OwnedFields::new();
        // Found by a case-insensitive match: the spelling is not a change worth a write.
        if live.document.get("displayName").and_then(Value::as_str).is_some() {
            fields.insert("displayName".into(), Value::from(self.display_name.clone()));
        }
        fields.extend(mark_in_tags(&live.document).as_ref().map(mark_field));
        fields
    }
    /// Client secrets exai does not manage (`az ad sp create-for-rbac` leaves one, and every
    /// re-run adds another): a reviewer should know they exist.
    fn observed(&self, live: &LiveResource) -> OwnedFields {
        let foreign: Vec<Value> = live
            .document
            .get("passwordCredentials")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|p| mark_in(p, "displayName").is_none())
            .map(|p| {
                let name = p.get("displayName").and_then(Value::as_str).unwrap_or("(no name)");
                let end = p.get("endDateTime").and_then(Value::as_str).unwrap_or("?");
                Value::from(format!("{name} (expires {end})"))
            })
            .collect();
        let mut fields = OwnedFields::new();
        if !foreign.is_empty() {
            fields.insert("passwordCredentials".into(), Value::Array(foreign));
        }
        fields
    }
    fn destroy_warning(&self) -> Option<&'static str> {
        Some(
            "deleting the application deletes its service principal, federated credentials and secrets: workflows that log in with it stop working",
        )
    }
}

impl crate::Kind for ServicePrincipal {
    fn azure_type(&self) -> &'static str {
        "microsoft.graph.servicePrincipal"
    }
    fn id(&self) -> Option<ResourceId> {
        None
    }
    fn id_note(&self) -> Option<String> {
        Some(format!("known after apply: Graph assigns it when `{}` exists", self.application))
    }
    fn unknown_values(&self, known: Known<'_>) -> Vec<(String, String)> {
        match known.get(&self.application, "/appId") {
            Some(_) => Vec::new(),
            None => vec![("appId".to_owned(), format!("known after apply: {} → appId", self.application))],
        }
    }
    fn read_request_with(&self, known: Known<'_>) -> Option<ApiRequest> {
        let app_id = known.get(&self.application, "/appId")?;
        let app_id = app_id.as_str()?;
        Some(
            ApiRequest::graph(Method::Get, "/servicePrincipals", None)
                .with_query("$filter", &format!("appId eq {}", odata_literal(app_id))),
        )
    }
    fn known_absent(&self, known: Known<'_>) -> bool {
        known.get(&self.application, "/appId").is_none()
    }
    fn select_live(&self, answer: Value) -> Result<Option<Value>, String> {
        let items = answer.get("value").and_then(Value::as_array).ok_or("the answer has no `value` list")?;
        // An application has at most one service principal per tenant (appId is its key).
        Ok(items.first().cloned())
    }
    fn live_id(&self, document: &Value, _known: Known<'_>) -> Option<ResourceId> {
        object_id(document).map(|id| ResourceId::graph(format!("/servicePrincipals/{id}")))
    }
    fn create_requests(&self, known: Known<'_>) -> Vec<ApiRequest> {
        let body = json!({
            "appId": known.value(&self.application, "/appId"),
            "tags": [self.mark.text()],
        });
        vec![ApiRequest::graph(Method::Post, "/servicePrincipals", Some(body))]
    }
    fn update_requests(&self, live: &LiveResource, _known: Known<'_>) -> Vec<ApiRequest> {
        let body = json!({ "tags": tags_with_mark(&live.document, &self.mark) });
        vec![ApiRequest::graph(Method::Patch, live.id.as_str(), Some(body))]
    }
    fn delete_requests(&self, live: &LiveResource) -> Vec<ApiRequest> {
        delete_object(live)
    }
    fn desired_fields(&self, _known: Known<'_>) -> OwnedFields {
        [mark_field(&self.mark)].into_iter().collect()
    }
    fn live_fields(&self, live: &LiveResource) -> OwnedFields {
        let mut fields = OwnedFields::new();
        fields.extend(mark_in_tags(&live.document).as_ref().map(mark_field));
        fields
    }
    fn observed(&self, live: &LiveResource) -> OwnedFields {
        let mut fields = OwnedFields::new();
        if live.document.get("accountEnabled") == Some(&Value::Bool(false)) {
            fields.insert("accountEnabled".into(), Value::Bool(false));
        }
        fields
    }
}

impl crate::Kind for FederatedCredential {
    fn azure_type(&self) -> &'static str {
        "microsoft.graph.federatedIdentityCredential"
    }
    fn id(&self) -> Option<ResourceId> {
        None
    }
    fn id_note(&self) -> Option<String> {
        Some(format!("known after apply: `{}`'s federatedIdentityCredentials/{}", self.application, self.name))
    }
    /// Reads the application's whole list: one read for all its credentials (each picks its
    /// own by name, the reads of one application are sent once), and the list shows the
    /// credentials exai made that the spec no longer declares.
    fn read_request_with(&self, known: Known<'_>) -> Option<ApiRequest> {
        let app = known.get(&self.application, "/id")?;
        let path = format!("/applications/{}/federatedIdentityCredentials", app.as_str()?);
        Some(ApiRequest::graph(Method::Get, path, None))
    }
    fn select_live(&self, answer: Value) -> Result<Option<Value>, String> {
        let items = answer.get("value").and_then(Value::as_array).ok_or("the answer has no `value` list")?;
        // Names are unique per application, compared as Graph compares them: ignoring case.
        Ok(items
            .iter()
            .find(|c| c.get("name").and_then(Value::as_str).is_some_and(|n| n.eq_ignore_ascii_case(&self.name)))
            .cloned())
    }
    fn owned_in(&self, answer: &Value, known: Known<'_>) -> Vec<OwnedObject> {
        let Some(app) = known.get(&self.application, "/id") else { return Vec::new() };
        let Some(app) = app.as_str() else { return Vec::new() };
        let items = answer.get("value").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        items
            .iter()
            .filter_map(|item| {
                let mark = mark_in(item, "description")?;
                let id =
                    ResourceId::graph(format!("/applications/{app}/federatedIdentityCredentials/{}", object_id(item)?));
                let live = LiveResource { id, document: item.clone() };
                Some(OwnedObject {
                    mark,
                    resource_type: "microsoft.graph.federatedIdentityCredential".to_owned(),
                    fields: federated_fields(item),
                    delete: delete_object(&live),
                    warning: Some(format!(
                        "workflows whose token subject is `{}` can no longer log in",
                        item.get("subject").and_then(Value::as_str).unwrap_or("?")
                    )),
                    live,
                })
            })
            .collect()
    }
    fn known_absent(&self, known: Known<'_>) -> bool {
        known.get(&self.application, "/id").is_none()
    }
    fn live_id(&self, document: &Value, known: Known<'_>) -> Option<ResourceId> {
        let app = known.get(&self.application, "/id")?;
        let id = object_id(document)?;
        Some(ResourceId::graph(format!("/applications/{}/federatedIdentityCredentials/{id}", app.as_str()?)))
    }
    fn create_requests(&self, known: Known<'_>) -> Vec<ApiRequest> {
        let path = format!("/applications/{}/federatedIdentityCredentials", known.path_value(&self.application, "/id"));
        let body = json!({
            "name": self.name,
            "issuer": self.issuer,
            "subject": self.subject,
            "audiences": self.audiences,
            "description": self.mark.text(),
        });
        vec![ApiRequest::graph(Method::Post, path, Some(body))]
    }
    /// `name` is immutable and never sent; the rest is (federatedidentitycredential-update.md).
    fn update_requests(&self, live: &LiveResource, _known: Known<'_>) -> Vec<ApiRequest> {
        let body = json!({
            "issuer": self.issuer,
            "subject": self.subject,
            "audiences": self.audiences,
            "description": self.mark.text(),
        });
        vec![ApiRequest::graph(Method::Patch, live.id.as_str(), Some(body))]
    }
    fn delete_requests(&self, live: &LiveResource) -> Vec<ApiRequest> {
        delete_object(live)
    }
    fn desired_fields(&self, _known: Known<'_>) -> OwnedFields {
        let mut fields = OwnedFields::new();
        fields.insert("issuer".into(), Value::from(self.issuer.clone()));
        fields.insert("subject".into(), Value::from(self.subject.clone()));
        fields.insert("audiences".into(), json!(self.audiences));
        fields.extend([mark_field(&self.mark)]);
        fields
    }
    fn live_fields(&self, live: &LiveResource) -> OwnedFields {
        federated_fields(&live.document)
    }
}

/// The owned fields of a federated credential's document.
fn federated_fields(document: &Value) -> OwnedFields {
    let mut fields = OwnedFields::new();
    for name in ["issuer", "subject"] {
        if let Some(value) = document.get(name).filter(|v| v.is_string()) {
            fields.insert(name.into(), value.clone());
        }
    }
    if let Some(audiences) = document.get("audiences").filter(|v| v.is_array()) {
        fields.insert("audiences".into(), audiences.clone());
    }
    fields.extend(mark_in(document, "description").as_ref().map(mark_field));
    fields
}

impl crate::Kind for ClientSecret {
    fn azure_type(&self) -> &'static str {
        "microsoft.graph.passwordCredential"
    }
    fn id(&self) -> Option<ResourceId> {
        None
    }
    fn id_note(&self) -> Option<String> {
        Some(format!("known after apply: the keyId that addPassword on `{}` returns", self.application))
    }
    fn unknown_values(&self, _known: Known<'_>) -> Vec<(String, String)> {
        vec![(
            "secretText".to_owned(),
            format!("sensitive: written once to .exai/secrets/{} (mode 0600), shown nowhere else", self.file_name()),
        )]
    }
    /// A client secret is part of its application's document (`passwordCredentials`, never
    /// with its text): no read of its own.
    fn observe_from(&self, known: Known<'_>) -> Option<Option<Value>> {
        let Some(application) = known.document(&self.application) else { return Some(None) };
        // Found by the address its mark names, whatever spec and protection the mark says: the
        // planner decides whether it is this spec's.
        let found = application
            .get("passwordCredentials")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|p| mark_in(p, "displayName").is_some_and(|mark| mark.address == self.address));
        Some(found.cloned())
    }
    fn live_id(&self, document: &Value, known: Known<'_>) -> Option<ResourceId> {
        let app = known.get(&self.application, "/id")?;
        let key = document.get("keyId")?.as_str()?;
        Some(ResourceId::graph(format!("/applications/{}/passwordCredentials/{key}", app.as_str()?)))
    }
    fn create_requests(&self, known: Known<'_>) -> Vec<ApiRequest> {
        let path = format!("/applications/{}/addPassword", known.path_value(&self.application, "/id"));
        let mut credential = serde_json::Map::new();
        credential.insert("displayName".into(), Value::from(self.mark.text()));
        if let Some(end) = &self.end_date_time {
            credential.insert("endDateTime".into(), Value::from(end.clone()));
        }
        // `azure/login`'s `creds` input: clientId, clientSecret, subscriptionId, tenantId (facts §7).
        let mut with = serde_json::Map::new();
        with.insert("clientId".into(), known.value(&self.application, "/appId"));
        with.insert("subscriptionId".into(), Value::from(self.subscription.clone()));
        with.insert("tenantId".into(), Value::from(self.tenant.clone()));
        vec![
            ApiRequest::graph(Method::Post, path, Some(json!({ "passwordCredential": credential })))
                .with_secret_output(SecretOutput {
                    pointer: "/secretText".to_owned(),
                    file: self.file_name(),
                    member: "clientSecret".to_owned(),
                    with,
                }),
        ]
    }
    fn delete_requests(&self, live: &LiveResource) -> Vec<ApiRequest> {
        vec![remove_password(&live.id)]
    }
    /// The mark is not compared: Graph cannot rewrite a password credential's `displayName`,
    /// so a secret keeps the mark it was created with (an earlier exai's included) until it is
    /// removed. Its owner is still checked, from [`crate::Kind::mark`] and the live mark.
    fn desired_fields(&self, _known: Known<'_>) -> OwnedFields {
        OwnedFields::new()
    }
    fn mark(&self) -> Option<Mark> {
        Some(self.mark.clone())
    }
    fn live_fields(&self, live: &LiveResource) -> OwnedFields {
        mark_in(&live.document, "displayName").as_ref().map(mark_field).into_iter().collect()
    }
    /// When it expires, so a reviewer sees a secret that is about to stop working.
    fn observed(&self, live: &LiveResource) -> OwnedFields {
        let mut fields = OwnedFields::new();
        if let Some(end) = live.document.get("endDateTime").filter(|v| v.is_string()) {
            fields.insert("endDateTime".into(), end.clone());
        }
        fields
    }
}

/// The application id of Microsoft Graph, the same in every tenant.
pub const MICROSOFT_GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// Microsoft Graph application permissions exai grants: `(name, app role id, what it allows)`.
///
/// Ids from the Microsoft Graph permissions reference (learn.microsoft.com/graph/permissions-
/// reference), the same in every tenant.
pub const GRAPH_PERMISSIONS: &[(&str, &str, &str)] = &[
    ("Application.Read.All", "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30", "read all applications and service principals"),
    (
        "Application.ReadWrite.All",
        "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
        "create, change and delete every application and service principal",
    ),
    (
        "Application.ReadWrite.OwnedBy",
        "18a4783c-866b-4cc7-a460-3d5e5662c884",
        "manage the applications it creates or owns",
    ),
    ("Directory.Read.All", "7ab1d382-f21e-4acd-a863-ba3e13f7da61", "read the whole directory"),
];

/// Returns the Graph application permission named `name` (any case) as `(name, app role id)`.
pub fn graph_permission(name: &str) -> Option<(&'static str, &'static str)> {
    GRAPH_PERMISSIONS.iter().find(|(n, _, _)| n.eq_ignore_ascii_case(name)).map(|(n, id, _)| (*n, *id))
}

/// A Microsoft Graph application permission granted to the deployer's service principal (an
/// app role assignment on Microsoft Graph's service principal): what lets a pull-request plan,
/// running as the deployer, read the deployer's own Entra objects.
///
/// Source: microsoft-graph-docs-contrib `api-reference/v1.0/api/serviceprincipal-post-
/// approleassignments.md` and `serviceprincipal-list-approleassignments.md`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphPermission {
    /// Its address.
    pub address: Address,
    /// The service principal that holds it.
    pub principal: Address,
    /// The permission's name, e.g. `Application.Read.All`.
    pub permission: String,
    /// Its app role id on Microsoft Graph.
    pub app_role_id: String,
}

impl crate::Kind for GraphPermission {
    fn azure_type(&self) -> &'static str {
        "microsoft.graph.appRoleAssignment"
    }
    fn id(&self) -> Option<ResourceId> {
        None
    }
    fn id_note(&self) -> Option<String> {
        Some(format!("known after apply: Graph assigns it when `{}` is granted `{}`", self.principal, self.permission))
    }
    fn unknown_values(&self, known: Known<'_>) -> Vec<(String, String)> {
        match known.get(&self.principal, "/id") {
            Some(_) => Vec::new(),
            None => vec![("principalId".to_owned(), format!("known after apply: {} → id", self.principal))],
        }
    }
    /// Reads what the principal holds: one read for all its permissions.
    fn read_request_with(&self, known: Known<'_>) -> Option<ApiRequest> {
        let principal = known.get(&self.principal, "/id")?;
        let path = format!("/servicePrincipals/{}/appRoleAssignments", principal.as_str()?);
        Some(ApiRequest::graph(Method::Get, path, None))
    }
    fn known_absent(&self, known: Known<'_>) -> bool {
        known.get(&self.principal, "/id").is_none()
    }
    fn select_live(&self, answer: Value) -> Result<Option<Value>, String> {
        let items = answer.get("value").and_then(Value::as_array).ok_or("the answer has no `value` list")?;
        Ok(items
            .iter()
            .find(|a| {
                a.get("appRoleId").and_then(Value::as_str).is_some_and(|id| id.eq_ignore_ascii_case(&self.app_role_id))
            })
            .cloned())
    }
    fn live_id(&self, document: &Value, known: Known<'_>) -> Option<ResourceId> {
        let principal = known.get(&self.principal, "/id")?;
        Some(ResourceId::graph(format!(
            "/servicePrincipals/{}/appRoleAssignments/{}",
            principal.as_str()?,
            object_id(document)?
        )))
    }
    /// Looks up Microsoft Graph's service principal in the tenant (its object id differs in each
    /// tenant), then grants the app role.
    fn create_requests(&self, known: Known<'_>) -> Vec<ApiRequest> {
        let lookup =
            ApiRequest::graph(Method::Get, format!("/servicePrincipals(appId='{MICROSOFT_GRAPH_APP_ID}')"), None);
        let body = json!({
            "principalId": known.value(&self.principal, "/id"),
            "resourceId": crate::placeholder(self.address.as_str(), "/id"),
            "appRoleId": self.app_role_id,
        });
        let path = format!("/servicePrincipals/{}/appRoleAssignments", known.path_value(&self.principal, "/id"));
        vec![lookup, ApiRequest::graph(Method::Post, path, Some(body))]
    }
    fn delete_requests(&self, live: &LiveResource) -> Vec<ApiRequest> {
        delete_object(live)
    }
    fn desired_fields(&self, _known: Known<'_>) -> OwnedFields {
        let mut fields = OwnedFields::new();
        fields.insert("appRoleId".into(), Value::from(self.app_role_id.clone()));
        fields
    }
    fn live_fields(&self, live: &LiveResource) -> OwnedFields {
        let mut fields = OwnedFields::new();
        if let Some(id) = live.document.get("appRoleId").and_then(Value::as_str) {
            fields.insert("appRoleId".into(), Value::from(id.to_ascii_lowercase()));
        }
        fields
    }
    fn observed(&self, live: &LiveResource) -> OwnedFields {
        let mut fields = OwnedFields::new();
        if let Some(resource) = live.document.get("resourceDisplayName").filter(|v| v.is_string()) {
            fields.insert("resourceDisplayName".into(), resource.clone());
        }
        fields
    }
}

/// The federated credentials GitHub Actions needs for `repository` (`owner/name`).
///
/// Subjects in GitHub's format (docs.github.com, "About security hardening with OpenID
/// Connect", example subject claims): `repo:OWNER/REPO:ref:refs/heads/BRANCH`,
/// `repo:OWNER/REPO:pull_request`, `repo:OWNER/REPO:environment:NAME`.
pub fn github_subjects(
    repository: &str,
    branches: &[String],
    pull_requests: bool,
    environments: &[String],
) -> Vec<(String, String)> {
    let slug = |s: &str| {
        s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect::<String>()
    };
    let mut out = Vec::new();
    for branch in branches {
        out.push((format!("github-branch-{}", slug(branch)), format!("repo:{repository}:ref:refs/heads/{branch}")));
    }
    if pull_requests {
        out.push(("github-pull-request".to_owned(), format!("repo:{repository}:pull_request")));
    }
    for environment in environments {
        out.push((
            format!("github-environment-{}", slug(environment)),
            format!("repo:{repository}:environment:{environment}"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_graph_permission_is_looked_up_then_granted_and_found_by_its_app_role() {
        use crate::Kind;
        let (name, id) = graph_permission("application.read.all").unwrap();
        assert_eq!(name, "Application.Read.All");
        let permission = GraphPermission {
            address: Address::new("perso", "deployer.graph.application-read-all"),
            principal: Address::new("perso", "deployer.sp"),
            permission: name.to_owned(),
            app_role_id: id.to_owned(),
        };
        let nothing = Known::nothing();
        assert!(permission.known_absent(nothing));
        let requests = permission.create_requests(nothing);
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[0].method, Method::Get, "Microsoft Graph's service principal is looked up first");
        assert_eq!(requests[0].path, "/v1.0/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')");
        assert_eq!(requests[1].path, "/v1.0/servicePrincipals/{{perso.deployer.sp#/id}}/appRoleAssignments");
        let body = requests[1].body.as_ref().unwrap();
        assert_eq!(
            crate::as_placeholder(&body["resourceId"]),
            Some(("perso.deployer.graph.application-read-all".to_owned(), "/id".to_owned())),
            "the lookup's answer names the resource"
        );
        assert_eq!(body["appRoleId"], id);
        let answer = json!({"value": [
            {"id": "a1", "appRoleId": "7ab1d382-f21e-4acd-a863-ba3e13f7da61"},
            {"id": "a2", "appRoleId": id.to_uppercase(), "resourceDisplayName": "Microsoft Graph"}
        ]});
        assert_eq!(permission.select_live(answer).unwrap().unwrap()["id"], "a2");
        assert!(graph_permission("Mail.Send").is_none(), "only the permissions exai knows");
    }

    #[test]
    fn subjects_follow_github_formats() {
        let subjects =
            github_subjects("my-org/exai", &["production".into(), "release/1.0".into()], true, &["prod".into()]);
        assert_eq!(
            subjects,
            [
                ("github-branch-production".to_owned(), "repo:my-org/exai:ref:refs/heads/production".to_owned()),
                ("github-branch-release-1-0".to_owned(), "repo:my-org/exai:ref:refs/heads/release/1.0".to_owned()),
                ("github-pull-request".to_owned(), "repo:my-org/exai:pull_request".to_owned()),
                ("github-environment-prod".to_owned(), "repo:my-org/exai:environment:prod".to_owned()),
            ]
        );
    }
}
