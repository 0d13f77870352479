//! `Expect: 100-continue` over a real socket (RFC 9110 §10.1.1): the client gets exactly one
//! `100 Continue` when the handler reads the body, and none when the handler answers
//! without it, in which case the connection closes after the final answer.

mod support;

use std::time::Duration;

use carafe_serve::{Request, Response};
use support::*;

/// Echoes the body on `/echo`; answers 401 without reading it elsewhere.
async fn app(req: Request) -> Response {
    if req.uri().path() == "/echo" {
        return match req.into_body().to_bytes(usize::MAX).await {
            Ok(bytes) => answer(200, bytes),
            Err(error) => answer(400, error.to_string()),
        };
    }
    answer(401, "who are you?")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_reading_the_body_sends_one_100_continue_first() {
    let server = start_server(app, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    client
        .send(
            b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
        )
        .await;
    let interim = client.response().await;
    assert_eq!(interim.status, 100, "{interim:?}");
    client.send(b"hello").await;
    let resp = client.response().await;
    assert_eq!(
        (resp.status, resp.text().as_str()),
        (200, "hello"),
        "{resp:?}"
    );
    assert!(!resp.says_close());
    // Exactly one interim answer: nothing else arrives, and the connection is reusable.
    let next = client
        .request(b"GET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
        .await;
    assert_eq!(next.status, 200, "{next:?}");
    assert!(!client.closed_within(Duration::from_millis(100)).await);
    assert_eq!(client.leftover(), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_body_after_100_continue_is_read() {
    let server = start_server(app, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    client
        .send(b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-Continue\r\n\r\n")
        .await;
    assert_eq!(client.response().await.status, 100);
    client.send(b"3\r\nabc\r\n0\r\n\r\n").await;
    let resp = client.response().await;
    assert_eq!(
        (resp.status, resp.text().as_str()),
        (200, "abc"),
        "{resp:?}"
    );
    assert!(!client.closed_within(Duration::from_millis(100)).await);
    assert_eq!(client.leftover(), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_sending_the_body_without_waiting_gets_at_most_one_100() {
    let server = start_server(app, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    client
        .send(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello")
        .await;
    let mut resp = client.response().await;
    if resp.status == 100 {
        resp = client.response().await;
    }
    assert_eq!(
        (resp.status, resp.text().as_str()),
        (200, "hello"),
        "{resp:?}"
    );
    assert!(!client.closed_within(Duration::from_millis(100)).await);
    assert_eq!(client.leftover(), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_ignoring_the_body_answers_without_100_and_closes() {
    let server = start_server(app, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    client
        .send(b"POST /private HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        .await;
    let resp = client.response().await;
    assert_eq!(resp.status, 401, "{resp:?}");
    assert!(resp.says_close(), "{resp:?}");
    assert!(client.closed_within(Duration::from_secs(3)).await);
    assert_eq!(client.leftover(), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_expectation_gets_417_and_closes() {
    let server = start_server(app, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    client
        .send(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: teapot\r\n\r\nhello")
        .await;
    let resp = client.response().await;
    assert_eq!(resp.status, 417, "{resp:?}");
    assert!(resp.says_close());
    assert!(client.closed_within(Duration::from_secs(3)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http10_expectation_gets_no_100() {
    let server = start_server(app, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    client
        .send(b"POST /echo HTTP/1.0\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello")
        .await;
    let resp = client.response().await;
    assert_eq!(
        (resp.status, resp.text().as_str()),
        (200, "hello"),
        "{resp:?}"
    );
    assert!(client.closed_within(Duration::from_secs(3)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_body_over_the_limit_gets_413_without_100() {
    let mut config = quick_config();
    config.limits.max_body_bytes = 1000;
    let server = start_server(app, config).await;
    let mut client = Client::connect(server.addr).await;
    client
        .send(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n")
        .await;
    let resp = client.response().await;
    assert_eq!(resp.status, 413, "{resp:?}");
    assert!(resp.says_close());
    assert!(client.closed_within(Duration::from_secs(3)).await);
    assert_eq!(client.leftover(), "");
}
