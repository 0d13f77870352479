//! An open WebSocket: receiving (with automatic pongs, the close handshake and the
//! server's shutdown), sending, and splitting into halves for two tasks.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::{FutureExt, Shared};
use tokio::sync::Mutex;

use super::deflate::Agreed;
use super::{close_code, codec, CloseFrame, Message, WebSocketConfig, WebSocketError};
use crate::upgrade::OnUpgrade;

/// How long [`WebSocket::close`] waits for the peer's close frame.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// The most bytes of a close reason (RFC 6455 §5.5: control payloads are at most 125
/// bytes, two of which are the code).
const MAX_REASON: usize = 123;

/// A future that resolves when the server begins a graceful shutdown; clones share it.
type ShutdownSignal = Shared<Pin<Box<dyn Future<Output = ()> + Send>>>;

/// A handshake answered with `101`, waiting for the server to hand over the connection.
///
/// Returned by [`accept`](super::accept) together with the response; await
/// [`wait`](Self::wait) in a task of its own.
pub struct PendingWebSocket {
    on_upgrade: OnUpgrade,
    config: WebSocketConfig,
    /// permessage-deflate, when the handshake agreed on it.
    deflate: Option<Agreed>,
}

impl fmt::Debug for PendingWebSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingWebSocket")
            .field("config", &self.config)
            .field("permessage_deflate", &self.deflate.is_some())
            .finish_non_exhaustive()
    }
}

impl PendingWebSocket {
    pub(super) fn new(
        on_upgrade: OnUpgrade,
        config: WebSocketConfig,
        deflate: Option<Agreed>,
    ) -> Self {
        PendingWebSocket {
            on_upgrade,
            config,
            deflate,
        }
    }

    /// Resolves to the open [`WebSocket`] once the server has sent the `101` answer; fails
    /// if the connection ended first or the application answered something else.
    ///
    /// ```no_run
    /// # async fn run(pending: carafe_serve::websocket::PendingWebSocket) {
    /// if let Ok(mut socket) = pending.wait().await {
    ///     while let Some(Ok(message)) = socket.recv().await {
    ///         // ...
    /// #       drop(message);
    ///     }
    /// }
    /// # }
    /// ```
    pub async fn wait(self) -> Result<WebSocket, WebSocketError> {
        let upgraded = self.on_upgrade.await.map_err(WebSocketError::Upgrade)?;
        let peer_addr = upgraded.peer_addr();
        let shutdown: Pin<Box<dyn Future<Output = ()> + Send>> =
            Box::pin(upgraded.shutdown_signal());
        let shutdown = shutdown.shared();
        let (reader, writer) = codec::start(upgraded, &self.config, self.deflate);
        let writer = WebSocketWriter {
            shared: Arc::new(WriterShared {
                sink: Mutex::new(writer),
                peer_addr,
                shutdown: shutdown.clone(),
            }),
        };
        let reader = WebSocketReader {
            reader,
            writer: writer.clone(),
            shutdown: self.config.close_on_shutdown.then_some(shutdown),
            state: ReadState::Open,
        };
        Ok(WebSocket { reader, writer })
    }
}

/// An open WebSocket connection, on the server's side.
///
/// [`recv`](Self::recv) answers pings and close frames itself; [`split`](Self::split)
/// gives a reader and a writer for two tasks.
///
/// ```no_run
/// use carafe_serve::websocket::{Message, WebSocket};
///
/// async fn echo(mut socket: WebSocket) {
///     while let Some(Ok(message)) = socket.recv().await {
///         if matches!(message, Message::Text(_) | Message::Binary(_))
///             && socket.send(message).await.is_err()
///         {
///             break;
///         }
///     }
/// }
/// ```
#[derive(Debug)]
pub struct WebSocket {
    reader: WebSocketReader,
    writer: WebSocketWriter,
}

impl WebSocket {
    /// The next message; `None` once the connection is closed. See
    /// [`WebSocketReader::recv`].
    pub async fn recv(&mut self) -> Option<Result<Message, WebSocketError>> {
        self.reader.recv().await
    }

