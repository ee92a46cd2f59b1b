//! The permission check of a plan: can the identity that made it carry it out?
//!
//! Each change's requests need an ARM action each ([`exai_model::permissions::required_action`]);
//! the caller's effective permissions, read while observing, decide at the nearest scope that
//! exists ([`exai_model::LiveState::effective_permissions`]). An action they do not grant is a
//! [`PermissionFinding`], with the smallest built-in roles that would grant it; a scope whose
//! permissions could not be read is an [`UncheckedScope`], so the plan never claims a check it
//! did not make. `apply` refuses a plan with findings before any write.

use crate::{Action, Change};
use exai_model::permissions::{BuiltinRole, builtin_role, builtin_role_of, granted, required_action, smallest_roles};
use exai_model::{Address, ApiRequest, EffectivePermissions, LiveState, ResourceId};
use serde::{Deserialize, Serialize};

/// What the permission check of a plan found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionCheck {
    /// Each action a change needs that the caller is not granted.
    #[serde(default)]
    pub findings: Vec<PermissionFinding>,
    /// Each scope whose permissions could not be read, with the changes left unchecked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unchecked: Vec<UncheckedScope>,
}

impl PermissionCheck {
    /// Returns true when some change needs an action the caller is not granted.
    pub fn has_findings(&self) -> bool {
        !self.findings.is_empty()
    }

    /// Returns true when `address` was checked (granted or not): no unchecked scope names it.
    pub fn checked(&self, address: &Address) -> bool {
        !self.unchecked.iter().any(|u| u.addresses.contains(address))
    }
}

/// An action a change needs that the caller's permissions do not grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionFinding {
    /// The change.
    pub address: Address,
    /// The ARM action, e.g. `Microsoft.Authorization/roleAssignments/write`.
    pub action: String,
    /// Where the action is performed.
    pub scope: ResourceId,
    /// The scope whose effective permissions were read.
    pub checked_at: ResourceId,
    /// The built-in roles recognized among the caller's permissions there.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caller_roles: Vec<String>,
    /// The smallest built-in roles that grant the action, narrowest first.
    #[serde(default)]
    pub granted_by: Vec<String>,
    /// What to do, in words.
    pub hint: String,
}

impl PermissionFinding {
    /// Returns the finding as one line: `perso.cluster.acr-pull needs ... on `...``.
    pub fn message(&self) -> String {
        format!("{} needs {} on `{}`", self.address, self.action, self.scope)
    }
}

/// A scope whose effective permissions could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UncheckedScope {
    /// The scope.
    pub scope: ResourceId,
    /// Why, as Azure or the client said it.
    pub reason: String,
    /// The changes whose actions it would have decided.
    pub addresses: Vec<Address>,
}

/// How many of the smallest roles a hint names.
const ROLES_NAMED: usize = 2;

/// Checks every change of `changes` against the permissions in `live`; `None` when no
/// permissions were read at all (a plan made from values in memory), so nothing is claimed.
pub(crate) fn check(changes: &[Change], live: &LiveState) -> Option<PermissionCheck> {
    let mut result = PermissionCheck::default();
    for change in changes.iter().filter(|c| c.action != Action::NoOp) {
        for request in &change.requests {
            let Some(needed) = required_action(request) else { continue };
            match live.effective_permissions(&needed.scope) {
                EffectivePermissions::NotRead => {}
                EffectivePermissions::Unknown { scope, reason } => {
                    match result.unchecked.iter_mut().find(|u| u.scope == scope) {
                        Some(u) if u.addresses.contains(&change.address) => {}
                        Some(u) => u.addresses.push(change.address.clone()),
                        None => result.unchecked.push(UncheckedScope {
                            scope,
                            reason,
                            addresses: vec![change.address.clone()],
                        }),
                    }
                }
                EffectivePermissions::Read { scope, sets } => {
                    if granted(sets, &needed.action)
                        || result.findings.iter().any(|f| {
                            f.address == change.address && f.action == needed.action && f.scope == needed.scope
                        })
                    {
                        continue;
                    }
                    let caller_roles: Vec<String> =
                        sets.iter().filter_map(builtin_role_of).map(|r| r.name.to_owned()).collect();
                    let roles = smallest_roles(&needed.action);
                    let hint = hint(&needed.action, &scope, &caller_roles, sets.is_empty(), &roles, request);
                    result.findings.push(PermissionFinding {
                        address: change.address.clone(),
                        action: needed.action,
                        scope: needed.scope,
                        checked_at: scope,
                        caller_roles,
                        granted_by: roles.iter().map(|r| r.name.to_owned()).collect(),
                        hint,
                    });
                }
            }
        }
    }
    live.has_permissions().then_some(result)
}

/// Returns the hint of a finding: what the caller's roles lack, and which roles would do.
fn hint(
    action: &str,
    checked_at: &ResourceId,
    caller_roles: &[String],
    no_role: bool,
    roles: &[&BuiltinRole],
    request: &ApiRequest,
) -> String {
    let lacks = if no_role {
        format!("the identity has no role at `{checked_at}` or above")
    } else if caller_roles.is_empty() {
        format!("the roles it has at `{checked_at}` do not grant it")
    } else {
        format!("{} {} not grant it", or_list(caller_roles), if caller_roles.len() == 1 { "does" } else { "do" })
    };
    let named: Vec<String> = roles.iter().take(ROLES_NAMED).map(|r| describe(r, action, request)).collect();
    if named.is_empty() {
        return format!("{lacks}; no built-in role exai knows grants it: ask an administrator for a role that does");
    }
    format!("{lacks}; {} {}", or_list(&named), if named.len() == 1 { "does" } else { "do" })
}

/// Returns a role as a hint names it: with the condition that narrows it to what the request
/// assigns (`Role Based Access Control Administrator (conditions: AcrPull only)`).
fn describe(role: &BuiltinRole, action: &str, request: &ApiRequest) -> String {
    let assigns = request
        .body
        .as_ref()
        .and_then(|b| b.pointer("/properties/roleDefinitionId"))
        .and_then(|v| v.as_str())
        .and_then(|id| id.rsplit('/').next())
        .and_then(builtin_role);
    match (role.note, assigns) {
        (Some(note), Some(assigned))
            if action.to_ascii_lowercase().starts_with("microsoft.authorization/roleassignments/") =>
        {
            format!("{} ({note}: {} only)", role.name, assigned.name)
        }
        _ => role.name.to_owned(),
    }
}

fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}
