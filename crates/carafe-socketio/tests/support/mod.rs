//! Shared helpers for the glue's integration tests: any [`Application`] served on
//! 127.0.0.1:0 and a raw HTTP/1.1 client (one request per connection), for the
//! long-polling side of Engine.IO.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::Duration;

use carafe_serve::Application;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// How long any one exchange may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// Serves `application` on an ephemeral loopback port, without access log, until the
/// test's runtime ends.
pub fn serve<A: Application>(application: A) -> SocketAddr {
    let mut config = carafe_serve::Config::default();
    config.access_log = false;
    let mut server = carafe_serve::TcpServer::bind("127.0.0.1:0".parse().expect("literal"), config)
        .expect("bind");
    server.activate().expect("listen");
    let addr = server.local_addr();
    tokio::spawn(server.serve_forever(application));
    addr
}

/// One HTTP/1.1 request with `Connection: close` and the extra `headers`; the whole
/// reply (status line, headers and body).
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> String {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let extra: String = headers
            .iter()
            .map(|(name, value)| format!("{name}: {value}\r\n"))
            .collect();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{extra}Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.expect("write");
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).await.expect("read");
        String::from_utf8_lossy(&reply).into_owned()
    };
    tokio::time::timeout(PATIENCE, exchange)
        .await
        .expect("an answer in time")
}

/// The status code of a reply.
pub fn status_of(reply: &str) -> u16 {
    reply
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("a status line: {reply}"))
}

/// The body of a reply.
pub fn body_of(reply: &str) -> &str {
    reply.split_once("\r\n\r\n").map_or("", |(_, body)| body)
}

/// The value of the header `name` (case-insensitive) in a reply.
pub fn header_of<'a>(reply: &'a str, name: &str) -> Option<&'a str> {
    let head = reply.split_once("\r\n\r\n").map_or(reply, |(head, _)| head);
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

/// Opens a long-polling session; its id.
pub async fn open_polling(addr: SocketAddr, query: &str, headers: &[(&str, &str)]) -> String {
    let open = http(
        addr,
        "GET",
        &format!("/socket.io/?EIO=4&transport=polling{query}"),
        headers,
        "",
    )
    .await;
    let open = body_of(&open);
    assert!(open.starts_with("0{"), "an open packet: {open}");
    let handshake: serde_json::Value = serde_json::from_str(&open[1..]).expect("json");
    handshake["sid"].as_str().expect("sid").to_owned()
}

/// The next disconnect a test server's handler reported on `rx`.
pub async fn next_reason(rx: &mut mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(PATIENCE, rx.recv())
        .await
        .expect("a disconnect in time")
        .expect("the server lives")
}
