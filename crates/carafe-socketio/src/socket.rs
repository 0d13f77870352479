//! A socket: one client's connection to one namespace, and the events it receives.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::oneshot;

use crate::adapter::{BroadcastOptions, Room, SocketId};
use crate::connection::Connection;
use crate::error::{DisconnectReason, Error};
use crate::namespace::NsInner;
use crate::operator::BroadcastOperator;
use crate::packet::{encode_ack, encode_disconnect, encode_event, Args};

/// One client's connection to one namespace. Cloning shares it.
///
/// ```no_run
/// # async fn f(socket: carafe_socketio::Socket) -> Result<(), carafe_socketio::Error> {
/// socket.join("lobby");
/// socket.emit("welcome", &("hello", 1))?;
/// socket.to("lobby").emit("joined", socket.id()).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Socket(pub(crate) Arc<SocketInner>);

pub(crate) struct SocketInner {
    /// The socket id, also the name of its own room.
    pub(crate) id: SocketId,
    /// Its namespace.
    pub(crate) ns: Arc<NsInner>,
    /// The Engine.IO session it speaks through.
    pub(crate) conn: Arc<dyn Connection>,
    /// Emits waiting for the client's ack, by ack id.
    acks: Mutex<HashMap<u64, oneshot::Sender<Args>>>,
    /// Set once the socket has left the namespace.
    disconnected: AtomicBool,
    /// The application's per-socket data (JSON, so it can cross nodes).
    data: Mutex<serde_json::Value>,
    /// The private session id, when connection state recovery is on.
    pub(crate) pid: Option<Arc<str>>,
    /// Whether this socket took over a recovered session.
    recovered: bool,
    /// The `auth` payload of the client's CONNECT packet (`{}` when it sent none).
    auth: serde_json::Value,
}

/// How a socket starts: a new id, or a recovered session's.
#[derive(Debug, Default)]
pub(crate) struct Origin {
    pub(crate) id: Option<SocketId>,
    pub(crate) pid: Option<Arc<str>>,
    pub(crate) data: Option<serde_json::Value>,
    pub(crate) recovered: bool,
    pub(crate) auth: serde_json::Value,
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("id", &self.0.id)
            .field("namespace", &self.0.ns.name)
            .finish()
    }
}

impl Socket {
    pub(crate) fn new(origin: Origin, ns: Arc<NsInner>, conn: Arc<dyn Connection>) -> Socket {
        Socket(Arc::new(SocketInner {
            id: origin.id.unwrap_or_else(crate::sid::generate),
            ns,
            conn,
            acks: Mutex::new(HashMap::new()),
            disconnected: AtomicBool::new(false),
            data: Mutex::new(origin.data.unwrap_or_default()),
            pid: origin.pid,
            recovered: origin.recovered,
            auth: origin.auth,
        }))
    }

    /// Whether this socket took over the session of an earlier connection (connection
    /// state recovery): same id, rooms and data, and the missed packets were sent.
    pub fn recovered(&self) -> bool {
        self.0.recovered
    }

    /// The `auth` payload the client sent when it connected to this namespace
    /// (`socket.handshake.auth` in Node's server): `{}` when it sent none. Connect
    /// handlers and middleware also receive it as an argument.
    ///
    /// ```no_run
    /// # fn f(socket: carafe_socketio::Socket) {
    /// let token = socket.auth().get("token").and_then(|token| token.as_str());
    /// # }
    /// ```
    pub fn auth(&self) -> &serde_json::Value {
        &self.0.auth
    }

    /// The socket id.
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// The namespace name.
    pub fn namespace(&self) -> &str {
        &self.0.ns.name
    }

    /// The HTTP request that opened the client's session: headers, query, address, time,
    /// TLS, and the HTTP session. `None` for a session that came over no HTTP request
    /// (the in-process test client's).
    ///
    /// ```no_run
    /// # fn f(socket: carafe_socketio::Socket) {
    /// if let Some(handshake) = socket.handshake() {
    ///     println!("{:?} from {:?}", handshake.headers.get("user-agent"), handshake.address);
    /// }
    /// # }
    /// ```
    pub fn handshake(&self) -> Option<crate::connection::Handshake> {
        self.0.conn.handshake()
    }

