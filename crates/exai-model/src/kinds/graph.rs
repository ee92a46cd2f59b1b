//! The deployer identity in Microsoft Graph v1.0: application, service principal, federated
//! identity credentials, client secret.
//!
//! Source: microsoft-graph-docs-contrib `api-reference/v1.0/api/application-post-
//! federatedidentitycredentials.md` and docs/azure-facts.md §7.

use crate::{
    Address, Adoption, ApiRequest, Known, LiveResource, Mark, Method, OwnedFields, OwnedObject, ResourceId,
    SecretGuard, SecretOutput,
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
pub fn odata_literal(text: &str) -> String {
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

fn object_id(document: &Value) -> Option<&str> {
    document.get("id").and_then(Value::as_str)
}

/// Graph's error code for a create whose key is taken: a second service principal for one
/// `appId`, a second federated credential of one name (service_principals and federated
/// credential docs; the emulator answers 409).
const SAME_KEY: &str = "Request_MultipleObjectsWithSameKeyValue";

/// The `Prefer` header of an application upsert: create when missing
/// (learn.microsoft.com/graph/api/application-upsert), and answer with the object either way
/// (OData's `return=representation`), since the dependants need its ids.
const UPSERT_PREFER: &str = "create-if-missing, return=representation";

/// An Entra application registration, found by its display name (as `az ad sp create-for-rbac`
/// finds it, docs/azure-facts.md §7), so an application the recipe made by hand is adopted, not duplicated.
///
/// exai creates it with Graph's upsert by `uniqueName` ([`Application::unique_name`]), so two
/// applies at once, or one retried after a lost answer, make one application, never two.
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
    /// What the secret file holds, when it was checked (plans and applies check it; `None`
    /// leaves the file out of the comparison).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handover: Option<SecretHandover>,
}

impl Application {
    /// The application's `uniqueName`, Graph's client-provided alternate key it is created
    /// with: `exai-<address, dots as dashes>-<the first 12 hex digits of the SHA-256 of the
    /// lowercased display name>`, e.g. `exai-perso-deployer-app-3f2a9c0d41b7`.
    ///
    /// Stable: it depends only on the spec's id, the resource's address and its display name,
    /// never on the clock or the machine, so every run of one spec computes the same key. The
    /// display name is part of it because exai identifies its application by that name;
    /// renaming the application in the spec makes a new one, as finding it by display name
    /// always did. The spec's id is part of it so that two specs declaring the same address
    /// and display name at once can never upsert (and so re-mark) one application: each gets
    /// its own key, and the plan of the second sees the first's as another spec's.
    pub fn unique_name(&self) -> String {
        let spec = self.mark.spec.as_deref().unwrap_or_default().to_lowercase();
        let key = format!("{spec}\n{}", self.display_name.to_lowercase());
        let digest = crate::sha256_digest(key.as_bytes());
        let hex = digest.trim_start_matches("sha256:");
        format!("exai-{}-{}", self.address.as_str().replace('.', "-"), &hex[..12.min(hex.len())])
    }
}

/// Whether the file a client secret is written to hands over the secret Azure holds, checked
/// before planning (`exai_executor::check_secret_files`): exai cannot log in from a plan, so
/// the file's `clientSecret` must be non-empty, its `clientId` the application's, and its
/// `keyId` the live secret's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum SecretHandover {
    /// The file holds a secret of the application, with this key id.
    Holds {
        /// The `keyId` recorded in the file.
        key_id: String,
    },
    /// The file cannot hand a secret over.
    NotHandedOver {
        /// Why, e.g. `missing` or `empty: ...`.
        why: String,
    },
}

/// The owned field that says whether the secret file holds the live secret.
const SECRET_FILE_FIELD: &str = "secretFile";

/// The value of [`SECRET_FILE_FIELD`] when it does.
const HANDED_OVER: &str = "holds this secret";

