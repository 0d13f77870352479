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

use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode, Uri, Version};

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
        match parse_head(buf, limits)? {
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

    /// Forgets any partial progress (the buffer was consumed by someone else).
    pub fn reset(&mut self) {
        self.scanned = 0;
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
    let line_end = buf.iter().position(|&b| b == b'\n');
    // The request line is `method SP target SP HTTP/1.1`: allow for the method and version.
    let max_line = limits.max_uri_bytes + 32;
    match line_end {
        None if buf.len() > max_line => Err(ParseError::UriTooLong),
        _ if buf.len() > limits.max_head_bytes => Err(ParseError::HeadersTooLarge),
        _ => Ok(()),
    }
}

/// Byte offsets of one field line inside the head buffer.
#[derive(Clone, Copy, Default)]
struct FieldIndices {
    name: (usize, usize),
    value: (usize, usize),
}

fn parse_head(buf: &mut BytesMut, limits: &Limits) -> Result<Option<RequestHead>, ParseError> {
    let max_headers = limits.max_headers.min(MAX_HEADERS_CAP);
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS_CAP];
    let mut indices = [FieldIndices::default(); MAX_HEADERS_CAP];
    let mut req = httparse::Request::new(&mut fields[..max_headers]);
    let head_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return check_partial(buf, limits).map(|()| None),
        Err(error) => return Err(map_httparse_error(error, buf)),
    };
    if head_len > limits.max_head_bytes {
        return Err(ParseError::HeadersTooLarge);
    }
    let method = Method::from_bytes(req.method.unwrap_or_default().as_bytes())
        .map_err(|_| ParseError::Method)?;
    let path = req.path.unwrap_or_default();
    if path.len() > limits.max_uri_bytes {
        return Err(ParseError::UriTooLong);
    }
    let version = if req.version == Some(1) { Version::HTTP_11 } else { Version::HTTP_10 };
    let base = buf.as_ptr() as usize;
    let path_at = path.as_ptr() as usize - base;
    let path_range = (path_at, path_at + path.len());
    let count = req.headers.len();
    for (field, index) in req.headers.iter().zip(indices.iter_mut()) {
        let name_at = field.name.as_ptr() as usize - base;
        let value_at = field.value.as_ptr() as usize - base;
        index.name = (name_at, name_at + field.name.len());
        index.value = (value_at, value_at + field.value.len());
    }
    let head = buf.split_to(head_len).freeze();
    let uri = parse_target(&method, head.slice(path_range.0..path_range.1))?;
    let headers = build_headers(&head, &indices[..count])?;
    decide_framing(method, uri, version, headers).map(Some)
}

fn map_httparse_error(error: httparse::Error, buf: &[u8]) -> ParseError {
    match error {
        httparse::Error::HeaderName => ParseError::HeaderName,
        httparse::Error::HeaderValue => ParseError::HeaderValue,
        httparse::Error::NewLine => ParseError::NewLine,
        httparse::Error::Token => ParseError::Method,
        httparse::Error::TooManyHeaders => ParseError::TooManyHeaders,
        httparse::Error::Version if looks_like_other_version(buf) => ParseError::UnsupportedVersion,
        httparse::Error::Version | httparse::Error::Status => ParseError::RequestLine,
    }
}

/// Whether the request line ends in a well-formed `HTTP/x.y` that is not 1.0 or 1.1
/// (505), as opposed to garbage (400).
fn looks_like_other_version(buf: &[u8]) -> bool {
    let line_end = buf.iter().position(|&b| b == b'\r' || b == b'\n').unwrap_or(buf.len());
    let line = &buf[..line_end];
    let Some(space) = line.iter().rposition(|&b| b == b' ') else {
        return false;
    };
    match &line[space + 1..] {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor] => {
            major.is_ascii_digit() && minor.is_ascii_digit()
        }
        [b'H', b'T', b'T', b'P', b'/', major] => major.is_ascii_digit(),
        _ => false,
    }
}

/// Checks the request target's form against the method (RFC 9112 §3.2).
fn parse_target(method: &Method, target: Bytes) -> Result<Uri, ParseError> {
    let first = target.first().copied();
    let uri = Uri::from_maybe_shared(target).map_err(|_| ParseError::Target)?;
    let allowed = match first {
        Some(b'/') => true,
        Some(b'*') => method == Method::OPTIONS && uri.path() == "*",
        _ if method == Method::CONNECT => uri.authority().is_some() && uri.scheme().is_none(),
        _ => uri.scheme().is_some() && uri.authority().is_some(),
    };
    if !allowed {
        return Err(ParseError::Target);
    }
    Ok(uri)
}

fn build_headers(head: &Bytes, indices: &[FieldIndices]) -> Result<HeaderMap, ParseError> {
    let mut headers = HeaderMap::with_capacity(indices.len());
    for index in indices {
        let name = HeaderName::from_bytes(&head[index.name.0..index.name.1])
            .map_err(|_| ParseError::HeaderName)?;
        let value = HeaderValue::from_maybe_shared(head.slice(index.value.0..index.value.1))
            .map_err(|_| ParseError::HeaderValue)?;
        headers.append(name, value);
    }
    Ok(headers)
}

