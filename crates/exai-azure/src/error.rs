//! Azure's failures as typed values, each with the hint a person needs to act on it.

use crate::network::{NetworkFailure, RequestFailure};

/// Something went wrong talking to Azure.
#[derive(Debug, thiserror::Error)]
pub enum AzureError {
    /// No credential source applies: nothing to authenticate with.
    #[error("no Azure credentials found")]
    NoCredentials {
        /// Each source that was tried, and why it did not apply.
        looked_for: Vec<String>,
    },
    /// A credential applies but could not produce a token.
    #[error("could not get a token with {credential}: {message}")]
    Credential {
        /// Which credential (e.g. "client secret (AZURE_CLIENT_ID=...)").
        credential: String,
        /// Entra's (or the tool's) explanation.
        message: String,
    },
    /// Azure answered with an error. An `AuthorizationFailed` whose message ARM worded as
    /// usual ([`AuthorizationDenial`]) is shown as what was refused: the action and the scope.
    #[error("{}", api_message(.method, .url, *.status, .code, .message))]
    Api {
        /// The request method.
        method: String,
        /// The request URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// Azure's error code (e.g. `AuthorizationFailed`).
        code: String,
        /// Azure's error message.
        message: String,
        /// The `x-ms-request-id` Azure returned, for support tickets.
        request_id: Option<String>,
    },
    /// A long-running operation ended in `Failed` or `Canceled`.
    #[error("{method} {url}: the operation ended {status}: {code}: {message}")]
    OperationFailed {
        /// The request method that started it.
        method: String,
        /// The request URL that started it.
        url: String,
        /// `Failed` or `Canceled`.
        status: String,
        /// The error code in the operation status, if any.
        code: String,
        /// The error message in the operation status, if any.
        message: String,
    },
    /// A long-running operation did not finish in time.
    #[error("{method} {url}: the operation was still running after {seconds} s")]
    OperationTimeout {
        /// The request method that started it.
        method: String,
        /// The request URL that started it.
        url: String,
        /// How long exai waited.
        seconds: u64,
    },
    /// The request could not be sent or its answer not received.
    #[error("{method} {url}: {message}")]
    Transport {
        /// The request method.
        method: String,
        /// The request URL.
        url: String,
        /// What failed.
        message: String,
    },
    /// A request got no usable answer: the connection failed, timed out or was closed, or the
    /// answer was too large or not JSON. Retries, when they were safe, are already spent.
    #[error("{}", network_message(.0))]
    Network(Box<RequestFailure>),
    /// The answer to a read is about another object than the one asked for.
    #[error(
        "`{url}` answered with the object `{answered}`, not the one asked for; exai does not take it as live state"
    )]
    WrongObject {
        /// The URL read.
        url: String,
        /// The `id` the answer carried.
        answered: String,
    },
    /// The CA certificate given to trust cannot be used.
    #[error("the CA certificate {origin} cannot be used: {reason}")]
    InvalidCaCertificate {
        /// Where it came from (e.g. "`ca.pem` (--ca-cert)").
        origin: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An endpoint is plain `http://`: Azure's clients refuse to send a bearer token there.
    #[error("the endpoint `{url}` is not HTTPS")]
    PlainHttp {
        /// The endpoint.
        url: String,
    },
    /// Azure answered something exai cannot read.
    #[error("{url}: unexpected answer from Azure: {message}")]
    InvalidResponse {
        /// The URL that answered.
        url: String,
        /// What was wrong with the answer.
        message: String,
    },
    /// The client could not be configured (e.g. a bad CA certificate or endpoint).
    #[error("cannot set up the Azure client: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },
}

