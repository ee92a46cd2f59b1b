//! The deployer identity in Microsoft Graph v1.0: application, service principal, federated
//! identity credentials, client secret.
//!
//! Source: microsoft-graph-docs-contrib `api-reference/v1.0/api/application-post-
//! federatedidentitycredentials.md` and shared/reference/azure-rest-facts.md §7.

use crate::Address;
use serde::{Deserialize, Serialize};

/// GitHub's OIDC token issuer.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
/// The audience Entra expects in a federated token.
pub const FEDERATION_AUDIENCE: &str = "api://AzureADTokenExchange";

/// An Entra application registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    /// Its display name.
    pub display_name: String,
}

/// The application's service principal in the tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePrincipal {
    /// The application it belongs to.
    pub application: Address,
}

/// A federated identity credential: which external tokens may log in as the application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FederatedCredential {
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

/// A client secret of the application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientSecret {
    /// The application it belongs to.
    pub application: Address,
    /// Days until it expires.
    pub expires_in_days: u32,
}

impl crate::Kind for Application {
    fn azure_type(&self) -> &'static str {
        "microsoft.graph.application"
    }
    fn id(&self) -> Option<crate::ResourceId> {
        None
    }
    fn id_note(&self) -> Option<String> {
        Some(format!("known after apply: Graph assigns the object id of application `{}`", self.display_name))
    }
}

impl crate::Kind for ServicePrincipal {
    fn azure_type(&self) -> &'static str {
        "microsoft.graph.servicePrincipal"
    }
    fn id(&self) -> Option<crate::ResourceId> {
        None
    }
    fn id_note(&self) -> Option<String> {
        Some(format!("known after apply: Graph assigns it when `{}` exists", self.application))
    }
}

impl crate::Kind for FederatedCredential {
    fn azure_type(&self) -> &'static str {
        "microsoft.graph.federatedIdentityCredential"
    }
    fn id(&self) -> Option<crate::ResourceId> {
        None
    }
    fn id_note(&self) -> Option<String> {
        Some(format!("known after apply: `{}`'s federatedIdentityCredentials/{}", self.application, self.name))
    }
}

impl crate::Kind for ClientSecret {
    fn azure_type(&self) -> &'static str {
        "microsoft.graph.passwordCredential"
    }
    fn id(&self) -> Option<crate::ResourceId> {
        None
    }
    fn id_note(&self) -> Option<String> {
        Some(format!("known after apply: the keyId `{}`'s addPassword returns", self.application))
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
