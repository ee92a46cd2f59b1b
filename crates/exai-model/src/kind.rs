//! What every resource kind knows how to do, and values known only after apply.
//!
//! Each kind (`kinds::*`) implements [`Kind`] in its own module: how to read it, write it, and
//! project it onto owned fields.
//!
//! Some request bodies need a value another resource only has once it exists — the kubelet
//! identity's object id for the AcrPull assignment, a service principal's id. [`Known`] answers
//! from live state when the other resource exists, and otherwise writes a *placeholder* into the
//! body ([`placeholder`]): a JSON object naming the address and the JSON pointer of the value.
//! The executor replaces placeholders with the values the earlier writes returned
//! ([`resolve_placeholders`]); a dry run shows them as `(known after apply: ...)`.

use crate::{Address, ApiRequest, LiveResource, LiveState, Mark, Observation, OwnedFields, ResourceId};
use serde_json::{Map, Value, json};

/// The key of a placeholder object in a request body.
pub const KNOWN_AFTER_APPLY: &str = "$knownAfterApply";

/// Returns a placeholder for the value at `pointer` (a JSON pointer) of the document of the
/// resource at `address` (e.g. `perso.cluster`).
pub fn placeholder(address: &str, pointer: &str) -> Value {
    json!({ KNOWN_AFTER_APPLY: { "address": address, "pointer": pointer } })
}

/// Returns `(address, pointer)` when `value` is a placeholder.
pub fn as_placeholder(value: &Value) -> Option<(String, String)> {
    let inner = value.as_object().filter(|o| o.len() == 1)?.get(KNOWN_AFTER_APPLY)?;
    Some((inner.get("address")?.as_str()?.to_owned(), inner.get("pointer")?.as_str()?.to_owned()))
}

/// Returns the addresses the placeholders in `body` name, each once, in the order found.
pub fn placeholder_addresses(body: &Value) -> Vec<String> {
    fn walk(value: &Value, out: &mut Vec<String>) {
        if let Some((address, _)) = as_placeholder(value) {
            if !out.contains(&address) {
                out.push(address);
            }
            return;
        }
        match value {
            Value::Object(map) => map.values().for_each(|v| walk(v, out)),
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(body, &mut out);
    out
}

/// A placeholder whose value is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{address}` has no value at `{pointer}`, which this request needs")]
pub struct Unresolved {
    /// The resource that should have provided it.
    pub address: String,
    /// Where in its document.
    pub pointer: String,
}

/// Replaces every placeholder in `body` with the value `lookup(address, pointer)` gives.
pub fn resolve_placeholders(body: &Value, lookup: &dyn Fn(&str, &str) -> Option<Value>) -> Result<Value, Unresolved> {
    if let Some((address, pointer)) = as_placeholder(body) {
        return lookup(&address, &pointer).ok_or(Unresolved { address, pointer });
    }
    Ok(match body {
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                out.insert(k.clone(), resolve_placeholders(v, lookup)?);
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| resolve_placeholders(v, lookup)).collect::<Result<_, _>>()?)
        }
        other => other.clone(),
    })
}

/// Returns a placeholder for the value at `pointer` of `address`'s document inside a request
/// *path* (a federated credential is created under `/applications/{the application's id}`):
/// `{{perso.deployer.app#/id}}`. Addresses and pointers hold neither `#` nor braces.
pub fn path_placeholder(address: &str, pointer: &str) -> String {
    format!("{{{{{address}#{pointer}}}}}")
}

