//! The directory objects Microsoft Graph manages, as the emulator stores them in its state.
//!
//! Per tenant: applications (with their password and federated identity credentials), service
//! principals and the app role assignments between them (application permissions). Microsoft
//! Graph's own service principal is not stored: it exists in every tenant, derived from the
//! tenant id (see `app_roles`). A password is stored only as the SHA-256 of its `secretText`, with the
//! three-character `hint` Graph shows; the secret itself exists only in the `addPassword` answer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Every tenant's directory, by tenant id (lowercase GUID).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Directory {
    /// The directories, by tenant id.
    #[serde(default)]
    pub tenants: BTreeMap<String, TenantDirectory>,
}

impl Directory {
    /// Returns whether no tenant has a directory object (the state file then omits it).
    pub fn is_empty(&self) -> bool {
        self.tenants.values().all(|tenant| {
            tenant.applications.is_empty()
                && tenant.service_principals.is_empty()
                && tenant.app_role_assignments.is_empty()
        })
    }

    /// Returns the application with this appId in a tenant.
    pub fn application_by_app_id(&self, tenant_id: &str, app_id: &str) -> Option<&ApplicationRecord> {
        self.tenants.get(tenant_id)?.applications.values().find(|application| application.app_id == app_id)
    }

    /// Returns the service principal of an application in a tenant.
    pub fn service_principal_by_app_id(&self, tenant_id: &str, app_id: &str) -> Option<&ServicePrincipalRecord> {
        self.tenants.get(tenant_id)?.service_principals.values().find(|principal| principal.app_id == app_id)
    }
}

/// The directory objects of one tenant.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct TenantDirectory {
    /// Applications by object id (lowercase GUID).
    #[serde(default)]
    pub applications: BTreeMap<String, ApplicationRecord>,
    /// Service principals by object id (lowercase GUID).
    #[serde(default)]
    pub service_principals: BTreeMap<String, ServicePrincipalRecord>,
    /// App role assignments granted to service principals, by assignment id (absent from state
    /// files written before they were modeled).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub app_role_assignments: BTreeMap<String, AppRoleAssignmentRecord>,
}

/// An app role assignment: an app role of a resource service principal granted to a client
/// service principal (an application permission when the resource is Microsoft Graph).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct AppRoleAssignmentRecord {
    /// The assignment id: Graph's 43-character base64url key (the principal's id, then random).
    pub id: String,
    /// The app role granted (lowercase GUID).
    pub app_role_id: String,
    /// When it was granted, as Graph shows it.
    pub created_date_time: String,
    /// The service principal granted the role (lowercase GUID).
    pub principal_id: String,
    /// The principal's display name when the role was granted.
    pub principal_display_name: String,
    /// The resource service principal defining the role (lowercase GUID).
    pub resource_id: String,
    /// The resource's display name when the role was granted.
    pub resource_display_name: String,
}

/// An application registration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ApplicationRecord {
    /// The object id (lowercase GUID).
    pub id: String,
    /// The application (client) id (lowercase GUID).
    pub app_id: String,
    /// When it was created, RFC 3339.
    pub created_date_time: String,
    /// The writable properties Graph shows (`displayName`, `description`, `notes`, `tags`,
    /// `signInAudience`, `identifierUris`), as last written.
    pub properties: Map<String, Value>,
    /// Its client secrets, without their secret text.
    #[serde(default)]
    pub password_credentials: Vec<PasswordCredentialRecord>,
    /// Its federated identity credentials, in creation order.
    #[serde(default)]
    pub federated_identity_credentials: Vec<FederatedCredentialRecord>,
    /// The client-provided alternate key it was created with by an upsert
    /// (`PATCH /applications(uniqueName='...')`); immutable, unique in the tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_name: Option<String>,
}

impl ApplicationRecord {
    /// Returns the display name.
    pub fn display_name(&self) -> &str {
        self.properties.get("displayName").and_then(Value::as_str).unwrap_or_default()
    }
}

/// A client secret of an application, without the secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct PasswordCredentialRecord {
    /// The credential's id (lowercase GUID).
    pub key_id: String,
    /// The friendly name, if one was given.
    pub display_name: Option<String>,
    /// The first three characters of the secret, as Graph shows them.
    pub hint: String,
    /// When it becomes valid, RFC 3339.
    pub start_date_time: String,
    /// When it expires, RFC 3339.
    pub end_date_time: String,
    /// The lowercase hex SHA-256 of the secret text.
    pub secret_sha256: String,
}

/// A federated identity credential of an application.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct FederatedCredentialRecord {
    /// The object id (lowercase GUID).
    pub id: String,
    /// The unique, immutable name.
    pub name: String,
    /// The issuer of the external tokens it trusts.
    pub issuer: String,
    /// The subject of the external tokens it trusts.
    pub subject: String,
    /// The audiences an external token must name (exactly one).
    pub audiences: Vec<String>,
    /// A free description.
    pub description: Option<String>,
}

/// A service principal: an application's presence in a tenant.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ServicePrincipalRecord {
    /// The object id (lowercase GUID): the `principalId` of role assignments.
    pub id: String,
    /// The application it represents.
    pub app_id: String,
    /// The application's display name when the principal was created.
    pub display_name: String,
    /// Whether it may sign in.
    pub account_enabled: bool,
    /// Free tags.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Returns the lowercase hex SHA-256 of a secret.
pub(crate) fn secret_hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}
