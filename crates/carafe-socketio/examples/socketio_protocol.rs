//! A Socket.IO server set up as the official socket.io-protocol test suite expects
//! (`test-suite/test-suite.js` in github.com/socketio/socket.io-protocol), so the suite
//! runs against carafe unchanged:
//!
//! ```text
//! cargo run --release -p carafe-socketio --example socketio_protocol -- --port 3000
//! cd socket.io-protocol/test-suite && npm install && npx mocha test-suite.js
//! ```
//!
//! pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1,000,000, connectTimeout 1 s;
//! namespaces `/` and `/custom`, each emitting the client's `auth` back on connect,
//! echoing `message` as `message-back` and acking `message-with-ack` with its arguments.

use std::time::Duration;

use carafe_socketio::packet::Spread;
use carafe_socketio::{Event, Socket, SocketIo};
use clap::Parser;

#[derive(Parser)]
struct Args {
    /// The port to listen on.
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// The interface to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
}

fn setup(sio: &SocketIo, name: &str) {
    let ns = sio.namespace(name);
    ns.on_connect(|socket: Socket, auth: serde_json::Value| async move {
        let _ = socket.emit("auth", &auth);
    });
    ns.on("message", |socket: Socket, event: Event| async move {
        if let Ok(args) = event.args().all() {
            let _ = socket.emit("message-back", &Spread(args));
        }
    });
    ns.on(
        "message-with-ack",
        |_socket: Socket, mut event: Event| async move {
            if let Ok(args) = event.args().all() {
                let _ = event.ack(&Spread(args));
            }
        },
    );
}

fn main() -> Result<(), carafe_serve::Error> {
    let args = Args::parse();
    let sio = SocketIo::builder()
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(200))
        .max_payload(1_000_000)
        .connect_timeout(Duration::from_millis(1000))
        .cors_allowed_origins("*")
        .build();
    setup(&sio, "/");
    setup(&sio, "/custom");
    carafe_serve::run_simple(sio.engine())
        .host(args.host)
        .port(args.port)
        .access_log(false)
        .serve()
}