impl AzureError {
    /// Returns what a person can do about this error, when exai knows.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::NoCredentials { .. } => Some(
                "run `az login`, or export AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and AZURE_TENANT_ID for a service principal; \
                 to try exai without an Azure account, add `--emulator`"
                    .to_owned(),
            ),
            Self::Credential { credential, message } => Some(credential_hint(credential, message)),
            Self::Api { code, status, message, .. } => match AuthorizationDenial::parse(code, message) {
                Some(denial) => Some(denial.hint()),
                None => hint_for(code, *status),
            },
            Self::OperationFailed { .. } => Some("run the same command again once the cause is fixed: exai resumes from what exists".to_owned()),
            Self::OperationTimeout { .. } => Some("the operation may still finish in Azure; run `exai plan` to see where it stands".to_owned()),
            Self::Transport { .. } => Some("check the network and the endpoint; exai already retried transient failures".to_owned()),
            Self::Network(failure) => Some(network_hint(failure)),
            Self::WrongObject { .. } => Some(
                "Azure never answers a GET with another object: something between exai and Azure (a proxy, a wrong `--endpoint`) answered instead; check the endpoint"
                    .to_owned(),
            ),
            Self::InvalidCaCertificate { .. } => Some(
                "give `--ca-cert` a PEM file holding at least one `-----BEGIN CERTIFICATE-----` block, such as the `ca-certificate:` file `exai emulator` prints"
                    .to_owned(),
            ),
            Self::PlainHttp { .. } => Some(
                "Azure clients refuse to send bearer tokens over plain HTTP: use the `https://` URL (`exai emulator` serves HTTPS and prints its URL and CA certificate)"
                    .to_owned(),
            ),
            Self::InvalidResponse { .. } | Self::Config { .. } => None,
        }
    }

    /// Returns the Azure request id, when Azure gave one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Api { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }
}

/// Returns the message of an ARM or Graph error answer.
fn api_message(method: &str, url: &str, status: u16, code: &str, message: &str) -> String {
    match AuthorizationDenial::parse(code, message) {
        Some(AuthorizationDenial { client, object_id, action, scope }) => {
            let caller = match client {
                Some(client) => format!("the client `{client}` (object id `{object_id}`)"),
                None => format!("the principal with object id `{object_id}`"),
            };
            format!("{method} {url} was refused: {caller} may not perform `{action}` on `{scope}` ({status} {code})")
        }
        None => format!("{method} {url} failed: {status} {code}: {message}"),
    }
}

/// What ARM's `AuthorizationFailed` answer says was refused, read from its message:
/// "The client '<client>' with object id '<object id>' does not have authorization to perform
/// action '<action>' over scope '<scope>' or the scope is invalid. If access was recently
/// granted, please refresh your credentials." (ARM's answer quoted whole in Azure/ARO-RP#66, and
/// the shape the emulator answers). Some callers' messages name no client ("The client with
/// object id '...'"): the object id then stands for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationDenial {
    /// The caller as ARM names it: an application (client) id, or a user's sign-in name; `None`
    /// when the message names none.
    pub client: Option<String>,
    /// The caller's object id in Entra.
    pub object_id: String,
    /// The operation refused (`Microsoft.Authorization/roleAssignments/write`).
    pub action: String,
    /// The scope it was refused at (a subscription, resource group or resource id).
    pub scope: String,
}

impl AuthorizationDenial {
    /// Reads an `AuthorizationFailed` answer's message; `None` for another code, or a message
    /// not worded as ARM words it.
    pub fn parse(code: &str, message: &str) -> Option<Self> {
        if code != "AuthorizationFailed" {
            return None;
        }
        Some(Self {
            client: quoted_after(message, "The client").map(str::to_owned),
            object_id: quoted_after(message, "with object id")?.to_owned(),
            action: quoted_after(message, "to perform action")?.to_owned(),
            scope: quoted_after(message, "over scope")?.to_owned(),
        })
    }

    /// Returns the smallest built-in role that grants the action: the first of
    /// [`exai_model::permissions::smallest_roles`], the table the plan's permission check names
    /// roles from, so an error and a plan suggest the same role.
    fn role(&self) -> &'static str {
        exai_model::permissions::smallest_roles(&self.action).first().map_or("Owner", |role| role.name)
    }

    /// Returns what to do: the role to grant, who can grant it, and how.
    pub fn hint(&self) -> String {
        let Self { client, object_id, action, scope } = self;
        let assignee = client.as_deref().unwrap_or(object_id);
        let role = self.role();
        format!(
            "the identity needs a role granting `{action}` at `{scope}` or above ({role} does); an Owner or User Access Administrator of that scope can grant it: `az role assignment create --assignee {assignee} --role \"{role}\" --scope {scope}` (a role granted minutes ago may need a new sign-in). `exai plan` lists every permission the plan needs and the caller lacks, before any apply"
        )
    }
}

