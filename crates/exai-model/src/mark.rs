//! The ownership mark: which spec owns an object, under which address, and whether it is
//! protected.
//!
//! There is no state file, so everything exai creates says on itself who made it. Addresses are
//! unique within one spec, not across specs (two teams may both have a `prod.resourceGroup`), so
//! the mark names the **spec** as well as the address; and `protect: true` is written into it, so
//! an object stays protected after its block leaves the spec.
//!
//! [`Mark`] is the only code that writes or reads a mark, in its two forms:
//!
//! | form | where | text |
//! |---|---|---|
//! | [`Mark::tag_value`] | the `exai-owner` tag of an ARM resource or resource group | `my-org/exai:perso.registry` |
//! | [`Mark::text`] | a Graph application's or service principal's `tags`, a federated credential's or role assignment's `description`, a client secret's `displayName` | `exai-owner:my-org/exai:perso.deployer.app` |
//!
//! A protected object's mark ends with `:protect` (`my-org/exai:perso.registry:protect`). Marks
//! written by earlier versions of exai hold a bare address (`perso.registry`,
//! `exai-owner:perso.deployer.app`): they parse as a mark with no spec, which the planner
//! rewrites on the next apply.
//!
//! Lengths. An ARM tag value holds at most 256 characters
//! (learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations). A
//! federated credential's `description` allows 600 (Graph `federatedIdentityCredential`: "It has
//! a limit of 600 characters"). For the other fields — a Graph `tags` entry, a role assignment's
//! `description`, a password credential's `displayName` — the references state no limit exai
//! could cite, so exai holds them to the same 256 as a tag value, a conservative bound. A spec id
//! is at most [`Mark::MAX_SPEC_LEN`] characters and an environment name 32, so a mark on an ARM
//! resource, an application or a service principal, whose paths are short, always fits (see the
//! test `the_longest_marks_fit_the_fields_they_go_in`).

use crate::{Address, KindName, MarkPlace, OWNER_TAG, OwnedFields};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Who owns a live object: the spec, the address in it, and whether it is protected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mark {
    /// The id of the spec that owns the object; `None` for a mark an earlier exai wrote (a bare
    /// address), which does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
    /// The object's address in that spec.
    pub address: Address,
    /// The spec said `protect: true`: the object is never deleted or replaced until an applied
    /// `protect: false` lifts it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub protect: bool,
}

/// The suffix of a protected object's mark.
const PROTECT: &str = "protect";

/// A spec id that cannot go into a mark.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{id}` is not a spec id: 1 to {max} letters, digits, `-`, `_`, `.` or `/`, starting with a letter or digit", max = Mark::MAX_SPEC_LEN)]
pub struct SpecIdError {
    /// The id refused.
    pub id: String,
}

impl Mark {
    /// The longest spec id: a GitHub `owner/repository` (39 + 1 + 100 characters).
    pub const MAX_SPEC_LEN: usize = 140;
    /// The limit of an ARM tag value, and exai's bound for the other fields a mark goes in.
    pub const MAX_TAG_LEN: usize = 256;
    /// The limit of a federated credential's `description`.
    pub const MAX_DESCRIPTION_LEN: usize = 600;

    /// Returns the mark of `address` in spec `spec`.
    pub fn new(spec: &str, address: &Address, protect: bool) -> Self {
        Self { spec: Some(spec.to_owned()), address: address.clone(), protect }
    }

    /// Checks that `id` can name a spec in a mark: it must not hold `:` (the separator) or
    /// whitespace, and must fit the fields marks go in.
    pub fn check_spec_id(id: &str) -> Result<(), SpecIdError> {
        let valid = !id.is_empty()
            && id.chars().count() <= Self::MAX_SPEC_LEN
            && id.starts_with(|c: char| c.is_ascii_alphanumeric())
            && id.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
        if valid { Ok(()) } else { Err(SpecIdError { id: id.to_owned() }) }
    }

    /// Returns the value of the `exai-owner` tag: `<spec>:<address>[:protect]`, or the bare
    /// address for a mark that names no spec.
    pub fn tag_value(&self) -> String {
        let mut out = match &self.spec {
            Some(spec) => format!("{spec}:{}", self.address),
            None => self.address.to_string(),
        };
        if self.protect {
            out.push(':');
            out.push_str(PROTECT);
        }
        out
    }

    /// Returns the mark as text for a field shared with other content (a Graph `tags` entry, a
    /// description, a display name): `exai-owner:` and [`Mark::tag_value`].
    pub fn text(&self) -> String {
        format!("{OWNER_TAG}:{}", self.tag_value())
    }