/// Replaces every path placeholder in `path` with `lookup(address, pointer)`, which must be a
/// string (an object id); `keep_unknown` leaves a placeholder whose value is not known yet in
/// place (for dry runs).
pub fn resolve_path(
    path: &str,
    lookup: &dyn Fn(&str, &str) -> Option<Value>,
    keep_unknown: bool,
) -> Result<String, Unresolved> {
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(start) = rest.find("{{") {
        let Some(end) = rest[start..].find("}}").map(|e| start + e) else { break };
        let inner = &rest[start + 2..end];
        let Some((address, pointer)) = inner.split_once('#') else { break };
        out.push_str(&rest[..start]);
        match lookup(address, pointer).as_ref().and_then(Value::as_str) {
            Some(value) => out.push_str(value),
            None if keep_unknown => out.push_str(&rest[start..end + 2]),
            None => return Err(Unresolved { address: address.to_owned(), pointer: pointer.to_owned() }),
        }
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Returns `path` (or a URL) with every path placeholder replaced by a readable
/// `(known after apply: <address> → <pointer>)`, for printing requests.
pub fn describe_path(path: &str) -> String {
    let lookup =
        |address: &str, pointer: &str| Some(Value::from(format!("(known after apply: {address} → {pointer})")));
    resolve_path(path, &lookup, true).unwrap_or_else(|_| path.to_owned())
}

/// Returns `body` with every placeholder replaced by a readable
/// `(known after apply: <address> → <pointer>)`, for printing requests.
pub fn describe_placeholders(body: &Value) -> Value {
    if let Some((address, pointer)) = as_placeholder(body) {
        return Value::from(format!("(known after apply: {address} → {pointer})"));
    }
    match body {
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), describe_placeholders(v))).collect()),
        Value::Array(items) => Value::Array(items.iter().map(describe_placeholders).collect()),
        other => other.clone(),
    }
}

/// Why a resource that does not exist yet cannot be created as declared
/// ([`Kind::preflight_refusal`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreflightRefusal {
    /// What is wrong, e.g. "the registry name `exaiacr` is already in use".
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

/// Values of other resources, as far as live state knows them.
#[derive(Debug, Clone, Copy)]
pub struct Known<'a> {
    live: Option<&'a LiveState>,
}

impl<'a> Known<'a> {
    /// Returns values from `live`.
    pub fn from(live: &'a LiveState) -> Self {
        Self { live: Some(live) }
    }

    /// Returns a view in which nothing is known yet.
    pub fn nothing() -> Self {
        Self { live: None }
    }

    /// Returns the value at `pointer` of `address`'s live document, or a placeholder when the
    /// resource does not exist yet (or lacks the value).
    pub fn value(&self, address: &Address, pointer: &str) -> Value {
        self.get(address, pointer).unwrap_or_else(|| placeholder(address.as_str(), pointer))
    }

    /// Returns the value at `pointer` of `address`'s live document as text for a request path,
    /// or a path placeholder ([`path_placeholder`]) when it is not known yet.
    pub fn path_value(&self, address: &Address, pointer: &str) -> String {
        match self.get(address, pointer) {
            Some(Value::String(text)) => text,
            _ => path_placeholder(address.as_str(), pointer),
        }
    }

    /// Returns the live document of `address`, if it exists.
    pub fn document(&self, address: &Address) -> Option<&'a Value> {
        match self.live?.get(address)? {
            Observation::Present(live) => Some(&live.document),
            Observation::Absent => None,
        }
    }

    /// Returns the value at `pointer` of `address`'s live document, if known.
    pub fn get(&self, address: &Address, pointer: &str) -> Option<Value> {
        match self.live?.get(address)? {
            Observation::Present(live) => live.document.pointer(pointer).cloned().filter(|v| !v.is_null()),
            Observation::Absent => None,
        }
    }
}

/// What a resource kind knows how to do, given one object of it.
///
/// The methods without a default are the questions every kind must answer: its row in the table
/// of kinds ([`Kind::name`]), its id, how it is created, updated and deleted, how it is projected
/// onto owned fields, and which field changes force a replacement. An impl that leaves one out
/// does not compile. The defaulted methods are capabilities only some kinds have, and their
/// default is the real answer for a kind without it ("not known before apply" has a note, "not
/// read through a list" selects the answer itself, "no preflight check", ...).
///
/// A kind must be readable: it answers [`Kind::read_request`] (a plain GET),
/// [`Kind::read_request_with`] (a read that needs a dependency's id) or [`Kind::observe_from`]
/// (it lives in another resource's document). A kind with none of them is reported as not
/// observed by every plan that declares it.
///
/// What is known of a kind without an object of it (its Azure type, its destroy warning, how
/// its orphans are found, how one is deleted) lives in its row of the table
/// ([`crate::KindInfo`]), read through `<dyn Kind>::info`.
pub trait Kind: std::fmt::Debug {
    /// The kind's row in the table of kinds.
    fn name(&self) -> crate::KindName;

