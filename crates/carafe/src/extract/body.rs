//! Extractors of the request body: buffered ([`String`], [`Bytes`]) or as it streams
//! ([`Body`], the whole [`Request`]). They consume the body, so they go last.
//!
//! Buffering extractors stop at the app's
//! [`max_content_length`](crate::App::max_content_length) and answer
//! `413 Content Too Large`, at once when the `content-length` says the body is too long,
//! or as soon as the bytes read pass the limit.

use bytes::Bytes;
use carafe_serve::{Body, Request};
use http::header::CONTENT_LENGTH;
use http::StatusCode;

use super::{FromRequest, RequestParts};
use crate::error::HttpError;

/// Reads the whole body, up to the request's limit.
pub(crate) async fn read_body(parts: &RequestParts, body: Body) -> Result<Bytes, HttpError> {
    let limit = parts.max_content_length();
    let declared = parts
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok());
    if declared
        .and_then(|value| value.parse::<u64>().ok())
        .is_some_and(|len| len > limit as u64)
    {
        return Err(too_large(limit));
    }
    body.to_bytes(limit).await.map_err(|error| match error {
        carafe_serve::Error::BodyTooLarge { .. } => too_large(limit),
        other => {
            let status = other.status().unwrap_or(StatusCode::BAD_REQUEST);
            HttpError::new(status, format!("failed to read the request body: {other}"))
        }
    })
}

fn too_large(limit: usize) -> HttpError {
    HttpError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the request body is larger than the limit of {limit} bytes"),
    )
}

/// The body as text; `400` if it is not UTF-8.
///
/// ```
/// async fn shout(text: String) -> String {
///     text.to_uppercase()
/// }
/// # let _ = carafe::post(shout);
/// ```
impl FromRequest for String {
    async fn from_request(parts: RequestParts, body: Body) -> Result<Self, HttpError> {
        let bytes = read_body(&parts, body).await?;
        String::from_utf8(bytes.into()).map_err(|error| {
            HttpError::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "the request body is not valid UTF-8: {}",
                    error.utf8_error()
                ),
            )
        })
    }
}

/// The body as bytes.
///
/// ```
/// async fn size(bytes: bytes::Bytes) -> String {
///     format!("{} bytes", bytes.len())
/// }
/// # let _ = carafe::post(size);
/// ```
impl FromRequest for Bytes {
    async fn from_request(parts: RequestParts, body: Body) -> Result<Self, HttpError> {
        read_body(&parts, body).await
    }
}

/// The body, unread, to stream. The app's body limit does not apply (the server's does).
///
/// ```
/// /// Sends the request body back as it arrives.
/// async fn echo(body: carafe::Body) -> carafe::Body {
///     body
/// }
/// # let _ = carafe::post(echo);
/// ```
impl FromRequest for Body {
    async fn from_request(_parts: RequestParts, body: Body) -> Result<Self, HttpError> {
        Ok(body)
    }
}

/// The whole request, as the server passed it; path parameters are not in it.
///
/// ```
/// use carafe::{Request, Response};
///
/// async fn echo(req: Request) -> Response {
///     Response::new(req.into_body())
/// }
/// # let _ = carafe::post(echo);
/// ```
impl FromRequest for Request {
    async fn from_request(parts: RequestParts, body: Body) -> Result<Self, HttpError> {
        Ok(Request::from_parts(parts.into_head(), body))
    }
}
