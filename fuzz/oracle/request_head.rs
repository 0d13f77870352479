//! Checks for [`HeadParser`]: it never panics, an accepted head obeys the framing rules
//! that keep request smuggling out (RFC 9112 §6.3, §11.2), and a head that arrives in
//! pieces ends exactly as one that arrives whole.
//!
//! "Ends exactly as" allows one difference, by design: once the parser has seen part of
//! a head it runs `httparse` again only when a blank line may have arrived, so an error
//! visible in the whole input can show up later when the input comes in pieces. The
//! check then sends the blank line and requires the error.

use bytes::BytesMut;
use carafe_serve::http1::parse::{Framing, HeadParser, RequestHead};
use carafe_serve::http1::ParseError;
use carafe_serve::Limits;
use http::header::{self, HeaderValue};
use http::Version;

use super::split;

/// What [`HeadParser::parse`] returns.
pub(crate) type Outcome = Result<Option<RequestHead>, ParseError>;

/// Runs every check on `input`, under tight limits and under the default ones, with cuts
/// chosen from the input; returns the one-shot outcome under the default limits.
pub(crate) fn check(input: &[u8]) -> Outcome {
    let cut_sets = split::cut_sets(input);
    let _ = check_with(input, &tight_limits(), &cut_sets);
    check_with(input, &Limits::default(), &cut_sets)
}

/// Limits small enough for short fuzz inputs to reach every one of them.
pub(crate) fn tight_limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_head_bytes = 256;
    limits.max_headers = 8;
    limits.max_uri_bytes = 64;
    limits
}

/// Parses `input` whole and checks what was accepted, then feeds it cut at each set of
/// `cut_sets` and checks that it ends the same way. Returns the one-shot outcome.
pub(crate) fn check_with(input: &[u8], limits: &Limits, cut_sets: &[Vec<usize>]) -> Outcome {
    let whole = Feed::run(&[input], limits);
    if let Ok(Some(head)) = &whole.outcome {
        let consumed = input.len() - whole.buf.len();
        check_accepted(head, &input[..consumed]);
        check_round_trip(head);
    }
    for cuts in cut_sets {
        let pieces = split::pieces(input, cuts);
        let shown = Shown { input, cuts };
        compare(&whole, Feed::run(&pieces, limits), limits, &shown);
    }
    whole.outcome
}

/// One parser fed a sequence of pieces until it answers.
struct Feed {
    outcome: Outcome,
    parser: HeadParser,
    /// What is left: the unparsed buffer followed by the pieces never fed.
    buf: BytesMut,
}

impl Feed {
    fn run(pieces: &[&[u8]], limits: &Limits) -> Feed {
        let mut parser = HeadParser::default();
        let mut buf = BytesMut::new();
        let mut outcome = Ok(None);
        let mut pieces = pieces.iter();
        for piece in pieces.by_ref() {
            buf.extend_from_slice(piece);
            outcome = parser.parse(&mut buf, limits);
            if !matches!(outcome, Ok(None)) {
                break;
            }
        }
        for piece in pieces {
            buf.extend_from_slice(piece);
        }
        Feed {
            outcome,
            parser,
            buf,
        }
    }
}

/// An input and its cuts, printed when a check fails.
struct Shown<'a> {
    input: &'a [u8],
    cuts: &'a [usize],
}

impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "input b\"{}\" cut at {:?}",
            self.input.escape_ascii(),
            self.cuts
        )
    }
}

fn compare(whole: &Feed, mut pieces: Feed, limits: &Limits, shown: &Shown<'_>) {
    match (&whole.outcome, &pieces.outcome) {
        (Ok(Some(one)), Ok(Some(other))) => {
            assert_same_head(one, other, shown);
            assert_eq!(
                whole.buf, pieces.buf,
                "different bytes left after the head: {shown}"
            );
        }
        (Ok(None), Ok(None)) => {}
        (Err(one), Err(other)) if one == other => {}
        // A partial head is only measured against the limits, so in pieces a head that is
        // both too long and malformed may be refused for its length first.
        (Err(_), Err(other)) if exceeds_limit(shown.input, *other, limits) => {}
        (Err(one), Err(other)) => panic!("{one:?} in one piece, {other:?} in pieces: {shown}"),
        (Err(one), Ok(None)) => {
            pieces.buf.extend_from_slice(b"\r\n\r\n");
            let later = pieces.parser.parse(&mut pieces.buf, limits);
            assert!(
                later.is_err(),
                "{one:?} in one piece, {later:?} in pieces: {shown}"
            );
        }
        (one, other) => panic!("{one:?} in one piece, {other:?} in pieces: {shown}"),
    }
}

