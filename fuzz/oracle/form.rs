//! The checks behind the `form_decode` fuzz target, shared by path with carafe's
//! `tests/forms.rs` (corpus replay and a never-panics property test).
//!
//! Input: a urlencoded body. Checked:
//! - nothing panics;
//! - decoding into pairs always succeeds (form decoding is lenient, like browsers);
//! - the pairs, encoded again and decoded, are the same pairs (what `MultipartForm`'s
//!   `deserialize` relies on);
//! - decoding into a typed struct either succeeds or answers `400` whose message names
//!   one of the struct's fields or the form as a whole.
#![allow(dead_code)]

use carafe::extract::Form;
use serde::Deserialize;

/// A struct with a field of each kind a form fills.
#[derive(Debug, Deserialize)]
struct Typed {
    #[allow(dead_code)]
    name: Option<String>,
    #[allow(dead_code)]
    age: Option<u8>,
    #[allow(dead_code)]
    #[serde(default)]
    tags: Vec<i32>,
    #[allow(dead_code)]
    flag: Option<bool>,
}

/// The number of pairs, or the status of the typed refusal (for pinning seeds).
pub(crate) fn check(input: &[u8]) -> Result<usize, u16> {
    let Form(pairs) = Form::<Vec<(String, String)>>::from_bytes(input)
        .unwrap_or_else(|error| panic!("pairs always decode: {error}"));
    let encoded = encode(&pairs);
    let Form(again) = Form::<Vec<(String, String)>>::from_bytes(encoded.as_bytes())
        .unwrap_or_else(|error| panic!("re-encoded pairs decode: {error}"));
    assert_eq!(pairs, again, "re-encoding changed the pairs ({encoded:?})");
    match Form::<Typed>::from_bytes(input) {
        Ok(_) => Ok(pairs.len()),
        Err(error) => {
            assert_eq!(error.status().as_u16(), 400, "{error}");
            let message = error.message();
            let named = ["`name`", "`age`", "`tags", "`flag`"]
                .iter()
                .any(|field| message.contains(field));
            assert!(
                named || message.starts_with("invalid form: "),
                "the message names no field: {message}"
            );
            Err(400)
        }
    }
}

/// `application/x-www-form-urlencoded` of `pairs`, percent-encoding all but letters
/// and digits.
fn encode(pairs: &[(String, String)]) -> String {
    let encode = |text: &str| {
        percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    pairs
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}
