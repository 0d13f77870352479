//! The session cookie's value: a signed, timestamped, serialized dict (sans-IO).
//!
//! This is itsdangerous's `URLSafeTimedSerializer` as Flask's
//! `SecureCookieSessionInterface` uses it, with SHA-256 instead of SHA-1:
//!
//! ```text
//! base64url(json) "." base64url(timestamp) "." base64url(HMAC-SHA256(key, json_b64 "." ts_b64))
//! ```
//!
//! - the JSON is the session dict, serialized compactly;
//! - the timestamp is the signing time in seconds since the Unix epoch, as big-endian bytes
//!   without leading zeros (itsdangerous's `int_to_bytes`);
//! - base64url has no padding, and the decoder accepts only the canonical encoding, so no
//!   two strings decode to the same bytes;
//! - the MAC key is not the secret itself but `HMAC-SHA256(secret, "cookie-session")`
//!   (itsdangerous's `hmac` key derivation with Flask's salt), so the raw secret signs
//!   nothing directly and another use of the same secret with another salt cannot forge a
//!   session.
//!
//! The signature is checked (in constant time, against the current key and then each
//! fallback key) before anything else of the value is decoded. Nothing here touches a
//! socket or a clock: the caller passes `now`.
//!
//! [`SessionSigner`] is public for scripts and tests that read or forge sessions with the
//! app's key (Flask's `session_interface.get_signing_serializer(app)`).

use std::sync::{Mutex, PoisonError};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{KeyInit, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

/// HMAC with SHA-256, the session cookie's MAC.
type HmacSha256 = hmac::Hmac<Sha256>;

/// The salt of the key derivation: Flask's `SecureCookieSessionInterface.salt`.
const SALT: &[u8] = b"cookie-session";

/// The longest cookie value the decoder looks at. Browsers keep at most about 4 KiB per
/// cookie (RFC 6265 §6.1 asks for at least 4096 bytes, name included), so a longer value
/// was not set by us and is refused before any work.
pub const MAX_COOKIE_VALUE: usize = 4096;

/// A derived signing key: the MAC keyed with `HMAC-SHA256(secret, salt)`, ready to clone.
#[derive(Clone)]
pub(crate) struct SigningKey {
    /// The MAC with its key set up; cloned for every signature.
    mac: HmacSha256,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

impl SigningKey {
    /// Derives the signing key for `secret` (a key of any length is valid for HMAC).
    pub(crate) fn derive(secret: &[u8]) -> SigningKey {
        let derived = new_mac(secret).chain_update(SALT).finalize().into_bytes();
        SigningKey {
            mac: new_mac(&derived),
        }
    }

    /// The signing key of `secret`, derived once per process: an app has one secret and
    /// a few fallbacks, and deriving costs four SHA-256 blocks per key per request.
    fn cached(secret: &str) -> SigningKey {
        /// Derived keys by secret; a few entries, replaced in order once full.
        static DERIVED: Mutex<Vec<(String, SigningKey)>> = Mutex::new(Vec::new());
        const KEPT: usize = 8;
        let mut derived = DERIVED.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, key)) = derived.iter().find(|(known, _)| known == secret) {
            return key.clone();
        }
        let key = SigningKey::derive(secret.as_bytes());
        if derived.len() == KEPT {
            derived.remove(0);
        }
        derived.push((secret.to_owned(), key.clone()));
        key
    }

    /// The MAC of `message`.
    fn sign(&self, message: &[u8]) -> [u8; 32] {
        self.mac
            .clone()
            .chain_update(message)
            .finalize()
            .into_bytes()
            .into()
    }

    /// Whether `tag` is the MAC of `message`, compared in constant time.
    fn verify(&self, message: &[u8], tag: &[u8]) -> bool {
        self.mac
            .clone()
            .chain_update(message)
            .verify_slice(tag)
            .is_ok()
    }
}

/// A MAC keyed with `key`.
fn new_mac(key: &[u8]) -> HmacSha256 {
    match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC accepts keys of any length (RFC 2104 §2: longer keys are hashed first).
        Err(_) => unreachable!("HMAC takes keys of any length"),
    }
}

