//! Errors: [`HttpError`], the answer a request gets when something about it is wrong, and
//! [`Error`], what handlers, hooks, setup and serving fail with; [`abort`] and
//! [`abort_with`] make errors with a status from anywhere in a handler's call tree.
//!
//! [`HttpError`] is Werkzeug's `HTTPException`: a status code and a message, turned into
//! a response in one place ([`HttpError`]'s [`IntoResponse`] impl). Routing answers `404`
//! and `405` with it, and every extractor rejects a request with it: a handler never runs
//! on a request its extractors refused.

use std::backtrace::{Backtrace, BacktraceStatus};
use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::sync::OnceLock;

use carafe_serve::{Body, Response};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use crate::response::{text_response, IntoResponse};

/// An HTTP error answer: a status, a message for the client, and optional headers.
///
/// Return it from a handler (usually as the `Err` of a `Result`), or from an extractor.
/// The response has the status, a `text/plain` body with the message, and the headers.
///
/// ```
/// use carafe::{HttpError, Path};
/// use http::StatusCode;
///
/// async fn show(Path(id): Path<u64>) -> Result<String, HttpError> {
///     if id == 0 {
///         return Err(HttpError::new(StatusCode::NOT_FOUND, "there is no item 0"));
///     }
///     Ok(format!("item {id}"))
/// }
/// # let _ = carafe::get(show);
/// ```
#[derive(Debug, Clone)]
pub struct HttpError {
    /// The response's status.
    status: StatusCode,
    /// The response's body.
    message: Cow<'static, str>,
    /// Extra response headers, such as `Allow` on a 405; boxed, as most errors have
    /// none, to keep `Result<T, HttpError>` small.
    headers: Option<Box<HeaderMap>>,
}

impl HttpError {
    /// An error answered with `status` and `message`.
    ///
    /// ```
    /// let error = carafe::HttpError::new(http::StatusCode::BAD_REQUEST, "missing name");
    /// assert_eq!(error.status(), 400);
    /// assert_eq!(error.message(), "missing name");
    /// ```
    pub fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        HttpError {
            status,
            message: message.into(),
            headers: None,
        }
    }

    /// Adds a header to the answer, replacing one of the same name.
    ///
    /// ```
    /// use http::{header, HeaderValue, StatusCode};
    ///
    /// let error = carafe::HttpError::new(StatusCode::UNAUTHORIZED, "log in first")
    ///     .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic"));
    /// assert_eq!(error.headers()[header::WWW_AUTHENTICATE], "Basic");
    /// ```
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers
            .get_or_insert_with(Box::default)
            .insert(name, value);
        self
    }

    /// The status of the answer.
    ///
    /// ```
    /// let error = carafe::HttpError::from(http::StatusCode::FORBIDDEN);
    /// assert_eq!(error.status(), 403);
    /// ```
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message, sent as the body.
    ///
    /// ```
    /// let error = carafe::HttpError::from(http::StatusCode::FORBIDDEN);
    /// assert_eq!(error.message(), "Forbidden");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The extra headers of the answer.
    ///
    /// ```
    /// let error = carafe::HttpError::from(http::StatusCode::FORBIDDEN);
    /// assert!(error.headers().is_empty());
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        static NONE: OnceLock<HeaderMap> = OnceLock::new();
        self.headers
            .as_deref()
            .unwrap_or_else(|| NONE.get_or_init(HeaderMap::new))
    }
}

impl From<StatusCode> for HttpError {
    /// An error whose message is the status's reason phrase.
    fn from(status: StatusCode) -> Self {
        HttpError::new(status, status.canonical_reason().unwrap_or("Error"))
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl std::error::Error for HttpError {}

impl IntoResponse for HttpError {
    /// Inside an app with error handlers for it, the app answers (see
    /// [`Error`]'s impl); otherwise [`HttpError::into_plain_response`].
    fn into_response(self) -> Response {
        Error::from_http(self).into_response()
    }
}

impl HttpError {
    /// The one place where an `HttpError` becomes an answer of its own: its status,
    /// message and headers. Server errors are logged, since nobody else will see them.
    ///
    /// ```
    /// let response = carafe::HttpError::from(http::StatusCode::GONE).into_plain_response();
    /// assert_eq!(response.status(), 410);
    /// ```
    pub fn into_plain_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(target: "carafe::app", "{self}");
        }
        let body = match self.message {
            Cow::Borrowed(message) => Body::from(message),
            Cow::Owned(message) => Body::from(message),
        };
        let mut response = text_response(body);
        *response.status_mut() = self.status;
        if let Some(headers) = self.headers {
            response.headers_mut().extend(*headers);
        }
        response
    }
}

