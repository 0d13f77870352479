//! The opening handshake, sans-IO (RFC 6455 §4.2): checks a request head and builds the
//! `101 Switching Protocols` answer, or the error answer when the request is not a valid
//! WebSocket handshake.

use std::fmt;

use base64::Engine as _;
use http::header::{HeaderMap, HeaderName, HeaderValue, CONNECTION, UPGRADE};
use http::{Method, StatusCode, Version};
use sha1::{Digest, Sha1};

use crate::gateway::{Body, Response};

/// RFC 6455 §1.3: the GUID appended to the client's key before hashing.
const KEY_GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The only protocol version this server speaks (RFC 6455 §4.1).
pub(crate) const VERSION: &str = "13";

const SEC_WEBSOCKET_KEY: HeaderName = HeaderName::from_static("sec-websocket-key");
const SEC_WEBSOCKET_VERSION: HeaderName = HeaderName::from_static("sec-websocket-version");
const SEC_WEBSOCKET_ACCEPT: HeaderName = HeaderName::from_static("sec-websocket-accept");

/// Why a request is not a WebSocket handshake the server can accept.
///
/// [`HandshakeError::into_response`] is the answer to send instead of `101`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The request's method is not `GET` (RFC 6455 §4.1, item 2).
    MethodNotGet(Method),
    /// The request is older than HTTP/1.1.
    HttpVersionTooOld,
    /// `Upgrade` does not name `websocket`.
    NoUpgradeWebSocket,
    /// `Connection` does not contain the `upgrade` option.
    NoConnectionUpgrade,
    /// `Sec-WebSocket-Key` is absent or appears more than once.
    MissingKey,
    /// `Sec-WebSocket-Key` is not the base64 form of 16 bytes.
    InvalidKey,
    /// `Sec-WebSocket-Version` is absent or not 13 (answered with 426).
    UnsupportedVersion(Option<String>),
    /// The server did not offer this connection for an upgrade (the request did not come
    /// through carafe-serve's HTTP/1.1 connection, or was already upgraded).
    NotUpgradable,
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeError::MethodNotGet(method) => {
                write!(f, "a websocket handshake must use GET, not {method}")
            }
            HandshakeError::HttpVersionTooOld => {
                f.write_str("a websocket handshake needs HTTP/1.1 or later")
            }
            HandshakeError::NoUpgradeWebSocket => {
                f.write_str("the upgrade header must name websocket")
            }
            HandshakeError::NoConnectionUpgrade => {
                f.write_str("the connection header must contain upgrade")
            }
            HandshakeError::MissingKey => {
                f.write_str("exactly one sec-websocket-key header is required")
            }
            HandshakeError::InvalidKey => {
                f.write_str("sec-websocket-key must be 16 bytes in base64")
            }
            HandshakeError::UnsupportedVersion(None) => {
                f.write_str("sec-websocket-version is missing; this server speaks version 13")
            }
            HandshakeError::UnsupportedVersion(Some(version)) => write!(
                f,
                "sec-websocket-version {version:?} is not supported; this server speaks version 13"
            ),
            HandshakeError::NotUpgradable => {
                f.write_str("this connection cannot be upgraded to a websocket")
            }
        }
    }
}

impl std::error::Error for HandshakeError {}

