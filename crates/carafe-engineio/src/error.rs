//! The crate's errors and the one place where each becomes its answer.
//!
//! The reference server (`engine.io` 6.x) answers a rejected long-polling request with
//! HTTP 400 (403 for `Forbidden`) and a JSON body `{"code":N,"message":"..."}`, and a
//! rejected WebSocket upgrade with `400 Bad Request`, `Connection: close` and the message
//! as a `text/html` body. [`Error::response`] is the only function that builds these
//! answers; close reasons that reach the application are [`DisconnectReason`]s.

use std::fmt;

use bytes::Bytes;
use http::{header, HeaderValue, StatusCode};

use carafe_serve::{Body, Response};

use crate::packet::ParseError;

/// Why a request to the Engine.IO endpoint was refused.
///
/// ```
/// use carafe_engineio::Error;
///
/// assert_eq!(Error::UnknownSid.code(), Some(1));
/// assert_eq!(Error::UnknownSid.to_string(), "Session ID unknown");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Code 0: the `transport` query parameter is missing or names a transport that is
    /// not enabled.
    UnknownTransport,
    /// Code 1: the `sid` names no live session.
    UnknownSid,
    /// Code 2: a handshake (a request without `sid`) that is not a `GET`.
    BadHandshakeMethod,
    /// Code 3: anything else the client got wrong; the detail is logged, not sent.
    BadRequest(BadRequest),
    /// Code 4: the `Origin` is not in `cors_allowed_origins` (answered with 403).
    Forbidden,
    /// Code 5: `EIO` is missing or not `4`.
    UnsupportedProtocolVersion,
    /// A long-polling POST body longer than `max_payload` (413, no body, as the reference).
    PayloadTooLarge,
    /// The server already holds `max_sessions` sessions (503).
    TooManySessions,
}

/// What was wrong with a request answered with code 3, "Bad request".
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BadRequest {
    /// A request for an existing session over another transport, outside an upgrade.
    TransportMismatch,
    /// A WebSocket handshake without the WebSocket upgrade headers, or an upgrade request
    /// for a transport that cannot be upgraded to.
    TransportHandshake,
    /// A second GET while one is pending for the same session (the session is closed).
    OverlappingPoll,
    /// A second POST while one is being read for the same session (the session is closed).
    OverlappingPost,
    /// A POST with `Content-Type: application/octet-stream`, which protocol 4 never sends.
    BinaryContent,
    /// A POST body that is not a valid payload (the session is closed).
    Payload(ParseError),
    /// A method other than GET and POST for an existing session.
    Method,
    /// The operating system could not provide random bytes for a session id.
    IdGeneration,
    /// The request body could not be read.
    Body,
}

/// Which kind of request an error answers: the reference answers long-polling requests
/// with JSON and WebSocket upgrade requests with a bare `400 Bad Request`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// A plain HTTP request (long-polling, preflight, a WebSocket handshake sent without
    /// upgrade headers).
    Http,
    /// A request that asks to upgrade to WebSocket.
    Upgrade,
}

impl Error {
    /// The Engine.IO error code, for the errors that have one.
    pub fn code(&self) -> Option<u8> {
        Some(match self {
            Error::UnknownTransport => 0,
            Error::UnknownSid => 1,
            Error::BadHandshakeMethod => 2,
            Error::BadRequest(_) => 3,
            Error::Forbidden => 4,
            Error::UnsupportedProtocolVersion => 5,
            Error::PayloadTooLarge | Error::TooManySessions => return None,
        })
    }

    /// The HTTP status of the answer to a plain HTTP request.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::Forbidden => StatusCode::FORBIDDEN,
            Error::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Error::TooManySessions => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The answer the client gets: the only place errors become responses.
    ///
    /// ```
    /// use carafe_engineio::{Error, RequestKind};
    ///
    /// let response = Error::Forbidden.response(RequestKind::Http);
    /// assert_eq!(response.status(), 403);
    /// assert_eq!(response.headers()["content-type"], "application/json");
    /// let response = Error::UnknownSid.response(RequestKind::Upgrade);
    /// assert_eq!(response.status(), 400);
    /// assert_eq!(response.headers()["connection"], "close");
    /// ```
    pub fn response(&self, kind: RequestKind) -> Response {
        match (kind, self.code()) {
            (RequestKind::Upgrade, _) => {
                let message = self.message();
                let mut response = Response::new(Body::from(message));
                *response.status_mut() = StatusCode::BAD_REQUEST;
                let headers = response.headers_mut();
                headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
                headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
                response
            }
            (RequestKind::Http, Some(code)) => {
                let body = format!("{{\"code\":{code},\"message\":\"{}\"}}", self.message());
                let mut response = Response::new(Body::from(Bytes::from(body)));
                *response.status_mut() = self.status();
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                response
            }
            (RequestKind::Http, None) => {
                let mut response = Response::new(Body::empty());
                *response.status_mut() = self.status();
                response
            }
        }
    }

