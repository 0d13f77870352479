//! Checks for [`ChunkedDecoder`]: it never panics, a body that arrives in pieces decodes
//! exactly as one that arrives whole, the decoder takes nothing after the end of the
//! body, and its accept/reject decisions agree with a plain, line-at-a-time reading of
//! the RFC 9112 §7.1 grammar (with the decoder's documented strictness: no whitespace
//! after the size unless an extension follows, no control bytes in extensions).
//!
//! The reference reading below does not judge trailer fields (the decoder hands those to
//! `httparse`): there it only finds where the trailer section ends.

use bytes::BytesMut;
use carafe_serve::http1::chunked::{Chunk, ChunkedDecoder};
use carafe_serve::http1::ParseError;
use carafe_serve::Limits;
use http::HeaderMap;

use super::split;

/// A line limit small enough for short fuzz inputs to reach it.
pub(crate) const TIGHT_MAX_LINE: usize = 24;

/// Everything a decoder produced from one input.
#[derive(Debug)]
pub(crate) struct Run {
    /// The body bytes, in order.
    pub(crate) data: Vec<u8>,
    /// The trailer fields, when the body had some.
    pub(crate) trailers: Option<HeaderMap>,
    /// `Ok(Some(n))`: the body ended after `n` bytes of input; `Ok(None)`: it needs more.
    pub(crate) end: Result<Option<usize>, ParseError>,
}

/// Runs every check on `input`, with a tight line limit and with the default one, with
/// cuts chosen from the input; returns the one-shot run under the default limit.
pub(crate) fn check(input: &[u8]) -> Run {
    let cut_sets = split::cut_sets(input);
    check_with(input, TIGHT_MAX_LINE, &cut_sets);
    check_with(input, Limits::default().max_chunk_line_bytes, &cut_sets)
}

/// Decodes `input` whole and compares it with the reference reading, then decodes it cut
/// at each set of `cut_sets` and requires the same run. Returns the one-shot run.
pub(crate) fn check_with(input: &[u8], max_line: usize, cut_sets: &[Vec<usize>]) -> Run {
    let shown = Shown { input, cuts: &[] };
    let whole = run(&[input], max_line, &shown);
    check_against_reference(input, max_line, &whole, &shown);
    for cuts in cut_sets {
        let shown = Shown { input, cuts };
        let cut = run(&split::pieces(input, cuts), max_line, &shown);
        check_against_reference(input, max_line, &cut, &shown);
        assert!(whole.data == cut.data, "different data: {shown}");
        assert_eq!(whole.trailers, cut.trailers, "different trailers: {shown}");
        let same_end = whole.end == cut.end || trailer_errors(&whole.end, &cut.end);
        assert!(
            same_end,
            "{:?} in one piece, {:?} in pieces: {shown}",
            whole.end, cut.end
        );
    }
    whole
}

