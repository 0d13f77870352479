//! A handler that panics gets its client a 500 and a closed connection; the server and
//! its other connections go on.

mod support;

use std::time::Duration;

use carafe_serve::{Body, Request, Response};
use support::*;

async fn sometimes_panics(req: Request) -> Response {
    if req.uri().path() == "/boom" {
        panic!("a bug in a handler");
    }
    Response::new(Body::from("fine"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_panic_answers_500_and_closes_only_that_connection() {
    let server = start_server(sometimes_panics, quick_config()).await;
    let mut bystander = Client::connect(server.addr).await;
    let before = bystander
        .request(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        .await;
    assert_eq!((before.status, before.text()), (200, "fine".to_owned()));

    let mut victim = Client::connect(server.addr).await;
    let resp = victim
        .request(b"GET /boom HTTP/1.1\r\nHost: a\r\n\r\n")
        .await;
    assert_eq!(resp.status, 500, "{resp:?}");
    assert!(resp.says_close(), "{resp:?}");
    assert!(victim.closed_within(Duration::from_secs(2)).await);

    let after = bystander
        .request(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        .await;
    assert_eq!((after.status, after.text()), (200, "fine".to_owned()));
    let (text, _) = exchange(
        server.addr,
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        Duration::from_secs(2),
    )
    .await;
    assert_eq!(status_of(&text), 200, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_panic_while_a_body_streams_in_answers_500() {
    let reads_then_panics = |req: Request| async move {
        let mut body = req.into_body();
        let _first = body.chunk().await;
        panic!("a bug after reading part of the body");
        #[allow(unreachable_code)]
        Response::new(Body::empty())
    };
    let server = start_server(reads_then_panics, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    client
        .send(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        .await;
    let resp = client.response().await;
    assert_eq!(resp.status, 500, "{resp:?}");
    assert!(resp.says_close(), "{resp:?}");
}
