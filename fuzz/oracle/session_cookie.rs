//! The checks behind the `session_cookie` target: carafe's session cookie decoder
//! (`carafe::session::cookie`) on arbitrary bytes.
//!
//! Included by path from `fuzz/fuzz_targets/session_cookie.rs` and from carafe's
//! `tests/session_cookie.rs` (corpus replay and property tests). Not part of `mod.rs`:
//! carafe-serve's tests include that, and carafe-serve does not depend on carafe.
//!
//! - finding the cookie in a `Cookie` header and decoding it never panics;
//! - arbitrary text decodes to an error unless it is a value our key signed;
//! - any JSON object round-trips through encode and decode, and flipping any one byte of
//!   the encoded value (chosen by a hash of the input) makes decoding fail.

use carafe::session::cookie::{find_cookie, DecodeError, SessionSigner, MAX_COOKIE_VALUE};

/// The signing time of the oracle's values, and the time it decodes at.
pub(crate) const NOW: u64 = 1_700_000_000;

/// The lifetime the oracle decodes with: a day.
pub(crate) const MAX_AGE: u64 = 86_400;

/// The oracle's keys: values signed with "fuzz key" or "old fuzz key" are valid.
pub(crate) fn signer() -> SessionSigner {
    SessionSigner::with_fallbacks("fuzz key", &["old fuzz key"])
}

/// Runs every check on `input`; returns what decoding `input` as a value gave.
pub(crate) fn check(
    input: &[u8],
) -> Result<serde_json::Map<String, serde_json::Value>, DecodeError> {
    let signer = signer();
    if let Some(value) = find_cookie([input], "session") {
        let _ = signer.decode(value, NOW, MAX_AGE);
    }
    let text = String::from_utf8_lossy(input);
    let decoded = signer.decode(&text, NOW, MAX_AGE);
    if decoded.is_ok() {
        assert!(
            text.len() <= MAX_COOKIE_VALUE,
            "an oversize value was accepted"
        );
    }
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(input) {
        check_round_trip(&signer, &map, input);
    }
    decoded
}

/// `map` survives encode + decode; one flipped byte of the value is refused.
pub(crate) fn check_round_trip(
    signer: &SessionSigner,
    map: &serde_json::Map<String, serde_json::Value>,
    seed: &[u8],
) {
    let value = signer.encode(map, NOW);
    if value.len() > MAX_COOKIE_VALUE {
        assert_eq!(
            signer.decode(&value, NOW, MAX_AGE),
            Err(DecodeError::Oversize)
        );
        return;
    }
    assert_eq!(
        signer.decode(&value, NOW, MAX_AGE).as_ref(),
        Ok(map),
        "round trip"
    );
    let at = position(seed, value.len());
    check_tampered(signer, &value, at);
}

/// Flipping the lowest bit of byte `at` of `value` makes it invalid.
pub(crate) fn check_tampered(signer: &SessionSigner, value: &str, at: usize) {
    let mut bytes = value.as_bytes().to_vec();
    bytes[at] ^= 1;
    // The value is ASCII, and flipping bit 0 of an ASCII byte keeps it ASCII.
    let tampered = String::from_utf8(bytes).expect("ASCII stays ASCII");
    assert!(
        signer.decode(&tampered, NOW, MAX_AGE).is_err(),
        "byte {at} of {value:?} flipped and still accepted"
    );
}

/// A position in `0..len` derived from `seed` (FNV-1a), so a failure replays from its file.
fn position(seed: &[u8], len: usize) -> usize {
    let hash = seed.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    });
    (hash % len as u64) as usize
}
