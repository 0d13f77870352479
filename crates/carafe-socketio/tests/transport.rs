//! The HTTP side of the glue on 127.0.0.1, with raw HTTP/1.1 long-polling requests and
//! WebSocket handshakes: a client's close answers the pending poll with `noop`, a server
//! close with `close`; the builder's `cors_allowed_origins` and `transports` decide who
//! may open a session and how.

use std::net::SocketAddr;
use std::time::Duration;

use carafe_engineio::AllowedOrigins;
use carafe_socketio::{Builder, DisconnectReason, Socket, SocketIo};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

mod support;

use support::{body_of, header_of, http, next_reason, open_polling, status_of, PATIENCE};

/// A server whose `/` reports each disconnect reason and closes the connection on
/// `close-me`.
fn server(builder: Builder) -> (SocketAddr, mpsc::UnboundedReceiver<String>) {
    let sio = builder.build();
    let (tx, rx) = mpsc::unbounded_channel();
    let ns = sio.namespace("/");
    ns.on_disconnect(move |_socket: Socket, reason: DisconnectReason| {
        let _ = tx.send(reason.to_string());
        async {}
    });
    ns.on("close-me", |socket: Socket| async move { socket.close() });
    (support::serve(sio.engine()), rx)
}

fn target(sid: &str) -> String {
    format!("/socket.io/?EIO=4&transport=polling&sid={sid}")
}

/// Opens a long-polling session and joins `/`; the session id.
async fn joined(addr: SocketAddr) -> String {
    let sid = open_polling(addr, "", &[]).await;
    let posted = http(addr, "POST", &target(&sid), &[], "40").await;
    assert_eq!(body_of(&posted), "ok");
    let answer = http(addr, "GET", &target(&sid), &[], "").await;
    assert!(body_of(&answer).starts_with("40{\"sid\":"), "{answer}");
    sid
}

/// A GET that waits for the server's next packets, sent before `then` runs.
async fn poll_while(addr: SocketAddr, sid: &str, then: impl std::future::Future) -> String {
    let path = target(sid);
    let poll = tokio::spawn(async move { http(addr, "GET", &path, &[], "").await });
    // Give the GET time to reach the server and wait there.
    tokio::time::sleep(Duration::from_millis(200)).await;
    then.await;
    poll.await.expect("the poll")
}

#[tokio::test]
async fn a_client_close_answers_the_pending_poll_with_noop() {
    let (addr, mut reasons) = server(SocketIo::builder());
    let sid = joined(addr).await;
    let poll = poll_while(addr, &sid, async {
        let posted = http(addr, "POST", &target(&sid), &[], "1").await;
        assert_eq!(status_of(&posted), 200, "{posted}");
    })
    .await;
    assert_eq!(status_of(&poll), 200, "{poll}");
    assert_eq!(body_of(&poll), "6");
    assert_eq!(next_reason(&mut reasons).await, "transport close");
    let after = http(addr, "GET", &target(&sid), &[], "").await;
    assert_eq!(status_of(&after), 400, "the session is gone: {after}");
}

#[tokio::test]
async fn a_server_close_answers_the_pending_poll_with_close() {
    let (addr, mut reasons) = server(SocketIo::builder());
    let sid = joined(addr).await;
    let poll = poll_while(addr, &sid, async {
        let posted = http(addr, "POST", &target(&sid), &[], r#"42["close-me"]"#).await;
        assert_eq!(status_of(&posted), 200, "{posted}");
    })
    .await;
    assert_eq!(
        body_of(&poll).split('\u{1e}').next_back(),
        Some("1"),
        "{poll}"
    );
    assert_eq!(next_reason(&mut reasons).await, "forced close");
}

/// The status of a long-polling handshake sent with `origin`, and the
/// `Access-Control-Allow-Origin` it answered.
async fn handshake_from(addr: SocketAddr, origin: &str) -> (u16, Option<String>) {
    let reply = http(
        addr,
        "GET",
        "/socket.io/?EIO=4&transport=polling",
        &[("Origin", origin)],
        "",
    )
    .await;
    let allowed = header_of(&reply, "access-control-allow-origin").map(str::to_owned);
    (status_of(&reply), allowed)
}

/// The HTTP status a WebSocket handshake sent with `origin` got (101 when it opened).
async fn websocket_from(addr: SocketAddr, origin: &str) -> u16 {
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    let mut request = url.into_client_request().expect("a request");
    request
        .headers_mut()
        .insert("origin", HeaderValue::from_str(origin).expect("an origin"));
    let connected = tokio::time::timeout(PATIENCE, tokio_tungstenite::connect_async(request))
        .await
        .expect("in time");
    match connected {
        Ok((_, response)) => response.status().as_u16(),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(err) => panic!("a WebSocket handshake answer: {err}"),
    }
}

#[tokio::test]
async fn cors_allowed_origins_admits_its_origins_and_refuses_the_others() {
    let (addr, _) = server(SocketIo::builder().cors_allowed_origins(["http://app.test"]));
    let (status, allowed) = handshake_from(addr, "http://app.test").await;
    assert_eq!(status, 200);
    assert_eq!(allowed.as_deref(), Some("http://app.test"));
    assert_eq!(handshake_from(addr, "http://evil.test").await.0, 403);
    assert_eq!(websocket_from(addr, "http://app.test").await, 101);
    // A refused WebSocket upgrade is a bare 400, as the reference server answers it.
    assert_eq!(websocket_from(addr, "http://evil.test").await, 400);
    // Not a browser: no Origin, no CORS check.
    assert!(open_polling(addr, "", &[]).await.len() > 10);
}

#[tokio::test]
async fn cors_allowed_origins_takes_a_star_a_predicate_or_defaults_to_same_origin() {
    let (any, _) = server(SocketIo::builder().cors_allowed_origins("*"));
    assert_eq!(handshake_from(any, "http://evil.test").await.0, 200);

    let subdomains = AllowedOrigins::predicate(|origin: &str| origin.ends_with(".app.test"));
    let (predicate, _) = server(SocketIo::builder().cors_allowed_origins(subdomains));
    assert_eq!(handshake_from(predicate, "http://eu.app.test").await.0, 200);
    assert_eq!(handshake_from(predicate, "http://evil.test").await.0, 403);

    // The default: only the origin the request was sent to (Host: 127.0.0.1).
    let (same, _) = server(SocketIo::builder());
    assert_eq!(handshake_from(same, "http://127.0.0.1").await.0, 200);
    assert_eq!(handshake_from(same, "http://evil.test").await.0, 403);
}

#[tokio::test]
async fn transports_refuse_the_disabled_one() {
    let (websocket_only, _) = server(SocketIo::builder().transports(false, true));
    let polling = http(
        websocket_only,
        "GET",
        "/socket.io/?EIO=4&transport=polling",
        &[],
        "",
    )
    .await;
    assert_eq!(status_of(&polling), 400, "{polling}");
    assert_eq!(
        websocket_from(websocket_only, &format!("http://{websocket_only}")).await,
        101
    );

    let (polling_only, _) = server(SocketIo::builder().transports(true, false));
    assert_eq!(
        websocket_from(polling_only, &format!("http://{polling_only}")).await,
        400
    );
    assert!(open_polling(polling_only, "", &[]).await.len() > 10);
}
