//! What every peer shares: the command line and the response bodies.

use std::net::SocketAddr;

/// Body of `GET /`.
pub const PLAINTEXT: &str = "Hello, World!";

/// Body of `GET /json`, serialised per request by each peer.
#[derive(Debug, serde::Serialize)]
pub struct Message {
    /// Always `Hello, World!`.
    pub message: &'static str,
}

/// The value `GET /json` serialises.
pub const MESSAGE: Message = Message { message: PLAINTEXT };

/// Reads `--host HOST --port PORT` from argv (defaults 127.0.0.1:8080).
///
/// Exits with a usage line on anything else.
pub fn listen_addr() -> SocketAddr {
    let mut host = String::from("127.0.0.1");
    let mut port = String::from("8080");
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let slot = match flag.as_str() {
            "--host" => &mut host,
            "--port" => &mut port,
            _ => usage(&format!("unknown argument {flag:?}")),
        };
        *slot = args
            .next()
            .unwrap_or_else(|| usage(&format!("{flag} needs a value")));
    }
    format!("{host}:{port}")
        .parse()
        .unwrap_or_else(|err| usage(&format!("bad address {host}:{port}: {err}")))
}

fn usage(why: &str) -> ! {
    eprintln!("{why}\nusage: {} [--host HOST] [--port PORT]", bin_name());
    std::process::exit(2)
}

fn bin_name() -> String {
    std::env::args().next().unwrap_or_else(|| "peer".into())
}
