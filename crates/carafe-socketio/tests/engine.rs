//! The Engine.IO glue over a real WebSocket on 127.0.0.1, packet by packet: what the
//! official socket.io-protocol suite checks (run by hand, it needs GitHub) kept in CI.

use std::net::SocketAddr;
use std::time::Duration;

use carafe_socketio::packet::Spread;
use carafe_socketio::{Builder, DisconnectReason, Event, Socket, SocketIo, Value};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

mod support;

use support::{next_reason, PATIENCE};

async fn serve(sio: &SocketIo) -> SocketAddr {
    support::serve(sio.engine())
}

fn server(connect_timeout: Duration) -> SocketIo {
    echo_server(
        SocketIo::builder()
            .ping_interval(Duration::from_millis(300))
            .ping_timeout(Duration::from_millis(2000))
            .connect_timeout(connect_timeout),
    )
}

/// Every argument of `event`, binary ones included.
fn arguments(event: &Event) -> Spread<Value> {
    Spread(event.args().all().expect("JSON arguments"))
}

/// `/` and `/custom` as the official suite expects them: `auth` emitted back on connect,
/// `message` echoed as `message-back`, `message-with-ack` acked with its arguments.
fn echo_server(builder: Builder) -> SocketIo {
    let sio = builder.build();
    for name in ["/", "/custom"] {
        let ns = sio.namespace(name);
        ns.on_connect(|socket: Socket, auth: serde_json::Value| async move {
            let _ = socket.emit("auth", &auth);
        });
        ns.on("message", |socket: Socket, event: Event| async move {
            let _ = socket.emit("message-back", &arguments(&event));
        });
        ns.on(
            "message-with-ack",
            |_socket: Socket, mut event: Event| async move {
                let args = arguments(&event);
                let _ = event.ack(&args);
            },
        );
    }
    sio
}

async fn open(addr: SocketAddr) -> Ws {
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio::time::timeout(PATIENCE, tokio_tungstenite::connect_async(url))
        .await
        .expect("in time")
        .expect("handshake");
    let open = next_text(&mut ws).await.expect("the open packet");
    assert!(open.starts_with("0{"), "{open}");
    ws
}

/// The next message that is not a ping (pings are answered), `None` once closed.
async fn next_message(ws: &mut Ws) -> Option<Message> {
    loop {
        let message = tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("a message in time");
        match message {
            Some(Ok(Message::Text(text))) if text.as_str() == "2" => {
                ws.send(Message::text("3")).await.ok()?;
            }
            Some(Ok(message @ (Message::Text(_) | Message::Binary(_)))) => return Some(message),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => {}
        }
    }
}

/// The next text message that is not a ping, `None` once closed.
async fn next_text(ws: &mut Ws) -> Option<String> {
    loop {
        match next_message(ws).await? {
            Message::Text(text) => return Some(text.as_str().to_owned()),
            _ => continue,
        }
    }
}

/// The next message, which must be binary.
async fn next_binary(ws: &mut Ws) -> Vec<u8> {
    match next_message(ws).await {
        Some(Message::Binary(bytes)) => bytes.to_vec(),
        other => panic!("expected a binary message, got {other:?}"),
    }
}

async fn send(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text.to_owned())).await.expect("send");
}

