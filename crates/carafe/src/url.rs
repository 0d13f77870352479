//! `url_for`: building URLs from endpoint names, Flask's `url_for`.
//!
//! [`url_for`] works anywhere in a handler's call tree (and in templates, through the
//! request scope); [`App::url_for`](crate::App::url_for) works without a request, and
//! [`RequestParts::url_for`](crate::RequestParts::url_for) in extractors. The rules are
//! in `routing/build.rs`; this module resolves endpoint names (`.index` is relative to
//! the current request's blueprint) and the special parameters:
//!
//! | parameter | effect |
//! |---|---|
//! | `_anchor` | appended as `#anchor` |
//! | `_external` | `true`: an absolute URL, `scheme://host/path` |
//! | `_scheme` | the scheme of an external URL (default: the request's, `https` over TLS; outside a request `PREFERRED_URL_SCHEME` or `http`) |
//! | `_method` | only rules that answer this method |
//!
//! An external URL's host is `SERVER_NAME` from [`Config::extra`](crate::Config), or the
//! request's `Host` header when built with [`RequestParts::url_for`](crate::RequestParts::url_for).

use std::fmt;

use http::Method;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

use crate::state::AppShared;

/// What a fragment may not hold unencoded (the WHATWG URL fragment set).
const FRAGMENT: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'<').add(b'>').add(b'`');

/// Why a URL could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlError {
    /// No route has this endpoint.
    UnknownEndpoint(String),
    /// The endpoint's rules need placeholders that were not given.
    MissingParams {
        /// The endpoint.
        endpoint: String,
        /// The rule tried.
        rule: String,
        /// The placeholders without a value.
        missing: Vec<String>,
    },
    /// A value that the placeholder's converter refuses (`abc` for `<int:id>`).
    BadValue {
        /// The endpoint.
        endpoint: String,
        /// The rule tried.
        rule: String,
        /// The placeholder.
        name: String,
        /// The value given.
        value: String,
        /// The placeholder's converter.
        converter: String,
    },
    /// No rule of the endpoint answers the `_method` asked for.
    MethodNotRouted {
        /// The endpoint.
        endpoint: String,
        /// The method.
        method: String,
    },
    /// [`url_for`] was called outside a request handled by an app.
    OutsideRequest,
    /// An `_external` URL was asked for, but the host is unknown.
    NoServerName,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::UnknownEndpoint(endpoint) => write!(
                f,
                "no route has the endpoint `{endpoint}`: endpoints are handler function names \
                 (or `.name(\"...\")`), prefixed with the blueprint's name (`admin.index`)"
            ),
            UrlError::MissingParams {
                endpoint,
                rule,
                missing,
            } => write!(
                f,
                "cannot build `{endpoint}` (rule `{rule}`): no value for `{}`",
                missing.join("`, `")
            ),
            UrlError::BadValue {
                endpoint,
                rule,
                name,
                value,
                converter,
            } => write!(
                f,
                "cannot build `{endpoint}` (rule `{rule}`): `{value}` is not a valid \
                 `{converter}` value for `{name}`"
            ),
            UrlError::MethodNotRouted { endpoint, method } => {
                write!(f, "no rule of the endpoint `{endpoint}` answers {method}")
            }
            UrlError::OutsideRequest => f.write_str(
                "url_for was called outside a request; use App::url_for, or call it from a \
                 handler's task",
            ),
            UrlError::NoServerName => f.write_str(
                "an external URL needs a host: set SERVER_NAME in the config's `extra`, or \
                 build it with RequestParts::url_for",
            ),
        }
    }
}

impl std::error::Error for UrlError {}

/// The parameters of [`url_for`]: name and value pairs, or a JSON object.
///
/// Implemented for `()`, arrays, slices and vectors of `(name, value)` pairs whose value
/// implements [`Display`](fmt::Display), and for JSON objects (`serde_json::json!({..})`;
/// `null` values are left out, strings are used without their quotes).
///
/// ```
/// use carafe::UrlParams;
///
/// let pairs = [("id", 7)].into_pairs();
/// assert_eq!(pairs, [("id".to_owned(), "7".to_owned())]);
/// let pairs = serde_json::json!({"name": "ann", "page": 2}).into_pairs();
/// assert_eq!(pairs.len(), 2);
/// ```
pub trait UrlParams {
    /// The pairs, in order.
    ///
    /// ```
    /// use carafe::UrlParams;
    /// assert!(().into_pairs().is_empty());
    /// ```
    fn into_pairs(self) -> Vec<(String, String)>;
}

impl UrlParams for () {
    fn into_pairs(self) -> Vec<(String, String)> {
        Vec::new()
    }
}

impl<K: AsRef<str>, V: fmt::Display, const N: usize> UrlParams for [(K, V); N] {
    fn into_pairs(self) -> Vec<(String, String)> {
        self.iter()
            .map(|(name, value)| (name.as_ref().to_owned(), value.to_string()))
            .collect()
    }
}

