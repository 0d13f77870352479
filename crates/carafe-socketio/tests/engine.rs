//! The Engine.IO glue over a real WebSocket on 127.0.0.1, packet by packet: what the
//! official socket.io-protocol suite checks (run by hand, it needs GitHub) kept in CI.

use std::net::SocketAddr;
use std::time::Duration;

use carafe_socketio::{Socket, SocketIo};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const PATIENCE: Duration = Duration::from_secs(5);

async fn serve(sio: &SocketIo) -> SocketAddr {
    let mut config = carafe_serve::Config::default();
    config.access_log = false;
    let mut server = carafe_serve::TcpServer::bind("127.0.0.1:0".parse().expect("literal"), config)
        .expect("bind");
    server.activate().expect("listen");
    let addr = server.local_addr();
    tokio::spawn(server.serve_forever(sio.engine()));
    addr
}

fn server(connect_timeout: Duration) -> SocketIo {
    let sio = SocketIo::builder()
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(2000))
        .connect_timeout(connect_timeout)
        .build();
    for name in ["/", "/custom"] {
        let ns = sio.namespace(name);
        ns.on_connect(|socket: Socket, auth: serde_json::Value| async move {
            let _ = socket.emit("auth", &auth);
        });
        ns.on("message", |socket: Socket, carafe_socketio::extract::Data(text): carafe_socketio::extract::Data<String>| async move {
            let _ = socket.emit("message-back", &text);
        });
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

/// The next text message that is not a ping (pings are answered), `None` once closed.
async fn next_text(ws: &mut Ws) -> Option<String> {
    loop {
        let message = tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("a message in time");
        match message {
            Some(Ok(Message::Text(text))) if text.as_str() == "2" => {
                ws.send(Message::text("3")).await.ok()?;
            }
            Some(Ok(Message::Text(text))) => return Some(text.as_str().to_owned()),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => {}
        }
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
    let mut ws = open(addr).await;
    send(&mut ws, "4abc").await;
    assert_eq!(next_text(&mut ws).await, None);
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
