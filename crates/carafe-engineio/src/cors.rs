//! Cross-origin requests: which `Origin`s may open sessions, and the CORS headers
//! (the Fetch standard's CORS protocol, as the reference server's `cors` option and
//! python-engineio's `cors_allowed_origins` apply it).
//!
//! A request without `Origin` (not from a browser) is always allowed. A request whose
//! `Origin` is not allowed gets 403 and opens no session. The default allows only the
//! server's own origin (the `Host` the request was sent to).

use std::fmt;
use std::sync::Arc;

use http::header::{self, HeaderMap, HeaderValue};
use http::StatusCode;

use carafe_serve::{Body, Response};

/// Which origins may talk to the server (`cors_allowed_origins`).
///
/// ```
/// use carafe_engineio::AllowedOrigins;
///
/// let list = AllowedOrigins::list(["http://localhost:8082"]);
/// assert!(list.allows("http://localhost:8082", None));
/// assert!(!list.allows("http://evil.example", None));
/// assert!(AllowedOrigins::Any.allows("http://anything", None));
/// assert!(AllowedOrigins::SameOrigin.allows("http://a:1", Some("a:1")));
/// let only_local = AllowedOrigins::predicate(|origin| origin.starts_with("http://127.0.0.1"));
/// assert!(only_local.allows("http://127.0.0.1:3000", None));
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum AllowedOrigins {
    /// Only the server's own origin: `http://` or `https://` followed by the request's
    /// `Host`.
    #[default]
    SameOrigin,
    /// Every origin (`*`).
    Any,
    /// These origins exactly (`scheme://host[:port]`).
    List(Vec<String>),
    /// Origins for which the function answers `true`.
    Predicate(Arc<dyn Fn(&str) -> bool + Send + Sync>),
}

impl AllowedOrigins {
    /// A fixed list of origins.
    pub fn list<I, S>(origins: I) -> AllowedOrigins
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        AllowedOrigins::List(origins.into_iter().map(Into::into).collect())
    }

    /// Origins chosen by a function.
    pub fn predicate(allows: impl Fn(&str) -> bool + Send + Sync + 'static) -> AllowedOrigins {
        AllowedOrigins::Predicate(Arc::new(allows))
    }

    /// Whether `origin` may talk to a server reached as `host` (the `Host` header).
    pub fn allows(&self, origin: &str, host: Option<&str>) -> bool {
        match self {
            AllowedOrigins::SameOrigin => host.is_some_and(|host| is_same_origin(origin, host)),
            AllowedOrigins::Any => true,
            AllowedOrigins::List(list) => list.iter().any(|allowed| allowed == origin),
            AllowedOrigins::Predicate(allows) => allows(origin),
        }
    }
}

fn is_same_origin(origin: &str, host: &str) -> bool {
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    authority.is_some_and(|authority| authority.eq_ignore_ascii_case(host))
}

impl fmt::Debug for AllowedOrigins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllowedOrigins::SameOrigin => f.write_str("SameOrigin"),
            AllowedOrigins::Any => f.write_str("Any"),
            AllowedOrigins::List(list) => f.debug_tuple("List").field(list).finish(),
            AllowedOrigins::Predicate(_) => f.write_str("Predicate(..)"),
        }
    }
}

impl From<&str> for AllowedOrigins {
    /// `"*"` is [`AllowedOrigins::Any`]; anything else is a list of one origin.
    fn from(origin: &str) -> Self {
        match origin {
            "*" => AllowedOrigins::Any,
            _ => AllowedOrigins::List(vec![origin.to_owned()]),
        }
    }
}

impl<const N: usize> From<[&str; N]> for AllowedOrigins {
    fn from(origins: [&str; N]) -> Self {
        AllowedOrigins::list(origins)
    }
}

/// The verdict on a request's `Origin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// No `Origin` header: not a cross-origin browser request.
    Absent,
    /// An allowed origin; CORS headers name it.
    Allowed(HeaderValue),
    /// An origin that is not allowed.
    Denied,
}

/// The CORS policy of an Engine.IO server.
#[derive(Debug, Clone)]
pub(crate) struct Cors {
    pub(crate) allowed: AllowedOrigins,
    pub(crate) credentials: bool,
}

