//! Responses: what a handler may return.
//!
//! A handler returns anything that implements [`IntoResponse`]: text, [`Html`],
//! [`Json`](crate::Json), a bare [`StatusCode`], a full [`Response`], a streaming
//! [`Body`], or one of those with a status and headers in front, as a tuple. This is
//! Flask's `make_response`, which accepts a body, `(body, status)` or
//! `(body, status, headers)`; carafe puts the status first, as it comes first on the wire.
//!
//! Text answers carry `content-type: text/plain; charset=utf-8`. Flask's default is
//! `text/html`; carafe says `text/plain` unless you return [`Html`], because a string is
//! not markup.
//!
//! | submodule | Flask / Werkzeug | owns |
//! |---|---|---|
//! | [`Redirect`] (`redirect.rs`) | `redirect` | `302`/`303`/`307`/`308` with a safe `Location` |
//! | [`Streaming`] (`stream.rs`) | `Response(generator)`, `stream_with_context` | streamed bodies |
//! | [`Sse`], [`Event`], [`KeepAlive`] (`sse.rs`) | hand-written `text/event-stream` | server-sent events |
//! | [`send_file`] (`file.rs`) | `send_file` | files with `ETag`, `Last-Modified`, `304`, `206`, `416`, read in chunks |
//! | [`send_from_directory`], [`App::static_folder`](crate::App::static_folder) (`static_files.rs`) | `send_from_directory`, `safe_join`, the static route | untrusted paths, the static folder |
//! | [`range`] | `werkzeug.http.parse_range_header` | the `Range` header (sans-IO) |
//! | [`conditional`] | `werkzeug.http.is_resource_modified` | entity tags and preconditions (sans-IO) |
//! | [`Compression`] (`compress.rs`) | Flask-Compress | gzip and brotli for text responses |

use std::borrow::Cow;
use std::convert::Infallible;
use std::fmt;

use bytes::Bytes;
use carafe_serve::{Body, Response};
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use crate::error::HttpError;

mod compress;
pub mod conditional;
mod file;
pub mod range;
mod redirect;
mod sse;
mod static_files;
mod stream;

pub use self::compress::{
    compress_response, compression_plan, negotiate, Coding, Compress, Compression, CompressionPlan,
};
pub use self::file::{content_disposition, guess_mimetype, send_file, SendFile, CHUNK_SIZE};
pub use self::redirect::Redirect;
pub use self::sse::{Event, KeepAlive, Sse};
pub use self::static_files::{
    default_static_folder, safe_join, send_from_directory, static_handler, STATIC_RULE,
};
pub use self::stream::Streaming;

/// Something a handler can return: it becomes the response.
///
/// ```
/// use carafe::{Html, IntoResponse};
/// use http::{header, HeaderMap, StatusCode};
///
/// let text = "Hello".into_response();
/// assert_eq!(text.headers()[header::CONTENT_TYPE], "text/plain; charset=utf-8");
///
/// let created = (StatusCode::CREATED, Html("<p>made</p>")).into_response();
/// assert_eq!(created.status(), StatusCode::CREATED);
/// assert_eq!(created.headers()[header::CONTENT_TYPE], "text/html; charset=utf-8");
///
/// let moved = (StatusCode::FOUND, [(header::LOCATION, "/new")], ()).into_response();
/// assert_eq!(moved.headers()[header::LOCATION], "/new");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be turned into a response",
    label = "a handler must return a type that implements `IntoResponse`",
    note = "return `&'static str`, `String`, `Html<T>`, `Json<T>`, `StatusCode`, `()`, \
            `Body`, `Response`, a tuple such as `(StatusCode, T)` or \
            `(StatusCode, HeaderMap, T)`, or a `Result<T, E>` where both implement \
            `IntoResponse`",
    note = "for `Json<T>`, `T` must implement `serde::Serialize`"
)]
pub trait IntoResponse {
    /// Builds the response.
    ///
    /// ```
    /// use carafe::IntoResponse;
    ///
    /// let response = http::StatusCode::NO_CONTENT.into_response();
    /// assert_eq!(response.status(), 204);
    /// ```
    fn into_response(self) -> Response;
}

/// `content-type` values, validated at compile time: `HeaderValue::from_static` checks
/// every byte, and called at run time it would do so on every response.
pub(crate) mod content_type {
    use http::HeaderValue;

    /// Text answers.
    pub(crate) const TEXT_PLAIN: HeaderValue =
        HeaderValue::from_static("text/plain; charset=utf-8");
    /// HTML answers.
    pub(crate) const TEXT_HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");
    /// JSON answers.
    pub(crate) const JSON: HeaderValue = HeaderValue::from_static("application/json");
    /// Raw bytes.
    pub(crate) const OCTET_STREAM: HeaderValue =
        HeaderValue::from_static("application/octet-stream");
}

/// A response with `body` and a `content-type`.
pub(crate) fn typed_response(body: Body, content_type: HeaderValue) -> Response {
    let mut response = Response::new(body);
    response.headers_mut().insert(CONTENT_TYPE, content_type);
    response
}

/// A `text/plain; charset=utf-8` response.
pub(crate) fn text_response(body: Body) -> Response {
    typed_response(body, content_type::TEXT_PLAIN)
}

impl IntoResponse for Response {
    fn into_response(self) -> Response {
        self
    }
}

/// A streaming or buffered body, with no `content-type`.
impl IntoResponse for Body {
    fn into_response(self) -> Response {
        Response::new(self)
    }
}

impl IntoResponse for &'static str {
    fn into_response(self) -> Response {
        text_response(Body::from(self))
    }
}

