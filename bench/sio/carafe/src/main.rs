//! carafe-socketio on carafe-engineio on carafe-serve: carafe's server in the Socket.IO
//! benchmark (bench/sio/README.md), with the contract every server there keeps:
//! namespace `/`; event `ack` acks its argument back; event `bcast` with `{count, size}`
//! broadcasts `count` `tick` events carrying `size` bytes to every socket, then acks;
//! WebSocket only; `--host H --port P`.

use carafe_socketio::{Event, Socket, SocketIo};
use serde::Deserialize;

#[derive(Deserialize)]
struct Bcast {
    count: usize,
    size: usize,
}

fn options() -> (String, u16) {
    let mut host = "127.0.0.1".to_string();
    let mut port = 3000u16;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().unwrap_or_default();
        match arg.as_str() {
            "--host" => host = value,
            "--port" => port = value.parse().expect("--port takes a number"),
            other => panic!("unknown option {other}; use --host H --port P"),
        }
    }
    (host, port)
}

fn main() -> Result<(), carafe_serve::Error> {
    let sio = SocketIo::builder().transports(false, true).build();
    let root = sio.namespace("/");
    root.on("ack", |_socket: Socket, mut event: Event| async move {
        let value: serde_json::Value = event.data()?;
        event.ack(&value)
    });
    let io = sio.clone();
    root.on("bcast", move |_socket: Socket, mut event: Event| {
        let io = io.clone();
        async move {
            let request: Bcast = event.data()?;
            let payload = "x".repeat(request.size);
            let everyone = io.of("/");
            for _ in 0..request.count {
                everyone.emit("tick", &payload).await?;
            }
            event.ack(&request.count)
        }
    });
    let (host, port) = options();
    carafe_serve::run_simple(sio.engine())
        .host(host)
        .port(port)
        .access_log(false)
        .serve()
}
