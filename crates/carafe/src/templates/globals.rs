//! What every template sees, as in Flask's template context: `config`, `url_for` (the
//! same for every request) and `request`, `session`, `get_flashed_messages` (per request).

use std::sync::Arc;

use minijinja::value::{Enumerator, Kwargs, Object, ObjectRepr, Serde};
use minijinja::{Environment, Error, ErrorKind, Value};
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

use crate::config::{Config, SameSite};
use crate::extract::RequestParts;
use crate::extract::RequestUrl;
use crate::session::{get_flashed_messages, Session};

/// Request headers a template may read through `request.headers`; credentials
/// (`Cookie`, `Authorization`) are left out so a template cannot leak them.
const TEMPLATE_HEADERS: [&str; 8] = [
    "accept",
    "accept-encoding",
    "accept-language",
    "content-length",
    "content-type",
    "host",
    "referer",
    "user-agent",
];

/// Adds the globals that are the same for every request: `config` and `url_for`.
pub(super) fn add_app_globals(env: &mut Environment<'static>, config: &Config) {
    env.add_global("config", config_value(config));
    env.add_function("url_for", url_for);
}

/// The app's settings under Flask's keys, without `SECRET_KEY` and
/// `SECRET_KEY_FALLBACKS` (nor extra keys whose name mentions a secret).
fn config_value(config: &Config) -> Value {
    let same_site = match config.session_cookie_samesite {
        SameSite::Lax => "Lax",
        SameSite::Strict => "Strict",
        SameSite::None => "None",
    };
    let known = [
        ("DEBUG", Value::from(config.debug)),
        ("TESTING", Value::from(config.testing)),
        (
            "SESSION_COOKIE_NAME",
            Value::from(&config.session_cookie_name),
        ),
        (
            "SESSION_COOKIE_DOMAIN",
            Value::from(config.session_cookie_domain.clone()),
        ),
        (
            "SESSION_COOKIE_PATH",
            Value::from(&config.session_cookie_path),
        ),
        (
            "SESSION_COOKIE_HTTPONLY",
            Value::from(config.session_cookie_httponly),
        ),
        (
            "SESSION_COOKIE_SECURE",
            Value::from(config.session_cookie_secure),
        ),
        ("SESSION_COOKIE_SAMESITE", Value::from(same_site)),
        (
            "PERMANENT_SESSION_LIFETIME",
            Value::from(config.permanent_session_lifetime.as_secs()),
        ),
        ("MAX_CONTENT_LENGTH", Value::from(config.max_content_length)),
        (
            "TEMPLATES_AUTO_RELOAD",
            Value::from(config.templates_auto_reload()),
        ),
    ];
    let extra = config
        .extra
        .iter()
        .filter(|(key, _)| !key.to_ascii_uppercase().contains("SECRET"))
        .map(|(key, value)| (key.as_str(), Value::from(Serde(value))));
    Value::from_pairs(known.into_iter().chain(extra).collect::<Vec<_>>())
}

/// Characters escaped in a static file's path: those not allowed in a path segment,
/// slashes excepted.
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// `url_for(endpoint, **values)` in templates.
///
/// `url_for('static', filename=...)` is answered here (the static folder is served at
/// `/static`); other endpoints go to the app's URL map through [`resolve_url_for`].
fn url_for(endpoint: &str, kwargs: Kwargs) -> Result<Value, Error> {
    if endpoint == "static" {
        let filename: String = kwargs.get("filename")?;
        kwargs.assert_all_used()?;
        let path = utf8_percent_encode(filename.trim_start_matches('/'), PATH);
        return Ok(Value::from(format!("/static/{path}")));
    }
    let mut params = Vec::new();
    for key in kwargs.args() {
        let value: Value = kwargs.get(key)?;
        params.push((key.to_owned(), value.to_string()));
    }
    resolve_url_for(endpoint, &params).map(Value::from)
}

/// Builds the URL of `endpoint` with the app's `url_for`: blueprint-relative names
/// (`.index`), extra parameters as the query string and `_anchor`, `_external`,
/// `_scheme`, `_method`, as in handlers. An endpoint that cannot be built is a template
/// error naming it.
fn resolve_url_for(endpoint: &str, params: &[(String, String)]) -> Result<String, Error> {
    crate::url_for(endpoint, params.to_vec()).map_err(|error| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("url_for({endpoint:?}): {error}"),
        )
    })
}

