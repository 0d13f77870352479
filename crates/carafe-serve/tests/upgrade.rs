//! Protocol upgrades over a real socket (RFC 9110 §7.8): a handler answers 101 and speaks a
//! new protocol (an echo) on the `Upgraded` stream, including bytes the client sent right
//! after its request head, and the registry keeps the connection until it is dropped.

mod support;

use std::time::Duration;

use carafe_serve::{upgrade, ConnState, Request, Response};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Upgrades `/echo` to an echo protocol; declines on `/decline`; answers 101 to a plain
/// request on `/misuse`.
async fn app(mut req: Request) -> Response {
    if req.uri().path() == "/misuse" {
        return switching_protocols("echo");
    }
    let Some(on_upgrade) = upgrade::on_upgrade(&mut req) else {
        return answer(200, "plain");
    };
    if req.uri().path() == "/decline" {
        return answer(200, "declined");
    }
    tokio::spawn(async move {
        let Ok(mut upgraded) = on_upgrade.await else {
            return;
        };
        let mut buf = [0u8; 1024];
        loop {
            match upgraded.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(len) => {
                    if upgraded.write_all(&buf[..len]).await.is_err() {
                        break;
                    }
                }
            }
        }
    });
    switching_protocols("echo")
}

const UPGRADE_REQUEST: &[u8] =
    b"GET /echo HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgraded_connection_echoes_bytes_sent_with_the_request_head() {
    let server = start_server(app, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    client
        .send(&[UPGRADE_REQUEST, b"early bytes"].concat())
        .await;
    let resp = client.response().await;
    assert_eq!(resp.status, 101, "{resp:?}");
    assert_eq!(resp.header("upgrade"), Some("echo"));
    assert_eq!(resp.header("connection"), Some("upgrade"));
    assert_eq!(resp.header("content-length"), None, "{resp:?}");
    assert_eq!(resp.header("transfer-encoding"), None, "{resp:?}");
    client.expect_raw(b"early bytes").await;
    client.send(b"later bytes").await;
    client.expect_raw(b"later bytes").await;
    // Not HTTP any more: a request head is just bytes to echo.
    client.send(b"GET / HTTP/1.1\r\n\r\n").await;
    client.expect_raw(b"GET / HTTP/1.1\r\n\r\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_lists_the_upgraded_connection_until_it_is_dropped() {
    let server = start_server(app, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    client.send(UPGRADE_REQUEST).await;
    assert_eq!(client.response().await.status, 101);
    client.send(b"ping").await;
    client.expect_raw(b"ping").await;
    let registry = server.registry.clone();
    let expected_in = (UPGRADE_REQUEST.len() + 4) as u64;
    let listed = wait_until(PATIENCE, || {
        let connections = registry.connections();
        connections.len() == 1
            && connections[0].state == ConnState::Upgraded
            && connections[0].bytes_in == expected_in
    })
    .await;
    assert!(listed, "{:?}", registry.connections());
    // Still listed while idle: the application holds the stream.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(registry.connections().len(), 1);
    drop(client);
    assert!(
        wait_until(PATIENCE, || registry.is_empty()).await,
        "{:?}",
        registry.connections()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declined_upgrade_is_answered_as_plain_http_and_the_connection_kept() {
    let server = start_server(app, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    let resp = client
        .request(
            b"GET /decline HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n",
        )
        .await;
    assert_eq!((resp.status, resp.text().as_str()), (200, "declined"));
    let next = client.request(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
    assert_eq!((next.status, next.text().as_str()), (200, "plain"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_protocols_for_a_request_that_did_not_ask_gets_500() {
    let server = start_server(app, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    let resp = client
        .request(b"GET /misuse HTTP/1.1\r\nHost: a\r\n\r\n")
        .await;
    assert_eq!(resp.status, 500, "{resp:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_header_without_connection_upgrade_is_not_an_upgrade() {
    let server = start_server(app, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    let resp = client
        .request(b"GET /echo HTTP/1.1\r\nHost: a\r\nUpgrade: echo\r\n\r\n")
        .await;
    assert_eq!((resp.status, resp.text().as_str()), (200, "plain"));
}