impl ClientSecret {
    /// The name of the file the secret is written to, in `azure/login`'s `creds` shape.
    pub fn file_name(&self) -> String {
        format!("{}.json", self.address)
    }
}

impl Application {
    /// The Graph type.
    pub const AZURE_TYPE: &'static str = "microsoft.graph.application";
    /// The kind's row in the table of kinds ([`crate::KindName::info`]).
    pub const INFO: crate::KindInfo = crate::KindInfo {
        azure_type: Self::AZURE_TYPE,
        destroy_warning: Some(
            "deleting the application deletes its service principal, federated credentials and secrets: workflows that log in with it stop working",
        ),
        // Finding an application that left the spec means scanning the whole tenant.
        orphans: crate::Orphans::NotSought,
        deletion: crate::Deletion::GraphObject,
        mark_place: crate::MarkPlace::GraphTags,
    };
}

impl crate::Kind for Application {
    fn name(&self) -> crate::KindName {
        crate::KindName::Application
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
    /// Graph's `eq` on display names ignores case; so does this. The application carrying this
    /// one's `uniqueName` is it; otherwise one without a `uniqueName` (made by `az ad sp
    /// create-for-rbac`) is adopted, and one with another `uniqueName` is another spec's. Two
    /// candidates of that name are refused: exai cannot tell which one is its own, and a guess
    /// could hand GitHub's login to the wrong one.
    fn select_live(&self, answer: Value) -> Result<Option<Value>, String> {
        let items = answer.get("value").and_then(Value::as_array).ok_or("the answer has no `value` list")?;
        let unique_name = self.unique_name();
        let key = |a: &Value| a.get("uniqueName").and_then(Value::as_str).map(str::to_owned);
        let named: Vec<&Value> = items
            .iter()
            .filter(|a| {
                a.get("displayName").and_then(Value::as_str).is_some_and(|n| n.eq_ignore_ascii_case(&self.display_name))
            })
            .collect();
        if let Some(own) = named.iter().find(|a| key(a).is_some_and(|k| k.eq_ignore_ascii_case(&unique_name))) {
            return Ok(Some((*own).clone()));
        }
        // Besides its own: one made without a uniqueName (by `az`, by an earlier exai) is
        // adopted, and one another spec made (its mark says so) is returned for the planner to
        // refuse, naming its owner. One with a uniqueName and no mark of exai's is nobody exai
        // knows: it cannot be adopted (a uniqueName never changes, so this spec's upserts
        // would make a second application of the name).
        let (candidates, strangers): (Vec<&Value>, Vec<&Value>) =
            named.into_iter().partition(|a| key(a).is_none() || mark_in_tags(a).is_some());
        if let ([], [stranger, ..]) = (candidates.as_slice(), strangers.as_slice()) {
            return Err(format!(
                "an application named `{}` exists (appId {}) with the uniqueName `{}`, which exai did not give it; exai cannot adopt it (a uniqueName never changes): give the deployer another name, or delete that application",
                self.display_name,
                stranger.get("appId").and_then(Value::as_str).unwrap_or("?"),
                key(stranger).unwrap_or_default(),
            ));
        }
        match candidates.as_slice() {
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
                let fields = [mark_field(&mark)].into_iter().collect();
                let warning = "workflows that log in with this client secret stop working".to_owned();
                Some(OwnedObject::found(crate::KindName::ClientSecret, mark, live, fields, Some(warning)))
            })
            .collect()
    }
    /// An upsert by `uniqueName` (learn.microsoft.com/graph/api/application-upsert): created
    /// when missing (201), updated when a concurrent run made it first (200 with
    /// `return=representation`), never a second application. `az ad sp create-for-rbac` sends
    /// only the display name (docs/azure-facts.md §7); the mark makes the application exai's to delete.
    fn create_requests(&self, _known: Known<'_>) -> Vec<ApiRequest> {
        let body = json!({ "displayName": self.display_name, "tags": [self.mark.text()] });
        let path = format!("/applications(uniqueName={})", odata_literal(&self.unique_name()));
        vec![ApiRequest::graph(Method::Patch, path, Some(body)).with_header("Prefer", UPSERT_PREFER)]
    }
    fn update_requests(&self, live: &LiveResource, _known: Known<'_>) -> Vec<ApiRequest> {
        let body = json!({ "displayName": self.display_name, "tags": tags_with_mark(&live.document, &self.mark) });
        vec![ApiRequest::graph(Method::Patch, live.id.as_str(), Some(body))]
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
    /// Every owned field (the display name, the mark in `tags`) is written by a PATCH.
    fn replace_reason(&self, _path: &str) -> Option<&'static str> {
        None
    }
}

