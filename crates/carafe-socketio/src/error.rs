//! The crate's errors and the reasons a socket leaves a namespace.

use std::fmt;

use crate::adapter::AdapterError;
use crate::packet::EncodeError;

/// Why an emit or a request failed.
///
/// ```
/// let err = carafe_socketio::Error::AckTimeout;
/// assert_eq!(err.to_string(), "no acknowledgement before the timeout");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The payload could not be serialized.
    Encode(EncodeError),
    /// The socket is disconnected.
    Disconnected,
    /// The other side did not acknowledge in time.
    AckTimeout,
    /// An acknowledgement arrived but did not deserialize to the expected type.
    AckPayload(serde_json::Error),
    /// An event's arguments (or per-socket data) did not deserialize to the expected type.
    Payload(serde_json::Error),
    /// The adapter failed (a cluster adapter's transport).
    Adapter(AdapterError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Encode(err) => err.fmt(f),
            Error::Disconnected => f.write_str("the socket is disconnected"),
            Error::AckTimeout => f.write_str("no acknowledgement before the timeout"),
            Error::AckPayload(err) => write!(f, "acknowledgement has an unexpected payload: {err}"),
            Error::Adapter(err) => err.fmt(f),
            Error::Payload(err) => write!(f, "payload has an unexpected shape: {err}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Encode(err) => Some(err),
            Error::AckPayload(err) | Error::Payload(err) => Some(err),
            Error::Adapter(err) => Some(err),
            Error::Disconnected | Error::AckTimeout => None,
        }
    }
}

impl From<EncodeError> for Error {
    fn from(err: EncodeError) -> Self {
        Error::Encode(err)
    }
}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Self {
        Error::Payload(err)
    }
}

impl From<AdapterError> for Error {
    fn from(err: AdapterError) -> Self {
        Error::Adapter(err)
    }
}

/// A refusal from connect middleware, sent to the client as `CONNECT_ERROR
/// {message, data}`.
///
/// ```
/// use carafe_socketio::ConnectError;
///
/// let refusal = ConnectError::new("not authorized").with_data(serde_json::json!({"retry": false}));
/// assert_eq!(refusal.message, "not authorized");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectError {
    /// The `message` the client's `connect_error` handler gets.
    pub message: String,
    /// Optional `data` sent with it.
    pub data: Option<serde_json::Value>,
}

impl ConnectError {
    /// A refusal with this message and no data.
    ///
    /// ```
    /// let _ = carafe_socketio::ConnectError::new("banned");
    /// ```
    pub fn new(message: impl Into<String>) -> Self {
        ConnectError {
            message: message.into(),
            data: None,
        }
    }

    /// Adds `data`.
    ///
    /// ```
    /// let _ = carafe_socketio::ConnectError::new("banned").with_data(serde_json::json!(1));
    /// ```
    pub fn with_data(mut self, data: serde_json::Value) -> Self {
        self.data = Some(data);
        self
    }
}

/// Why a socket left its namespace, with the strings Node's Socket.IO uses.
///
/// ```
/// use carafe_socketio::DisconnectReason;
/// assert_eq!(DisconnectReason::ClientNamespaceDisconnect.as_str(), "client namespace disconnect");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The server called `disconnect`.
    ServerNamespaceDisconnect,
    /// The client sent `DISCONNECT`.
    ClientNamespaceDisconnect,
    /// The server is shutting down.
    ServerShuttingDown,
    /// The client stopped answering pings.
    PingTimeout,
    /// The connection was closed by the client or the network.
    TransportClose,
    /// The connection failed.
    TransportError,
    /// The client sent a malformed packet.
    ParseError,
    /// The server closed the whole connection.
    ForcedClose,
}

impl DisconnectReason {
    /// The reason as Node's Socket.IO spells it.
    ///
    /// ```
    /// assert_eq!(carafe_socketio::DisconnectReason::PingTimeout.as_str(), "ping timeout");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::ServerNamespaceDisconnect => "server namespace disconnect",
            DisconnectReason::ClientNamespaceDisconnect => "client namespace disconnect",
            DisconnectReason::ServerShuttingDown => "server shutting down",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::ParseError => "parse error",
            DisconnectReason::ForcedClose => "forced close",
        }
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
