//! `Microsoft.Resources/subscriptions`: `GET /subscriptions/{id}` and `GET /subscriptions`.
//!
//! Subscriptions are never created explicitly: the development subscription
//! ([`crate::DEV_SUBSCRIPTION_ID`]) exists from the start in the development tenant, owned by the
//! development application, so `GET /subscriptions` lists it to that application from its first
//! request (what `az login` reads to pick a subscription); any other subscription comes into
//! being when a token first uses it, bound to that token's tenant (see [`super::route`]).

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::toolkit::{ArmError, Subscription, check_api_version, method_not_allowed};
use crate::auth::TokenInfo;
use crate::context::Shared;
use crate::http::Incoming;
use crate::http::json_response;
use crate::state::{State, SubscriptionRecord};

/// The api-versions the subscription routes support.
pub(crate) const API_VERSIONS: &[&str] = super::api_versions::SUBSCRIPTIONS.versions;

/// Returns the display name of a subscription created on first use.
pub(crate) fn default_display_name(subscription_id: &str) -> String {
    if subscription_id == crate::DEV_SUBSCRIPTION_ID {
        "exai emulator development subscription".to_owned()
    } else {
        format!("exai emulator subscription {subscription_id}")
    }
}

/// Creates a subscription in `tenant_id` unless it exists; the principal `owner` that brings it
/// into being owns it, as the account admin of a new subscription does (a real, readable role
/// assignment at the subscription). Returns whether it was created.
pub(crate) fn ensure(state: &mut State, subscription_id: &str, tenant_id: &str, owner: &str, now: &str) -> bool {
    if state.subscriptions.contains_key(subscription_id) {
        return false;
    }
    state.subscriptions.insert(
        subscription_id.to_owned(),
        SubscriptionRecord {
            subscription_id: subscription_id.to_owned(),
            tenant_id: tenant_id.to_owned(),
            display_name: default_display_name(subscription_id),
            resource_groups: Default::default(),
            operations: Default::default(),
            resources: Default::default(),
        },
    );
    state.dirty = true;
    super::rbac::grant_owner(state, subscription_id, owner, now);
    true
}

/// Creates the development subscription in the development tenant, owned by the development
/// application's service principal, unless it exists (a state file may have it already, possibly
/// bound to another tenant by an older emulator: it is kept as it is).
pub(crate) fn ensure_development(state: &mut State, now: &str) {
    state.ensure_tenant(crate::DEV_TENANT_ID, None);
    let owner = crate::state::service_principal_object_id(crate::DEV_TENANT_ID, crate::DEV_CLIENT_ID);
    ensure(state, crate::DEV_SUBSCRIPTION_ID, crate::DEV_TENANT_ID, &owner, now);
}

/// Returns a subscription as ARM shows it.
fn to_json(subscription: &Subscription) -> Value {
    json!({
        "id": format!("/subscriptions/{}", subscription.id),
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": subscription.id,
        "tenantId": subscription.tenant_id,
        "displayName": subscription.display_name,
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
    })
}

/// `GET /subscriptions/{id}`.
pub(crate) fn get(request: &Incoming, subscription: &Subscription) -> Result<Response, ArmError> {
    check_api_version(request, API_VERSIONS)?;
    if request.method != Method::GET {
        return Err(method_not_allowed(&request.method, &[Method::GET]));
    }
    Ok(json_response(StatusCode::OK, &to_json(subscription)))
}

/// `GET /subscriptions`: the subscriptions of the token's tenant in which its principal holds a
/// role assignment (at any scope), as ARM lists only the subscriptions a caller has access to.
pub(crate) fn list(shared: &Shared, request: &Incoming, token: &TokenInfo) -> Result<Response, ArmError> {
    check_api_version(request, API_VERSIONS)?;
    if request.method != Method::GET {
        return Err(method_not_allowed(&request.method, &[Method::GET]));
    }
    let state = shared.state();
    let value: Vec<Value> = state
        .subscriptions
        .values()
        .filter(|record| record.tenant_id == token.tenant_id)
        .filter(|record| super::rbac::has_any_assignment(&state, &record.subscription_id, &token.object_id))
        .map(|record| {
            to_json(&Subscription {
                id: record.subscription_id.clone(),
                tenant_id: record.tenant_id.clone(),
                display_name: record.display_name.clone(),
            })
        })
        .collect();
    Ok(json_response(StatusCode::OK, &json!({"value": value, "count": {"type": "Total", "value": value.len()}})))
}
