//! Request-head parsing (sans-IO): RFC 9112 §2–§3 and §6 framing rules on top of `httparse`.
//!
//! `httparse` tokenizes the request line and the field lines. Everything it leaves to its
//! caller is decided here, strictly, because a lenient framing decision is a request
//! smuggling vector (RFC 9112 §11.2): exactly one valid `Host` in HTTP/1.1, a
//! `Content-Length` that is one decimal number, a `Transfer-Encoding` that ends in
//! `chunked`, never both, and so on. Every ambiguous message is an error whose status the
//! connection answers before it closes.
//!
//! This module never touches a socket: it takes a buffer and returns `Ok(None)` when it
//! needs more bytes.

use std::fmt;
use std::mem::MaybeUninit;

use bytes::{Bytes, BytesMut};
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode, Uri, Version};
use smallvec::SmallVec;

use super::framing::FieldFacts;
use crate::config::Limits;

/// The most header fields any configuration may allow (the size of the stack array
/// handed to `httparse`).
pub const MAX_HEADERS_CAP: usize = 128;

/// A request head, validated, with its body framing decided.
#[derive(Debug)]
pub struct RequestHead {
    /// The request method.
    pub method: Method,
    /// The request target.
    pub uri: Uri,
    /// `HTTP/1.0` or `HTTP/1.1`.
    pub version: Version,
    /// The header fields.
    pub headers: HeaderMap,
    /// How the body is delimited.
    pub framing: Framing,
    /// Whether the connection may serve another request after this one.
    pub keep_alive: bool,
    /// The client sent `Expect: 100-continue`.
    pub expect_continue: bool,
    /// The client asks to switch protocols (`Connection: upgrade` with `Upgrade`).
    pub upgrade: bool,
}

/// How a request body is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    Empty,
    /// Exactly this many bytes follow the head.
    Length(u64),
    /// The chunked transfer coding.
    Chunked,
}

/// Why a request was rejected; [`ParseError::status`] is its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// The request line is malformed.
    RequestLine,
    /// The method is not a token.
    Method,
    /// The request target is not a valid URI for this method.
    Target,
    /// A field name is invalid, or there is whitespace before the colon.
    HeaderName,
    /// A field value contains a control character or an obsolete line folding.
    HeaderValue,
    /// A line ending is malformed.
    NewLine,
    /// An HTTP/1.1 request has no `Host` field.
    MissingHost,
    /// A request has more than one `Host` field.
    DuplicateHost,
    /// The `Host` field is not a valid authority.
    InvalidHost,
    /// Both `Content-Length` and `Transfer-Encoding` are present.
    ContentLengthAndTransferEncoding,
    /// A `Content-Length` is empty, signed, not decimal, a list, or overflows.
    InvalidContentLength,
    /// Several `Content-Length` fields disagree.
    ConflictingContentLength,
    /// `Transfer-Encoding` does not end with `chunked`, or repeats it.
    TransferEncodingNotChunked,
    /// A transfer coding other than `chunked` was applied (501).
    UnsupportedTransferCoding,
    /// An HTTP/1.0 request carries `Transfer-Encoding` (RFC 9112 §6.1).
    TransferEncodingInHttp10,
    /// An `Expect` value other than `100-continue` (417).
    UnsupportedExpectation,
    /// A chunk-size line is empty, not hexadecimal, or has stray whitespace.
    ChunkSize,
    /// A chunk size does not fit in 64 bits.
    ChunkSizeOverflow,
    /// A chunk extension is malformed.
    ChunkExtension,
    /// Chunk data is not followed by CRLF.
    ChunkDataEnd,
    /// A chunk-size line or the trailer section is longer than the limit.
    ChunkLineTooLong,
    /// A trailer field is malformed.
    Trailer,
    /// The request head is longer than `max_head_bytes` (431).
    HeadersTooLarge,
    /// More header fields than `max_headers` (431).
    TooManyHeaders,
    /// The request target is longer than `max_uri_bytes` (414).
    UriTooLong,
    /// An HTTP version other than 1.0 and 1.1 (505).
    UnsupportedVersion,
}