impl IntoResponse for String {
    fn into_response(self) -> Response {
        text_response(Body::from(self))
    }
}

impl IntoResponse for Cow<'static, str> {
    fn into_response(self) -> Response {
        match self {
            Cow::Borrowed(text) => text.into_response(),
            Cow::Owned(text) => text.into_response(),
        }
    }
}

/// Bytes, as `application/octet-stream`.
impl IntoResponse for Bytes {
    fn into_response(self) -> Response {
        typed_response(Body::from(self), content_type::OCTET_STREAM)
    }
}

/// Bytes, as `application/octet-stream`.
impl IntoResponse for Vec<u8> {
    fn into_response(self) -> Response {
        Bytes::from(self).into_response()
    }
}

/// `200 OK` with an empty body.
impl IntoResponse for () {
    fn into_response(self) -> Response {
        Response::new(Body::empty())
    }
}

/// Bytes, as `application/octet-stream`.
impl IntoResponse for &'static [u8] {
    fn into_response(self) -> Response {
        Bytes::from_static(self).into_response()
    }
}

/// `T`'s response, or `404 Not Found` for `None` (a missing row, a missing file).
///
/// ```
/// use carafe::IntoResponse;
///
/// let missing: Option<String> = None;
/// assert_eq!(missing.into_response().status(), 404);
/// assert_eq!(Some("here").into_response().status(), 200);
/// ```
impl<T: IntoResponse> IntoResponse for Option<T> {
    fn into_response(self) -> Response {
        match self {
            Some(value) => value.into_response(),
            None => HttpError::new(StatusCode::NOT_FOUND, "not found").into_response(),
        }
    }
}

/// The status with an empty body.
impl IntoResponse for StatusCode {
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = self;
        response
    }
}

impl IntoResponse for Infallible {
    fn into_response(self) -> Response {
        match self {}
    }
}

impl<T: IntoResponse, E: IntoResponse> IntoResponse for Result<T, E> {
    fn into_response(self) -> Response {
        match self {
            Ok(value) => value.into_response(),
            Err(error) => error.into_response(),
        }
    }
}

/// `T`'s response with another status.
impl<T: IntoResponse> IntoResponse for (StatusCode, T) {
    fn into_response(self) -> Response {
        let (status, inner) = self;
        with_status(inner.into_response(), status)
    }
}

/// `T`'s response with these headers, replacing any of the same names.
impl<T: IntoResponse> IntoResponse for (HeaderMap, T) {
    fn into_response(self) -> Response {
        let (headers, inner) = self;
        with_headers(inner.into_response(), headers)
    }
}

/// `T`'s response with another status and these headers.
impl<T: IntoResponse> IntoResponse for (StatusCode, HeaderMap, T) {
    fn into_response(self) -> Response {
        let (status, headers, inner) = self;
        with_status(with_headers(inner.into_response(), headers), status)
    }
}

/// `T`'s response with these headers, replacing any of the same names; a name given
/// twice is sent twice. A name or value that is not valid gives `500`.
impl<K, V, const N: usize, T> IntoResponse for ([(K, V); N], T)
where
    K: TryInto<HeaderName>,
    K::Error: fmt::Display,
    V: TryInto<HeaderValue>,
    V::Error: fmt::Display,
    T: IntoResponse,
{
    fn into_response(self) -> Response {
        let (pairs, inner) = self;
        match header_map(pairs) {
            Ok(headers) => with_headers(inner.into_response(), headers),
            Err(error) => error.into_response(),
        }
    }
}

/// `T`'s response with another status and these headers (see `([(K, V); N], T)`).
impl<K, V, const N: usize, T> IntoResponse for (StatusCode, [(K, V); N], T)
where
    K: TryInto<HeaderName>,
    K::Error: fmt::Display,
    V: TryInto<HeaderValue>,
    V::Error: fmt::Display,
    T: IntoResponse,
{
    fn into_response(self) -> Response {
        let (status, pairs, inner) = self;
        with_status((pairs, inner).into_response(), status)
    }
}

/// Sets the status, unless building the response already failed with a server error.
fn with_status(mut response: Response, status: StatusCode) -> Response {
    if !response.status().is_server_error() {
        *response.status_mut() = status;
    }
    response
}

fn with_headers(mut response: Response, headers: HeaderMap) -> Response {
    // `extend` replaces every existing value of a name it brings.
    response.headers_mut().extend(headers);
    response
}

fn header_map<K, V, const N: usize>(pairs: [(K, V); N]) -> Result<HeaderMap, HttpError>
where
    K: TryInto<HeaderName>,
    K::Error: fmt::Display,
    V: TryInto<HeaderValue>,
    V::Error: fmt::Display,
{
    let invalid = |what: String| {
        HttpError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("invalid response header: {what}"),
        )
    };
    let mut headers = HeaderMap::with_capacity(N);
    for (name, value) in pairs {
        let name = name
            .try_into()
            .map_err(|error| invalid(format!("name: {error}")))?;
        let value = value
            .try_into()
            .map_err(|error| invalid(format!("`{name}` value: {error}")))?;
        headers.append(name, value);
    }
    Ok(headers)
}

/// An HTML response: `content-type: text/html; charset=utf-8`.
///
/// ```
/// use carafe::{get, Html};
///
/// async fn index() -> Html<&'static str> {
///     Html("<h1>Hello, World!</h1>")
/// }
/// # let _ = get(index);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Html<T>(pub T);

impl<T: Into<Body>> IntoResponse for Html<T> {
    fn into_response(self) -> Response {
        typed_response(self.0.into(), content_type::TEXT_HTML)
    }
}

#[cfg(test)]
mod tests;