impl<K: AsRef<str>, V: fmt::Display> UrlParams for &[(K, V)] {
    fn into_pairs(self) -> Vec<(String, String)> {
        self.iter()
            .map(|(name, value)| (name.as_ref().to_owned(), value.to_string()))
            .collect()
    }
}

impl<K: AsRef<str>, V: fmt::Display> UrlParams for Vec<(K, V)> {
    fn into_pairs(self) -> Vec<(String, String)> {
        self.as_slice().into_pairs()
    }
}

impl UrlParams for serde_json::Value {
    fn into_pairs(self) -> Vec<(String, String)> {
        match self {
            serde_json::Value::Object(map) => map.into_pairs(),
            _ => Vec::new(),
        }
    }
}

impl UrlParams for serde_json::Map<String, serde_json::Value> {
    fn into_pairs(self) -> Vec<(String, String)> {
        self.into_iter()
            .filter_map(|(name, value)| {
                let text = match value {
                    serde_json::Value::Null => return None,
                    serde_json::Value::String(text) => text,
                    other => other.to_string(),
                };
                Some((name, text))
            })
            .collect()
    }
}

/// Builds the URL of `endpoint` with `params`, for the app handling the current request
/// (Flask's `url_for`).
///
/// Endpoints are handler function names (`index`), or the names given with
/// [`MethodRouter::name`](crate::MethodRouter::name), prefixed with the blueprint's name
/// (`admin.index`); `.index` means `index` in the current request's blueprint. Values
/// fill the rule's placeholders; the other parameters become the query string. See the
/// table in [`App::url_for`](crate::App::url_for) for `_anchor`, `_external`, `_scheme` and `_method`.
///
/// ```
/// use carafe::{get, url_for, App, Path};
///
/// async fn user(Path(name): Path<String>) -> carafe::Result<String> {
///     let url = url_for("user", [("name", name.as_str()), ("tab", "posts")])?;
///     Ok(url) // "/users/ann?tab=posts" for /users/ann
/// }
///
/// let mut app = App::new();
/// app.route("/users/<name>", get(user));
/// assert_eq!(app.url_for("user", [("name", "ann")]).unwrap(), "/users/ann");
/// // Outside a request, the free function has no app to ask:
/// assert_eq!(url_for("user", [("name", "ann")]), Err(carafe::UrlError::OutsideRequest));
/// ```
pub fn url_for(endpoint: &str, params: impl UrlParams) -> Result<String, UrlError> {
    let pairs = params.into_pairs();
    let scheme = carafe_serve::ConnInfo::current().map(|conn| conn.scheme());
    crate::scope::with_app(|app, route| build(app, route, endpoint, pairs, None, scheme))
        .unwrap_or(Err(UrlError::OutsideRequest))
}

/// Builds a URL for `app`, from a request routed to `route` (for relative endpoints);
/// `host` is the request's `Host` and `request_scheme` the scheme it came with (`https`
/// over TLS), for external URLs.
pub(crate) fn build(
    app: &AppShared,
    route: Option<usize>,
    endpoint: &str,
    mut pairs: Vec<(String, String)>,
    host: Option<&str>,
    request_scheme: Option<&str>,
) -> Result<String, UrlError> {
    let endpoint = resolve(app, route, endpoint);
    let anchor = take(&mut pairs, "_anchor");
    let external =
        take(&mut pairs, "_external").is_some_and(|value| value == "true" || value == "1");
    let scheme = take(&mut pairs, "_scheme");
    let method = take(&mut pairs, "_method").and_then(|m| Method::from_bytes(m.as_bytes()).ok());
    let mut url = app.router.build(&endpoint, &pairs, method.as_ref())?;
    if let Some(anchor) = anchor {
        url.push('#');
        url.extend(utf8_percent_encode(&anchor, FRAGMENT));
    }
    if !external && scheme.is_none() {
        return Ok(url);
    }
    let extra = &app.config.extra;
    let server_name = extra.get("SERVER_NAME").and_then(|name| name.as_str());
    let host = server_name.or(host).ok_or(UrlError::NoServerName)?;
    let preferred = extra
        .get("PREFERRED_URL_SCHEME")
        .and_then(|scheme| scheme.as_str());
    let scheme = scheme
        .as_deref()
        .or(request_scheme)
        .or(preferred)
        .unwrap_or("http");
    Ok(format!("{scheme}://{host}{url}"))
}

/// The full name of `endpoint`: `.name` is relative to the blueprint of `route`.
fn resolve(app: &AppShared, route: Option<usize>, endpoint: &str) -> String {
    let Some(relative) = endpoint.strip_prefix('.') else {
        return endpoint.to_owned();
    };
    let blueprint = route.and_then(|route| app.router.blueprint_of(route));
    match blueprint {
        Some(index) => format!("{}.{relative}", app.blueprints[index].info.name()),
        None => relative.to_owned(),
    }
}

/// Removes the parameter `name` from `pairs`, returning its value.
fn take(pairs: &mut Vec<(String, String)>, name: &str) -> Option<String> {
    let at = pairs.iter().position(|(key, _)| key == name)?;
    Some(pairs.remove(at).1)
}
