//! Property tests for the sans-IO parsers (`http1::parse::HeadParser` and
//! `http1::chunked::ChunkedDecoder`): on any input they return rather than panic, what
//! they accept obeys the framing rules, and input that arrives in pieces ends exactly as
//! input that arrives whole.
//!
//! The checks are the fuzz targets' own (`fuzz/oracle/`); these tests run a few hundred
//! cases of them in every `cargo test`, from arbitrary bytes and from generators that
//! build near-valid messages and then break one piece. `fuzz/README.md` runs them for
//! hours.

#[path = "../../../fuzz/oracle/mod.rs"]
mod oracle;

use carafe_serve::Limits;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, Index};

/// Cases per property; the four together stay within a few seconds in a debug build.
const CASES: u32 = 1024;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// One byte-level accident: replace, insert or delete a byte somewhere.
#[derive(Debug, Clone)]
enum Mutation {
    Replace(Index, u8),
    Insert(Index, u8),
    Delete(Index),
}

fn mutation() -> impl Strategy<Value = Option<Mutation>> {
    prop::option::weighted(
        0.3,
        prop_oneof![
            (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Replace(at, byte)),
            (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Insert(at, byte)),
            any::<Index>().prop_map(Mutation::Delete),
        ],
    )
}

fn mutate(mut input: Vec<u8>, mutation: Option<Mutation>) -> Vec<u8> {
    match mutation {
        _ if input.is_empty() => {}
        None => {}
        Some(Mutation::Replace(at, byte)) => {
            let at = at.index(input.len());
            input[at] = byte;
        }
        Some(Mutation::Insert(at, byte)) => input.insert(at.index(input.len() + 1), byte),
        Some(Mutation::Delete(at)) => {
            input.remove(at.index(input.len()));
        }
    }
    input
}

/// Usually one of `good`, sometimes one of `bad`: most generated messages are then valid
/// but for a piece or two, which is where parsers go wrong.
fn mostly<T: Clone + std::fmt::Debug + 'static>(good: Vec<T>, bad: Vec<T>) -> BoxedStrategy<T> {
    prop_oneof![6 => select(good), 1 => select(bad)].boxed()
}

fn line_end() -> BoxedStrategy<&'static str> {
    mostly(vec!["\r\n"], vec!["\n", "\r", "\r\r\n", ""])
}

/// A request head assembled from plausible and hostile parts, then maybe mutated.
fn near_valid_head() -> impl Strategy<Value = Vec<u8>> {
    let method = mostly(
        vec!["GET", "POST", "PUT", "OPTIONS", "DELETE"],
        vec!["CONNECT", "PRI", "get", "G(T", ""],
    );
    let target = mostly(
        vec!["/", "/path?q=1", "/a/b"],
        vec![
            "*",
            "http://example.com/x",
            "example.com:443",
            "/a b",
            "/%00",
            "",
            "/caf\u{e9}",
        ],
    );
    let version = mostly(
        vec!["HTTP/1.1", "HTTP/1.0"],
        vec!["HTTP/2.0", "HTTP/1.2", "http/1.1", ""],
    );
    let leading_crlf = mostly(vec![""], vec!["\r\n", "\n", " "]);
    let line = (leading_crlf, method, target, version, line_end());
    let host = (
        mostly(vec!["Host"], vec!["Host ", "", "X\0Y"]),
        mostly(vec!["example.com", "a:80"], vec!["a@b", "", "a/b"]),
    );
    let field = mostly(
        vec![
            ("Content-Length", "5"),
            ("Content-Length", "0"),
            ("Transfer-Encoding", "chunked"),
            ("Connection", "close"),
            ("Connection", "keep-alive, upgrade"),
            ("Upgrade", "websocket"),
            ("Expect", "100-continue"),
            ("X-Foo", "bar"),
            ("Accept", "*/*"),
        ],
        vec![
            ("Transfer-Encoding", "xchunked"),
            ("Transfer-Encoding", "chunked, chunked"),
            ("Transfer-Encoding", "gzip, chunked"),
            ("Transfer-Encoding", "chunked "),
            ("Content-Length", "+5"),
            ("Content-Length", "0x5"),
            ("Content-Length", "5, 5"),
            ("Content-Length", ""),
            ("Content-Length", "18446744073709551616"),
            ("X-Foo", "a\0b"),
            ("X-Foo", "a\rb"),
            ("Host", "other"),
            ("Transfer_Encoding", "chunked"),
            ("Host ", "a"),
            ("", "x"),
            ("Expect", "200-ok"),
        ],
    );
    let separator = mostly(vec![": ", ":", ":\t"], vec![" :", ":\r\n ", "\t:"]);
    let fields = vec((field, separator, line_end()), 0..5);
    let end = (line_end(), vec(any::<u8>(), 0..8));
    (line, host, fields, end, mutation()).prop_map(|(line, host, fields, end, mutation)| {
        let (leading, method, target, version, request_line_end) = line;
        let (blank, body) = end;
        let mut head = format!("{leading}{method} {target} {version}{request_line_end}");
        head.push_str(&format!("{}: {}\r\n", host.0, host.1));
        for ((name, value), separator, field_end) in fields {
            head.push_str(&format!("{name}{separator}{value}{field_end}"));
        }
        head.push_str(blank);
        let mut input = head.into_bytes();
        input.extend_from_slice(&body);
        mutate(input, mutation)
    })
}

