//! `Str`: text known to be UTF-8, shared without copying.
//!
//! A stand-in with the same surface as `carafe_serve::websocket::Utf8Bytes`, which
//! replaces it once the WebSocket module lands (then text frames reach the handler
//! without a copy).

use std::fmt;

use bytes::Bytes;

/// Text known to be valid UTF-8, backed by [`Bytes`]: clones share the buffer.
///
/// ```
/// use carafe_engineio::Str;
///
/// let text = Str::from("héllo");
/// assert_eq!(text.as_str(), "héllo");
/// assert!(Str::try_from(bytes::Bytes::from_static(b"\xff")).is_err());
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Str(Bytes);

impl Str {
    /// A static string, without copying.
    ///
    /// ```
    /// let text = carafe_engineio::Str::from_static("ping");
    /// ```
    pub const fn from_static(text: &'static str) -> Self {
        Str(Bytes::from_static(text.as_bytes()))
    }

    /// The text.
    ///
    /// ```
    /// assert_eq!(carafe_engineio::Str::from("a").as_str(), "a");
    /// ```
    pub fn as_str(&self) -> &str {
        // Checked at construction; the check is repeated because this module has no
        // `unsafe` to skip it.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::ops::Deref for Str {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for Str {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for Str {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl From<String> for Str {
    fn from(text: String) -> Self {
        Str(Bytes::from(text))
    }
}

impl From<&str> for Str {
    fn from(text: &str) -> Self {
        Str(Bytes::copy_from_slice(text.as_bytes()))
    }
}

impl TryFrom<Bytes> for Str {
    type Error = std::str::Utf8Error;

    /// Checks that the bytes are UTF-8, without copying them.
    fn try_from(bytes: Bytes) -> Result<Self, Self::Error> {
        std::str::from_utf8(&bytes)?;
        Ok(Str(bytes))
    }
}

impl From<Str> for Bytes {
    fn from(text: Str) -> Self {
        text.0
    }
}