/// The per-request globals: `request`, `session`, `get_flashed_messages` and
/// `csrf_token` (see [`crate::csrf`]).
pub(super) fn request_globals(parts: &RequestParts, session: Session) -> Value {
    let flashes = session.clone();
    let get_flashed = Value::from_function(
        move |with_categories: Option<bool>,
              category_filter: Option<Vec<String>>,
              kwargs: Kwargs| {
            flashed_messages(&flashes, with_categories, category_filter, &kwargs)
        },
    );
    let csrf_session = session.clone();
    let csrf_token = Value::from_function(move || crate::csrf::generate_csrf(&csrf_session));
    Value::from_pairs([
        ("request", request_value(parts)),
        ("session", Value::from_object(SessionView(session))),
        ("get_flashed_messages", get_flashed),
        ("csrf_token", csrf_token),
    ])
}

/// `get_flashed_messages(with_categories=false, category_filter=[])`: messages, or
/// `(category, message)` pairs.
fn flashed_messages(
    session: &Session,
    with_categories: Option<bool>,
    category_filter: Option<Vec<String>>,
    kwargs: &Kwargs,
) -> Result<Value, Error> {
    let with_categories = match with_categories {
        Some(flag) => flag,
        None => kwargs
            .get::<Option<bool>>("with_categories")?
            .unwrap_or(false),
    };
    let filter = match category_filter {
        Some(filter) => filter,
        None => kwargs
            .get::<Option<Vec<String>>>("category_filter")?
            .unwrap_or_default(),
    };
    kwargs.assert_all_used()?;
    let filter: Vec<&str> = filter.iter().map(String::as_str).collect();
    let messages = get_flashed_messages(session, &filter);
    Ok(messages
        .into_iter()
        .map(|flash| match with_categories {
            true => Value::from(vec![
                Value::from(flash.category),
                Value::from(flash.message),
            ]),
            false => Value::from(flash.message),
        })
        .collect())
}

/// Flask's `request` in templates: method, path, full_path, url, scheme, host,
/// query_string, args (first value per key), headers (a safe subset, any case),
/// endpoint and blueprint (none when no named route matched).
fn request_value(parts: &RequestParts) -> Value {
    let uri = parts.uri();
    let request_url = RequestUrl::from_parts(parts);
    let host = request_url.host();
    let scheme = request_url.scheme();
    let query = uri.query().unwrap_or_default();
    let full_path = format!("{}?{query}", uri.path());
    let url = match uri.query() {
        Some(_) => format!("{scheme}://{host}{full_path}"),
        None => format!("{scheme}://{host}{}", uri.path()),
    };
    let args: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let mut first = Vec::<(String, String)>::new();
    for (key, value) in args {
        if !first.iter().any(|(known, _)| *known == key) {
            first.push((key, value));
        }
    }
    Value::from_pairs([
        ("method", Value::from(parts.method().as_str())),
        ("path", Value::from(uri.path())),
        ("full_path", Value::from(full_path)),
        ("url", Value::from(url)),
        (
            "base_url",
            Value::from(format!("{scheme}://{host}{}", uri.path())),
        ),
        ("host_url", Value::from(format!("{scheme}://{host}/"))),
        ("scheme", Value::from(scheme)),
        ("host", Value::from(host)),
        ("query_string", Value::from(query)),
        ("args", Value::from_pairs(first)),
        ("headers", Value::from_object(Headers::of(parts))),
        ("endpoint", Value::from(parts.endpoint())),
        (
            "blueprint",
            Value::from(parts.blueprint().map(|blueprint| blueprint.name())),
        ),
    ])
}

/// The header `name` as text, if present and visible.
fn header(parts: &RequestParts, name: &str) -> Option<String> {
    let value = parts.headers().get(name)?.to_str().ok()?;
    Some(value.to_owned())
}

/// `request.headers`: the visible headers, looked up in any case
/// (`request.headers['User-Agent']`, `request.headers.get('accept')`).
#[derive(Debug)]
struct Headers(Vec<(&'static str, String)>);

impl Headers {
    /// The visible headers of the request.
    fn of(parts: &RequestParts) -> Headers {
        let present = TEMPLATE_HEADERS
            .iter()
            .filter_map(|name| Some((*name, header(parts, name)?)));
        Headers(present.collect())
    }
}

impl Object for Headers {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        let (_, value) = self
            .0
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(key))?;
        Some(Value::from(value))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let names: Vec<Value> = self.0.iter().map(|(name, _)| Value::from(*name)).collect();
        Enumerator::Values(names)
    }
}

/// `session` in templates: read-only, decoded only if the template looks at it.
#[derive(Debug)]
struct SessionView(Session);

impl Object for SessionView {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let value = self.0.get_value(key.as_str()?)?;
        Some(Value::from(Serde(value)))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let keys: Vec<Value> = self.0.to_map().keys().map(Value::from).collect();
        Enumerator::Values(keys)
    }
}
