//! The rule language: a fault rule's text form parsed into a [`FaultRule`] (see the module
//! documentation of [`crate::faults`] for the syntax).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use axum::http::Method;

use super::glob::PathPattern;

/// The longest latency a rule may add, so a typo cannot hang a client for hours.
pub(super) const MAX_LATENCY: Duration = Duration::from_secs(600);

/// The longest `Retry-After` a rule may send, in seconds.
const MAX_RETRY_AFTER_SECONDS: u64 = 3600;

/// The syntax, shown under every parse error.
const SYNTAX_HINT: &str = "a fault is `METHOD PATH [403|429|500|502|503|504|drop|drop-answer|hang|throttle|lro-failed] [latency=200ms] [times=N] [p=0.5] [retry-after=N] [code=X] [message=\"...\"] [body=html]`, e.g. `PUT /subscriptions/*/resourcegroups/* 500 times=1`";

/// A fault rule that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid fault `{rule}`: {message}\nhint: {SYNTAX_HINT}")]
pub struct FaultSyntaxError {
    /// The whole rule as given.
    pub rule: String,
    /// What is wrong, naming the bad part.
    pub message: String,
}

/// What a rule does when it fires.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Action {
    /// Only waits (the rule's latency).
    LatencyOnly,
    /// Answers with a status in the API's error shape, or as an HTML page when `html`.
    Status { status: u16, retry_after: Option<u64>, code: Option<String>, message: Option<String>, html: bool },
    /// Closes the connection without answering.
    Drop,
    /// Never answers: holds the request until the client gives up (or [`MAX_LATENCY`] passes,
    /// then closes the connection).
    Hang,
    /// Handles the request, then closes the connection instead of sending the answer.
    DropAnswer,
    /// Takes a token from the subscription's bucket; answers 429 when it is empty.
    Throttle(BucketSizes),
    /// Makes the long-running operation the request starts end `Failed`.
    LroFailed { code: Option<String>, message: Option<String> },
}

/// The sizes and refill rates (tokens per second) of the three buckets of a `throttle` rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct BucketSizes {
    /// Reads: (capacity, tokens per second).
    pub reads: (f64, f64),
    /// Writes: (capacity, tokens per second).
    pub writes: (f64, f64),
    /// Deletes: (capacity, tokens per second).
    pub deletes: (f64, f64),
}

impl Default for BucketSizes {
    fn default() -> Self {
        Self { reads: (250.0, 25.0), writes: (200.0, 10.0), deletes: (200.0, 10.0) }
    }
}

/// One fault rule, parsed from its text form (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    /// The rule as written (words joined by one space).
    pub(super) text: String,
    /// The methods it applies to; `None` for any.
    pub(super) methods: Option<Vec<Method>>,
    /// The paths it applies to.
    pub(super) path: PathPattern,
    /// What it does when it fires.
    pub(super) action: Action,
    /// How long it waits before the answer.
    pub(super) latency: Duration,
    /// How many times it fires; `None` for always.
    pub(super) times: Option<u64>,
    /// The probability it fires with; `None` for always.
    pub(super) probability: Option<f64>,
}

impl fmt::Display for FaultRule {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.text)
    }
}

impl FromStr for FaultRule {
    type Err = FaultSyntaxError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_rule(text)
    }
}

/// Splits a rule into words on whitespace, keeping quoted runs (`"..."` or `'...'`) together.
fn words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for character in text.chars() {
        match quote {
            Some(open) if character == open => quote = None,
            Some(_) => current.push(character),
            None if character == '"' || character == '\'' => {
                quote = Some(character);
                in_word = true;
            }
            None if character.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            None => {
                current.push(character);
                in_word = true;
            }
        }
    }
    if let Some(open) = quote {
        return Err(format!("a quote `{open}` is never closed"));
    }
    if in_word {
        words.push(current);
    }
    Ok(words)
}