impl ServicePrincipal {
    /// The Graph type.
    pub const AZURE_TYPE: &'static str = "microsoft.graph.servicePrincipal";
    /// The kind's row in the table of kinds ([`crate::KindName::info`]).
    pub const INFO: crate::KindInfo = crate::KindInfo {
        azure_type: Self::AZURE_TYPE,
        destroy_warning: None,
        // Deleted with its application.
        orphans: crate::Orphans::NotSought,
        deletion: crate::Deletion::GraphObject,
        mark_place: crate::MarkPlace::GraphTags,
    };
}

impl crate::Kind for ServicePrincipal {
    fn name(&self) -> crate::KindName {
        crate::KindName::ServicePrincipal
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
        let app_id = known.value(&self.application, "/appId");
        let body = json!({ "appId": app_id, "tags": [self.mark.text()] });
        // A concurrent run may have made it: Graph refuses a second principal for one appId
        // (409); it is read by its alternate key and adopted.
        let read = ApiRequest::graph(
            Method::Get,
            format!("/servicePrincipals(appId='{}')", known.path_value(&self.application, "/appId")),
            None,
        );
        let adoption = Adoption {
            codes: vec![SAME_KEY.to_owned()],
            read: Box::new(read),
            select: Vec::new(),
            select_ending: Vec::new(),
            verify: vec![("/appId".to_owned(), app_id)],
        };
        vec![ApiRequest::graph(Method::Post, "/servicePrincipals", Some(body)).with_adoption(adoption)]
    }
    fn update_requests(&self, live: &LiveResource, _known: Known<'_>) -> Vec<ApiRequest> {
        let body = json!({ "tags": tags_with_mark(&live.document, &self.mark) });
        vec![ApiRequest::graph(Method::Patch, live.id.as_str(), Some(body))]
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
    /// Every owned field is written by a PATCH.
    fn replace_reason(&self, _path: &str) -> Option<&'static str> {
        None
    }
}

impl FederatedCredential {
    /// The Graph type.
    pub const AZURE_TYPE: &'static str = "microsoft.graph.federatedIdentityCredential";
    /// The kind's row in the table of kinds ([`crate::KindName::info`]).
    pub const INFO: crate::KindInfo = crate::KindInfo {
        azure_type: Self::AZURE_TYPE,
        destroy_warning: None,
        orphans: crate::Orphans::OwnedIn,
        deletion: crate::Deletion::GraphObject,
        mark_place: crate::MarkPlace::GraphDescription,
    };
}