impl ParseError {
    /// The status code the server answers this error with.
    pub fn status(self) -> StatusCode {
        match self {
            ParseError::HeadersTooLarge | ParseError::TooManyHeaders => {
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
            }
            ParseError::UriTooLong => StatusCode::URI_TOO_LONG,
            ParseError::UnsupportedVersion => StatusCode::HTTP_VERSION_NOT_SUPPORTED,
            ParseError::UnsupportedTransferCoding => StatusCode::NOT_IMPLEMENTED,
            ParseError::UnsupportedExpectation => StatusCode::EXPECTATION_FAILED,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn message(self) -> &'static str {
        match self {
            ParseError::RequestLine => "malformed request line",
            ParseError::Method => "invalid method token",
            ParseError::Target => "invalid request target",
            ParseError::HeaderName => "invalid header field name",
            ParseError::HeaderValue => "invalid header field value",
            ParseError::NewLine => "invalid line ending",
            ParseError::MissingHost => "missing host header in an http/1.1 request",
            ParseError::DuplicateHost => "more than one host header",
            ParseError::InvalidHost => "invalid host header",
            ParseError::ContentLengthAndTransferEncoding => {
                "both content-length and transfer-encoding present"
            }
            ParseError::InvalidContentLength => "invalid content-length",
            ParseError::ConflictingContentLength => "conflicting content-length values",
            ParseError::TransferEncodingNotChunked => "transfer-encoding does not end with chunked",
            ParseError::UnsupportedTransferCoding => "unsupported transfer coding",
            ParseError::TransferEncodingInHttp10 => "transfer-encoding in an http/1.0 request",
            ParseError::UnsupportedExpectation => "unsupported expectation",
            ParseError::ChunkSize => "invalid chunk size",
            ParseError::ChunkSizeOverflow => "chunk size overflows",
            ParseError::ChunkExtension => "invalid chunk extension",
            ParseError::ChunkDataEnd => "chunk data not followed by crlf",
            ParseError::ChunkLineTooLong => "chunk-size line or trailers too long",
            ParseError::Trailer => "invalid trailer field",
            ParseError::HeadersTooLarge => "request head too large",
            ParseError::TooManyHeaders => "too many header fields",
            ParseError::UriTooLong => "request target too long",
            ParseError::UnsupportedVersion => "unsupported http version",
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for ParseError {}

/// Incremental request-head parser.
///
/// `httparse` parses from the start of the buffer each time, so a client that sends its
/// head a byte at a time would make us do quadratic work. The parser remembers how far it
/// has looked and only runs `httparse` again once an empty line (the end of a head) may
/// have arrived.
#[derive(Debug, Default)]
pub struct HeadParser {
    /// Bytes of the buffer already searched for the end of the head without success.
    scanned: usize,
    /// An emptied header map whose allocation the next request reuses (hyper does the
    /// same): a map costs two allocations, a large part of a small request's cost.
    spare: Option<HeaderMap>,
}

impl HeadParser {
    /// Parses one request head from the front of `buf`, removing it on success.
    ///
    /// `Ok(None)` means the head is incomplete; call again when more bytes arrived.
    pub fn parse(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<Option<RequestHead>, ParseError> {
        if self.scanned > 0 && !has_head_end(&buf[self.scanned.saturating_sub(3)..]) {
            self.scanned = buf.len();
            return check_partial(buf, limits).map(|()| None);
        }
        match parse_head(buf, limits, &mut self.spare)? {
            Some(head) => {
                self.scanned = 0;
                Ok(Some(head))
            }
            None => {
                self.scanned = buf.len();
                Ok(None)
            }
        }
    }

    /// Gives back a header map (a response's, once written) for the next request to
    /// reuse; it is emptied here. Maps grown past the header limit are not kept.
    pub fn recycle(&mut self, mut headers: HeaderMap, limits: &Limits) {
        if headers.capacity() <= limits.max_headers.min(MAX_HEADERS_CAP) {
            headers.clear();
            self.spare = Some(headers);
        }
    }

    /// Drops the spare header map (the connection is idle and gives memory back).
    pub fn release(&mut self) {
        self.spare = None;
    }
}

/// Whether `bytes` contains an empty line: `\n\r\n` or `\n\n`.
fn has_head_end(bytes: &[u8]) -> bool {
    bytes.windows(2).enumerate().any(|(at, pair)| match pair {
        b"\n\n" => true,
        b"\n\r" => bytes.get(at + 2) == Some(&b'\n'),
        _ => false,
    })
}

/// Checks the limits on an incomplete head, so an oversized one fails early.
fn check_partial(buf: &[u8], limits: &Limits) -> Result<(), ParseError> {
    // The request target runs from the method's space to the next space; measure what has
    // arrived of it, so a long method never counts against the target's limit and a
    // head cut anywhere is judged as it would be whole.
    let line = request_line(buf);
    if let Some(space) = line.iter().position(|&b| b == b' ') {
        let rest = &line[space + 1..];
        let target_len = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
        if target_len > limits.max_uri_bytes {
            return Err(ParseError::UriTooLong);
        }
    }
    if buf.len() > limits.max_head_bytes {
        return Err(ParseError::HeadersTooLarge);
    }
    Ok(())
}

/// The request line (or what has arrived of it), after any empty lines before it.
fn request_line(buf: &[u8]) -> &[u8] {
    let start = buf
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(buf.len());
    let buf = &buf[start..];
    let end = buf
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(buf.len());
    &buf[..end]
}

/// Byte offsets of one field line inside the head buffer.
#[derive(Clone, Copy)]
struct FieldIndices {
    name: (u32, u32),
    value: (u32, u32),
}

/// Field offsets for a typical request live on the stack; more spill to the heap.
type Indices = SmallVec<[FieldIndices; 32]>;

fn parse_head(
    buf: &mut BytesMut,
    limits: &Limits,
    spare: &mut Option<HeaderMap>,
) -> Result<Option<RequestHead>, ParseError> {
    let max_headers = limits.max_headers.min(MAX_HEADERS_CAP);
    // Uninitialized slots: httparse writes only the ones it fills, so a request does not
    // pay for zeroing a hundred headers it does not have.
    let mut fields = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS_CAP];
    let mut req = httparse::Request::new(&mut []);
    let head_len = match req.parse_with_uninit_headers(buf, &mut fields[..max_headers]) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return check_partial(buf, limits).map(|()| None),
        Err(error) => return Err(map_httparse_error(error, buf)),
    };
    // The target before the head: a partial head is judged in this order too.
    let path = req.path.unwrap_or_default();
    if path.len() > limits.max_uri_bytes {
        return Err(ParseError::UriTooLong);
    }
    if head_len > limits.max_head_bytes {
        return Err(ParseError::HeadersTooLarge);
    }
    let method = Method::from_bytes(req.method.unwrap_or_default().as_bytes())
        .map_err(|_| ParseError::Method)?;
    let version = if req.version == Some(1) {
        Version::HTTP_11
    } else {
        Version::HTTP_10
    };
    // Offsets are kept as u32 so the stack array stays small; `offset` refuses a head
    // beyond 4 GiB (only a configuration could allow one).
    let base = buf.as_ptr() as usize;
    let offset = |part: &[u8]| -> Result<(u32, u32), ParseError> {
        let start = part.as_ptr() as usize - base;
        let start = u32::try_from(start).map_err(|_| ParseError::HeadersTooLarge)?;
        let len = u32::try_from(part.len()).map_err(|_| ParseError::HeadersTooLarge)?;
        Ok((start, start + len))
    };
    let path_range = offset(path.as_bytes())?;
    let mut indices = Indices::new();
    for field in req.headers.iter() {
        indices.push(FieldIndices {
            name: offset(field.name.as_bytes())?,
            value: offset(field.value)?,
        });
    }
    let head = buf.split_to(head_len).freeze();
    let uri = parse_target(
        &method,
        head.slice(path_range.0 as usize..path_range.1 as usize),
    )?;
    let headers = build_headers(&head, &indices, spare.take().unwrap_or_default())?;
    decide_framing(method, uri, version, headers).map(Some)
}

fn map_httparse_error(error: httparse::Error, buf: &[u8]) -> ParseError {
    match error {
        httparse::Error::HeaderName => ParseError::HeaderName,
        httparse::Error::HeaderValue => ParseError::HeaderValue,
        httparse::Error::NewLine => ParseError::NewLine,
        httparse::Error::Token => ParseError::Method,
        httparse::Error::TooManyHeaders => ParseError::TooManyHeaders,
        httparse::Error::Version => judge_version(buf),
        httparse::Error::Status => ParseError::RequestLine,
    }
}

/// The answer to a request line whose version `httparse` refused: 505 when its third
/// part is an HTTP version other than 1.0 and 1.1 (`HTTP/2.0`, `HTTP/1.2`, or what has
/// arrived of one, so the verdict does not depend on where the bytes were cut), 400 for
/// anything else (garbage, or a line with more than three parts).
fn judge_version(buf: &[u8]) -> ParseError {
    let third = request_line(buf).split(|&b| b == b' ').nth(2);
    let other = match third {
        Some([b'H', b'T', b'T', b'P', b'/', major, rest @ ..]) if major.is_ascii_digit() => {
            *major != b'1'
                || matches!(rest, [b'.', minor, ..] if minor.is_ascii_digit() && !matches!(minor, b'0' | b'1'))
        }
        _ => false,
    };
    match other {
        true => ParseError::UnsupportedVersion,
        false => ParseError::RequestLine,
    }
}

/// Checks the request target's form against the method (RFC 9112 §3.2).
fn parse_target(method: &Method, target: Bytes) -> Result<Uri, ParseError> {
    let first = target.first().copied();
    // A fragment is never part of a request target (RFC 9112 §3.2); `Uri` would drop it.
    if target.contains(&b'#') {
        return Err(ParseError::Target);
    }
    let uri = Uri::from_maybe_shared(target).map_err(|_| ParseError::Target)?;
    let allowed = match first {
        // authority-form, and only it, belongs to CONNECT.
        _ if method == Method::CONNECT => uri.authority().is_some() && uri.scheme().is_none(),
        Some(b'/') => true,
        Some(b'*') => method == Method::OPTIONS && uri.path() == "*",
        _ => uri.scheme().is_some() && uri.authority().is_some(),
    };
    if !allowed {
        return Err(ParseError::Target);
    }
    Ok(uri)
}

/// Builds the header map and, in the same pass, the facts the framing rules need.
fn build_headers(
    head: &Bytes,
    indices: &[FieldIndices],
    mut headers: HeaderMap,
) -> Result<(HeaderMap, FieldFacts), ParseError> {
    headers.reserve(indices.len());
    let mut facts = FieldFacts::default();
    for index in indices {
        let (name_start, name_end) = (index.name.0 as usize, index.name.1 as usize);
        let (value_start, value_end) = (index.value.0 as usize, index.value.1 as usize);
        let name = HeaderName::from_bytes(&head[name_start..name_end])
            .map_err(|_| ParseError::HeaderName)?;
        let value = HeaderValue::from_maybe_shared(head.slice(value_start..value_end))
            .map_err(|_| ParseError::HeaderValue)?;
        facts.observe(&name, value.as_bytes())?;
        headers.append(name, value);
    }
    Ok((headers, facts))
}

fn decide_framing(
    method: Method,
    uri: Uri,
    version: Version,
    (headers, facts): (HeaderMap, FieldFacts),
) -> Result<RequestHead, ParseError> {
    let decision = facts.decide(version)?;
    Ok(RequestHead {
        method,
        uri,
        version,
        headers,
        framing: decision.framing,
        keep_alive: decision.keep_alive,
        expect_continue: decision.expect_continue,
        upgrade: decision.upgrade,
    })
}

#[cfg(test)]
mod tests;