    /// The HTTP session of the handshake request (carafe's signed cookie), as a read-only
    /// snapshot; see [`HttpSession`](crate::connection::HttpSession). Empty when there is
    /// none or the server was not attached to an App.
    ///
    /// ```no_run
    /// # fn f(socket: carafe_socketio::Socket) {
    /// let user: Option<String> = socket.http_session().get("user");
    /// # }
    /// ```
    pub fn http_session(&self) -> crate::connection::HttpSession {
        self.handshake()
            .map(|handshake| handshake.session)
            .unwrap_or_default()
    }

    /// Whether the socket is still in its namespace.
    pub fn connected(&self) -> bool {
        !self.0.disconnected.load(Ordering::Acquire)
    }

    /// Sends an event to this client (a tuple is several arguments, `()` none).
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), Error> {
        let packet = encode_event(&self.0.ns.name, event, None, data)?;
        let packet = if self.0.ns.config.recovery.is_some() {
            let opts = BroadcastOptions::default().to(self.0.id.clone());
            self.0.ns.persist(packet, &opts)
        } else {
            packet
        };
        if !self.connected() || !self.0.conn.send(&packet) {
            return Err(Error::Disconnected);
        }
        Ok(())
    }

    /// Sends an event and waits for the client's ack, up to the server's ack timeout;
    /// the ack's arguments are read as `R` (see [`Args::deserialize`]).
    pub async fn emit_with_ack<T, R>(&self, event: &str, data: &T) -> Result<R, Error>
    where
        T: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        let timeout = self.0.ns.config.ack_timeout;
        let args = self.emit_with_ack_timeout(event, data, timeout).await?;
        args.deserialize().map_err(Error::AckPayload)
    }

    /// Sends an event and waits up to `timeout` for the client's ack; returns its raw
    /// arguments.
    pub async fn emit_with_ack_timeout<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
        timeout: Duration,
    ) -> Result<Args, Error> {
        let id = self.0.ns.next_ack_id();
        let packet = encode_event(&self.0.ns.name, event, Some(id), data)?;
        let (tx, rx) = oneshot::channel();
        self.lock_acks().insert(id, tx);
        if !self.connected() || !self.0.conn.send(&packet) {
            self.lock_acks().remove(&id);
            return Err(Error::Disconnected);
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(args)) => Ok(args),
            Ok(Err(_)) => Err(Error::Disconnected),
            Err(_) => {
                self.lock_acks().remove(&id);
                Err(Error::AckTimeout)
            }
        }
    }

    /// Joins `room` (on this node; see [`BroadcastOperator::sockets_join`] for any node).
    pub fn join(&self, room: impl Into<Room>) {
        self.0.ns.adapter().add_all(&self.0.id, &[room.into()]);
    }

    /// Leaves `room`.
    pub fn leave(&self, room: &str) {
        self.0.ns.adapter().del(&self.0.id, room);
    }

    /// The rooms this socket is in (its own id room included).
    pub fn rooms(&self) -> Vec<Room> {
        self.0.ns.adapter().socket_rooms(&self.0.id)
    }

    /// Everyone in `room` but this socket.
    pub fn to(&self, room: impl Into<Room>) -> BroadcastOperator {
        self.broadcast().to(room)
    }

    /// Everyone in the namespace but this socket.
    pub fn broadcast(&self) -> BroadcastOperator {
        let opts = BroadcastOptions::default().except(self.0.id.clone());
        BroadcastOperator::new(self.0.ns.clone(), opts)
    }

    /// Stores per-socket data (any serializable value; `fetch_sockets` returns it).
    pub fn set_data<T: Serialize>(&self, data: &T) -> Result<(), Error> {
        let value = serde_json::to_value(data).map_err(Error::Payload)?;
        *self.lock_data() = value;
        Ok(())
    }

    /// The per-socket data as `T`.
    pub fn data<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&*self.lock_data())
    }

    pub(crate) fn data_value(&self) -> serde_json::Value {
        self.lock_data().clone()
    }

    /// Disconnects this socket from its namespace (the client gets `DISCONNECT`).
    pub fn disconnect(&self) {
        let _ = self.0.conn.send(&encode_disconnect(&self.0.ns.name));
        self.0
            .ns
            .remove(self, DisconnectReason::ServerNamespaceDisconnect);
    }

    /// Closes the whole connection (every namespace of this client).
    pub fn close(&self) {
        self.0.conn.close();
    }

    /// Delivers an ack from the client; `false` when no emit of this socket waits for it.
    pub(crate) fn receive_ack(&self, id: u64, args: Args) -> bool {
        match self.lock_acks().remove(&id) {
            Some(tx) => {
                let _ = tx.send(args);
                true
            }
            None => false,
        }
    }

    /// Marks the socket gone; returns `false` if it already was.
    pub(crate) fn mark_disconnected(&self) -> bool {
        let first = !self.0.disconnected.swap(true, Ordering::AcqRel);
        self.lock_acks().clear();
        first
    }

    fn lock_acks(&self) -> std::sync::MutexGuard<'_, HashMap<u64, oneshot::Sender<Args>>> {
        // Poisoning only follows a panic elsewhere; the map itself is still consistent.
        self.0
            .acks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lock_data(&self) -> std::sync::MutexGuard<'_, serde_json::Value> {
        self.0
            .data
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// An event from a client: its name, arguments, and the ack to answer with if the client
/// asked for one.
#[derive(Debug)]
pub struct Event {
    name: String,
    args: Args,
    ack: Option<AckSender>,
}

