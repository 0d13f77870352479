//! socketioxide 0.18 on axum 0.8: the Rust peer of the Socket.IO benchmark.
//!
//! The contract every server in bench/sio keeps (bench/sio/README.md): namespace `/`;
//! event `ack` acks its argument back; event `bcast` with `{count, size}` broadcasts
//! `count` `tick` events carrying a string of `size` bytes to every connected socket,
//! then acks; WebSocket transport only; `--host H --port P`.
//!
//! socketioxide's defaults are kept (its per-socket send buffer holds 128 packets; the
//! load client keeps at most `--window` × `--batch` = 40 broadcasts in flight, below
//! that). Handlers are async, as socketioxide 0.18 requires: it spawns a task per event.

use serde::Deserialize;
use serde_json::Value;
use socketioxide::extract::{AckSender, Data, SocketRef};
use socketioxide::{SocketIo, TransportType};

#[derive(Deserialize)]
struct Bcast {
    count: usize,
    size: usize,
}

async fn on_connect(socket: SocketRef) {
    socket.on("ack", async |ack: AckSender, Data::<Value>(data)| {
        let _ = ack.send(&data);
    });
    socket.on(
        "bcast",
        async |io: SocketIo, ack: AckSender, Data::<Bcast>(request)| {
            let payload = "x".repeat(request.size);
            for _ in 0..request.count {
                if let Err(e) = io.emit("tick", &payload).await {
                    eprintln!("broadcast failed: {e}");
                }
            }
            let _ = ack.send(&request.count);
        },
    );
}

fn listen_addr() -> String {
    let mut host = "127.0.0.1".to_string();
    let mut port = "3000".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--host" => host = args.next().expect("--host HOST"),
            "--port" => port = args.next().expect("--port PORT"),
            other => panic!("unknown option {other}; use --host H --port P"),
        }
    }
    format!("{host}:{port}")
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> std::io::Result<()> {
    let (layer, io) = SocketIo::builder()
        .transports([TransportType::Websocket])
        .build_layer();
    io.ns("/", on_connect);
    let app = axum::Router::new().layer(layer);
    let listener = tokio::net::TcpListener::bind(listen_addr()).await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await
}
