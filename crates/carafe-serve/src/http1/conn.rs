//! `Connection`: one client's socket with its read and write buffers and its deadline.
//!
//! Reads go into `read_buf` and are parsed in place; responses are encoded into
//! `write_buf` and flushed only when the server is about to wait for the client, so a batch
//! of pipelined requests is answered with one `write`. Every wait on the client has a
//! deadline (header read, body read, idle, write), all served by one timer per connection
//! that is re-armed lazily: moving the deadline is a store, not a timer-wheel operation.
//!
//! The stream is generic ([`Io`]): a plain `TcpStream`, or TLS over one. Each kind gets
//! its own compiled copy of the connection code, so plain TCP pays nothing for TLS.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};

use super::parse::{HeadParser, RequestHead};
use crate::config::Config;
use crate::error::{Deadline, Error};
use crate::registry::ConnStats;

/// The smallest and largest room made in `read_buf` before a read. The size adapts:
/// it doubles after a read that filled the room (a body is streaming in) and halves after
/// reads that used little of it, so a connection sending small requests holds little.
const READ_MIN: usize = 2 * 1024;
const READ_MAX: usize = 64 * 1024;

/// Responses buffered past this size are flushed without waiting for the batch to end.
pub(crate) const FLUSH_THRESHOLD: usize = 64 * 1024;

/// What a wait for the client's bytes ended with.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ReadOutcome {
    /// This many bytes arrived.
    Data(usize),
    /// The client closed its side.
    Eof,
    /// The socket has bytes to read (after `Wait::Readable`).
    Readable,
    /// A graceful shutdown began while the connection was idle.
    Shutdown,
}

/// What a wait for the client does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// Read into `read_buf`.
    Fill,
    /// Only wait until the socket is readable; no buffer is needed.
    Readable,
}

/// How long an idle keep-alive connection keeps its buffers.
const WARM_IDLE: std::time::Duration = std::time::Duration::from_secs(1);

/// A byte stream an HTTP/1.1 connection runs on: a TCP socket, or TLS over one.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send + Sync + 'static {
    /// Whether written bytes may wait inside the stream until it is flushed (TLS
    /// records); `false` lets the compiler drop the flush calls for plain TCP.
    const BUFFERS_WRITES: bool;

    /// Waits until a read would make progress, without holding a buffer. Only called
    /// when a read has just come back empty-handed, so nothing is left decoded inside the
    /// stream.
    fn readable(&self) -> impl Future<Output = std::io::Result<()>> + Send;

    /// Writes what the stream takes now, without waiting; `WouldBlock` sends the caller
    /// to the waiting path.
    fn try_write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = buf;
        Err(std::io::ErrorKind::WouldBlock.into())
    }
}

impl Io for TcpStream {
    const BUFFERS_WRITES: bool = false;

    fn readable(&self) -> impl Future<Output = std::io::Result<()>> + Send {
        TcpStream::readable(self)
    }

    fn try_write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        TcpStream::try_write(self, buf)
    }
}

/// Reads into `buf` (`Some(bytes read)`), or waits for readability (`None`).
async fn fill_or_wait<S: Io>(
    stream: &mut S,
    buf: &mut BytesMut,
    wait: Wait,
) -> std::io::Result<Option<usize>> {
    match wait {
        Wait::Fill => stream.read_buf(buf).await.map(Some),
        Wait::Readable => stream.readable().await.map(|()| None),
    }
}

/// One client's connection: the stream and the [`Core`] (reachable through `Deref`).
pub(crate) struct Connection<S> {
    /// The socket, or the TLS stream over it.
    pub(crate) stream: S,
    /// Everything else.
    core: Core,
}

