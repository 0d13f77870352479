//! Pipelining over a real socket: many requests in one write are answered in order and in
//! few writes, a request split across many writes is reassembled, and a body the handler
//! did not read is drained so the next request on the connection is still answered.

mod support;

use std::time::Duration;

use carafe_serve::{Request, Response};
use support::*;
use tokio::io::AsyncWriteExt;

/// Answers `GET` with its path and `POST /echo` with its body; ignores other bodies.
async fn app(req: Request) -> Response {
    let path = req.uri().path().to_owned();
    if req.method() == http::Method::POST && path.starts_with("/echo") {
        return match req.into_body().to_bytes(usize::MAX).await {
            Ok(bytes) => answer(200, format!("{path}:{}", String::from_utf8_lossy(&bytes))),
            Err(error) => answer(400, error.to_string()),
        };
    }
    answer(200, path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_pipelined_requests_in_one_write_are_answered_in_order() {
    let server = start_server(app, quick_config()).await;
    let mut batch = Vec::new();
    let mut expected = Vec::new();
    for i in 0..50 {
        match i % 3 {
            0 => {
                batch.extend_from_slice(
                    format!("GET /get/{i} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes(),
                );
                expected.push(format!("/get/{i}"));
            }
            1 => {
                let body = format!("body-{i}");
                batch.extend_from_slice(
                    format!(
                        "POST /echo/{i} HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                );
                expected.push(format!("/echo/{i}:{body}"));
            }
            _ => {
                batch.extend_from_slice(
                    format!(
                        "POST /echo/{i} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
                    )
                    .as_bytes(),
                );
                expected.push(format!("/echo/{i}:abcde"));
            }
        }
    }
    let mut client = Client::connect(server.addr).await;
    client.send(&batch).await;
    for want in &expected {
        let resp = client.response().await;
        assert_eq!(resp.status, 200, "{resp:?}");
        assert_eq!(&resp.text(), want);
    }
    // The answers to a batch are written together, not one write per response.
    assert!(client.reads <= 3, "50 answers took {} reads", client.reads);
    assert!(!client.closed_within(Duration::from_millis(100)).await);
    assert_eq!(client.leftover(), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_split_across_many_writes_is_answered() {
    let mut config = quick_config();
    config.timeouts.header_read = Duration::from_secs(5);
    let server = start_server(app, config).await;
    let mut client = Client::connect(server.addr).await;
    let request = b"POST /echo/split HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello worldGET /after HTTP/1.1\r\nHost: a\r\n\r\n";
    for piece in request.chunks(3) {
        client.send(piece).await;
        client.stream.flush().await.expect("flush");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let resp = client.response().await;
    assert_eq!(
        (resp.status, resp.text().as_str()),
        (200, "/echo/split:hello world")
    );
    let resp = client.response().await;
    assert_eq!((resp.status, resp.text().as_str()), (200, "/after"));
    assert!(!client.closed_within(Duration::from_millis(100)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_head_split_at_every_byte_is_answered() {
    let mut config = quick_config();
    config.timeouts.header_read = Duration::from_secs(5);
    let server = start_server(app, config).await;
    let mut client = Client::connect(server.addr).await;
    for byte in b"GET /bytewise HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\r\n" {
        client.send(&[*byte]).await;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let resp = client.response().await;
    assert_eq!((resp.status, resp.text().as_str()), (200, "/bytewise"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unread_small_body_is_drained_and_the_next_request_answered() {
    let server = start_server(app, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    client
        .send(
            b"POST /ignore HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789\
              POST /ignore-chunked HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nGET \r\n0\r\n\r\n\
              GET /next HTTP/1.1\r\nHost: a\r\n\r\n",
        )
        .await;
    for want in ["/ignore", "/ignore-chunked", "/next"] {
        let resp = client.response().await;
        assert_eq!((resp.status, resp.text().as_str()), (200, want), "{resp:?}");
        assert!(!resp.says_close(), "{resp:?}");
    }
    assert!(!client.closed_within(Duration::from_millis(100)).await);
    assert_eq!(client.leftover(), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unread_body_arriving_late_is_drained_and_the_next_request_answered() {
    let server = start_server(app, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    client
        .send(b"POST /ignore HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234")
        .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    client
        .send(b"56789GET /next HTTP/1.1\r\nHost: a\r\n\r\n")
        .await;
    for want in ["/ignore", "/next"] {
        let resp = client.response().await;
        assert_eq!((resp.status, resp.text().as_str()), (200, want), "{resp:?}");
    }
    assert!(!client.closed_within(Duration::from_millis(100)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unread_body_larger_than_the_drain_budget_closes_the_connection_after_the_answer() {
    let mut config = quick_config();
    config.limits.max_drain_bytes = 1024;
    let server = start_server(app, config).await;
    let mut client = Client::connect(server.addr).await;
    let body = "d".repeat(4096);
    client
        .send(format!("POST /ignore HTTP/1.1\r\nHost: a\r\nContent-Length: 4096\r\n\r\n{body}GET /next HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes())
        .await;
    let resp = client.response().await;
    assert_eq!((resp.status, resp.text().as_str()), (200, "/ignore"));
    assert!(resp.says_close(), "{resp:?}");
    client.stream.shutdown().await.expect("half-close");
    assert!(client.closed_within(Duration::from_secs(3)).await);
    assert_eq!(
        client.leftover(),
        "",
        "the request after the undrained body was answered"
    );
}
