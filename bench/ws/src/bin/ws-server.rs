//! An echo server on carafe-serve's upgrade hook, with one of three WebSocket stacks:
//!
//! - `tungstenite`: tokio-tungstenite's `WebSocketStream` on the `Upgraded` stream,
//! - `fastwebsockets`: fastwebsockets' `FragmentCollector` on the `Upgraded` stream,
//! - `carafe`: `carafe_serve::websocket` (the public API, over whichever codec it uses).
//!
//! The two raw stacks get the same limits and a 4 KiB read buffer like carafe's default.
//!
//! ```text
//! ws-server --codec tungstenite --port 9100
//! ```

use base64::Engine as _;
use carafe_serve::websocket::{self, Message, WebSocketConfig};
use carafe_serve::{run_simple, upgrade, Body, Request, Response};
use futures_util::{SinkExt, StreamExt};
use sha1::{Digest, Sha1};

#[derive(Clone, Copy)]
enum Codec {
    Tungstenite,
    FastWebSockets,
    Carafe,
}

/// The 101 answer for a request, computed here so the raw stacks share nothing with carafe.
fn switching(req: &Request) -> Option<Response> {
    let key = req.headers().get("sec-websocket-key")?;
    let mut sha1 = Sha1::new();
    sha1.update(key.as_bytes());
    sha1.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    let accept = base64::engine::general_purpose::STANDARD.encode(sha1.finalize());
    let mut response = Response::new(Body::empty());
    *response.status_mut() = http::StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert("upgrade", http::HeaderValue::from_static("websocket"));
    headers.insert("connection", http::HeaderValue::from_static("upgrade"));
    headers.insert("sec-websocket-accept", accept.parse().ok()?);
    Some(response)
}

async fn tungstenite_echo(upgraded: upgrade::Upgraded) {
    use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig as Tuning};
    let mut tuning = Tuning::default();
    tuning.read_buffer_size = 4096;
    tuning.write_buffer_size = 0;
    tuning.max_message_size = Some(64 << 20);
    tuning.max_frame_size = Some(16 << 20);
    let mut ws =
        tokio_tungstenite::WebSocketStream::from_raw_socket(upgraded, Role::Server, Some(tuning))
            .await;
    while let Some(Ok(message)) = ws.next().await {
        if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
            break;
        }
    }
}

async fn fastwebsockets_echo(upgraded: upgrade::Upgraded) {
    use fastwebsockets::{FragmentCollector, OpCode, Role, WebSocket};
    let mut ws = WebSocket::after_handshake(upgraded, Role::Server);
    ws.set_max_message_size(64 << 20);
    ws.set_auto_close(true);
    ws.set_auto_pong(true);
    let mut ws = FragmentCollector::new(ws);
    while let Ok(frame) = ws.read_frame().await {
        match frame.opcode {
            OpCode::Close => break,
            OpCode::Text | OpCode::Binary => {}
            _ => continue,
        }
        if ws.write_frame(frame).await.is_err() {
            break;
        }
    }
}

async fn carafe_echo(pending: websocket::PendingWebSocket) {
    let Ok(mut socket) = pending.wait().await else {
        return;
    };
    while let Some(Ok(message)) = socket.recv().await {
        if let Message::Text(_) | Message::Binary(_) = message {
            if socket.send(message).await.is_err() {
                break;
            }
        }
    }
}

async fn app(codec: Codec, mut req: Request) -> Response {
    if let Codec::Carafe = codec {
        return match websocket::accept(&mut req, &WebSocketConfig::default()) {
            Ok((response, pending)) => {
                tokio::spawn(carafe_echo(pending));
                response
            }
            Err(error) => error.into_response(),
        };
    }
    let (Some(response), Some(on_upgrade)) = (switching(&req), upgrade::on_upgrade(&mut req))
    else {
        return Response::new(Body::from("ws-server: connect with a websocket\n"));
    };
    tokio::spawn(async move {
        if let Ok(upgraded) = on_upgrade.await {
            match codec {
                Codec::Tungstenite => tungstenite_echo(upgraded).await,
                Codec::FastWebSockets => fastwebsockets_echo(upgraded).await,
                Codec::Carafe => {}
            }
        }
    });
    response
}

fn main() {
    let mut codec = Codec::Carafe;
    let mut port = 9100;
    let mut workers = 0;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--codec", Some(name)) => {
                codec = match name.as_str() {
                    "tungstenite" => Codec::Tungstenite,
                    "fastwebsockets" => Codec::FastWebSockets,
                    "carafe" => Codec::Carafe,
                    other => panic!("unknown codec {other}: tungstenite, fastwebsockets or carafe"),
                }
            }
            ("--port", Some(p)) => port = p.parse().expect("--port N"),
            ("--workers", Some(n)) => workers = n.parse().expect("--workers N"),
            (other, _) => panic!("unknown argument {other}"),
        }
    }
    let mut server = run_simple(move |req| app(codec, req))
        .host("127.0.0.1")
        .port(port)
        .access_log(false)
        .banner(false);
    if workers > 0 {
        server = server.workers(workers);
    }
    if let Err(error) = server.serve() {
        eprintln!("ws-server: {error}");
        std::process::exit(1);
    }
}