/// A trailer section that is both too long and malformed may be refused for either, by
/// whichever `httparse` or the length check notices first in the bytes at hand.
fn trailer_errors(
    one: &Result<Option<usize>, ParseError>,
    other: &Result<Option<usize>, ParseError>,
) -> bool {
    let trailer = |end: &Result<Option<usize>, ParseError>| {
        matches!(end, Err(ParseError::Trailer | ParseError::ChunkLineTooLong))
    };
    trailer(one) && trailer(other)
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

/// Feeds `pieces` to one decoder, draining it after each, until it ends or fails.
fn run(pieces: &[&[u8]], max_line: usize, shown: &Shown<'_>) -> Run {
    let mut decoder = ChunkedDecoder::new(max_line);
    let mut buf = BytesMut::new();
    let (mut data, mut trailers, mut fed) = (Vec::new(), None, 0);
    for (index, piece) in pieces.iter().enumerate() {
        buf.extend_from_slice(piece);
        fed += piece.len();
        loop {
            let chunk = decoder.decode(&mut buf);
            let after_trailers = trailers.is_some() && !matches!(chunk, Ok(Some(Chunk::End)));
            assert!(!after_trailers, "{chunk:?} after the trailers: {shown}");
            match chunk {
                Ok(Some(Chunk::Data(bytes))) => {
                    assert!(!bytes.is_empty(), "empty data chunk: {shown}");
                    data.extend_from_slice(&bytes);
                }
                Ok(Some(Chunk::Trailers(map))) => {
                    assert!(!map.is_empty(), "empty trailers delivered: {shown}");
                    trailers = Some(map);
                }
                Ok(Some(Chunk::End)) => {
                    let end = Ok(Some(fed - buf.len()));
                    check_stays_done(&mut decoder, buf, &pieces[index + 1..], shown);
                    return Run {
                        data,
                        trailers,
                        end,
                    };
                }
                Ok(None) => break,
                Err(error) => {
                    return Run {
                        data,
                        trailers,
                        end: Err(error),
                    }
                }
            }
            // After `Trailers` the decoder is done but still owes an `End`.
            let done_early = decoder.is_done() && trailers.is_none();
            assert!(!done_early, "done before it said so: {shown}");
        }
    }
    Run {
        data,
        trailers,
        end: Ok(None),
    }
}

/// After [`Chunk::End`] the decoder must answer `End` again and take nothing more, even
/// as the next request's bytes arrive.
fn check_stays_done(
    decoder: &mut ChunkedDecoder,
    mut buf: BytesMut,
    rest: &[&[u8]],
    shown: &Shown<'_>,
) {
    assert!(decoder.is_done(), "ended but not done: {shown}");
    for piece in rest {
        buf.extend_from_slice(piece);
    }
    let left = buf.clone();
    for _ in 0..2 {
        let again = decoder.decode(&mut buf);
        assert!(
            matches!(again, Ok(Some(Chunk::End))),
            "{again:?} after the end: {shown}"
        );
    }
    assert_eq!(buf, left, "bytes taken after the end: {shown}");
}

/// What the reference reading makes of an input.
#[derive(Debug)]
enum Verdict {
    /// A complete body: its trailer section starts at `trailers` and it ends at `end`.
    Body { trailers: usize, end: usize },
    /// Valid so far, incomplete.
    NeedMore { in_trailers: bool },
    /// Invalid before the trailer section.
    Reject,
}

fn check_against_reference(input: &[u8], max_line: usize, whole: &Run, shown: &Shown<'_>) {
    let (data, verdict) = reference(input, max_line);
    assert!(
        data == whole.data,
        "data differs from the reference: {shown}"
    );
    let trailer_error = matches!(
        whole.end,
        Err(ParseError::Trailer | ParseError::ChunkLineTooLong)
    );
    match (&verdict, &whole.end) {
        (Verdict::Body { trailers, end }, Ok(Some(consumed))) => {
            assert_eq!(
                end, consumed,
                "body ends elsewhere than the grammar says: {shown}"
            );
            assert!(
                end - trailers <= max_line,
                "trailer section over the limit: {shown}"
            );
            let lines = input[*trailers..*end].split(|&byte| byte == b'\n');
            let fields = lines
                .filter(|line| !line.is_empty() && *line != b"\r")
                .count();
            let delivered = whole.trailers.as_ref().map_or(0, HeaderMap::len);
            assert_eq!(
                fields, delivered,
                "trailer fields lost or invented: {shown}"
            );
        }
        (Verdict::Body { .. } | Verdict::NeedMore { in_trailers: true }, _) if trailer_error => {}
        (Verdict::NeedMore { .. }, Ok(None)) => {}
        (Verdict::Reject, Err(error)) if *error != ParseError::Trailer => {}
        (verdict, end) => panic!("reference says {verdict:?}, decoder {end:?}: {shown}"),
    }
}

/// Reads `input` as a chunked body, a line at a time: the data it holds and its verdict.
fn reference(input: &[u8], max_line: usize) -> (Vec<u8>, Verdict) {
    let mut data = Vec::new();
    let mut at = 0;
    loop {
        let size = match size_line(&input[at..], max_line) {
            Line::Size { size, len } => {
                at += len;
                size
            }
            Line::NeedMore => return (data, Verdict::NeedMore { in_trailers: false }),
            Line::Reject => return (data, Verdict::Reject),
        };
        if size == 0 {
            return (data, trailer_section(input, at));
        }
        let available = input.len() - at;
        let take = usize::try_from(size).map_or(available, |size| size.min(available));
        data.extend_from_slice(&input[at..at + take]);
        at += take;
        if (take as u64) < size {
            return (data, Verdict::NeedMore { in_trailers: false });
        }
        match &input[at..] {
            [] | [b'\r'] => return (data, Verdict::NeedMore { in_trailers: false }),
            [b'\r', b'\n', ..] => at += 2,
            _ => return (data, Verdict::Reject),
        }
    }
}

/// What the reference makes of the size line at the front of some bytes.
enum Line {
    /// A valid line: the size, and the line's length with its CRLF.
    Size {
        size: u64,
        len: usize,
    },
    NeedMore,
    Reject,
}

/// `chunk-size [ BWS ";" ext ] CRLF`, where `ext` is any run of non-control bytes.
fn size_line(rest: &[u8], max_line: usize) -> Line {
    let (line, complete) = match rest.iter().position(|&byte| byte == b'\n') {
        Some(lf) => (&rest[..=lf], true),
        None => (rest, false),
    };
    if line.len() > max_line {
        return Line::Reject;
    }
    let digits = line
        .iter()
        .take_while(|byte| byte.is_ascii_hexdigit())
        .count();
    let (hex, tail) = line.split_at(digits);
    let size = hex.iter().try_fold(0u64, |size, &byte| {
        let digit = (byte as char).to_digit(16)?;
        size.checked_mul(16)?.checked_add(u64::from(digit))
    });
    let Some(size) = size else {
        return Line::Reject;
    };
    match (complete, hex.is_empty(), tail) {
        (false, _, []) => Line::NeedMore,
        (_, true, _) => Line::Reject,
        (true, false, _) => match tail.strip_suffix(b"\r\n") {
            Some(ext) if valid_extension(ext) => Line::Size {
                size,
                len: line.len(),
            },
            _ => Line::Reject,
        },
        (false, false, [ext @ .., b'\r']) if valid_extension(ext) => Line::NeedMore,
        (false, false, _) if extension_prefix(tail) => Line::NeedMore,
        (false, false, _) => Line::Reject,
    }
}

/// Nothing, or `BWS ";"` and then non-control bytes.
fn valid_extension(ext: &[u8]) -> bool {
    ext.is_empty() || matches!(trim_bws(ext), [b';', rest @ ..] if rest.iter().all(is_ext_byte))
}

/// The start of something [`valid_extension`] accepts.
fn extension_prefix(ext: &[u8]) -> bool {
    match trim_bws(ext) {
        [] => true,
        [b';', rest @ ..] => rest.iter().all(is_ext_byte),
        _ => false,
    }
}

fn trim_bws(bytes: &[u8]) -> &[u8] {
    let blank = bytes
        .iter()
        .take_while(|&&byte| byte == b' ' || byte == b'\t')
        .count();
    &bytes[blank..]
}

fn is_ext_byte(byte: &u8) -> bool {
    matches!(byte, b'\t' | b' '..=b'~' | 0x80..=0xff)
}

/// Where the trailer section starting at `start` ends: after its first empty line.
fn trailer_section(input: &[u8], start: usize) -> Verdict {
    let mut at = start;
    while let Some(lf) = input[at..].iter().position(|&byte| byte == b'\n') {
        let line = &input[at..at + lf];
        at += lf + 1;
        if line.is_empty() || line == b"\r" {
            return Verdict::Body {
                trailers: start,
                end: at,
            };
        }
    }
    Verdict::NeedMore { in_trailers: true }
}
