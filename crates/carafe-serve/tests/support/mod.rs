//! Shared helpers for the integration tests: a real server on 127.0.0.1:0 and a raw
//! client that writes bytes and reads what comes back.
#![allow(dead_code, unreachable_pub)]

pub mod process;

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
    let mut server =
        TcpServer::bind("127.0.0.1:0".parse().expect("literal"), config).expect("bind");
    server.activate().expect("listen");
    let addr = server.local_addr();
    let handle = server.shutdown_handle();
    let registry = server.registry();
    let task = tokio::spawn(server.serve_forever(app));
    TestServer {
        addr,
        handle,
        registry,
        task,
    }
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
    text.get(9..12)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// The longest any single wait on the server may take before a test fails.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// How a response's body was delimited on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimited {
    /// No body (1xx, 204, 304, or an answer to `HEAD`).
    NoBody,
    /// `content-length`.
    Length,
    /// `transfer-encoding: chunked`.
    Chunked,
    /// Neither: the body ends when the connection closes.
    Close,
}

/// One response as read off the wire.
#[derive(Debug, Clone)]
pub struct Resp {
    /// The status code.
    pub status: u16,
    /// The header fields, names lowercased, in order.
    pub headers: Vec<(String, String)>,
    /// The decoded body.
    pub body: Vec<u8>,
    /// How the body was delimited.
    pub delimited: Delimited,
    /// For a chunked body, how many chunks (the last, empty one not counted).
    pub chunks: usize,
}

impl Resp {
    /// The first value of a header field.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Whether the response says `connection: close`.
    pub fn says_close(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

/// A raw HTTP/1.1 client over one connection that parses responses as they come.
pub struct Client {
    /// The connection.
    pub stream: TcpStream,
    /// Bytes read and not yet parsed.
    buf: Vec<u8>,
    /// Number of `read` calls that returned data.
    pub reads: usize,
    /// The server closed its side.
    eof: bool,
}

impl Client {
    /// Connects to `addr`.
    pub async fn connect(addr: SocketAddr) -> Client {
        let stream = tokio::time::timeout(PATIENCE, TcpStream::connect(addr))
            .await
            .expect("connect timed out")
            .expect("connect");
        Client::from_stream(stream)
    }

    /// Wraps a connected stream.
    pub fn from_stream(stream: TcpStream) -> Client {
        Client {
            stream,
            buf: Vec::new(),
            reads: 0,
            eof: false,
        }
    }

    /// Writes `bytes`.
    pub async fn send(&mut self, bytes: &[u8]) {
        tokio::time::timeout(PATIENCE, self.stream.write_all(bytes))
            .await
            .expect("write timed out")
            .expect("write");
    }

    /// Writes `bytes` and reads one response.
    pub async fn request(&mut self, bytes: &[u8]) -> Resp {
        self.send(bytes).await;
        self.response().await
    }

    /// Reads the next response to a request other than `HEAD`; panics if none comes.
    pub async fn response(&mut self) -> Resp {
        match self.read_response(false, PATIENCE).await {
            Ok(resp) => resp,
            Err(why) => panic!("no response: {why}"),
        }
    }

    /// Reads the next response to a `HEAD` request (a head without a body).
    pub async fn head_response(&mut self) -> Resp {
        match self.read_response(true, PATIENCE).await {
            Ok(resp) => resp,
            Err(why) => panic!("no response: {why}"),
        }
    }

    /// Reads one response, waiting at most `wait` for each read.
    pub async fn read_response(
        &mut self,
        head_request: bool,
        wait: Duration,
    ) -> Result<Resp, String> {
        loop {
            if let Some(resp) = parse_response(&mut self.buf, head_request, self.eof)? {
                return Ok(resp);
            }
            if self.eof {
                return Err(format!(
                    "closed with {:?} unparsed",
                    String::from_utf8_lossy(&self.buf)
                ));
            }
            if let Err(why) = self.fill(wait).await {
                if !self.eof {
                    return Err(why);
                }
            }
        }
    }

    /// Whether the server closes the connection within `wait`, sending nothing more.
    /// Bytes that do arrive are kept (see [`Client::leftover`]).
    pub async fn closed_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        while !self.eof {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if self.fill(left).await.is_err() && !self.eof {
                return false;
            }
        }
        true
    }

    /// Reads raw bytes (after an upgrade, say) until exactly `expected` has arrived, and
    /// consumes them; panics if something else arrives or nothing does within `PATIENCE`.
    pub async fn expect_raw(&mut self, expected: &[u8]) {
        while self.buf.len() < expected.len() {
            assert!(
                expected.starts_with(&self.buf),
                "expected {:?}, got {:?}",
                String::from_utf8_lossy(expected),
                self.leftover()
            );
            if let Err(why) = self.fill(PATIENCE).await {
                panic!(
                    "expected {:?}, got {:?}: {why}",
                    String::from_utf8_lossy(expected),
                    self.leftover()
                );
            }
        }
        assert_eq!(
            &self.buf[..expected.len()],
            expected,
            "expected {:?}, got {:?}",
            String::from_utf8_lossy(expected),
            self.leftover()
        );
        self.buf.drain(..expected.len());
    }

    /// Bytes received and not parsed as a response.
    pub fn leftover(&self) -> String {
        String::from_utf8_lossy(&self.buf).into_owned()
    }

    /// Reads once more into the buffer; `Err` on timeout or end of stream.
    async fn fill(&mut self, wait: Duration) -> Result<(), String> {
        let mut chunk = vec![0u8; 64 * 1024];
        match tokio::time::timeout(wait, self.stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                self.eof = true;
                Err("connection closed".to_owned())
            }
            Ok(Ok(read)) => {
                self.reads += 1;
                self.buf.extend_from_slice(&chunk[..read]);
                Ok(())
            }
            Err(_) => Err(format!("nothing arrived within {wait:?}")),
        }
    }
}