/// Why a cookie value was not accepted; every case means "start an empty session".
///
/// ```
/// use carafe::session::cookie::{DecodeError, SessionSigner};
///
/// let signer = SessionSigner::new("k");
/// assert_eq!(signer.decode("not a cookie", 0, 60), Err(DecodeError::Malformed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// Longer than [`MAX_COOKIE_VALUE`].
    Oversize,
    /// Not three dot-separated base64url parts of the right sizes.
    Malformed,
    /// No key (current or fallback) made this signature: tampered, or signed with a key
    /// the app no longer has.
    BadSignature,
    /// Signed longer ago than the session lifetime allows, or too far in the future.
    Expired,
    /// Correctly signed, but not a JSON object (a bug in whoever signed it).
    NotADict,
}

impl std::error::Error for DecodeError {}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DecodeError::Oversize => "cookie value too long",
            DecodeError::Malformed => "cookie value is not payload.timestamp.signature",
            DecodeError::BadSignature => "signature does not match any key",
            DecodeError::Expired => "signature is older than the session lifetime",
            DecodeError::NotADict => "signed payload is not a JSON object",
        })
    }
}

/// How far in the future a timestamp may be (clock differences between servers).
const ALLOWED_CLOCK_SKEW: u64 = 60;

/// Signs and checks session cookie values with an app's keys.
///
/// ```
/// use carafe::session::cookie::SessionSigner;
///
/// let signer = SessionSigner::with_fallbacks("current key", &["former key"]);
/// let mut session = serde_json::Map::new();
/// session.insert("user".into(), "ada".into());
/// let now = 1_700_000_000;
/// let value = signer.encode(&session, now);
/// assert_eq!(signer.decode(&value, now + 10, 3600), Ok(session));
/// ```
#[derive(Debug, Clone)]
pub struct SessionSigner {
    /// The current key first (it signs), then the fallbacks (they only verify).
    keys: Vec<SigningKey>,
}

impl SessionSigner {
    /// A signer for `secret_key` alone (Flask's `SECRET_KEY`).
    ///
    /// ```
    /// let signer = carafe::session::cookie::SessionSigner::new("k");
    /// # let _ = signer;
    /// ```
    pub fn new(secret_key: &str) -> SessionSigner {
        SessionSigner::with_fallbacks::<&str>(secret_key, &[])
    }

    /// A signer for `secret_key` that also accepts values signed with any of `fallbacks`
    /// (Flask's `SECRET_KEY` and `SECRET_KEY_FALLBACKS`).
    ///
    /// ```
    /// use carafe::session::cookie::SessionSigner;
    ///
    /// let old = SessionSigner::new("old key");
    /// let value = old.encode(&serde_json::Map::new(), 100);
    /// let rotated = SessionSigner::with_fallbacks("new key", &["old key"]);
    /// assert!(rotated.decode(&value, 100, 60).is_ok());
    /// ```
    pub fn with_fallbacks<S: AsRef<str>>(secret_key: &str, fallbacks: &[S]) -> SessionSigner {
        let fallbacks = fallbacks.iter().map(|key| key.as_ref());
        let keys = std::iter::once(secret_key)
            .chain(fallbacks)
            .map(SigningKey::cached)
            .collect();
        SessionSigner { keys }
    }

    /// The cookie value for `session`, signed with the current key at `now` (seconds
    /// since the Unix epoch).
    ///
    /// ```
    /// # let signer = carafe::session::cookie::SessionSigner::new("k");
    /// let value = signer.encode(&serde_json::Map::new(), 1_700_000_000);
    /// assert_eq!(value.split('.').count(), 3);
    /// ```
    pub fn encode(&self, session: &Map<String, Value>, now: u64) -> String {
        match self.keys.first() {
            Some(key) => encode(session, key, now),
            None => unreachable!("SessionSigner::new always has the current key"),
        }
    }

    /// The session in `value`, if a key signed it at most `max_age` seconds before
    /// `now`. Never panics, whatever `value` holds.
    ///
    /// ```
    /// # let signer = carafe::session::cookie::SessionSigner::new("k");
    /// let value = signer.encode(&serde_json::Map::new(), 100);
    /// assert!(signer.decode(&value, 100, 60).is_ok());
    /// assert!(signer.decode(&value, 200, 60).is_err());
    /// ```
    pub fn decode(
        &self,
        value: &str,
        now: u64,
        max_age: u64,
    ) -> Result<Map<String, Value>, DecodeError> {
        decode(value, &self.keys, now, max_age)
    }
}

