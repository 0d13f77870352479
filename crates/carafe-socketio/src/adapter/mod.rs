//! The adapter: where a namespace's rooms live and how a broadcast reaches every socket,
//! on this node and, for a cluster adapter, on the others (after `socket.io-adapter`).
//!
//! One adapter instance serves one namespace. The namespace hands it a [`LocalSockets`]
//! view of the sockets connected to this node; the adapter keeps the room index and
//! answers the [`Adapter`] requests. [`MemoryAdapter`] (the default) answers them from
//! memory. A cluster adapter answers them locally too and also forwards them to the other
//! nodes; see the crate's "Adapters" notes for how `@socket.io/redis-adapter`'s requests map
//! onto the trait.
//!
//! Broadcast packets arrive encoded once ([`Encoded`]): every recipient gets a clone that
//! shares the same bytes, so fanning out to thousands of sockets copies no payload.

mod memory;
mod sessions;

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub use memory::MemoryAdapter;
pub use sessions::SessionStore;

use crate::packet::Encoded;

/// A room name. Every socket is also in the room named after its own id.
pub type Room = Arc<str>;

/// A Socket.IO socket id (one per namespace connection).
pub type SocketId = Arc<str>;

/// How maps keyed by socket id hash: foldhash, seeded per process. Socket ids are made
/// by the server from random bits (`sid::generate`), never chosen by a client, so the
/// flooding resistance of std's SipHash buys nothing here, and a broadcast looks up
/// every recipient's id (SipHash was about a tenth of a broadcast's instructions).
pub(crate) type IdHasher = foldhash::fast::RandomState;

/// A map keyed by socket id.
pub(crate) type IdMap<V> = std::collections::HashMap<SocketId, V, IdHasher>;

/// A set of socket ids.
pub(crate) type IdSet = std::collections::HashSet<SocketId, IdHasher>;

/// A small map looked up by name on every packet (a namespace's event handlers, a
/// client's namespaces), with the same hasher: its keys are inserted by the server, so
/// a client's names can only be looked up, never flood it.
pub(crate) type NameMap<V> = std::collections::HashMap<String, V, IdHasher>;

/// What an adapter request returns: a boxed future, so the trait stays object-safe.
pub type AdapterFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, AdapterError>> + Send + 'a>>;

/// Which sockets a request addresses: those in any of `rooms` (every socket when empty),
/// minus those in any of `except`.
///
/// ```
/// use carafe_socketio::adapter::BroadcastOptions;
///
/// let opts = BroadcastOptions::default().to("item:7").except("banned");
/// assert_eq!(opts.rooms.len(), 1);
/// assert!(!opts.local);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BroadcastOptions {
    /// Target rooms; empty means the whole namespace.
    pub rooms: Vec<Room>,
    /// Rooms whose sockets are left out.
    pub except: Vec<Room>,
    /// Only this node's sockets (`io.local` in Node): a cluster adapter does not forward.
    pub local: bool,
    /// May be lost (`volatile` in Node): never kept for connection state recovery.
    pub volatile: bool,
}

impl BroadcastOptions {
    /// Adds a target room.
    ///
    /// ```
    /// let opts = carafe_socketio::adapter::BroadcastOptions::default().to("a").to("b");
    /// assert_eq!(opts.rooms.len(), 2);
    /// ```
    pub fn to(mut self, room: impl Into<Room>) -> Self {
        self.rooms.push(room.into());
        self
    }

    /// Adds a room to leave out.
    ///
    /// ```
    /// let opts = carafe_socketio::adapter::BroadcastOptions::default().except("a");
    /// assert_eq!(opts.except.len(), 1);
    /// ```
    pub fn except(mut self, room: impl Into<Room>) -> Self {
        self.except.push(room.into());
        self
    }
}

