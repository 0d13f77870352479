//! `SocketIo`: the server object that holds the namespaces and accepts connections.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::adapter::{AdapterFactory, BroadcastOptions, MemoryAdapter};
use crate::client::Client;
use crate::connection::Connection;
use crate::namespace::{Namespace, NsInner};
use crate::operator::BroadcastOperator;
use crate::packet::DEFAULT_MAX_ATTACHMENTS;
use crate::recovery::ConnectionStateRecovery;

/// Server settings, fixed at [`Builder::build`].
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// How long `emit_with_ack` waits by default.
    pub(crate) ack_timeout: Duration,
    /// The most attachments one binary packet may have.
    pub(crate) max_attachments: usize,
    /// Connection state recovery, when on.
    pub(crate) recovery: Option<ConnectionStateRecovery>,
    /// Whether a dynamic child namespace is removed when its last socket leaves.
    pub(crate) cleanup_empty_child_namespaces: bool,
    /// The Engine.IO server's settings (path `/socket.io/`, heartbeat, CORS, transports).
    pub(crate) engine: carafe_engineio::Config,
    /// How long a new session may stay without any namespace before it is closed.
    pub(crate) connect_timeout: Duration,
}

/// Builds a [`SocketIo`].
///
/// ```
/// use std::time::Duration;
/// let sio = carafe_socketio::SocketIo::builder().ack_timeout(Duration::from_secs(2)).build();
/// ```
pub struct Builder {
    config: Config,
    adapter: Option<Box<dyn AdapterFactory>>,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("config", &self.config)
            .finish()
    }
}

impl Builder {
    /// How long `emit_with_ack` waits for an answer (default 5 s).
    pub fn ack_timeout(mut self, timeout: Duration) -> Self {
        self.config.ack_timeout = timeout;
        self
    }

    /// The most binary attachments one packet may carry (default 64).
    pub fn max_attachments(mut self, max: usize) -> Self {
        self.config.max_attachments = max;
        self
    }

    /// The adapter every namespace gets (default: [`MemoryAdapter`], keeping sessions and
    /// packets when connection state recovery is on).
    pub fn adapter(mut self, factory: impl AdapterFactory) -> Self {
        self.adapter = Some(Box::new(factory));
        self
    }

    /// Turns on connection state recovery (Socket.IO 4.6's `connectionStateRecovery`): a
    /// client that lost its connection and comes back within the window gets its socket
    /// id, rooms and data back, and the packets it missed. A custom adapter must implement
    /// the recovery methods of [`Adapter`](crate::adapter::Adapter) for it to work.
    ///
    /// ```
    /// use carafe_socketio::{ConnectionStateRecovery, SocketIo};
    /// let sio = SocketIo::builder().connection_state_recovery(ConnectionStateRecovery::default()).build();
    /// ```
    pub fn connection_state_recovery(mut self, recovery: ConnectionStateRecovery) -> Self {
        self.config.recovery = Some(recovery);
        self
    }

    /// Removes a dynamic child namespace when its last socket leaves (Node's
    /// `cleanupEmptyChildNamespaces`; default off).
    ///
    /// ```
    /// let sio = carafe_socketio::SocketIo::builder().cleanup_empty_child_namespaces(true).build();
    /// ```
    pub fn cleanup_empty_child_namespaces(mut self, cleanup: bool) -> Self {
        self.config.cleanup_empty_child_namespaces = cleanup;
        self
    }

    /// The path the server answers (default `/socket.io/`, the clients' default).
    ///
    /// ```
    /// let sio = carafe_socketio::SocketIo::builder().path("/live/").build();
    /// ```
    pub fn path(mut self, path: &str) -> Self {
        self.config.engine.path = format!("/{}/", path.trim_matches('/'));
        self
    }

