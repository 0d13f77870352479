//! URL building: Werkzeug's `MapAdapter.build`, behind [`url_for`](crate::url_for).
//!
//! An endpoint may have several rules. As Werkzeug does, the rules with more placeholders
//! are tried first (then in registration order), and the first whose placeholders all
//! have a value that its converter accepts is used. Values are percent-encoded for their
//! place: a `string` or `any` value has its `/` encoded, a `path` value keeps it.
//! Parameters that fill no placeholder become the query string, in the order given.

use std::cmp::Reverse;

use http::Method;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::converter::Converter;
use super::rule::{Rule, Segment};
use super::Router;
use crate::url::UrlError;

/// What a path segment may hold unencoded: RFC 3986 `pchar` (unreserved, sub-delims,
/// `:` and `@`).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@');

/// What a `path` value may hold unencoded: segments and the slashes between them.
const PATH: &AsciiSet = &SEGMENT.remove(b'/');

/// Why one rule could not be built from the parameters.
enum Problem {
    /// Placeholders without a value.
    Missing(Vec<&'static str>),
    /// A value the placeholder's converter refuses.
    Refused {
        name: &'static str,
        value: String,
        converter: Converter,
    },
}

impl Router {
    /// Builds the path and query string of `endpoint` from `params`; with `method`, only
    /// from rules that answer it.
    pub(crate) fn build(
        &self,
        endpoint: &str,
        params: &[(String, String)],
        method: Option<&Method>,
    ) -> Result<String, UrlError> {
        let entry = self
            .endpoints
            .get(endpoint)
            .ok_or_else(|| UrlError::UnknownEndpoint(endpoint.to_owned()))?;
        let mut candidates: Vec<&Rule> = entry
            .routes
            .iter()
            .map(|&index| &self.routes[index])
            .filter(|route| method.is_none_or(|method| route.methods.handler(method).is_some()))
            .map(|route| &route.rule)
            .collect();
        if candidates.is_empty() {
            let method = method.map(ToString::to_string).unwrap_or_default();
            return Err(UrlError::MethodNotRouted {
                endpoint: endpoint.to_owned(),
                method,
            });
        }
        candidates.sort_by_key(|rule| Reverse(rule.params().count()));
        let mut first_problem = None;
        for rule in candidates {
            match build_rule(rule, params) {
                Ok(url) => return Ok(url),
                Err(problem) => {
                    first_problem.get_or_insert((rule.as_str(), problem));
                }
            }
        }
        // `candidates` was not empty, so a problem was recorded.
        let (rule, problem) =
            first_problem.ok_or_else(|| UrlError::UnknownEndpoint(endpoint.to_owned()))?;
        Err(problem_to_error(endpoint, rule, problem))
    }
}

fn problem_to_error(endpoint: &str, rule: &str, problem: Problem) -> UrlError {
    match problem {
        Problem::Missing(names) => UrlError::MissingParams {
            endpoint: endpoint.to_owned(),
            rule: rule.to_owned(),
            missing: names.into_iter().map(str::to_owned).collect(),
        },
        Problem::Refused {
            name,
            value,
            converter,
        } => UrlError::BadValue {
            endpoint: endpoint.to_owned(),
            rule: rule.to_owned(),
            name: name.to_owned(),
            value,
            converter: converter.name().to_owned(),
        },
    }
}

/// Fills `rule`'s placeholders from `params`, adding the rest as the query string.
fn build_rule(rule: &Rule, params: &[(String, String)]) -> Result<String, Problem> {
    let mut used = vec![false; params.len()];
    let mut missing = Vec::new();
    let mut url = String::new();
    for segment in rule.segments() {
        url.push('/');
        match segment {
            Segment::Static(text) => url.extend(utf8_percent_encode(text, SEGMENT)),
            Segment::Param(param) => {
                let Some(at) = params.iter().position(|(name, _)| name == param.name) else {
                    missing.push(param.name);
                    continue;
                };
                used[at] = true;
                let encoded = encode_value(param.converter, &params[at].1);
                if !param.converter.matches(&encoded) {
                    let value = params[at].1.clone();
                    return Err(Problem::Refused {
                        name: param.name,
                        value,
                        converter: param.converter,
                    });
                }
                url.push_str(&encoded);
            }
        }
    }
    if !missing.is_empty() {
        return Err(Problem::Missing(missing));
    }
    let rest: Vec<(&str, &str)> = params
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|((name, value), _)| (name.as_str(), value.as_str()))
        .collect();
    if !rest.is_empty() {
        url.push('?');
        url.push_str(&serde_urlencoded::to_string(rest).unwrap_or_default());
    }
    Ok(url)
}

