//! The TCP layer: the listening socket and the accept loop.
//!
//! This is Python's `socket.py` plus the parts of `socketserver.TCPServer` that touch the
//! socket: [`Listener::bind`] is `server_bind` (socket2, `SO_REUSEADDR`, optional
//! `SO_REUSEPORT`), [`Listener::activate`] is `server_activate` (`listen(backlog)`), and
//! the acceptor's `accept` is the accept step of `serve_forever`. The kernel completes the
//! three-way handshake and queues the connection; `accept` takes it off the queue.
//!
//! `accept` survives the errors a busy server meets: `ECONNABORTED` (the client gave up
//! while queued) is skipped; running out of file descriptors (`EMFILE`, `ENFILE`) or
//! memory makes it back off, log once, and try again, never spin.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::{TcpListener, TcpStream};

use crate::error::Error;

/// A bound (and, after [`activate`](Listener::activate), listening) TCP socket.
#[derive(Debug)]
pub struct Listener {
    /// The socket; `None` once handed to tokio.
    socket: Socket,
    /// The address the socket is bound to (with the real port when 0 was asked).
    local_addr: SocketAddr,
    /// The backlog for `listen`.
    backlog: u32,
}

impl Listener {
    /// Creates a socket and binds it to `addr` (`server_bind`).
    ///
    /// `SO_REUSEADDR` is always set, so a restarted server can bind while old connections
    /// sit in `TIME_WAIT`; `SO_REUSEPORT` only when asked. An IPv6 address binds IPv6 only.
    /// Port 0 picks a free port, readable from [`local_addr`](Self::local_addr).
    ///
    /// ```
    /// let listener = carafe_serve::Listener::bind("127.0.0.1:0".parse().unwrap(), 1024, false)?;
    /// assert_ne!(listener.local_addr().port(), 0);
    /// # Ok::<(), carafe_serve::Error>(())
    /// ```
    pub fn bind(addr: SocketAddr, backlog: u32, reuse_port: bool) -> Result<Self, Error> {
        let bind_error = |source| Error::Bind { addr, source };
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
            .map_err(bind_error)?;
        socket.set_reuse_address(true).map_err(bind_error)?;
        if reuse_port {
            socket.set_reuse_port(true).map_err(bind_error)?;
        }
        if addr.is_ipv6() {
            socket.set_only_v6(true).map_err(bind_error)?;
        }
        socket.set_nonblocking(true).map_err(bind_error)?;
        socket.bind(&addr.into()).map_err(bind_error)?;
        let local_addr = local_addr_of(&socket).map_err(bind_error)?;
        Ok(Listener {
            socket,
            local_addr,
            backlog,
        })
    }

    /// Wraps a socket that is already bound and listening (inherited from a parent
    /// process, for prefork workers and the reloader).
    pub fn from_std(listener: std::net::TcpListener) -> Result<Self, Error> {
        let socket = Socket::from(listener);
        socket.set_nonblocking(true).map_err(Error::Listen)?;
        let local_addr = local_addr_of(&socket).map_err(Error::Listen)?;
        Ok(Listener {
            socket,
            local_addr,
            backlog: 0,
        })
    }

    /// Starts listening (`server_activate`): the kernel now completes handshakes and
    /// queues up to `backlog` connections for `accept`.
    pub fn activate(&self) -> Result<(), Error> {
        let backlog = i32::try_from(self.backlog).unwrap_or(i32::MAX);
        self.socket.listen(backlog).map_err(Error::Listen)
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The underlying socket, for options this type does not expose and for handing the
    /// listening socket to a child process.
    pub fn socket(&self) -> &Socket {
        &self.socket
    }

    /// Registers the socket with tokio (needs a runtime).
    pub(crate) fn into_tokio(self) -> io::Result<Acceptor> {
        let listener = TcpListener::from_std(self.socket.into())?;
        Ok(Acceptor {
            listener,
            local_addr: self.local_addr,
            logged_exhaustion: false,
        })
    }
}

fn local_addr_of(socket: &Socket) -> io::Result<SocketAddr> {
    socket
        .local_addr()?
        .as_socket()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not an inet socket"))
}

/// The accept side of a listening socket, inside a runtime.
#[derive(Debug)]
pub(crate) struct Acceptor {
    listener: TcpListener,
    pub(crate) local_addr: SocketAddr,
    /// Set while descriptors are exhausted, so the condition is logged once.
    logged_exhaustion: bool,
}

/// The pause after an accept error that is not the client's fault.
const ACCEPT_BACKOFF_START: Duration = Duration::from_millis(5);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

impl Acceptor {
    /// Takes the next connection off the queue, with `TCP_NODELAY` set.
    pub(crate) async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        let mut backoff = ACCEPT_BACKOFF_START;
        loop {
            match self.listener.accept().await {
                Ok((stream, peer)) => {
                    if self.logged_exhaustion {
                        tracing::warn!(target: "carafe::tcp", "accepting connections again");
                        self.logged_exhaustion = false;
                    }
                    // Responses are written whole; Nagle's delay would only add latency.
                    let _ = stream.set_nodelay(true);
                    return (stream, peer);
                }
                Err(error) if is_connection_error(&error) => continue,
                Err(error) => {
                    if !self.logged_exhaustion {
                        tracing::error!(
                            target: "carafe::tcp",
                            "accept failed: {error}; backing off (further errors are not logged \
                             until accepting recovers)"
                        );
                        self.logged_exhaustion = true;
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                }
            }
        }
    }
}

/// Errors that concern one queued connection, not the listener: skip it and go on.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
    ) || error.raw_os_error() == Some(nix::libc::EPROTO)
}