/// The part of a connection that does not depend on its stream: buffers, parser,
/// settings, counters, timer. Code that only touches these (encoding a response into the
/// write buffer, say) takes a `&mut Core`, so it is compiled once in this crate rather
/// than once per stream kind in the application's crate, where calls into this crate
/// could not be inlined.
pub(crate) struct Core {
    /// Bytes read and not yet parsed.
    pub(crate) read_buf: BytesMut,
    /// Encoded response bytes not yet written.
    pub(crate) write_buf: BytesMut,
    /// Incremental state of the request head being read.
    parser: HeadParser,
    /// How much room the next read gets (between `READ_MIN` and `READ_MAX`).
    read_size: usize,
    /// The registry entry's counters.
    pub(crate) stats: Arc<ConnStats>,
    /// The server's settings.
    pub(crate) config: Arc<Config>,
    /// The one timer, armed at or before the current deadline.
    timer: Pin<Box<Sleep>>,
    /// Becomes `true` when a graceful shutdown begins.
    pub(crate) shutdown: watch::Receiver<bool>,
    /// Resolves when a graceful shutdown begins. Created once and polled by every idle
    /// read, so waiting for a request does not register a new waiter each time.
    stopping: Pin<Box<dyn Future<Output = ()> + Send>>,
    /// `stopping` has completed (and must not be polled again).
    stopped: bool,
}

impl<S: Io> Connection<S> {
    pub(crate) fn new(
        stream: S,
        stats: Arc<ConnStats>,
        config: Arc<Config>,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let timer = Box::pin(tokio::time::sleep_until(
            Instant::now() + config.timeouts.idle,
        ));
        let mut watch = shutdown.clone();
        let stopping = Box::pin(async move {
            // An error means the server is gone, which is a shutdown too.
            let _ = watch.wait_for(|stopping| *stopping).await;
        });
        let core = Core {
            read_buf: BytesMut::new(),
            write_buf: BytesMut::new(),
            read_size: READ_MIN,
            parser: HeadParser::default(),
            stats,
            config,
            timer,
            shutdown,
            stopping,
            stopped: false,
        };
        Connection { stream, core }
    }

    /// Reads the next request head. `Ok(None)` means the connection should close quietly:
    /// the client left between requests, the idle deadline passed, or the server is
    /// shutting down and no request had begun.
    pub(crate) async fn read_head(&mut self, first: bool) -> Result<Option<RequestHead>, Error> {
        // The header deadline runs from the accept for a new connection and from the
        // first byte of the request on a reused one.
        let mut head_deadline =
            first.then(|| Instant::now() + self.core.config.timeouts.header_read);
        loop {
            if !self.core.read_buf.is_empty() {
                if let Some(head) = self
                    .core
                    .parser
                    .parse(&mut self.core.read_buf, &self.core.config.limits)?
                {
                    return Ok(Some(head));
                }
            }
            self.flush().await?;
            let outcome = match head_deadline {
                Some(deadline) => {
                    // A connection accepted before the shutdown began gets its first
                    // request answered (with `connection: close`): its client has sent,
                    // or is sending, a request, and closing it unanswered would fail a
                    // request that the server accepted (a reloader's old child drains
                    // this way while the new child takes the queue).
                    let watch_shutdown = !first && self.core.read_buf.is_empty();
                    self.read_more(deadline, Deadline::HeaderRead, watch_shutdown, Wait::Fill)
                        .await
                }
                None => self.wait_idle().await,
            };
            match outcome {
                Ok(ReadOutcome::Data(_) | ReadOutcome::Readable) => {}
                Ok(ReadOutcome::Eof) if self.core.read_buf.is_empty() => return Ok(None),
                Ok(ReadOutcome::Eof) => return Err(Error::IncompleteMessage),
                Ok(ReadOutcome::Shutdown) => return Ok(None),
                Err(Error::Timeout(Deadline::Idle)) => return Ok(None),
                Err(Error::Timeout(Deadline::HeaderRead)) if self.core.read_buf.is_empty() => {
                    return Ok(None)
                }
                Err(error) => return Err(error),
            }
            head_deadline
                .get_or_insert_with(|| Instant::now() + self.core.config.timeouts.header_read);
        }
    }

