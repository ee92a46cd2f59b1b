//! A GitHub-Actions-like OIDC token service, so a test logs in to Azure exactly as a workflow
//! does with `azure/login` and a federated identity credential.
//!
//! - `POST /_emulator/github/runs` with `{"repository": "owner/name", "ref"?, "environment"?,
//!   "pullRequest"?, "workflow"?, "actor"?, "tokenLifetimeSeconds"?}` starts a "job" and answers what the job sees as
//!   `ACTIONS_ID_TOKEN_REQUEST_URL` and `ACTIONS_ID_TOKEN_REQUEST_TOKEN`:
//!   `{"requestUrl": "https://127.0.0.1:PORT/_emulator/github/oidc/token?api-version=2.0",
//!   "requestToken": "..."}`.
//! - `GET <requestUrl>&audience=api://AzureADTokenExchange` with `Authorization: bearer
//!   <requestToken>` answers `{"value": "<jwt>"}`, the job's OIDC token.
//!
//! The token carries GitHub's claims (docs.github.com, "OpenID Connect reference"): `iss`
//! `https://token.actions.githubusercontent.com`, `sub` `repo:OWNER/REPO:environment:NAME` for a
//! job with an environment, else `repo:OWNER/REPO:pull_request` for a pull request, else
//! `repo:OWNER/REPO:ref:REF`; `aud` (the repository owner's URL unless `audience` names one),
//! `exp` five minutes after `iat`, `nbf`, `jti`, `repository`, `ref`, `job_workflow_ref`, ... It is
//! signed HS256 with a key the emulator generates at start and never shows (GitHub uses RS256;
//! see [`crate::jwt`]), so only this emulator's token endpoint accepts it. The request token is
//! kept only as a hash, in memory, and, like every token, is never recorded in the request log.

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::Duration;
use uuid::Uuid;

use crate::auth::{GITHUB_ISSUER, GithubRun};
use crate::context::Shared;
use crate::http::Incoming;
use crate::http::json_response;

/// The second path segment of the service's routes (`/_emulator/github/...`).
pub(crate) const SEGMENT: &str = "github";

/// How long a job's request token works: a GitHub-hosted job runs at most six hours.
const REQUEST_TOKEN_LIFETIME: Duration = Duration::hours(6);

/// How long an OIDC token lives: five minutes, as GitHub's do.
const TOKEN_LIFETIME_SECONDS: i64 = 300;

/// How far before `iat` GitHub sets `nbf` (its documented example token shows ten minutes).
const NOT_BEFORE_SKEW_SECONDS: i64 = 600;

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    json_response(status, &json!({"error": {"code": code, "message": message.into()}}))
}

/// Answers a request under `/_emulator/github/`.
pub(crate) fn handle(shared: &Shared, request: &Incoming) -> Response {
    if !request.peer.ip().is_loopback() {
        return error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "The emulator's /_emulator routes answer only clients on the same machine.",
        );
    }
    match request.segments.get(2..).unwrap_or_default() {
        [route] if route == "runs" => {
            if request.method != Method::POST {
                return method_not_allowed(Method::POST);
            }
            start_run(shared, request)
        }
        [first, second] if first == "oidc" && second == "token" => {
            if request.method != Method::GET {
                return method_not_allowed(Method::GET);
            }
            oidc_token(shared, request)
        }
        _ => error(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!(
                "The emulator has no route '{}'. The GitHub OIDC routes are POST /_emulator/github/runs and GET /_emulator/github/oidc/token.",
                request.raw_path
            ),
        ),
    }
}

fn method_not_allowed(allowed: Method) -> Response {
    let mut response = error(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "The requested resource does not support this http method.",
    );
    if let Ok(value) = HeaderValue::from_str(allowed.as_str()) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// The body of `POST /_emulator/github/runs`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RunRequest {
    /// `owner/name`.
    repository: String,
    /// The git ref the job runs on; `refs/heads/main` by default, `refs/pull/1/merge` for a pull
    /// request.
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    /// The deployment environment of the job.
    environment: Option<String>,
    /// Whether the job runs for a pull request.
    #[serde(default)]
    pull_request: bool,
    /// The workflow file; `.github/workflows/deploy.yml` by default.
    workflow: Option<String>,
    /// Who triggered the run; the repository owner by default.
    actor: Option<String>,
    /// The lifetime of the run's OIDC tokens in seconds (300 by default, as GitHub's; between
    /// -3600 and 3600, negative for an already expired token): a test knob GitHub lacks, so
    /// tests reach the expired-assertion path without waiting.
    token_lifetime_seconds: Option<i64>,
}