/// Returns the message of a network failure: which endpoint, which request, what happened, and
/// how many attempts it took.
fn network_message(failure: &RequestFailure) -> String {
    let RequestFailure { endpoint, method, url, failure: what, attempts, elapsed } = failure;
    let mut message = match what {
        NetworkFailure::Refused
        | NetworkFailure::Dns
        | NetworkFailure::Tls { .. }
        | NetworkFailure::ConnectTimeout { .. } => format!("cannot connect to {endpoint} at `{url}`: {what}"),
        NetworkFailure::Closed => format!("{endpoint} closed the connection before answering {method} `{url}`"),
        NetworkFailure::NoAnswer { seconds } => {
            format!("{endpoint} did not answer {method} `{url}` within {seconds} s")
        }
        NetworkFailure::TooLarge { .. } => {
            format!("{endpoint} answered {method} `{url}`, but {what}; exai did not read it")
        }
        NetworkFailure::NotJson { what, status } => {
            format!("{endpoint} answered {what} with {status} to {method} `{url}`")
        }
        NetworkFailure::Other(text) => format!("{method} `{url}` to {endpoint} failed: {text}"),
    };
    if *attempts > 1 {
        message.push_str(&format!(" ({attempts} attempts in {} s)", elapsed.as_secs()));
    }
    message
}

/// Returns what to do about a network failure.
fn network_hint(failure: &RequestFailure) -> String {
    let endpoint = failure.endpoint;
    match &failure.failure {
        NetworkFailure::Refused => "nothing accepts connections there: check the URL (`--endpoint`) and that the server (an emulator, a proxy) is running; `--retry-timeout 2m` waits longer for one that is starting".to_owned(),
        NetworkFailure::Dns => "check the host name in the URL and the machine's DNS or proxy settings (HTTPS_PROXY)".to_owned(),
        NetworkFailure::Tls { trusted, .. } => format!(
            "exai trusted {trusted}; pass the CA that signed the server's certificate with `--ca-cert FILE` (`exai emulator` prints the path of its own on its `ca-certificate:` line; behind a TLS-inspecting proxy, the proxy's CA); exai never skips the check"
        ),
        NetworkFailure::ConnectTimeout { .. } => "a firewall or proxy may be dropping the connection; check the URL and the network, or give it more time with `--request-timeout 2m`".to_owned(),
        NetworkFailure::Closed if failure.method == "POST" && endpoint == crate::network::Endpoint::Graph => {
            "the object may or may not have been created, so exai did not send the request again; run the command again: exai finds what exists and creates nothing twice".to_owned()
        }
        NetworkFailure::Closed => "the server or a proxy dropped the connection; exai already retried what was safe to retry: run the command again".to_owned(),
        NetworkFailure::NoAnswer { .. } => format!(
            "{endpoint} or a proxy in front of it is holding the request; run the command again later, or allow more time with `--request-timeout 2m`"
        ),
        NetworkFailure::TooLarge { .. } => "Azure's objects are a few kB: an answer this large comes from something else (a proxy, a wrong endpoint); check the endpoint".to_owned(),
        NetworkFailure::NotJson { what, .. } if what == "an HTML page" => format!(
            "an HTML page comes from a proxy, gateway or captive portal in front of {endpoint}, not from Azure, so the credential was not checked: check the endpoint and any proxy (HTTPS_PROXY), then run the command again"
        ),
        NetworkFailure::NotJson { .. } => format!(
            "{endpoint} answers JSON; something else answered (a proxy, a wrong endpoint): check the endpoint and any proxy (HTTPS_PROXY)"
        ),
        NetworkFailure::Other(_) => "check the network and the endpoint".to_owned(),
    }
}

