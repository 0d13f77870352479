//! WebSockets over a real loopback socket (RFC 6455): the opening handshake accepted and
//! refused, echo, size and UTF-8 violations closed with their codes, pings, the close
//! handshake, split halves in two tasks, and a graceful server shutdown. The clients are
//! tokio-tungstenite, a raw socket, and Python's `websockets`.
#![cfg(feature = "websocket")]

mod support;

use std::time::Duration;

use carafe_serve::websocket::{self, close_code, Message, WebSocket, WebSocketConfig};
use carafe_serve::{Request, Response};
use futures_util::{SinkExt, StreamExt};
use support::*;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// `/echo` echoes, `/small` echoes with a 1 KiB message limit, `/deflate` echoes with
/// permessage-deflate on, `/deflate-small` with it on and a 64 KiB limit, `/split` runs a
/// split socket, `/bye` closes at once with 4000; anything else answers the handshake
/// error.
async fn app(mut req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let config = match path.as_str() {
        "/small" => WebSocketConfig::default().max_message_size(1024),
        "/deflate" => WebSocketConfig::default().permessage_deflate(true),
        "/deflate-small" => WebSocketConfig::default()
            .permessage_deflate(true)
            .max_message_size(64 * 1024),
        _ => WebSocketConfig::default(),
    };
    match websocket::accept(&mut req, &config) {
        Ok((response, pending)) => {
            tokio::spawn(async move {
                let Ok(socket) = pending.wait().await else {
                    return;
                };
                match path.as_str() {
                    "/split" => split_echo(socket).await,
                    "/batch" => batch(socket).await,
                    "/impatient" => impatient_echo(socket).await,
                    "/bye" => {
                        let mut socket = socket;
                        let _ = socket.close(4000, "bye").await;
                    }
                    _ => echo(socket).await,
                }
            });
            response
        }
        Err(error) => error.into_response(),
    }
}

async fn echo(mut socket: WebSocket) {
    while let Some(Ok(message)) = socket.recv().await {
        if let Message::Text(_) | Message::Binary(_) = message {
            if socket.send(message).await.is_err() {
                break;
            }
        }
    }
}

/// Echoes, but gives up on every `recv` after a millisecond and calls it again, as a
/// heartbeat loop in `select!` does: `recv` must be cancel-safe.
async fn impatient_echo(mut socket: WebSocket) {
    loop {
        let received = tokio::select! {
            received = socket.recv() => received,
            () = tokio::time::sleep(Duration::from_millis(1)) => continue,
        };
        match received {
            Some(Ok(message @ (Message::Text(_) | Message::Binary(_)))) => {
                if socket.send(message).await.is_err() {
                    return;
                }
            }
            Some(Ok(_)) => {}
            _ => return,
        }
    }
}

/// A writer task sends three ticks while the reader task echoes in upper case.
async fn split_echo(socket: WebSocket) {
    let (mut reader, writer) = socket.split();
    let ticker = writer.clone();
    let ticks = tokio::spawn(async move {
        for tick in 0..3 {
            if ticker
                .send(Message::text(format!("tick {tick}")))
                .await
                .is_err()
            {
                return;
            }
        }
    });
    let reads = tokio::spawn(async move {
        while let Some(Ok(message)) = reader.recv().await {
            if let Message::Text(text) = message {
                let _ = writer.send(Message::text(text.to_uppercase())).await;
            }
        }
    });
    let _ = tokio::join!(ticks, reads);
}

/// How many small messages `/batch` sends in its first `send_all`.
const BATCH_TEXTS: usize = 3000;

