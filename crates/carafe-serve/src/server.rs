//! The server: `socketserver.TCPServer`'s steps as explicit calls.
//!
//! ```text
//! TcpServer::bind      server_bind      socket(), SO_REUSEADDR, bind()
//! TcpServer::activate  server_activate  listen(backlog)
//! serve_forever        serve_forever    accept loop, one task per connection
//! ShutdownHandle       shutdown         stop accepting, drain, hard stop after the grace
//! ```
//!
//! Graceful shutdown: the handle flips a `watch` channel. The accept loop stops and drops
//! the listening socket (new connections are refused); idle keep-alive connections close;
//! a request in flight is answered with `connection: close`; upgraded connections see
//! [`Upgraded::shutdown_signal`](crate::upgrade::Upgraded::shutdown_signal). The server
//! waits until the registry is empty or the grace period ends, then aborts what is left.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::{watch, Semaphore};

use crate::config::Config;
use crate::error::Error;
use crate::gateway::{Application, ConnInfo};
use crate::registry::Registry;
use crate::tcp::Listener;
use crate::tls::{Loaded, TlsConfig};

/// What every connection task shares.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The server's settings.
    pub(crate) config: Arc<Config>,
    /// Becomes `true` when a graceful shutdown begins.
    pub(crate) shutdown: watch::Receiver<bool>,
    /// Becomes `true` when the grace period is over: upgraded connections must stop.
    pub(crate) stopped: watch::Receiver<bool>,
}

/// A TCP server speaking HTTP/1.1 to an [`Application`].
///
/// ```no_run
/// use carafe_serve::{Body, Config, Request, Response, TcpServer};
///
/// # async fn f() -> Result<(), carafe_serve::Error> {
/// let mut server = TcpServer::bind("127.0.0.1:8082".parse().unwrap(), Config::default())?;
/// server.activate()?;
/// let stop = server.shutdown_handle();
/// tokio::spawn(async move {
///     tokio::signal::ctrl_c().await.ok();
///     stop.shutdown();
/// });
/// server.serve_forever(|_req: Request| async { Response::new(Body::from("hi")) }).await
/// # }
/// ```
#[derive(Debug)]
pub struct TcpServer {
    /// The bound socket.
    listener: Listener,
    /// Settings shared with every connection.
    config: Arc<Config>,
    /// Live connections.
    registry: Arc<Registry>,
    /// Flipped to `true` to begin a graceful shutdown.
    shutdown: Arc<watch::Sender<bool>>,
    /// The TLS acceptor, when the server speaks HTTPS.
    tls: Option<Loaded>,
}

impl TcpServer {
    /// Creates the socket and binds it (`server_bind`); call [`activate`](Self::activate)
    /// next.
    pub fn bind(addr: SocketAddr, config: Config) -> Result<Self, Error> {
        let listener = Listener::bind(addr, config.backlog, config.reuse_port)?;
        Ok(TcpServer::from_listener(listener, config))
    }

    /// A server on a listener bound elsewhere (inherited from a parent process, say).
    pub fn from_listener(listener: Listener, config: Config) -> Self {
        let (shutdown, _) = watch::channel(false);
        TcpServer {
            listener,
            config: Arc::new(config),
            registry: Arc::default(),
            shutdown: Arc::new(shutdown),
            tls: None,
        }
    }

