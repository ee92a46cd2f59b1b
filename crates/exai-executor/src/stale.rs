//! Is a reviewed plan still what apply would do? The check behind `exai apply PLAN.json` and the
//! re-read after an interactive "yes".
//!
//! There is no state file to compare with: the reviewed plan is compared with a plan made just
//! now from the same spec against live Azure. They must agree resource by resource — the same
//! action, the same id, the same field changes, and the same live owned fields (the
//! *fingerprint*). Churn Azure makes in fields exai does not own never makes a plan stale,
//! because neither side holds those fields; a change to an owned field always does, and is
//! named with its before and after.

use exai_model::Address;
use exai_planner::{Action, Change, Plan};
use serde_json::Value;

/// One way a reviewed plan no longer matches what apply would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleChange {
    /// The resource.
    pub address: Address,
    /// What changed, e.g. "`tags.project` changed in Azure since the plan: "exai" → "other"".
    pub what: String,
}

fn show(value: Option<&Value>) -> String {
    match value {
        None => "(none)".to_owned(),
        Some(Value::String(s)) => format!("{s:?}"),
        Some(other) => other.to_string(),
    }
}

/// Returns every difference between the `reviewed` plan and the `fresh` one, in the reviewed
/// plan's order, then the changes only the fresh plan has. Empty when the reviewed plan is
/// exactly what apply would now do.
pub fn stale_changes(reviewed: &Plan, fresh: &Plan) -> Vec<StaleChange> {
    let mut out = Vec::new();
    let mut push = |address: &Address, what: String| out.push(StaleChange { address: address.clone(), what });
    for old in &reviewed.resource_changes {
        let Some(new) = fresh.resource_changes.iter().find(|c| c.address == old.address) else {
            if !old.action.changes_nothing() {
                push(&old.address, format!("the plan would {} it, and now there is nothing to do", verb(old.action)));
            }
            continue;
        };
        compare(old, new, &mut push);
    }
    for new in &fresh.resource_changes {
        let reviewed_it = reviewed.resource_changes.iter().any(|c| c.address == new.address);
        if !reviewed_it && !new.action.changes_nothing() {
            push(&new.address, format!("not in the plan, and now apply would {} it", verb(new.action)));
        }
    }
    out
}

fn compare(old: &Change, new: &Change, push: &mut impl FnMut(&Address, String)) {
    let ended = operation_ended(old, new);
    if old.action != new.action && !ended {
        push(
            &old.address,
            format!("the plan would {} it, and now apply would {} it", verb(old.action), verb(new.action)),
        );
    }
    if old.id != new.id {
        let id = |c: &Change| c.id.as_ref().map_or_else(|| "(not known yet)".to_owned(), |id| format!("`{id}`"));
        push(&old.address, format!("its id was {} and is now {}", id(old), id(new)));
    }
    // A delete the plan showed in progress that has finished is as reviewed.
    let deleted_as_shown = ended && new.action == Action::Create;
    if old.fingerprint != new.fingerprint && !deleted_as_shown {
        let empty = Default::default();
        let before = old.before.as_ref().unwrap_or(&empty);
        let now = new.before.as_ref().unwrap_or(&empty);
        let mut paths: Vec<&String> = before.keys().chain(now.keys()).collect();
        paths.sort();
        paths.dedup();
        let changed: Vec<String> = paths
            .into_iter()
            .filter(|p| before.get(*p) != now.get(*p))
            .map(|p| format!("`{p}` {} → {}", show(before.get(p)), show(now.get(p))))
            .collect();
        match (old.fingerprint.is_some(), new.fingerprint.is_some(), changed.is_empty()) {
            (false, true, _) => push(&old.address, "it was created in Azure since the plan".to_owned()),
            (true, false, _) => push(&old.address, "it was deleted in Azure since the plan".to_owned()),
            (_, _, false) => push(&old.address, format!("changed in Azure since the plan: {}", changed.join(", "))),
            (_, _, true) => push(&old.address, "changed in Azure since the plan".to_owned()),
        }
    }
    let diffs = |c: &Change| serde_json::to_value(&c.diffs).unwrap_or_default();
    if (old.action == new.action || ended)
        && !deleted_as_shown
        && old.fingerprint == new.fingerprint
        && diffs(old) != diffs(new)
    {
        push(&old.address, "the spec asks for other values than the plan showed".to_owned());
    }
}

fn verb(action: Action) -> &'static str {
    match action {
        Action::NoOp => "leave",
        Action::Create => "create",
        Action::Update => "update",
        Action::Replace => "replace",
        Action::Delete => "delete",
        Action::Wait => "wait for Azure to finish",
        Action::Read => "only read",
    }
}

