//! Protocol upgrades (RFC 9110 §7.8): a handler answers `101 Switching Protocols` and
//! takes the raw connection.
//!
//! For a request that asks to upgrade (`Connection: upgrade` plus `Upgrade`), the server
//! puts an [`OnUpgrade`] in the request's extensions. The handler takes it with
//! [`on_upgrade`], answers 101, and awaits it (usually in a spawned task): once the server
//! has written the 101 head it hands over an [`Upgraded`] stream, which yields any bytes
//! the client sent after its request before reading from the socket again.
//!
//! An upgraded connection stays in the server's registry until it is dropped, and
//! [`Upgraded::shutdown_signal`] tells its owner when a graceful shutdown begins, so a
//! WebSocket can send a close frame before the grace period ends.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{oneshot, watch};

use crate::error::Error;
use crate::gateway::Request;
use crate::registry::ConnGuard;

/// Takes the upgrade handle out of a request, if the request asked to upgrade.
///
/// ```no_run
/// use carafe_serve::{upgrade, Body, Request, Response};
///
/// async fn handler(mut req: Request) -> Response {
///     let Some(on_upgrade) = upgrade::on_upgrade(&mut req) else {
///         return Response::new(Body::from("not an upgrade request"));
///     };
///     tokio::spawn(async move {
///         if let Ok(upgraded) = on_upgrade.await {
///             // speak the new protocol over `upgraded`
///             drop(upgraded);
///         }
///     });
///     let mut response = Response::new(Body::empty());
///     *response.status_mut() = http::StatusCode::SWITCHING_PROTOCOLS;
///     response
/// }
/// ```
pub fn on_upgrade(req: &mut Request) -> Option<OnUpgrade> {
    req.extensions_mut().remove::<OnUpgrade>()
}

/// Resolves to the [`Upgraded`] connection once the server has sent the 101 answer, or to
/// an error if the handler answered anything else or the connection failed first.
#[derive(Debug)]
pub struct OnUpgrade {
    rx: oneshot::Receiver<Upgraded>,
}

impl OnUpgrade {
    pub(crate) fn pair() -> (oneshot::Sender<Upgraded>, OnUpgrade) {
        let (tx, rx) = oneshot::channel();
        (tx, OnUpgrade { rx })
    }
}

impl Clone for OnUpgrade {
    /// A request's extensions must be cloneable; a clone never resolves to a stream.
    fn clone(&self) -> Self {
        let (_tx, rx) = oneshot::channel();
        OnUpgrade { rx }
    }
}

impl Future for OnUpgrade {
    type Output = Result<Upgraded, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx)
            .poll(cx)
            .map_err(|_| Error::IncompleteMessage)
    }
}

/// The stream under an [`Upgraded`] connection: a TCP socket or TLS over one.
pub(crate) trait UpgradedIo: AsyncRead + AsyncWrite + Unpin + Send + Sync {}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + Sync> UpgradedIo for S {}

/// A connection after `101 Switching Protocols`: read and write the new protocol on it.
///
/// It reads and writes whatever the connection runs on, so the same code speaks over plain
/// TCP and over TLS.
///
/// When a graceful shutdown's grace period ends, reads and writes fail with
/// `ConnectionAborted`, so the task that owns the stream ends and drops it.
pub struct Upgraded {
    /// Bytes the client sent after the upgrade request, read before the socket.
    pending: Bytes,
    /// The socket, or the TLS stream over it (boxed once per upgrade, so `Upgraded` has
    /// no type parameter).
    stream: Box<dyn UpgradedIo>,
    /// Keeps the registry entry while the application holds the connection.
    guard: ConnGuard,
    /// Becomes `true` when the server starts a graceful shutdown.
    shutdown: watch::Receiver<bool>,
    /// Resolves when the grace period is over.
    stopped: Pin<Box<dyn Future<Output = ()> + Send + Sync>>,
    /// `stopped` has resolved: every operation fails.
    killed: bool,
}

impl std::fmt::Debug for Upgraded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upgraded")
            .field("peer_addr", &self.guard.stats.peer_addr)
            .field("pending", &self.pending.len())
            .field("killed", &self.killed)
            .finish()
    }
}

impl Upgraded {
    pub(crate) fn new(
        stream: Box<dyn UpgradedIo>,
        pending: Bytes,
        guard: ConnGuard,
        (shutdown, mut stopped): (watch::Receiver<bool>, watch::Receiver<bool>),
    ) -> Self {
        guard.stats.set_upgraded();
        let stopped = Box::pin(async move {
            // An error means the server is gone, which is a stop too.
            let _ = stopped.wait_for(|stopped| *stopped).await;
        });
        Upgraded {
            pending,
            stream,
            guard,
            shutdown,
            stopped,
            killed: false,
        }
    }

    /// Fails once the server's grace period is over.
    fn check_alive(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        if !self.killed && self.stopped.as_mut().poll(cx).is_ready() {
            self.killed = true;
        }
        match self.killed {
            true => Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "the server has stopped",
            )),
            false => Ok(()),
        }
    }

    /// Resolves when the server begins a graceful shutdown (at once if it already has).
    pub fn shutdown_signal(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut shutdown = self.shutdown.clone();
        async move {
            // An error means the server is gone, which is a shutdown too.
            let _ = shutdown.wait_for(|stopping| *stopping).await;
        }
    }

    /// The client's address.
    pub fn peer_addr(&self) -> std::net::SocketAddr {
        self.guard.stats.peer_addr
    }
}

impl AsyncRead for Upgraded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.check_alive(cx)?;
        if !self.pending.is_empty() {
            let take = self.pending.len().min(buf.remaining());
            buf.put_slice(&self.pending[..take]);
            self.pending.advance(take);
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut *self.stream).poll_read(cx, buf);
        let read = buf.filled().len() - before;
        self.guard.stats.add_in(read);
        polled
    }
}

impl AsyncWrite for Upgraded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.check_alive(cx)?;
        let polled = Pin::new(&mut *self.stream).poll_write(cx, buf);
        if let Poll::Ready(Ok(written)) = &polled {
            self.guard.stats.add_out(*written);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check_alive(cx)?;
        Pin::new(&mut *self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.check_alive(cx)?;
        let polled = Pin::new(&mut *self.stream).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(written)) = &polled {
            self.guard.stats.add_out(*written);
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
