//! The connection registry over real sockets: it lists each live connection with its peer,
//! requests served and bytes in and out; entries leave when connections close; and
//! `max_connections` caps how many connections are served at once.

mod support;

use std::time::Duration;

use carafe_serve::{ConnState, Request, Response};
use support::*;

async fn app(_req: Request) -> Response {
    answer(200, "hello")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_lists_each_connection_with_its_counters() {
    let server = start_server(app, quick_config()).await;
    let registry = server.registry.clone();
    assert!(registry.is_empty());
    let mut first = Client::connect(server.addr).await;
    let mut second = Client::connect(server.addr).await;
    let request = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    first.request(request).await;
    first.request(request).await;
    second.request(request).await;
    let peer = first.stream.local_addr().expect("local addr");
    let listed = wait_until(PATIENCE, || {
        registry.connections().iter().any(|conn| {
            conn.peer_addr == peer
                && conn.requests == 2
                && conn.bytes_in == 2 * request.len() as u64
                && conn.state == ConnState::Idle
        })
    })
    .await;
    assert!(listed, "{:?}", registry.connections());
    let connections = registry.connections();
    assert_eq!(connections.len(), 2, "{connections:?}");
    let entry = connections
        .iter()
        .find(|conn| conn.peer_addr == peer)
        .expect("listed");
    // Each answer is a head plus `hello`; the server wrote what the client read.
    assert!(entry.bytes_out > 2 * 5, "{entry:?}");
    let other = connections
        .iter()
        .find(|conn| conn.peer_addr != peer)
        .expect("listed");
    assert_eq!(
        other.peer_addr,
        second.stream.local_addr().expect("local addr")
    );
    assert_eq!(other.requests, 1);
    assert_eq!(
        entry.bytes_out,
        2 * other.bytes_out,
        "same answer twice vs once"
    );
    assert_ne!(entry.id, other.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_out_match_what_the_client_read() {
    let server = start_server(app, quick_config()).await;
    let registry = server.registry.clone();
    let mut client = Client::connect(server.addr).await;
    client.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&raw).ends_with("hello") {
        let read = tokio::time::timeout(
            PATIENCE,
            tokio::io::AsyncReadExt::read(&mut client.stream, &mut buf),
        )
        .await
        .expect("answer")
        .expect("read");
        assert!(read > 0, "closed");
        raw.extend_from_slice(&buf[..read]);
    }
    let counted = wait_until(PATIENCE, || {
        registry
            .connections()
            .first()
            .is_some_and(|conn| conn.bytes_out == raw.len() as u64)
    })
    .await;
    assert!(
        counted,
        "read {} bytes, registry says {:?}",
        raw.len(),
        registry.connections()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_leave_when_connections_close() {
    let server = start_server(app, quick_config()).await;
    let registry = server.registry.clone();
    let mut clients = Vec::new();
    for _ in 0..3 {
        let mut client = Client::connect(server.addr).await;
        client.request(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
        clients.push(client);
    }
    assert!(
        wait_until(PATIENCE, || registry.len() == 3).await,
        "{:?}",
        registry.connections()
    );
    let gone = clients.remove(0).stream.local_addr().expect("local addr");
    assert!(
        wait_until(PATIENCE, || registry.len() == 2).await,
        "{:?}",
        registry.connections()
    );
    assert!(registry
        .connections()
        .iter()
        .all(|conn| conn.peer_addr != gone));
    // A connection the server closes (`connection: close`) leaves too.
    let closing = clients[0]
        .request(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        .await;
    assert!(closing.says_close());
    drop(clients);
    assert!(
        wait_until(PATIENCE, || registry.is_empty()).await,
        "{:?}",
        registry.connections()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_connections_holds_a_third_client_until_one_closes() {
    let mut config = quick_config();
    config.max_connections = 2;
    config.timeouts.header_read = Duration::from_secs(5);
    config.timeouts.idle = Duration::from_secs(5);
    let server = start_server(app, config).await;
    let request = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    let mut first = Client::connect(server.addr).await;
    let mut second = Client::connect(server.addr).await;
    assert_eq!(first.request(request).await.status, 200);
    assert_eq!(second.request(request).await.status, 200);
    // The kernel completes the third handshake, but the server does not take it.
    let mut third = Client::connect(server.addr).await;
    third.send(request).await;
    let early = third.read_response(false, Duration::from_millis(300)).await;
    assert!(early.is_err(), "a third connection was served: {early:?}");
    assert_eq!(server.registry.len(), 2);
    drop(first);
    let resp = third
        .read_response(false, Duration::from_secs(2))
        .await
        .expect("served after a slot freed");
    assert_eq!(resp.status, 200);
    assert_eq!(
        second.request(request).await.status,
        200,
        "the other connection still works"
    );
    assert_eq!(server.registry.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_shows_a_connection_handling_a_request() {
    let release = std::sync::Arc::new(tokio::sync::Notify::new());
    let gate = std::sync::Arc::clone(&release);
    let waiting = move |_req: Request| {
        let gate = std::sync::Arc::clone(&gate);
        async move {
            gate.notified().await;
            answer(200, "released")
        }
    };
    let server = start_server(waiting, quick_config()).await;
    let registry = server.registry.clone();
    let mut client = Client::connect(server.addr).await;
    client.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
    let handling = wait_until(PATIENCE, || {
        registry
            .connections()
            .first()
            .is_some_and(|conn| conn.state == ConnState::Handling && conn.requests == 0)
    })
    .await;
    assert!(handling, "{:?}", registry.connections());
    release.notify_one();
    assert_eq!(client.response().await.text(), "released");
    let idle = wait_until(PATIENCE, || {
        registry
            .connections()
            .first()
            .is_some_and(|conn| conn.state == ConnState::Idle && conn.requests == 1)
    })
    .await;
    assert!(idle, "{:?}", registry.connections());
}
