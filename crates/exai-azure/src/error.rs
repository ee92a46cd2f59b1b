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
    /// Azure answered with an error.
    #[error("{method} {url} failed: {status} {code}: {message}")]
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
            Self::Credential { .. } => {
                Some("check the client id, secret and tenant; a secret may have expired (see the app's `Certificates & secrets` in Entra)".to_owned())
            }
            Self::Api { code, status, .. } => hint_for(code, *status),
            Self::OperationFailed { .. } => Some("run the same command again once the cause is fixed: exai resumes from what exists".to_owned()),
            Self::OperationTimeout { .. } => Some("the operation may still finish in Azure; run `exai plan` to see where it stands".to_owned()),
            Self::Transport { .. } => Some("check the network and the endpoint; exai already retried transient failures".to_owned()),
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
