//! The fuzz corpora (`fuzz/corpus/request_head/` and `fuzz/corpus/chunked/`) replayed in
//! every `cargo test`: each file goes through the fuzz targets' own checks (no panic,
//! whole and in pieces alike, framing invariants), and each hand-written seed, request
//! smuggling classics first, must get the answer pinned for it in the tables below.
//!
//! To add a seed, drop a small file with a descriptive name into the corpus directory and
//! give it a row here; inputs the fuzzer found may go in without a row.

#[path = "../../../fuzz/oracle/mod.rs"]
mod oracle;

use std::path::{Path, PathBuf};

use bytes::BytesMut;
use carafe_serve::http1::parse::{Framing, HeadParser};
use carafe_serve::http1::ParseError;
use carafe_serve::Limits;

/// What a request-head seed gets under the default limits.
#[derive(Debug)]
enum Head {
    /// A head, with this body framing.
    Accept(Framing),
    /// This error.
    Reject(ParseError),
    /// Some error answered with this status (the variant is an `httparse` detail).
    Status(u16),
    /// Not a whole head yet.
    Incomplete,
}

use Head::{Accept, Incomplete, Reject, Status};

const HEADS: &[(&str, Head)] = &[
    // Ordinary requests, in the shape browsers and curl send them.
    ("browser_chrome_get", Accept(Framing::Empty)),
    ("browser_chrome_post_form", Accept(Framing::Length(43))),
    ("browser_chrome_websocket_upgrade", Accept(Framing::Empty)),
    ("browser_firefox_get", Accept(Framing::Empty)),
    (
        "browser_firefox_post_multipart",
        Accept(Framing::Length(268)),
    ),
    ("curl_get", Accept(Framing::Empty)),
    ("curl_post_json", Accept(Framing::Length(27))),
    ("curl_post_chunked", Accept(Framing::Chunked)),
    (
        "curl_put_expect_100_continue",
        Accept(Framing::Length(1_048_576)),
    ),
    ("http10_get", Accept(Framing::Empty)),
    ("http10_keep_alive", Accept(Framing::Empty)),
    ("pipelined_two_gets", Accept(Framing::Empty)),
    ("connection_keep_alive_and_close", Accept(Framing::Empty)),
    ("incomplete_head", Incomplete),
    // Request smuggling: Content-Length against Transfer-Encoding (RFC 9112 §6.3, §11.2).
    (
        "smuggle_cl_te",
        Reject(ParseError::ContentLengthAndTransferEncoding),
    ),
    (
        "smuggle_te_cl",
        Reject(ParseError::ContentLengthAndTransferEncoding),
    ),
    (
        "smuggle_cl_te_cl_zero",
        Reject(ParseError::ContentLengthAndTransferEncoding),
    ),
    (
        "smuggle_cl_te_xchunked",
        Reject(ParseError::ContentLengthAndTransferEncoding),
    ),
    (
        "smuggle_cl_te_space_before_colon",
        Reject(ParseError::HeaderName),
    ),
    ("smuggle_cl_te_obs_fold", Reject(ParseError::HeaderName)),
    (
        "smuggle_te_te_xchunked",
        Reject(ParseError::TransferEncodingNotChunked),
    ),
    (
        "smuggle_te_te_identity_last",
        Reject(ParseError::TransferEncodingNotChunked),
    ),
    // `Transfer_Encoding` is just another field: the Content-Length frames the body.
    ("smuggle_te_underscore_name", Accept(Framing::Length(5))),
    (
        "te_xchunked",
        Reject(ParseError::TransferEncodingNotChunked),
    ),
    (
        "te_quoted_chunked",
        Reject(ParseError::TransferEncodingNotChunked),
    ),
    (
        "te_chunked_with_parameter",
        Reject(ParseError::TransferEncodingNotChunked),
    ),
    (
        "te_chunked_twice_in_list",
        Reject(ParseError::TransferEncodingNotChunked),
    ),
    (
        "te_chunked_twice_in_fields",
        Reject(ParseError::TransferEncodingNotChunked),
    ),
    (
        "te_chunked_then_gzip",
        Reject(ParseError::TransferEncodingNotChunked),
    ),
    (
        "te_identity",
        Reject(ParseError::TransferEncodingNotChunked),
    ),
    ("te_empty", Reject(ParseError::TransferEncodingNotChunked)),
    (
        "te_gzip_then_chunked",
        Reject(ParseError::UnsupportedTransferCoding),
    ),
    ("te_in_http10", Reject(ParseError::TransferEncodingInHttp10)),
    (
        "te_vertical_tab_before_value",
        Reject(ParseError::HeaderValue),
    ),
    ("te_nul_after_value", Reject(ParseError::HeaderValue)),
    // Optional whitespace around a field value is not part of it (RFC 9112 §5.1).
    ("te_chunked_trailing_space", Accept(Framing::Chunked)),
    ("te_chunked_tab_before_value", Accept(Framing::Chunked)),
    ("te_chunked_uppercase", Accept(Framing::Chunked)),
    ("te_empty_list_element", Accept(Framing::Chunked)),
    ("cl_duplicate_same", Accept(Framing::Length(5))),
    (
        "cl_duplicate_different",
        Reject(ParseError::ConflictingContentLength),
    ),
    ("cl_plus_sign", Reject(ParseError::InvalidContentLength)),
    ("cl_minus_sign", Reject(ParseError::InvalidContentLength)),
    ("cl_hex", Reject(ParseError::InvalidContentLength)),
    ("cl_list", Reject(ParseError::InvalidContentLength)),
    ("cl_space_inside", Reject(ParseError::InvalidContentLength)),
    ("cl_decimal_point", Reject(ParseError::InvalidContentLength)),
    ("cl_overflow", Reject(ParseError::InvalidContentLength)),
    ("cl_empty", Reject(ParseError::InvalidContentLength)),
    (
        "cl_fullwidth_digit",
        Reject(ParseError::InvalidContentLength),
    ),
    ("cl_vertical_tab", Reject(ParseError::HeaderValue)),
    ("cl_space_before_colon", Reject(ParseError::HeaderName)),
    ("cl_obs_fold", Reject(ParseError::HeaderName)),
    ("cl_leading_zeros", Accept(Framing::Length(7))),
    ("cl_trailing_space", Accept(Framing::Length(5))),
    ("cl_u64_max", Accept(Framing::Length(u64::MAX))),
    // Field lines.
    ("header_space_before_colon", Reject(ParseError::HeaderName)),
    ("header_tab_before_colon", Reject(ParseError::HeaderName)),
    ("header_name_non_token", Reject(ParseError::HeaderName)),
    ("header_name_empty", Reject(ParseError::HeaderName)),
    ("header_name_nul", Reject(ParseError::HeaderName)),
    ("header_no_colon", Reject(ParseError::HeaderName)),
    ("header_obs_fold", Reject(ParseError::HeaderName)),
    ("header_obs_fold_tab", Reject(ParseError::HeaderName)),
    ("header_obs_fold_first_line", Reject(ParseError::HeaderName)),
    ("header_value_nul", Reject(ParseError::HeaderValue)),
    ("header_value_del", Reject(ParseError::HeaderValue)),
    ("header_value_vertical_tab", Reject(ParseError::HeaderValue)),
    ("header_value_bare_cr", Reject(ParseError::HeaderValue)),
    (
        "header_value_bare_cr_smuggles_te",
        Reject(ParseError::HeaderValue),
    ),
    ("header_value_obs_text", Accept(Framing::Empty)),
    ("headers_hundred", Accept(Framing::Empty)),
    ("headers_many", Reject(ParseError::TooManyHeaders)),
    ("headers_too_large", Reject(ParseError::HeadersTooLarge)),
    ("host_missing_http11", Reject(ParseError::MissingHost)),
    ("host_duplicate", Reject(ParseError::DuplicateHost)),
    ("host_with_userinfo", Reject(ParseError::InvalidHost)),
    ("host_with_path", Reject(ParseError::InvalidHost)),
    ("host_empty", Accept(Framing::Empty)),
    ("expect_unknown", Reject(ParseError::UnsupportedExpectation)),
    // Line endings: a lone LF may end a line (RFC 9112 §2.2), a lone CR may not.
    ("line_endings_bare_lf", Accept(Framing::Empty)),
    ("line_endings_mixed", Accept(Framing::Empty)),
    ("line_endings_bare_cr", Reject(ParseError::NewLine)),
    ("request_line_bare_cr", Reject(ParseError::NewLine)),
    // Request lines and targets (RFC 9112 §3).
    ("request_line_http09", Status(400)),
    (
        "request_line_http2_preface",
        Reject(ParseError::UnsupportedVersion),
    ),
    (
        "request_line_http12",
        Reject(ParseError::UnsupportedVersion),
    ),
    ("request_line_http3", Reject(ParseError::UnsupportedVersion)),
    (
        "request_line_lowercase_version",
        Reject(ParseError::RequestLine),
    ),
    ("request_line_double_space", Status(400)),
    ("request_line_tab_separator", Status(400)),
    ("request_line_leading_space", Status(400)),
    ("request_line_leading_crlf", Accept(Framing::Empty)),
    ("method_lowercase", Accept(Framing::Empty)),
    ("method_with_nul", Reject(ParseError::Method)),
    ("method_non_token", Reject(ParseError::Method)),
    ("target_asterisk_options", Accept(Framing::Empty)),
    ("target_asterisk_get", Reject(ParseError::Target)),
    ("target_asterisk_pri_http11", Reject(ParseError::Target)),
    ("target_absolute_form", Accept(Framing::Empty)),
    ("target_absolute_form_host_mismatch", Accept(Framing::Empty)),
    ("target_authority_form_connect", Accept(Framing::Empty)),
    ("target_authority_form_get", Reject(ParseError::Target)),
    ("target_with_nul", Status(400)),
    ("target_with_fragment", Reject(ParseError::Target)),
    ("target_very_long", Reject(ParseError::UriTooLong)),
    (
        "target_very_long_incomplete",
        Reject(ParseError::UriTooLong),
    ),
    // `target_with_space` is pinned by `request_line_with_four_parts_gets_400` below.
];