/// Encodes `session` signed with `key` at `now` (seconds since the Unix epoch).
pub(crate) fn encode(session: &Map<String, Value>, key: &SigningKey, now: u64) -> String {
    let json = serde_json::to_vec(session).unwrap_or_else(|_| b"{}".to_vec());
    let first = now.leading_zeros() as usize / 8;
    let timestamp = &now.to_be_bytes()[first.min(7)..];
    let mut value = URL_SAFE_NO_PAD.encode(json);
    value.push('.');
    URL_SAFE_NO_PAD.encode_string(timestamp, &mut value);
    let signature = key.sign(value.as_bytes());
    value.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut value);
    value
}

/// Decodes a cookie value: checks the signature with each of `keys` (any may match),
/// then the age against `max_age` seconds, then parses the dict.
pub(crate) fn decode(
    value: &str,
    keys: &[SigningKey],
    now: u64,
    max_age: u64,
) -> Result<Map<String, Value>, DecodeError> {
    if value.len() > MAX_COOKIE_VALUE {
        return Err(DecodeError::Oversize);
    }
    let (signed, signature) = value.rsplit_once('.').ok_or(DecodeError::Malformed)?;
    let (payload, timestamp) = signed.rsplit_once('.').ok_or(DecodeError::Malformed)?;
    let signature = decode_part(signature, 32)?;
    if !keys
        .iter()
        .any(|key| key.verify(signed.as_bytes(), &signature))
    {
        return Err(DecodeError::BadSignature);
    }
    check_age(&decode_part(timestamp, 8)?, now, max_age)?;
    let json = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| DecodeError::Malformed)?;
    match serde_json::from_slice(&json) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(DecodeError::NotADict),
    }
}

/// Decodes one base64url part of at most `max` bytes (at least one).
fn decode_part(part: &str, max: usize) -> Result<Vec<u8>, DecodeError> {
    // 4 characters carry 3 bytes: refuse long parts before decoding them.
    if part.is_empty() || part.len() > max.div_ceil(3) * 4 {
        return Err(DecodeError::Malformed);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| DecodeError::Malformed)?;
    if bytes.is_empty() || bytes.len() > max {
        return Err(DecodeError::Malformed);
    }
    Ok(bytes)
}

/// Checks the big-endian signing time against `now` and `max_age`.
fn check_age(timestamp: &[u8], now: u64, max_age: u64) -> Result<(), DecodeError> {
    let signed_at = timestamp
        .iter()
        .fold(0u64, |acc, byte| (acc << 8) | u64::from(*byte));
    if signed_at > now.saturating_add(ALLOWED_CLOCK_SKEW) {
        return Err(DecodeError::Expired);
    }
    if now.saturating_sub(signed_at) > max_age {
        return Err(DecodeError::Expired);
    }
    Ok(())
}