/// A socket as `fetch_sockets` describes it (possibly one on another node).
///
/// ```
/// use carafe_socketio::adapter::SocketSummary;
///
/// let socket = SocketSummary { id: "a".into(), rooms: vec!["a".into()], data: serde_json::Value::Null };
/// assert_eq!(&*socket.id, "a");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SocketSummary {
    /// The socket id.
    pub id: SocketId,
    /// The rooms it is in.
    pub rooms: Vec<Room>,
    /// Its per-socket data as JSON (what crosses nodes; `Null` when it has none).
    pub data: serde_json::Value,
}

/// Why an adapter request failed (a cluster adapter's transport, or a timeout waiting for
/// other nodes).
///
/// ```
/// let err = carafe_socketio::adapter::AdapterError::new("redis is unreachable");
/// assert_eq!(err.to_string(), "adapter request failed: redis is unreachable");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterError(String);

impl AdapterError {
    /// An error with this explanation.
    ///
    /// ```
    /// let _ = carafe_socketio::adapter::AdapterError::new("timeout");
    /// ```
    pub fn new(message: impl Into<String>) -> Self {
        AdapterError(message.into())
    }
}

impl fmt::Display for AdapterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "adapter request failed: {}", self.0)
    }
}

impl std::error::Error for AdapterError {}

/// The sockets of one namespace on this node, as the namespace shows them to its adapter.
///
/// Adapters deliver through this view; they never own sockets.
pub trait LocalSockets: Send + Sync + 'static {
    /// Queues an encoded packet for socket `id`; `false` when it is not connected here.
    fn deliver(&self, id: &str, packet: &Encoded) -> bool;

    /// Queues one encoded packet for each socket of `ids`; how many were connected here.
    /// A broadcast's fan-out: the default calls [`deliver`](Self::deliver) per id, an
    /// implementation may do the per-call work (locks, lookups) once for all.
    fn deliver_each(&self, ids: &mut dyn Iterator<Item = &SocketId>, packet: &Encoded) -> usize {
        ids.filter(|id| self.deliver(id, packet)).count()
    }

    /// Queues one encoded packet for every socket connected here, if this view can do
    /// that without being told their ids (a broadcast to the whole namespace); `None`
    /// (the default) makes the adapter list them for [`deliver_each`](Self::deliver_each).
    fn deliver_to_every(&self, packet: &Encoded) -> Option<usize> {
        let _ = packet;
        None
    }

    /// Disconnects socket `id` from the namespace (`close`: close the whole connection).
    fn disconnect(&self, id: &str, close: bool);

    /// The per-socket data of socket `id` as JSON, if it is connected here.
    fn data(&self, id: &str) -> Option<serde_json::Value>;
}