/// What a chunked seed decodes to, with the default line limit.
#[derive(Debug)]
enum Body {
    /// The whole body: its data, how many trailer fields, and the bytes left after it.
    Decoded {
        data: &'static [u8],
        trailers: usize,
        rest: &'static [u8],
    },
    /// This error.
    Reject(ParseError),
    /// Valid so far, with this much data.
    Incomplete(&'static [u8]),
}

const fn body(data: &'static [u8]) -> Body {
    Body::Decoded {
        data,
        trailers: 0,
        rest: b"",
    }
}

const BODIES: &[(&str, Body)] = &[
    ("simple", body(b"hello")),
    ("two_chunks", body(b"hello world")),
    ("empty_body", body(b"")),
    ("empty_input", Body::Incomplete(b"")),
    ("size_uppercase_hex", body(b"0123456789")),
    ("size_leading_zeros", body(b"hello")),
    ("size_many_leading_zeros", body(b"hello")),
    ("last_chunk_many_zeros", body(b"")),
    ("size_empty_line", Body::Reject(ParseError::ChunkSize)),
    ("size_trailing_space", Body::Reject(ParseError::ChunkSize)),
    ("size_trailing_tab", Body::Reject(ParseError::ChunkSize)),
    ("size_leading_space", Body::Reject(ParseError::ChunkSize)),
    ("size_0x_prefix", Body::Reject(ParseError::ChunkSize)),
    ("size_plus_sign", Body::Reject(ParseError::ChunkSize)),
    ("size_minus_sign", Body::Reject(ParseError::ChunkSize)),
    ("size_underscore", Body::Reject(ParseError::ChunkSize)),
    ("size_non_hex", Body::Reject(ParseError::ChunkSize)),
    ("size_only_semicolon", Body::Reject(ParseError::ChunkSize)),
    ("size_bare_lf", Body::Reject(ParseError::ChunkSize)),
    ("size_bare_cr", Body::Reject(ParseError::ChunkSize)),
    (
        "size_overflow_17_digits",
        Body::Reject(ParseError::ChunkSizeOverflow),
    ),
    (
        "size_overflow_long",
        Body::Reject(ParseError::ChunkSizeOverflow),
    ),
    (
        "size_u64_max_incomplete",
        Body::Incomplete(b"only a little data"),
    ),
    ("size_huge_incomplete", Body::Incomplete(b"abc")),
    ("extension_simple", body(b"hello")),
    ("extension_bws", body(b"hello")),
    ("extension_empty", body(b"hello")),
    ("extension_quoted_semicolon", body(b"hello")),
    // Extensions are not parsed for quoted strings, so a quote never hides a CRLF.
    ("extension_unterminated_quote", body(b"hello")),
    (
        "extension_quoted_crlf",
        Body::Reject(ParseError::ChunkDataEnd),
    ),
    ("extension_on_last_chunk", body(b"hello")),
    ("extension_high_bytes", body(b"hello")),
    ("extension_nul", Body::Reject(ParseError::ChunkExtension)),
    (
        "extension_bare_lf",
        Body::Reject(ParseError::ChunkExtension),
    ),
    ("extension_bare_cr", Body::Reject(ParseError::ChunkSize)),
    ("extension_del", Body::Reject(ParseError::ChunkExtension)),
    ("extension_escape", Body::Reject(ParseError::ChunkExtension)),
    (
        "extension_too_long",
        Body::Reject(ParseError::ChunkLineTooLong),
    ),
    ("data_missing_crlf", Body::Reject(ParseError::ChunkDataEnd)),
    ("data_bare_lf", Body::Reject(ParseError::ChunkDataEnd)),
    (
        "data_shorter_than_size",
        Body::Reject(ParseError::ChunkDataEnd),
    ),
    (
        "data_longer_than_size",
        Body::Reject(ParseError::ChunkDataEnd),
    ),
    ("data_incomplete", Body::Incomplete(b"hello")),
    ("last_chunk_without_final_crlf", Body::Incomplete(b"hello")),
    // The trailer section is read by `httparse`, which takes a lone LF as a line end.
    ("last_chunk_bare_lf_end", body(b"")),
    (
        "trailer_bare_lf",
        Body::Decoded {
            data: b"abc",
            trailers: 1,
            rest: b"",
        },
    ),
    (
        "trailers",
        Body::Decoded {
            data: b"abc",
            trailers: 2,
            rest: b"",
        },
    ),
    (
        "trailer_content_length",
        Body::Decoded {
            data: b"",
            trailers: 1,
            rest: b"",
        },
    ),
    ("trailer_invalid_name", Body::Reject(ParseError::Trailer)),
    (
        "trailer_space_before_colon",
        Body::Reject(ParseError::Trailer),
    ),
    ("trailer_obs_fold", Body::Reject(ParseError::Trailer)),
    ("trailer_nul", Body::Reject(ParseError::Trailer)),
    ("trailer_no_colon", Body::Reject(ParseError::Trailer)),
    (
        "trailer_section_too_long",
        Body::Reject(ParseError::Trailer),
    ),
    (
        "next_request_after_body",
        Body::Decoded {
            data: b"hello",
            trailers: 0,
            rest: b"GET /next HTTP/1.1\r\nHost: a\r\n\r\n",
        },
    ),
    (
        "smuggled_request_after_last_chunk",
        Body::Decoded {
            data: b"",
            trailers: 0,
            rest: b"GET /admin HTTP/1.1\r\nHost: internal\r\n\r\n",
        },
    ),
    ("te_cl_desync_body", body(b"SMUGGLED")),
];

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target)
}

