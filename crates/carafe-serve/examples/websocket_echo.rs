//! A WebSocket echo server at `/`, built on `carafe_serve::websocket`: text and binary
//! messages come back as they were received. The Autobahn run (`interop/autobahn/run`)
//! and the WebSocket benchmark (`bench/ws`) use it.
//!
//! ```text
//! cargo run --release -p carafe-serve --example websocket_echo -- --port 9001 [--host 127.0.0.1] [--deflate]
//! ```

use carafe_serve::websocket::{self, Message, WebSocket, WebSocketConfig};
use carafe_serve::{run_simple, Body, Request, Response};

/// Echoes until the peer closes or breaks the protocol.
async fn echo(mut socket: WebSocket) {
    while let Some(Ok(message)) = socket.recv().await {
        if let Message::Text(_) | Message::Binary(_) = message {
            if socket.send(message).await.is_err() {
                break;
            }
        }
    }
}

fn app(
    config: WebSocketConfig,
) -> impl Fn(Request) -> std::future::Ready<Response> + Send + Sync + 'static {
    move |mut req: Request| {
        let response = match websocket::accept(&mut req, &config) {
            Ok((response, pending)) => {
                tokio::spawn(async move {
                    if let Ok(socket) = pending.wait().await {
                        echo(socket).await;
                    }
                });
                response
            }
            Err(error) if websocket::is_upgrade_request(&req) => error.into_response(),
            Err(_) => Response::new(Body::from(
                "a websocket echo server: connect to ws://HOST:PORT/\n",
            )),
        };
        std::future::ready(response)
    }
}

fn main() {
    let mut host = "127.0.0.1".to_owned();
    let mut port = 9001;
    let mut config = WebSocketConfig::default();
    let mut access_log = true;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--host" => host = args.next().unwrap_or(host),
            "--port" => port = args.next().and_then(|p| p.parse().ok()).unwrap_or(port),
            "--deflate" => config = config.permessage_deflate(true),
            "--no-access-log" => access_log = false,
            other => eprintln!("ignoring unknown argument {other}"),
        }
    }
    let served = run_simple(app(config))
        .host(host)
        .port(port)
        .access_log(access_log)
        .serve();
    if let Err(error) = served {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}