impl HandshakeError {
    /// The status this error is answered with: 426 for a version the server does not
    /// speak, 400 for everything else.
    ///
    /// ```
    /// use carafe_serve::websocket::HandshakeError;
    ///
    /// assert_eq!(HandshakeError::UnsupportedVersion(None).status(), 426);
    /// assert_eq!(HandshakeError::MissingKey.status(), 400);
    /// ```
    pub fn status(&self) -> StatusCode {
        match self {
            HandshakeError::UnsupportedVersion(_) => StatusCode::UPGRADE_REQUIRED,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The answer to send instead of `101`: the status from [`status`](Self::status), the
    /// error's text as a `text/plain` body, and for 426 the `Sec-WebSocket-Version: 13`
    /// and `Upgrade: websocket` headers that tell the client what to ask for
    /// (RFC 6455 §4.4, RFC 9110 §15.5.22).
    ///
    /// ```
    /// use carafe_serve::websocket::HandshakeError;
    ///
    /// let response = HandshakeError::UnsupportedVersion(Some("8".into())).into_response();
    /// assert_eq!(response.status(), 426);
    /// assert_eq!(response.headers()["sec-websocket-version"], "13");
    /// ```
    pub fn into_response(self) -> Response {
        let status = self.status();
        let mut response = Response::new(Body::from(format!("{self}\n")));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        if status == StatusCode::UPGRADE_REQUIRED {
            headers.insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static(VERSION));
            headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
        }
        response
    }
}

/// Whether `headers` ask to upgrade to a WebSocket: `Upgrade` names `websocket` and
/// `Connection` contains `upgrade`. The method and the key are checked later, by
/// [`check_request`], so that a bad handshake gets an answer that says what is wrong.
pub(crate) fn asks_for_websocket(headers: &HeaderMap) -> bool {
    has_token(headers, &UPGRADE, "websocket") && has_token(headers, &CONNECTION, "upgrade")
}

/// Checks a request head against RFC 6455 §4.2.1 and returns the `Sec-WebSocket-Accept`
/// value to answer with.
pub(crate) fn check_request(
    method: &Method,
    version: Version,
    headers: &HeaderMap,
) -> Result<HeaderValue, HandshakeError> {
    if method != Method::GET {
        return Err(HandshakeError::MethodNotGet(method.clone()));
    }
    if version < Version::HTTP_11 {
        return Err(HandshakeError::HttpVersionTooOld);
    }
    if !has_token(headers, &UPGRADE, "websocket") {
        return Err(HandshakeError::NoUpgradeWebSocket);
    }
    if !has_token(headers, &CONNECTION, "upgrade") {
        return Err(HandshakeError::NoConnectionUpgrade);
    }
    check_version(headers)?;
    let key = single(headers, &SEC_WEBSOCKET_KEY).ok_or(HandshakeError::MissingKey)?;
    if !is_valid_key(key.as_bytes()) {
        return Err(HandshakeError::InvalidKey);
    }
    Ok(accept_key(key.as_bytes()))
}

/// The `101` answer for a checked handshake.
pub(crate) fn switching_protocols(accept: HeaderValue) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(SEC_WEBSOCKET_ACCEPT, accept);
    response
}

fn check_version(headers: &HeaderMap) -> Result<(), HandshakeError> {
    match single(headers, &SEC_WEBSOCKET_VERSION) {
        Some(version) if version.as_bytes().trim_ascii() == VERSION.as_bytes() => Ok(()),
        Some(version) => Err(HandshakeError::UnsupportedVersion(Some(
            String::from_utf8_lossy(version.as_bytes()).into_owned(),
        ))),
        None => Err(HandshakeError::UnsupportedVersion(None)),
    }
}

/// The header's value if it appears exactly once.
fn single<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<&'h HeaderValue> {
    let mut values = headers.get_all(name).iter();
    match (values.next(), values.next()) {
        (Some(value), None) => Some(value),
        _ => None,
    }
}

/// Whether a comma-separated header (over all its lines) contains `token`, ignoring case.
fn has_token(headers: &HeaderMap, name: &HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|value| {
        value
            .as_bytes()
            .split(|byte| *byte == b',')
            .any(|item| item.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
    })
}

/// RFC 6455 §4.1: "a nonce consisting of a randomly selected 16-byte value that has been
/// base64-encoded".
fn is_valid_key(key: &[u8]) -> bool {
    let key = key.trim_ascii();
    key.len() == 24
        && base64::engine::general_purpose::STANDARD
            .decode(key)
            .is_ok_and(|nonce| nonce.len() == 16)
}

/// RFC 6455 §4.2.2: base64 of the SHA-1 of the key followed by the GUID.
fn accept_key(key: &[u8]) -> HeaderValue {
    let mut sha1 = Sha1::new();
    sha1.update(key.trim_ascii());
    sha1.update(KEY_GUID);
    let encoded = base64::engine::general_purpose::STANDARD.encode(sha1.finalize());
    // Base64 output is always a valid header value.
    HeaderValue::from_str(&encoded).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests;
