//! Cloud discovery: `GET /metadata/endpoints`, which ARM answers without a token, naming the
//! endpoints of its cloud (login, ARM's token audiences, Microsoft Graph, DNS suffixes).
//!
//! Clients read it to learn a cloud they were only given the ARM URL of: `az cloud register
//! --endpoint-resource-manager URL` fetches `URL/metadata/endpoints?api-version=2022-09-01` and
//! maps the answer with `_arm_to_cli_mapper` (azure-cli `azure/cli/core/cloud.py`:
//! `authentication.loginEndpoint` → the login authority, `authentication.audiences[0]` → the ARM
//! token audience, `resourceManager`, `microsoftGraphResourceId` → both the Graph token audience
//! and Graph's base URL, `suffixes.*` → the DNS suffixes). Shapes by api-version, as ARM answers
//! them:
//!
//! - `2022-09-01`: the current cloud, one object;
//! - `2019-05-01`: every cloud ARM knows, an array of objects of that shape (what
//!   `ARM_CLOUD_METADATA_URL` points azure-cli at, read by `_convert_arm_to_cli`, which indexes
//!   each item by `name`): the emulator knows one cloud;
//! - `2015-01-01`: the Azure Stack-era flat shape, `galleryEndpoint`, `graphEndpoint`,
//!   `portalEndpoint` and `authentication {loginEndpoint, audiences}` (Azure Stack Hub's
//!   documented `…/metadata/endpoints?api-version=2015-01-01`).
//!
//! The emulator's cloud is itself: login, ARM and Microsoft Graph are all its own origin, so a
//! client configured from this document talks to nothing else. ARM's token audiences stay Azure's
//! (`https://management.core.windows.net/`, `https://management.azure.com/`), which the token
//! endpoint and ARM already know; Graph's resource id is the emulator's origin, which the token
//! endpoint and Graph accept as an audience, as sovereign clouds' Graph ids are their URLs.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::toolkit::{ArmError, check_api_version, method_not_allowed};
use crate::context::Shared;
use crate::http::{Incoming, json_response};

/// The api-versions of `/metadata/endpoints`, newest first.
pub(crate) const API_VERSIONS: &[&str] = &["2022-09-01", "2019-05-01", "2015-01-01"];

/// The cloud's name, as `az cloud list` shows it.
const CLOUD_NAME: &str = "ExaiEmulator";

/// Returns whether a path is `/metadata/endpoints` (compared case-insensitively, as ARM does).
pub(crate) fn is_endpoints(segments: &[String]) -> bool {
    matches!(segments, [first, second] if first.eq_ignore_ascii_case("metadata") && second.eq_ignore_ascii_case("endpoints"))
}

/// Returns the emulator's cloud in the shape of api-version 2022-09-01 (one cloud).
fn cloud(origin: &str) -> Value {
    json!({
        "name": CLOUD_NAME,
        "portal": origin,
        "authentication": {
            "loginEndpoint": origin,
            "audiences": [
                "https://management.core.windows.net/",
                "https://management.azure.com/",
            ],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "resourceManager": origin,
        "microsoftGraphResourceId": origin,
        "graph": origin,
        "graphAudience": origin,
        "suffixes": {
            "acrLoginServer": "azurecr.io",
            "keyVaultDns": "vault.azure.net",
            "storage": "core.windows.net",
            "sqlServerHostname": "database.windows.net",
        },
    })
}

/// `GET /metadata/endpoints`: answered to anyone, with or without a token.
pub(crate) fn endpoints(shared: &Shared, request: &Incoming) -> Result<Response, ArmError> {
    super::toolkit::require_api_version(request)?;
    check_api_version(request, API_VERSIONS)?;
    if request.method != Method::GET {
        return Err(method_not_allowed(&request.method, &[Method::GET]));
    }
    // `https://127.0.0.1:PORT/` as the client addressed it: every endpoint of the cloud is the
    // emulator itself.
    let origin = request.base_url(shared);
    let origin = origin.as_str();
    let version = request.query_values("api-version").join(",");
    let body = match version.as_str() {
        "2019-05-01" => json!([cloud(origin)]),
        "2015-01-01" => json!({
            "galleryEndpoint": origin,
            "graphEndpoint": origin,
            "portalEndpoint": origin,
            "authentication": {
                "loginEndpoint": origin,
                "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"],
            },
        }),
        _ => cloud(origin),
    };
    Ok(json_response(StatusCode::OK, &body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::path_segments;

    #[test]
    fn recognizes_the_path_in_any_case() {
        assert!(is_endpoints(&path_segments("/metadata/endpoints")));
        assert!(is_endpoints(&path_segments("/METADATA/Endpoints")));
        assert!(!is_endpoints(&path_segments("/metadata")));
        assert!(!is_endpoints(&path_segments("/metadata/endpoints/x")));
    }

    #[test]
    fn the_cloud_is_the_emulator_itself() {
        let body = cloud("https://127.0.0.1:8443/");
        for pointer in ["/authentication/loginEndpoint", "/resourceManager", "/microsoftGraphResourceId"] {
            assert_eq!(body.pointer(pointer), Some(&json!("https://127.0.0.1:8443/")), "{pointer}");
        }
        assert_eq!(body.pointer("/authentication/audiences/0"), Some(&json!("https://management.core.windows.net/")));
    }
}