impl crate::Kind for FederatedCredential {
    fn name(&self) -> crate::KindName {
        crate::KindName::FederatedCredential
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
                let warning = format!(
                    "workflows whose token subject is `{}` can no longer log in",
                    item.get("subject").and_then(Value::as_str).unwrap_or("?")
                );
                Some(OwnedObject::found(
                    crate::KindName::FederatedCredential,
                    mark,
                    live,
                    federated_fields(item),
                    Some(warning),
                ))
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
        // Names are unique per application (409 when taken): one a concurrent run made is
        // adopted when it trusts the same tokens.
        let adoption = Adoption {
            codes: vec![SAME_KEY.to_owned()],
            read: Box::new(ApiRequest::graph(Method::Get, path.clone(), None)),
            select: vec![("/name".to_owned(), Value::from(self.name.clone()))],
            select_ending: Vec::new(),
            verify: vec![
                ("/issuer".to_owned(), Value::from(self.issuer.clone())),
                ("/subject".to_owned(), Value::from(self.subject.clone())),
                ("/audiences".to_owned(), json!(self.audiences)),
            ],
        };
        vec![ApiRequest::graph(Method::Post, path, Some(body)).with_adoption(adoption)]
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
    /// The mark is listed where the credential holds it, its `description`: a federated
    /// credential has no tags, and a plan must not show a field the object cannot have.
    fn desired_fields(&self, _known: Known<'_>) -> OwnedFields {
        let mut fields = OwnedFields::new();
        fields.insert("issuer".into(), Value::from(self.issuer.clone()));
        fields.insert("subject".into(), Value::from(self.subject.clone()));
        fields.insert("audiences".into(), json!(self.audiences));
        fields.insert("description".into(), Value::from(self.mark.text()));
        fields
    }
    fn live_fields(&self, live: &LiveResource) -> OwnedFields {
        federated_fields(&live.document)
    }
    /// Every owned field is written by a PATCH (the immutable `name` is not an owned field: it
    /// is how the credential is found).
    fn replace_reason(&self, _path: &str) -> Option<&'static str> {
        None
    }
}

/// The owned fields of a federated credential's document. `description` is owned whatever it
/// holds: exai writes its mark there (a description written by hand shows as a change).
fn federated_fields(document: &Value) -> OwnedFields {
    let mut fields = OwnedFields::new();
    for name in ["issuer", "subject", "description"] {
        if let Some(value) = document.get(name).filter(|v| v.is_string()) {
            fields.insert(name.into(), value.clone());
        }
    }
    if let Some(audiences) = document.get("audiences").filter(|v| v.is_array()) {
        fields.insert("audiences".into(), audiences.clone());
    }
    fields
}

impl ClientSecret {
    /// The Graph type.
    pub const AZURE_TYPE: &'static str = "microsoft.graph.passwordCredential";
    /// The kind's row in the table of kinds ([`crate::KindName::info`]).
    pub const INFO: crate::KindInfo = crate::KindInfo {
        azure_type: Self::AZURE_TYPE,
        destroy_warning: None,
        orphans: crate::Orphans::OwnedIn,
        deletion: crate::Deletion::GraphPassword,
        mark_place: crate::MarkPlace::GraphDisplayName,
    };
}