    /// Sends one message and flushes it. See [`WebSocketWriter::send`].
    pub async fn send(&mut self, message: Message) -> Result<(), WebSocketError> {
        self.writer.send(message).await
    }

    /// Sends a close frame, then reads (and drops) what the peer still sends until its
    /// close frame arrives or 5 seconds pass, so the close handshake completes.
    pub async fn close(&mut self, code: u16, reason: &str) -> Result<(), WebSocketError> {
        self.writer.close(code, reason).await?;
        self.reader.state = ReadState::Closing;
        let drain = async { while self.reader.recv().await.is_some() {} };
        let _ = tokio::time::timeout(CLOSE_WAIT, drain).await;
        Ok(())
    }

    /// A reader and a writer that two tasks can use at once. Pongs for pings the reader
    /// sees still go out, through the writer's connection.
    ///
    /// ```no_run
    /// # async fn run(socket: carafe_serve::websocket::WebSocket) {
    /// use carafe_serve::websocket::Message;
    ///
    /// let (mut reader, mut writer) = socket.split();
    /// tokio::spawn(async move {
    ///     let _ = writer.send(Message::text("tick")).await;
    /// });
    /// while let Some(Ok(message)) = reader.recv().await {
    /// #   drop(message);
    /// }
    /// # }
    /// ```
    pub fn split(self) -> (WebSocketReader, WebSocketWriter) {
        (self.reader, self.writer)
    }

    /// The client's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.writer.peer_addr()
    }

    /// Resolves when the server begins a graceful shutdown (at once if it already has).
    pub fn shutdown_signal(&self) -> impl Future<Output = ()> + Send + 'static {
        self.writer.shutdown_signal()
    }
}

/// Where the reader is in the close handshake (RFC 6455 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadState {
    /// Messages flow both ways.
    Open,
    /// We sent a close frame and wait for the peer's.
    Closing,
    /// The connection is over: `recv` returns `None`.
    Closed,
}

/// What woke [`WebSocketReader::recv`] while it waited for bytes.
enum Event {
    Read(std::io::Result<usize>),
    Shutdown,
}

/// The receiving half of a [`WebSocket`].
pub struct WebSocketReader {
    reader: codec::Reader,
    /// Sends close frames and flushes the codec's automatic answers.
    writer: WebSocketWriter,
    /// Watched while open when `close_on_shutdown` is set; taken once it fires.
    shutdown: Option<ShutdownSignal>,
    state: ReadState,
}

impl fmt::Debug for WebSocketReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocketReader")
            .field("peer_addr", &self.writer.peer_addr())
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl WebSocketReader {
    /// The next message; `None` once the connection is closed.
    ///
    /// Pings are answered with pongs before they are returned. A close frame from the
    /// peer is answered and returned as [`Message::Close`], after which `recv` returns
    /// `None`. When the peer breaks the protocol, the close frame that
    /// [`WebSocketError::close_code`] names is sent and the error returned. When the
    /// server begins a graceful shutdown, a close 1001 (going away) goes out and `recv`
    /// returns the peer's answer.
    ///
    /// Cancel-safe: dropped before it resolves (say in `tokio::select!`), it loses no text
    /// or binary message; bytes already read stay buffered for the next call.
    pub async fn recv(&mut self) -> Option<Result<Message, WebSocketError>> {
        loop {
            if self.state == ReadState::Closed {
                return None;
            }
            match self.reader.decode() {
                Ok(Some(message)) => return Some(Ok(self.on_message(message).await)),
                Ok(None) => {}
                Err(error) => return Some(Err(self.on_error(error).await)),
            }
            let event = match (&mut self.shutdown, self.state) {
                (Some(signal), ReadState::Open) => tokio::select! {
                    biased;
                    read = self.reader.fill() => Event::Read(read),
                    () = signal => Event::Shutdown,
                },
                _ => Event::Read(self.reader.fill().await),
            };
            match event {
                Event::Read(Ok(0)) => {
                    self.state = ReadState::Closed;
                    return None;
                }
                Event::Read(Ok(_)) => {}
                Event::Read(Err(error)) => {
                    self.state = ReadState::Closed;
                    return Some(Err(WebSocketError::Io(error)));
                }
                Event::Shutdown => self.going_away().await,
            }
        }
    }

    /// The client's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.writer.peer_addr()
    }

    async fn going_away(&mut self) {
        self.shutdown = None;
        self.state = ReadState::Closing;
        let sent = self
            .writer
            .close(close_code::GOING_AWAY, "server shutting down")
            .await;
        if sent.is_err() {
            self.state = ReadState::Closed;
        }
    }

    /// Answers pings and close frames before handing them on.
    async fn on_message(&mut self, message: Message) -> Message {
        match &message {
            Message::Ping(data) => {
                // Fails only once we have sent a close frame, when no pong is due.
                let _ = self.writer.send(Message::Pong(data.clone())).await;
            }
            Message::Close(frame) => {
                let was_open = self.state == ReadState::Open;
                self.state = ReadState::Closed;
                if was_open {
                    // Echo the code (RFC 6455 §5.5.1), without the reason.
                    let reply = frame.as_ref().map(|frame| CloseFrame::new(frame.code, ""));
                    let _ = self.writer.send(Message::Close(reply)).await;
                }
            }
            _ => {}
        }
        message
    }

    /// Closes with the code the error names, if it is the peer's fault.
    async fn on_error(&mut self, error: WebSocketError) -> WebSocketError {
        self.state = ReadState::Closed;
        if let Some(code) = error.close_code() {
            let _ = self.writer.close(code, &error.to_string()).await;
        }
        error
    }
}