    /// Speaks HTTPS: every connection starts with a TLS handshake. Fails if the
    /// certificate cannot be made or read.
    ///
    /// ```no_run
    /// use carafe_serve::{Config, TcpServer, TlsConfig};
    ///
    /// # fn f() -> Result<(), carafe_serve::Error> {
    /// let mut server = TcpServer::bind("127.0.0.1:8443".parse().unwrap(), Config::default())?;
    /// server.tls(&TlsConfig::from_pem_files("cert.pem", "key.pem"))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn tls(&mut self, config: &TlsConfig) -> Result<(), Error> {
        self.tls = Some(config.load()?);
        Ok(())
    }

    /// Uses a TLS configuration loaded already (by `run_simple`, for its banner).
    pub(crate) fn set_tls(&mut self, loaded: Option<Loaded>) {
        self.tls = loaded;
    }

    /// Where the adhoc certificate's PEM file is, when the server uses
    /// [`TlsConfig::adhoc`]: what a client needs to trust it.
    pub fn adhoc_cert_path(&self) -> Option<std::path::PathBuf> {
        let adhoc = self.tls.as_ref()?.adhoc.as_ref()?;
        Some(adhoc.cert_path())
    }

    /// Starts listening (`server_activate`).
    pub fn activate(&mut self) -> Result<(), Error> {
        self.listener.activate()
    }

    /// The address the server is bound to, with the real port if 0 was asked.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr()
    }

    /// A handle that stops the server from anywhere.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            tx: Arc::clone(&self.shutdown),
        }
    }

    /// The table of live connections.
    pub fn registry(&self) -> Arc<Registry> {
        Arc::clone(&self.registry)
    }

    /// Accepts and serves connections until [`ShutdownHandle::shutdown`] is called, then
    /// drains (`serve_forever`). Must run inside a tokio runtime.
    pub async fn serve_forever<A: Application>(self, app: A) -> Result<(), Error> {
        let TcpServer {
            listener,
            config,
            registry,
            shutdown,
            tls,
        } = self;
        // Kept until the server stops: dropping it removes an adhoc certificate's files.
        let acceptor = tls.as_ref().map(|tls| tls.acceptor.clone());
        let mut incoming = listener.into_tokio().map_err(Error::Listen)?;
        let local_addr = incoming.local_addr;
        let app = Arc::new(app);
        let slots = Arc::new(Semaphore::new(config.max_connections));
        let (hard_stop, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            config: Arc::clone(&config),
            shutdown: shutdown.subscribe(),
            stopped: hard_stop.subscribe(),
        });
        let mut stop = shutdown.subscribe();
        loop {
            let permit = tokio::select! {
                permit = Arc::clone(&slots).acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break, // the semaphore is never closed
                },
                _ = stop.wait_for(|stopping| *stopping) => break,
            };
            let (stream, peer_addr) = tokio::select! {
                accepted = incoming.accept() => accepted,
                _ = stop.wait_for(|stopping| *stopping) => break,
            };
            let guard = registry.register(peer_addr, permit);
            let stats = Arc::clone(&guard.stats);
            let info = ConnInfo {
                peer_addr,
                local_addr,
                id: stats.id,
                tls: acceptor.is_some(),
            };
            let (app, shared) = (Arc::clone(&app), Arc::clone(&shared));
            // The handshake runs in the connection's task: a slow client never holds up
            // the accept loop.
            let task = match &acceptor {
                None => tokio::spawn(
                    info.scope(crate::http1::serve_connection(stream, guard, app, shared)),
                ),
                Some(acceptor) => tokio::spawn(info.scope(crate::tls::serve_connection(
                    acceptor.clone(),
                    stream,
                    guard,
                    app,
                    shared,
                ))),
            };
            stats.set_abort(task.abort_handle());
        }
        // Closing the listening socket makes the kernel refuse new connections.
        drop(incoming);
        drain(&registry, config.timeouts.shutdown_grace, &hard_stop).await;
        drop(tls);
        Ok(())
    }
}

/// Waits for the live connections to finish, and stops those left after `grace`.
async fn drain(registry: &Registry, grace: std::time::Duration, hard_stop: &watch::Sender<bool>) {
    if tokio::time::timeout(grace, registry.wait_empty())
        .await
        .is_err()
    {
        let left = registry.len();
        tracing::warn!(
            target: "carafe::server",
            "{left} connection(s) still open after the {grace:?} grace period; stopping them"
        );
        registry.abort_all();
        // Upgraded connections belong to application tasks we cannot abort: their
        // streams fail from now on, so those tasks end and drop them.
        hard_stop.send_replace(true);
    }
}

/// Stops a running [`TcpServer`]; cloneable and usable from any thread.
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    tx: Arc<watch::Sender<bool>>,
}

impl ShutdownHandle {
    /// Begins a graceful shutdown; `serve_forever` returns once it is complete.
    pub fn shutdown(&self) {
        self.tx.send_replace(true);
    }

    /// Whether a shutdown has begun.
    pub fn is_shutting_down(&self) -> bool {
        *self.tx.borrow()
    }
}