impl crate::Kind for ClientSecret {
    fn name(&self) -> crate::KindName {
        crate::KindName::ClientSecret
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
    /// Of the secrets carrying its mark, the one the secret file holds; otherwise the first
    /// (which the file does not hand over: its rotation is planned). Any other marked one is
    /// the application's to list as superseded.
    fn observe_from(&self, known: Known<'_>) -> Option<Option<Value>> {
        let marked = self.marked(known);
        let held = match &self.handover {
            Some(SecretHandover::Holds { key_id }) => marked.iter().find(|p| key_of(p) == Some(key_id.as_str())),
            _ => None,
        };
        Some(held.or(marked.first()).map(|p| (*p).clone()))
    }
    fn live_id(&self, document: &Value, known: Known<'_>) -> Option<ResourceId> {
        let app = known.get(&self.application, "/id")?;
        let key = document.get("keyId")?.as_str()?;
        Some(ResourceId::graph(format!("/applications/{}/passwordCredentials/{key}", app.as_str()?)))
    }
    fn create_requests(&self, known: Known<'_>) -> Vec<ApiRequest> {
        vec![self.add_password(known)]
    }
    /// A rotation: the secret file does not hold the live secret (a lost answer, an interrupted
    /// apply, a deleted file), so nobody can use it. A new one is added into the file first,
    /// then the orphan is removed (it logs nobody in: no `--allow-delete` needed).
    fn update_requests(&self, live: &LiveResource, known: Known<'_>) -> Vec<ApiRequest> {
        vec![self.add_password(known), Self::INFO.deletion.request(&live.id)]
    }
    fn update_reason(&self, live: &LiveResource) -> Option<String> {
        let verdict = self.handover_verdict(&live.document)?;
        (verdict != HANDED_OVER).then(|| {
            format!(
                "the secret file `.exai/secrets/{}` does not hand over the client secret exai created ({verdict}); a new secret is added into the file, then the one nobody holds (keyId `{}`) is removed",
                self.file_name(),
                key_of(&live.document).unwrap_or("?"),
            )
        })
    }
    /// The mark is not compared: Graph cannot rewrite a password credential's `displayName`,
    /// so a secret keeps the mark it was created with (an earlier exai's included) until it is
    /// removed. Its owner is still checked, from [`crate::Kind::mark`] and the live mark. What
    /// is compared is whether the secret file hands the live secret over.
    fn desired_fields(&self, known: Known<'_>) -> OwnedFields {
        let mut fields = OwnedFields::new();
        if self.handover.is_some() && !self.marked(known).is_empty() {
            fields.insert(SECRET_FILE_FIELD.into(), Value::from(HANDED_OVER));
        }
        fields
    }
    fn mark(&self) -> Option<Mark> {
        Some(self.mark.clone())
    }
    fn live_fields(&self, live: &LiveResource) -> OwnedFields {
        let mut fields: OwnedFields =
            mark_in(&live.document, "displayName").as_ref().map(mark_field).into_iter().collect();
        if let Some(verdict) = self.handover_verdict(&live.document) {
            fields.insert(SECRET_FILE_FIELD.into(), Value::from(verdict));
        }
        fields
    }
    /// When it expires, so a reviewer sees a secret that is about to stop working.
    fn observed(&self, live: &LiveResource) -> OwnedFields {
        let mut fields = OwnedFields::new();
        if let Some(end) = live.document.get("endDateTime").filter(|v| v.is_string()) {
            fields.insert("endDateTime".into(), end.clone());
        }
        fields
    }
    /// A secret that must change is rotated ([`crate::Kind::update_requests`]), never replaced.
    fn replace_reason(&self, _path: &str) -> Option<&'static str> {
        None
    }
}

/// Returns a password credential's `keyId`.
fn key_of(credential: &Value) -> Option<&str> {
    credential.get("keyId").and_then(Value::as_str)
}