/// The error of a handler, a hook, or carafe itself: Flask's exceptions.
///
/// A handler returns [`carafe::Result<T>`](crate::Result) and uses `?` on anything that
/// implements [`std::error::Error`]: the error becomes an `Error`, and the request is
/// answered by the app's error handlers (see
/// [`App::register_error_handler`](crate::App::register_error_handler)) or, when none
/// matches, with `500 Internal Server Error` and a log line with the error's chain.
/// [`abort`] and [`HttpError`]s make errors with their own status (a `404`, a `403`).
///
/// `Error` is also what setup and serving fail with ([`App::check`](crate::App::check),
/// [`Run::serve`](crate::Run::serve)). It does not implement [`std::error::Error`] itself
/// (that is what lets every error convert into it with `?`, as with `anyhow::Error`),
/// but converts into `Box<dyn std::error::Error + Send + Sync>`.
///
/// ```
/// use carafe::{abort, get, Path};
/// use http::StatusCode;
///
/// async fn show(Path(id): Path<String>) -> carafe::Result<String> {
///     let id: u64 = id.parse()?; // a ParseIntError becomes a 500
///     if id == 0 {
///         return Err(abort(StatusCode::NOT_FOUND));
///     }
///     Ok(format!("item {id}"))
/// }
/// # let _ = get(show);
/// ```
pub struct Error {
    /// Boxed, so that `carafe::Result<T>` is one pointer bigger than `T` at most.
    inner: Box<Inner>,
}

/// What an [`Error`] holds.
struct Inner {
    /// The error itself.
    kind: Kind,
    /// Where it was made: captured in debug mode (see [`Config::debug`](crate::Config)),
    /// or when `RUST_BACKTRACE` asks for it; never for HTTP errors.
    backtrace: Option<Backtrace>,
}

/// The two kinds of [`Error`].
enum Kind {
    /// An answer with a status of its own: `abort`, routing and extractor errors.
    Http(HttpError),
    /// Anything else: a bug, a failed database call; answered `500`.
    Other(Box<dyn StdError + Send + Sync>),
}

/// A handler's result: `Result<T, carafe::Error>`.
///
/// ```
/// async fn index() -> carafe::Result<&'static str> {
///     Ok("Hello")
/// }
/// # let _ = carafe::get(index);
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error answered with `status` and its reason phrase, to return from a handler or any
/// function it calls (Flask's `abort(404)`).
///
/// ```
/// use carafe::abort;
/// use http::StatusCode;
///
/// fn owner_only(user: &str) -> carafe::Result<()> {
///     if user != "admin" {
///         return Err(abort(StatusCode::FORBIDDEN));
///     }
///     Ok(())
/// }
///
/// async fn delete(user: String) -> carafe::Result<&'static str> {
///     owner_only(&user)?;
///     let item = Some("item").ok_or_else(|| abort(StatusCode::NOT_FOUND))?;
///     Ok(item)
/// }
/// # let _ = carafe::post(delete);
/// assert_eq!(abort(StatusCode::FORBIDDEN).status(), 403);
/// ```
pub fn abort(status: StatusCode) -> Error {
    Error::from_http(HttpError::from(status))
}

