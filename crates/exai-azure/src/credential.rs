//! Which credential exai uses: the first source that applies, in a fixed order.
//!
//! 1. A client secret: `AZURE_CLIENT_ID` and `AZURE_CLIENT_SECRET` (and `AZURE_TENANT_ID`).
//! 2. GitHub Actions OIDC: `ACTIONS_ID_TOKEN_REQUEST_URL`, `ACTIONS_ID_TOKEN_REQUEST_TOKEN` and
//!    `AZURE_CLIENT_ID`. GitHub's token is exchanged for an Entra token through the app's
//!    federated credential, and fetched again whenever a new Entra token is needed, so long
//!    operations outlive GitHub's short-lived tokens.
//! 3. Workload identity: `AZURE_FEDERATED_TOKEN_FILE` and `AZURE_CLIENT_ID`.
//! 4. The Azure CLI's login: an `az` executable on `PATH`.
//!
//! Choosing is separate from building, and reads the environment through a function, so the
//! choice (and the "looked for" list when nothing applies) is tested without touching the
//! process environment.

use crate::AzureError;
use std::path::Path;

/// The kind of credential chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialKind {
    /// A service principal's client secret.
    ClientSecret {
        /// The application (client) id.
        client_id: String,
    },
    /// A GitHub Actions OIDC token exchanged through a federated credential.
    GitHubActions {
        /// The application (client) id.
        client_id: String,
        /// `ACTIONS_ID_TOKEN_REQUEST_URL`.
        request_url: String,
    },
    /// A federated token read from a file (Kubernetes workload identity).
    WorkloadIdentity {
        /// The application (client) id.
        client_id: String,
        /// The token file.
        token_file: String,
    },
    /// The Azure CLI's current login.
    AzureCli,
}

/// The credential chosen, with what it needs. The client secret, when there is one, is kept
/// out of `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct CredentialChoice {
    /// Which kind.
    pub kind: CredentialKind,
    /// Where it came from, for people (e.g. "from AZURE_CLIENT_ID/AZURE_CLIENT_SECRET").
    pub origin: &'static str,
    pub(crate) secret: Option<String>,
}

impl std::fmt::Debug for CredentialChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialChoice").field("kind", &self.kind).finish_non_exhaustive()
    }
}

impl CredentialChoice {
    /// Returns a client-secret credential from `origin` (e.g. the emulator's development
    /// application).
    pub fn client_secret(client_id: &str, secret: &str, origin: &'static str) -> Self {
        Self {
            kind: CredentialKind::ClientSecret { client_id: client_id.to_owned() },
            origin,
            secret: Some(secret.to_owned()),
        }
    }

    /// Returns a one-line, secret-free description, e.g. for "using ..." log lines.
    pub fn describe(&self) -> String {
        let what = match &self.kind {
            CredentialKind::ClientSecret { client_id } => format!("client secret of application {client_id}"),
            CredentialKind::GitHubActions { client_id, .. } => {
                format!("GitHub Actions OIDC token exchanged for application {client_id}")
            }
            CredentialKind::WorkloadIdentity { client_id, token_file } => {
                format!("workload identity token in {token_file} for application {client_id}")
            }
            CredentialKind::AzureCli => "Azure CLI login".to_owned(),
        };
        format!("{what} ({})", self.origin)
    }
}

