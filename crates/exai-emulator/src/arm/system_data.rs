//! ARM's `systemData`: who created a resource and who last changed it, and when.
//!
//! Source: common-types `resource-management/v6/types.json#/definitions/systemData` (and v2's,
//! which the data collection swagger uses): `createdBy`, `createdByType` (`User`,
//! `Application`, `ManagedIdentity`, `Key`), `createdAt` (date-time), `lastModifiedBy`,
//! `lastModifiedByType`, `lastModifiedAt`, the whole object `readOnly`. ARM fills it in on every
//! write of a resource whose swagger definition carries it: the tracked resources the emulator
//! serves (`Registry`, `Workspace`, `DataCollectionRuleResource`, `ManagedCluster`, all through
//! `TrackedResource` or their own `systemData` member) and the data collection rule association
//! (`DataCollectionRuleAssociationProxyOnlyResource`). Resource groups (`ResourceGroup` in
//! `resources.json` 2025-04-01) and role assignments (`RoleAssignment` in
//! `authorization-RoleAssignmentsCalls.json` 2022-04-01) have none, so none is added there.
//!
//! Every principal the emulator issues tokens to is an application (a client secret or a
//! federated credential), so the caller is recorded as ARM records a service principal: its
//! application (client) id, with the type `Application`.

use serde_json::{Map, Value, json};

use crate::context::Shared;
use crate::http::Incoming;

/// Who sent a write, as `systemData` names them.
pub(crate) struct Caller {
    /// The application (client) id of the token's principal.
    id: String,
    /// `Application`.
    kind: &'static str,
}

/// Returns who sent `request`, from its bearer token (which the ARM gate already checked).
pub(crate) fn caller(shared: &Shared, request: &Incoming) -> Option<Caller> {
    let token = crate::auth::authenticate(&shared.tokens(), &request.headers).ok()?;
    Some(Caller { id: token.client_id, kind: "Application" })
}

/// Sets `systemData` on `body` (the body a write leaves): the creation members are kept from
/// `previous` (the body before the write, if the resource existed), the last-modification
/// members name `caller` and the emulator's current time.
pub(crate) fn stamp(shared: &Shared, body: &mut Value, previous: Option<&Value>, caller: &Caller) {
    let Some(object) = body.as_object_mut() else { return };
    let now = shared.clock.now_rfc3339();
    let (by, kind) = (caller.id.as_str(), caller.kind);
    let modified = json!({"lastModifiedBy": by, "lastModifiedByType": kind, "lastModifiedAt": now});
    let mut data = previous
        .and_then(|previous| previous.get("systemData"))
        .and_then(Value::as_object)
        .filter(|data| data.contains_key("createdAt"))
        .map(|data| {
            let mut kept = Map::new();
            for member in ["createdBy", "createdByType", "createdAt"] {
                if let Some(value) = data.get(member) {
                    kept.insert(member.to_owned(), value.clone());
                }
            }
            kept
        })
        .unwrap_or_else(|| {
            let mut created = Map::new();
            created.insert("createdBy".to_owned(), json!(by));
            created.insert("createdByType".to_owned(), json!(kind));
            created.insert("createdAt".to_owned(), json!(now));
            created
        });
    if let Value::Object(modified) = modified {
        data.extend(modified);
    }
    object.insert("systemData".to_owned(), Value::Object(data));
}