/// An error answered with `status` and `message` (Flask's `abort(400, "bad name")`).
///
/// ```
/// let error = carafe::abort_with(http::StatusCode::BAD_REQUEST, "the name is empty");
/// assert_eq!(error.status(), 400);
/// assert_eq!(error.to_string(), "400 Bad Request: the name is empty");
/// ```
pub fn abort_with(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Error {
    Error::from_http(HttpError::new(status, message))
}

impl Error {
    /// An error with only a message, answered `500` (as `anyhow!` makes one).
    ///
    /// ```
    /// let error = carafe::Error::msg("the cache is empty");
    /// assert_eq!(error.status(), 500);
    /// assert_eq!(error.to_string(), "the cache is empty");
    /// ```
    pub fn msg(message: impl fmt::Display) -> Self {
        Error::from(Message(message.to_string()))
    }

    /// An error answered as `error` says.
    fn from_http(error: HttpError) -> Self {
        Error {
            inner: Box::new(Inner {
                kind: Kind::Http(error),
                backtrace: None,
            }),
        }
    }

    fn from_boxed(error: Box<dyn StdError + Send + Sync>) -> Self {
        let backtrace = if crate::scope::debug_backtraces() {
            Some(Backtrace::force_capture())
        } else {
            let backtrace = Backtrace::capture();
            (backtrace.status() == BacktraceStatus::Captured).then_some(backtrace)
        };
        Error {
            inner: Box::new(Inner {
                kind: Kind::Other(error),
                backtrace,
            }),
        }
    }

    /// The status the error is answered with: an HTTP error's own, else `500`.
    ///
    /// ```
    /// use http::StatusCode;
    ///
    /// assert_eq!(carafe::abort(StatusCode::GONE).status(), StatusCode::GONE);
    /// let error = carafe::Error::from(std::fmt::Error);
    /// assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
    /// ```
    pub fn status(&self) -> StatusCode {
        match &self.inner.kind {
            Kind::Http(error) => error.status(),
            Kind::Other(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The HTTP error, when this is one ([`abort`], routing, extractors).
    ///
    /// ```
    /// let error = carafe::abort_with(http::StatusCode::IM_A_TEAPOT, "short and stout");
    /// assert_eq!(error.http_error().map(|error| error.message()), Some("short and stout"));
    /// ```
    pub fn http_error(&self) -> Option<&HttpError> {
        match &self.inner.kind {
            Kind::Http(error) => Some(error),
            Kind::Other(_) => None,
        }
    }

    /// Whether the error is a `T`.
    ///
    /// ```
    /// let error = carafe::Error::from(std::fmt::Error);
    /// assert!(error.is::<std::fmt::Error>());
    /// ```
    pub fn is<T: StdError + 'static>(&self) -> bool {
        self.downcast_ref::<T>().is_some()
    }

    /// The error as a `T`, if it is one (an [`HttpError`] too).
    ///
    /// ```
    /// let error = carafe::Error::from(std::fmt::Error);
    /// assert_eq!(error.downcast_ref::<std::fmt::Error>(), Some(&std::fmt::Error));
    /// ```
    pub fn downcast_ref<T: StdError + 'static>(&self) -> Option<&T> {
        self.as_std().downcast_ref::<T>()
    }

    /// The error as a `T`, or itself back if it is not one.
    ///
    /// ```
    /// let error = carafe::Error::from(std::fmt::Error);
    /// assert!(error.downcast::<std::fmt::Error>().is_ok());
    /// ```
    pub fn downcast<T: StdError + Send + Sync + 'static>(self) -> Result<T, Error> {
        let Inner { kind, backtrace } = *self.inner;
        let boxed: Box<dyn StdError + Send + Sync> = match kind {
            Kind::Http(error) => Box::new(error),
            Kind::Other(error) => error,
        };
        match boxed.downcast::<T>() {
            Ok(value) => Ok(*value),
            Err(boxed) => {
                let mut error = Error::from_boxed_any(boxed);
                error.inner.backtrace = backtrace;
                Err(error)
            }
        }
    }

    fn from_boxed_any(boxed: Box<dyn StdError + Send + Sync>) -> Self {
        match boxed.downcast::<HttpError>() {
            Ok(http) => Error::from_http(*http),
            Err(other) => Error::from_boxed(other),
        }
    }

    /// The error and its sources, outermost first.
    ///
    /// ```
    /// let error = carafe::Error::from(std::io::Error::other("disk full"));
    /// let messages: Vec<String> = error.chain().map(|error| error.to_string()).collect();
    /// assert_eq!(messages, ["disk full"]);
    /// ```
    pub fn chain(&self) -> impl Iterator<Item = &(dyn StdError + 'static)> {
        std::iter::successors(Some(self.as_std()), |&error| error.source())
    }

    /// Where the error was made, when a backtrace was captured: always in debug mode
    /// (for errors other than HTTP errors), else when `RUST_BACKTRACE` is set.
    ///
    /// ```
    /// let error = carafe::abort(http::StatusCode::NOT_FOUND);
    /// assert!(error.backtrace().is_none());
    /// ```
    pub fn backtrace(&self) -> Option<&Backtrace> {
        self.inner.backtrace.as_ref()
    }

    fn as_std(&self) -> &(dyn StdError + 'static) {
        match &self.inner.kind {
            Kind::Http(error) => error,
            Kind::Other(error) => &**error,
        }
    }

    /// Logs the error with its chain, as an unanswered server error is.
    pub(crate) fn log(&self) {
        log_chain(self.as_std());
    }
}

/// Logs `error` and its sources at the error level.
fn log_chain(error: &(dyn StdError + 'static)) {
    let mut text = error.to_string();
    for source in std::iter::successors(error.source(), |&error| error.source()) {
        text.push_str("\n  caused by: ");
        text.push_str(&source.to_string());
    }
    tracing::error!(target: "carafe::app", "{text}");
}

impl<E: StdError + Send + Sync + 'static> From<E> for Error {
    /// Wraps any error; an [`HttpError`] keeps its status.
    fn from(error: E) -> Self {
        Error::from_boxed_any(Box::new(error))
    }
}

impl From<Error> for Box<dyn StdError + Send + Sync> {
    fn from(error: Error) -> Self {
        match error.inner.kind {
            Kind::Http(error) => Box::new(error),
            Kind::Other(error) => error,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_std(), f)
    }
}

impl fmt::Debug for Error {
    /// The message, its causes and the backtrace: what `fn main() -> Result<(), Error>`
    /// prints on failure.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            return f
                .debug_struct("Error")
                .field("error", &self.as_std())
                .finish();
        }
        write!(f, "{self}")?;
        for source in self.chain().skip(1) {
            write!(f, "\n  caused by: {source}")?;
        }
        if let Some(backtrace) = self.backtrace() {
            write!(f, "\n\nbacktrace:\n{backtrace}")?;
        }
        Ok(())
    }
}