fn is_owner(owner: &str) -> bool {
    (1..=39).contains(&owner.len())
        && owner.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
        && !owner.starts_with('-')
}

fn is_repository_name(name: &str) -> bool {
    (1..=100).contains(&name.len())
        && name.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"-._".contains(&byte))
        && name != "."
        && name != ".."
}

/// Returns a stable numeric id for a name (GitHub's ids are numbers; these are made up).
fn numeric_id(kind: &str, name: &str) -> String {
    let hash = crate::directory::secret_hash(&format!("{kind}/{}", name.to_ascii_lowercase()));
    let digits = hash.get(..12).and_then(|hex| u64::from_str_radix(hex, 16).ok()).unwrap_or(1);
    (digits % 900_000_000 + 100_000_000).to_string()
}

fn start_run(shared: &Shared, request: &Incoming) -> Response {
    let run: RunRequest = match serde_json::from_slice(&request.body) {
        Ok(run) => run,
        Err(failure) => {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestContent",
                format!(
                    "The body must be {{\"repository\", \"ref\"?, \"environment\"?, \"pullRequest\"?, \"workflow\"?, \"actor\"?, \"tokenLifetimeSeconds\"?}}: {failure}"
                ),
            );
        }
    };
    let Some((owner, name)) =
        run.repository.split_once('/').filter(|(owner, name)| is_owner(owner) && is_repository_name(name))
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidRepository",
            format!("'{}' is not a repository 'owner/name'.", run.repository),
        );
    };
    let default_ref = if run.pull_request { "refs/pull/1/merge" } else { "refs/heads/main" };
    let git_ref = run.git_ref.unwrap_or_else(|| default_ref.to_owned());
    let valid_ref = ["refs/heads/", "refs/tags/", "refs/pull/"]
        .iter()
        .any(|prefix| git_ref.strip_prefix(prefix).is_some_and(|rest| !rest.is_empty()))
        && !git_ref.contains(char::is_whitespace);
    if !valid_ref || (run.pull_request && !git_ref.starts_with("refs/pull/")) {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidRef",
            format!(
                "'{git_ref}' is not a ref a job runs on (refs/heads/..., refs/tags/..., or refs/pull/N/merge for a pull request)."
            ),
        );
    }
    if let Some(environment) = &run.environment
        && (environment.trim().is_empty() || environment.len() > 255 || environment.contains(':'))
    {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidEnvironment",
            format!("'{environment}' is not an environment name."),
        );
    }
    let workflow = run.workflow.unwrap_or_else(|| ".github/workflows/deploy.yml".to_owned());
    if !workflow.starts_with(".github/workflows/") || workflow.contains(['@', ' ']) {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidWorkflow",
            format!("'{workflow}' is not a file under .github/workflows/."),
        );
    }
    let actor = run.actor.unwrap_or_else(|| owner.to_owned());

    let repository = format!("{owner}/{name}");
    let subject = match (&run.environment, run.pull_request) {
        (Some(environment), _) => format!("repo:{repository}:environment:{environment}"),
        (None, true) => format!("repo:{repository}:pull_request"),
        (None, false) => format!("repo:{repository}:ref:{git_ref}"),
    };
    let ref_type = if git_ref.starts_with("refs/tags/") { "tag" } else { "branch" };
    let sha: String = (0..20).map(|_| format!("{:02x}", rand::random::<u8>())).collect();
    let workflow_ref = format!("{repository}/{workflow}@{git_ref}");
    let mut claims = Map::new();
    let mut put = |name: &str, value: Value| {
        claims.insert(name.to_owned(), value);
    };
    put("sub", json!(subject));
    if let Some(environment) = &run.environment {
        put("environment", json!(environment));
    }
    put("ref", json!(git_ref));
    put("sha", json!(sha));
    put("repository", json!(repository));
    put("repository_owner", json!(owner));
    put("repository_owner_id", json!(numeric_id("owner", owner)));
    put("repository_id", json!(numeric_id("repository", &repository)));
    put("repository_visibility", json!("private"));
    put("run_id", json!(rand::random_range(1_000_000_000u64..9_999_999_999).to_string()));
    put("run_number", json!("1"));
    put("run_attempt", json!("1"));
    put("runner_environment", json!("github-hosted"));
    put("actor", json!(actor));
    put("actor_id", json!(numeric_id("actor", &actor)));
    put(
        "workflow",
        json!(workflow.rsplit('/').next().unwrap_or_default().trim_end_matches(".yml").trim_end_matches(".yaml")),
    );
    put("head_ref", json!(if run.pull_request { "feature" } else { "" }));
    put("base_ref", json!(if run.pull_request { "main" } else { "" }));
    put("event_name", json!(if run.pull_request { "pull_request" } else { "push" }));
    put("ref_protected", json!(git_ref == "refs/heads/main"));
    put("ref_type", json!(ref_type));
    put("workflow_ref", json!(workflow_ref));
    put("workflow_sha", json!(sha));
    put("job_workflow_ref", json!(workflow_ref));
    put("job_workflow_sha", json!(sha));
    put("iss", json!(GITHUB_ISSUER));

    let expires_at = shared.clock.now() + REQUEST_TOKEN_LIFETIME;
    let token_lifetime_seconds = run.token_lifetime_seconds.unwrap_or(TOKEN_LIFETIME_SECONDS).clamp(-3600, 3600);
    let request_token = shared.tokens().add_run(GithubRun { claims, expires_at, token_lifetime_seconds });
    let request_url = format!("{}_emulator/github/oidc/token?api-version=2.0", request.base_url(shared));
    json_response(StatusCode::OK, &json!({"requestUrl": request_url, "requestToken": request_token}))
}