/// Whether `input` really is over the limit that `error` names.
fn exceeds_limit(input: &[u8], error: ParseError, limits: &Limits) -> bool {
    match error {
        ParseError::UriTooLong => target_len(input) > limits.max_uri_bytes,
        ParseError::HeadersTooLarge => input.len() > limits.max_head_bytes,
        _ => false,
    }
}

/// The length of the request target: from the first space of the request line (after
/// any empty lines) to the next space or the end of the line.
fn target_len(input: &[u8]) -> usize {
    let start = input
        .iter()
        .position(|&byte| byte != b'\r' && byte != b'\n')
        .unwrap_or(input.len());
    let line = &input[start..];
    let line = &line[..line
        .iter()
        .position(|&byte| byte == b'\r' || byte == b'\n')
        .unwrap_or(line.len())];
    let Some(space) = line.iter().position(|&byte| byte == b' ') else {
        return 0;
    };
    let rest = &line[space + 1..];
    rest.iter()
        .position(|&byte| byte == b' ')
        .unwrap_or(rest.len())
}

fn assert_same_head(one: &RequestHead, other: &RequestHead, shown: &dyn std::fmt::Display) {
    assert_eq!(one.method, other.method, "method: {shown}");
    assert_eq!(one.uri, other.uri, "uri: {shown}");
    assert_eq!(one.version, other.version, "version: {shown}");
    assert_eq!(one.headers, other.headers, "headers: {shown}");
    assert_eq!(one.framing, other.framing, "framing: {shown}");
    assert_eq!(one.keep_alive, other.keep_alive, "keep_alive: {shown}");
    assert_eq!(
        one.expect_continue, other.expect_continue,
        "expect_continue: {shown}"
    );
    assert_eq!(one.upgrade, other.upgrade, "upgrade: {shown}");
}