/// Returns the hint for a credential that could not produce a token, from Entra's `AADSTS`
/// code when there is one, else from what the credential's tool said.
fn credential_hint(credential: &str, message: &str) -> String {
    if let Some(hint) = entra_code(message).and_then(|code| entra_hint(code, message)) {
        return hint;
    }
    // azure_identity's AzureCliCredential passes on what `az account get-access-token` printed;
    // `az` says "Please run 'az login' to setup account." when nobody is logged in.
    if message.contains("az login") {
        return "the Azure CLI is installed but not logged in: run `az login` (and `az account set --subscription <id>`), or export AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and AZURE_TENANT_ID for a service principal".to_owned();
    }
    // BearerTokenAuthorizationPolicy: "authorized requests are not permitted for non-TLS
    // protected endpoints".
    if message.contains("non-TLS") {
        return "Azure clients refuse to send bearer tokens over plain HTTP: use an `https://` endpoint".to_owned();
    }
    // GitHubActionsAssertion's own failures: the job's OIDC token could not be fetched.
    if message.contains("GitHub's OIDC token endpoint") {
        return "the job's OIDC token could not be fetched from GitHub: the job needs `permissions: id-token: write`, and ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN must be the job's own (they expire with it)".to_owned();
    }
    if credential.starts_with("Azure CLI") {
        return "`az account get-access-token` shows the Azure CLI's own error; run `az login` again if the login expired".to_owned();
    }
    "check the client id, secret and tenant; a secret may have expired (see the app's `Certificates & secrets` in Entra)".to_owned()
}

/// Returns the first `AADSTS<digits>` code in `message`.
fn entra_code(message: &str) -> Option<u32> {
    let start = message.find("AADSTS")? + "AADSTS".len();
    let digits: String = message[start..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Returns the text between `'` after `label` in Entra's message (`Assertion Subject: 'x'`).
fn quoted_after<'a>(message: &'a str, label: &str) -> Option<&'a str> {
    let rest = &message[message.find(label)? + label.len()..];
    let rest = rest.trim_start().strip_prefix('\'')?;
    rest.split('\'').next()
}

/// Returns the hint for one of Entra's `AADSTS` codes. Codes and meanings from "Microsoft
/// Entra authentication and authorization error codes"
/// (learn.microsoft.com/entra/identity-platform/reference-error-codes).
fn entra_hint(code: u32, message: &str) -> Option<String> {
    let hint = match code {
        // InvalidClientSecret: "Invalid client secret is provided."
        7000215 => "the client secret is wrong: AZURE_CLIENT_SECRET must be the secret's *value* (shown once when it was created), not its id; create a new one with `az ad app credential reset --id <client id>` if it is lost".to_owned(),
        // InvalidClientSecretExpiredKeysProvided: "The provided client secret keys are expired."
        7000222 => "the client secret has expired: create a new one (`az ad app credential reset --id <client id>`) and update AZURE_CLIENT_SECRET and the CI secret that holds it".to_owned(),
        // NoMatchingFederatedIdentityRecord (Entra's text: "No matching federated identity record
        // found for presented assertion. Assertion Issuer: '...'. Assertion Subject: '...'.").
        70021 => {
            let subject = quoted_after(message, "Assertion Subject:").unwrap_or("(not given)");
            let issuer = quoted_after(message, "Assertion Issuer:").unwrap_or("(not given)");
            format!(
                "the application trusts no federated credential for the subject `{subject}` (issuer `{issuer}`); subjects must match exactly, case included. Add one for that subject — exai's `deployer.github` (branches, pullRequests, environments) creates them — and list the subjects it trusts with `az ad app federated-credential list --id <client id> --query '[].subject'`"
            )
        }
        // ClientAssertionNotWithinValidTimeRange / ExpiredOrNotYetValid.
        700024 => "the federated token (client assertion) has expired or is not valid yet: a GitHub Actions OIDC token lives a few minutes and is fetched again for each Entra token, so check the runner's clock, or refresh the workload identity token file".to_owned(),
        // InvalidJwtToken: "Invalid JWT token due to ..."
        50027 => "the federated token is not a valid JWT: check what AZURE_FEDERATED_TOKEN_FILE holds, or that the GitHub job has `permissions: id-token: write`".to_owned(),
        // ClientAssertionFailedSignatureValidation (700027).
        700027 => "the federated token's signature does not verify: check the issuer of the application's federated credential (GitHub's is `https://token.actions.githubusercontent.com`)".to_owned(),
        // UnauthorizedClient_DoesNotMatchRequest: "The application wasn't found in the
        // directory/tenant."
        700016 => "the application (AZURE_CLIENT_ID) does not exist in this tenant: check AZURE_CLIENT_ID and `azure.tenant` (AZURE_TENANT_ID); a new application can take a minute to appear".to_owned(),
        // InvalidTenantName: "The tenant name wasn't found in the data store."
        90002 => "the tenant does not exist: check `azure.tenant` (AZURE_TENANT_ID); `az account show --query tenantId` prints yours".to_owned(),
        // InvalidTenantIdentifier (900023): "Specified tenant identifier is neither a valid DirectoryName nor a valid ObjectId."
        900023 => "`azure.tenant` must be a tenant id (a GUID) or a domain such as contoso.onmicrosoft.com".to_owned(),
        // Application has no service principal in the tenant (7000229).
        7000229 => "the application has no service principal in this tenant: create it with `az ad sp create --id <client id>` (exai's deployer block creates one)".to_owned(),
        // TransientError (90033): "A transient error has occurred. Try again."
        90033 => "Entra had a transient error: run the command again in a minute".to_owned(),
        _ => return None,
    };
    Some(hint)
}