/// The second `send_all` of `/batch` (a close frame, then a text) returned
/// `Err(Closed)`: 1 yes, 2 no.
static BATCH_AFTER_CLOSE: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// Sends with `send_all`: `first`, a 100 KiB binary message, `BATCH_TEXTS` small texts
/// (more than one write's worth), `last`; then a batch of a close frame 4001 and a text
/// that must not go out.
async fn batch(socket: WebSocket) {
    let (_reader, writer) = socket.split();
    let mut messages = vec![
        Message::text("first"),
        Message::binary(vec![7u8; 100 * 1024]),
    ];
    messages.extend((0..BATCH_TEXTS).map(|i| Message::text(format!("t{i}"))));
    messages.push(Message::text("last"));
    if writer.send_all(messages).await.is_err() {
        return;
    }
    let after_close = writer
        .send_all([
            Message::Close(Some(websocket::CloseFrame::new(4001, ""))),
            Message::text("after the close"),
        ])
        .await;
    let closed = matches!(after_close, Err(websocket::WebSocketError::Closed));
    BATCH_AFTER_CLOSE.store(
        if closed { 1 } else { 2 },
        std::sync::atomic::Ordering::SeqCst,
    );
}

async fn connect(server: &TestServer, path: &str) -> Client {
    let url = format!("ws://{}{path}", server.addr);
    let connected = tokio::time::timeout(PATIENCE, tokio_tungstenite::connect_async(url)).await;
    let (client, response) = connected.expect("handshake timed out").expect("handshake");
    assert_eq!(response.status(), 101);
    client
}

/// The next message the client reads, within `PATIENCE`.
async fn next(client: &mut Client) -> Option<WsMessage> {
    let read = tokio::time::timeout(PATIENCE, client.next()).await;
    read.expect("nothing arrived in time")
        .map(|item| item.expect("read"))
}

/// Reads until a close frame arrives and returns its code.
async fn close_code_of(client: &mut Client) -> u16 {
    loop {
        match next(client).await {
            Some(WsMessage::Close(frame)) => return frame.map_or(1005, |f| f.code.into()),
            Some(_) => continue,
            None => panic!("the connection ended without a close frame"),
        }
    }
}

const HANDSHAKE: &str = "Host: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
const KEY: &str = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
const VERSION: &str = "Sec-WebSocket-Version: 13\r\n";

