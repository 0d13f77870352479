//! Namespaces: the handlers registered for one namespace, its connected sockets, and the
//! adapter that keeps its rooms.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};

use tokio::sync::mpsc;

use crate::adapter::{
    Adapter, AdapterFactory, BroadcastOptions, IdMap, LocalSockets, NameMap, Room, Session,
    SocketId,
};
use crate::error::{ConnectError, DisconnectReason};
use crate::handler::{
    erase_event_handler, ConnectHandler, DisconnectHandler, ErasedEventHandler, EventHandler,
    HandlerOutput, Middleware,
};
use crate::io::Config;
use crate::operator::BroadcastOperator;
use crate::packet::{Args, Encoded};
use crate::socket::{Event, Socket};

/// A namespace's handlers, to register with [`SocketIo::namespace`](crate::SocketIo::namespace),
/// or a dynamic parent namespace from
/// [`SocketIo::dynamic_namespace`](crate::SocketIo::dynamic_namespace) whose handlers every
/// child shares.
///
/// ```
/// use carafe_socketio::{Event, Socket, SocketIo};
///
/// let sio = SocketIo::builder().build();
/// sio.namespace("/item").on("bid", |socket: Socket, mut event: Event| async move {
///     let (item, amount): (String, u32) = event.data()?;
///     socket.to(format!("item:{item}")).emit("new_bid", &amount).await?;
///     event.ack(&"accepted")
/// });
/// ```
#[derive(Clone, Debug)]
pub struct Namespace(pub(crate) Arc<NsInner>);

/// What a namespace does with its sockets: shared by a dynamic parent and its children.
#[derive(Default)]
pub(crate) struct Handlers {
    events: RwLock<NameMap<ErasedEventHandler>>,
    any: RwLock<Option<ErasedEventHandler>>,
    connect: RwLock<Vec<ConnectHandler>>,
    middleware: RwLock<Vec<Middleware>>,
    disconnect: RwLock<Vec<DisconnectHandler>>,
}

/// Called when a dynamic child namespace may have become empty.
pub(crate) type OnEmpty = Box<dyn Fn(&NsInner) + Send + Sync>;

pub(crate) struct NsInner {
    pub(crate) name: String,
    pub(crate) config: Arc<Config>,
    handlers: Arc<Handlers>,
    sockets: RwLock<IdMap<Socket>>,
    adapter: OnceLock<Arc<dyn Adapter>>,
    /// One ack id counter for socket emits and broadcasts alike, so they never collide.
    next_ack: AtomicU64,
    /// Broadcasts waiting for acks, by ack id.
    broadcast_acks: Mutex<HashMap<u64, mpsc::UnboundedSender<(SocketId, Args)>>>,
    /// For a dynamic parent: its children by name (`None` for any other namespace).
    pub(crate) children: Option<RwLock<HashMap<String, Arc<NsInner>>>>,
    /// CONNECTs in progress here: a child with any is never cleaned up.
    pub(crate) connecting: AtomicUsize,
    /// For a child when empty children are cleaned up: removes it if it is empty.
    on_empty: Option<OnEmpty>,
}

impl std::fmt::Debug for NsInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Namespace")
            .field("name", &self.name)
            .finish()
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    // Poisoning follows a panic in a registration call; the maps are still consistent.
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The namespace as its adapter sees it.
struct Local(Weak<NsInner>);

impl LocalSockets for Local {
    fn deliver(&self, id: &str, packet: &Encoded) -> bool {
        let Some(ns) = self.0.upgrade() else {
            return false;
        };
        let socket = read(&ns.sockets).get(id).cloned();
        socket.is_some_and(|socket| socket.0.conn.send(packet))
    }

    fn deliver_each(&self, ids: &mut dyn Iterator<Item = &SocketId>, packet: &Encoded) -> usize {
        let Some(ns) = self.0.upgrade() else {
            return 0;
        };
        // Sending only queues the packet and wakes the writer (a full buffer closes the
        // session later, from its own task), so nothing here takes this lock again.
        let sockets = read(&ns.sockets);
        ids.filter_map(|id| sockets.get(id))
            .filter(|socket| socket.0.conn.send(packet))
            .count()
    }

    fn deliver_to_every(&self, packet: &Encoded) -> Option<usize> {
        let ns = self.0.upgrade()?;
        let sockets = read(&ns.sockets);
        Some(
            sockets
                .values()
                .filter(|socket| socket.0.conn.send(packet))
                .count(),
        )
    }