/// Parses one response off the front of `buf`, or `Ok(None)` if more bytes are needed.
fn parse_response(
    buf: &mut Vec<u8>,
    head_request: bool,
    eof: bool,
) -> Result<Option<Resp>, String> {
    let Some(head_end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let body_start = head_end + 4;
    let no_body = head_request || (100..200).contains(&status) || status == 204 || status == 304;
    let chunked = find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let (delimited, body, chunks, consumed) = if no_body {
        (Delimited::NoBody, Vec::new(), 0, body_start)
    } else if chunked {
        match decode_chunked(&buf[body_start..])? {
            Some((body, chunks, used)) => (Delimited::Chunked, body, chunks, body_start + used),
            None => return Ok(None),
        }
    } else if let Some(length) = find("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| format!("bad content-length {length:?}"))?;
        if buf.len() < body_start + length {
            return Ok(None);
        }
        (
            Delimited::Length,
            buf[body_start..body_start + length].to_vec(),
            0,
            body_start + length,
        )
    } else if eof {
        (Delimited::Close, buf[body_start..].to_vec(), 0, buf.len())
    } else {
        return Ok(None);
    };
    buf.drain(..consumed);
    Ok(Some(Resp {
        status,
        headers,
        body,
        delimited,
        chunks,
    }))
}

/// Decodes a complete chunked body: (data, number of chunks, bytes used), or `None`.
fn decode_chunked(mut rest: &[u8]) -> Result<Option<(Vec<u8>, usize, usize)>, String> {
    let total = rest.len();
    let (mut body, mut chunks) = (Vec::new(), 0);
    loop {
        let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let line = String::from_utf8_lossy(&rest[..line_end]).into_owned();
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size =
            usize::from_str_radix(size_text, 16).map_err(|_| format!("bad chunk size {line:?}"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            // No trailers are sent by the server: the empty line ends the body.
            if rest.len() < 2 {
                return Ok(None);
            }
            if &rest[..2] != b"\r\n" {
                return Err("trailers or garbage after the last chunk".to_owned());
            }
            return Ok(Some((body, chunks, total - rest.len() + 2)));
        }
        if rest.len() < size + 2 {
            return Ok(None);
        }
        if &rest[size..size + 2] != b"\r\n" {
            return Err("chunk data not followed by CRLF".to_owned());
        }
        body.extend_from_slice(&rest[..size]);
        chunks += 1;
        rest = &rest[size + 2..];
    }
}

/// Polls `condition` every 10 ms until it holds or `wait` passes; returns whether it held.
pub async fn wait_until(wait: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if condition() {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A response with `status` and a text body.
/// A `101 Switching Protocols` answer to `Upgrade: <protocol>`.
pub fn switching_protocols(protocol: &'static str) -> Response {
    let mut response = answer(101, Body::empty());
    let headers = response.headers_mut();
    headers.insert(
        http::header::UPGRADE,
        http::HeaderValue::from_static(protocol),
    );
    headers.insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("upgrade"),
    );
    response
}

pub fn answer(status: u16, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = http::StatusCode::from_u16(status).expect("valid status");
    response
}

/// A stream of byte chunks for [`Body::from_stream`], yielding one chunk per poll.
pub struct ChunkStream {
    /// Chunks still to yield, in reverse order.
    left: Vec<bytes::Bytes>,
}

impl ChunkStream {
    /// A stream of `chunks`, in order.
    pub fn new(mut chunks: Vec<bytes::Bytes>) -> Self {
        chunks.reverse();
        ChunkStream { left: chunks }
    }
}

impl futures_core::Stream for ChunkStream {
    type Item = Result<bytes::Bytes, std::io::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::task::Poll::Ready(self.left.pop().map(Ok))
    }
}

/// A body of unknown length made of `chunks`.
pub fn streamed_body<I, T>(chunks: I) -> Body
where
    I: IntoIterator<Item = T>,
    T: Into<bytes::Bytes>,
{
    Body::from_stream(ChunkStream::new(
        chunks.into_iter().map(Into::into).collect(),
    ))
}

/// Reads a request body frame by frame: the data, then `|name=value` per trailer field.
pub async fn body_with_trailers(mut body: Body) -> Result<String, carafe_serve::Error> {
    use http_body_util::BodyExt;
    let mut out = Vec::new();
    let mut trailers = String::new();
    while let Some(frame) = body.frame().await {
        match frame?.into_data() {
            Ok(data) => out.extend_from_slice(&data),
            Err(frame) => {
                for (name, value) in frame.into_trailers().iter().flatten() {
                    trailers.push_str(&format!("|{name}={}", value.to_str().unwrap_or("?")));
                }
            }
        }
    }
    Ok(format!("{}{trailers}", String::from_utf8_lossy(&out)))
}
