//! Shared helpers for the integration tests: an [`App`] served by a real
//! `carafe_serve::TcpServer` on 127.0.0.1:0 (plain or TLS), a raw HTTP/1.1 client that
//! writes bytes to a socket and parses what comes back, and curl as a client ([`curl`]).
#![allow(dead_code, unreachable_pub)]

pub mod curl;

use std::net::SocketAddr;
use std::time::Duration;

use carafe::App;
use carafe_serve::{Config, ShutdownHandle, TcpServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An app served in the test's runtime; stopped when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    handle: ShutdownHandle,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

/// A server bound and listening on an ephemeral loopback port, without access log.
fn listening_server() -> TcpServer {
    let mut config = Config::default();
    config.access_log = false;
    let mut server =
        TcpServer::bind("127.0.0.1:0".parse().expect("literal address"), config).expect("bind");
    server.activate().expect("listen");
    server
}

/// Serves `app` on an ephemeral loopback port.
pub async fn start_server(app: App) -> TestServer {
    let server = listening_server();
    let addr = server.local_addr();
    let handle = server.shutdown_handle();
    tokio::spawn(server.serve_forever(app));
    TestServer { addr, handle }
}

/// A response as read off the wire.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `method target` with `headers` and `body` (framed by `content-length`) on a new
/// connection marked `connection: close`, and reads the reply.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut head = format!("{method} {target} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        head.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut raw = head.into_bytes();
    raw.extend_from_slice(body);
    send_raw(addr, &raw, method == "HEAD").await
}

/// Writes `raw` on a new connection and reads until the server closes it.
pub async fn send_raw(addr: SocketAddr, raw: &[u8], head_request: bool) -> Reply {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(raw).await.expect("write the request");
    let mut received = Vec::new();
    let read = stream.read_to_end(&mut received);
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("reply within 10 s")
        .expect("read the reply");
    parse_reply(&received, head_request)
}

/// Parses one response: status line, headers, and a body framed by `content-length`,
/// chunked coding, or the end of the connection.
pub fn parse_reply(raw: &[u8], head_request: bool) -> Reply {
    let split = raw
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .expect("a complete head");
    let head = std::str::from_utf8(&raw[..split]).expect("an ASCII head");
    let rest = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("a status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("a status code");
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    let mut reply = Reply {
        status,
        headers,
        body: Vec::new(),
    };
    if head_request {
        return reply;
    }
    reply.body = if reply
        .header("transfer-encoding")
        .is_some_and(|coding| coding.contains("chunked"))
    {
        decode_chunked(rest)
    } else if let Some(length) = reply
        .header("content-length")
        .and_then(|value| value.parse::<usize>().ok())
    {
        rest[..length.min(rest.len())].to_vec()
    } else {
        rest.to_vec()
    };
    reply
}

fn decode_chunked(mut rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|window| window == b"\r\n")
            .expect("a chunk-size line");
        let size_text = std::str::from_utf8(&rest[..line_end]).expect("an ASCII chunk size");
        let size_text = size_text.split(';').next().unwrap_or_default();
        let size = usize::from_str_radix(size_text.trim(), 16).expect("a hex chunk size");
        rest = &rest[line_end + 2..];
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

/// An app served over TLS with an adhoc certificate; stopped when dropped.
pub struct TlsTestServer {
    pub addr: SocketAddr,
    /// The adhoc certificate's PEM file, for `curl --cacert`.
    pub cert: std::path::PathBuf,
    handle: ShutdownHandle,
}

impl Drop for TlsTestServer {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

/// Serves `app` over HTTPS (adhoc certificate) on an ephemeral loopback port.
pub async fn start_tls_server(app: App) -> TlsTestServer {
    let mut server = listening_server();
    server
        .tls(&carafe_serve::TlsConfig::adhoc())
        .expect("an adhoc certificate");
    let info = TlsTestServer {
        addr: server.local_addr(),
        cert: server
            .adhoc_cert_path()
            .expect("the adhoc certificate's file"),
        handle: server.shutdown_handle(),
    };
    tokio::spawn(server.serve_forever(app));
    info
}