    fn disconnect(&self, id: &str, close: bool) {
        let Some(ns) = self.0.upgrade() else { return };
        let socket = read(&ns.sockets).get(id).cloned();
        if let Some(socket) = socket {
            // Leave first, so the reason is the server's disconnect, not the closed
            // transport (which would keep a session for recovery).
            socket.disconnect();
            if close {
                socket.close();
            }
        }
    }

    fn data(&self, id: &str) -> Option<serde_json::Value> {
        let ns = self.0.upgrade()?;
        let socket = read(&ns.sockets).get(id).cloned();
        socket.map(|socket| socket.data_value())
    }
}

/// A CONNECT in progress in a namespace: counted in `connecting` while it lives.
pub(crate) struct Connecting(pub(crate) Arc<NsInner>);

impl Connecting {
    /// Counts a connect; call it under the server's namespace-table lock, so cleanup
    /// (which takes that lock to write) sees it.
    pub(crate) fn start(ns: &Arc<NsInner>) -> Connecting {
        ns.connecting.fetch_add(1, Ordering::AcqRel);
        Connecting(ns.clone())
    }
}

impl Drop for Connecting {
    fn drop(&mut self) {
        self.0.connecting.fetch_sub(1, Ordering::AcqRel);
        self.0.check_empty();
    }
}

impl NsInner {
    pub(crate) fn new(
        name: String,
        config: Arc<Config>,
        factory: &dyn AdapterFactory,
    ) -> Arc<Self> {
        Self::build(name, config, Arc::default(), None, None, factory)
    }

    /// A dynamic parent: handlers and children, no sockets of its own.
    pub(crate) fn parent(name: String, config: Arc<Config>) -> Arc<Self> {
        let factory = crate::adapter::MemoryAdapter::factory;
        Self::build(
            name,
            config,
            Arc::default(),
            Some(RwLock::default()),
            None,
            &factory,
        )
    }

    /// A child of dynamic `parent`, sharing its handlers, registered as its child.
    pub(crate) fn child(
        parent: &Arc<NsInner>,
        name: String,
        on_empty: Option<OnEmpty>,
        factory: &dyn AdapterFactory,
    ) -> Arc<Self> {
        let config = parent.config.clone();
        let handlers = parent.handlers.clone();
        let child = Self::build(name.clone(), config, handlers, None, on_empty, factory);
        if let Some(children) = &parent.children {
            write(children).insert(name, child.clone());
        }
        child
    }

    fn build(
        name: String,
        config: Arc<Config>,
        handlers: Arc<Handlers>,
        children: Option<RwLock<HashMap<String, Arc<NsInner>>>>,
        on_empty: Option<OnEmpty>,
        factory: &dyn AdapterFactory,
    ) -> Arc<Self> {
        let ns = Arc::new(NsInner {
            name,
            config,
            handlers,
            sockets: RwLock::default(),
            adapter: OnceLock::new(),
            next_ack: AtomicU64::new(0),
            broadcast_acks: Mutex::default(),
            children,
            connecting: AtomicUsize::new(0),
            on_empty,
        });
        let adapter = factory.create(&ns.name, Arc::new(Local(Arc::downgrade(&ns))));
        let _ = ns.adapter.set(adapter);
        ns
    }

    pub(crate) fn adapter(&self) -> &Arc<dyn Adapter> {
        // Set in `new` before the namespace is shared.
        self.adapter.get_or_init(|| unreachable_adapter())
    }

    pub(crate) fn next_ack_id(&self) -> u64 {
        self.next_ack.fetch_add(1, Ordering::Relaxed)
    }

    /// The namespaces a broadcast from here reaches: a parent's children, or itself.
    pub(crate) fn scope(self: &Arc<Self>) -> Vec<Arc<NsInner>> {
        match &self.children {
            Some(children) => read(children).values().cloned().collect(),
            None => vec![self.clone()],
        }
    }

    /// The packet to send for an event without ack id to the sockets `opts` addresses:
    /// with recovery on, kept by the adapter and given its offset.
    pub(crate) fn persist(&self, packet: Encoded, opts: &BroadcastOptions) -> Encoded {
        if self.config.recovery.is_none() {
            return packet;
        }
        self.adapter()
            .persist_packet(&packet, opts)
            .unwrap_or(packet)
    }

    /// Runs the middleware in order; the first refusal wins.
    pub(crate) async fn admit(
        &self,
        socket: &Socket,
        auth: &serde_json::Value,
    ) -> Result<(), ConnectError> {
        let middleware: Vec<Middleware> = read(&self.handlers.middleware).clone();
        for layer in middleware {
            layer(socket.clone(), auth.clone()).await?;
        }
        Ok(())
    }

