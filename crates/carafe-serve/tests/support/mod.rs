//! Shared helpers for the integration tests: a real server on 127.0.0.1:0 and a raw
//! client that writes bytes and reads what comes back.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::Duration;

use carafe_serve::{Application, Body, Config, Request, Response, ShutdownHandle, TcpServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// A server running in the test's runtime.
pub struct TestServer {
    pub addr: SocketAddr,
    pub handle: ShutdownHandle,
    pub registry: std::sync::Arc<carafe_serve::Registry>,
    pub task: JoinHandle<Result<(), carafe_serve::Error>>,
}

/// Starts `app` on an ephemeral loopback port.
pub async fn start_server<A: Application>(app: A, config: Config) -> TestServer {
    let mut server = TcpServer::bind("127.0.0.1:0".parse().expect("literal"), config).expect("bind");
    server.activate().expect("listen");
    let addr = server.local_addr();
    let handle = server.shutdown_handle();
    let registry = server.registry();
    let task = tokio::spawn(server.serve_forever(app));
    TestServer { addr, handle, registry, task }
}

/// An application that answers `hello` to everything and echoes POST bodies.
pub async fn echo_app(req: Request) -> Response {
    if req.method() == http::Method::POST {
        let body = req.into_body().to_bytes(usize::MAX).await;
        return match body {
            Ok(bytes) => Response::new(Body::from(bytes)),
            Err(error) => {
                let mut response = Response::new(Body::from(error.to_string()));
                *response.status_mut() = http::StatusCode::BAD_REQUEST;
                response
            }
        };
    }
    Response::new(Body::from("hello"))
}

/// A config with short deadlines, for tests.
pub fn quick_config() -> Config {
    let mut config = Config::default();
    config.access_log = false;
    config.timeouts.header_read = Duration::from_millis(500);
    config.timeouts.body_read = Duration::from_millis(500);
    config.timeouts.idle = Duration::from_secs(2);
    config.timeouts.shutdown_grace = Duration::from_secs(2);
    config
}

/// Writes `request`, then reads until the server closes the connection or `wait` passes
/// without data. Returns what was read and whether the server closed.
pub async fn exchange(addr: SocketAddr, request: &[u8], wait: Duration) -> (String, bool) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("write");
    read_for(&mut stream, wait).await
}

/// Reads until EOF (closed = true) or until `wait` passes without data.
pub async fn read_for(stream: &mut TcpStream, wait: Duration) -> (String, bool) {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout(wait, stream.read(&mut buf)).await {
            Ok(Ok(0)) => return (String::from_utf8_lossy(&out).into_owned(), true),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Ok(Err(_)) => return (String::from_utf8_lossy(&out).into_owned(), true),
            Err(_) => return (String::from_utf8_lossy(&out).into_owned(), false),
        }
    }
}

/// The status code of the first response in `text`.
pub fn status_of(text: &str) -> u16 {
    text.get(9..12).and_then(|code| code.parse().ok()).unwrap_or(0)
}
