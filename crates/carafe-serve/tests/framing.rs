//! Message framing over a real socket (RFC 9112 §2–§7): every ambiguous or malformed request
//! head is answered with its error status and a closed connection, and the framing the
//! server chooses for requests and responses follows the rules for each HTTP version.

mod support;

use std::time::Duration;

use carafe_serve::{Request, Response};
use support::*;

/// Echoes POST bodies (with trailers) except on `/ignore`, streams `/stream`, answers 204
/// and 304 with a body the server must not send, and says `hello` otherwise.
async fn app(req: Request) -> Response {
    match req.uri().path() {
        "/stream" => return Response::new(streamed_body(["one,", "two,", "three"])),
        "/ignore" => return answer(200, "ignored"),
        "/204" => return answer(204, "not sent"),
        "/304" => return answer(304, "not sent"),
        "/bye" => {
            let mut response = answer(200, "bye");
            let close = http::HeaderValue::from_static("close");
            response
                .headers_mut()
                .insert(http::header::CONNECTION, close);
            return response;
        }
        _ => {}
    }
    if req.method() == http::Method::POST {
        return match body_with_trailers(req.into_body()).await {
            Ok(text) => answer(200, text),
            Err(error) => answer(400, error.to_string()),
        };
    }
    answer(200, "hello")
}