fn decide_framing(
    method: Method,
    uri: Uri,
    version: Version,
    headers: HeaderMap,
) -> Result<RequestHead, ParseError> {
    check_host(&headers, version)?;
    let framing = body_framing(&headers, version)?;
    let connection = connection_tokens(&headers);
    let keep_alive = match version {
        Version::HTTP_11 => !connection.close,
        _ => connection.keep_alive && !connection.close,
    };
    let expect_continue = match headers.get(header::EXPECT) {
        None => false,
        Some(value) if value.as_bytes().eq_ignore_ascii_case(b"100-continue") => {
            version == Version::HTTP_11
        }
        Some(_) => return Err(ParseError::UnsupportedExpectation),
    };
    let upgrade =
        version == Version::HTTP_11 && connection.upgrade && headers.contains_key(header::UPGRADE);
    Ok(RequestHead { method, uri, version, headers, framing, keep_alive, expect_continue, upgrade })
}

/// RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code to any
/// HTTP/1.1 request message that lacks a Host header field and to any request message that
/// contains more than one Host header field line or a Host header field with an invalid
/// field value."
fn check_host(headers: &HeaderMap, version: Version) -> Result<(), ParseError> {
    let mut hosts = headers.get_all(header::HOST).iter();
    match (hosts.next(), hosts.next()) {
        (None, _) if version == Version::HTTP_11 => Err(ParseError::MissingHost),
        (None, _) => Ok(()),
        (Some(_), Some(_)) => Err(ParseError::DuplicateHost),
        (Some(host), None) if valid_host(host.as_bytes()) => Ok(()),
        (Some(_), None) => Err(ParseError::InvalidHost),
    }
}

/// `Host = uri-host [ ":" port ]`, or empty; no userinfo, no path.
fn valid_host(host: &[u8]) -> bool {
    if host.is_empty() {
        return true;
    }
    let allowed = |b: &u8| {
        b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~' | b':' | b'[' | b']' | b'%')
            || matches!(b, b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=')
    };
    host.iter().all(allowed)
        && http::uri::Authority::try_from(host).is_ok_and(|authority| authority.host() != "")
}

/// RFC 9112 §6.3: the rules that decide a request's body length.
fn body_framing(headers: &HeaderMap, version: Version) -> Result<Framing, ParseError> {
    let has_te = headers.contains_key(header::TRANSFER_ENCODING);
    let length = content_length(headers)?;
    match (has_te, length) {
        // "If a message is received with both a Transfer-Encoding and a Content-Length
        // header field, the Transfer-Encoding overrides the Content-Length. Such a message
        // might indicate an attempt to perform request smuggling" — we refuse it outright.
        (true, Some(_)) => Err(ParseError::ContentLengthAndTransferEncoding),
        (true, None) if version != Version::HTTP_11 => Err(ParseError::TransferEncodingInHttp10),
        (true, None) => transfer_coding(headers).map(|()| Framing::Chunked),
        (false, Some(0)) | (false, None) => Ok(Framing::Empty),
        (false, Some(length)) => Ok(Framing::Length(length)),
    }
}

/// All `Content-Length` lines must be the same single decimal number.
fn content_length(headers: &HeaderMap) -> Result<Option<u64>, ParseError> {
    let mut length = None;
    for value in headers.get_all(header::CONTENT_LENGTH) {
        let parsed = parse_decimal(value.as_bytes()).ok_or(ParseError::InvalidContentLength)?;
        match length {
            Some(previous) if previous != parsed => {
                return Err(ParseError::ConflictingContentLength)
            }
            _ => length = Some(parsed),
        }
    }
    Ok(length)
}

/// `1*DIGIT` that fits in a `u64`: no sign, no spaces, no hex, no list.
pub(crate) fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &b| {
        let digit = (b as char).to_digit(10)?;
        acc.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// RFC 9112 §6.1: chunked must be the final coding, applied once; we decode no other.
fn transfer_coding(headers: &HeaderMap) -> Result<(), ParseError> {
    let (mut codings, mut chunked, mut last_is_chunked) = (0usize, 0usize, false);
    for value in headers.get_all(header::TRANSFER_ENCODING) {
        for coding in value.as_bytes().split(|&b| b == b',') {
            let coding = coding.trim_ascii();
            if coding.is_empty() {
                continue;
            }
            last_is_chunked = coding.eq_ignore_ascii_case(b"chunked");
            chunked += usize::from(last_is_chunked);
            codings += 1;
        }
    }
    match (last_is_chunked, chunked, codings) {
        (true, 1, 1) => Ok(()),
        (true, 1, _) => Err(ParseError::UnsupportedTransferCoding),
        _ => Err(ParseError::TransferEncodingNotChunked),
    }
}

#[derive(Default)]
struct ConnectionTokens {
    close: bool,
    keep_alive: bool,
    upgrade: bool,
}

fn connection_tokens(headers: &HeaderMap) -> ConnectionTokens {
    let mut tokens = ConnectionTokens::default();
    for value in headers.get_all(header::CONNECTION) {
        for token in value.as_bytes().split(|&b| b == b',') {
            let token = token.trim_ascii();
            tokens.close |= token.eq_ignore_ascii_case(b"close");
            tokens.keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
            tokens.upgrade |= token.eq_ignore_ascii_case(b"upgrade");
        }
    }
    tokens
}

#[cfg(test)]
mod tests;
