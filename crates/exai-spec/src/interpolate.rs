//! `${VAR}` interpolation in string values.
//!
//! `${NAME}` is replaced by the environment variable `NAME` (letters, digits and `_`, not
//! starting with a digit); `$${` writes a literal `${`. An unset variable is an error naming it,
//! never an empty string: an empty subscription id would turn into a confusing Azure error much
//! later.

/// Why a value could not be interpolated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InterpolationError {
    /// `${NAME}` names a variable that is not set.
    Unset(String),
    /// `${` without a closing `}`, or a name that is not a variable name.
    Malformed(String),
}

pub(crate) fn interpolate(
    value: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, Vec<InterpolationError>> {
    let mut out = String::with_capacity(value.len());
    let mut errors = Vec::new();
    let mut rest = value;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos..];
        if let Some(tail) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${") {
            match tail.find('}') {
                Some(end) => {
                    let name = &tail[..end];
                    let valid = !name.is_empty()
                        && !name.starts_with(|c: char| c.is_ascii_digit())
                        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if !valid {
                        errors.push(InterpolationError::Malformed(format!("${{{name}}}")));
                    } else if let Some(v) = env(name) {
                        out.push_str(&v);
                    } else {
                        errors.push(InterpolationError::Unset(name.to_owned()));
                    }
                    rest = &tail[end + 1..];
                }
                None => {
                    errors.push(InterpolationError::Malformed(after.to_owned()));
                    rest = "";
                }
            }
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "SUB").then(|| "1234".to_owned())
    }

    #[test]
    fn variables_are_replaced() {
        assert_eq!(interpolate("${SUB}", &env), Ok("1234".into()));
        assert_eq!(interpolate("a-${SUB}-b", &env), Ok("a-1234-b".into()));
        assert_eq!(interpolate("cost $5", &env), Ok("cost $5".into()));
        assert_eq!(interpolate("$${SUB}", &env), Ok("${SUB}".into()));
    }

    #[test]
    fn unset_and_malformed_variables_are_errors() {
        assert_eq!(interpolate("${NOPE}", &env), Err(vec![InterpolationError::Unset("NOPE".into())]));
        assert_eq!(interpolate("${1X}", &env), Err(vec![InterpolationError::Malformed("${1X}".into())]));
        assert_eq!(interpolate("${SUB", &env), Err(vec![InterpolationError::Malformed("${SUB".into())]));
    }
}