    /// Adds an admitted socket to the namespace and its own room (and, for a recovered
    /// socket, the rooms it had), without running any handler yet.
    pub(crate) fn insert(&self, socket: &Socket, rooms: &[Room]) {
        write(&self.sockets).insert(socket.0.id.clone(), socket.clone());
        self.adapter()
            .add_all(&socket.0.id, std::slice::from_ref(&socket.0.id));
        if !rooms.is_empty() {
            self.adapter().add_all(&socket.0.id, rooms);
        }
    }

    /// Starts the connect handlers of a socket just inserted, once the CONNECT answer has
    /// been handed to the transport: what they send goes out after it, in a write of its
    /// own, as with the reference server (clients that read one message at a time, like
    /// the official protocol suite, rely on it).
    pub(crate) fn connected(&self, socket: &Socket, auth: serde_json::Value) {
        let handlers = read(&self.handlers.connect);
        if handlers.is_empty() {
            return;
        }
        let handling: Vec<_> = handlers
            .iter()
            .map(|handler| handler(socket.clone(), auth.clone()))
            .collect();
        let flushed = socket.0.conn.flushed();
        tokio::spawn(async move {
            flushed.await;
            for handler in handling {
                tokio::spawn(handler);
            }
        });
    }

    /// Removes a socket and runs the disconnect handlers, once. With recovery on and a
    /// recoverable `reason`, its session is left with the adapter first.
    pub(crate) fn remove(&self, socket: &Socket, reason: DisconnectReason) {
        if !socket.mark_disconnected() {
            return;
        }
        if let (Some(_), Some(pid)) = (&self.config.recovery, &socket.0.pid) {
            if crate::recovery::is_recoverable(reason) {
                self.adapter().persist_session(Session {
                    sid: socket.0.id.clone(),
                    pid: pid.clone(),
                    rooms: self.adapter().socket_rooms(&socket.0.id),
                    data: socket.data_value(),
                });
            }
        }
        write(&self.sockets).remove(&socket.0.id);
        self.adapter().del_all(&socket.0.id);
        for handler in read(&self.handlers.disconnect).iter() {
            crate::handler::run_eagerly(handler(socket.clone(), reason));
        }
        self.check_empty();
    }

    /// For a child whose empty children are cleaned up: removes it when it is empty.
    pub(crate) fn check_empty(&self) {
        if let Some(on_empty) = &self.on_empty {
            if self.socket_count() == 0 && self.connecting.load(Ordering::Acquire) == 0 {
                on_empty(self);
            }
        }
    }

    pub(crate) fn dispatch(&self, socket: &Socket, name: String, id: Option<u64>, args: Args) {
        let handler = read(&self.handlers.events).get(&name).cloned();
        let handler = handler.or_else(|| read(&self.handlers.any).clone());
        if let Some(handler) = handler {
            crate::handler::run_eagerly(handler(
                socket.clone(),
                Event::new(socket, name, id, args),
            ));
        }
    }

    pub(crate) fn receive_ack(&self, socket: &Socket, id: u64, args: Args) {
        if socket.receive_ack(id, args.clone()) {
            return;
        }
        let waiting = self.lock_broadcast_acks().get(&id).cloned();
        if let Some(tx) = waiting {
            let _ = tx.send((socket.0.id.clone(), args));
        }
    }

    /// Sends the acks for broadcast `id` to `tx` until `forget_broadcast_acks`.
    pub(crate) fn watch_broadcast_acks(
        &self,
        id: u64,
        tx: mpsc::UnboundedSender<(SocketId, Args)>,
    ) {
        self.lock_broadcast_acks().insert(id, tx);
    }

    pub(crate) fn forget_broadcast_acks(&self, id: u64) {
        self.lock_broadcast_acks().remove(&id);
    }

