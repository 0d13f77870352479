//! Size limits over a real socket: an oversized head, too many fields, a long target and
//! a body over `max_body_bytes` each get their status (431, 414, 413) and a closed
//! connection, and the client can read that answer even while it is still sending.

mod support;

use std::time::Duration;

use carafe_serve::{Config, Request, Response};
use support::*;
use tokio::io::AsyncWriteExt;

/// Echoes POST bodies to `/echo`, ignores the body elsewhere.
async fn app(req: Request) -> Response {
    if req.uri().path() == "/echo" {
        return match req.into_body().to_bytes(usize::MAX).await {
            Ok(bytes) => answer(200, bytes),
            Err(error) => answer(400, error.to_string()),
        };
    }
    answer(200, "ignored")
}

fn small_limits() -> Config {
    let mut config = quick_config();
    config.limits.max_head_bytes = 1024;
    config.limits.max_headers = 10;
    config.limits.max_uri_bytes = 100;
    config.limits.max_body_bytes = 1000;
    config
}

/// Sends `request` and returns the answer and whether the connection then closed.
async fn send(request: &[u8]) -> (Resp, bool) {
    let server = start_server(app, small_limits()).await;
    let mut client = Client::connect(server.addr).await;
    client.send(request).await;
    let resp = client.response().await;
    (resp, client.closed_within(Duration::from_secs(2)).await)
}

/// Sends `request` and asserts it is served with the connection kept open.
async fn assert_served(request: &[u8]) {
    let server = start_server(app, small_limits()).await;
    let mut client = Client::connect(server.addr).await;
    let resp = client.request(request).await;
    assert_eq!(resp.status, 200, "{resp:?}");
    assert!(!resp.says_close());
    assert!(!client.closed_within(Duration::from_millis(100)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_over_max_head_bytes_gets_431_and_closes() {
    let big = "v".repeat(2000);
    let (resp, closed) =
        send(format!("GET / HTTP/1.1\r\nHost: a\r\nX-Big: {big}\r\n\r\n").as_bytes()).await;
    assert_eq!(resp.status, 431, "{resp:?}");
    assert!(resp.says_close() && closed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_head_over_max_head_bytes_gets_431_without_waiting_for_its_end() {
    let big = "v".repeat(2000);
    let (resp, closed) =
        send(format!("GET / HTTP/1.1\r\nHost: a\r\nX-Big: {big}").as_bytes()).await;
    assert_eq!(resp.status, 431, "{resp:?}");
    assert!(resp.says_close() && closed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_just_under_max_head_bytes_is_served() {
    let request_without_value = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: \r\n\r\n".len();
    let big = "v".repeat(1024 - request_without_value);
    assert_served(format!("GET / HTTP/1.1\r\nHost: a\r\nX-Big: {big}\r\n\r\n").as_bytes()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_header_fields_get_431_and_close() {
    let fields: String = (0..11).map(|i| format!("X-F{i}: v\r\n")).collect();
    let (resp, closed) =
        send(format!("GET / HTTP/1.1\r\nHost: a\r\n{fields}\r\n").as_bytes()).await;
    assert_eq!(resp.status, 431, "{resp:?}");
    assert!(resp.says_close() && closed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_max_headers_fields_are_served() {
    let fields: String = (0..9).map(|i| format!("X-F{i}: v\r\n")).collect();
    assert_served(format!("GET / HTTP/1.1\r\nHost: a\r\n{fields}\r\n").as_bytes()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_request_target_gets_414_and_closes() {
    let path = "a".repeat(200);
    let (resp, closed) = send(format!("GET /{path} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes()).await;
    assert_eq!(resp.status, 414, "{resp:?}");
    assert!(resp.says_close() && closed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_long_request_line_gets_414_without_waiting_for_its_end() {
    let path = "a".repeat(400);
    let (resp, closed) = send(format!("GET /{path}").as_bytes()).await;
    assert_eq!(resp.status, 414, "{resp:?}");
    assert!(resp.says_close() && closed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_body_over_limit_gets_413_and_closes() {
    let server = start_server(app, small_limits()).await;
    let mut client = Client::connect(server.addr).await;
    client
        .send(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n")
        .await;
    let resp = client.response().await;
    assert_eq!(resp.status, 413, "{resp:?}");
    assert!(resp.says_close());
    assert!(client.closed_within(Duration::from_secs(3)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_still_sending_its_body_can_read_the_413() {
    let server = start_server(app, small_limits()).await;
    let mut client = Client::connect(server.addr).await;
    client
        .send(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 300000\r\n\r\n")
        .await;
    // The client does not wait for an answer: it keeps sending (less than the server's
    // drain budget, 256 KiB by default) before it reads.
    let piece = vec![b'x'; 8 * 1024];
    for _ in 0..25 {
        client.send(&piece).await;
    }
    let resp = client.response().await;
    assert_eq!(resp.status, 413, "{resp:?}");
    assert!(resp.says_close());
    client.stream.shutdown().await.expect("half-close");
    assert!(client.closed_within(Duration::from_secs(3)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_of_exactly_the_limit_is_accepted() {
    let server = start_server(app, small_limits()).await;
    let mut client = Client::connect(server.addr).await;
    let body = "b".repeat(1000);
    let resp = client
        .request(
            format!("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n{body}")
                .as_bytes(),
        )
        .await;
    assert_eq!(resp.status, 200, "{resp:?}");
    assert_eq!(resp.body.len(), 1000);
    assert!(!client.closed_within(Duration::from_millis(100)).await);
}

/// A chunked body of three 600-byte chunks (1800 bytes, over the 1000-byte limit).
fn chunked_over_limit(path: &str) -> Vec<u8> {
    let chunk = format!("258\r\n{}\r\n", "c".repeat(600));
    format!("POST {path} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n{chunk}{chunk}{chunk}0\r\n\r\n")
        .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_body_over_limit_gets_413_and_closes() {
    let (resp, closed) = send(&chunked_over_limit("/echo")).await;
    assert_eq!(resp.status, 413, "{resp:?}");
    assert!(resp.says_close() && closed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_body_over_limit_that_the_handler_ignores_gets_413_and_closes() {
    let (resp, closed) = send(&chunked_over_limit("/ignore")).await;
    assert_eq!(resp.status, 413, "{resp:?}");
    assert!(resp.says_close() && closed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunk_line_or_trailers_over_max_chunk_line_bytes_get_400_and_close() {
    let extension = "x".repeat(5000);
    let trailer = "t".repeat(5000);
    for body in [
        format!("5;{extension}\r\nhello\r\n0\r\n\r\n"),
        format!("5\r\nhello\r\n0\r\nX-T: {trailer}\r\n\r\n"),
    ] {
        let (resp, closed) = send(
            format!("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n{body}")
                .as_bytes(),
        )
        .await;
        assert_eq!(resp.status, 400, "{resp:?}");
        assert!(resp.says_close() && closed);
    }
}