impl IntoResponse for Error {
    /// Inside an app with error handlers (or in debug mode), the error is handed to the
    /// app, which picks the answer; otherwise an HTTP error answers with its status and
    /// message, and any other error with a plain `500` page and a log line.
    fn into_response(self) -> Response {
        match crate::scope::stash_error(self) {
            Ok(response) => response,
            Err(error) => error.into_plain_response(),
        }
    }
}

impl Error {
    /// The answer when no error handler takes the error: never internals.
    pub(crate) fn into_plain_response(self) -> Response {
        match self.inner.kind {
            Kind::Http(error) => error.into_plain_response(),
            Kind::Other(error) => {
                log_chain(&*error);
                HttpError::from(StatusCode::INTERNAL_SERVER_ERROR).into_plain_response()
            }
        }
    }
}

/// An error made of a message only.
#[derive(Debug)]
struct Message(String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for Message {}

#[cfg(test)]
mod tests {
    use http::header;

    use super::*;

    #[test]
    fn http_error_answers_with_its_status_message_and_headers() {
        let error = HttpError::new(StatusCode::METHOD_NOT_ALLOWED, "no")
            .with_header(header::ALLOW, HeaderValue::from_static("GET"));
        let response = error.into_response();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()[header::ALLOW], "GET");
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
    }

    #[test]
    fn http_error_display_has_status_and_message() {
        let error = HttpError::new(StatusCode::BAD_REQUEST, "missing field `name`");
        assert_eq!(error.to_string(), "400 Bad Request: missing field `name`");
    }

    #[test]
    fn serve_error_display_is_the_serving_layers() {
        let source = carafe_serve::Error::BodyTooLarge { limit: 1 };
        let expected = source.to_string();
        assert_eq!(Error::from(source).to_string(), expected);
    }

    #[test]
    fn http_errors_keep_their_status_through_from() {
        let error = Error::from(HttpError::new(StatusCode::CONFLICT, "taken"));
        assert_eq!(error.status(), StatusCode::CONFLICT);
        assert!(error.backtrace().is_none());
        assert_eq!(
            error
                .downcast::<HttpError>()
                .map(|error| error.status())
                .ok(),
            Some(StatusCode::CONFLICT)
        );
    }

    #[derive(Debug)]
    struct Outer(std::io::Error);

    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("loading the profile failed")
        }
    }

    impl StdError for Outer {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn other_errors_are_500_and_debug_shows_the_chain() {
        let error = Error::from(Outer(std::io::Error::other("disk full")));
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let chain: Vec<String> = error.chain().map(ToString::to_string).collect();
        assert_eq!(chain, ["loading the profile failed", "disk full"]);
        let debug = format!("{error:?}");
        assert!(
            debug.starts_with("loading the profile failed\n  caused by: disk full"),
            "{debug}"
        );
        assert!(error.is::<Outer>());
        let error = error.downcast::<std::fmt::Error>().err();
        assert!(error.is_some_and(|error| error.is::<Outer>()));
    }

    #[test]
    fn plain_answers_never_show_internals() {
        let response =
            Error::from(Outer(std::io::Error::other("secret path /etc/x"))).into_plain_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let response = abort_with(StatusCode::FORBIDDEN, "not yours").into_plain_response();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
}
