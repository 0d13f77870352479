//! Session ids: 16 bytes from the operating system's random source, base64url without
//! padding (22 characters), unguessable as the protocol's security rests on them.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// The number of characters of a session id.
const LEN: usize = 22;

/// A session id.
///
/// ```
/// use carafe_engineio::Sid;
///
/// let sid = Sid::generate().unwrap();
/// assert_eq!(sid.as_str().len(), 22);
/// assert_eq!(Sid::parse(sid.as_str()), Some(sid));
/// assert_eq!(Sid::parse("not a sid"), None);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sid([u8; LEN]);

impl Sid {
    /// A fresh id from 16 random bytes; fails only if the operating system has no
    /// randomness to give.
    pub fn generate() -> Result<Sid, getrandom::Error> {
        let mut random = [0u8; 16];
        getrandom::fill(&mut random)?;
        let mut text = [0u8; LEN];
        // 16 bytes are exactly 22 base64 characters without padding.
        let written = URL_SAFE_NO_PAD.encode_slice(random, &mut text).unwrap_or(0);
        debug_assert_eq!(written, LEN);
        Ok(Sid(text))
    }

    /// The id in a query string, if it has the shape of one (22 base64url characters).
    pub fn parse(text: &str) -> Option<Sid> {
        let bytes: [u8; LEN] = text.as_bytes().try_into().ok()?;
        let url_safe = |b: &u8| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_';
        bytes.iter().all(url_safe).then_some(Sid(bytes))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Only base64url characters are ever stored, which are ASCII.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sid({})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_and_url_safe() {
        let a = Sid::generate().expect("random");
        let b = Sid::generate().expect("random");
        assert_ne!(a, b);
        assert!(Sid::parse(a.as_str()).is_some());
    }

    #[test]
    fn malformed_ids_do_not_parse() {
        for text in [
            "",
            "short",
            "aaaaaaaaaaaaaaaaaaaaa+",
            "aaaaaaaaaaaaaaaaaaaaaaa",
        ] {
            assert_eq!(Sid::parse(text), None, "{text:?}");
        }
    }
}