    /// Reads more body bytes, with the body deadline.
    pub(crate) async fn read_body(&mut self) -> Result<(), Error> {
        // Whatever we owe the client (`100 Continue`, a response head) goes out before we
        // wait for it.
        self.flush().await?;
        let deadline = Instant::now() + self.core.config.timeouts.body_read;
        match self
            .read_more(deadline, Deadline::BodyRead, false, Wait::Fill)
            .await?
        {
            ReadOutcome::Data(_) | ReadOutcome::Readable => Ok(()),
            ReadOutcome::Eof | ReadOutcome::Shutdown => Err(Error::IncompleteMessage),
        }
    }

    /// Waits between requests. For a short while the connection keeps its buffers, as the
    /// next request usually follows quickly; after that it gives them back and waits for
    /// the socket to become readable without holding memory, as nginx does, so idle
    /// keep-alive connections cost little.
    async fn wait_idle(&mut self) -> Result<ReadOutcome, Error> {
        let now = Instant::now();
        let deadline = now + self.core.config.timeouts.idle;
        let warm = (now + WARM_IDLE).min(deadline);
        match self.read_more(warm, Deadline::Idle, true, Wait::Fill).await {
            Err(Error::Timeout(Deadline::Idle)) if warm < deadline => {}
            outcome => return outcome,
        }
        if self.core.write_buf.is_empty() {
            self.core.write_buf = BytesMut::new();
        }
        self.core.read_buf = BytesMut::new();
        self.core.parser.release();
        self.read_more(deadline, Deadline::Idle, true, Wait::Readable)
            .await
    }

    /// Waits for bytes from the client (or, with `Wait::Readable`, for the socket to have
    /// some) until `deadline`.
    async fn read_more(
        &mut self,
        deadline: Instant,
        which: Deadline,
        watch_shutdown: bool,
        wait: Wait,
    ) -> Result<ReadOutcome, Error> {
        if wait == Wait::Fill {
            self.core.read_buf.reserve(self.core.read_size);
        }
        let room = self.core.read_buf.capacity() - self.core.read_buf.len();
        if self.core.timer.deadline() > deadline {
            self.core.timer.as_mut().reset(deadline);
        }
        loop {
            tokio::select! {
                biased;
                read = fill_or_wait(&mut self.stream, &mut self.core.read_buf, wait) => {
                    let Some(read) = read? else {
                        return Ok(ReadOutcome::Readable);
                    };
                    self.core.stats.add_in(read);
                    self.core.adapt_read_size(read, room);
                    return Ok(if read == 0 { ReadOutcome::Eof } else { ReadOutcome::Data(read) });
                }
                () = &mut self.core.timer => {
                    if Instant::now() >= deadline {
                        return Err(Error::Timeout(which));
                    }
                    // The timer was armed for an older, earlier deadline.
                    self.core.timer.as_mut().reset(deadline);
                }
                () = &mut self.core.stopping, if watch_shutdown && !self.core.stopped => {
                    self.core.stopped = true;
                    return Ok(ReadOutcome::Shutdown);
                }
            }
        }
    }

