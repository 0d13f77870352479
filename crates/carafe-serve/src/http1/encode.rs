//! Response encoding (sans-IO): the status line, the header block with the fields the
//! server owns (`date`, `content-length` or `transfer-encoding`, `connection`), and the
//! chunked coding for bodies of unknown length. RFC 9112 §4, §6 and §7.
//!
//! The framing the server picks, by RFC 9112 §6.3's rules seen from the sender:
//! no body for `1xx`, `204` and `304` answers and for `HEAD` requests; `content-length`
//! when the body's size is known; chunked for HTTP/1.1 clients otherwise; and for an
//! HTTP/1.0 client, a body delimited by closing the connection.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use http::header::{self, HeaderMap};
use http::StatusCode;

/// How the response body goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyEncoding {
    /// Nothing is written after the head.
    None,
    /// Exactly this many bytes follow.
    Length(u64),
    /// The chunked transfer coding.
    Chunked,
    /// Bytes until the connection closes (HTTP/1.0 clients, unknown length).
    CloseDelimited,
}

/// What the encoder needs to know about the exchange besides the response itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Exchange {
    /// The request was `HEAD`: send the head a `GET` would get, without the body.
    pub(crate) head_request: bool,
    /// The client speaks HTTP/1.1 (chunked allowed).
    pub(crate) http11: bool,
    /// The connection stays open after this response.
    pub(crate) keep_alive: bool,
    /// The body's exact length, when known.
    pub(crate) body_len: Option<u64>,
}

/// What [`encode_head`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Encoded {
    /// How the body must follow the head.
    pub(crate) encoding: BodyEncoding,
    /// Whether the connection stays open: the exchange's wish, unless the response itself
    /// said `connection: close`.
    pub(crate) keep_alive: bool,
}

/// Writes the head of a response into `dst` and says how the body must follow.
///
/// The header map is walked once: the fields the server owns are dropped and rewritten,
/// and `date` and `connection` are noticed on the way instead of looked up.
pub(crate) fn encode_head(
    status: StatusCode,
    headers: &HeaderMap,
    exchange: Exchange,
    dst: &mut BytesMut,
) -> Encoded {
    write_status_line(status, dst);
    let encoding = body_encoding(status, headers, exchange);
    let framing_is_ours = status != StatusCode::SWITCHING_PROTOCOLS;
    // A HEAD handler may answer an empty body with the length a GET would have had.
    let user_length_wins = exchange.head_request
        && exchange.body_len == Some(0)
        && headers.contains_key(header::CONTENT_LENGTH);
    let ours_length = exchange.body_len.is_some() && !user_length_wins;
    let (mut has_date, mut asks_close) = (false, false);
    for (name, value) in headers {
        has_date |= name == header::DATE;
        let skip = framing_is_ours
            && (name == header::TRANSFER_ENCODING
                || (name == header::CONTENT_LENGTH && ours_length)
                || name == header::CONNECTION);
        if skip {
            asks_close |= name == header::CONNECTION && has_close_token(value.as_bytes());
            continue;
        }
        dst.extend_from_slice(name.as_str().as_bytes());
        dst.extend_from_slice(b": ");
        dst.extend_from_slice(value.as_bytes());
        dst.extend_from_slice(b"\r\n");
    }
    if !has_date {
        write_date_line(dst);
    }
    // A body delimited by closing the connection cannot be followed by another request.
    let keep_alive = exchange.keep_alive && !asks_close && encoding != BodyEncoding::CloseDelimited;
    if framing_is_ours {
        write_framing(encoding, ours_length, exchange, keep_alive, dst);
    }
    dst.extend_from_slice(b"\r\n");
    let encoding = if exchange.head_request {
        BodyEncoding::None
    } else {
        encoding
    };
    Encoded {
        encoding,
        keep_alive,
    }
}

fn write_framing(
    encoding: BodyEncoding,
    ours_length: bool,
    exchange: Exchange,
    keep_alive: bool,
    dst: &mut BytesMut,
) {
    match encoding {
        BodyEncoding::Length(len) if ours_length => write_content_length(len, dst),
        BodyEncoding::Chunked if !exchange.head_request => {
            dst.extend_from_slice(b"transfer-encoding: chunked\r\n");
        }
        _ => {}
    }
    match (keep_alive, exchange.http11) {
        (false, true) => dst.extend_from_slice(b"connection: close\r\n"),
        (true, false) => dst.extend_from_slice(b"connection: keep-alive\r\n"),
        _ => {}
    }
}

