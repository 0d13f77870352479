//! The serving layer's one error type.
//!
//! Every failure of `carafe-serve` (binding, accepting, reading a request, reading a body)
//! is an [`Error`]. Protocol violations carry a [`ParseError`], and
//! [`Error::status`] maps each error to the HTTP answer the server sends for it: this is
//! the single place where that mapping lives.

use std::fmt;
use std::io;
use std::net::SocketAddr;

use http::StatusCode;

use crate::http1::ParseError;

/// A boxed error from outside the serving layer (a user's response body, say).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error of the serving layer.
///
/// Its `Debug` form is its message followed by its sources, so that
/// `fn main() -> Result<(), carafe_serve::Error>` prints something a person can act on
/// ("address 127.0.0.1:8082 is already in use: …") rather than a struct dump.
#[non_exhaustive]
pub enum Error {
    /// The listening socket could not be created or bound to its address.
    Bind {
        /// The address we tried to bind.
        addr: SocketAddr,
        /// What the operating system said.
        source: io::Error,
    },
    /// `listen(2)` failed on a bound socket.
    Listen(io::Error),
    /// An I/O error on an established connection.
    Io(io::Error),
    /// The peer sent bytes that are not a valid HTTP/1.1 message.
    Parse(ParseError),
    /// A request body is longer than `Limits::max_body_bytes`.
    BodyTooLarge {
        /// The configured limit in bytes.
        limit: u64,
    },
    /// A deadline passed while waiting for the peer.
    Timeout(Deadline),
    /// The peer closed the connection in the middle of a message.
    IncompleteMessage,
    /// A response body produced an error while it was being written.
    Body(BoxError),
    /// Spawning or supervising a worker process failed.
    Process(io::Error),
    /// The TLS certificate or key could not be made, read or used.
    Tls {
        /// What we were doing, with the file concerned.
        context: String,
        /// The underlying failure.
        source: BoxError,
    },
}

/// Which timer ran out, for [`Error::Timeout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Deadline {
    /// The request head did not arrive in time (slowloris protection).
    HeaderRead,
    /// No body bytes arrived for too long.
    BodyRead,
    /// The keep-alive connection sat idle for too long.
    Idle,
}

impl Error {
    /// The status code the server answers this error with, or `None` when the
    /// connection is closed without an answer (the peer is gone, or it is not our turn
    /// to speak).
    ///
    /// This is the only place where serving-layer errors become HTTP answers.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Parse(parse) => Some(parse.status()),
            Error::BodyTooLarge { .. } => Some(StatusCode::PAYLOAD_TOO_LARGE),
            Error::Timeout(Deadline::HeaderRead) => Some(StatusCode::REQUEST_TIMEOUT),
            Error::Timeout(Deadline::BodyRead) => Some(StatusCode::REQUEST_TIMEOUT),
            Error::Timeout(Deadline::Idle) => None,
            Error::Bind { .. }
            | Error::Listen(_)
            | Error::Io(_)
            | Error::IncompleteMessage
            | Error::Body(_)
            | Error::Process(_)
            | Error::Tls { .. } => None,
        }
    }

    /// Whether this is a bind failure because the address is already in use.
    pub fn is_addr_in_use(&self) -> bool {
        matches!(self, Error::Bind { source, .. } if source.kind() == io::ErrorKind::AddrInUse)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Bind { addr, source } if source.kind() == io::ErrorKind::AddrInUse => write!(
                f,
                "address {addr} is already in use: port {} is in use by another program; \
                 stop that program or start the server with a different port",
                addr.port()
            ),
            Error::Bind { addr, source } => write!(f, "cannot bind {addr}: {source}"),
            Error::Listen(source) => write!(f, "cannot listen on the bound socket: {source}"),
            Error::Io(source) => write!(f, "connection i/o error: {source}"),
            Error::Parse(parse) => write!(f, "malformed request: {parse}"),
            Error::BodyTooLarge { limit } => {
                write!(f, "request body is larger than the limit of {limit} bytes")
            }
            Error::Timeout(Deadline::HeaderRead) => {
                f.write_str("request head not received in time")
            }
            Error::Timeout(Deadline::BodyRead) => f.write_str("request body not received in time"),
            Error::Timeout(Deadline::Idle) => f.write_str("keep-alive connection idle too long"),
            Error::IncompleteMessage => {
                f.write_str("connection closed before the message was complete")
            }
            Error::Body(source) => write!(f, "response body failed: {source}"),
            Error::Process(source) => write!(f, "worker process failed: {source}"),
            Error::Tls { context, source } => write!(f, "{context}: {source}"),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")?;
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            write!(f, "\n  caused by: {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Bind { source, .. } | Error::Listen(source) | Error::Io(source) => Some(source),
            Error::Process(source) => Some(source),
            Error::Parse(parse) => Some(parse),
            Error::Body(source) | Error::Tls { source, .. } => Some(source.as_ref()),
            Error::BodyTooLarge { .. } | Error::Timeout(_) | Error::IncompleteMessage => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(source: io::Error) -> Self {
        Error::Io(source)
    }
}

impl From<ParseError> for Error {
    fn from(parse: ParseError) -> Self {
        Error::Parse(parse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_maps_to_its_answer() {
        let cases: Vec<(Error, Option<u16>)> = vec![
            (
                Error::Parse(ParseError::ContentLengthAndTransferEncoding),
                Some(400),
            ),
            (Error::Parse(ParseError::HeadersTooLarge), Some(431)),
            (Error::Parse(ParseError::UriTooLong), Some(414)),
            (Error::Parse(ParseError::UnsupportedVersion), Some(505)),
            (Error::BodyTooLarge { limit: 1 }, Some(413)),
            (Error::Timeout(Deadline::HeaderRead), Some(408)),
            (Error::Timeout(Deadline::BodyRead), Some(408)),
            (Error::Timeout(Deadline::Idle), None),
            (Error::IncompleteMessage, None),
            (Error::Io(io::Error::other("x")), None),
        ];
        for (error, status) in cases {
            assert_eq!(error.status().map(|s| s.as_u16()), status, "{error}");
        }
    }

    #[test]
    fn addr_in_use_message_names_the_port() {
        let error = Error::Bind {
            addr: "127.0.0.1:8082".parse().expect("valid literal"),
            source: io::Error::from(io::ErrorKind::AddrInUse),
        };
        assert!(error.is_addr_in_use());
        assert!(error.to_string().contains("port 8082 is in use"));
    }
}