/// Returns true when `new` is only what `old` (a `wait`) becomes once Azure's operation ends,
/// as the reviewed plan said apply would find out: the resource finished as declared
/// (`no-op`), failed and is sent again or differs as the plan showed (`update`), is still in
/// progress, or, deleted as it was being, is created again.
fn operation_ended(old: &Change, new: &Change) -> bool {
    if old.action != Action::Wait {
        return false;
    }
    let deleting = old.in_progress.as_ref().is_some_and(|p| p.operation == exai_planner::Operation::Deleting);
    match new.action {
        Action::NoOp | Action::Update | Action::Wait => true,
        Action::Create => deleting,
        Action::Replace | Action::Delete | Action::Read => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exai_model::{OwnedFields, ResourceId};

    fn change(name: &str, action: Action, before: &[(&str, &str)]) -> Change {
        let before: OwnedFields =
            before.iter().map(|(k, v)| ((*k).to_owned(), Value::from(*v))).collect::<OwnedFields>();
        Change {
            id: ResourceId::parse(&format!("/subscriptions/s/resourceGroups/{name}")).ok(),
            fingerprint: (!before.is_empty()).then(|| exai_model::fingerprint(&before)),
            before: (!before.is_empty()).then_some(before),
            ..Change::new(Address::new("perso", name), "Test/things", action)
        }
    }

    #[test]
    fn the_same_plan_is_not_stale() {
        let p = Plan::new(vec![
            change("rg", Action::Update, &[("tags.project", "exai")]),
            change("new", Action::Create, &[]),
        ]);
        assert_eq!(stale_changes(&p, &p.clone()), vec![]);
    }

    #[test]
    fn each_difference_is_named_with_its_field() {
        let reviewed = Plan::new(vec![
            change("rg", Action::Update, &[("tags.project", "exai")]),
            change("new", Action::Create, &[]),
            change("gone", Action::Update, &[("location", "francecentral")]),
        ]);
        let fresh = Plan::new(vec![
            change("rg", Action::Update, &[("tags.project", "other")]),
            change("new", Action::NoOp, &[("location", "francecentral")]),
            change("extra", Action::Delete, &[("tags.exai-owner", "perso.extra")]),
        ]);
        let stale: Vec<String> =
            stale_changes(&reviewed, &fresh).iter().map(|s| format!("{}: {}", s.address, s.what)).collect();
        assert_eq!(
            stale,
            [
                "perso.rg: changed in Azure since the plan: `tags.project` \"exai\" → \"other\"",
                "perso.new: the plan would create it, and now apply would leave it",
                "perso.new: it was created in Azure since the plan",
                "perso.gone: the plan would update it, and now there is nothing to do",
                "perso.extra: not in the plan, and now apply would delete it",
            ]
        );
    }

    fn waiting(name: &str, operation: exai_planner::Operation, before: &[(&str, &str)]) -> Change {
        let mut c = change(name, Action::Wait, before);
        c.in_progress = Some(exai_planner::InProgress { operation, provisioning_state: format!("{operation:?}") });
        c
    }

    #[test]
    fn a_plan_made_while_azure_worked_is_not_stale_once_it_is_done() {
        use exai_planner::Operation::{Creating, Deleting};
        let fields = [("tags.project", "exai")];
        let reviewed = Plan::new(vec![
            waiting("created", Creating, &fields),
            waiting("failed", Creating, &fields),
            waiting("still", Creating, &fields),
            waiting("deleted", Deleting, &fields),
        ]);
        let fresh = Plan::new(vec![
            change("created", Action::NoOp, &fields),
            change("failed", Action::Update, &fields),
            waiting("still", Creating, &fields),
            change("deleted", Action::Create, &[]),
        ]);
        assert_eq!(stale_changes(&reviewed, &fresh), vec![]);
    }

    #[test]
    fn what_changed_while_azure_worked_still_makes_a_plan_stale() {
        use exai_planner::Operation::Creating;
        let reviewed = Plan::new(vec![
            waiting("changed", Creating, &[("tags.project", "exai")]),
            waiting("replaced", Creating, &[("location", "francecentral")]),
            change("started", Action::NoOp, &[("tags.project", "exai")]),
            waiting("gone", Creating, &[("tags.project", "exai")]),
        ]);
        let fresh = Plan::new(vec![
            change("changed", Action::Update, &[("tags.project", "other")]),
            change("replaced", Action::Replace, &[("location", "francecentral")]),
            waiting("started", Creating, &[("tags.project", "exai")]),
            change("gone", Action::Create, &[]),
        ]);
        let stale: Vec<String> =
            stale_changes(&reviewed, &fresh).iter().map(|s| format!("{}: {}", s.address, s.what)).collect();
        assert_eq!(
            stale,
            [
                "perso.changed: changed in Azure since the plan: `tags.project` \"exai\" → \"other\"",
                "perso.replaced: the plan would wait for Azure to finish it, and now apply would replace it",
                "perso.started: the plan would leave it, and now apply would wait for Azure to finish it",
                "perso.gone: the plan would wait for Azure to finish it, and now apply would create it",
                "perso.gone: it was deleted in Azure since the plan",
            ]
        );
    }
}