fn has_close_token(value: &[u8]) -> bool {
    value
        .split(|&b| b == b',')
        .any(|token| token.trim_ascii().eq_ignore_ascii_case(b"close"))
}

/// Picks the body framing from the status, the request and the body's size.
fn body_encoding(status: StatusCode, headers: &HeaderMap, exchange: Exchange) -> BodyEncoding {
    if status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return BodyEncoding::None;
    }
    let declared = || {
        headers
            .get(header::CONTENT_LENGTH)
            .and_then(|value| super::framing::parse_decimal(value.as_bytes()))
    };
    match exchange.body_len.or_else(declared) {
        Some(len) => BodyEncoding::Length(len),
        None if exchange.http11 => BodyEncoding::Chunked,
        None => BodyEncoding::CloseDelimited,
    }
}

/// Whether a response of this encoding forces the connection to close afterwards.
pub(crate) fn forces_close(encoding: BodyEncoding) -> bool {
    encoding == BodyEncoding::CloseDelimited
}

fn write_status_line(status: StatusCode, dst: &mut BytesMut) {
    if status == StatusCode::OK {
        dst.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
        return;
    }
    dst.extend_from_slice(b"HTTP/1.1 ");
    dst.extend_from_slice(status.as_str().as_bytes());
    dst.extend_from_slice(b" ");
    dst.extend_from_slice(status.canonical_reason().unwrap_or("Unknown").as_bytes());
    dst.extend_from_slice(b"\r\n");
}

/// `n` in decimal, written at the end of `digits`.
fn decimal(mut n: u64, digits: &mut [u8; 20]) -> &[u8] {
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &digits[at..]
}

/// Writes `content-length: <len>` CRLF in one piece.
fn write_content_length(len: u64, dst: &mut BytesMut) {
    const PREFIX: &[u8] = b"content-length: ";
    let mut line = [0u8; 16 + 20 + 2];
    line[..PREFIX.len()].copy_from_slice(PREFIX);
    let mut digits = [0u8; 20];
    let digits = decimal(len, &mut digits);
    let end = PREFIX.len() + digits.len();
    line[PREFIX.len()..end].copy_from_slice(digits);
    line[end..end + 2].copy_from_slice(b"\r\n");
    dst.extend_from_slice(&line[..end + 2]);
}

/// Writes the size line of one chunk (`hex CRLF`); the caller writes data and CRLF.
pub(crate) fn write_chunk_size(len: usize, dst: &mut BytesMut) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut digits = [0u8; 16];
    let mut at = digits.len();
    let mut n = len;
    loop {
        at -= 1;
        digits[at] = HEX[n & 0xf];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    dst.extend_from_slice(&digits[at..]);
    dst.extend_from_slice(b"\r\n");
}

/// The `100 Continue` interim response.
pub(crate) const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// The last chunk with no trailers.
pub(crate) const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// The `date` field line, formatted at most once a second per thread.
struct DateCache {
    /// Seconds since the epoch of `line`.
    second: u64,
    /// `date: ` + the IMF-fixdate form (`Sun, 06 Nov 1994 08:49:37 GMT`, always 29 bytes)
    /// + CRLF.
    line: [u8; DATE_LINE_LEN],
}

const DATE_LINE_LEN: usize = b"date: ".len() + 29 + 2;

thread_local! {
    static DATE: RefCell<DateCache> =
        const { RefCell::new(DateCache { second: 0, line: [b' '; DATE_LINE_LEN] }) };
}