fn oidc_token(shared: &Shared, request: &Incoming) -> Response {
    let token = request
        .header(header::AUTHORIZATION.as_str())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, token)| scheme.eq_ignore_ascii_case("bearer") && !token.is_empty())
        .map(|(_, token)| token.to_owned());
    let tokens = shared.tokens();
    let Some(run) = token.as_deref().and_then(|token| tokens.run(token)).cloned() else {
        return error(StatusCode::UNAUTHORIZED, "Unauthorized", "The request token is missing, unknown or expired.");
    };
    let key = *tokens.oidc_key();
    drop(tokens);
    if request.query_values("api-version") != ["2.0"] {
        return error(StatusCode::BAD_REQUEST, "InvalidApiVersion", "The api-version query parameter must be '2.0'.");
    }
    let audience = match request.query_values("audience").as_slice() {
        [] => format!(
            "https://github.com/{}",
            run.claims.get("repository_owner").and_then(Value::as_str).unwrap_or_default()
        ),
        [audience] if !audience.is_empty() => audience.clone(),
        _ => return error(StatusCode::BAD_REQUEST, "InvalidAudience", "Give at most one non-empty audience."),
    };
    let now = shared.clock.now().unix_timestamp();
    let mut claims = run.claims.clone();
    claims.insert("jti".to_owned(), json!(Uuid::new_v4().to_string()));
    claims.insert("aud".to_owned(), json!(audience));
    claims.insert("iat".to_owned(), json!(now));
    claims.insert("nbf".to_owned(), json!(now - NOT_BEFORE_SKEW_SECONDS));
    claims.insert("exp".to_owned(), json!(now + run.token_lifetime_seconds));
    let mut header = Map::new();
    header.insert("typ".to_owned(), json!("JWT"));
    header.insert("kid".to_owned(), json!("exai-emulator-github-oidc"));
    let value = crate::jwt::sign_hs256(header, &claims, &key);
    json_response(StatusCode::OK, &json!({"value": value}))
}