    /// Parses the value of an `exai-owner` tag, old form (a bare address) or new; `None` when it
    /// is not a mark exai writes.
    pub fn from_tag_value(value: &str) -> Option<Self> {
        let mut parts: Vec<&str> = value.split(':').collect();
        let protect = parts.len() > 1 && parts.last() == Some(&PROTECT);
        if protect {
            parts.pop();
        }
        match parts.as_slice() {
            [address] if !protect => Some(Self { spec: None, address: Address::parse(address)?, protect }),
            [spec, address] => {
                Self::check_spec_id(spec).ok()?;
                Some(Self { spec: Some((*spec).to_owned()), address: Address::parse(address)?, protect })
            }
            _ => None,
        }
    }

    /// Parses a mark written as text ([`Mark::text`]); `None` for any other text.
    pub fn from_text(text: &str) -> Option<Self> {
        Self::from_tag_value(text.strip_prefix(OWNER_TAG)?.strip_prefix(':')?)
    }

    /// Returns the mark in `fields` (a kind's owned fields, desired or live, hold it as
    /// `tags.exai-owner`, in the [`Mark::tag_value`] form; or, for an object whose mark is its
    /// `description` and that has no tags, a federated credential, as that `description`, in the
    /// [`Mark::text`] form).
    pub fn from_fields(fields: &OwnedFields) -> Option<Self> {
        fields
            .get(&Self::field())
            .and_then(Value::as_str)
            .and_then(Self::from_tag_value)
            .or_else(|| fields.get(Self::DESCRIPTION_FIELD).and_then(Value::as_str).and_then(Self::from_text))
    }

    /// The owned field of an object that lists its mark as the `description` holding it.
    pub const DESCRIPTION_FIELD: &str = "description";

    /// Returns true when the owned field `path` holds a mark ([`Mark::from_fields`]).
    pub fn is_field(path: &str) -> bool {
        path == Self::field() || path == Self::DESCRIPTION_FIELD
    }

    /// The owned field every kind projects its mark onto: `tags.exai-owner`.
    pub fn field() -> String {
        format!("tags.{OWNER_TAG}")
    }