/// Sends `request` on a fresh connection: the answer, and whether the server then closed
/// the connection without sending anything more.
async fn send_one(request: &[u8]) -> (Resp, bool) {
    let server = start_server(app, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    client.send(request).await;
    let resp = client.response().await;
    let closed = client.closed_within(Duration::from_secs(2)).await;
    assert_eq!(
        client.leftover(),
        "",
        "more was sent after the first answer"
    );
    (resp, closed)
}

/// Asserts that each request is answered with `status`, `connection: close`, and a close.
async fn assert_rejected(status: u16, requests: &[&[u8]]) {
    for request in requests {
        let (resp, closed) = send_one(request).await;
        let shown = String::from_utf8_lossy(request);
        assert_eq!(resp.status, status, "{shown:?} -> {resp:?}");
        assert!(resp.says_close(), "{shown:?} -> {resp:?}");
        assert!(closed, "{shown:?}: connection left open");
    }
}

/// Asserts the connection still serves: a second request on it is answered.
async fn assert_still_open(client: &mut Client) {
    let again = client
        .request(b"GET /again HTTP/1.1\r\nHost: a\r\n\r\n")
        .await;
    assert_eq!(again.status, 200, "{again:?}");
    assert_eq!(again.text(), "hello");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_length_with_transfer_encoding_gets_400_and_closes() {
    assert_rejected(
        400,
        &[
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n0\r\n\r\n",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn differing_content_lengths_get_400_and_close() {
    assert_rejected(
        400,
        &[b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_identical_content_length_is_accepted() {
    let server = start_server(app, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    let resp = client
        .request(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc")
        .await;
    assert_eq!((resp.status, resp.text().as_str()), (200, "abc"));
    assert_still_open(&mut client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_hex_empty_list_or_overflowing_content_length_gets_400_and_closes() {
    assert_rejected(
        400,
        &[
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -3\r\n\r\nabc",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n\r\nabc",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\nabc",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3 3\r\n\r\nabc",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\nabc",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_encoding_not_ending_in_chunked_gets_400_and_closes() {
    assert_rejected(
        400,
        &[
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nabc",
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_coding_before_chunked_gets_501_and_closes() {
    assert_rejected(
        501,
        &[b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_encoding_in_http10_gets_400_and_closes() {
    assert_rejected(
        400,
        &[b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_body_with_bad_size_gets_400_and_closes() {
    let head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    let bodies = [
        "zz\r\nhello\r\n0\r\n\r\n",                // not hex
        "\r\nhello\r\n0\r\n\r\n",                  // empty size line
        "-5\r\nhello\r\n0\r\n\r\n",                // signed
        "0x5\r\nhello\r\n0\r\n\r\n",               // hex prefix
        "10000000000000000\r\nhello\r\n0\r\n\r\n", // overflows 64 bits
        "5\r\nhelloXX0\r\n\r\n",                   // data not followed by CRLF
    ];
    let requests: Vec<Vec<u8>> = bodies
        .iter()
        .map(|body| format!("{head}{body}").into_bytes())
        .collect();
    let requests: Vec<&[u8]> = requests.iter().map(Vec::as_slice).collect();
    assert_rejected(400, &requests).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunk_size_with_trailing_space_gets_400_and_closes() {
    assert_rejected(
        400,
        &[b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn obsolete_line_folding_gets_400_and_closes() {
    assert_rejected(
        400,
        &[
            b"GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n\ttwo\r\n\r\n",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whitespace_before_colon_gets_400_and_closes() {
    assert_rejected(
        400,
        &[
            b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 3\r\n\r\nabc",
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http11_request_without_host_gets_400_and_closes() {
    assert_rejected(400, &[b"GET / HTTP/1.1\r\nX-A: b\r\n\r\n"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http10_request_without_host_is_served() {
    let (resp, closed) = send_one(b"GET / HTTP/1.0\r\n\r\n").await;
    assert_eq!((resp.status, resp.text().as_str()), (200, "hello"));
    assert!(closed, "an HTTP/1.0 connection without keep-alive closes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_or_invalid_host_gets_400_and_closes() {
    assert_rejected(
        400,
        &[
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
            b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: user@a\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_in_field_values_get_400_and_close() {
    assert_rejected(
        400,
        &[
            b"GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x01b\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x00b\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x7fb\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nX-A: a\rb\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x1bb\r\n\r\n",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_method_token_gets_400_and_closes() {
    assert_rejected(
        400,
        &[
            b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GE\x01T / HTTP/1.1\r\nHost: a\r\n\r\n",
            b"G@T / HTTP/1.1\r\nHost: a\r\n\r\n",
            b" GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_http_version_gets_505_and_closes() {
    assert_rejected(
        505,
        &[
            b"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
            b"GET / HTTP/1.2\r\nHost: a\r\n\r\n",
            b"GET / HTTP/3.0\r\nHost: a\r\n\r\n",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_version_gets_400_and_closes() {
    assert_rejected(
        400,
        &[
            b"GET / HTTX/1.1\r\nHost: a\r\n\r\n",
            b"GET / HTTP/one\r\nHost: a\r\n\r\n",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http10_closes_unless_keep_alive_is_asked() {
    let (resp, closed) = send_one(b"GET / HTTP/1.0\r\nHost: a\r\n\r\n").await;
    assert_eq!(resp.status, 200);
    assert_ne!(resp.header("connection"), Some("keep-alive"), "{resp:?}");
    assert!(closed);

    let server = start_server(app, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    let resp = client
        .request(b"GET / HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n")
        .await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("connection"), Some("keep-alive"), "{resp:?}");
    let second = client
        .request(b"GET / HTTP/1.0\r\nHost: a\r\nConnection: Keep-Alive\r\n\r\n")
        .await;
    assert_eq!(
        (second.status, second.header("connection")),
        (200, Some("keep-alive"))
    );
    let last = client.request(b"GET / HTTP/1.0\r\nHost: a\r\n\r\n").await;
    assert_eq!(last.status, 200);
    assert!(
        client.closed_within(Duration::from_secs(2)).await,
        "HTTP/1.0 without keep-alive closes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_close_is_honoured() {
    let (resp, closed) = send_one(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").await;
    assert_eq!((resp.status, resp.text().as_str()), (200, "hello"));
    assert!(resp.says_close(), "{resp:?}");
    assert!(closed);
    let (resp, closed) =
        send_one(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Close\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
            .await;
    assert!(resp.says_close() && closed, "{resp:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_gets_content_length_but_no_body() {
    let server = start_server(app, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    client.send(b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n").await;
    let resp = client.head_response().await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-length"), Some("5"), "{resp:?}");
    // If a body followed the head, the next response would not parse.
    assert_still_open(&mut client).await;
    assert_eq!(client.leftover(), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_of_streamed_response_gets_no_body() {
    let server = start_server(app, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    client
        .send(b"HEAD /stream HTTP/1.1\r\nHost: a\r\n\r\n")
        .await;
    let resp = client.head_response().await;
    assert_eq!(resp.status, 200, "{resp:?}");
    assert_still_open(&mut client).await;
    assert_eq!(client.leftover(), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_body_with_extensions_and_trailers_is_delivered() {
    let server = start_server(app, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    let resp = client
        .request(
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\
              5;name=value\r\nhello\r\n\
              6 ; quoted=\"a b\";flag\r\n world\r\n\
              000\r\n\
              X-Checksum: 42\r\nX-Other: yes\r\n\r\n",
        )
        .await;
    assert_eq!(resp.status, 200, "{resp:?}");
    assert_eq!(resp.text(), "hello world|x-checksum=42|x-other=yes");
    assert_still_open(&mut client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_response_is_chunked_for_http11() {
    let server = start_server(app, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    let resp = client
        .request(b"GET /stream HTTP/1.1\r\nHost: a\r\n\r\n")
        .await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.delimited, Delimited::Chunked, "{resp:?}");
    assert_eq!(resp.header("content-length"), None);
    assert_eq!(resp.text(), "one,two,three");
    assert_still_open(&mut client).await;
}

/// Requests `/stream` over HTTP/1.0 and reads the close-delimited answer.
async fn streamed_over_http10(request: &[u8]) -> Resp {
    let server = start_server(app, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    client.send(request).await;
    let resp = client.response().await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.delimited, Delimited::Close, "{resp:?}");
    assert_eq!(resp.header("transfer-encoding"), None);
    assert_eq!(resp.text(), "one,two,three");
    assert!(client.closed_within(Duration::from_secs(1)).await);
    resp
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_response_is_close_delimited_for_http10() {
    let resp = streamed_over_http10(b"GET /stream HTTP/1.0\r\n\r\n").await;
    assert_ne!(resp.header("connection"), Some("keep-alive"), "{resp:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_delimited_response_to_http10_keep_alive_does_not_announce_keep_alive() {
    let resp =
        streamed_over_http10(b"GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").await;
    assert_ne!(resp.header("connection"), Some("keep-alive"), "{resp:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_content_and_not_modified_answers_carry_no_body() {
    let server = start_server(app, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    for (path, status) in [("/204", 204), ("/304", 304)] {
        let resp = client
            .request(format!("GET {path} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes())
            .await;
        assert_eq!(resp.status, status, "{resp:?}");
        assert_eq!(resp.header("transfer-encoding"), None, "{resp:?}");
        if status == 204 {
            assert_eq!(resp.header("content-length"), None, "{resp:?}");
        }
    }
    // Had a body followed either head, this answer would not parse.
    assert_still_open(&mut client).await;
    assert_eq!(client.leftover(), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_target_forms_are_checked_against_the_method() {
    let server = start_server(app, quick_config()).await;
    for (request, status) in [
        (&b"GET http://a/x HTTP/1.1\r\nHost: a\r\n\r\n"[..], 200),
        (b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 200),
        (b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 200),
        (b"GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET x HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ] {
        let mut client = Client::connect(server.addr).await;
        client.send(request).await;
        let resp = client.response().await;
        let shown = String::from_utf8_lossy(request);
        assert_eq!(resp.status, status, "{shown:?} -> {resp:?}");
        if status == 400 {
            assert!(resp.says_close(), "{shown:?}");
            assert!(
                client.closed_within(Duration::from_secs(2)).await,
                "{shown:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_field_name_gets_400_and_closes() {
    assert_rejected(400, &[b"GET / HTTP/1.1\r\nHost: a\r\n: empty\r\n\r\n"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_chunk_size_in_a_body_the_handler_ignores_gets_400_and_closes() {
    assert_rejected(
        400,
        &[b"POST /ignore HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_answering_connection_close_closes_the_connection() {
    let (resp, closed) =
        send_one(b"GET /bye HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
    assert_eq!((resp.status, resp.text().as_str()), (200, "bye"));
    assert!(resp.says_close(), "{resp:?}");
    assert!(closed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn obs_text_in_field_values_is_accepted() {
    let server = start_server(app, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    let resp = client
        .request(b"GET / HTTP/1.1\r\nHost: a\r\nX-Latin1: caf\xe9\r\n\r\n")
        .await;
    assert_eq!(resp.status, 200, "{resp:?}");
    assert_still_open(&mut client).await;
}