    fn lock_broadcast_acks(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<u64, mpsc::UnboundedSender<(SocketId, Args)>>> {
        self.broadcast_acks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn socket_count(&self) -> usize {
        match &self.children {
            Some(children) => read(children).values().map(|c| c.socket_count()).sum(),
            None => read(&self.sockets).len(),
        }
    }

    /// The socket `id` of this namespace, if connected here.
    pub(crate) fn get_socket(&self, id: &str) -> Option<Socket> {
        read(&self.sockets).get(id).cloned()
    }
}

fn unreachable_adapter() -> Arc<dyn Adapter> {
    // `NsInner::new` always sets the adapter; this keeps `adapter()` panic-free anyway.
    Arc::new(crate::adapter::MemoryAdapter::new(Arc::new(Local(
        Weak::new(),
    ))))
}

impl Namespace {
    /// The namespace name (for a dynamic parent, the pattern or a generated `/_N` name).
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// Registers the handler for `event` (replacing any earlier one). The handler takes
    /// any number of [`FromEvent`](crate::extract::FromEvent) arguments, among them
    /// [`Socket`], [`Event`], [`Data<T>`](crate::extract::Data) and
    /// [`AckSender`](crate::AckSender):
    ///
    /// ```
    /// use carafe_socketio::{AckSender, Socket, SocketIo};
    /// use carafe_socketio::extract::Data;
    ///
    /// #[derive(serde::Deserialize, serde::Serialize)]
    /// struct Bid { item: String, amount: u32 }
    ///
    /// let sio = SocketIo::builder().build();
    /// sio.namespace("/item").on("bid", |socket: Socket, Data(bid): Data<Bid>, ack: AckSender| async move {
    ///     socket.to(format!("item:{}", bid.item)).emit("new_bid", &bid).await?;
    ///     ack.send(&"accepted")
    /// });
    /// ```
    pub fn on<H, T>(&self, event: &str, handler: H) -> &Self
    where
        H: EventHandler<T>,
    {
        let handler = erase_event_handler(handler);
        write(&self.0.handlers.events).insert(event.to_owned(), handler);
        self
    }

    /// Registers the catch-all handler, called for events without a handler of their own.
    pub fn on_any<H, T>(&self, handler: H) -> &Self
    where
        H: EventHandler<T>,
    {
        *write(&self.0.handlers.any) = Some(erase_event_handler(handler));
        self
    }

    /// Adds a connect handler; it gets the socket and the client's `auth` (`null` if none).
    pub fn on_connect<F, Fut>(&self, handler: F) -> &Self
    where
        F: Fn(Socket, serde_json::Value) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: HandlerOutput,
    {
        write(&self.0.handlers.connect).push(Arc::new(move |socket, auth| {
            let future = handler(socket, auth);
            Box::pin(async move { future.await.finish("connect") })
        }));
        self
    }

    /// Adds connect middleware: run in order before a socket joins; an `Err` refuses it
    /// with `CONNECT_ERROR {message, data}`.
    pub fn use_middleware<F, Fut>(&self, middleware: F) -> &Self
    where
        F: Fn(Socket, serde_json::Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ConnectError>> + Send + 'static,
    {
        write(&self.0.handlers.middleware).push(Arc::new(move |socket, auth| {
            Box::pin(middleware(socket, auth))
        }));
        self
    }

    /// Adds a disconnect handler; it gets the reason.
    pub fn on_disconnect<F, Fut>(&self, handler: F) -> &Self
    where
        F: Fn(Socket, DisconnectReason) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: HandlerOutput,
    {
        write(&self.0.handlers.disconnect).push(Arc::new(move |socket, reason| {
            let future = handler(socket, reason);
            Box::pin(async move { future.await.finish("disconnect") })
        }));
        self
    }

    /// How many sockets are connected to this namespace on this node (for a dynamic
    /// parent, to all its children).
    pub fn socket_count(&self) -> usize {
        self.0.socket_count()
    }

    /// Every socket of this namespace (for a dynamic parent, of every child), to emit to
    /// from anywhere; `to` and `except` narrow it.
    ///
    /// ```
    /// # async fn f() -> Result<(), carafe_socketio::Error> {
    /// let sio = carafe_socketio::SocketIo::builder().build();
    /// sio.namespace("/news").broadcast().emit("headline", &"hello").await?;
    /// # Ok(()) }
    /// ```
    pub fn broadcast(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.0.clone(), BroadcastOptions::default())
    }

    /// The sockets of this namespace in `room`.
    ///
    /// ```
    /// # async fn f() -> Result<(), carafe_socketio::Error> {
    /// let sio = carafe_socketio::SocketIo::builder().build();
    /// sio.namespace("/item").to("item:7").emit("sold", &()).await?;
    /// # Ok(()) }
    /// ```
    pub fn to(&self, room: impl Into<Room>) -> BroadcastOperator {
        self.broadcast().to(room)
    }

    /// Whether this is a dynamic parent namespace.
    pub fn is_dynamic_parent(&self) -> bool {
        self.0.children.is_some()
    }

    /// The names of a dynamic parent's children (empty for any other namespace).
    pub fn children(&self) -> Vec<String> {
        match &self.0.children {
            Some(children) => read(children).keys().cloned().collect(),
            None => Vec::new(),
        }
    }
}