    /// Returns true when this (live) mark says the object is not the one `ours` names: another
    /// spec's, or another address's (an address is unique within one spec, so the same spec
    /// under another address is another declaration, or another spec that chose the same id).
    /// A mark that names no spec (an earlier exai's) is taken as `ours` when the addresses agree.
    /// Spec ids are compared ignoring ASCII case, as GitHub compares repository names.
    pub fn is_foreign_to(&self, ours: &Mark) -> bool {
        if self.address != ours.address {
            return true;
        }
        match (&self.spec, &ours.spec) {
            (Some(theirs), Some(ours)) => !theirs.eq_ignore_ascii_case(ours),
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    /// Returns true when this (live) mark was written for spec `ours`, or by an earlier exai
    /// that did not say (such a mark is taken as the spec's own when its environment is planned).
    pub fn belongs_to(&self, ours: &str) -> bool {
        self.spec.as_deref().is_none_or(|spec| spec.eq_ignore_ascii_case(ours))
    }

    /// Returns the way to hand the object carrying this mark over to another spec: remove the
    /// mark (an object with no mark is adopted by the spec that declares it), as a command where
    /// one exists.
    pub fn release_hint(&self, azure_type: &str, id: &str) -> String {
        let place = KindName::of_azure_type(azure_type).map_or(MarkPlace::ArmTag, |kind| kind.info().mark_place);
        let text = self.text();
        let how = match place {
            MarkPlace::ArmTag => {
                format!(
                    "`az tag update --resource-id {id} --operation Delete --tags '{OWNER_TAG}={}'`",
                    self.tag_value()
                )
            }
            MarkPlace::RoleAssignmentDescription => format!("clear the description `{text}` of role assignment `{id}`"),
            MarkPlace::GraphTags => format!("remove `{text}` from the tags of `{id}`"),
            MarkPlace::GraphDescription => format!("remove `{text}` from the description of `{id}`"),
            MarkPlace::GraphDisplayName => format!("remove `{text}` from the display name of `{id}`"),
            MarkPlace::Unmarked => format!("remove `{text}` from `{id}`"),
        };
        format!(
            "if the object should move to this spec, release it deliberately: {how}, then plan again (an object with no mark is adopted); otherwise give this spec's block another name"
        )
    }
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.spec {
            Some(spec) => write!(f, "`{}` of spec `{spec}`", self.address),
            None => write!(f, "`{}` (a mark that names no spec)", self.address),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(text: &str) -> Address {
        Address::parse(text).unwrap()
    }

    #[test]
    fn every_form_round_trips() {
        let plain = Mark::new("my-org/exai", &address("perso.registry"), false);
        assert_eq!(plain.tag_value(), "my-org/exai:perso.registry");
        assert_eq!(plain.text(), "exai-owner:my-org/exai:perso.registry");
        assert_eq!(Mark::from_tag_value(&plain.tag_value()), Some(plain.clone()));
        assert_eq!(Mark::from_text(&plain.text()), Some(plain));
        let protected = Mark::new("team-a", &address("prod.registry"), true);
        assert_eq!(protected.tag_value(), "team-a:prod.registry:protect");
        assert_eq!(Mark::from_tag_value(&protected.tag_value()), Some(protected.clone()));
        assert_eq!(Mark::from_text(&protected.text()), Some(protected));
    }

    #[test]
    fn old_marks_parse_as_naming_no_spec() {
        let old = Mark::from_tag_value("perso.registry").unwrap();
        assert_eq!(old, Mark { spec: None, address: address("perso.registry"), protect: false });
        assert_eq!(Mark::from_text("exai-owner:perso.deployer.app").unwrap().address.as_str(), "perso.deployer.app");
        assert_eq!(old.tag_value(), "perso.registry");
    }

    /// The way to release a mark is where the kind's row says the object holds it, whatever
    /// the casing of the type; a type exai does not manage is taken as an ARM resource.
    #[test]
    fn a_release_hint_names_where_the_kind_holds_its_mark() {
        let mark = Mark::new("team-a", &address("perso.deployer.app"), false);
        let how = |azure_type: &str| {
            let hint = mark.release_hint(azure_type, "ID");
            let how = hint.strip_prefix("if the object should move to this spec, release it deliberately: ");
            how.and_then(|h| h.split_once(", then plan again")).map(|(how, _)| how.to_owned()).unwrap()
        };
        let text = "`exai-owner:team-a:perso.deployer.app`";
        let tag = "`az tag update --resource-id ID --operation Delete --tags 'exai-owner=team-a:perso.deployer.app'`";
        assert_eq!(how("Microsoft.ContainerRegistry/registries"), tag);
        assert_eq!(how("microsoft.containerservice/managedclusters"), tag);
        assert_eq!(how("Microsoft.Storage/storageAccounts"), tag);
        assert_eq!(
            how("Microsoft.Authorization/roleAssignments"),
            format!("clear the description {text} of role assignment `ID`")
        );
        assert_eq!(how("microsoft.graph.application"), format!("remove {text} from the tags of `ID`"));
        assert_eq!(how("microsoft.graph.servicePrincipal"), format!("remove {text} from the tags of `ID`"));
        assert_eq!(
            how("microsoft.graph.federatedIdentityCredential"),
            format!("remove {text} from the description of `ID`")
        );
        assert_eq!(how("microsoft.graph.passwordCredential"), format!("remove {text} from the display name of `ID`"));
    }

    #[test]
    fn anything_else_is_not_a_mark() {
        for value in
            ["", "no-dot", "a:b:c:d", "sp ace:perso.registry", ":perso.registry", "x:", "perso.registry:protect"]
        {
            assert_eq!(Mark::from_tag_value(value), None, "{value:?}");
        }
        assert_eq!(Mark::from_text("perso.registry"), None);
        assert_eq!(Mark::from_text("a description someone wrote"), None);
    }

    #[test]
    fn foreign_means_another_spec_or_another_address() {
        let ours = Mark::new("team-a", &address("perso.resourceGroup"), false);
        assert!(!Mark::new("TEAM-A", &address("perso.resourceGroup"), true).is_foreign_to(&ours));
        assert!(Mark::new("team-a", &address("old.resourceGroup"), false).is_foreign_to(&ours));
        assert!(Mark::new("team-b", &address("perso.resourceGroup"), false).is_foreign_to(&ours));
        assert!(!Mark::from_tag_value("perso.resourceGroup").unwrap().is_foreign_to(&ours));
        assert!(Mark::from_tag_value("team2.resourceGroup").unwrap().is_foreign_to(&ours));
    }

    #[test]
    fn spec_ids() {
        assert!(Mark::check_spec_id("my-org/exai.infra_2").is_ok());
        for bad in ["", "-x", "a:b", "a b", "é", &"x".repeat(141)] {
            assert!(Mark::check_spec_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_longest_marks_fit_the_fields_they_go_in() {
        let spec = format!("{}/{}", "o".repeat(39), "r".repeat(100));
        assert!(Mark::check_spec_id(&spec).is_ok());
        let env = "e".repeat(32);
        // The longest paths of the kinds whose mark is limited to 256 characters.
        for path in
            ["resourceGroup", "cluster.dcr", "cluster.acr-pull", "deployer.app", "planner.role", "deployer.secret"]
        {
            let mark = Mark::new(&spec, &Address::new(&env, path), true);
            assert!(mark.text().chars().count() <= Mark::MAX_TAG_LEN, "{}", mark.text());
        }
        // A federated credential's name is at most 120 characters (Graph's limit).
        let path = format!("deployer.federated.{}", "n".repeat(120));
        let mark = Mark::new(&spec, &Address::new(&env, &path), true);
        assert!(mark.text().chars().count() <= Mark::MAX_DESCRIPTION_LEN);
    }
}
