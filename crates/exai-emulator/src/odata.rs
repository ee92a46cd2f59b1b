//! The OData `$filter` grammar, as far as the Azure endpoints the emulator serves document it:
//! clauses joined by `and`, each a comparison (`property eq 'literal'`) or a function call
//! (`startswith(displayName,'exai')`, `atScope()`, `assignedTo('{id}')`).
//!
//! One parser for ARM and Graph; each service interprets the parsed clauses itself (which
//! properties and functions it supports, and the error shape it answers when it does not), in
//! `arm::filter`, `arm::authorization` and `graph::toolkit`.
//!
//! The grammar follows OData 4.01 URL Conventions (§5.1.1, "Built-in Filter Operations", and
//! the ABNF's `boolCommonExpr`): operators are separated from their operands by whitespace
//! (`RWS`), a string literal is single-quoted with a quote inside doubled (`'it''s'`,
//! `SQUOTE-in-string`). Keywords (`eq`, `and`) compare case-insensitively, as ARM accepts them.
//! Anything else (`or`, `not`, parentheses for grouping, numbers, unquoted values) does not
//! parse, and the caller refuses it: the emulator is stricter than Azure rather than silently
//! ignoring part of a filter.
//!
//! The query string is decoded before it gets here ([`crate::http::Incoming::query_values`]).

/// A comparison operator (OData's `eq`, `ne`, `gt`, `ge`, `lt`, `le`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operator {
    /// `eq`.
    Eq,
    /// `ne`.
    Ne,
    /// `gt`.
    Gt,
    /// `ge`.
    Ge,
    /// `lt`.
    Lt,
    /// `le`.
    Le,
}

/// A function's argument: a property or a string literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Argument {
    /// A property name, as sent.
    Property(String),
    /// A string literal, unquoted (`''` read as `'`).
    Literal(String),
}

/// One clause of a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Clause {
    /// `property operator 'literal'`.
    Compare {
        /// The property, as sent.
        property: String,
        /// The operator.
        operator: Operator,
        /// The literal, unquoted.
        value: String,
    },
    /// `function(argument, ...)`.
    Call {
        /// The function's name, as sent.
        function: String,
        /// Its arguments.
        arguments: Vec<Argument>,
    },
}

impl Clause {
    /// Returns the literal of a `property eq 'literal'` clause about `property` (compared
    /// case-insensitively).
    pub fn equals(&self, property: &str) -> Option<&str> {
        match self {
            Clause::Compare { property: name, operator: Operator::Eq, value }
                if name.eq_ignore_ascii_case(property) =>
            {
                Some(value)
            }
            _ => None,
        }
    }

    /// Returns the arguments of a call of `function` (compared case-insensitively).
    pub fn call(&self, function: &str) -> Option<&[Argument]> {
        match self {
            Clause::Call { function: name, arguments } if name.eq_ignore_ascii_case(function) => Some(arguments),
            _ => None,
        }
    }
}

/// Parses a filter into its clauses (none for an empty filter); `None` when it is not clauses
/// joined by `and`.
pub(crate) fn parse(filter: &str) -> Option<Vec<Clause>> {
    let mut clauses = Vec::new();
    let mut rest = filter.trim();
    if rest.is_empty() {
        return Some(clauses);
    }
    loop {
        let (clause, tail) = clause(rest)?;
        clauses.push(clause);
        if tail.trim().is_empty() {
            return Some(clauses);
        }
        rest = keyword(whitespace(tail)?, "and")?;
    }
}

/// Parses one clause at the start of `text`; returns it and the text after it.
fn clause(text: &str) -> Option<(Clause, &str)> {
    let (name, rest) = identifier(text)?;
    if let Some(rest) = rest.strip_prefix('(') {
        let (arguments, rest) = arguments(rest)?;
        return Some((Clause::Call { function: name.to_owned(), arguments }, rest));
    }
    let rest = whitespace(rest)?;
    let (word, rest) = identifier(rest)?;
    let operator = match word.to_ascii_lowercase().as_str() {
        "eq" => Operator::Eq,
        "ne" => Operator::Ne,
        "gt" => Operator::Gt,
        "ge" => Operator::Ge,
        "lt" => Operator::Lt,
        "le" => Operator::Le,
        _ => return None,
    };
    let (value, rest) = literal(whitespace(rest)?)?;
    Some((Clause::Compare { property: name.to_owned(), operator, value }, rest))
}

/// Parses a function's arguments after its `(`, up to and including the `)`.
fn arguments(text: &str) -> Option<(Vec<Argument>, &str)> {
    let mut arguments = Vec::new();
    let mut rest = text.trim_start();
    if let Some(after) = rest.strip_prefix(')') {
        return Some((arguments, after));
    }
    loop {
        let (argument, after) = if rest.starts_with('\'') {
            let (value, after) = literal(rest)?;
            (Argument::Literal(value), after)
        } else {
            let (name, after) = identifier(rest)?;
            (Argument::Property(name.to_owned()), after)
        };
        arguments.push(argument);
        let after = after.trim_start();
        if let Some(after) = after.strip_prefix(')') {
            return Some((arguments, after));
        }
        rest = after.strip_prefix(',')?.trim_start();
    }
}

