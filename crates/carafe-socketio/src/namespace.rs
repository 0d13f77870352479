//! Namespaces: the handlers registered for one namespace, its connected sockets, and the
//! adapter that keeps its rooms.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};

use tokio::sync::mpsc;

use crate::adapter::{Adapter, AdapterFactory, LocalSockets, SocketId};
use crate::error::{ConnectError, DisconnectReason};
use crate::handler::{
    event_handler, ConnectHandler, DisconnectHandler, EventHandler, HandlerOutput, Middleware,
};
use crate::io::Config;
use crate::packet::{Args, Encoded};
use crate::socket::{Event, Socket};

/// A namespace's handlers, to register with [`SocketIo::namespace`](crate::SocketIo::namespace).
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

pub(crate) struct NsInner {
    pub(crate) name: String,
    pub(crate) config: Arc<Config>,
    handlers: RwLock<HashMap<String, EventHandler>>,
    any: RwLock<Option<EventHandler>>,
    connect: RwLock<Vec<ConnectHandler>>,
    middleware: RwLock<Vec<Middleware>>,
    disconnect: RwLock<Vec<DisconnectHandler>>,
    sockets: RwLock<HashMap<SocketId, Socket>>,
    adapter: OnceLock<Arc<dyn Adapter>>,
    /// One ack id counter for socket emits and broadcasts alike, so they never collide.
    next_ack: AtomicU64,
    /// Broadcasts waiting for acks, by ack id.
    broadcast_acks: Mutex<HashMap<u64, mpsc::UnboundedSender<(SocketId, Args)>>>,
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

    fn disconnect(&self, id: &str, close: bool) {
        let Some(ns) = self.0.upgrade() else { return };
        let socket = read(&ns.sockets).get(id).cloned();
        if let Some(socket) = socket {
            if close {
                socket.close();
            }
            socket.disconnect();
        }
    }

    fn data(&self, id: &str) -> Option<serde_json::Value> {
        let ns = self.0.upgrade()?;
        let socket = read(&ns.sockets).get(id).cloned();
        socket.map(|socket| socket.data_value())
    }
}

impl NsInner {
    pub(crate) fn new(
        name: String,
        config: Arc<Config>,
        factory: &dyn AdapterFactory,
    ) -> Arc<Self> {
        let ns = Arc::new(NsInner {
            name,
            config,
            handlers: RwLock::default(),
            any: RwLock::default(),
            connect: RwLock::default(),
            middleware: RwLock::default(),
            disconnect: RwLock::default(),
            sockets: RwLock::default(),
            adapter: OnceLock::new(),
            next_ack: AtomicU64::new(0),
            broadcast_acks: Mutex::default(),
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

    /// Runs the middleware in order; the first refusal wins.
    pub(crate) async fn admit(
        &self,
        socket: &Socket,
        auth: &serde_json::Value,
    ) -> Result<(), ConnectError> {
        let middleware: Vec<Middleware> = read(&self.middleware).clone();
        for layer in middleware {
            layer(socket.clone(), auth.clone()).await?;
        }
        Ok(())
    }

    /// Adds an admitted socket and starts its connect handlers.
    pub(crate) fn insert(&self, socket: &Socket, auth: serde_json::Value) {
        write(&self.sockets).insert(socket.0.id.clone(), socket.clone());
        self.adapter()
            .add_all(&socket.0.id, std::slice::from_ref(&socket.0.id));
        for handler in read(&self.connect).iter() {
            tokio::spawn(handler(socket.clone(), auth.clone()));
        }
    }

    /// Removes a socket and runs the disconnect handlers, once.
    pub(crate) fn remove(&self, socket: &Socket, reason: DisconnectReason) {
        if !socket.mark_disconnected() {
            return;
        }
        write(&self.sockets).remove(&socket.0.id);
        self.adapter().del_all(&socket.0.id);
        for handler in read(&self.disconnect).iter() {
            tokio::spawn(handler(socket.clone(), reason));
        }
    }

    pub(crate) fn dispatch(&self, socket: &Socket, name: String, id: Option<u64>, args: Args) {
        let handler = read(&self.handlers).get(&name).cloned();
        let handler = handler.or_else(|| read(&self.any).clone());
        if let Some(handler) = handler {
            tokio::spawn(handler(socket.clone(), Event::new(socket, name, id, args)));
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

    pub(crate) fn watch_broadcast_acks(
        &self,
        id: u64,
    ) -> mpsc::UnboundedReceiver<(SocketId, Args)> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.lock_broadcast_acks().insert(id, tx);
        rx
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
        read(&self.sockets).len()
    }
}

fn unreachable_adapter() -> Arc<dyn Adapter> {
    // `NsInner::new` always sets the adapter; this keeps `adapter()` panic-free anyway.
    Arc::new(crate::adapter::MemoryAdapter::new(Arc::new(Local(
        Weak::new(),
    ))))
}

impl Namespace {
    /// The namespace name.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// Registers the handler for `event` (replacing any earlier one).
    pub fn on<F, Fut>(&self, event: &str, handler: F) -> &Self
    where
        F: Fn(Socket, Event) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: HandlerOutput,
    {
        let handler = event_handler(event.to_owned(), handler);
        write(&self.0.handlers).insert(event.to_owned(), handler);
        self
    }

    /// Registers the catch-all handler, called for events without a handler of their own.
    pub fn on_any<F, Fut>(&self, handler: F) -> &Self
    where
        F: Fn(Socket, Event) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: HandlerOutput,
    {
        *write(&self.0.any) = Some(event_handler("any event".to_owned(), handler));
        self
    }

    /// Adds a connect handler; it gets the socket and the client's `auth` (`null` if none).
    pub fn on_connect<F, Fut>(&self, handler: F) -> &Self
    where
        F: Fn(Socket, serde_json::Value) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: HandlerOutput,
    {
        write(&self.0.connect).push(Arc::new(move |socket, auth| {
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
        write(&self.0.middleware).push(Arc::new(move |socket, auth| {
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
        write(&self.0.disconnect).push(Arc::new(move |socket, reason| {
            let future = handler(socket, reason);
            Box::pin(async move { future.await.finish("disconnect") })
        }));
        self
    }

    /// How many sockets are connected to this namespace on this node.
    pub fn socket_count(&self) -> usize {
        self.0.socket_count()
    }
}