#[tokio::test]
async fn connect_answers_then_the_handler_emits_the_auth_back() {
    let addr = serve(&server(Duration::from_secs(45))).await;
    let mut ws = open(addr).await;
    send(&mut ws, r#"40{"token":"123"}"#).await;
    let answer = next_text(&mut ws).await.expect("CONNECT answer");
    assert!(answer.starts_with(r#"40{"sid":""#), "{answer}");
    assert_eq!(
        next_text(&mut ws).await.as_deref(),
        Some(r#"42["auth",{"token":"123"}]"#)
    );
    send(&mut ws, "40/custom,").await;
    let answer = next_text(&mut ws).await.expect("CONNECT answer");
    assert!(answer.starts_with(r#"40/custom,{"sid":""#), "{answer}");
    assert_eq!(
        next_text(&mut ws).await.as_deref(),
        Some(r#"42/custom,["auth",{}]"#)
    );
    send(&mut ws, "40/random").await;
    assert_eq!(
        next_text(&mut ws).await.as_deref(),
        Some(r#"44/random,{"message":"Invalid namespace"}"#)
    );
}

#[tokio::test]
async fn leaving_the_main_namespace_keeps_the_session_and_the_others() {
    let addr = serve(&server(Duration::from_millis(500))).await;
    let mut ws = open(addr).await;
    send(&mut ws, "40").await;
    next_text(&mut ws).await.expect("CONNECT answer");
    next_text(&mut ws).await.expect("auth");
    send(&mut ws, "40/custom,").await;
    next_text(&mut ws).await.expect("CONNECT answer");
    next_text(&mut ws).await.expect("auth");
    send(&mut ws, "41").await;
    // Past the connect timeout: a client that connected once is not closed by it.
    tokio::time::sleep(Duration::from_millis(800)).await;
    send(&mut ws, r#"42/custom,["message","still here"]"#).await;
    assert_eq!(
        next_text(&mut ws).await.as_deref(),
        Some(r#"42/custom,["message-back","still here"]"#)
    );
    // `/` is left: its events are ignored.
    send(&mut ws, r#"42["message","nobody"]"#).await;
    send(&mut ws, r#"42/custom,["message","after"]"#).await;
    assert_eq!(
        next_text(&mut ws).await.as_deref(),
        Some(r#"42/custom,["message-back","after"]"#)
    );
}

#[tokio::test]
async fn a_session_that_joins_no_namespace_is_closed_after_the_connect_timeout() {
    let addr = serve(&server(Duration::from_millis(300))).await;
    let mut ws = open(addr).await;
    let started = std::time::Instant::now();
    assert_eq!(next_text(&mut ws).await, None, "closed without a namespace");
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_malformed_packet_closes_the_connection() {
    let addr = serve(&server(Duration::from_secs(45))).await;
    // An unknown packet type, a payload that is not an array, an ack id that is no number.
    for malformed in ["4abc", "42{}", r#"42abc["message-with-ack",1]"#] {
        let mut ws = open(addr).await;
        send(&mut ws, "40").await;
        next_text(&mut ws).await.expect("CONNECT answer");
        next_text(&mut ws).await.expect("auth");
        send(&mut ws, malformed).await;
        assert_eq!(next_text(&mut ws).await, None, "{malformed} closes");
    }
}

#[tokio::test]
async fn a_client_that_left_every_namespace_is_not_closed_by_the_connect_timeout() {
    let addr = serve(&server(Duration::from_millis(300))).await;
    let mut ws = open(addr).await;
    send(&mut ws, "40").await;
    next_text(&mut ws).await.expect("CONNECT answer");
    next_text(&mut ws).await.expect("auth");
    send(&mut ws, "41").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    send(&mut ws, "40").await;
    let answer = next_text(&mut ws)
        .await
        .expect("still open: a CONNECT answer");
    assert!(answer.starts_with(r#"40{"sid":""#), "{answer}");
}

/// Sends a CONNECT (`40`, `40/custom,`...) and reads its answer and the `auth` emit.
async fn join(ws: &mut Ws, connect: &str) {
    send(ws, connect).await;
    let answer = next_text(ws).await.expect("CONNECT answer");
    assert!(
        answer.starts_with(&format!("{connect}{{\"sid\":\"")),
        "{answer}"
    );
    next_text(ws).await.expect("auth");
}

#[tokio::test]
async fn events_and_acks_echo_their_arguments() {
    let addr = serve(&server(Duration::from_secs(45))).await;
    let mut ws = open(addr).await;
    join(&mut ws, "40").await;
    send(&mut ws, r#"42["message",1,"2",{"3":[true]}]"#).await;
    assert_eq!(
        next_text(&mut ws).await.as_deref(),
        Some(r#"42["message-back",1,"2",{"3":[true]}]"#)
    );
    send(&mut ws, r#"42456["message-with-ack",1,"2",{"3":[false]}]"#).await;
    assert_eq!(
        next_text(&mut ws).await.as_deref(),
        Some(r#"43456[1,"2",{"3":[false]}]"#)
    );
}

#[tokio::test]
async fn binary_events_and_acks_keep_their_attachments_in_order() {
    let addr = serve(&server(Duration::from_secs(45))).await;
    let mut ws = open(addr).await;
    join(&mut ws, "40").await;
    let placeholders = r#"{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}"#;
    for (sent, expected) in [
        (
            format!(r#"452-["message",{placeholders}]"#),
            format!(r#"452-["message-back",{placeholders}]"#),
        ),
        (
            format!(r#"452-789["message-with-ack",{placeholders}]"#),
            format!(r#"462-789[{placeholders}]"#),
        ),
    ] {
        send(&mut ws, &sent).await;
        ws.send(Message::binary(vec![1, 2, 3])).await.expect("send");
        ws.send(Message::binary(vec![4, 5, 6])).await.expect("send");
        assert_eq!(next_text(&mut ws).await.as_deref(), Some(expected.as_str()));
        assert_eq!(next_binary(&mut ws).await, [1, 2, 3]);
        assert_eq!(next_binary(&mut ws).await, [4, 5, 6]);
    }
}

/// The echo server whose namespaces report each disconnect as `"<namespace> <reason>"`,
/// where `leave-me` makes the server disconnect the socket from its namespace, `close-me`
/// closes the whole connection, and `shout` is broadcast to every other socket.
fn reporting_server(builder: Builder) -> (SocketIo, mpsc::UnboundedReceiver<String>) {
    let sio = echo_server(builder);
    let (tx, rx) = mpsc::unbounded_channel();
    for name in ["/", "/custom"] {
        let ns = sio.namespace(name);
        let tx = tx.clone();
        ns.on_disconnect(move |socket: Socket, reason: DisconnectReason| {
            let _ = tx.send(format!("{} {reason}", socket.namespace()));
            async {}
        });
        ns.on(
            "leave-me",
            |socket: Socket| async move { socket.disconnect() },
        );
        ns.on("close-me", |socket: Socket| async move { socket.close() });
        ns.on("shout", |socket: Socket, event: Event| async move {
            let args = arguments(&event);
            let _ = socket.broadcast().emit("shouted", &args).await;
        });
    }
    (sio, rx)
}

#[tokio::test]
async fn disconnect_reasons_reach_the_handlers() {
    let (sio, mut reasons) = reporting_server(
        SocketIo::builder()
            .ping_interval(Duration::from_millis(300))
            .ping_timeout(Duration::from_millis(300)),
    );
    let addr = serve(&sio).await;

    let mut ws = open(addr).await;
    join(&mut ws, "40").await;
    send(&mut ws, "41").await;
    assert_eq!(
        next_reason(&mut reasons).await,
        "/ client namespace disconnect"
    );

    // The server leaves the namespace: the client is told, the session stays.
    join(&mut ws, "40").await;
    send(&mut ws, r#"42["leave-me"]"#).await;
    assert_eq!(next_text(&mut ws).await.as_deref(), Some("41"));
    assert_eq!(
        next_reason(&mut reasons).await,
        "/ server namespace disconnect"
    );
    join(&mut ws, "40").await;

    // The server closes the connection: every namespace of it is left.
    join(&mut ws, "40/custom,").await;
    send(&mut ws, r#"42["close-me"]"#).await;
    assert_eq!(next_text(&mut ws).await, None);
    let mut closed = [
        next_reason(&mut reasons).await,
        next_reason(&mut reasons).await,
    ];
    closed.sort();
    assert_eq!(closed, ["/ forced close", "/custom forced close"]);

    let mut ws = open(addr).await;
    join(&mut ws, "40").await;
    ws.close(None).await.expect("close");
    assert_eq!(next_reason(&mut reasons).await, "/ transport close");

    let mut ws = open(addr).await;
    join(&mut ws, "40").await;
    send(&mut ws, "4abc").await;
    assert_eq!(next_reason(&mut reasons).await, "/ parse error");

    // A client that never answers pings.
    let mut ws = open(addr).await;
    join(&mut ws, "40").await;
    while let Ok(Some(Ok(message))) = tokio::time::timeout(PATIENCE, ws.next()).await {
        if message.is_close() {
            break;
        }
    }
    assert_eq!(next_reason(&mut reasons).await, "/ ping timeout");
}

#[tokio::test]
async fn a_broadcast_reaches_every_other_client_with_its_attachments() {
    let (sio, _reasons) = reporting_server(SocketIo::builder());
    let addr = serve(&sio).await;
    let mut clients = Vec::new();
    for _ in 0..3 {
        let mut ws = open(addr).await;
        join(&mut ws, "40").await;
        clients.push(ws);
    }
    let placeholder = r#"{"_placeholder":true,"num":0}"#;
    send(
        &mut clients[0],
        &format!(r#"451-["shout","hi",{placeholder}]"#),
    )
    .await;
    clients[0]
        .send(Message::binary(vec![7, 8, 9]))
        .await
        .expect("send");
    for ws in &mut clients[1..] {
        assert_eq!(
            next_text(ws).await,
            Some(format!(r#"451-["shouted","hi",{placeholder}]"#))
        );
        assert_eq!(next_binary(ws).await, [7, 8, 9]);
    }
    // The sender gets nothing: its next message answers what it sends next.
    send(&mut clients[0], r#"42["message","after"]"#).await;
    assert_eq!(
        next_text(&mut clients[0]).await.as_deref(),
        Some(r#"42["message-back","after"]"#)
    );
}