/// Returns the identifier at the start of `text` (a property path such as `properties/name`,
/// a function name, an operator word) and the text after it.
fn identifier(text: &str) -> Option<(&str, &str)> {
    let end =
        text.find(|character: char| character.is_whitespace() || "'(),".contains(character)).unwrap_or(text.len());
    (end > 0).then(|| text.split_at(end))
}

/// Parses the string literal at the start of `text`; returns it unquoted and the text after it.
fn literal(text: &str) -> Option<(String, &str)> {
    let inner = text.strip_prefix('\'')?;
    let mut value = String::new();
    let mut characters = inner.char_indices();
    loop {
        let (index, character) = characters.next()?;
        if character != '\'' {
            value.push(character);
        } else if inner[index + 1..].starts_with('\'') {
            value.push('\'');
            characters.next();
        } else {
            return Some((value, &inner[index + 1..]));
        }
    }
}

/// Returns the text after the whitespace that must start it (`RWS`).
fn whitespace(text: &str) -> Option<&str> {
    let trimmed = text.trim_start();
    (trimmed.len() < text.len()).then_some(trimmed)
}

/// Returns the text after `keyword` (case-insensitive) and the whitespace that must follow it.
fn keyword<'a>(text: &'a str, keyword: &str) -> Option<&'a str> {
    let rest = text.get(..keyword.len()).filter(|head| head.eq_ignore_ascii_case(keyword))?;
    whitespace(&text[rest.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn equals(property: &str, value: &str) -> Clause {
        Clause::Compare { property: property.to_owned(), operator: Operator::Eq, value: value.to_owned() }
    }

    fn call(function: &str, arguments: Vec<Argument>) -> Clause {
        Clause::Call { function: function.to_owned(), arguments }
    }

    fn literal(value: &str) -> Argument {
        Argument::Literal(value.to_owned())
    }

    #[test]
    fn parses_comparisons_joined_by_and() {
        assert_eq!(parse(""), Some(vec![]));
        assert_eq!(parse("  "), Some(vec![]));
        assert_eq!(parse("tagName eq 'exai-owner'"), Some(vec![equals("tagName", "exai-owner")]));
        assert_eq!(
            parse(" tagname  EQ 'a b'  AND tagValue eq 'it''s' "),
            Some(vec![equals("tagname", "a b"), equals("tagValue", "it's")])
        );
        assert_eq!(
            parse("resourceType eq 'Microsoft.ContainerRegistry/registries' and name eq 'x'"),
            Some(vec![equals("resourceType", "Microsoft.ContainerRegistry/registries"), equals("name", "x")])
        );
        assert_eq!(parse("tagName eq 'a and tagValue eq b'"), Some(vec![equals("tagName", "a and tagValue eq b")]));
        assert_eq!(parse("tagName eq ''"), Some(vec![equals("tagName", "")]));
        assert_eq!(parse("properties/name eq ''''"), Some(vec![equals("properties/name", "'")]));
        assert_eq!(
            parse("displayName ne 'x'"),
            Some(vec![Clause::Compare {
                property: "displayName".to_owned(),
                operator: Operator::Ne,
                value: "x".to_owned()
            }])
        );
    }

    #[test]
    fn parses_function_calls() {
        assert_eq!(
            parse("startswith(displayName,'exai')"),
            Some(vec![call("startswith", vec![Argument::Property("displayName".to_owned()), literal("exai")])])
        );
        assert_eq!(
            parse("startswith( displayName , 'O''Brien' )"),
            Some(vec![call("startswith", vec![Argument::Property("displayName".to_owned()), literal("O'Brien")])])
        );
        assert_eq!(
            parse("atScope() and principalId eq 'p'"),
            Some(vec![call("atScope", vec![]), equals("principalId", "p")])
        );
        assert_eq!(parse("assignedTo('a''b')"), Some(vec![call("assignedTo", vec![literal("a'b")])]));
    }

    #[test]
    fn refuses_what_is_not_the_subset() {
        for refused in [
            "tagName eq exai",
            "tagName eq 'exai",
            "tagName has 'exai'",
            "tagName eq 'a' or tagName eq 'b'",
            "tagName eq 'a' and",
            "tagName eq 'a'and tagValue eq 'b'",
            "tagName eq'a'",
            "tagName eq 'a',tagName eq 'b'",
            "eq 'a'",
            "'a' eq tagName",
            "not atScope()",
            "atScope(",
            "startswith(displayName,'a'",
            "startswith(displayName 'a')",
            "(tagName eq 'a')",
            "'a' or 'b'",
        ] {
            assert_eq!(parse(refused), None, "{refused}");
        }
    }

    #[test]
    fn reads_clauses() {
        let clause = equals("principalId", "p");
        assert_eq!(clause.equals("PRINCIPALID"), Some("p"));
        assert_eq!(clause.equals("roleName"), None);
        assert_eq!(clause.call("atScope"), None);
        let scope = call("atScope", vec![]);
        assert_eq!(scope.call("atscope"), Some(&[][..]));
        assert_eq!(scope.equals("atScope"), None);
        let unequal =
            Clause::Compare { property: "principalId".to_owned(), operator: Operator::Ne, value: "p".to_owned() };
        assert_eq!(unequal.equals("principalId"), None);
    }
}
