//! The session cookie decoder under arbitrary input: the `session_cookie` fuzz corpus
//! replayed through the fuzz target's checks with an answer pinned per seed, and property
//! tests (never panics, round trip of arbitrary maps, any flipped byte refused).

#[path = "../../../fuzz/oracle/session_cookie.rs"]
mod oracle;

use std::path::PathBuf;

use carafe::session::cookie::DecodeError;
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Each seed and what decoding it gives: `Ok(())` for a session, or the refusal.
const SEEDS: &[(&str, Result<(), DecodeError>)] = &[
    ("valid_current_key", Ok(())),
    ("valid_fallback_key", Ok(())),
    ("expired", Err(DecodeError::Expired)),
    ("from_the_future", Err(DecodeError::Expired)),
    ("other_key", Err(DecodeError::BadSignature)),
    ("signed_array", Err(DecodeError::NotADict)),
    ("empty", Err(DecodeError::Malformed)),
    ("dots_only", Err(DecodeError::Malformed)),
    ("four_parts", Err(DecodeError::Malformed)),
    ("bad_base64", Err(DecodeError::Malformed)),
    ("padded_base64", Err(DecodeError::BadSignature)),
    ("long_timestamp", Err(DecodeError::BadSignature)),
    ("json_object", Err(DecodeError::Malformed)),
    ("json_nested", Err(DecodeError::Malformed)),
    ("cookie_header", Err(DecodeError::Malformed)),
    ("cookie_header_quoted", Err(DecodeError::Malformed)),
    ("oversize", Err(DecodeError::Oversize)),
    ("not_utf8", Err(DecodeError::Malformed)),
];

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/session_cookie")
}

#[test]
fn corpus_files_pass_the_checks_and_get_their_pinned_answers() {
    let mut seen = 0;
    for entry in std::fs::read_dir(corpus()).expect("the session_cookie corpus") {
        let path = entry.expect("a corpus entry").path();
        let input = std::fs::read(&path).expect("a corpus file");
        let outcome = oracle::check(&input).map(|_| ());
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default();
        if let Some((_, expected)) = SEEDS.iter().find(|(seed, _)| *seed == name) {
            assert_eq!(&outcome, expected, "seed {name}");
            seen += 1;
        }
    }
    assert_eq!(seen, SEEDS.len(), "every pinned seed is in the corpus");
}

#[test]
fn header_seeds_carry_a_valid_cookie() {
    let input = std::fs::read(corpus().join("cookie_header")).expect("the seed");
    let headers: [&[u8]; 1] = [&input];
    let value = carafe::session::cookie::find_cookie(headers, "session").expect("a cookie");
    assert!(oracle::signer()
        .decode(value, oracle::NOW, oracle::MAX_AGE)
        .is_ok());
}

/// Any JSON value, a few levels deep.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |float| float.is_finite())
            .prop_map(Value::from),
        ".{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn session() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(".{0,12}", json(), 0..8).prop_map(|map| map.into_iter().collect())
}

proptest! {
    #[test]
    fn decoder_never_panics(input in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = oracle::check(&input);
    }

    #[test]
    fn decoder_never_panics_on_near_valid_values(
        parts in prop::collection::vec("[A-Za-z0-9_=.-]{0,60}", 1..5),
    ) {
        let _ = oracle::check(parts.join(".").as_bytes());
    }

    #[test]
    fn arbitrary_sessions_round_trip(map in session()) {
        let signer = oracle::signer();
        let value = signer.encode(&map, oracle::NOW);
        prop_assert_eq!(signer.decode(&value, oracle::NOW, oracle::MAX_AGE), Ok(map));
    }

    #[test]
    fn flipping_any_byte_is_refused(map in session(), at in any::<prop::sample::Index>()) {
        let signer = oracle::signer();
        let value = signer.encode(&map, oracle::NOW);
        oracle::check_tampered(&signer, &value, at.index(value.len()));
    }
}