impl Event {
    pub(crate) fn new(socket: &Socket, name: String, id: Option<u64>, args: Args) -> Event {
        let ack = id.map(|id| AckSender {
            socket: socket.clone(),
            id: Some(id),
        });
        Event { name, args, ack }
    }

    pub(crate) fn from_parts(name: String, args: Args, ack: Option<AckSender>) -> Event {
        Event { name, args, ack }
    }

    pub(crate) fn into_parts(self) -> (String, Args, Option<AckSender>) {
        (self.name, self.args, self.ack)
    }

    /// The event name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The raw arguments.
    pub fn args(&self) -> &Args {
        &self.args
    }

    /// The arguments as `T` (one argument as itself, several as a tuple).
    pub fn data<T: DeserializeOwned>(&self) -> Result<T, Error> {
        self.args.deserialize().map_err(Error::Payload)
    }

    /// Takes the ack, if the client asked for one.
    pub fn take_ack(&mut self) -> Option<AckSender> {
        self.ack.take()
    }

    /// Answers the client's ack with `data`; does nothing when none was asked for.
    pub fn ack<T: Serialize + ?Sized>(&mut self, data: &T) -> Result<(), Error> {
        match self.ack.take() {
            Some(ack) => ack.send(data),
            None => Ok(()),
        }
    }
}

/// The answer to one client event; sending consumes it, so an ack goes out at most once,
/// and dropping it sends nothing. Taken as a handler argument when the client asked for no
/// ack, it is a sender whose `send` does nothing ([`requested`](AckSender::requested) is
/// `false`).
#[derive(Debug)]
pub struct AckSender {
    socket: Socket,
    id: Option<u64>,
}

impl AckSender {
    pub(crate) fn none(socket: Socket) -> AckSender {
        AckSender { socket, id: None }
    }

    pub(crate) fn id(&self) -> Option<u64> {
        self.id
    }

    /// Whether the client asked for this ack (otherwise `send` does nothing).
    pub fn requested(&self) -> bool {
        self.id.is_some()
    }

    /// Sends the ack (a tuple is several arguments, `()` none).
    pub fn send<T: Serialize + ?Sized>(self, data: &T) -> Result<(), Error> {
        let Some(id) = self.id else {
            return Ok(());
        };
        let packet = encode_ack(&self.socket.0.ns.name, id, data)?;
        if !self.socket.0.conn.send(&packet) {
            return Err(Error::Disconnected);
        }
        Ok(())
    }
}
