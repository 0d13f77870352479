//! Graceful shutdown over real sockets: requests in flight finish with `connection: close`,
//! new connections are refused, idle connections close, upgraded connections are told,
//! and the server returns within its grace period even when a handler never finishes.

mod support;

use std::time::{Duration, Instant};

use carafe_serve::{upgrade, Request, Response};
use support::*;
use tokio::io::AsyncWriteExt;

/// `/slow` takes 500 ms, `/stuck` never finishes in time, `/upgrade` holds an upgraded
/// connection until shutdown; anything else says `hello`.
async fn app(mut req: Request) -> Response {
    match req.uri().path() {
        "/slow" => {
            tokio::time::sleep(Duration::from_millis(500)).await;
            answer(200, "done")
        }
        "/stuck" => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            answer(200, "too late")
        }
        "/upgrade" => upgrade_until_shutdown(&mut req),
        _ => answer(200, "hello"),
    }
}

/// Answers 101; the upgraded connection says `ready`, then `bye` once shutdown begins.
fn upgrade_until_shutdown(req: &mut Request) -> Response {
    let Some(on_upgrade) = upgrade::on_upgrade(req) else {
        return answer(400, "not an upgrade");
    };
    tokio::spawn(async move {
        let Ok(mut upgraded) = on_upgrade.await else {
            return;
        };
        let signal = upgraded.shutdown_signal();
        let _ = upgraded.write_all(b"ready").await;
        signal.await;
        let _ = upgraded.write_all(b"bye").await;
        let _ = upgraded.shutdown().await;
    });
    switching_protocols("wait")
}

