//! Shared helpers: an Engine.IO server on 127.0.0.1:0 whose handler records every event,
//! a raw HTTP/1.1 client, and a WebSocket client.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use carafe_engineio::{Config, DisconnectReason, EngineIo, Handler, Socket, Str};
use carafe_serve::{Body, Request, Response, TcpServer};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// The longest any wait in a test may take.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// What the handler saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Connect(String),
    Message(String, String),
    Binary(String, Vec<u8>),
    Disconnect(String, DisconnectReason),
}

/// Records events and echoes messages back.
pub struct Recorder {
    events: mpsc::UnboundedSender<Event>,
    echo: bool,
}

impl Handler for Recorder {
    fn on_connect(&self, socket: &Socket) {
        let _ = self.events.send(Event::Connect(socket.sid().to_string()));
    }
    fn on_message(&self, socket: &Socket, text: Str) {
        let _ = self
            .events
            .send(Event::Message(socket.sid().to_string(), text.to_string()));
        if self.echo {
            let _ = socket.send(&text);
        }
    }
    fn on_binary(&self, socket: &Socket, data: Bytes) {
        let _ = self
            .events
            .send(Event::Binary(socket.sid().to_string(), data.to_vec()));
        if self.echo {
            let _ = socket.send_binary(data);
        }
    }
    fn on_disconnect(&self, socket: &Socket, reason: DisconnectReason) {
        let _ = self
            .events
            .send(Event::Disconnect(socket.sid().to_string(), reason));
    }
}

/// A running server and the handler's event stream.
pub struct Server {
    pub addr: SocketAddr,
    pub engine: EngineIo,
    pub events: mpsc::UnboundedReceiver<Event>,
}

/// A quick heartbeat for tests: ping every 300 ms, 200 ms to answer.
pub fn test_config() -> Config {
    let mut config = Config::default();
    config.ping_interval = Duration::from_millis(300);
    config.ping_timeout = Duration::from_millis(200);
    config
}

/// Starts an echoing server with `config`, mounted in front of an app that answers
/// `inner` to every other path.
pub async fn start(config: Config) -> Server {
    let (tx, events) = mpsc::unbounded_channel();
    let engine = EngineIo::new(
        config,
        Recorder {
            events: tx,
            echo: true,
        },
    );
    let app = engine
        .clone()
        .mount(|_req: Request| async { Response::new(Body::from("inner")) });
    let mut serve_config = carafe_serve::Config::default();
    serve_config.access_log = false;
    let mut server =
        TcpServer::bind("127.0.0.1:0".parse().expect("literal"), serve_config).expect("bind");
    server.activate().expect("listen");
    let addr = server.local_addr();
    tokio::spawn(server.serve_forever(app));
    Server {
        addr,
        engine,
        events,
    }
}

impl Server {
    /// The next event, failing the test if none comes in time.
    pub async fn event(&mut self) -> Event {
        tokio::time::timeout(PATIENCE, self.events.recv())
            .await
            .expect("an event in time")
            .expect("the handler is alive")
    }

    /// Opens a polling session and returns its sid (and consumes the connect event).
    pub async fn open_polling(&mut self) -> String {
        let answer = get(self.addr, "/engine.io/?EIO=4&transport=polling", &[]).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        let sid = open_sid(&answer.text());
        assert_eq!(self.event().await, Event::Connect(sid.clone()));
        sid
    }

    pub fn url(&self, query: &str) -> String {
        format!("/engine.io/?EIO=4&{query}")
    }
}

/// The sid of an `open` packet.
pub fn open_sid(packet: &str) -> String {
    assert!(packet.starts_with('0'), "not an open packet: {packet:?}");
    let json: serde_json::Value = serde_json::from_str(&packet[1..]).expect("open json");
    json["sid"].as_str().expect("sid").to_owned()
}

/// One HTTP answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request with `Connection: close` and reads the whole answer.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let mut head = format!("{method} {target} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if method == "POST" || !body.is_empty() {
        head.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("write head");
    // A server may answer (413, say) before reading the body; a failed write is fine.
    let _ = stream.write_all(body).await;
    let mut raw = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut raw))
        .await
        .expect("an answer in time")
        .ok();
    parse_answer(&raw)
}

fn parse_answer(raw: &[u8]) -> Answer {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no head in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.get(9..12))
        .and_then(|code| code.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked { dechunk(&body) } else { body };
    Answer {
        status,
        headers,
        body,
    }
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = body.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&body[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&body[end + 2..end + 2 + size]);
        body = &body[end + 2 + size + 2..];
    }
}

pub async fn get(addr: SocketAddr, target: &str, headers: &[(&str, &str)]) -> Answer {
    request(addr, "GET", target, headers, b"").await
}

pub async fn post(addr: SocketAddr, target: &str, body: &[u8]) -> Answer {
    request(addr, "POST", target, &[], body).await
}

/// A WebSocket client.
pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

pub async fn ws_connect(addr: SocketAddr, query: &str) -> Ws {
    let url = format!("ws://{addr}/engine.io/?EIO=4&{query}");
    let (ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("ws connect");
    ws
}

/// The next text or binary frame, or `None` when the connection closes.
pub async fn ws_next(ws: &mut Ws) -> Option<Message> {
    loop {
        let item = tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("a frame in time");
        match item {
            Some(Ok(Message::Text(text))) => return Some(Message::Text(text)),
            Some(Ok(Message::Binary(data))) => return Some(Message::Binary(data)),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => continue,
        }
    }
}

pub async fn ws_text(ws: &mut Ws) -> String {
    match ws_next(ws).await {
        Some(Message::Text(text)) => text.to_string(),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

pub async fn ws_send(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text)).await.expect("ws send");
}
