use super::*;

fn parse(input: &[u8]) -> Result<Option<RequestHead>, ParseError> {
    let mut buf = BytesMut::from(input);
    HeadParser::default().parse(&mut buf, &Limits::default())
}

fn parse_ok(input: &[u8]) -> RequestHead {
    match parse(input) {
        Ok(Some(head)) => head,
        other => panic!("{:?} -> {other:?}", String::from_utf8_lossy(input)),
    }
}

#[test]
fn simple_get_parses() {
    let head = parse_ok(b"GET /path?q=1 HTTP/1.1\r\nHost: example.com\r\nX-A: b\r\n\r\n");
    assert_eq!(head.method, Method::GET);
    assert_eq!(head.uri.path(), "/path");
    assert_eq!(head.uri.query(), Some("q=1"));
    assert_eq!(head.version, Version::HTTP_11);
    assert_eq!(head.headers["x-a"], "b");
    assert_eq!(head.framing, Framing::Empty);
    assert!(head.keep_alive);
}

#[test]
fn incomplete_heads_need_more() {
    for input in [
        &b""[..],
        b"GET",
        b"GET / HTTP/1.1\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\n",
    ] {
        assert!(
            matches!(parse(input), Ok(None)),
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn the_head_is_removed_and_the_rest_is_left() {
    let mut buf = BytesMut::from(&b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\n"[..]);
    let head = HeadParser::default().parse(&mut buf, &Limits::default());
    assert!(matches!(head, Ok(Some(_))));
    assert_eq!(&buf[..], b"GET /b HTTP/1.1\r\n");
}

#[test]
fn framing_is_decided_by_the_rules() {
    let cases: &[(&[u8], Framing)] = &[
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n",
            Framing::Length(5),
        ),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
            Framing::Empty,
        ),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 007\r\n\r\n",
            Framing::Length(7),
        ),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
            Framing::Length(5),
        ),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
            Framing::Chunked,
        ),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n",
            Framing::Chunked,
        ),
        (
            b"POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\n",
            Framing::Length(3),
        ),
    ];
    for (input, framing) in cases {
        assert_eq!(
            parse_ok(input).framing,
            *framing,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn ambiguous_and_invalid_messages_are_rejected() {
    let cases: &[(&[u8], ParseError)] = &[
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            ParseError::ContentLengthAndTransferEncoding,
        ),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            ParseError::ConflictingContentLength,
        ),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", ParseError::InvalidContentLength),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\n", ParseError::InvalidContentLength),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n", ParseError::InvalidContentLength),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", ParseError::InvalidContentLength),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", ParseError::InvalidContentLength),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5\r\n\r\n", ParseError::InvalidContentLength),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n",
            ParseError::InvalidContentLength,
        ),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
            ParseError::TransferEncodingNotChunked,
        ),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
            ParseError::TransferEncodingNotChunked,
        ),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
            ParseError::TransferEncodingNotChunked,
        ),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n",
            ParseError::TransferEncodingNotChunked,
        ),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            ParseError::UnsupportedTransferCoding,
        ),
        (
            b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
            ParseError::TransferEncodingInHttp10,
        ),
        (b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", ParseError::HeaderName),
        (b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", ParseError::HeaderName),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x01c\r\n\r\n", ParseError::HeaderValue),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x7fc\r\n\r\n", ParseError::HeaderValue),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n", ParseError::HeaderValue),
        (b"GET / HTTP/1.1\r\n\r\n", ParseError::MissingHost),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", ParseError::DuplicateHost),
        (b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", ParseError::InvalidHost),
        (b"GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", ParseError::InvalidHost),
        (b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", ParseError::InvalidHost),
        (b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", ParseError::Method),
        (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", ParseError::UnsupportedVersion),
        (b"GET / HTTP/1.2\r\nHost: a\r\n\r\n", ParseError::UnsupportedVersion),
        (b"GET / FTP/1.1\r\nHost: a\r\n\r\n", ParseError::RequestLine),
        (b"GET nopath HTTP/1.1\r\nHost: a\r\n\r\n", ParseError::Target),
        (b"GET * HTTP/1.1\r\nHost: a\r\n\r\n", ParseError::Target),
        (b"CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", ParseError::Target),
        (b"GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n", ParseError::Target),
        (b"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", ParseError::RequestLine),
        (b"GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", ParseError::UnsupportedExpectation),
    ];
    for (input, expected) in cases {
        let got = parse(input).map(|head| head.map(|_| ()));
        assert_eq!(got, Err(*expected), "{:?}", String::from_utf8_lossy(input));
    }
}

#[test]
fn host_rules_follow_the_version() {
    assert!(parse_ok(b"GET / HTTP/1.0\r\n\r\n").headers.is_empty());
    parse_ok(b"GET / HTTP/1.1\r\nHost:\r\n\r\n");
    parse_ok(b"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n");
    parse_ok(b"GET / HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n");
    parse_ok(b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
    parse_ok(b"GET http://a/b HTTP/1.1\r\nHost: a\r\n\r\n");
    parse_ok(b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n");
}

#[test]
fn keep_alive_follows_version_and_connection() {
    assert!(parse_ok(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").keep_alive);
    assert!(!parse_ok(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").keep_alive);
    assert!(!parse_ok(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, Close\r\n\r\n").keep_alive);
    assert!(!parse_ok(b"GET / HTTP/1.0\r\n\r\n").keep_alive);
    assert!(parse_ok(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive);
}

#[test]
fn expect_continue_and_upgrade_are_recognized() {
    let head = parse_ok(
        b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n",
    );
    assert!(head.expect_continue);
    let head =
        parse_ok(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
    assert!(head.upgrade);
    let head = parse_ok(b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n");
    assert!(!head.upgrade);
}

#[test]
fn limits_give_their_statuses() {
    let limits = Limits {
        max_uri_bytes: 100,
        max_head_bytes: 1000,
        max_headers: 4,
        ..Limits::default()
    };
    let long_uri = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(200));
    let partial_long_uri = format!("GET /{}", "a".repeat(200));
    let many = format!("GET / HTTP/1.1\r\nHost: a\r\n{}\r\n", "X: y\r\n".repeat(5));
    let big = format!("GET / HTTP/1.1\r\nHost: a\r\nX: {}\r\n", "y".repeat(2000));
    let cases = [
        (long_uri, ParseError::UriTooLong),
        (partial_long_uri, ParseError::UriTooLong),
        (many, ParseError::TooManyHeaders),
        (big, ParseError::HeadersTooLarge),
    ];
    for (input, expected) in cases {
        let mut buf = BytesMut::from(input.as_bytes());
        let got = HeadParser::default()
            .parse(&mut buf, &limits)
            .map(|head| head.map(|_| ()));
        assert_eq!(got, Err(expected), "{input:.60}");
    }
}

#[test]
fn a_head_arriving_byte_by_byte_parses_once_complete() {
    let input = b"GET /x HTTP/1.1\r\nHost: a\r\nX-Long: abcdef\r\n\r\n";
    let mut parser = HeadParser::default();
    let mut buf = BytesMut::new();
    for (at, &byte) in input.iter().enumerate() {
        buf.extend_from_slice(&[byte]);
        let got = parser
            .parse(&mut buf, &Limits::default())
            .expect("valid so far");
        assert_eq!(got.is_some(), at == input.len() - 1, "at byte {at}");
    }
}

#[test]
fn leading_empty_lines_are_ignored() {
    parse_ok(b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
}
