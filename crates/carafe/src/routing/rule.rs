//! Rules: Werkzeug's rule syntax (`/items/<int:id>`) parsed into path segments.
//!
//! A rule starts with `/` and is split on `/` into segments. A segment is either static
//! text, matched exactly, or one placeholder, `<name>` or `<converter:name>`, filling the
//! whole segment. The converters are those of [`converter`](super::converter); `path`
//! may only be the last segment. A trailing slash is a segment of its own (an empty static
//! one), so `/about` and `/about/` are different rules.
//!
//! Converters take Werkzeug's arguments: `any(a, b, ...)` its choices,
//! `int(min=1, max=10, fixed_digits=4, signed=True)`, `float(min, max, signed)` and
//! `string(minlength, maxlength, length)`; bad ones are a [`RuleError`] naming the
//! problem. Werkzeug also allows text around a placeholder (`/page-<int:n>`); carafe
//! rejects it, with a message saying so, rather than match it differently.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use super::converter::{self, Converter};

/// A parsed rule.
#[derive(Debug)]
pub(crate) struct Rule {
    /// The rule as the user wrote it.
    text: Box<str>,
    /// Its segments, in order.
    segments: Vec<Segment>,
}

/// One `/`-separated part of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// Text matched exactly (after percent-decoding the request's segment).
    Static(Box<str>),
    /// A placeholder.
    Param(Param),
}

/// A placeholder of a rule: `<converter:name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Param {
    /// The name the value is known by, interned (see [`intern`]).
    pub(crate) name: &'static str,
    /// What the placeholder accepts.
    pub(crate) converter: Converter,
}

/// Why a rule is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RuleError {
    /// The rule does not start with `/`.
    NoLeadingSlash,
    /// A `<` without its `>`.
    Unclosed(String),
    /// A placeholder shares its segment with other text or another placeholder.
    Mixed(String),
    /// A placeholder's name is not an identifier.
    BadName(String),
    /// A converter that does not exist.
    UnknownConverter(String),
    /// A converter with arguments it does not take, such as `int(signed=yes)`.
    BadArguments {
        /// The converter as written, arguments included.
        converter: String,
        /// What is wrong with them.
        reason: String,
    },
    /// An `any(...)` whose choices are not plain words.
    BadAny(String),
    /// Two placeholders with one name.
    DuplicateName(&'static str),
    /// A `path` placeholder before the last segment.
    PathNotLast(&'static str),
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleError::NoLeadingSlash => f.write_str("a rule must start with a slash"),
            RuleError::Unclosed(segment) => write!(f, "`<` without a closing `>` in `{segment}`"),
            RuleError::Mixed(segment) => write!(
                f,
                "a placeholder must fill a whole path segment, but `{segment}` has other text \
                 around it; text around placeholders is not supported"
            ),
            RuleError::BadName(name) => write!(
                f,
                "`{name}` is not a valid placeholder name: use letters, digits and `_`, \
                 not starting with a digit"
            ),
            RuleError::UnknownConverter(name) => write!(
                f,
                "unknown converter `{name}`; the converters are {}",
                Converter::NAMES
            ),
            RuleError::BadArguments { converter, reason } => write!(
                f,
                "bad converter arguments in `{converter}`: {reason} (Werkzeug's syntax: \
                 `int(min=1, max=10)`, `int(4)`, `float(signed=True)`, `string(length=2)`)"
            ),
            RuleError::BadAny(converter) => write!(
                f,
                "`{converter}` needs a comma-separated list of non-empty choices made of \
                 letters, digits, `-`, `.`, `_` and `~`, such as `any(about, help)`"
            ),
            RuleError::DuplicateName(name) => write!(f, "the placeholder `{name}` appears twice"),
            RuleError::PathNotLast(name) => write!(
                f,
                "the `path` placeholder `{name}` must be the last segment of the rule"
            ),
        }
    }
}