/// The first value of the cookie `name` in `Cookie` header values (RFC 6265 §5.4:
/// `name=value` pairs separated by `;`). Values that are not UTF-8 are skipped.
///
/// ```
/// use carafe::session::cookie::find_cookie;
///
/// let headers: [&[u8]; 1] = [b"theme=dark; session=abc"];
/// assert_eq!(find_cookie(headers, "session"), Some("abc"));
/// ```
pub fn find_cookie<'a>(headers: impl IntoIterator<Item = &'a [u8]>, name: &str) -> Option<&'a str> {
    headers
        .into_iter()
        .filter_map(|header| std::str::from_utf8(header).ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| key.trim() == name)
        .map(|(_, value)| value.trim().trim_matches('"'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: u64 = 1_700_000_000;
    const DAY: u64 = 86_400;

    fn dict(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!("tests pass objects"),
        }
    }

    fn key(secret: &str) -> SigningKey {
        SigningKey::derive(secret.as_bytes())
    }

    #[test]
    fn round_trip() {
        let session = dict(json!({"user": "ada", "n": 3, "nested": {"a": [1, 2]}}));
        let value = encode(&session, &key("s3cret"), NOW);
        assert_eq!(decode(&value, &[key("s3cret")], NOW, DAY), Ok(session));
    }

    #[test]
    fn value_has_three_url_safe_parts() {
        let value = encode(&dict(json!({"a": "?>>"})), &key("k"), NOW);
        assert_eq!(value.split('.').count(), 3);
        assert!(value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
    }

    #[test]
    fn raw_secret_is_not_the_mac_key() {
        let session = dict(json!({"a": 1}));
        let value = encode(&session, &key("k"), NOW);
        let (signed, _) = value.rsplit_once('.').unwrap_or_default();
        let raw = new_mac(b"k").chain_update(signed).finalize().into_bytes();
        let forged = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(raw));
        assert_eq!(
            decode(&forged, &[key("k")], NOW, DAY),
            Err(DecodeError::BadSignature)
        );
    }

    #[test]
    fn other_key_is_refused() {
        let value = encode(&dict(json!({"a": 1})), &key("one"), NOW);
        assert_eq!(
            decode(&value, &[key("two")], NOW, DAY),
            Err(DecodeError::BadSignature)
        );
    }

    #[test]
    fn fallback_key_is_accepted() {
        let session = dict(json!({"a": 1}));
        let value = encode(&session, &key("old"), NOW);
        assert_eq!(
            decode(&value, &[key("new"), key("old")], NOW, DAY),
            Ok(session)
        );
    }

    #[test]
    fn tampered_payload_is_refused() {
        let value = encode(&dict(json!({"admin": false})), &key("k"), NOW);
        let (_, rest) = value.split_once('.').unwrap_or_default();
        let evil = URL_SAFE_NO_PAD.encode(br#"{"admin":true}"#);
        assert_eq!(
            decode(&format!("{evil}.{rest}"), &[key("k")], NOW, DAY),
            Err(DecodeError::BadSignature)
        );
    }

    #[test]
    fn expiry_is_bounded_by_max_age() {
        let session = dict(json!({"a": 1}));
        let value = encode(&session, &key("k"), NOW);
        assert!(decode(&value, &[key("k")], NOW + DAY, DAY).is_ok());
        assert_eq!(
            decode(&value, &[key("k")], NOW + DAY + 1, DAY),
            Err(DecodeError::Expired)
        );
        assert_eq!(
            decode(&value, &[key("k")], NOW - 3600, DAY),
            Err(DecodeError::Expired)
        );
    }

    #[test]
    fn malformed_values_are_refused() {
        let cases = ["", ".", "..", "a.b", "a.b.c", "e30.AA.!!", "e30..AAAA"];
        for case in cases {
            assert!(decode(case, &[key("k")], NOW, DAY).is_err(), "{case:?}");
        }
        let long = "a".repeat(MAX_COOKIE_VALUE + 1);
        assert_eq!(
            decode(&long, &[key("k")], NOW, DAY),
            Err(DecodeError::Oversize)
        );
    }

    #[test]
    fn signed_non_object_is_refused() {
        let key = key("k");
        let mut value = URL_SAFE_NO_PAD.encode(b"[1]");
        value.push('.');
        value.push_str(&URL_SAFE_NO_PAD.encode(&NOW.to_be_bytes()[4..]));
        let signature = URL_SAFE_NO_PAD.encode(key.sign(value.as_bytes()));
        let value = format!("{value}.{signature}");
        assert_eq!(decode(&value, &[key], NOW, DAY), Err(DecodeError::NotADict));
    }

    #[test]
    fn find_cookie_takes_the_first_match() {
        let headers: [&[u8]; 2] = [b"a=1; session=abc.d; b=2", b"session=zzz"];
        assert_eq!(find_cookie(headers, "session"), Some("abc.d"));
        assert_eq!(find_cookie(headers, "b"), Some("2"));
        assert_eq!(find_cookie(headers, "missing"), None);
        let odd: [&[u8]; 2] = [b"\xff\xfe", b";;=;session"];
        assert_eq!(find_cookie(odd, "session"), None);
    }
}