/// Every file of one corpus, by name.
fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir(target);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|error| panic!("{dir:?}: {error}"));
    let mut seeds: Vec<(String, Vec<u8>)> = entries
        .map(|entry| {
            let path = entry.expect("a readable corpus directory").path();
            let input = std::fs::read(&path).unwrap_or_else(|error| panic!("{path:?}: {error}"));
            (
                path.file_name()
                    .expect("a file name")
                    .to_string_lossy()
                    .into_owned(),
                input,
            )
        })
        .collect();
    seeds.sort();
    seeds
}

fn seed(target: &str, name: &str) -> Vec<u8> {
    let path = corpus_dir(target).join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{path:?}: {error}"))
}

#[test]
fn every_request_head_seed_passes_the_fuzz_checks() {
    let seeds = seeds("request_head");
    assert!(seeds.len() >= HEADS.len(), "seeds are missing");
    for (_, input) in &seeds {
        let _ = oracle::request_head::check(input);
    }
}

#[test]
fn every_chunked_seed_passes_the_fuzz_checks() {
    let seeds = seeds("chunked");
    assert!(seeds.len() >= BODIES.len(), "seeds are missing");
    for (_, input) in &seeds {
        let _ = oracle::chunked::check(input);
    }
}

#[test]
fn request_head_seeds_get_their_pinned_answers() {
    for (name, expected) in HEADS {
        let outcome = oracle::request_head::check(&seed("request_head", name));
        let matched = match (expected, &outcome) {
            (Accept(framing), Ok(Some(head))) => head.framing == *framing,
            (Reject(error), Err(got)) => got == error,
            (Status(status), Err(got)) => got.status().as_u16() == *status,
            (Incomplete, Ok(None)) => true,
            _ => false,
        };
        assert!(matched, "{name}: expected {expected:?}, got {outcome:?}");
    }
}