fn parse_rule(text: &str) -> Result<FaultRule, FaultSyntaxError> {
    let error = |message: String| FaultSyntaxError { rule: text.trim().to_owned(), message };
    let words = words(text).map_err(error)?;
    let [method, path, rest @ ..] = words.as_slice() else {
        return Err(error("it needs at least a method (or `*`) and a path (or `*`)".to_owned()));
    };
    let methods = parse_methods(method).map_err(error)?;
    let path = PathPattern::parse(path).map_err(error)?;

    let mut action: Option<Action> = None;
    let mut options: Vec<(&str, &str)> = Vec::new();
    for word in rest {
        if let Some((name, value)) = word.split_once('=') {
            if options.iter().any(|(seen, _)| *seen == name) {
                return Err(error(format!("`{name}` is given twice")));
            }
            options.push((name, value));
            continue;
        }
        let parsed = match word.to_ascii_lowercase().as_str() {
            "403" | "429" | "500" | "502" | "503" | "504" => Action::Status {
                status: word.parse().unwrap_or(500),
                retry_after: None,
                code: None,
                message: None,
                html: false,
            },
            "drop" => Action::Drop,
            "hang" => Action::Hang,
            "drop-answer" => Action::DropAnswer,
            "throttle" => Action::Throttle(BucketSizes::default()),
            "lro-failed" => Action::LroFailed { code: None, message: None },
            _ => {
                return Err(error(format!(
                    "`{word}` is not an action (403, 429, 500, 502, 503, 504, drop, drop-answer, hang, throttle, lro-failed) nor an option (name=value)"
                )));
            }
        };
        if action.is_some() {
            return Err(error(format!("`{word}` is a second action; a rule has at most one")));
        }
        action = Some(parsed);
    }

    let mut rule = FaultRule {
        text: words.join(" "),
        methods,
        path,
        action: action.unwrap_or(Action::LatencyOnly),
        latency: Duration::ZERO,
        times: None,
        probability: None,
    };
    for (name, value) in options {
        apply_option(&mut rule, name, value).map_err(error)?;
    }
    if rule.action == Action::LatencyOnly && rule.latency.is_zero() {
        return Err(error(
            "it has no action: give one of 403, 429, 500, 502, 503, 504, drop, drop-answer, hang, throttle, lro-failed, or a latency="
                .to_owned(),
        ));
    }
    Ok(rule)
}

