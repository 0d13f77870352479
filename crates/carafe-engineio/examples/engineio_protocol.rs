//! An Engine.IO server configured as the official engine.io-protocol test suite expects:
//! pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1,000,000, CORS for any origin,
//! and every message echoed back.
//!
//! ```text
//! cargo run --release --example engineio_protocol -- --port 3000
//! # then, in a copy of engine.io-protocol/test-suite: npm install && npm test
//! ```

use std::time::Duration;

use bytes::Bytes;
use carafe_engineio::{AllowedOrigins, Config, EngineIo, Handler, Socket, Str};
use clap::Parser;

/// Command-line options.
#[derive(Debug, Parser)]
struct Args {
    /// The interface to listen on (the suite connects to `localhost`).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The port to listen on (the suite connects to 3000).
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// Log one line per HTTP request.
    #[arg(long)]
    access_log: bool,
}

/// Sends every message back as it came.
struct Echo;

impl Handler for Echo {
    fn on_message(&self, socket: &Socket, text: Str) {
        let _ = socket.send(&text);
    }

    fn on_binary(&self, socket: &Socket, data: Bytes) {
        let _ = socket.send_binary(data);
    }
}

fn main() -> Result<(), carafe_serve::Error> {
    let args = Args::parse();
    let mut config = Config::default();
    config.ping_interval = Duration::from_millis(300);
    config.ping_timeout = Duration::from_millis(200);
    config.max_payload = 1_000_000;
    config.cors_allowed_origins = AllowedOrigins::Any;
    let engine = EngineIo::new(config, Echo);
    carafe_serve::run_simple(engine)
        .host(args.host)
        .port(args.port)
        .access_log(args.access_log)
        .serve()
}
