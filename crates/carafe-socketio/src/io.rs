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