    /// Writes everything buffered. Cancel-safe: what was written is removed from the
    /// buffer, what was not stays for the next flush.
    pub(crate) async fn flush(&mut self) -> Result<(), Error> {
        if self.core.write_buf.is_empty() {
            if S::BUFFERS_WRITES {
                // A cancelled flush may have left records inside the stream.
                let deadline = Instant::now() + self.core.config.timeouts.idle;
                return self.flush_stream(deadline).await;
            }
            return Ok(());
        }
        // Usually the socket takes everything at once, and no deadline is needed.
        match self.stream.try_write(&self.core.write_buf) {
            Ok(0) => return Err(Error::Io(std::io::ErrorKind::WriteZero.into())),
            Ok(written) => {
                self.core.write_buf.advance(written);
                self.core.stats.add_out(written);
                if self.core.write_buf.is_empty() && !S::BUFFERS_WRITES {
                    return Ok(());
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(error) => return Err(error.into()),
        }
        let deadline = Instant::now() + self.core.config.timeouts.idle;
        if self.core.timer.deadline() > deadline {
            self.core.timer.as_mut().reset(deadline);
        }
        while !self.core.write_buf.is_empty() {
            tokio::select! {
                biased;
                written = self.stream.write(&self.core.write_buf) => {
                    let written = written?;
                    if written == 0 {
                        return Err(Error::Io(std::io::ErrorKind::WriteZero.into()));
                    }
                    self.core.write_buf.advance(written);
                    self.core.stats.add_out(written);
                }
                () = &mut self.core.timer => {
                    if Instant::now() >= deadline {
                        return Err(Error::Timeout(Deadline::Idle));
                    }
                    self.core.timer.as_mut().reset(deadline);
                }
            }
        }
        if S::BUFFERS_WRITES {
            self.flush_stream(deadline).await?;
        }
        Ok(())
    }

    /// Pushes out what the stream itself holds (a TLS stream's encrypted records).
    async fn flush_stream(&mut self, deadline: Instant) -> Result<(), Error> {
        tokio::time::timeout_at(deadline, self.stream.flush())
            .await
            .map_err(|_| Error::Timeout(Deadline::Idle))??;
        Ok(())
    }

    /// Writes a large buffer without copying it into `write_buf` first.
    pub(crate) async fn write_direct(&mut self, data: &[u8]) -> Result<(), Error> {
        self.flush().await?;
        let deadline = Instant::now() + self.core.config.timeouts.idle;
        tokio::time::timeout_at(deadline, self.stream.write_all(data))
            .await
            .map_err(|_| Error::Timeout(Deadline::Idle))??;
        self.core.stats.add_out(data.len());
        if S::BUFFERS_WRITES {
            self.flush_stream(deadline).await?;
        }
        Ok(())
    }

    /// Flushes, half-closes, and reads (discarding) what the client still sends, up to a
    /// bound, so it sees our last answer instead of a reset. RFC 9112 §9.6.
    pub(crate) async fn linger_close(mut self) {
        if self.flush().await.is_err() {
            return;
        }
        let _ = self.stream.shutdown().await;
        let max = self.core.config.limits.max_drain_bytes;
        let deadline = Instant::now() + std::time::Duration::from_secs(2);
        let mut discarded = 0u64;
        while discarded <= max {
            self.core.read_buf.clear();
            match tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.core.read_buf))
                .await
            {
                Ok(Ok(read)) if read > 0 => discarded += read as u64,
                _ => return,
            }
        }
    }

    /// The socket and the bytes read past the last request, for an upgrade.
    pub(crate) fn into_parts(self) -> (S, bytes::Bytes) {
        (self.stream, self.core.read_buf.freeze())
    }

    /// Flushes and closes.
    pub(crate) async fn close(mut self) {
        if self.flush().await.is_ok() {
            let _ = self.stream.shutdown().await;
        }
    }
}

impl<S> std::ops::Deref for Connection<S> {
    type Target = Core;

    fn deref(&self) -> &Core {
        &self.core
    }
}

impl<S> std::ops::DerefMut for Connection<S> {
    fn deref_mut(&mut self) -> &mut Core {
        &mut self.core
    }
}

impl Core {
    /// Keeps a written response's header map for the next request's headers.
    pub(crate) fn recycle_headers(&mut self, headers: http::HeaderMap) {
        self.parser.recycle(headers, &self.config.limits);
    }

    /// Whether a graceful shutdown has begun.
    pub(crate) fn shutting_down(&self) -> bool {
        // The value only ever changes to `true`, so "changed" means "shutting down"; this
        // reads an atomic version number, where `borrow` would take a lock per request.
        self.shutdown.has_changed().unwrap_or(true)
    }

    fn adapt_read_size(&mut self, read: usize, room: usize) {
        if read >= room {
            self.read_size = (self.read_size * 2).min(READ_MAX);
        } else if read < self.read_size / 4 {
            self.read_size = (self.read_size / 2).max(READ_MIN);
        }
    }
}