/// What any accepted head must satisfy; `raw` is exactly the bytes the parser consumed.
fn check_accepted(head: &RequestHead, raw: &[u8]) {
    let shown = raw.escape_ascii();
    assert!(
        raw.ends_with(b"\n\n") || raw.ends_with(b"\n\r\n"),
        "no blank line at the end: {shown}"
    );
    assert!(!raw.contains(&0), "NUL accepted: {shown}");
    let bare_cr = raw
        .windows(2)
        .any(|pair| pair[0] == b'\r' && pair[1] != b'\n');
    assert!(!bare_cr, "bare CR accepted: {shown}");
    // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request line.
    let lines: Vec<&[u8]> = raw
        .split(|&byte| byte == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .skip_while(|line| line.is_empty())
        .collect();
    // `lines` is the request line, the field lines, the blank line, and the empty rest.
    assert!(lines.len() >= 3, "no request line: {shown}");
    check_request_line(head, lines[0], &shown);
    let fields = &lines[1..lines.len() - 2];
    for line in fields {
        let first = line.first().copied();
        assert!(
            !matches!(first, Some(b' ' | b'\t')),
            "obs-fold accepted: {shown}"
        );
        let colon = line.iter().position(|&byte| byte == b':');
        let name = &line[..colon.unwrap_or(line.len())];
        assert!(
            colon.is_some(),
            "field line without a colon accepted: {shown}"
        );
        assert!(
            !name.is_empty() && name.iter().all(is_token),
            "bad field name accepted: {shown}"
        );
    }
    assert_eq!(
        head.headers.len(),
        fields.len(),
        "fields lost or invented: {shown}"
    );
    for value in head.headers.values() {
        let bytes = value.as_bytes();
        assert!(
            !bytes.iter().any(|&byte| byte < b' ' && byte != b'\t'),
            "CTL accepted: {shown}"
        );
        let padded = [bytes.first(), bytes.last()]
            .iter()
            .any(|end| matches!(end, Some(b' ' | b'\t')));
        assert!(!padded, "field value not trimmed: {shown}");
    }
    check_framing(head, &shown);
    check_semantics(head, &shown);
}

fn check_request_line(head: &RequestHead, line: &[u8], shown: &dyn std::fmt::Display) {
    let parts: Vec<&[u8]> = line.split(|&byte| byte == b' ').collect();
    assert_eq!(parts.len(), 3, "request line is not three parts: {shown}");
    assert_eq!(parts[0], head.method.as_str().as_bytes(), "method: {shown}");
    let version: &[u8] = match head.version {
        Version::HTTP_11 => b"HTTP/1.1",
        Version::HTTP_10 => b"HTTP/1.0",
        other => panic!("{other:?} accepted: {shown}"),
    };
    assert_eq!(parts[2], version, "version: {shown}");
}

/// `tchar` (RFC 9110 §5.6.2).
fn is_token(byte: &u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(byte)
}

/// RFC 9112 §6.3: the body length follows from exactly the fields the parser accepted.
fn check_framing(head: &RequestHead, shown: &dyn std::fmt::Display) {
    let lengths: Vec<Option<u64>> = head
        .headers
        .get_all(header::CONTENT_LENGTH)
        .iter()
        .map(decimal)
        .collect();
    let codings: Vec<&[u8]> = head
        .headers
        .get_all(header::TRANSFER_ENCODING)
        .iter()
        .flat_map(|value| value.as_bytes().split(|&byte| byte == b','))
        .map(<[u8]>::trim_ascii)
        .filter(|coding| !coding.is_empty())
        .collect();
    let has_te = head.headers.contains_key(header::TRANSFER_ENCODING);
    match head.framing {
        Framing::Chunked => {
            assert!(lengths.is_empty(), "chunked with a content-length: {shown}");
            assert_eq!(
                head.version,
                Version::HTTP_11,
                "chunked in http/1.0: {shown}"
            );
            let only_chunked =
                matches!(&codings[..], [coding] if coding.eq_ignore_ascii_case(b"chunked"));
            assert!(only_chunked, "chunked framing from {codings:?}: {shown}");
        }
        Framing::Length(length) => {
            assert!(!has_te, "length framing with a transfer-encoding: {shown}");
            assert!(length > 0, "Length(0) instead of Empty: {shown}");
            assert!(
                lengths.iter().all(|&value| value == Some(length)),
                "length: {shown}"
            );
        }
        Framing::Empty => {
            assert!(!has_te, "no body with a transfer-encoding: {shown}");
            assert!(
                lengths.iter().all(|&value| value == Some(0)),
                "empty with a length: {shown}"
            );
        }
    }
}

/// `1*DIGIT`, as a number.
fn decimal(value: &HeaderValue) -> Option<u64> {
    let digits = value.as_bytes();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

fn check_semantics(head: &RequestHead, shown: &dyn std::fmt::Display) {
    let hosts = head.headers.get_all(header::HOST).iter().count();
    match head.version {
        Version::HTTP_11 => assert_eq!(hosts, 1, "host count: {shown}"),
        _ => assert!(hosts <= 1, "host count: {shown}"),
    }
    let connection = |token: &[u8]| {
        head.headers
            .get_all(header::CONNECTION)
            .iter()
            .any(|value| {
                value
                    .as_bytes()
                    .split(|&byte| byte == b',')
                    .any(|item| item.trim_ascii().eq_ignore_ascii_case(token))
            })
    };
    if connection(b"close") {
        assert!(
            !head.keep_alive,
            "keep-alive despite connection: close: {shown}"
        );
    }
    if head.version == Version::HTTP_10 && !connection(b"keep-alive") {
        assert!(!head.keep_alive, "http/1.0 kept alive unasked: {shown}");
    }
    if head.expect_continue {
        let expect = head.headers.get(header::EXPECT).map(HeaderValue::as_bytes);
        let is_continue = expect.is_some_and(|value| value.eq_ignore_ascii_case(b"100-continue"));
        assert!(
            is_continue && head.version == Version::HTTP_11,
            "expect_continue: {shown}"
        );
    }
    if head.upgrade {
        let asked = head.headers.contains_key(header::UPGRADE) && connection(b"upgrade");
        assert!(
            asked && head.version == Version::HTTP_11,
            "upgrade: {shown}"
        );
    }
}

/// Writes the accepted head back out in canonical form; parsing that must give the
/// same head and consume all of it.
fn check_round_trip(head: &RequestHead) {
    let mut raw = Vec::new();
    let version = if head.version == Version::HTTP_11 {
        "HTTP/1.1"
    } else {
        "HTTP/1.0"
    };
    raw.extend_from_slice(format!("{} {} {version}\r\n", head.method, head.uri).as_bytes());
    for (name, value) in &head.headers {
        raw.extend_from_slice(name.as_str().as_bytes());
        raw.extend_from_slice(b": ");
        raw.extend_from_slice(value.as_bytes());
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"\r\n");
    let mut limits = Limits::default();
    limits.max_head_bytes = raw.len();
    limits.max_uri_bytes = raw.len();
    let mut buf = BytesMut::from(&raw[..]);
    let shown = raw.escape_ascii();
    match HeadParser::default().parse(&mut buf, &limits) {
        Ok(Some(again)) => assert_same_head(head, &again, &format!("round trip of {shown}")),
        other => panic!("round trip of {shown} gave {other:?}"),
    }
    assert!(buf.is_empty(), "round trip of {shown} left bytes");
}