impl Rule {
    /// Parses `text`.
    pub(crate) fn parse(text: &str) -> Result<Rule, RuleError> {
        let rest = text.strip_prefix('/').ok_or(RuleError::NoLeadingSlash)?;
        let mut segments = Vec::new();
        for raw in rest.split('/') {
            if let Some(Segment::Param(last)) = segments.last() {
                if last.converter == Converter::Path {
                    return Err(RuleError::PathNotLast(last.name));
                }
            }
            let segment = parse_segment(raw)?;
            if let Segment::Param(param) = &segment {
                check_unique(param, &segments)?;
            }
            segments.push(segment);
        }
        Ok(Rule {
            text: text.into(),
            segments,
        })
    }

    /// The rule as written.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// The segments, in order.
    pub(crate) fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The placeholders, in order.
    pub(crate) fn params(&self) -> impl Iterator<Item = Param> + '_ {
        self.segments.iter().filter_map(|segment| match segment {
            Segment::Param(param) => Some(*param),
            Segment::Static(_) => None,
        })
    }
}

/// Checks that a new placeholder's name is not taken by an earlier one.
fn check_unique(param: &Param, before: &[Segment]) -> Result<(), RuleError> {
    let taken = before
        .iter()
        .any(|earlier| matches!(earlier, Segment::Param(earlier) if earlier.name == param.name));
    if taken {
        return Err(RuleError::DuplicateName(param.name));
    }
    Ok(())
}

fn parse_segment(raw: &str) -> Result<Segment, RuleError> {
    let opens = raw.matches('<').count();
    let closes = raw.matches('>').count();
    if opens == 0 && closes == 0 {
        return Ok(Segment::Static(raw.into()));
    }
    if opens > closes {
        return Err(RuleError::Unclosed(raw.to_owned()));
    }
    let inner = raw
        .strip_prefix('<')
        .and_then(|rest| rest.strip_suffix('>'));
    let inner = match inner {
        Some(inner) if opens == 1 && closes == 1 => inner,
        _ => return Err(RuleError::Mixed(raw.to_owned())),
    };
    let (converter, name) = match inner.rfind(':') {
        Some(colon) => (&inner[..colon], &inner[colon + 1..]),
        None => ("string", inner),
    };
    let converter = parse_converter(converter)?;
    if !is_identifier(name) {
        return Err(RuleError::BadName(name.to_owned()));
    }
    Ok(Segment::Param(Param {
        name: intern(name),
        converter,
    }))
}

/// Parses a converter: a name, or `any(a, b, ...)` with its choices.
fn parse_converter(text: &str) -> Result<Converter, RuleError> {
    let Some((name, arguments)) = text.split_once('(') else {
        return Converter::from_name(text)
            .ok_or_else(|| RuleError::UnknownConverter(text.to_owned()));
    };
    let arguments = arguments.strip_suffix(')');
    let bad = |reason: String| RuleError::BadArguments {
        converter: text.to_owned(),
        reason,
    };
    match (name.trim(), arguments) {
        ("any", Some(arguments)) => parse_any(arguments)
            .map(Converter::Any)
            .ok_or_else(|| RuleError::BadAny(text.to_owned())),
        (name, Some(arguments)) => {
            converter::parse_arguments(name, arguments).map_err(|error| bad(error.0))
        }
        (_, None) => Err(bad("the closing `)` is missing".to_owned())),
    }
}

