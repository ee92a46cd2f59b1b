//! ARM's `$filter` on list operations, as far as the emulator implements it: clauses
//! `property eq 'literal'` joined by `and`, parsed by [`crate::odata`].
//!
//! The query string is decoded before it gets here ([`crate::http::Incoming::query_values`]:
//! `%20` and `+` are both a space, `%27` a quote). Keywords (`eq`, `and`) and property names
//! compare case-insensitively; a quote inside a literal is doubled (`'it''s'`), as in OData.
//! Anything else (`ne`, `or`, functions, unquoted values) is refused by the caller: the
//! emulator is stricter than Azure rather than silently ignoring a filter.
//!
//! Tag filters follow `Resources_List` and `ResourceGroups_List` (Microsoft.Resources
//! 2025-04-01): `tagName eq '{name}'` (anything carrying that tag, whatever its value) and
//! `tagName eq '{name}' and tagValue eq '{value}'`. Tag names compare case-insensitively, as
//! ARM treats them; tag values compare exactly, as Azure documents tag values as case-sensitive.

use serde_json::{Map, Value};

use crate::http::Incoming;
use crate::odata;

/// One `property eq 'value'` clause.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Clause {
    /// The property, as sent.
    pub property: String,
    /// The literal, unquoted (`''` read as `'`).
    pub value: String,
}

impl Clause {
    /// Returns whether the clause is about `property` (compared case-insensitively).
    pub fn is(&self, property: &str) -> bool {
        self.property.eq_ignore_ascii_case(property)
    }

    /// Returns whether the clause is about tags (`tagName`, `tagValue`).
    pub fn is_tag(&self) -> bool {
        self.is("tagName") || self.is("tagValue")
    }
}

/// Returns the request's `$filter` as one text (empty when absent; a repeated parameter is
/// comma-joined, as ARM's model binder reads it, which then does not parse).
pub(crate) fn text(request: &Incoming) -> String {
    request.query_values("$filter").join(",")
}

/// Reads a filter as ARM's list operations accept it: `property eq 'literal'` clauses joined by
/// `and` (none for an empty filter); `None` for anything else, including the functions and
/// other operators [`odata`] parses.
pub(crate) fn parse(filter: &str) -> Option<Vec<Clause>> {
    odata::parse(filter)?
        .into_iter()
        .map(|clause| match clause {
            odata::Clause::Compare { property, operator: odata::Operator::Eq, value } => {
                Some(Clause { property, value })
            }
            _ => None,
        })
        .collect()
}

/// A tag filter: a tag name, and the value it must have (any value when `None`).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TagFilter {
    /// The tag name (compared case-insensitively).
    pub name: String,
    /// The tag value (compared exactly), if the filter names one.
    pub value: Option<String>,
}

impl TagFilter {
    /// Reads the two documented forms, `tagName eq '...'` and `tagName eq '...' and tagValue
    /// eq '...'` (in that order); `None` for any other list of clauses.
    pub fn from_clauses(clauses: &[Clause]) -> Option<Self> {
        match clauses {
            [name] if name.is("tagName") => Some(Self { name: name.value.clone(), value: None }),
            [name, value] if name.is("tagName") && value.is("tagValue") => {
                Some(Self { name: name.value.clone(), value: Some(value.value.clone()) })
            }
            _ => None,
        }
    }

    /// Returns whether a resource's `tags` pass the filter.
    pub fn matches(&self, tags: Option<&Map<String, Value>>) -> bool {
        let wanted = self.name.to_lowercase();
        tags.into_iter().flatten().any(|(name, value)| {
            name.to_lowercase() == wanted
                && self.value.as_deref().is_none_or(|wanted_value| value.as_str() == Some(wanted_value))
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn clause(property: &str, value: &str) -> Clause {
        Clause { property: property.to_owned(), value: value.to_owned() }
    }

    #[test]
    fn parses_eq_clauses_joined_by_and() {
        assert_eq!(parse(""), Some(vec![]));
        assert_eq!(parse("  "), Some(vec![]));
        assert_eq!(parse("tagName eq 'exai-owner'"), Some(vec![clause("tagName", "exai-owner")]));
        assert_eq!(
            parse(" tagname  EQ 'a b'  AND tagValue eq 'it''s' "),
            Some(vec![clause("tagname", "a b"), clause("tagValue", "it's")])
        );
        assert_eq!(
            parse("resourceType eq 'Microsoft.ContainerRegistry/registries' and name eq 'x'"),
            Some(vec![clause("resourceType", "Microsoft.ContainerRegistry/registries"), clause("name", "x")])
        );
        assert_eq!(parse("tagName eq 'a and tagValue eq b'"), Some(vec![clause("tagName", "a and tagValue eq b")]));
        assert_eq!(parse("tagName eq ''"), Some(vec![clause("tagName", "")]));
        for refused in [
            "tagName eq exai",
            "tagName eq 'exai",
            "tagName ne 'exai'",
            "tagName eq 'a' or tagName eq 'b'",
            "tagName eq 'a' and",
            "tagName eq 'a'and tagValue eq 'b'",
            "tagName eq'a'",
            "startswith(tagName, 'a')",
            "tagName eq 'a',tagName eq 'b'",
            "eq 'a'",
        ] {
            assert_eq!(parse(refused), None, "{refused}");
        }
    }

    #[test]
    fn reads_the_documented_tag_filters() {
        let read = |filter: &str| parse(filter).and_then(|clauses| TagFilter::from_clauses(&clauses));
        assert_eq!(read("tagName eq 'env'"), Some(TagFilter { name: "env".to_owned(), value: None }));
        assert_eq!(
            read("tagName eq 'env' and tagValue eq 'dev'"),
            Some(TagFilter { name: "env".to_owned(), value: Some("dev".to_owned()) })
        );
        for refused in
            ["tagValue eq 'dev'", "tagValue eq 'dev' and tagName eq 'env'", "tagName eq 'a' and tagName eq 'b'"]
        {
            assert_eq!(read(refused), None, "{refused}");
        }
    }

    #[test]
    fn matches_tag_names_case_insensitively_and_values_exactly() {
        let tags = json!({"Exai-Owner": "Perso", "env": "dev"});
        let tags = tags.as_object();
        let filter =
            |name: &str, value: Option<&str>| TagFilter { name: name.to_owned(), value: value.map(str::to_owned) };
        assert!(filter("exai-owner", None).matches(tags));
        assert!(filter("EXAI-OWNER", Some("Perso")).matches(tags));
        assert!(!filter("exai-owner", Some("perso")).matches(tags));
        assert!(!filter("owner", None).matches(tags));
        assert!(!filter("env", Some("Perso")).matches(tags));
        assert!(!filter("env", None).matches(None));
    }
}
