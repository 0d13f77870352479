//! What can go wrong on an open WebSocket, and the close code each failure sends.

use std::fmt;
use std::io;

use super::close_code;

/// An error on a WebSocket connection.
///
/// When the peer broke the protocol, [`WebSocket::recv`](super::WebSocket::recv) has
/// already sent the close frame that [`close_code`](Self::close_code) names before
/// returning the error.
#[derive(Debug)]
#[non_exhaustive]
pub enum WebSocketError {
    /// The server never handed over the connection (it failed before sending `101`).
    Upgrade(crate::Error),
    /// The socket failed, or the server's grace period ended.
    Io(io::Error),
    /// A message or frame was larger than the configured maximum (closed with 1009).
    MessageTooBig {
        /// The size the peer announced or reached.
        size: usize,
        /// The configured maximum.
        max: usize,
    },
    /// A text message or close reason was not valid UTF-8 (closed with 1007).
    InvalidUtf8,
    /// The peer broke RFC 6455 framing (closed with 1002); the text says how.
    Protocol(String),
    /// The connection is closed (or closing): nothing more can be sent.
    Closed,
    /// More than `max_write_buffer_size` bytes are waiting for a slow peer.
    WriteBufferFull,
}

impl WebSocketError {
    /// The close code sent to the peer for this error, if the error is the peer's fault.
    /// This is the one place where errors become close codes.
    ///
    /// ```
    /// use carafe_serve::websocket::WebSocketError;
    ///
    /// assert_eq!(WebSocketError::InvalidUtf8.close_code(), Some(1007));
    /// assert_eq!(WebSocketError::Closed.close_code(), None);
    /// ```
    pub fn close_code(&self) -> Option<u16> {
        match self {
            WebSocketError::MessageTooBig { .. } => Some(close_code::MESSAGE_TOO_BIG),
            WebSocketError::InvalidUtf8 => Some(close_code::INVALID_PAYLOAD),
            WebSocketError::Protocol(_) => Some(close_code::PROTOCOL_ERROR),
            WebSocketError::Upgrade(_)
            | WebSocketError::Io(_)
            | WebSocketError::Closed
            | WebSocketError::WriteBufferFull => None,
        }
    }
}

impl fmt::Display for WebSocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebSocketError::Upgrade(error) => {
                write!(f, "the connection was not upgraded: {error}")
            }
            WebSocketError::Io(error) => write!(f, "websocket i/o failed: {error}"),
            WebSocketError::MessageTooBig { size, max } => write!(
                f,
                "websocket message of {size} bytes is over the {max}-byte limit (raise WebSocketConfig::max_message_size or max_frame_size)"
            ),
            WebSocketError::InvalidUtf8 => f.write_str("websocket text is not valid utf-8"),
            WebSocketError::Protocol(what) => write!(f, "websocket protocol error: {what}"),
            WebSocketError::Closed => f.write_str("the websocket is closed"),
            WebSocketError::WriteBufferFull => f.write_str(
                "the websocket write buffer is full: the peer reads too slowly (see WebSocketConfig::max_write_buffer_size)",
            ),
        }
    }
}

impl std::error::Error for WebSocketError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WebSocketError::Upgrade(error) => Some(error),
            WebSocketError::Io(error) => Some(error),
            _ => None,
        }
    }
}

impl From<io::Error> for WebSocketError {
    fn from(error: io::Error) -> Self {
        WebSocketError::Io(error)
    }
}