/// A value encoded for a placeholder of `converter`.
fn encode_value(converter: Converter, value: &str) -> String {
    match converter {
        Converter::Path => utf8_percent_encode(value, PATH).to_string(),
        // Rust prints `1.0_f64` as `1`; Werkzeug's float converter needs the dot.
        Converter::Float(_) if is_integer(value) => format!("{value}.0"),
        // Werkzeug pads to `fixed_digits` (`int(4)` builds `0042` from 42).
        Converter::Int(args) if args.fixed_digits > value.len() && is_integer(value) => {
            let (sign, digits) = match value.strip_prefix('-') {
                Some(digits) => ("-", digits),
                None => ("", value),
            };
            let width = args.fixed_digits - sign.len();
            format!("{sign}{digits:0>width$}")
        }
        _ => utf8_percent_encode(value, SEGMENT).to_string(),
    }
}

/// Whether `value` is an integer's text: digits, after an optional `-`.
fn is_integer(value: &str) -> bool {
    let digits = value.strip_prefix('-').unwrap_or(value);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::get;

    async fn user() {}
    async fn files() {}
    async fn page() {}

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    fn router() -> Router {
        let mut router = Router::new();
        router
            .route("/users/<name>", get(user))
            .route("/files/<path:file>", get(files))
            .route("/pages/", get(page))
            .route("/pages/<int:number>", get(page))
            .route("/price/<float:x>", get(|| async {}).name("price"))
            .route("/<any(about, help):what>", get(|| async {}).name("info"));
        router
    }

    #[test]
    fn placeholders_are_filled_and_encoded_for_their_converter() {
        let router = router();
        let cases = [
            ("user", vec![("name", "ann")], "/users/ann"),
            ("user", vec![("name", "a/b c")], "/users/a%2Fb%20c"),
            ("user", vec![("name", "Jörg")], "/users/J%C3%B6rg"),
            ("files", vec![("file", "a/b c.txt")], "/files/a/b%20c.txt"),
            ("page", vec![], "/pages/"),
            ("page", vec![("number", "2")], "/pages/2"),
            (
                "page",
                vec![("number", "2"), ("q", "a b&c")],
                "/pages/2?q=a+b%26c",
            ),
            ("price", vec![("x", "1")], "/price/1.0"),
            ("price", vec![("x", "2.5")], "/price/2.5"),
            ("info", vec![("what", "help")], "/help"),
        ];
        for (endpoint, params, expected) in cases {
            let built = router.build(endpoint, &pairs(&params), None);
            assert_eq!(
                built.as_deref().ok(),
                Some(expected),
                "{endpoint} {params:?}"
            );
        }
    }

    #[test]
    fn what_cannot_be_built_is_an_error_naming_the_fix() {
        let router = router();
        let error = router
            .build("user", &[], None)
            .err()
            .map(|error| error.to_string());
        assert!(
            error
                .as_deref()
                .is_some_and(|error| error.contains("`name`")),
            "{error:?}"
        );
        let error = router.build("user", &pairs(&[("name", "")]), None);
        assert!(matches!(error, Err(UrlError::BadValue { .. })), "{error:?}");
        // A rule that refuses the value falls back to one without the placeholder.
        let built = router.build("page", &pairs(&[("number", "-1")]), None);
        assert_eq!(built.ok().as_deref(), Some("/pages/?number=-1"));
        let error = router.build("info", &pairs(&[("what", "other")]), None);
        assert!(matches!(error, Err(UrlError::BadValue { .. })), "{error:?}");
        let error = router.build("nope", &[], None);
        assert!(
            matches!(error, Err(UrlError::UnknownEndpoint(_))),
            "{error:?}"
        );
        let error = router.build("user", &pairs(&[("name", "a")]), Some(&Method::POST));
        assert!(
            matches!(error, Err(UrlError::MethodNotRouted { .. })),
            "{error:?}"
        );
    }
}