#[test]
fn chunked_seeds_get_their_pinned_answers() {
    for (name, expected) in BODIES {
        let input = seed("chunked", name);
        let run = oracle::chunked::check(&input);
        let matched = match (expected, &run.end) {
            (
                Body::Decoded {
                    data,
                    trailers,
                    rest,
                },
                Ok(Some(consumed)),
            ) => {
                run.data == *data
                    && run.trailers.as_ref().map_or(0, |map| map.len()) == *trailers
                    && input[*consumed..] == **rest
            }
            (Body::Reject(error), Err(got)) => got == error,
            (Body::Incomplete(data), Ok(None)) => run.data == *data,
            _ => false,
        };
        assert!(matched, "{name}: expected {expected:?}, got {run:?}");
    }
}

/// The connection-level consequences of some seeds: who may keep the connection, who
/// asked for `100 Continue` or an upgrade, and what is left for the next request.
#[test]
fn seeds_decide_keep_alive_continue_and_upgrade() {
    let head = |name: &str| match oracle::request_head::check(&seed("request_head", name)) {
        Ok(Some(head)) => head,
        other => panic!("{name}: {other:?}"),
    };
    assert!(!head("http10_get").keep_alive);
    assert!(head("http10_keep_alive").keep_alive);
    assert!(!head("connection_keep_alive_and_close").keep_alive);
    assert!(head("curl_put_expect_100_continue").expect_continue);
    assert!(head("browser_chrome_websocket_upgrade").upgrade);
    assert_eq!(head("target_asterisk_options").uri, "*");
    assert_eq!(head("target_absolute_form").uri.host(), Some("example.com"));

    let mut buf = BytesMut::from(&seed("request_head", "pipelined_two_gets")[..]);
    let first = HeadParser::default().parse(&mut buf, &Limits::default());
    assert!(matches!(first, Ok(Some(head)) if head.uri == "/a"));
    assert_eq!(&buf[..], b"GET /b HTTP/1.1\r\nHost: a\r\n\r\n");
}