impl ClientSecret {
    /// The password credentials of the live application carrying this secret's mark.
    fn marked<'a>(&self, known: Known<'a>) -> Vec<&'a Value> {
        let Some(application) = known.document(&self.application) else { return Vec::new() };
        // Found by the address its mark names, whatever spec and protection the mark says: the
        // planner decides whether it is this spec's.
        application
            .get("passwordCredentials")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|p| mark_in(p, "displayName").is_some_and(|mark| mark.address == self.address))
            .collect()
    }

    /// What the secret file holds compared with the live secret `credential`, when the file
    /// was checked.
    fn handover_verdict(&self, credential: &Value) -> Option<String> {
        Some(match self.handover.as_ref()? {
            SecretHandover::Holds { key_id } if key_of(credential).is_some_and(|k| k.eq_ignore_ascii_case(key_id)) => {
                HANDED_OVER.to_owned()
            }
            SecretHandover::Holds { key_id } => format!("holds another secret (keyId `{key_id}`)"),
            SecretHandover::NotHandedOver { why } => why.clone(),
        })
    }

    /// The `addPassword` that creates the secret into its file, guarded against a concurrent
    /// run adding one too (see [`SecretGuard`]).
    fn add_password(&self, known: Known<'_>) -> ApiRequest {
        let application = format!("/applications/{}", known.path_value(&self.application, "/id"));
        let path = format!("{application}/addPassword");
        let mut credential = serde_json::Map::new();
        credential.insert("displayName".into(), Value::from(self.mark.text()));
        if let Some(end) = &self.end_date_time {
            credential.insert("endDateTime".into(), Value::from(end.clone()));
        }
        // `azure/login`'s `creds` input: clientId, clientSecret, subscriptionId, tenantId (docs/azure-facts.md §7).
        let mut with = serde_json::Map::new();
        with.insert("clientId".into(), known.value(&self.application, "/appId"));
        with.insert("subscriptionId".into(), Value::from(self.subscription.clone()));
        with.insert("tenantId".into(), Value::from(self.tenant.clone()));
        ApiRequest::graph(Method::Post, path, Some(json!({ "passwordCredential": credential }))).with_secret_output(
            SecretOutput {
                pointer: "/secretText".to_owned(),
                file: self.file_name(),
                member: "clientSecret".to_owned(),
                with,
                key_pointer: Some("/keyId".to_owned()),
                guard: Some(SecretGuard {
                    read: Box::new(ApiRequest::graph(Method::Get, application.clone(), None)),
                    list: "/passwordCredentials".to_owned(),
                    name_member: "displayName".to_owned(),
                    name: self.mark.text(),
                    key_member: "keyId".to_owned(),
                    planned: self.marked(known).into_iter().filter_map(key_of).map(str::to_owned).collect(),
                    remove: Box::new(ApiRequest::graph(
                        Method::Post,
                        format!("{application}/removePassword"),
                        Some(json!({ "keyId": null })),
                    )),
                }),
            },
        )
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

impl GraphPermission {
    /// The Graph type.
    pub const AZURE_TYPE: &'static str = "microsoft.graph.appRoleAssignment";
    /// The kind's row in the table of kinds ([`crate::KindName::info`]).
    pub const INFO: crate::KindInfo = crate::KindInfo {
        azure_type: Self::AZURE_TYPE,
        destroy_warning: None,
        // Carries no mark, and is deleted with its principal.
        orphans: crate::Orphans::NotSought,
        deletion: crate::Deletion::GraphObject,
        mark_place: crate::MarkPlace::Unmarked,
    };
}

impl crate::Kind for GraphPermission {
    fn name(&self) -> crate::KindName {
        crate::KindName::GraphPermission
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
    // Nothing observed: the rest of an app role assignment (`resourceDisplayName` "Microsoft
    // Graph", `principalDisplayName`, `createdDateTime`) is Graph's bookkeeping, which a
    // reviewer cannot act on.
    /// Nothing: the assignment is found by its one owned field, its role (`appRoleId`), so a
    /// live assignment never differs from the declared one.
    fn update_requests(&self, _live: &LiveResource, _known: Known<'_>) -> Vec<ApiRequest> {
        Vec::new()
    }
    /// None: see [`crate::Kind::update_requests`].
    fn replace_reason(&self, _path: &str) -> Option<&'static str> {
        None
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

    /// A secret found in the application's read is a client secret, removed through its
    /// application as a declared one is, never deleted as the application would be.
    #[test]
    fn an_orphaned_client_secret_is_removed_as_a_declared_one_is() {
        use crate::Kind;
        let mark = Mark::new("my-org/exai", &Address::new("perso", "deployer.secret"), false);
        let answer = json!({"value": [{"id": "a1", "displayName": "exai-perso-github-sp", "passwordCredentials": [
            {"keyId": "k1", "displayName": mark.text()},
            {"keyId": "k2", "displayName": "made by hand"},
        ]}]});
        let found = application().owned_in(&answer, Known::nothing());
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].resource_type, ClientSecret::AZURE_TYPE);
        let declared = crate::KindName::ClientSecret.info().deletion.request(&found[0].live.id);
        assert_eq!(found[0].delete, std::slice::from_ref(&declared));
        assert_eq!(
            (declared.method, declared.path.as_str(), declared.body),
            (Method::Post, "/v1.0/applications/a1/removePassword", Some(json!({"keyId": "k1"})))
        );
    }

    fn application() -> Application {
        let address = Address::new("perso", "deployer.app");
        Application {
            mark: Mark::new("my-org/exai", &address, false),
            address,
            display_name: "exai-perso-github-sp".into(),
        }
    }

    #[test]
    fn the_application_is_upserted_by_a_stable_unique_name_and_found_by_it_first() {
        use crate::Kind;
        let app = application();
        // Derived from the address and the display name only: the same on every machine and
        // run, whatever the case of the name.
        assert_eq!(app.unique_name(), "exai-perso-deployer-app-7446c7563c3d");
        let shouted = Application { display_name: "EXAI-PERSO-GITHUB-SP".into(), ..application() };
        assert_eq!(shouted.unique_name(), app.unique_name());
        let other = Application { address: Address::new("prod", "deployer.app"), ..application() };
        assert_ne!(other.unique_name(), app.unique_name());
        let other_spec = Application { mark: Mark::new("their-org/infra", &app.address, false), ..application() };
        assert_ne!(other_spec.unique_name(), app.unique_name(), "another spec never upserts this one");

        let requests = app.create_requests(Known::nothing());
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].method, Method::Patch);
        assert_eq!(requests[0].path, "/v1.0/applications(uniqueName='exai-perso-deployer-app-7446c7563c3d')");
        assert_eq!(requests[0].headers, [("Prefer".to_owned(), "create-if-missing, return=representation".to_owned())]);

        let ours = json!({"id": "1", "displayName": "exai-perso-github-sp", "uniqueName": app.unique_name()});
        let by_az = json!({"id": "2", "displayName": "exai-perso-github-sp", "uniqueName": null});
        let another_spec = json!({"id": "3", "displayName": "exai-perso-github-sp", "uniqueName": "exai-x",
            "tags": ["exai-owner:their-org/infra:perso.deployer.app"]});
        let stranger = json!({"id": "4", "displayName": "exai-perso-github-sp", "uniqueName": "someone-else"});
        let pick = |items: Vec<&Value>| app.select_live(json!({ "value": items })).map(|f| f.map(|a| a["id"].clone()));
        assert_eq!(pick(vec![&by_az, &ours, &another_spec]), Ok(Some(json!("1"))), "its own, by uniqueName");
        assert_eq!(pick(vec![&by_az, &stranger]), Ok(Some(json!("2"))), "one made by az is adopted");
        assert_eq!(
            pick(vec![&another_spec]),
            Ok(Some(json!("3"))),
            "another spec's is returned: the planner refuses it, naming its owner"
        );
        assert!(pick(vec![&stranger]).unwrap_err().contains("uniqueName `someone-else`"), "never adopted");
        assert!(pick(vec![&by_az, &by_az]).is_err(), "two it cannot tell apart");
    }

    #[test]
    fn creates_that_may_race_say_how_to_adopt_what_a_concurrent_run_made() {
        use crate::Kind;
        let address = Address::new("perso", "deployer.sp");
        let sp = ServicePrincipal {
            mark: Mark::new("my-org/exai", &address, false),
            address,
            application: application().address,
        };
        let adoption = sp.create_requests(Known::nothing())[0].on_conflict.clone().unwrap();
        assert_eq!(adoption.codes, ["Request_MultipleObjectsWithSameKeyValue"]);
        assert_eq!(adoption.read.path, "/v1.0/servicePrincipals(appId='{{perso.deployer.app#/appId}}')");
        let address = Address::new("perso", "deployer.federated.github-pull-request");
        let fic = FederatedCredential {
            mark: Mark::new("my-org/exai", &address, false),
            address,
            application: application().address,
            name: "github-pull-request".into(),
            issuer: GITHUB_ISSUER.into(),
            subject: "repo:my-org/exai:pull_request".into(),
            audiences: vec![FEDERATION_AUDIENCE.into()],
        };
        let adoption = fic.create_requests(Known::nothing())[0].on_conflict.clone().unwrap();
        let list = json!({"value": [
            {"name": "other", "subject": "x"},
            {"name": "GitHub-Pull-Request", "issuer": GITHUB_ISSUER, "subject": "repo:my-org/exai:pull_request", "audiences": [FEDERATION_AUDIENCE]},
        ]});
        let found = adoption.pick(&list).unwrap();
        assert_eq!(adoption.mismatch(found), None, "the same credential: adopted");
        let changed = json!({"name": "github-pull-request", "issuer": GITHUB_ISSUER, "subject": "repo:evil/fork:pull_request", "audiences": [FEDERATION_AUDIENCE]});
        assert_eq!(
            adoption.mismatch(&changed),
            Some(("/subject".to_owned(), json!("repo:evil/fork:pull_request"), json!("repo:my-org/exai:pull_request"))),
            "one that trusts other tokens is never adopted"
        );
    }

    #[test]
    fn a_secret_its_file_does_not_hand_over_is_rotated_with_its_reason() {
        use crate::{Kind, LiveState, Observation};
        let secret = |handover: Option<SecretHandover>| ClientSecret {
            mark: Mark::new("my-org/exai", &Address::new("perso", "deployer.secret"), false),
            address: Address::new("perso", "deployer.secret"),
            application: application().address,
            expires_in_days: 30,
            end_date_time: None,
            subscription: "s".into(),
            tenant: "t".into(),
            handover,
        };
        let credential = json!({"keyId": "k1", "displayName": "exai-owner:perso.deployer.secret", "hint": "abc"});
        let mut live = LiveState::new();
        live.insert(
            application().address,
            Observation::Present(LiveResource {
                id: ResourceId::graph("/applications/a1"),
                document: json!({"id": "a1", "appId": "app", "passwordCredentials": [
                    {"keyId": "k0", "displayName": "exai-owner:perso.deployer.secret"},
                    credential.clone(),
                ]}),
            }),
        );
        let known = Known::from(&live);
        let holds = secret(Some(SecretHandover::Holds { key_id: "k1".into() }));
        assert_eq!(holds.observe_from(known), Some(Some(credential.clone())), "the one the file holds");
        let live_secret =
            LiveResource { id: ResourceId::graph("/applications/a1/passwordCredentials/k1"), document: credential };
        assert_eq!(
            holds.desired_fields(known)[SECRET_FILE_FIELD],
            holds.live_fields(&live_secret)[SECRET_FILE_FIELD],
            "handed over: no change"
        );
        assert_eq!(holds.update_reason(&live_secret), None);

        let lost = secret(Some(SecretHandover::NotHandedOver { why: "missing".into() }));
        assert_eq!(lost.live_fields(&live_secret)[SECRET_FILE_FIELD], "missing");
        assert_eq!(lost.desired_fields(known)[SECRET_FILE_FIELD], HANDED_OVER);
        assert!(lost.update_reason(&live_secret).unwrap().contains(
            "(missing); a new secret is added into the file, then the one nobody holds (keyId `k1`) is removed"
        ));
        let requests = lost.update_requests(&live_secret, known);
        assert_eq!(
            requests.iter().map(|r| (r.method, r.path.as_str())).collect::<Vec<_>>(),
            [
                (Method::Post, "/v1.0/applications/a1/addPassword"),
                (Method::Post, "/v1.0/applications/a1/removePassword")
            ],
            "added first, then the orphan removed"
        );
        let guard = requests[0].secret_output.as_ref().unwrap().guard.as_ref().unwrap();
        assert_eq!(guard.planned, ["k0", "k1"], "the plan deals with the marked secrets it saw");
        assert_eq!(guard.removal("k9").body, Some(json!({"keyId": "k9"})));

        let unchecked = secret(None);
        assert!(!unchecked.desired_fields(known).contains_key(SECRET_FILE_FIELD), "no file checked, no comparison");
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