/// A chunked body assembled from plausible and hostile parts, then maybe mutated.
fn near_valid_body() -> impl Strategy<Value = Vec<u8>> {
    let extension = || {
        mostly(
            vec!["", "", ";a=b", " ;a", ";a=\"b;c\""],
            vec!["\t;x", ";\0", " ", ";\n", ";\x7f"],
        )
    };
    let size_error = mostly(vec![0i8], vec![1, -1]);
    let chunk = (
        vec(any::<u8>(), 1..24),
        size_error,
        extension(),
        line_end(),
        line_end(),
    );
    let trailer = mostly(
        vec!["X-A: b", "Expires: never"],
        vec!["Bad Name: x", "X-A : b", " folded"],
    );
    let last = (
        mostly(vec!["0", "000"], vec!["", "0x0"]),
        extension(),
        line_end(),
    );
    let trailers = vec((trailer, line_end()), 0..3);
    let end = (line_end(), vec(any::<u8>(), 0..8));
    (vec(chunk, 0..5), last, trailers, end, mutation()).prop_map(
        |(chunks, last, trailers, end, mutation)| {
            let mut input = Vec::new();
            for (data, size_error, extension, size_end, data_end) in chunks {
                let size = data.len() as i64 + i64::from(size_error);
                input.extend_from_slice(format!("{size:x}{extension}{size_end}").as_bytes());
                input.extend_from_slice(&data);
                input.extend_from_slice(data_end.as_bytes());
            }
            let (zeros, extension, last_end) = last;
            input.extend_from_slice(format!("{zeros}{extension}{last_end}").as_bytes());
            for (field, field_end) in trailers {
                input.extend_from_slice(format!("{field}{field_end}").as_bytes());
            }
            let (blank, next) = end;
            input.extend_from_slice(blank.as_bytes());
            input.extend_from_slice(&next);
            mutate(input, mutation)
        },
    )
}

/// Cut offsets within `len`, ascending.
fn cuts(len: usize, raw: Vec<Index>) -> Vec<usize> {
    let mut cuts: Vec<usize> = raw.iter().map(|at| at.index(len + 1)).collect();
    cuts.sort_unstable();
    cuts
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn head_parser_never_panics(
        input in prop_oneof![vec(any::<u8>(), 0..512), near_valid_head()],
    ) {
        let _ = oracle::request_head::check(&input);
    }

    #[test]
    fn chunked_decoder_never_panics(
        input in prop_oneof![vec(any::<u8>(), 0..512), near_valid_body()],
    ) {
        let _ = oracle::chunked::check(&input);
    }

    #[test]
    fn incremental_head_parsing_matches_one_shot(
        input in near_valid_head(),
        raw_cuts in vec(any::<Index>(), 1..12),
    ) {
        let cut_sets = [cuts(input.len(), raw_cuts)];
        let tight = oracle::request_head::tight_limits();
        let _ = oracle::request_head::check_with(&input, &tight, &cut_sets);
        let _ = oracle::request_head::check_with(&input, &Limits::default(), &cut_sets);
    }

    #[test]
    fn incremental_chunked_decoding_matches_one_shot(
        input in near_valid_body(),
        raw_cuts in vec(any::<Index>(), 1..12),
    ) {
        let cut_sets = [cuts(input.len(), raw_cuts)];
        let default = Limits::default().max_chunk_line_bytes;
        let _ = oracle::chunked::check_with(&input, oracle::chunked::TIGHT_MAX_LINE, &cut_sets);
        let _ = oracle::chunked::check_with(&input, default, &cut_sets);
    }
}