    /// The reference server's message for the code (no quotes or backslashes, so it
    /// goes into JSON as is).
    fn message(&self) -> &'static str {
        match self {
            Error::UnknownTransport => "Transport unknown",
            Error::UnknownSid => "Session ID unknown",
            Error::BadHandshakeMethod => "Bad handshake method",
            Error::BadRequest(_) => "Bad request",
            Error::Forbidden => "Forbidden",
            Error::UnsupportedProtocolVersion => "Unsupported protocol version",
            Error::PayloadTooLarge => "Payload too large",
            Error::TooManySessions => "Too many sessions",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadRequest(detail) => write!(f, "Bad request: {detail}"),
            _ => f.write_str(self.message()),
        }
    }
}

impl std::error::Error for Error {}

impl fmt::Display for BadRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadRequest::TransportMismatch => {
                f.write_str("the session uses another transport and is not upgrading")
            }
            BadRequest::TransportHandshake => {
                f.write_str("a websocket handshake needs the websocket upgrade headers")
            }
            BadRequest::OverlappingPoll => {
                f.write_str("a second GET arrived while one was pending; the session is closed")
            }
            BadRequest::OverlappingPost => {
                f.write_str("a second POST arrived while one was read; the session is closed")
            }
            BadRequest::BinaryContent => {
                f.write_str("protocol 4 sends binary data as base64 text, not octet-stream")
            }
            BadRequest::Payload(parse) => write!(f, "bad payload: {parse}"),
            BadRequest::Method => f.write_str("long-polling takes only GET and POST"),
            BadRequest::IdGeneration => f.write_str("no random bytes for a session id"),
            BadRequest::Body => f.write_str("the request body could not be read"),
        }
    }
}

/// Why a session ended; the application gets it in
/// [`Handler::on_disconnect`](crate::Handler::on_disconnect).
///
/// ```
/// use carafe_engineio::DisconnectReason;
///
/// assert_eq!(DisconnectReason::PingTimeout.as_str(), "ping timeout");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The client closed: a `close` packet, or its WebSocket closed cleanly.
    TransportClose,
    /// The transport failed: a broken connection, an overlapping request, a write error.
    TransportError,
    /// No pong came within `ping_timeout` of a ping.
    PingTimeout,
    /// The server shut down (graceful shutdown of the listening server).
    ServerClose,
    /// The application closed the session with [`Socket::close`](crate::Socket::close).
    ForcedClose,
    /// The client sent bytes that are not Engine.IO packets.
    ParseError,
    /// The session's outgoing buffer passed `max_buffered_bytes`: a consumer too slow for
    /// what is sent to it.
    BufferFull,
}

impl DisconnectReason {
    /// The reason as the reference server names it.
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::ServerClose => "server close",
            DisconnectReason::ForcedClose => "forced close",
            DisconnectReason::ParseError => "parse error",
            DisconnectReason::BufferFull => "buffer full",
        }
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(response: Response) -> String {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let bytes = runtime
            .block_on(response.into_body().to_bytes(1 << 16))
            .expect("body");
        String::from_utf8(bytes.to_vec()).expect("utf-8")
    }

    #[test]
    fn every_error_answers_as_the_reference_server() {
        let cases: Vec<(Error, u16, &str)> = vec![
            (
                Error::UnknownTransport,
                400,
                r#"{"code":0,"message":"Transport unknown"}"#,
            ),
            (
                Error::UnknownSid,
                400,
                r#"{"code":1,"message":"Session ID unknown"}"#,
            ),
            (
                Error::BadHandshakeMethod,
                400,
                r#"{"code":2,"message":"Bad handshake method"}"#,
            ),
            (
                Error::BadRequest(BadRequest::TransportMismatch),
                400,
                r#"{"code":3,"message":"Bad request"}"#,
            ),
            (Error::Forbidden, 403, r#"{"code":4,"message":"Forbidden"}"#),
            (
                Error::UnsupportedProtocolVersion,
                400,
                r#"{"code":5,"message":"Unsupported protocol version"}"#,
            ),
            (Error::PayloadTooLarge, 413, ""),
            (Error::TooManySessions, 503, ""),
        ];
        for (error, status, body) in cases {
            let response = error.response(RequestKind::Http);
            assert_eq!(response.status(), status, "{error:?}");
            if error.code().is_some() {
                assert_eq!(response.headers()["content-type"], "application/json");
            }
            assert_eq!(body_of(response), body, "{error:?}");
        }
    }

    #[test]
    fn upgrade_requests_get_a_bare_400_with_the_message() {
        for error in [Error::UnknownTransport, Error::UnknownSid, Error::Forbidden] {
            let response = error.response(RequestKind::Upgrade);
            assert_eq!(response.status(), 400);
            assert_eq!(response.headers()["connection"], "close");
            assert_eq!(response.headers()["content-type"], "text/html");
            assert_eq!(body_of(response), error.message());
        }
    }

    #[test]
    fn reasons_are_named_as_the_reference_names_them() {
        let names = [
            (DisconnectReason::TransportClose, "transport close"),
            (DisconnectReason::TransportError, "transport error"),
            (DisconnectReason::PingTimeout, "ping timeout"),
            (DisconnectReason::ServerClose, "server close"),
            (DisconnectReason::ForcedClose, "forced close"),
            (DisconnectReason::ParseError, "parse error"),
        ];
        for (reason, name) in names {
            assert_eq!(reason.to_string(), name);
        }
    }
}