/// Chooses the first credential source that applies, reading variables (`PATH` included)
/// through `env`.
pub fn choose_credential(env: &dyn Fn(&str) -> Option<String>) -> Result<CredentialChoice, AzureError> {
    let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let client_id = get("AZURE_CLIENT_ID");
    let mut looked_for = Vec::new();

    match (&client_id, get("AZURE_CLIENT_SECRET")) {
        (Some(id), Some(secret)) => {
            return Ok(CredentialChoice::client_secret(id, &secret, "from AZURE_CLIENT_ID/AZURE_CLIENT_SECRET"));
        }
        (Some(_), None) => {
            looked_for.push("client secret: AZURE_CLIENT_ID is set but AZURE_CLIENT_SECRET is not".to_owned())
        }
        (None, Some(_)) => {
            looked_for.push("client secret: AZURE_CLIENT_SECRET is set but AZURE_CLIENT_ID is not".to_owned())
        }
        (None, None) => {
            looked_for.push("client secret: AZURE_CLIENT_ID and AZURE_CLIENT_SECRET are not set".to_owned())
        }
    }

    match (get("ACTIONS_ID_TOKEN_REQUEST_URL"), get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"), &client_id) {
        (Some(request_url), Some(token), Some(id)) => {
            return Ok(CredentialChoice {
                kind: CredentialKind::GitHubActions { client_id: id.clone(), request_url },
                origin: "from ACTIONS_ID_TOKEN_REQUEST_URL/ACTIONS_ID_TOKEN_REQUEST_TOKEN and AZURE_CLIENT_ID",
                secret: Some(token),
            });
        }
        (Some(_), Some(_), None) => looked_for.push("GitHub Actions OIDC: the job can request an OIDC token, but AZURE_CLIENT_ID is not set".to_owned()),
        (Some(_), None, _) | (None, Some(_), _) => looked_for.push(
            "GitHub Actions OIDC: only one of ACTIONS_ID_TOKEN_REQUEST_URL/ACTIONS_ID_TOKEN_REQUEST_TOKEN is set (is `permissions: id-token: write` on the job?)"
                .to_owned(),
        ),
        (None, None, _) => looked_for.push("GitHub Actions OIDC: ACTIONS_ID_TOKEN_REQUEST_URL is not set (not running in a GitHub Actions job with `id-token: write`)".to_owned()),
    }

    match (get("AZURE_FEDERATED_TOKEN_FILE"), &client_id) {
        (Some(token_file), Some(id)) => {
            return Ok(CredentialChoice {
                kind: CredentialKind::WorkloadIdentity { client_id: id.clone(), token_file },
                origin: "from AZURE_FEDERATED_TOKEN_FILE and AZURE_CLIENT_ID",
                secret: None,
            });
        }
        (Some(_), None) => looked_for
            .push("workload identity: AZURE_FEDERATED_TOKEN_FILE is set but AZURE_CLIENT_ID is not".to_owned()),
        (None, _) => looked_for.push("workload identity: AZURE_FEDERATED_TOKEN_FILE is not set".to_owned()),
    }

    if find_on_path("az", get("PATH").as_deref()) {
        return Ok(CredentialChoice { kind: CredentialKind::AzureCli, origin: "`az` found on PATH", secret: None });
    }
    looked_for.push("Azure CLI: no `az` program on PATH".to_owned());
    Err(AzureError::NoCredentials { looked_for })
}

fn find_on_path(program: &str, path: Option<&str>) -> bool {
    let Some(path) = path else { return false };
    std::env::split_paths(path).any(|dir| {
        let candidate = dir.join(program);
        candidate.is_file() || Path::new(&format!("{}.cmd", candidate.display())).is_file()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    #[test]
    fn client_secret_wins_and_is_not_in_debug_output() {
        let c =
            choose_credential(&env_of(&[("AZURE_CLIENT_ID", "app"), ("AZURE_CLIENT_SECRET", "s3cr3t-value")])).unwrap();
        assert_eq!(c.kind, CredentialKind::ClientSecret { client_id: "app".into() });
        assert!(!format!("{c:?}").contains("s3cr3t-value"));
        assert!(!c.describe().contains("s3cr3t-value"));
    }

    #[test]
    fn github_actions_oidc_needs_a_client_id() {
        let env = env_of(&[
            ("ACTIONS_ID_TOKEN_REQUEST_URL", "https://x"),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "t"),
            ("AZURE_CLIENT_ID", "app"),
        ]);
        assert!(matches!(choose_credential(&env).unwrap().kind, CredentialKind::GitHubActions { .. }));
    }

    #[test]
    fn nothing_applies_lists_every_source_and_why() {
        let err = choose_credential(&env_of(&[("AZURE_CLIENT_ID", "app"), ("PATH", "/nonexistent")])).unwrap_err();
        let AzureError::NoCredentials { looked_for } = &err else { panic!("{err:?}") };
        assert_eq!(looked_for.len(), 4);
        assert!(looked_for[0].contains("AZURE_CLIENT_SECRET is not"));
        assert!(looked_for[3].contains("az"));
        assert!(err.hint().unwrap().contains("--emulator"));
    }
}