/// Rooms, broadcast and the cluster-wide requests of one namespace.
///
/// Methods that may cross nodes return an [`AdapterFuture`]; room bookkeeping for local
/// sockets is synchronous, as it is in `socket.io-adapter`.
pub trait Adapter: Send + Sync + 'static {
    /// Puts local socket `id` into `rooms`.
    fn add_all(&self, id: &SocketId, rooms: &[Room]);

    /// Takes local socket `id` out of `room`.
    fn del(&self, id: &str, room: &str);

    /// Takes local socket `id` out of every room (it left the namespace).
    fn del_all(&self, id: &str);

    /// The rooms local socket `id` is in.
    fn socket_rooms(&self, id: &str) -> Vec<Room>;

    /// Sends `packet` to every socket `opts` addresses, here and on other nodes.
    fn broadcast(&self, packet: &Encoded, opts: &BroadcastOptions) -> AdapterFuture<'_, ()>;

    /// Like [`broadcast`](Adapter::broadcast) for a packet that carries an ack id; returns
    /// how many sockets it reached (all nodes), so the caller knows how many acks to wait
    /// for. Acks come back through the sockets (locally) or the cluster (remotely).
    fn broadcast_with_ack(
        &self,
        packet: &Encoded,
        opts: &BroadcastOptions,
    ) -> AdapterFuture<'_, usize>;

    /// The ids of the sockets `opts` addresses.
    fn sockets(&self, opts: &BroadcastOptions) -> AdapterFuture<'_, HashSet<SocketId>>;

    /// The sockets `opts` addresses, with their rooms and data.
    fn fetch_sockets(&self, opts: &BroadcastOptions) -> AdapterFuture<'_, Vec<SocketSummary>>;

    /// Makes the sockets `opts` addresses join `rooms` (remote join).
    fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> AdapterFuture<'_, ()>;

    /// Makes the sockets `opts` addresses leave `rooms` (remote leave).
    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> AdapterFuture<'_, ()>;

    /// Disconnects the sockets `opts` addresses (remote disconnect).
    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) -> AdapterFuture<'_, ()>;

    /// Sends an event to the other nodes' namespace handlers (server-side emit); a single
    /// node has nobody to tell.
    fn server_side_emit(&self, packet: &Encoded) -> AdapterFuture<'_, ()>;

    /// How many nodes the cluster has (1 for a single node).
    fn server_count(&self) -> AdapterFuture<'_, usize>;

    /// Connection state recovery: keeps `packet` (an `EVENT` without ack id, sent to the
    /// sockets `opts` addresses) for the recovery window and returns it with its offset
    /// appended as the last argument; what callers then send. The default keeps nothing
    /// and returns `None` (this adapter does not support recovery: the packet goes out
    /// as it is).
    fn persist_packet(&self, packet: &Encoded, opts: &BroadcastOptions) -> Option<Encoded> {
        let _ = (packet, opts);
        None
    }

    /// Connection state recovery: keeps the session of a socket that lost its connection.
    /// The default drops it (recovery unsupported).
    fn persist_session(&self, session: Session) {
        tracing::debug!(
            "this adapter does not support connection state recovery; session {} dropped",
            session.sid
        );
    }

    /// Connection state recovery: the session kept under private id `pid` and the packets
    /// sent after `offset` that it would have received, in order; `None` when there is no
    /// such session, it expired, or `offset` is no longer known. The default finds nothing.
    fn restore_session(
        &self,
        pid: &str,
        offset: &str,
    ) -> AdapterFuture<'_, Option<RestoredSession>> {
        let _ = (pid, offset);
        Box::pin(std::future::ready(Ok(None)))
    }
}

/// A disconnected socket's state, kept for connection state recovery.
///
/// ```
/// use carafe_socketio::adapter::Session;
///
/// let session = Session { sid: "s1".into(), pid: "p1".into(), rooms: vec!["s1".into()], data: serde_json::Value::Null };
/// assert_eq!(&*session.pid, "p1");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// The public socket id, given back on recovery.
    pub sid: SocketId,
    /// The private session id the client presents to recover.
    pub pid: Arc<str>,
    /// The rooms the socket was in (its own id room included).
    pub rooms: Vec<Room>,
    /// Its per-socket data.
    pub data: serde_json::Value,
}

/// A session found again by [`Adapter::restore_session`], with the packets it missed.
///
/// ```
/// use carafe_socketio::adapter::{RestoredSession, Session};
///
/// let session = Session { sid: "s1".into(), pid: "p1".into(), rooms: vec![], data: serde_json::Value::Null };
/// let restored = RestoredSession { session, missed: vec![] };
/// assert!(restored.missed.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RestoredSession {
    /// The session as it was kept.
    pub session: Session,
    /// The packets sent after the client's offset that it would have received, in order,
    /// each with its own offset already appended.
    pub missed: Vec<Encoded>,
}

/// Builds one adapter per namespace.
pub trait AdapterFactory: Send + Sync + 'static {
    /// The adapter for namespace `name`, delivering to `local`.
    fn create(&self, name: &str, local: Arc<dyn LocalSockets>) -> Arc<dyn Adapter>;
}

impl<F> AdapterFactory for F
where
    F: Fn(&str, Arc<dyn LocalSockets>) -> Arc<dyn Adapter> + Send + Sync + 'static,
{
    fn create(&self, name: &str, local: Arc<dyn LocalSockets>) -> Arc<dyn Adapter> {
        self(name, local)
    }
}