    /// The Azure id, when it is known before apply.
    fn id(&self) -> Option<ResourceId>;

    /// The Azure id, given what is known of the resources it depends on (a data collection
    /// rule named after a referenced workspace's region). Defaults to [`Kind::id`].
    fn id_with(&self, _known: Known<'_>) -> Option<ResourceId> {
        self.id()
    }

    /// How the id becomes known, when it is not known before apply.
    fn id_note(&self) -> Option<String> {
        None
    }

    /// Values only known after apply, as `(field, where it comes from)`.
    fn unknown_values(&self, _known: Known<'_>) -> Vec<(String, String)> {
        Vec::new()
    }

    /// The request that reads the live object; `None` for a kind read otherwise (see the
    /// trait's documentation).
    fn read_request(&self) -> Option<ApiRequest> {
        None
    }

    /// The request that reads the live object, given what is known of the resources it depends
    /// on (they are read first). Defaults to [`Kind::read_request`].
    fn read_request_with(&self, _known: Known<'_>) -> Option<ApiRequest> {
        self.read_request()
    }

    /// Returns true when, from what is known of its dependencies, the object cannot exist and
    /// need not be read (an AcrPull assignment for a cluster that does not exist yet).
    fn known_absent(&self, _known: Known<'_>) -> bool {
        false
    }

    /// Returns what is known of the live object without a read of its own, when it lives
    /// inside another resource's document (a client secret in its application's
    /// `passwordCredentials`): `Some(None)` absent, `Some(Some(document))` present, `None` when
    /// it must be read.
    fn observe_from(&self, _known: Known<'_>) -> Option<Option<Value>> {
        None
    }

    /// Returns the live object in the answer to the read request (`Ok(None)`: absent), or why
    /// the answer cannot be trusted (two applications with the name exai finds its own by).
    /// Defaults to the answer itself; a kind read through a list picks its item.
    fn select_live(&self, answer: Value) -> Result<Option<Value>, String> {
        Ok(Some(answer))
    }

    /// Returns the id of the live object `document`. Defaults to the ARM `id` member; Graph
    /// objects, whose `id` is a bare GUID, build their path.
    fn live_id(&self, document: &Value, _known: Known<'_>) -> Option<ResourceId> {
        document.get("id").and_then(Value::as_str).and_then(|s| ResourceId::parse(s).ok()).or_else(|| self.id())
    }

    /// Returns the objects exai owns in the answer to this kind's read, besides the one it
    /// selects (the application's other federated credentials, the principal's other role
    /// assignments): candidates for deletion when the spec no longer declares them. A kind
    /// whose orphans are found here says [`crate::Orphans::OwnedIn`] in its row.
    fn owned_in(&self, _answer: &Value, _known: Known<'_>) -> Vec<crate::OwnedObject> {
        Vec::new()
    }

    /// A read-only request to send, during observation, for a resource that does not exist
    /// yet, whose answer says whether it can be created as declared (a registry's name is
    /// global across Azure: `checkNameAvailability`). Checked by [`Kind::preflight_refusal`],
    /// so a plan that cannot be applied fails before any write.
    fn preflight_request(&self) -> Option<ApiRequest> {
        None
    }

    /// Returns why the resource cannot be created, given the answer to
    /// [`Kind::preflight_request`]; `None` when it can.
    fn preflight_refusal(&self, _answer: &Value) -> Option<PreflightRefusal> {
        None
    }

    /// A read that lists the objects exai owns below this one, once it exists (a resource
    /// group's resources carrying the ownership tag); its answer goes to
    /// [`crate::owned_in_scan`].
    fn scan_request(&self) -> Option<ApiRequest> {
        None
    }