/// Waits for the server task to return; panics after `wait`.
async fn server_returns(server: TestServer, wait: Duration) {
    let returned = tokio::time::timeout(wait, server.task).await;
    let joined = returned.unwrap_or_else(|_| panic!("the server did not return within {wait:?}"));
    joined
        .expect("server task panicked")
        .expect("server failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_request_completes_with_connection_close() {
    let server = start_server(app, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    client.send(b"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let began = Instant::now();
    server.handle.shutdown();
    let resp = client.response().await;
    assert_eq!((resp.status, resp.text().as_str()), (200, "done"));
    assert!(resp.says_close(), "{resp:?}");
    assert!(client.closed_within(Duration::from_secs(1)).await);
    // A client closes its end after `connection: close`; the server then has nothing left
    // and returns well within its 2 s grace.
    drop(client);
    server_returns(server, Duration::from_secs(1)).await;
    assert!(
        began.elapsed() >= Duration::from_millis(300),
        "returned before the request finished"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_connections_are_refused_once_shutdown_begins() {
    let server = start_server(app, quick_config()).await;
    let mut in_flight = Client::connect(server.addr).await;
    in_flight
        .send(b"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.handle.shutdown();
    let addr = server.addr;
    let mut refused = false;
    let deadline = Instant::now() + Duration::from_millis(300);
    while Instant::now() < deadline && !refused {
        let attempt = tokio::time::timeout(PATIENCE, tokio::net::TcpStream::connect(addr)).await;
        refused = matches!(attempt, Ok(Err(error)) if error.kind() == std::io::ErrorKind::ConnectionRefused);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        refused,
        "connections still accepted 300 ms after shutdown began"
    );
    assert!(
        !server.task.is_finished(),
        "the server should still be draining"
    );
    let resp = in_flight.response().await;
    assert_eq!((resp.status, resp.says_close()), (200, true), "{resp:?}");
    drop(in_flight);
    server_returns(server, Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connection_is_closed_on_shutdown() {
    let server = start_server(app, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    let resp = client.request(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
    assert_eq!(resp.status, 200);
    assert!(!resp.says_close());
    server.handle.shutdown();
    assert!(
        client.closed_within(Duration::from_millis(500)).await,
        "idle connection left open"
    );
    assert_eq!(
        client.leftover(),
        "",
        "an idle connection closes without an answer"
    );
    server_returns(server, Duration::from_millis(500)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_alive_client_mid_request_gets_its_answer_with_connection_close() {
    let server = start_server(app, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    let first = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    assert_eq!(client.request(first).await.status, 200);
    let part = b"GET /second HTTP/1.1\r\nHost: a\r\n";
    client.send(part).await;
    let registry = server.registry.clone();
    let sent = (first.len() + part.len()) as u64;
    let read_by_server = wait_until(PATIENCE, || {
        registry
            .connections()
            .first()
            .is_some_and(|conn| conn.bytes_in == sent)
    })
    .await;
    assert!(read_by_server, "the server did not read the partial head");
    server.handle.shutdown();
    tokio::time::sleep(Duration::from_millis(50)).await;
    client.send(b"\r\n").await;
    let resp = client.response().await;
    assert_eq!(
        (resp.status, resp.text().as_str()),
        (200, "hello"),
        "{resp:?}"
    );
    assert!(resp.says_close(), "{resp:?}");
    assert!(client.closed_within(Duration::from_secs(1)).await);
    drop(client);
    server_returns(server, Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_stops_a_stuck_handler_when_the_grace_period_ends() {
    let mut config = quick_config();
    config.timeouts.shutdown_grace = Duration::from_millis(700);
    let server = start_server(app, config).await;
    let mut client = Client::connect(server.addr).await;
    client.send(b"GET /stuck HTTP/1.1\r\nHost: a\r\n\r\n").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let began = Instant::now();
    server.handle.shutdown();
    let registry = server.registry.clone();
    server_returns(server, Duration::from_millis(1500)).await;
    assert!(
        began.elapsed() >= Duration::from_millis(600),
        "returned before the grace period ended"
    );
    assert!(
        client.closed_within(Duration::from_secs(1)).await,
        "the stuck connection stays open"
    );
    assert_eq!(client.leftover(), "");
    assert!(wait_until(Duration::from_secs(1), || registry.is_empty()).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_without_connections_returns_at_once() {
    let server = start_server(app, quick_config()).await;
    let client = Client::connect(server.addr).await;
    drop(client);
    tokio::time::sleep(Duration::from_millis(50)).await;
    server.handle.shutdown();
    server_returns(server, Duration::from_millis(300)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgraded_connection_sees_the_shutdown_signal() {
    let server = start_server(app, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    client
        .send(b"GET /upgrade HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: wait\r\n\r\n")
        .await;
    let resp = client.response().await;
    assert_eq!(resp.status, 101, "{resp:?}");
    client.expect_raw(b"ready").await;
    server.handle.shutdown();
    client.expect_raw(b"bye").await;
    assert!(client.closed_within(Duration::from_secs(1)).await);
    // The upgraded connection was the last one: the server returns well before the grace.
    server_returns(server, Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgraded_connection_ignoring_the_signal_is_closed_when_the_grace_period_ends() {
    let stubborn = |mut req: Request| async move {
        let Some(on_upgrade) = upgrade::on_upgrade(&mut req) else {
            return answer(400, "not an upgrade");
        };
        tokio::spawn(async move {
            if let Ok(mut upgraded) = on_upgrade.await {
                // Never looks at `shutdown_signal`: echoes until the client leaves.
                let mut buf = [0u8; 256];
                while let Ok(read @ 1..) =
                    tokio::io::AsyncReadExt::read(&mut upgraded, &mut buf).await
                {
                    if upgraded.write_all(&buf[..read]).await.is_err() {
                        break;
                    }
                }
            }
        });
        switching_protocols("echo")
    };
    let mut config = quick_config();
    config.timeouts.shutdown_grace = Duration::from_millis(500);
    let server = start_server(stubborn, config).await;
    let registry = server.registry.clone();
    let mut client = Client::connect(server.addr).await;
    client
        .send(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\nhi")
        .await;
    assert_eq!(client.response().await.status, 101);
    client.expect_raw(b"hi").await;
    server.handle.shutdown();
    server_returns(server, Duration::from_millis(1500)).await;
    let closed = client.closed_within(Duration::from_secs(1)).await;
    assert!(
        closed,
        "upgraded connection still open after the grace period: {:?}",
        registry.connections()
    );
    assert!(registry.is_empty(), "{:?}", registry.connections());
}
