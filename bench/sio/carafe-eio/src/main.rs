//! carafe's Engine.IO floor: the bench contract on `carafe-engineio` alone, with the
//! few Socket.IO packets the load client sends handled by hand (no carafe-socketio).
//!
//! It answers `0` (CONNECT `/`) with `0{"sid":...}`, `2<id>["ack",X]` with
//! `3<id>[X]`, and `2<id>["bcast",{count,size}]` by queueing `count` shared
//! `2["tick","xx…"]` packets on every session, then `3<id>[count]`. What carafe-socketio
//! adds over this (decoding, namespaces, handlers, the adapter) is the difference
//! between this server and `sio-carafe` in the results. `--host H --port P`.

use carafe_engineio::packet::MessagePacket;
use carafe_engineio::{Config, EngineIo, Handler, Socket, Str};
use std::sync::{Arc, OnceLock};

struct Floor {
    engine: Arc<OnceLock<EngineIo>>,
}

impl Handler for Floor {
    fn on_message(&self, socket: &Socket, text: Str) {
        let text: &str = &text;
        if text.starts_with('0') {
            let _ = socket.send(&format!("0{{\"sid\":\"{}\"}}", socket.sid()));
            return;
        }
        let Some(event) = text.strip_prefix('2') else {
            return;
        };
        let digits = event.bytes().take_while(u8::is_ascii_digit).count();
        let (id, array) = event.split_at(digits);
        if let Some(args) = array.strip_prefix("[\"ack\",") {
            let _ = socket.send(&format!("3{id}[{args}"));
        } else if array.starts_with("[\"bcast\"") {
            let Ok(value) = serde_json::from_str::<serde_json::Value>(array) else {
                return;
            };
            let count = value[1]["count"].as_u64().unwrap_or(0);
            let size = value[1]["size"].as_u64().unwrap_or(0) as usize;
            let tick = MessagePacket::text(&format!("2[\"tick\",\"{}\"]", "x".repeat(size)));
            if let Some(engine) = self.engine.get() {
                let sockets = engine.sockets();
                for _ in 0..count {
                    for s in &sockets {
                        let _ = s.send_packet(tick.clone());
                    }
                }
            }
            let _ = socket.send(&format!("3{id}[{count}]"));
        }
    }
}

fn main() -> Result<(), carafe_serve::Error> {
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
    let mut config = Config::default();
    config.path = "/socket.io/".into();
    config.polling = false;
    let cell = Arc::new(OnceLock::new());
    let engine = EngineIo::new(
        config,
        Floor {
            engine: cell.clone(),
        },
    );
    let _ = cell.set(engine.clone());
    carafe_serve::run_simple(engine)
        .host(host)
        .port(port)
        .access_log(false)
        .serve()
}