    /// The requests that create the resource from nothing.
    fn create_requests(&self, known: Known<'_>) -> Vec<ApiRequest>;

    /// The requests that bring `live` to the desired owned fields in place (none for a kind
    /// every change of which forces a replacement, see [`Kind::replace_reason`]).
    fn update_requests(&self, live: &LiveResource, known: Known<'_>) -> Vec<ApiRequest>;

    /// Why `live` is updated, when the field diffs alone do not say it (a client secret whose
    /// file does not hold it is rotated).
    fn update_reason(&self, _live: &LiveResource) -> Option<String> {
        None
    }

    /// The owned fields as declared (values not known yet are left out; see
    /// [`Kind::unknown_values`]).
    fn desired_fields(&self, known: Known<'_>) -> OwnedFields;

    /// The ownership mark this kind writes on the object, if it writes one. Defaults to the
    /// one among its declared owned fields ([`Mark::field`]); a kind that writes its mark but
    /// cannot compare it (a client secret's name cannot change) says so here.
    fn mark(&self) -> Option<Mark> {
        Mark::from_fields(&self.desired_fields(Known::nothing()))
    }

    /// The same owned fields as Azure holds them in `live`, normalized.
    fn live_fields(&self, live: &LiveResource) -> OwnedFields;

    /// Why a change of `path` cannot be made in place, if it cannot (`None` for every path of a
    /// kind whose owned fields can all be updated).
    fn replace_reason(&self, path: &str) -> Option<&'static str>;

    /// Why a change of `path` cannot be applied at all by exai, with what to do instead (e.g. a
    /// system pool's VM size), if so.
    fn unsupported_change(&self, _path: &str) -> Option<&'static str> {
        None
    }

    /// What `live` holds that exai does not manage and a reviewer may want to know about.
    fn observed(&self, _live: &LiveResource) -> OwnedFields {
        OwnedFields::new()
    }
}

impl dyn Kind + '_ {
    /// Returns the kind's row in the table of kinds. Facts of the row are read here, never
    /// answered by the kind, so the table and the kind cannot disagree.
    pub fn info(&self) -> crate::KindInfo {
        self.name().info()
    }

    /// Returns the Azure resource type (or Graph type).
    pub fn azure_type(&self) -> &'static str {
        self.info().azure_type
    }

    /// Returns the warning to show whenever this resource is deleted or replaced.
    pub fn destroy_warning(&self) -> Option<&'static str> {
        self.info().destroy_warning
    }

    /// Returns the requests that delete `live`, built from the kind's row
    /// ([`crate::KindInfo::deletion`]) as an orphan's delete is, so the two cannot differ.
    pub fn delete_requests(&self, live: &LiveResource) -> Vec<ApiRequest> {
        vec![self.info().deletion.request(&live.id)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_resolve_anywhere_in_a_body_or_say_what_is_missing() {
        let cluster = Address::new("perso", "cluster");
        let body = json!({"properties": {"principalId": placeholder(cluster.as_str(), "/a/b"), "list": [placeholder(cluster.as_str(), "/c")]}});
        let resolved = resolve_placeholders(&body, &|address, pointer| {
            (address == "perso.cluster").then(|| Value::from(format!("v{pointer}")))
        })
        .unwrap();
        assert_eq!(resolved, json!({"properties": {"principalId": "v/a/b", "list": ["v/c"]}}));
        let err = resolve_placeholders(&body, &|_, _| None).unwrap_err();
        assert_eq!(err.address, "perso.cluster");
        let two = json!([placeholder("a.b", "/x"), {"y": placeholder("c.d", "/y")}, placeholder("a.b", "/z")]);
        assert_eq!(placeholder_addresses(&two), ["a.b", "c.d"]);
    }

    #[test]
    fn path_placeholders_resolve_describe_or_stay_for_dry_runs() {
        let path = format!(
            "/v1.0/applications/{}/federatedIdentityCredentials",
            path_placeholder("perso.deployer.app", "/id")
        );
        assert_eq!(path, "/v1.0/applications/{{perso.deployer.app#/id}}/federatedIdentityCredentials");
        let found = |a: &str, p: &str| (a == "perso.deployer.app" && p == "/id").then(|| Value::from("0000-id"));
        assert_eq!(
            resolve_path(&path, &found, false).unwrap(),
            "/v1.0/applications/0000-id/federatedIdentityCredentials"
        );
        assert_eq!(resolve_path(&path, &|_, _| None, true).unwrap(), path);
        assert_eq!(resolve_path(&path, &|_, _| None, false).unwrap_err().address, "perso.deployer.app");
        assert_eq!(
            describe_path(&path),
            "/v1.0/applications/(known after apply: perso.deployer.app → /id)/federatedIdentityCredentials"
        );
        assert_eq!(resolve_path("/plain/{x}", &|_, _| None, false).unwrap(), "/plain/{x}");
    }
}
