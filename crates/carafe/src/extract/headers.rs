//! [`Header<T>`]: one request header, decoded into a type of its own.
//!
//! A header type implements [`TypedHeader`]: its name and how to decode its value. A
//! missing or undecodable header answers `400` naming the header; take
//! `Option<Header<T>>` to accept its absence. [`UserAgent`], [`ContentType`], [`Referer`]
//! and [`ContentLength`] come with carafe; [`TypedHeader`]'s example shows how to write
//! your own in a few lines.

use http::header::{CONTENT_LENGTH, CONTENT_TYPE, REFERER, USER_AGENT};
use http::{HeaderName, HeaderValue, StatusCode};

use super::{FromRequestParts, RequestParts};
use crate::error::HttpError;

/// A header type that [`Header<T>`] can extract: its name and its decoder.
///
/// ```
/// use carafe::extract::{Header, TypedHeader};
/// use http::{HeaderName, HeaderValue};
///
/// /// The `x-request-id` header, as a number.
/// struct RequestId(u64);
///
/// impl TypedHeader for RequestId {
///     fn name() -> HeaderName {
///         HeaderName::from_static("x-request-id")
///     }
///
///     fn decode(value: &HeaderValue) -> Option<Self> {
///         value.to_str().ok()?.parse().ok().map(RequestId)
///     }
/// }
///
/// async fn traced(Header(RequestId(id)): Header<RequestId>) -> String {
///     format!("request {id}")
/// }
/// # let _ = carafe::get(traced);
/// ```
pub trait TypedHeader: Sized {
    /// The header's name.
    ///
    /// ```
    /// use carafe::extract::{TypedHeader, UserAgent};
    /// assert_eq!(UserAgent::name(), http::header::USER_AGENT);
    /// ```
    fn name() -> HeaderName;

    /// Decodes the header's (first) value; `None` if it is not valid.
    ///
    /// ```
    /// use carafe::extract::{ContentLength, TypedHeader};
    /// let value = http::HeaderValue::from_static("42");
    /// assert_eq!(ContentLength::decode(&value).map(|length| length.0), Some(42));
    /// ```
    fn decode(value: &HeaderValue) -> Option<Self>;
}

/// One header, decoded into `T`; `400` when it is missing or invalid.
///
/// ```
/// use carafe::extract::{Header, UserAgent};
///
/// async fn agent(Header(UserAgent(agent)): Header<UserAgent>) -> String {
///     format!("you use {agent}")
/// }
///
/// async fn maybe(agent: Option<Header<UserAgent>>) -> String {
///     match agent {
///         Some(Header(UserAgent(agent))) => agent,
///         None => "no user agent".to_owned(),
///     }
/// }
/// # let _ = (carafe::get(agent), carafe::get(maybe));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Header<T>(pub T);

impl<T: TypedHeader> Header<T> {
    /// The header from `parts`: `Ok(None)` when absent, `Err` (`400`) when invalid.
    fn find(parts: &RequestParts) -> Result<Option<Self>, HttpError> {
        let name = T::name();
        let Some(value) = parts.headers().get(&name) else {
            return Ok(None);
        };
        match T::decode(value) {
            Some(decoded) => Ok(Some(Header(decoded))),
            None => Err(HttpError::new(
                StatusCode::BAD_REQUEST,
                format!("invalid `{name}` header"),
            )),
        }
    }
}

impl<T: TypedHeader + Send> FromRequestParts for Header<T> {
    async fn from_request_parts(parts: &mut RequestParts) -> Result<Self, HttpError> {
        Header::find(parts)?.ok_or_else(|| {
            HttpError::new(
                StatusCode::BAD_REQUEST,
                format!("missing `{}` header", T::name()),
            )
        })
    }
}

/// `None` when the header is absent; an invalid one still answers `400`.
impl<T: TypedHeader + Send> FromRequestParts for Option<Header<T>> {
    async fn from_request_parts(parts: &mut RequestParts) -> Result<Self, HttpError> {
        Header::find(parts)
    }
}

/// The text of a header value, if it is visible ASCII.
fn text(value: &HeaderValue) -> Option<String> {
    value.to_str().ok().map(str::to_owned)
}

/// `User-Agent`: the client's software (Flask's `request.user_agent.string`).
///
/// ```
/// use carafe::extract::{Header, UserAgent};
///
/// async fn is_curl(Header(UserAgent(agent)): Header<UserAgent>) -> String {
///     agent.starts_with("curl/").to_string()
/// }
/// # let _ = carafe::get(is_curl);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAgent(pub String);

impl TypedHeader for UserAgent {
    fn name() -> HeaderName {
        USER_AGENT
    }

    fn decode(value: &HeaderValue) -> Option<Self> {
        text(value).map(UserAgent)
    }
}

/// `Content-Type`, as sent (Flask's `request.content_type`).
///
/// ```
/// use carafe::extract::{ContentType, Header};
///
/// async fn kind(Header(ContentType(kind)): Header<ContentType>) -> String {
///     kind
/// }
/// # let _ = carafe::post(kind);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentType(pub String);

impl TypedHeader for ContentType {
    fn name() -> HeaderName {
        CONTENT_TYPE
    }

    fn decode(value: &HeaderValue) -> Option<Self> {
        text(value).map(ContentType)
    }
}

/// `Referer`: the page the request came from (Flask's `request.referrer`).
///
/// ```
/// use carafe::extract::{Header, Referer};
///
/// async fn back(referer: Option<Header<Referer>>) -> String {
///     referer.map(|Header(Referer(url))| url).unwrap_or_else(|| "/".to_owned())
/// }
/// # let _ = carafe::get(back);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referer(pub String);

impl TypedHeader for Referer {
    fn name() -> HeaderName {
        REFERER
    }

    fn decode(value: &HeaderValue) -> Option<Self> {
        text(value).map(Referer)
    }
}

/// `Content-Length`, as a number (Flask's `request.content_length`).
///
/// ```
/// use carafe::extract::{ContentLength, Header};
///
/// async fn size(length: Option<Header<ContentLength>>) -> String {
///     length.map_or(0, |Header(ContentLength(length))| length).to_string()
/// }
/// # let _ = carafe::post(size);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentLength(pub u64);

impl TypedHeader for ContentLength {
    fn name() -> HeaderName {
        CONTENT_LENGTH
    }

    fn decode(value: &HeaderValue) -> Option<Self> {
        value.to_str().ok()?.parse().ok().map(ContentLength)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(name: &str, value: &str) -> RequestParts {
        let (head, ()) = http::Request::get("/")
            .header(name, value)
            .body(())
            .unwrap_or_default()
            .into_parts();
        RequestParts::new(head)
    }

    #[tokio::test]
    async fn present_missing_and_invalid() {
        let mut ok = parts("user-agent", "curl/8");
        let Header(UserAgent(agent)) = Header::<UserAgent>::from_request_parts(&mut ok)
            .await
            .expect("present");
        assert_eq!(agent, "curl/8");

        let mut other = parts("x-other", "1");
        let error = Header::<UserAgent>::from_request_parts(&mut other)
            .await
            .expect_err("missing");
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        assert_eq!(error.message(), "missing `user-agent` header");
        let absent = Option::<Header<UserAgent>>::from_request_parts(&mut other).await;
        assert!(matches!(absent, Ok(None)));

        let mut bad = parts("content-length", "ten");
        let error = Option::<Header<ContentLength>>::from_request_parts(&mut bad)
            .await
            .expect_err("invalid");
        assert_eq!(error.message(), "invalid `content-length` header");
    }
}
