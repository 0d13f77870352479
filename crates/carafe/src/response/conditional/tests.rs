//! Precondition tests: tag lists, `If-Range`, and RFC 9110 §13.2.2's order.

use std::time::{Duration, UNIX_EPOCH};

use http::{HeaderMap, Method};

use super::*;

fn validators() -> Validators {
    Validators {
        etag: ETag::strong("v1"),
        // Tue, 14 Nov 2023 22:13:20 GMT, plus a fraction that HTTP dates cannot carry.
        last_modified: Some(UNIX_EPOCH + Duration::from_millis(1_700_000_000_500)),
    }
}

const MODIFIED: &str = "Tue, 14 Nov 2023 22:13:20 GMT";
const BEFORE: &str = "Tue, 14 Nov 2023 22:13:19 GMT";
const AFTER: &str = "Tue, 14 Nov 2023 22:13:21 GMT";

fn decide(method: Method, headers: &[(&str, &str)]) -> Decision {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.append(
            http::HeaderName::from_bytes(name.as_bytes()).expect("valid in this test"),
            value.parse().expect("valid in this test"),
        );
    }
    evaluate(&method, &map, &validators())
}

const SEND: Decision = Decision::Send { honor_range: true };
const WHOLE: Decision = Decision::Send { honor_range: false };

/// A request's method and headers, and the decision expected.
type Case<'a> = (Method, Vec<(&'a str, &'a str)>, Decision);

#[test]
fn preconditions_in_rfc_order() {
    use Decision::{NotModified, PreconditionFailed};
    let get = || Method::GET;
    let table: Vec<Case<'_>> = vec![
        (get(), vec![], SEND),
        (get(), vec![("if-none-match", "\"v1\"")], NotModified),
        (get(), vec![("if-none-match", "W/\"v1\"")], NotModified),
        (
            get(),
            vec![("if-none-match", "\"v0\", \"v1\"")],
            NotModified,
        ),
        (get(), vec![("if-none-match", "\"v0\"")], SEND),
        (get(), vec![("if-none-match", "*")], NotModified),
        (Method::HEAD, vec![("if-none-match", "\"v1\"")], NotModified),
        (
            Method::POST,
            vec![("if-none-match", "\"v1\"")],
            PreconditionFailed,
        ),
        (get(), vec![("if-modified-since", MODIFIED)], NotModified),
        (get(), vec![("if-modified-since", AFTER)], NotModified),
        (get(), vec![("if-modified-since", BEFORE)], SEND),
        (get(), vec![("if-modified-since", "yesterday")], SEND),
        (Method::POST, vec![("if-modified-since", MODIFIED)], SEND),
        // If-None-Match wins over If-Modified-Since, both ways.
        (
            get(),
            vec![("if-none-match", "\"v0\""), ("if-modified-since", AFTER)],
            SEND,
        ),
        (
            get(),
            vec![("if-none-match", "\"v1\""), ("if-modified-since", BEFORE)],
            NotModified,
        ),
        (get(), vec![("if-match", "\"v1\"")], SEND),
        (get(), vec![("if-match", "*")], SEND),
        (get(), vec![("if-match", "W/\"v1\"")], PreconditionFailed),
        (get(), vec![("if-match", "\"v0\"")], PreconditionFailed),
        (
            get(),
            vec![("if-unmodified-since", BEFORE)],
            PreconditionFailed,
        ),
        (get(), vec![("if-unmodified-since", MODIFIED)], SEND),
        // If-Match present: If-Unmodified-Since is not looked at.
        (
            get(),
            vec![("if-match", "\"v1\""), ("if-unmodified-since", BEFORE)],
            SEND,
        ),
        (get(), vec![("if-range", "\"v1\"")], SEND),
        (get(), vec![("if-range", "\"v0\"")], WHOLE),
        (get(), vec![("if-range", "W/\"v1\"")], WHOLE),
        (get(), vec![("if-range", MODIFIED)], SEND),
        (get(), vec![("if-range", BEFORE)], WHOLE),
        (get(), vec![("if-range", "garbage")], WHOLE),
        // Malformed lists are ignored.
        (get(), vec![("if-none-match", "v1")], SEND),
        (get(), vec![("if-match", "\"v0\" x")], SEND),
    ];
    for (method, headers, expected) in table {
        assert_eq!(
            decide(method.clone(), &headers),
            expected,
            "{method} {headers:?}"
        );
    }
}

#[test]
fn without_validators_nothing_matches() {
    let mut headers = HeaderMap::new();
    headers.insert("if-none-match", "*".parse().expect("valid in this test"));
    headers.insert("if-range", MODIFIED.parse().expect("valid in this test"));
    let decision = evaluate(&Method::GET, &headers, &Validators::default());
    assert_eq!(decision, WHOLE);
    headers.remove("if-none-match");
    headers.insert(
        "if-modified-since",
        MODIFIED.parse().expect("valid in this test"),
    );
    assert_eq!(
        evaluate(&Method::GET, &headers, &Validators::default()),
        WHOLE
    );
}

#[test]
fn tag_lists_parse_and_refuse() {
    let tags = |list: &[&str]| {
        TagList::Tags(
            list.iter()
                .map(|tag| ETag::parse(tag.as_bytes()).expect("valid in this test"))
                .collect(),
        )
    };
    let table: &[(&[u8], Option<TagList>)] = &[
        (b"*", Some(TagList::Any)),
        (b" * ", Some(TagList::Any)),
        (b"\"a\"", Some(tags(&["\"a\""]))),
        (b"\"a\",W/\"b\"", Some(tags(&["\"a\"", "W/\"b\""]))),
        (b" , \"a\" ,, \"b\" , ", Some(tags(&["\"a\"", "\"b\""]))),
        (b"\"a,b\"", Some(tags(&["\"a,b\""]))),
        (b"\"\"", Some(tags(&["\"\""]))),
        (b"", None),
        (b",", None),
        (b"a", None),
        (b"\"a", None),
        (b"\"a\"\"b\"", None),
        (b"w/\"a\"", None),
        (b"W/ \"a\"", None),
        (b"\"a b\"", None),
        (b"*, \"a\"", None),
        (b"\"\x7f\"", None),
    ];
    for (value, expected) in table {
        assert_eq!(
            &TagList::parse(value),
            expected,
            "{:?}",
            String::from_utf8_lossy(value)
        );
    }
}

#[test]
fn obs_text_tags_round_trip() {
    let tag = ETag::parse(b"\"caf\xe9\"").expect("valid in this test");
    assert_eq!(tag.to_header_value().as_bytes(), b"\"caf\xe9\"");
}