/// Writes the `date` field line for now, in IMF-fixdate form (RFC 9110 §5.6.7).
pub(crate) fn write_date_line(dst: &mut BytesMut) {
    let now = SystemTime::now();
    let second = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    DATE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.second != second {
            let text = httpdate::fmt_http_date(now);
            if text.len() == 29 {
                cache.line[..6].copy_from_slice(b"date: ");
                cache.line[6..35].copy_from_slice(text.as_bytes());
                cache.line[35..].copy_from_slice(b"\r\n");
                cache.second = second;
            }
        }
        dst.extend_from_slice(&cache.line);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn encode(status: u16, headers: &HeaderMap, exchange: Exchange) -> (String, BodyEncoding) {
        let mut dst = BytesMut::new();
        let status = StatusCode::from_u16(status).expect("valid status");
        let encoded = encode_head(status, headers, exchange, &mut dst);
        (
            String::from_utf8(dst.to_vec()).expect("ascii head"),
            encoded.encoding,
        )
    }

    const GET11: Exchange = Exchange {
        head_request: false,
        http11: true,
        keep_alive: true,
        body_len: Some(5),
    };

    #[test]
    fn sized_response_gets_content_length_and_date() {
        let (head, encoding) = encode(200, &HeaderMap::new(), GET11);
        assert!(head.starts_with("HTTP/1.1 200 OK\r\ndate: "), "{head}");
        assert!(head.ends_with("content-length: 5\r\n\r\n"), "{head}");
        assert_eq!(encoding, BodyEncoding::Length(5));
    }

    #[test]
    fn unsized_response_is_chunked_for_http11_and_close_delimited_for_http10() {
        let unsized_ = Exchange {
            body_len: None,
            ..GET11
        };
        let (head, encoding) = encode(200, &HeaderMap::new(), unsized_);
        assert!(head.contains("transfer-encoding: chunked\r\n"));
        assert_eq!(encoding, BodyEncoding::Chunked);
        let http10 = Exchange {
            http11: false,
            keep_alive: false,
            ..unsized_
        };
        let (head, encoding) = encode(200, &HeaderMap::new(), http10);
        assert!(!head.contains("transfer-encoding"));
        assert_eq!(encoding, BodyEncoding::CloseDelimited);
    }

    #[test]
    fn head_request_gets_length_but_no_body() {
        let head_req = Exchange {
            head_request: true,
            ..GET11
        };
        let (head, encoding) = encode(200, &HeaderMap::new(), head_req);
        assert!(head.contains("content-length: 5\r\n"));
        assert_eq!(encoding, BodyEncoding::None);
    }

    #[test]
    fn bodiless_statuses_get_no_framing() {
        for status in [204, 304, 100] {
            let (head, encoding) = encode(status, &HeaderMap::new(), GET11);
            assert!(!head.contains("content-length"), "{head}");
            assert_eq!(encoding, BodyEncoding::None);
        }
    }

    #[test]
    fn connection_close_and_keep_alive_are_announced() {
        let closing = Exchange {
            keep_alive: false,
            ..GET11
        };
        assert!(encode(200, &HeaderMap::new(), closing)
            .0
            .contains("connection: close\r\n"));
        let http10 = Exchange {
            http11: false,
            ..GET11
        };
        assert!(encode(200, &HeaderMap::new(), http10)
            .0
            .contains("connection: keep-alive\r\n"));
    }

    #[test]
    fn a_response_asking_to_close_closes() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONNECTION, HeaderValue::from_static("Close"));
        let mut dst = BytesMut::new();
        let encoded = encode_head(StatusCode::OK, &headers, GET11, &mut dst);
        assert!(!encoded.keep_alive);
        let head = String::from_utf8(dst.to_vec()).expect("ascii head");
        assert_eq!(head.matches("connection: close").count(), 1, "{head}");
    }

    #[test]
    fn user_headers_are_kept_and_framing_headers_replaced() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("99"));
        headers.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        let (head, _) = encode(404, &headers, GET11);
        assert!(head.starts_with("HTTP/1.1 404 Not Found\r\n"));
        assert!(head.contains("content-type: text/plain\r\n"));
        assert!(head.contains("content-length: 5\r\n"));
        assert!(!head.contains("99") && !head.contains("chunked"), "{head}");
    }

    #[test]
    fn numbers_are_written_in_decimal_and_hex() {
        let mut dst = BytesMut::new();
        write_content_length(0, &mut dst);
        write_content_length(u64::MAX, &mut dst);
        write_chunk_size(0x1f2e, &mut dst);
        let expected: &[u8] =
            b"content-length: 0\r\ncontent-length: 18446744073709551615\r\n1f2e\r\n";
        assert_eq!(&dst[..], expected);
    }
}