/// The choices of `any(a, b, "c")`, interned; `None` if one is empty or needs encoding.
fn parse_any(arguments: &str) -> Option<&'static [&'static str]> {
    let mut choices = Vec::new();
    for choice in arguments.split(',') {
        let choice = choice.trim();
        let choice = choice
            .strip_prefix('"')
            .and_then(|c| c.strip_suffix('"'))
            .or_else(|| choice.strip_prefix('\'').and_then(|c| c.strip_suffix('\'')))
            .unwrap_or(choice);
        let plain = choice
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if choice.is_empty() || !plain {
            return None;
        }
        choices.push(intern(choice));
    }
    Some(Box::leak(choices.into_boxed_slice()))
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Returns a `&'static str` equal to `name`, leaking each distinct name once.
///
/// Parameter names come from the program's own rules, so the set is small and bounded by
/// its source. A `'static` name lets every request carry its parameters' names without
/// reference counting or copying.
fn intern(name: &str) -> &'static str {
    static NAMES: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
    // The set stays consistent even if a panic poisoned the lock: inserts are atomic.
    let mut names = NAMES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(known) = names.get(name) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.into());
    names.insert(leaked);
    leaked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(name: &'static str, converter: Converter) -> Segment {
        Segment::Param(Param { name, converter })
    }

    fn text(text: &str) -> Segment {
        Segment::Static(text.into())
    }

    #[test]
    fn valid_rules_parse_into_segments() {
        let cases: Vec<(&str, Vec<Segment>)> = vec![
            ("/", vec![text("")]),
            ("/about", vec![text("about")]),
            ("/about/", vec![text("about"), text("")]),
            (
                "/items/<int:id>",
                vec![text("items"), param("id", Converter::INT)],
            ),
            ("/<name>", vec![param("name", Converter::STRING)]),
            (
                "/<string:name>/x",
                vec![param("name", Converter::STRING), text("x")],
            ),
            ("/<float:x>", vec![param("x", Converter::FLOAT)]),
            ("/<uuid:u>", vec![param("u", Converter::Uuid)]),
            (
                "/<any(about, \"help\", a-b):page>",
                vec![param("page", Converter::Any(&["about", "help", "a-b"]))],
            ),
            (
                "/files/<path:p>",
                vec![text("files"), param("p", Converter::Path)],
            ),
            (
                "/<int(min=1, max=10):n>",
                vec![param(
                    "n",
                    Converter::Int(converter::IntArgs {
                        min: Some(1),
                        max: Some(10),
                        ..converter::IntArgs::default()
                    }),
                )],
            ),
            (
                "/<a>/<_b2>",
                vec![
                    param("a", Converter::STRING),
                    param("_b2", Converter::STRING),
                ],
            ),
        ];
        for (rule, expected) in cases {
            let parsed = Rule::parse(rule).unwrap_or_else(|error| panic!("{rule}: {error}"));
            assert_eq!(parsed.segments(), expected.as_slice(), "{rule}");
            assert_eq!(parsed.as_str(), rule);
        }
    }

    #[test]
    fn invalid_rules_are_rejected_with_the_reason() {
        let cases: Vec<(&str, RuleError)> = vec![
            ("about", RuleError::NoLeadingSlash),
            ("", RuleError::NoLeadingSlash),
            ("/<id", RuleError::Unclosed("<id".into())),
            ("/page-<int:n>", RuleError::Mixed("page-<int:n>".into())),
            ("/<a><b>", RuleError::Mixed("<a><b>".into())),
            ("/a>", RuleError::Mixed("a>".into())),
            ("/<>", RuleError::BadName(String::new())),
            ("/<int:1st>", RuleError::BadName("1st".into())),
            ("/<int:a-b>", RuleError::BadName("a-b".into())),
            ("/<any:x>", RuleError::UnknownConverter("any".into())),
            (
                "/<int(signed=yes):x>",
                RuleError::BadArguments {
                    converter: "int(signed=yes)".into(),
                    reason: "`yes` is not a value: write an integer, a number, True, False or \
                             None"
                        .into(),
                },
            ),
            ("/<a>/<int:a>", RuleError::DuplicateName("a")),
            ("/<any(a,,b):x>", RuleError::BadAny("any(a,,b)".into())),
            ("/<any():x>", RuleError::BadAny("any()".into())),
            ("/<path:p>/edit", RuleError::PathNotLast("p")),
            ("/<path:p>/", RuleError::PathNotLast("p")),
        ];
        for (rule, expected) in cases {
            assert_eq!(Rule::parse(rule).err(), Some(expected), "{rule}");
        }
    }

    #[test]
    fn error_messages_name_the_fix() {
        let message = RuleError::UnknownConverter("any".into()).to_string();
        assert!(
            message.contains("string, int, float, path, uuid"),
            "{message}"
        );
        let message = RuleError::Mixed("page-<int:n>".into()).to_string();
        assert!(message.contains("whole path segment"), "{message}");
    }

    #[test]
    fn interned_names_are_shared() {
        assert!(std::ptr::eq(intern("shared_name"), intern("shared_name")));
    }
}