impl Cors {
    /// Judges the request's `Origin` header.
    pub(crate) fn check(&self, headers: &HeaderMap) -> Origin {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return Origin::Absent;
        };
        // The reference also refuses control characters here; `HeaderValue` never
        // holds them (the HTTP parser rejects them first).
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        match origin.to_str() {
            Ok(text) if self.allowed.allows(text, host) => Origin::Allowed(origin.clone()),
            _ => Origin::Denied,
        }
    }

    /// Adds the headers of an answer to an allowed cross-origin request.
    pub(crate) fn apply(&self, origin: &Origin, headers: &mut HeaderMap) {
        let Origin::Allowed(origin) = origin else {
            return;
        };
        // A wildcard cannot carry credentials, so with credentials the origin is echoed.
        let echo = self.credentials || !matches!(self.allowed, AllowedOrigins::Any);
        let value = match echo {
            true => origin.clone(),
            false => HeaderValue::from_static("*"),
        };
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        if self.credentials {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        if echo {
            headers.append(header::VARY, HeaderValue::from_static("Origin"));
        }
    }

    /// The answer to a preflight `OPTIONS` request from an allowed (or absent) origin.
    pub(crate) fn preflight(&self, origin: &Origin, request: &HeaderMap) -> Response {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NO_CONTENT;
        let headers = response.headers_mut();
        self.apply(origin, headers);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("OPTIONS, GET, POST"),
        );
        if let Some(asked) = request.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
            headers.append(
                header::VARY,
                HeaderValue::from_static("Access-Control-Request-Headers"),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn cors(allowed: AllowedOrigins) -> Cors {
        Cors {
            allowed,
            credentials: true,
        }
    }

    #[test]
    fn same_origin_is_the_default() {
        let policy = cors(AllowedOrigins::default());
        let same = headers(&[
            ("origin", "http://localhost:3000"),
            ("host", "localhost:3000"),
        ]);
        assert!(matches!(policy.check(&same), Origin::Allowed(_)));
        let tls = headers(&[
            ("origin", "https://LOCALHOST:3000"),
            ("host", "localhost:3000"),
        ]);
        assert!(matches!(policy.check(&tls), Origin::Allowed(_)));
        let other = headers(&[
            ("origin", "http://evil.example"),
            ("host", "localhost:3000"),
        ]);
        assert_eq!(policy.check(&other), Origin::Denied);
        let port = headers(&[
            ("origin", "http://localhost:3001"),
            ("host", "localhost:3000"),
        ]);
        assert_eq!(policy.check(&port), Origin::Denied);
        assert_eq!(policy.check(&headers(&[("host", "x")])), Origin::Absent);
    }

    #[test]
    fn allowed_origins_are_echoed_with_credentials() {
        let policy = cors(AllowedOrigins::list(["http://a.example"]));
        let origin = policy.check(&headers(&[("origin", "http://a.example")]));
        let mut out = HeaderMap::new();
        policy.apply(&origin, &mut out);
        assert_eq!(out["access-control-allow-origin"], "http://a.example");
        assert_eq!(out["access-control-allow-credentials"], "true");
        assert_eq!(out["vary"], "Origin");
    }

    #[test]
    fn any_origin_without_credentials_is_a_wildcard() {
        let policy = Cors {
            allowed: AllowedOrigins::Any,
            credentials: false,
        };
        let origin = policy.check(&headers(&[("origin", "http://b.example")]));
        let mut out = HeaderMap::new();
        policy.apply(&origin, &mut out);
        assert_eq!(out["access-control-allow-origin"], "*");
        assert!(out.get("access-control-allow-credentials").is_none());
    }

    #[test]
    fn preflight_reflects_the_requested_headers() {
        let policy = cors(AllowedOrigins::Any);
        let request = headers(&[
            ("origin", "http://b.example"),
            ("access-control-request-headers", "content-type, x-token"),
        ]);
        let response = policy.preflight(&policy.check(&request), &request);
        assert_eq!(response.status(), 204);
        let out = response.headers();
        assert_eq!(out["access-control-allow-methods"], "OPTIONS, GET, POST");
        assert_eq!(out["access-control-allow-headers"], "content-type, x-token");
        assert_eq!(out["access-control-allow-origin"], "http://b.example");
    }
}