/// The sending half of a [`WebSocket`]. Clones send on the same connection, one message
/// at a time.
#[derive(Clone)]
pub struct WebSocketWriter {
    shared: Arc<WriterShared>,
}

struct WriterShared {
    /// The codec's sending half; the lock keeps frames of two messages from interleaving.
    sink: Mutex<codec::Writer>,
    peer_addr: SocketAddr,
    shutdown: ShutdownSignal,
}

impl fmt::Debug for WebSocketWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocketWriter")
            .field("peer_addr", &self.shared.peer_addr)
            .finish_non_exhaustive()
    }
}

impl WebSocketWriter {
    /// Sends one message and flushes it. Fails with [`WebSocketError::Closed`] once a
    /// close frame has been sent or received.
    pub async fn send(&self, message: Message) -> Result<(), WebSocketError> {
        let mut sink = self.shared.sink.lock().await;
        sink.write(message).await
    }

    /// Sends several messages in order, nothing of another sender between them, with as
    /// few writes to the connection as possible: small messages are framed behind each
    /// other and written together (a broadcast that queued many messages for one client
    /// costs one system call, not one per message). Fails with
    /// [`WebSocketError::Closed`] once a close frame has been sent or received; messages
    /// after a close frame in the batch are not sent.
    ///
    /// ```no_run
    /// # async fn run(writer: carafe_serve::websocket::WebSocketWriter) {
    /// use carafe_serve::websocket::Message;
    ///
    /// let ticks = (0..20).map(|i| Message::text(format!("tick {i}")));
    /// let _ = writer.send_all(ticks).await;
    /// # }
    /// ```
    pub async fn send_all(
        &self,
        messages: impl IntoIterator<Item = Message>,
    ) -> Result<(), WebSocketError> {
        let mut sink = self.shared.sink.lock().await;
        sink.write_batch(messages).await
    }

    /// Sends a close frame with `code` and `reason` (cut to 123 bytes). The reader then
    /// returns the peer's close frame and ends.
    pub async fn close(&self, code: u16, reason: &str) -> Result<(), WebSocketError> {
        let frame = CloseFrame::new(code, truncate(reason, MAX_REASON));
        self.send(Message::Close(Some(frame))).await
    }

    /// The client's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.shared.peer_addr
    }

    /// Resolves when the server begins a graceful shutdown (at once if it already has).
    pub fn shutdown_signal(&self) -> impl Future<Output = ()> + Send + 'static {
        self.shared.shutdown.clone()
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
