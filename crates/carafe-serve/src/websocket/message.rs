//! What travels over a WebSocket (RFC 6455 §5.6, §5.5): messages, close frames and the
//! close codes of §7.4.1.

use std::fmt;

use bytes::Bytes;

/// Close codes from RFC 6455 §7.4.1 that this module sends.
pub mod close_code {
    /// 1000: the purpose of the connection has been fulfilled.
    pub const NORMAL: u16 = 1000;
    /// 1001: the server is going away (a graceful shutdown).
    pub const GOING_AWAY: u16 = 1001;
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// 1007: a text message was not valid UTF-8.
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// 1008: a message broke the application's policy.
    pub const POLICY_VIOLATION: u16 = 1008;
    /// 1009: a message or frame was larger than the configured maximum.
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    /// 1011: the server met a condition it could not handle.
    pub const INTERNAL_ERROR: u16 = 1011;
}

/// One WebSocket message, or a control frame.
///
/// ```
/// use carafe_serve::websocket::Message;
///
/// let hello = Message::text("hello");
/// assert_eq!(hello, Message::Text("hello".into()));
/// let blob = Message::binary(vec![1, 2, 3]);
/// assert!(matches!(blob, Message::Binary(bytes) if bytes.len() == 3));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message: always valid UTF-8.
    Text(Utf8Bytes),
    /// A binary message.
    Binary(Bytes),
    /// A ping. [`WebSocket::recv`](super::WebSocket::recv) has already answered it.
    Ping(Bytes),
    /// A pong.
    Pong(Bytes),
    /// A close frame, with the peer's code and reason if it sent one.
    Close(Option<CloseFrame>),
}

impl Message {
    /// A text message.
    ///
    /// ```
    /// let message = carafe_serve::websocket::Message::text(String::from("hi"));
    /// ```
    pub fn text(text: impl Into<Utf8Bytes>) -> Self {
        Message::Text(text.into())
    }

    /// A binary message.
    ///
    /// ```
    /// let message = carafe_serve::websocket::Message::binary(&b"\x00\x01"[..]);
    /// ```
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Message::Binary(data.into())
    }
}

/// The code and reason of a close frame (RFC 6455 §5.5.1).
///
/// ```
/// use carafe_serve::websocket::{close_code, CloseFrame};
///
/// let frame = CloseFrame::new(close_code::NORMAL, "bye");
/// assert_eq!(frame.reason.as_str(), "bye");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    /// The status code (see [`close_code`]).
    pub code: u16,
    /// Why, for a person; at most 123 bytes on the wire.
    pub reason: Utf8Bytes,
}

impl CloseFrame {
    /// A close frame with a code and a reason.
    ///
    /// ```
    /// let frame = carafe_serve::websocket::CloseFrame::new(1000, "done");
    /// assert_eq!(frame.code, 1000);
    /// ```
    pub fn new(code: u16, reason: impl Into<Utf8Bytes>) -> Self {
        CloseFrame {
            code,
            reason: reason.into(),
        }
    }
}

/// Text known to be valid UTF-8, shared without copying (it wraps [`Bytes`]).
///
/// ```
/// use carafe_serve::websocket::Utf8Bytes;
///
/// let text = Utf8Bytes::from("héllo");
/// assert_eq!(text.as_str(), "héllo");
/// assert!(text.starts_with("hé")); // derefs to str
/// assert!(Utf8Bytes::try_from(bytes::Bytes::from_static(b"\xff")).is_err());
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Utf8Bytes(
    /// Always valid UTF-8: every constructor checks or starts from a `str`.
    Bytes,
);

impl Utf8Bytes {
    /// A static string, without copying.
    ///
    /// ```
    /// let text = carafe_serve::websocket::Utf8Bytes::from_static("ping");
    /// ```
    pub const fn from_static(text: &'static str) -> Self {
        Utf8Bytes(Bytes::from_static(text.as_bytes()))
    }

    /// The text.
    ///
    /// ```
    /// assert_eq!(carafe_serve::websocket::Utf8Bytes::from("a").as_str(), "a");
    /// ```
    #[allow(unsafe_code)]
    pub fn as_str(&self) -> &str {
        // SAFETY: the bytes are valid UTF-8: `from_static`, `From<&str>` and
        // `From<String>` start from a `str`, `TryFrom<Bytes>` checks, and nothing else
        // builds or changes the field. Checking again here would cost O(n) per call.
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }
}

impl std::ops::Deref for Utf8Bytes {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Utf8Bytes {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Utf8Bytes {
    fn as_ref(&self) -> &[u8] {
        self.as_str().as_bytes()
    }
}

impl fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for Utf8Bytes {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Utf8Bytes {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl From<String> for Utf8Bytes {
    fn from(text: String) -> Self {
        Utf8Bytes(Bytes::from(text))
    }
}

impl From<&str> for Utf8Bytes {
    fn from(text: &str) -> Self {
        Utf8Bytes(Bytes::copy_from_slice(text.as_bytes()))
    }
}

impl TryFrom<Bytes> for Utf8Bytes {
    type Error = std::str::Utf8Error;

    /// Checks that the bytes are UTF-8, without copying them.
    fn try_from(bytes: Bytes) -> Result<Self, Self::Error> {
        std::str::from_utf8(&bytes)?;
        Ok(Utf8Bytes(bytes))
    }
}

impl From<Utf8Bytes> for Bytes {
    fn from(text: Utf8Bytes) -> Self {
        text.0
    }
}

impl From<Utf8Bytes> for String {
    fn from(text: Utf8Bytes) -> Self {
        text.as_str().to_owned()
    }
}
