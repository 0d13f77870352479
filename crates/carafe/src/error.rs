//! Errors: [`HttpError`], the answer a request gets when something about it is wrong, and
//! [`Error`], the crate's error for everything else (serving, for now).
//!
//! [`HttpError`] is Werkzeug's `HTTPException`: a status code and a message, turned into
//! a response in one place ([`HttpError`]'s [`IntoResponse`] impl). Routing answers `404`
//! and `405` with it, and every extractor rejects a request with it: a handler never runs
//! on a request its extractors refused.

use std::borrow::Cow;
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
    /// The one place where an `HttpError` becomes an answer. Server errors are logged,
    /// since nobody else will see them.
    fn into_response(self) -> Response {
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

/// An error of carafe outside a request: serving failed.
///
/// ```no_run
/// fn main() -> Result<(), carafe::Error> {
///     let app = carafe::App::new();
///     app.run().port(8082).serve()
/// }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The server could not start or failed while running: the port was in use, say.
    Serve(carafe_serve::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The serving layer's messages already say what failed and how to fix it.
            Error::Serve(source) => fmt::Display::fmt(source, f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Serve(source) => source.source(),
        }
    }
}

impl From<carafe_serve::Error> for Error {
    fn from(source: carafe_serve::Error) -> Self {
        Error::Serve(source)
    }
}

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
}
