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

/// Server settings, fixed at [`Builder::build`].
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// How long `emit_with_ack` waits by default.
    pub(crate) ack_timeout: Duration,
    /// The most attachments one binary packet may have.
    pub(crate) max_attachments: usize,
}

/// Builds a [`SocketIo`].
///
/// ```
/// use std::time::Duration;
/// let sio = carafe_socketio::SocketIo::builder().ack_timeout(Duration::from_secs(2)).build();
/// ```
pub struct Builder {
    config: Config,
    adapter: Box<dyn AdapterFactory>,
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

    /// The adapter every namespace gets (default: [`MemoryAdapter`]).
    pub fn adapter(mut self, factory: impl AdapterFactory) -> Self {
        self.adapter = Box::new(factory);
        self
    }

    /// The server, with the main namespace `/`.
    pub fn build(self) -> SocketIo {
        let io = SocketIo(Arc::new(IoInner {
            config: Arc::new(self.config),
            adapter: self.adapter,
            namespaces: RwLock::default(),
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
pub struct SocketIo(Arc<IoInner>);

struct IoInner {
    config: Arc<Config>,
    adapter: Box<dyn AdapterFactory>,
    namespaces: RwLock<HashMap<String, Namespace>>,
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
            },
            adapter: Box::new(MemoryAdapter::factory),
        }
    }

    /// The namespace `name` (a leading `/` is added if missing), created on first use.
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
        namespaces
            .entry(name.clone())
            .or_insert_with(|| {
                Namespace(NsInner::new(name, self.0.config.clone(), &*self.0.adapter))
            })
            .clone()
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