fn parse_methods(text: &str) -> Result<Option<Vec<Method>>, String> {
    if text == "*" {
        return Ok(None);
    }
    let known = ["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE", "OPTIONS"];
    text.split(',')
        .map(|method| {
            let upper = method.to_ascii_uppercase();
            if !known.contains(&upper.as_str()) {
                return Err(format!("`{method}` is not a method (use `*` or some of {})", known.join(", ")));
            }
            Method::from_bytes(upper.as_bytes()).map_err(|_| format!("`{method}` is not a method"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn apply_option(rule: &mut FaultRule, name: &str, value: &str) -> Result<(), String> {
    let bad = |what: &str| format!("`{name}={value}`: {what}");
    match (name, &mut rule.action) {
        ("latency", _) => {
            rule.latency = parse_duration(value).ok_or_else(|| bad("expected a duration such as 200ms or 2s"))?;
            if rule.latency > MAX_LATENCY {
                return Err(bad("the longest latency is 600s"));
            }
        }
        ("times", Action::Throttle(_)) | ("p", Action::Throttle(_)) => {
            return Err(bad("a throttle rule always applies; it takes no times= or p="));
        }
        ("times", _) => {
            let times = value.parse::<u64>().ok().filter(|times| *times > 0);
            rule.times = Some(times.ok_or_else(|| bad("expected a whole number of at least 1"))?);
        }
        ("p", _) => {
            let probability = value.parse::<f64>().ok().filter(|p| *p > 0.0 && *p <= 1.0);
            rule.probability =
                Some(probability.ok_or_else(|| bad("expected a probability above 0 and at most 1, such as 0.2"))?);
        }
        ("retry-after", Action::Status { retry_after, .. }) => {
            let seconds = value.strip_suffix('s').unwrap_or(value).parse::<u64>().ok();
            let seconds = seconds.filter(|seconds| *seconds <= MAX_RETRY_AFTER_SECONDS);
            *retry_after = Some(seconds.ok_or_else(|| bad("expected whole seconds, at most 3600"))?);
        }
        ("code", Action::Status { code, .. }) | ("code", Action::LroFailed { code, .. }) => {
            let valid = !value.is_empty() && value.len() <= 100 && value.bytes().all(|b| b.is_ascii_alphanumeric());
            if !valid {
                return Err(bad("an error code is 1 to 100 letters and digits"));
            }
            *code = Some(value.to_owned());
        }
        ("body", Action::Status { html, .. }) => {
            if value != "html" {
                return Err(bad("the only body a status action can be given is `html`"));
            }
            *html = true;
        }
        ("message", Action::Status { message, .. }) | ("message", Action::LroFailed { message, .. }) => {
            if value.is_empty() {
                return Err(bad("the message is empty"));
            }
            *message = Some(value.to_owned());
        }
        (bucket, Action::Throttle(sizes)) => {
            let slot = match bucket {
                "reads" => &mut sizes.reads.0,
                "read-rate" => &mut sizes.reads.1,
                "writes" => &mut sizes.writes.0,
                "write-rate" => &mut sizes.writes.1,
                "deletes" => &mut sizes.deletes.0,
                "delete-rate" => &mut sizes.deletes.1,
                _ => {
                    return Err(bad(
                        "a throttle rule takes latency=, reads=, read-rate=, writes=, write-rate=, deletes=, delete-rate=",
                    ));
                }
            };
            let number = value.parse::<f64>().ok().filter(|number| number.is_finite() && *number > 0.0);
            let number = number.filter(|number| *number <= 1_000_000.0);
            *slot = number.ok_or_else(|| bad("expected a positive number"))?;
        }
        ("retry-after" | "code" | "message" | "body", _) => {
            return Err(bad("this option needs a status action (403, 429, 500, 502, 503, 504) or lro-failed"));
        }
        _ => {
            return Err(bad(
                "unknown option (latency, times, p, retry-after, code, message, body, or a throttle's reads/writes/deletes and their -rate)",
            ));
        }
    }
    Ok(())
}

/// Parses `200ms`, `2s` or `1.5s`.
fn parse_duration(text: &str) -> Option<Duration> {
    let (number, scale) = match text.strip_suffix("ms") {
        Some(number) => (number, 0.001),
        None => (text.strip_suffix('s')?, 1.0),
    };
    let value = number.parse::<f64>().ok().filter(|value| value.is_finite() && *value >= 0.0)?;
    Duration::try_from_secs_f64(value * scale).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(text: &str) -> FaultRule {
        match text.parse() {
            Ok(rule) => rule,
            Err(error) => panic!("{error}"),
        }
    }

    fn error(text: &str) -> String {
        match text.parse::<FaultRule>() {
            Ok(rule) => panic!("`{text}` parsed as {rule:?}"),
            Err(error) => error.message,
        }
    }

    #[test]
    fn parses_hang_and_html_bodies() {
        assert_eq!(rule("POST /*/oauth2/v2.0/token hang").action, Action::Hang);
        assert!(matches!(rule("POST * 502 body=html").action, Action::Status { status: 502, html: true, .. }));
        assert!(error("POST * 502 body=xml").contains("only body"));
        assert!(error("POST * drop body=html").contains("needs a status action"));
    }

    #[test]
    fn parses_the_documented_examples() {
        let parsed = rule("PUT /subscriptions/*/resourcegroups/* 500 times=1");
        assert_eq!(parsed.methods, Some(vec![Method::PUT]));
        assert_eq!(parsed.times, Some(1));
        assert!(matches!(parsed.action, Action::Status { status: 500, .. }));
        // A permission withdrawn between a plan and its apply: ARM's 403, with its message.
        let parsed = rule("PUT /subscriptions/** 403 code=AuthorizationFailed message=\"The client 'x' ...\"");
        assert!(matches!(parsed.action, Action::Status { status: 403, code: Some(_), message: Some(_), .. }));
        let parsed = rule("* * 429 p=0.2 retry-after=3");
        assert_eq!(parsed.probability, Some(0.2));
        assert!(matches!(parsed.action, Action::Status { status: 429, retry_after: Some(3), .. }));
        let parsed = rule("GET * latency=200ms");
        assert_eq!((parsed.action, parsed.latency), (Action::LatencyOnly, Duration::from_millis(200)));
        let parsed = rule("put,patch ** lro-failed code=QuotaExceeded message=\"no quota left\"");
        assert_eq!(
            parsed.action,
            Action::LroFailed { code: Some("QuotaExceeded".to_owned()), message: Some("no quota left".to_owned()) }
        );
        let parsed = rule("* * throttle writes=3 write-rate=0.5");
        let Action::Throttle(sizes) = parsed.action else { panic!("not a throttle") };
        assert_eq!((sizes.writes, sizes.reads), ((3.0, 0.5), (250.0, 25.0)));
    }

    #[test]
    fn names_the_bad_part() {
        assert!(error("GET").contains("at least a method"));
        assert!(error("FETCH * 500").contains("`FETCH` is not a method"));
        assert!(error("GET subscriptions 500").contains("must start with `/`"));
        assert!(error("GET * 418").contains("`418` is not an action"));
        assert!(error("GET * 500 drop").contains("`drop` is a second action"));
        assert!(error("GET * 500 p=2").contains("`p=2`"));
        assert!(error("GET * 500 times=0").contains("`times=0`"));
        assert!(error("GET * latency=fast").contains("`latency=fast`"));
        assert!(error("GET * drop retry-after=2").contains("needs a status action"));
        assert!(error("GET * throttle times=2").contains("takes no times="));
        assert!(error("GET * 500 colour=red").contains("unknown option"));
        assert!(error("GET *").contains("no action"));
        assert!(error("GET * 500 message=\"open").contains("never closed"));
        assert!(error("GET * 500 times=1 times=2").contains("given twice"));
        let full = "GET * 418".parse::<FaultRule>().err().map(|error| error.to_string()).unwrap_or_default();
        assert!(full.starts_with("invalid fault `GET * 418`: "), "{full}");
        assert!(full.contains("\nhint: "), "{full}");
    }
}