    /// How often the server pings each client (`pingInterval`, default 25 s).
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.config.engine.ping_interval = interval;
        self
    }

    /// How long the server waits for a pong before it drops the client (`pingTimeout`,
    /// default 20 s).
    pub fn ping_timeout(mut self, timeout: Duration) -> Self {
        self.config.engine.ping_timeout = timeout;
        self
    }

    /// The most bytes of one message or one long-polling POST (`maxHttpBufferSize`,
    /// default 1,000,000).
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.config.engine.max_payload = bytes;
        self
    }

    /// How long a client may stay connected without joining any namespace before its
    /// session is closed (`connectTimeout`, default 45 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// Which origins may connect from a browser (Flask-SocketIO's
    /// `cors_allowed_origins`; default: the server's own origin only). Give a list of
    /// origins, `"*"` for any, or an [`AllowedOrigins`](carafe_engineio::AllowedOrigins)
    /// (a predicate, say).
    ///
    /// ```
    /// use carafe_socketio::SocketIo;
    ///
    /// let sio = SocketIo::builder().cors_allowed_origins(["http://localhost:5173"]).build();
    /// let open = SocketIo::builder().cors_allowed_origins("*").build();
    /// ```
    pub fn cors_allowed_origins(mut self, origins: impl crate::engine::IntoAllowedOrigins) -> Self {
        self.config.engine.cors_allowed_origins = origins.into_allowed_origins();
        self
    }

    /// Which transports clients may use (default both): long-polling and WebSocket.
    /// WebSocket-only is what several server processes without sticky sessions need.
    ///
    /// ```
    /// let sio = carafe_socketio::SocketIo::builder().transports(false, true).build();
    /// ```
    pub fn transports(mut self, polling: bool, websocket: bool) -> Self {
        self.config.engine.polling = polling;
        self.config.engine.websocket = websocket;
        self
    }

    /// Every Engine.IO setting at once (its `path` too), for what the other methods do
    /// not cover: `max_sessions`, `max_buffered_bytes`, `permessage_deflate`...
    pub fn engine_config(mut self, config: carafe_engineio::Config) -> Self {
        self.config.engine = config;
        self
    }

    /// The server, with the main namespace `/`.
    pub fn build(self) -> SocketIo {
        let adapter = match (self.adapter, self.config.recovery) {
            (Some(adapter), _) => adapter,
            (None, Some(recovery)) => Box::new(MemoryAdapter::recovering_factory(
                recovery.max_disconnection_duration,
            )),
            (None, None) => Box::new(MemoryAdapter::factory),
        };
        let io = SocketIo(Arc::new(IoInner {
            config: Arc::new(self.config),
            adapter,
            namespaces: RwLock::default(),
            parents: RwLock::default(),
            http_session: std::sync::OnceLock::new(),
        }));
        io.namespace("/");
        io
    }
}

/// The Socket.IO server: namespaces, and connections from Engine.IO. Cloning shares it.
///
/// ```
/// let sio = carafe_socketio::SocketIo::builder().build();
/// assert!(sio.get_namespace("/").is_some());
/// ```
#[derive(Clone, Debug)]
pub struct SocketIo(pub(crate) Arc<IoInner>);

pub(crate) struct IoInner {
    pub(crate) config: Arc<Config>,
    pub(crate) adapter: Box<dyn AdapterFactory>,
    pub(crate) namespaces: RwLock<HashMap<String, Namespace>>,
    /// Dynamic parent namespaces, tried in registration order.
    pub(crate) parents: RwLock<Vec<crate::dynamic::Parent>>,
    /// How to read the HTTP session cookie, once attached to an App.
    pub(crate) http_session: std::sync::OnceLock<Arc<crate::engine::SessionReader>>,
}

impl std::fmt::Debug for IoInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketIo")
            .field("config", &self.config)
            .finish()
    }
}

impl SocketIo {
    /// A builder with the defaults.
    pub fn builder() -> Builder {
        Builder {
            config: Config {
                ack_timeout: Duration::from_secs(5),
                max_attachments: DEFAULT_MAX_ATTACHMENTS,
                recovery: None,
                cleanup_empty_child_namespaces: false,
                engine: crate::engine::default_engine_config(),
                connect_timeout: Duration::from_secs(45),
            },
            adapter: None,
        }
    }

    /// The namespace `name` (a leading `/` is added if missing), created on first use: as
    /// a child of the first dynamic namespace whose matcher accepts the name, if any.
    pub fn namespace(&self, name: &str) -> Namespace {
        let name = normalize(name);
        if let Some(ns) = self.get_namespace(&name) {
            return ns;
        }
        let mut namespaces = self
            .0
            .namespaces
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(ns) = namespaces.get(&name) {
            return ns.clone();
        }
        let ns = match crate::dynamic::child_for(self, &name) {
            Some(child) => child,
            None => Namespace(NsInner::new(
                name.clone(),
                self.0.config.clone(),
                &*self.0.adapter,
            )),
        };
        namespaces.insert(name, ns.clone());
        ns
    }

    /// The namespace `name`, if it exists.
    pub fn get_namespace(&self, name: &str) -> Option<Namespace> {
        let namespaces = self
            .0
            .namespaces
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        namespaces.get(name).cloned()
    }

    /// Every socket of namespace `name`, to broadcast to from anywhere (an HTTP handler,
    /// a background task); `to` and `except` narrow it.
    pub fn of(&self, name: &str) -> BroadcastOperator {
        BroadcastOperator::new(self.namespace(name).0, BroadcastOptions::default())
    }

    /// Accepts an Engine.IO session: the returned [`Client`] is fed its messages.
    pub fn accept(&self, conn: Arc<dyn Connection>) -> Client {
        Client::new(self.clone(), conn, self.0.config.max_attachments)
    }

    /// An in-process test client connected to this server (no transport).
    pub fn test_client(&self) -> crate::testing::TestClient {
        crate::testing::TestClient::new(self)
    }
}

fn normalize(name: &str) -> String {
    if name.starts_with('/') {
        name.to_owned()
    } else {
        format!("/{name}")
    }
}