#[test]
fn request_line_with_four_parts_gets_400() {
    // `httparse` stops at `b`, and `looks_like_other_version` then reads the line's last
    // word, `HTTP/1.1`, as a well-formed other version.
    let input = seed("request_head", "target_with_space");
    let outcome = HeadParser::default().parse(&mut BytesMut::from(&input[..]), &Limits::default());
    assert_eq!(outcome.map(|_| ()), Err(ParseError::RequestLine));
}

#[test]
fn version_judgement_does_not_depend_on_segmentation() {
    let input = seed("request_head", "request_line_http2_preface");
    let limits = Limits::default();
    let whole = HeadParser::default().parse(&mut BytesMut::from(&input[..]), &limits);
    // The first read ends inside the version: `PRI * HTTP/2.`
    let mut parser = HeadParser::default();
    let mut buf = BytesMut::from(&input[..13]);
    let mut pieces = parser.parse(&mut buf, &limits);
    if matches!(pieces, Ok(None)) {
        buf.extend_from_slice(&input[13..]);
        pieces = parser.parse(&mut buf, &limits);
    }
    assert_eq!(whole.map(|_| ()), Err(ParseError::UnsupportedVersion));
    assert_eq!(pieces.map(|_| ()), Err(ParseError::UnsupportedVersion));
}

#[test]
fn long_method_is_judged_the_same_in_pieces() {
    // A 40-byte method and an 8,190-byte target: within `max_uri_bytes`, but the request
    // line is longer than `max_uri_bytes + 32`, the bound the partial check uses.
    let method = "M".repeat(40);
    let target = format!("/{}", "a".repeat(8189));
    let input = format!("{method} {target} HTTP/1.1\r\nHost: a\r\n\r\n").into_bytes();
    let limits = Limits::default();
    let whole = HeadParser::default().parse(&mut BytesMut::from(&input[..]), &limits);
    assert!(matches!(whole, Ok(Some(_))), "{whole:?}");
    let mut parser = HeadParser::default();
    // The first read holds most of the request line, but not its end.
    let cut = limits.max_uri_bytes + 40;
    let mut buf = BytesMut::from(&input[..cut]);
    let first = parser.parse(&mut buf, &limits);
    assert!(
        matches!(first, Ok(None)),
        "a valid partial head was refused: {first:?}"
    );
}