async fn raw_handshake(server: &TestServer, request: String) -> Resp {
    let mut client = support::Client::connect(server.addr).await;
    client.request(request.as_bytes()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_is_answered_with_101_and_the_rfc_accept_key() {
    let server = start_server(app, quick_config()).await;
    let resp = raw_handshake(
        &server,
        format!("GET /echo HTTP/1.1\r\n{HANDSHAKE}{KEY}{VERSION}\r\n"),
    )
    .await;
    assert_eq!(resp.status, 101, "{resp:?}");
    assert_eq!(resp.header("upgrade"), Some("websocket"));
    assert_eq!(
        resp.header("sec-websocket-accept"),
        Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_without_a_key_gets_400() {
    let server = start_server(app, quick_config()).await;
    let resp = raw_handshake(
        &server,
        format!("GET /echo HTTP/1.1\r\n{HANDSHAKE}{VERSION}\r\n"),
    )
    .await;
    assert_eq!(resp.status, 400, "{resp:?}");
    assert!(resp.text().contains("sec-websocket-key"), "{}", resp.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_with_a_wrong_version_gets_426_naming_version_13() {
    let server = start_server(app, quick_config()).await;
    let request = format!("GET /echo HTTP/1.1\r\n{HANDSHAKE}{KEY}Sec-WebSocket-Version: 8\r\n\r\n");
    let resp = raw_handshake(&server, request).await;
    assert_eq!(resp.status, 426, "{resp:?}");
    assert_eq!(resp.header("sec-websocket-version"), Some("13"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_with_post_gets_400() {
    let server = start_server(app, quick_config()).await;
    let request =
        format!("POST /echo HTTP/1.1\r\n{HANDSHAKE}{KEY}{VERSION}Content-Length: 0\r\n\r\n");
    let resp = raw_handshake(&server, request).await;
    assert_eq!(resp.status, 400, "{resp:?}");
    assert!(resp.text().contains("GET"), "{}", resp.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_without_an_upgrade_header_gets_400_and_keeps_the_connection() {
    let server = start_server(app, quick_config()).await;
    let mut client = support::Client::connect(server.addr).await;
    let request =
        format!("GET /echo HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\n{KEY}{VERSION}\r\n");
    let resp = client.request(request.as_bytes()).await;
    assert_eq!(resp.status, 400, "{resp:?}");
    assert!(resp.text().contains("upgrade header"), "{}", resp.text());
    // Still HTTP: a real handshake on the same connection works.
    let again = format!("GET /echo HTTP/1.1\r\n{HANDSHAKE}{KEY}{VERSION}\r\n");
    assert_eq!(client.request(again.as_bytes()).await.status, 101);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_and_binary_messages_are_echoed() {
    let server = start_server(app, quick_config()).await;
    let mut client = connect(&server, "/echo").await;
    client.send(WsMessage::text("héllo")).await.expect("send");
    assert_eq!(next(&mut client).await, Some(WsMessage::text("héllo")));
    let blob: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    client
        .send(WsMessage::binary(blob.clone()))
        .await
        .expect("send");
    assert_eq!(next(&mut client).await, Some(WsMessage::binary(blob)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_over_max_message_size_closes_with_1009() {
    let server = start_server(app, quick_config()).await;
    let mut client = connect(&server, "/small").await;
    client
        .send(WsMessage::binary(vec![7u8; 1000]))
        .await
        .expect("send");
    assert!(matches!(next(&mut client).await, Some(WsMessage::Binary(b)) if b.len() == 1000));
    client
        .send(WsMessage::binary(vec![7u8; 2000]))
        .await
        .expect("send");
    assert_eq!(
        close_code_of(&mut client).await,
        close_code::MESSAGE_TOO_BIG
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_text_closes_with_1007() {
    let server = start_server(app, quick_config()).await;
    let mut client = connect(&server, "/echo").await;
    // A raw frame, so the client does not check the text itself.
    let frame = Frame::message(vec![b'a', 0xff, b'b'], OpCode::Data(Data::Text), true);
    client.send(WsMessage::Frame(frame)).await.expect("send");
    assert_eq!(
        close_code_of(&mut client).await,
        close_code::INVALID_PAYLOAD
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_is_answered_with_a_pong_carrying_its_payload() {
    let server = start_server(app, quick_config()).await;
    let mut client = connect(&server, "/echo").await;
    client
        .send(WsMessage::Ping("are you there".into()))
        .await
        .expect("send");
    assert_eq!(
        next(&mut client).await,
        Some(WsMessage::Pong("are you there".into()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_close_is_answered_and_the_connection_ends() {
    let server = start_server(app, quick_config()).await;
    let mut client = connect(&server, "/echo").await;
    client.close(None).await.expect("close");
    assert!(matches!(next(&mut client).await, Some(WsMessage::Close(_))));
    assert_eq!(next(&mut client).await, None);
    let registry = server.registry.clone();
    assert!(
        wait_until(PATIENCE, || registry.is_empty()).await,
        "{:?}",
        registry.connections()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_close_sends_its_code_and_reason() {
    let server = start_server(app, quick_config()).await;
    let mut client = connect(&server, "/bye").await;
    match next(&mut client).await {
        Some(WsMessage::Close(Some(frame))) => {
            assert_eq!(u16::from(frame.code), 4000);
            assert_eq!(frame.reason.as_str(), "bye");
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
    assert_eq!(next(&mut client).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_reader_and_writer_work_from_two_tasks_and_pongs_still_go_out() {
    let server = start_server(app, quick_config()).await;
    let mut client = connect(&server, "/split").await;
    client
        .send(WsMessage::Ping("p".into()))
        .await
        .expect("send");
    client.send(WsMessage::text("shout")).await.expect("send");
    let mut got = Vec::new();
    while got.len() < 5 {
        match next(&mut client).await.expect("message") {
            WsMessage::Text(text) => got.push(text.to_string()),
            WsMessage::Pong(data) => got.push(format!("pong {}", String::from_utf8_lossy(&data))),
            other => panic!("unexpected {other:?}"),
        }
    }
    got.sort();
    assert_eq!(got, ["SHOUT", "pong p", "tick 0", "tick 1", "tick 2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_all_delivers_every_message_in_order_and_nothing_after_a_close_frame() {
    let server = start_server(app, quick_config()).await;
    let mut client = connect(&server, "/batch").await;
    assert_eq!(next(&mut client).await, Some(WsMessage::text("first")));
    match next(&mut client).await {
        Some(WsMessage::Binary(data)) => {
            assert!(data.len() == 100 * 1024 && data.iter().all(|&b| b == 7))
        }
        other => panic!("expected the 100 KiB binary message, got {other:?}"),
    }
    for i in 0..BATCH_TEXTS {
        assert_eq!(
            next(&mut client).await,
            Some(WsMessage::text(format!("t{i}")))
        );
    }
    assert_eq!(next(&mut client).await, Some(WsMessage::text("last")));
    match next(&mut client).await {
        Some(WsMessage::Close(Some(frame))) => assert_eq!(u16::from(frame.code), 4001),
        other => panic!("expected the close frame 4001, got {other:?}"),
    }
    let deadline = std::time::Instant::now() + PATIENCE;
    while BATCH_AFTER_CLOSE.load(std::sync::atomic::Ordering::SeqCst) == 0
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        BATCH_AFTER_CLOSE.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "send_all must fail with Closed at a message after a close frame"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_closes_the_socket_with_1001() {
    let server = start_server(app, quick_config()).await;
    let mut client = connect(&server, "/echo").await;
    client.send(WsMessage::text("before")).await.expect("send");
    assert_eq!(next(&mut client).await, Some(WsMessage::text("before")));
    server.handle.shutdown();
    assert_eq!(close_code_of(&mut client).await, close_code::GOING_AWAY);
    assert_eq!(next(&mut client).await, None);
    // The close handshake finished, so the server stops before its 2 s grace ends.
    let stopped = tokio::time::timeout(Duration::from_millis(1500), server.task).await;
    assert!(matches!(stopped, Ok(Ok(Ok(())))), "{stopped:?}");
}

/// Runs a Python script (with the `websockets` package) and returns what it printed.
async fn python(script: String) -> String {
    let check = std::process::Command::new("python3")
        .args(["-c", "import websockets"])
        .output();
    assert!(
        check.is_ok_and(|out| out.status.success()),
        "Python's websockets package is missing: run `make autobahn-deps`"
    );
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("timeout")
            .args(["20", "python3", "-c", &script])
            .output()
    });
    let out = out.await.expect("join").expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout.trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_websockets_client_gets_its_messages_echoed() {
    let server = start_server(app, quick_config()).await;
    let script = format!(
        r#"
import asyncio, websockets
async def main():
    async with websockets.connect("ws://{}/echo") as ws:
        await ws.send("from python")
        text = await ws.recv()
        await ws.send(b"\x00\x01")
        data = await ws.recv()
        pong = await ws.ping(b"x")
        await asyncio.wait_for(pong, 5)
        print(text, data.hex())
asyncio.run(main())
"#,
        server.addr
    );
    assert_eq!(python(script).await, "from python 0001");
}

/// Python's `websockets` offers permessage-deflate by default; the script prints the
/// agreed extension header, then echoes text and binary messages (large, fragmented and
/// repeated, so the server's context takeover is exercised both ways) and counts the
/// bytes on the wire.
fn deflate_script(addr: std::net::SocketAddr, path: &str) -> String {
    format!(
        r#"
import asyncio, websockets
async def main():
    async with websockets.connect("ws://{addr}{path}", max_size=None) as ws:
        print(ws.response.headers.get("Sec-WebSocket-Extensions"))
        text = "carafe " * 5000
        for _ in range(3):
            await ws.send(text)
            assert await ws.recv() == text
        data = bytes(range(256)) * 300
        await ws.send(data)
        assert await ws.recv() == data
        await ws.send(iter([b"frag", b"mented"]))
        assert await ws.recv() == b"fragmented"
        await ws.send("")
        assert await ws.recv() == ""
        pong = await ws.ping(b"p")
        await asyncio.wait_for(pong, 5)
        print("ok")
asyncio.run(main())
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permessage_deflate_is_negotiated_with_python_websockets_and_messages_round_trip() {
    let server = start_server(app, quick_config()).await;
    let out = python(deflate_script(server.addr, "/deflate")).await;
    assert_eq!(
        out, "permessage-deflate\nok",
        "the server should accept Python's offer (client_max_window_bits) with plain defaults"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permessage_deflate_parameters_are_honoured() {
    let server = start_server(app, quick_config()).await;
    let script = format!(
        r#"
import asyncio, websockets
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
async def main():
    factory = ClientPerMessageDeflateFactory(
        server_no_context_takeover=True, client_no_context_takeover=True,
        server_max_window_bits=9, client_max_window_bits=10)
    async with websockets.connect("ws://{}/deflate", extensions=[factory], compression=None) as ws:
        print(ws.response.headers.get("Sec-WebSocket-Extensions"))
        text = "window " * 3000
        for _ in range(3):
            await ws.send(text)
            assert await ws.recv() == text
        print("ok")
asyncio.run(main())
"#,
        server.addr
    );
    assert_eq!(
        python(script).await,
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9\nok"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permessage_deflate_is_not_negotiated_when_off() {
    let server = start_server(app, quick_config()).await;
    // Python offers deflate; the server (off by default) answers without it and the
    // messages still round-trip, uncompressed.
    let out = python(deflate_script(server.addr, "/echo")).await;
    assert_eq!(out, "None\nok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compressed_frame_without_negotiation_closes_with_1002() {
    let server = start_server(app, quick_config()).await;
    let mut client = connect(&server, "/echo").await;
    // RSV1 set on a frame although no extension was agreed.
    let mut frame = Frame::message(&b"Hello"[..], OpCode::Data(Data::Text), true);
    frame.header_mut().rsv1 = true;
    client.send(WsMessage::Frame(frame)).await.expect("send");
    assert_eq!(close_code_of(&mut client).await, close_code::PROTOCOL_ERROR);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decompression_bomb_closes_with_1009_at_max_message_size() {
    let server = start_server(app, quick_config()).await;
    // 16 MiB of zeros compress to about 16 KiB: far under the 64 KiB limit on the wire,
    // 256 times over it inflated.
    let script = format!(
        r#"
import asyncio, websockets
async def main():
    async with websockets.connect("ws://{}/deflate-small") as ws:
        await ws.send(bytes(16 << 20))
        try:
            await asyncio.wait_for(ws.recv(), 10)
        except websockets.ConnectionClosed as closed:
            print(closed.rcvd.code)
asyncio.run(main())
"#,
        server.addr
    );
    assert_eq!(python(script).await, "1009");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recv_cancelled_mid_frame_loses_nothing() {
    use tokio::io::AsyncWriteExt;
    let server = start_server(app, quick_config()).await;
    let mut client = connect(&server, "/impatient").await;
    let MaybeTlsStream::Plain(stream) = client.get_mut() else {
        panic!("a plain TCP connection was expected");
    };
    // Masked frames written 3 bytes at a time, 2 ms apart: the server's recv is cancelled
    // between every piece, with half a head or half a payload in its buffer.
    let mut bytes = Vec::new();
    for word in ["alpha", "bravo", "charlie"] {
        bytes.extend_from_slice(&[0x81, 0x80 | word.len() as u8, 1, 2, 3, 4]);
        bytes.extend(
            word.bytes()
                .zip([1u8, 2, 3, 4].iter().cycle())
                .map(|(b, k)| b ^ k),
        );
    }
    for piece in bytes.chunks(3) {
        stream.write_all(piece).await.expect("write");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    for word in ["alpha", "bravo", "charlie"] {
        assert_eq!(next(&mut client).await, Some(WsMessage::text(word)));
    }
}

#[test]
fn sockets_and_halves_are_send_and_sync() {
    fn both<T: Send + Sync>() {}
    both::<WebSocket>();
    both::<websocket::WebSocketReader>();
    both::<websocket::WebSocketWriter>();
    both::<websocket::PendingWebSocket>();
}