/// Returns the hint for an ARM error code, when exai knows one.
///
/// Codes and mitigations from the "Troubleshoot common Azure deployment errors" page
/// (`articles/azure-resource-manager/troubleshooting/common-deployment-errors.md`).
pub fn hint_for(code: &str, status: u16) -> Option<String> {
    let hint = match code {
        "AuthorizationFailed" => {
            "the identity lacks a role on this scope: reading needs Reader, writing needs Contributor, and role assignments need Owner, User Access Administrator or Role Based Access Control Administrator"
        }
        "MissingSubscriptionRegistration" | "NoRegisteredProviderFound" => {
            "register the resource provider: `az provider register --namespace <namespace>`"
        }
        "InvalidAuthenticationTokenTenant" => {
            "the subscription belongs to another tenant: set `azure.tenant` in the spec to the subscription's tenant"
        }
        "SubscriptionNotFound" | "InvalidSubscriptionId" => {
            "check `azure.subscription` in the spec; `az account list -o table` lists the subscriptions you can use"
        }
        "ExpiredAuthenticationToken" | "InvalidAuthenticationToken" | "AuthenticationFailed" => {
            "sign in again (`az login`) or check the service principal's credentials"
        }
        "AnotherOperationInProgress" | "Conflict" => {
            "another operation is running on this resource; wait for it to finish and run exai again"
        }
        "RequestDisallowedByPolicy" => {
            "an Azure Policy refuses this request; the error message names the policy assignment"
        }
        "InvalidResourceGroupLocation" => {
            "a resource group's location cannot change; keep the old location or replace the group"
        }
        "LocationNotAvailableForResourceGroup" => {
            "pick a region the subscription offers: `az account list-locations -o table`"
        }
        // Source: the `AlreadyInUse` answer quoted in MicrosoftDocs/azure-dev-docs#1303 and
        // Azure/azure-cli#13951 ("The registry DNS name <name>.azurecr.io is already in use"), and
        // `Registries_CheckNameAvailability` ("The name must ... be globally unique") in
        // containerregistry.json 2025-11-01.
        "AlreadyInUse" => {
            "registry names are global across Azure (`<name>.azurecr.io`) and another subscription holds this one: pick another name; `az acr check-name -n <name>` tells whether a name is free"
        }
        // 412 answers a write whose `If-Match` eTag no longer matches (RFC 9110 §13.1.1): the
        // object changed after exai read it. The code string is the one the emulator answers;
        // Azure's resource providers are not documented to agree on one (UNVERIFIED).
        "PreconditionFailed" => {
            "the resource changed in Azure after the plan was made: run `exai plan` again and review the new plan"
        }
        // An extension resource (a data collection rule association) under a parent that does
        // not exist yet.
        "ParentResourceNotFound" => {
            "the resource this one is attached to does not exist yet (e.g. the cluster of a data collection rule association): apply it first"
        }
        // Microsoft Graph (application-post-applications.md, "Permissions": Application.ReadWrite.All
        // or the Application Administrator / Cloud Application Administrator directory roles).
        "Authorization_RequestDenied" => {
            "the identity may not read or manage Entra applications. To change them it needs the Application Administrator or Cloud Application Administrator role: run that `exai apply` as an admin. For a deployer to plan its own objects (pull-request plans), grant it `graphPermissions: [Application.Read.All]` in the spec, applied once by an admin"
        }
        "Request_MultipleObjectsWithSameKeyValue" => {
            "an object with the same key already exists (a federated credential with the same issuer and subject, a second service principal of the application): run `exai plan` to see what exists"
        }
        _ if status == 429 => "Azure is throttling requests; exai already waited and retried, try again in a minute",
        _ if status >= 500 => {
            "Azure had an internal error; run the command again: exai plans from what now exists and creates nothing twice"
        }
        _ => return None,
    };
    Some(hint.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credential(credential: &str, message: &str) -> String {
        AzureError::Credential { credential: credential.to_owned(), message: message.to_owned() }
            .hint()
            .unwrap_or_default()
    }

    const SECRET: &str = "client secret of application app (from AZURE_CLIENT_ID/AZURE_CLIENT_SECRET)";

    #[test]
    fn azure_cli_installed_but_not_logged_in_says_az_login() {
        // What azure_identity's AzureCliCredential reports when `az` prints its own error.
        let hint = credential(
            "Azure CLI login (`az` found on PATH)",
            "AzureCliCredential authentication failed. ERROR: Please run 'az login' to setup account.\nTo troubleshoot, visit https://aka.ms/azsdk/rust/identity/troubleshoot#azure-cli",
        );
        assert!(hint.starts_with("the Azure CLI is installed but not logged in: run `az login`"), "{hint}");
        assert!(!hint.contains("secret may have expired"));
    }

    #[test]
    fn a_github_oidc_token_that_cannot_be_fetched_says_id_token_write() {
        let hint = credential(
            "GitHub Actions OIDC token exchanged for application app (from ACTIONS_ID_TOKEN_REQUEST_URL/ACTIONS_ID_TOKEN_REQUEST_TOKEN and AZURE_CLIENT_ID)",
            "ClientAssertionCredential authentication failed. GitHub's OIDC token endpoint answered 403 Forbidden",
        );
        assert!(hint.contains("`permissions: id-token: write`"), "{hint}");
    }

    #[test]
    fn a_plain_http_endpoint_says_https() {
        let hint = AzureError::PlainHttp { url: "http://127.0.0.1:8443/".into() }.hint().unwrap_or_default();
        assert!(hint.contains("refuse to send bearer tokens over plain HTTP"), "{hint}");
        // The bearer policy's own words, should a plain-HTTP URL reach it.
        let hint = credential(SECRET, "authorized requests are not permitted for non-TLS protected endpoints");
        assert!(hint.contains("plain HTTP"), "{hint}");
    }

    #[test]
    fn aadsts70021_shows_the_subject_the_token_carried() {
        // Entra's text, as the emulator answers it and as Entra does.
        let message = "Entra refused: AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: 'https://token.actions.githubusercontent.com'. Assertion Subject: 'repo:my-org/exai:ref:refs/heads/main'. Assertion Audience: 'api://AzureADTokenExchange'.";
        let hint = credential(SECRET, message);
        assert!(hint.contains("for the subject `repo:my-org/exai:ref:refs/heads/main`"), "{hint}");
        assert!(hint.contains("issuer `https://token.actions.githubusercontent.com`"), "{hint}");
        assert!(hint.contains("az ad app federated-credential list"), "{hint}");
    }

    #[test]
    fn each_aadsts_code_has_its_own_hint() {
        let cases = [
            ("AADSTS7000215: Invalid client secret provided.", "the secret's *value*"),
            ("AADSTS7000222: The provided client secret keys for app 'x' are expired.", "has expired"),
            ("AADSTS700024: Client assertion is not within its valid time range.", "expired or is not valid yet"),
            ("AADSTS50027: JWT token is invalid or malformed.", "not a valid JWT"),
            (
                "AADSTS700016: Application with identifier 'x' was not found in the directory 'y'.",
                "does not exist in this tenant",
            ),
            ("AADSTS90002: Tenant 'x' not found.", "the tenant does not exist"),
            ("AADSTS700027: Client assertion failed signature validation.", "signature does not verify"),
            (
                "AADSTS7000229: The client application x is missing service principal in the tenant y.",
                "no service principal",
            ),
            (
                "AADSTS900023: Specified tenant identifier 'x' is neither a valid DirectoryName nor a valid ObjectId.",
                "a tenant id (a GUID)",
            ),
            ("AADSTS90033: A transient error has occurred.", "transient"),
        ];
        let mut seen = std::collections::HashSet::new();
        for (message, expected) in cases {
            let hint = credential(SECRET, &format!("Entra refused: {message}"));
            assert!(hint.contains(expected), "{message}: {hint}");
            assert!(seen.insert(hint), "{message}: the same hint as another code");
        }
        // A code exai has no hint for keeps the general one.
        assert!(credential(SECRET, "AADSTS1234567: something new").contains("check the client id, secret and tenant"));
    }

    #[test]
    fn network_failures_say_what_to_do() {
        use crate::network::{Endpoint, NetworkFailure, RequestFailure};
        let failure = |failure: NetworkFailure| {
            AzureError::Network(Box::new(RequestFailure {
                endpoint: Endpoint::Token,
                method: "POST".into(),
                url: "https://127.0.0.1:1/t/oauth2/v2.0/token".into(),
                failure,
                attempts: 5,
                elapsed: std::time::Duration::from_secs(11),
            }))
        };
        let html = failure(NetworkFailure::NotJson { what: "an HTML page".into(), status: "502 Bad Gateway".into() });
        assert_eq!(
            html.to_string(),
            "the token endpoint answered an HTML page with 502 Bad Gateway to POST `https://127.0.0.1:1/t/oauth2/v2.0/token` (5 attempts in 11 s)"
        );
        assert!(html.hint().unwrap_or_default().contains("the credential was not checked"));
        let tls = failure(NetworkFailure::Tls {
            reason: "UnknownIssuer".into(),
            trusted: "the system's CAs and `x.pem` (--ca-cert)".into(),
        });
        assert!(tls.hint().unwrap_or_default().contains("`x.pem` (--ca-cert)"));
        assert!(
            failure(NetworkFailure::NoAnswer { seconds: 30 }).hint().unwrap_or_default().contains("--request-timeout")
        );
        assert!(failure(NetworkFailure::Refused).hint().unwrap_or_default().contains("--retry-timeout"));
    }

    /// ARM's answer to a Reader's PUT of a registry, as the emulator words it (contract 3 of
    /// issue 12) and as ARM does.
    const DENIED: &str = "The client 'aa000000-0000-4000-8000-000000000001' with object id 'bb000000-0000-4000-8000-000000000002' does not have authorization to perform action 'Microsoft.ContainerRegistry/registries/write' over scope '/subscriptions/ee000000-0000-4000-8000-000000000002/resourceGroups/exai-perso-rg/providers/Microsoft.ContainerRegistry/registries/exaipersoacr' or the scope is invalid. If access was recently granted, please refresh your credentials.";

    fn denied(message: &str) -> AzureError {
        AzureError::Api {
            method: "PUT".into(),
            url: "https://management.azure.com/subscriptions/s/resourceGroups/exai-perso-rg/providers/Microsoft.ContainerRegistry/registries/exaipersoacr?api-version=2025-11-01".into(),
            status: 403,
            code: "AuthorizationFailed".into(),
            message: message.into(),
            request_id: Some("r".into()),
        }
    }

    #[test]
    fn an_authorization_failure_names_the_request_the_action_the_scope_and_the_role_to_grant() {
        let error = denied(DENIED);
        assert_eq!(
            error.to_string(),
            "PUT https://management.azure.com/subscriptions/s/resourceGroups/exai-perso-rg/providers/Microsoft.ContainerRegistry/registries/exaipersoacr?api-version=2025-11-01 was refused: the client `aa000000-0000-4000-8000-000000000001` (object id `bb000000-0000-4000-8000-000000000002`) may not perform `Microsoft.ContainerRegistry/registries/write` on `/subscriptions/ee000000-0000-4000-8000-000000000002/resourceGroups/exai-perso-rg/providers/Microsoft.ContainerRegistry/registries/exaipersoacr` (403 AuthorizationFailed)"
        );
        assert_eq!(
            error.hint().unwrap_or_default(),
            "the identity needs a role granting `Microsoft.ContainerRegistry/registries/write` at `/subscriptions/ee000000-0000-4000-8000-000000000002/resourceGroups/exai-perso-rg/providers/Microsoft.ContainerRegistry/registries/exaipersoacr` or above (Contributor does); an Owner or User Access Administrator of that scope can grant it: `az role assignment create --assignee aa000000-0000-4000-8000-000000000001 --role \"Contributor\" --scope /subscriptions/ee000000-0000-4000-8000-000000000002/resourceGroups/exai-perso-rg/providers/Microsoft.ContainerRegistry/registries/exaipersoacr` (a role granted minutes ago may need a new sign-in). `exai plan` lists every permission the plan needs and the caller lacks, before any apply"
        );
    }

    #[test]
    fn the_role_suggested_is_the_smallest_built_in_one_that_grants_the_action() {
        let role = |action: &str| {
            let message = DENIED.replace("Microsoft.ContainerRegistry/registries/write", action);
            AuthorizationDenial::parse("AuthorizationFailed", &message).map(|denial| denial.role())
        };
        assert_eq!(role("Microsoft.Resources/subscriptions/resourceGroups/read"), Some("Reader"));
        assert_eq!(
            role("Microsoft.Authorization/roleAssignments/write"),
            Some("Role Based Access Control Administrator")
        );
        assert_eq!(
            role("Microsoft.Authorization/roleAssignments/delete"),
            Some("Role Based Access Control Administrator")
        );
        assert_eq!(role("Microsoft.ContainerService/managedClusters/delete"), Some("Contributor"));
        assert_eq!(role("Microsoft.ContainerRegistry/registries/listCredentials/action"), Some("Contributor"));
    }

    #[test]
    fn an_authorization_failure_worded_otherwise_keeps_azure_s_message_and_the_general_hint() {
        let error = denied("Access denied.");
        assert!(error.to_string().ends_with("failed: 403 AuthorizationFailed: Access denied."), "{error}");
        assert!(error.hint().unwrap_or_default().starts_with("the identity lacks a role on this scope"));
        assert_eq!(AuthorizationDenial::parse("LinkedAuthorizationFailed", DENIED), None);
        // A message naming no client: the object id stands for it.
        let anonymous =
            denied(&DENIED.replace("The client 'aa000000-0000-4000-8000-000000000001' with", "The client with"));
        assert!(
            anonymous.to_string().contains(
                "was refused: the principal with object id `bb000000-0000-4000-8000-000000000002` may not perform"
            ),
            "{anonymous}"
        );
        assert!(anonymous.hint().unwrap_or_default().contains("--assignee bb000000-0000-4000-8000-000000000002 "));
    }

    #[test]
    fn codes_of_the_registry_and_monitoring_kinds_have_hints() {
        let taken = hint_for("AlreadyInUse", 409).unwrap_or_default();
        assert!(taken.contains("global across Azure"), "{taken}");
        assert!(hint_for("PreconditionFailed", 412).unwrap_or_default().contains("exai plan"));
        assert!(hint_for("ParentResourceNotFound", 404).is_some());
        assert_eq!(hint_for("SomethingElse", 400), None);
        assert!(hint_for("Authorization_RequestDenied", 403).unwrap_or_default().contains("Application Administrator"));
    }
}
