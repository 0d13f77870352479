//! A session and the handle the application holds to it.
//!
//! A session's state lives behind one short-held mutex; nothing async happens under it
//! and no handler is called while it is held. Two [`Notify`]s wake its tasks: `outgoing`
//! the writer (the pending long-polling GET, or the WebSocket task) when packets are
//! queued, `lifecycle` the session's driver when it closes or upgrades. Every wait first
//! registers with its `Notify` and then checks the state, so `notify_waiters` loses no
//! wake-up.
//!
//! Packets for the client wait in one queue whatever the transport, so a packet queued
//! during an upgrade goes out exactly once, in order, on whichever transport takes it.
//!
//! Exactly one task is the session's *driver* at a time: the heartbeat task while the
//! session polls, the WebSocket task once it is on WebSocket. Only the driver removes a
//! closed session from the server and calls
//! [`Handler::on_disconnect`](crate::Handler::on_disconnect), so that happens once, and
//! never from inside [`Socket::send`] or [`Socket::close`].

use std::any::Any;
use std::collections::VecDeque;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Uri};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::engine::Shared;
use crate::packet::{MessagePacket, Packet};
use crate::{DisconnectReason, Sid};

/// How long a gracefully closing session waits for its last packets to be taken.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a session the client closed while no GET was waiting stays findable, so
/// that a GET already on its way gets `noop` (as it would have, had it arrived first)
/// rather than "Session ID unknown".
const NOOP_GRACE: Duration = Duration::from_secs(1);

/// Bytes counted for each queued packet beyond its data (the queue slot and its refcount).
const PACKET_OVERHEAD: usize = 48;

/// The most slots an emptied queue keeps for reuse (see [`State::take_queue_into`]).
const SPARE_SLOTS: usize = 64;

/// The transport a session speaks.
///
/// ```
/// assert_eq!(carafe_engineio::Transport::Polling.as_str(), "polling");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// HTTP long-polling.
    Polling,
    /// WebSocket.
    WebSocket,
}

impl Transport {
    /// The name used in the `transport` query parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Polling => "polling",
            Transport::WebSocket => "websocket",
        }
    }
}

/// Why a packet could not be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// The session is closed or closing.
    Closed,
    /// The packet would pass `max_buffered_bytes`; the session is now closed
    /// ([`DisconnectReason::BufferFull`]).
    BufferFull,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Closed => f.write_str("the session is closed"),
            SendError::BufferFull => f.write_str(
                "the client reads too slowly: max_buffered_bytes reached, session closed",
            ),
        }
    }
}

impl std::error::Error for SendError {}

/// A handle to one Engine.IO session: cheap to clone, usable from any task.
///
/// ```no_run
/// # fn f(socket: carafe_engineio::Socket) {
/// let other = socket.clone();
/// tokio::spawn(async move {
///     let _ = other.send("from another task");
/// });
/// println!("{} over {}", socket.sid(), socket.transport().as_str());
/// # }
/// ```
#[derive(Clone)]
pub struct Socket {
    pub(crate) session: Arc<Session>,
}

/// What the handshake request said, kept for the application.
#[derive(Debug)]
pub(crate) struct Handshake {
    pub(crate) uri: Uri,
    pub(crate) headers: HeaderMap,
    pub(crate) peer_addr: Option<SocketAddr>,
}

impl Handshake {
    /// What to keep of the handshake request (called in the request's task, where the
    /// connection's address is known).
    pub(crate) fn from_request(req: &carafe_serve::Request) -> Handshake {
        Handshake {
            uri: req.uri().clone(),
            headers: req.headers().clone(),
            peer_addr: carafe_serve::ConnInfo::current().map(|info| info.peer_addr),
        }
    }
}

/// One session: see the module documentation.
pub(crate) struct Session {
    pub(crate) sid: Sid,
    pub(crate) engine: Arc<Shared>,
    pub(crate) handshake: Handshake,
    state: Mutex<State>,
    /// Wakes the writer: the pending GET, or the WebSocket task.
    pub(crate) outgoing: Notify,
    /// Wakes the driver and an upgrade in progress: closes, upgrades.
    pub(crate) lifecycle: Notify,
    /// Wakes [`Socket::flushed`] callers: a transport took the queue.
    pub(crate) drained: Notify,
    /// The application's value for this session ([`Socket::set_data`]).
    data: OnceLock<Box<dyn Any + Send + Sync>>,
}

/// A packet waiting for the client.
#[derive(Debug, Clone)]
pub(crate) enum Outgoing {
    /// An application message.
    Message(MessagePacket),
    /// A heartbeat ping.
    Ping,
    /// The end of a graceful close: `1` over long-polling, a close frame over WebSocket.
    Close,
}

impl Outgoing {
    fn cost(&self) -> usize {
        match self {
            Outgoing::Message(message) => message.data_len() + PACKET_OVERHEAD,
            Outgoing::Ping | Outgoing::Close => PACKET_OVERHEAD,
        }
    }
}

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Open: packets flow both ways.
    Open,
    /// Closing gracefully: the queue ends with [`Outgoing::Close`]; closed at `deadline`
    /// at the latest.
    Closing {
        reason: DisconnectReason,
        deadline: Instant,
    },
    /// Closed; the driver reports `reason` and removes the session.
    Closed(DisconnectReason),
}

/// How far an upgrade to WebSocket has gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Upgrade {
    /// No upgrade is in progress.
    None,
    /// A WebSocket for this session is opening or open, its probe not yet received.
    Started,
    /// The probe was answered; long-polling GETs get `noop`.
    Probed,
}

/// A special answer owed to the pending GET.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PollAnswer {
    /// `6`: end the GET (upgrade probe, or the client closed).
    Noop,
    /// `1`: the session was closed by the server.
    Close,
}

/// The mutable part of a session.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) transport: Transport,
    pub(crate) phase: Phase,
    pub(crate) upgrade: Upgrade,
    /// Packets for the client, oldest first.
    pub(crate) queue: VecDeque<Outgoing>,
    /// What the queue holds, as counted against `max_buffered_bytes`.
    queued_bytes: usize,
    /// A long-polling GET is waiting for packets.
    pub(crate) poll_waiting: bool,
    /// What the waiting GET must answer instead of packets.
    pub(crate) poll_answer: Option<PollAnswer>,
    /// A long-polling POST body is being read.
    pub(crate) posting: bool,
    /// The client closed with no GET waiting: the next GET gets `noop` (see
    /// `NOOP_GRACE`).
    pub(crate) noop_owed: bool,
    /// When the next ping is due (while no pong is awaited).
    next_ping: Instant,
    /// When the awaited pong is late.
    pong_deadline: Option<Instant>,
}

/// What the driver does after a heartbeat check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tick {
    /// Sleep until then (or until woken); wake the writer first if a ping was queued.
    Sleep { until: Instant, wake_writer: bool },
    /// The session is closed: report it.
    Finished(DisconnectReason),
}

impl State {
    pub(crate) fn new(transport: Transport, now: Instant, ping_interval: Duration) -> State {
        State {
            transport,
            phase: Phase::Open,
            upgrade: Upgrade::None,
            queue: VecDeque::new(),
            queued_bytes: 0,
            poll_waiting: false,
            poll_answer: None,
            posting: false,
            noop_owed: false,
            next_ping: now + ping_interval,
            pong_deadline: None,
        }
    }

    /// Queues a packet, or closes the session if it would pass `limit`. Returns whether
    /// the writer must be woken (the queue was empty).
    #[cfg(test)]
    pub(crate) fn push(&mut self, packet: Outgoing, limit: usize) -> Result<bool, SendError> {
        if self.phase != Phase::Open {
            return Err(SendError::Closed);
        }
        let cost = packet.cost();
        if self.queued_bytes + cost > limit {
            self.close_now(DisconnectReason::BufferFull);
            return Err(SendError::BufferFull);
        }
        self.queued_bytes += cost;
        self.queue.push_back(packet);
        Ok(self.queue.len() == 1)
    }

    /// Queues several packets with nothing between them, all or none.
    pub(crate) fn push_all(
        &mut self,
        packets: impl IntoIterator<Item = Outgoing> + Clone,
        limit: usize,
    ) -> Result<bool, SendError> {
        if self.phase != Phase::Open {
            return Err(SendError::Closed);
        }
        let cost: usize = packets.clone().into_iter().map(|p| p.cost()).sum();
        if self.queued_bytes + cost > limit {
            self.close_now(DisconnectReason::BufferFull);
            return Err(SendError::BufferFull);
        }
        let was_empty = self.queue.is_empty();
        self.queued_bytes += cost;
        self.queue.extend(packets);
        Ok(was_empty && !self.queue.is_empty())
    }

    /// Takes every queued packet. Taking the final [`Outgoing::Close`] of a graceful close
    /// closes the session.
    pub(crate) fn take_queue(&mut self) -> VecDeque<Outgoing> {
        self.take_queue_into(VecDeque::new())
    }

    /// Takes every queued packet, leaving `spare` (an emptied queue from an earlier take,
    /// kept for its allocation) in its place, so that a busy session does not grow a new
    /// queue from nothing for every batch. `spare` keeps at most `SPARE_SLOTS` slots.
    pub(crate) fn take_queue_into(&mut self, mut spare: VecDeque<Outgoing>) -> VecDeque<Outgoing> {
        spare.clear();
        if spare.capacity() > SPARE_SLOTS {
            spare = VecDeque::new();
        }
        self.queued_bytes = 0;
        let taken = std::mem::replace(&mut self.queue, spare);
        if let (Some(Outgoing::Close), Phase::Closing { reason, .. }) = (taken.back(), self.phase) {
            self.phase = Phase::Closed(reason);
        }
        taken
    }

    /// Closes at once: queued packets are dropped, a pending GET is answered.
    /// Returns `false` if the session was already closed.
    pub(crate) fn close_now(&mut self, reason: DisconnectReason) -> bool {
        if matches!(self.phase, Phase::Closed(_)) {
            return false;
        }
        self.phase = Phase::Closed(reason);
        self.queue = VecDeque::new();
        self.queued_bytes = 0;
        if !self.poll_waiting {
            self.noop_owed = reason == DisconnectReason::TransportClose;
        } else {
            // The reference ends a pending GET with `noop` when the client closed, and
            // with `close` when the server did.
            self.poll_answer = Some(match reason {
                DisconnectReason::TransportClose => PollAnswer::Noop,
                _ => PollAnswer::Close,
            });
        }
        true
    }

    /// Starts a graceful close: what is queued goes out, then the close. Returns `false`
    /// if the session was not open.
    pub(crate) fn close_gracefully(&mut self, reason: DisconnectReason, now: Instant) -> bool {
        if self.phase != Phase::Open {
            return false;
        }
        self.queue.push_back(Outgoing::Close);
        self.phase = Phase::Closing {
            reason,
            deadline: now + CLOSE_TIMEOUT,
        };
        true
    }

    /// A pong arrived: the next ping is one interval from now.
    pub(crate) fn on_pong(&mut self, now: Instant, ping_interval: Duration) {
        self.pong_deadline = None;
        self.next_ping = now + ping_interval;
    }

    /// The heartbeat: queues a ping when due, closes on a late pong or a stalled graceful
    /// close, and says when to look again.
    pub(crate) fn tick(&mut self, now: Instant, ping_timeout: Duration) -> Tick {
        if let Phase::Closing { reason, deadline } = self.phase {
            if now >= deadline {
                self.close_now(reason);
            }
        }
        if self.phase == Phase::Open && self.pong_deadline.is_some_and(|late| now >= late) {
            self.close_now(DisconnectReason::PingTimeout);
        }
        let mut wake_writer = false;
        if self.phase == Phase::Open && self.pong_deadline.is_none() && now >= self.next_ping {
            self.queued_bytes += Outgoing::Ping.cost();
            self.queue.push_back(Outgoing::Ping);
            wake_writer = true;
            // Counted from when the ping was due, not from when this task woke, so a late
            // timer does not stretch the timeout.
            let due = self.next_ping + ping_timeout;
            self.pong_deadline = Some(if due > now { due } else { now + ping_timeout });
        }
        match self.phase {
            Phase::Closed(reason) => Tick::Finished(reason),
            Phase::Closing { deadline, .. } => Tick::Sleep {
                until: deadline,
                wake_writer,
            },
            Phase::Open => Tick::Sleep {
                until: self.pong_deadline.unwrap_or(self.next_ping),
                wake_writer,
            },
        }
    }
}

impl Session {
    pub(crate) fn new(
        sid: Sid,
        engine: Arc<Shared>,
        handshake: Handshake,
        transport: Transport,
    ) -> Session {
        let state = State::new(transport, Instant::now(), engine.config.ping_interval);
        Session {
            sid,
            engine,
            handshake,
            state: Mutex::new(state),
            outgoing: Notify::new(),
            lifecycle: Notify::new(),
            drained: Notify::new(),
            data: OnceLock::new(),
        }
    }

    /// The session's state. A panic while it was held (a bug) leaves it usable.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Closes at once and wakes everyone concerned.
    pub(crate) fn close_now(&self, reason: DisconnectReason) {
        if self.lock().close_now(reason) {
            self.wake_all();
        }
    }

    pub(crate) fn wake_all(&self) {
        self.outgoing.notify_waiters();
        self.lifecycle.notify_waiters();
    }

    fn push_all(
        &self,
        packets: impl IntoIterator<Item = Outgoing> + Clone,
    ) -> Result<(), SendError> {
        let limit = self.engine.config.max_buffered_bytes;
        let pushed = self.lock().push_all(packets, limit);
        match pushed {
            Ok(true) => self.outgoing.notify_waiters(),
            Ok(false) => {}
            Err(SendError::BufferFull) => self.wake_all(),
            Err(SendError::Closed) => {}
        }
        pushed.map(|_| ())
    }
}

/// A handle to a session that does not keep it alive: what an application stores inside
/// the session's own data ([`Socket::set_data`]) so the two do not hold each other forever.
///
/// ```no_run
/// # fn f(socket: carafe_engineio::Socket) {
/// let weak = socket.downgrade();
/// if let Some(socket) = weak.upgrade() {
///     let _ = socket.send("still here");
/// }
/// # }
/// ```
#[derive(Clone)]
pub struct WeakSocket {
    session: std::sync::Weak<Session>,
}

impl WeakSocket {
    /// The session, unless it is gone.
    pub fn upgrade(&self) -> Option<Socket> {
        self.session.upgrade().map(Socket::new)
    }
}

impl fmt::Debug for WeakSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakSocket").finish_non_exhaustive()
    }
}

impl Socket {
    pub(crate) fn new(session: Arc<Session>) -> Socket {
        Socket { session }
    }

    /// A handle that does not keep the session alive.
    pub fn downgrade(&self) -> WeakSocket {
        WeakSocket {
            session: Arc::downgrade(&self.session),
        }
    }

    /// The session id.
    pub fn sid(&self) -> Sid {
        self.session.sid
    }

    /// The transport the session speaks now (`Polling` until an upgrade completes).
    pub fn transport(&self) -> Transport {
        self.session.lock().transport
    }

    /// Whether the session is open (not closing or closed).
    pub fn is_open(&self) -> bool {
        self.session.lock().phase == Phase::Open
    }

    /// The handshake request's header fields (cookies, authorization, user agent).
    pub fn headers(&self) -> &HeaderMap {
        &self.session.handshake.headers
    }

    /// The handshake request's URI (its query carries the client's parameters).
    pub fn uri(&self) -> &Uri {
        &self.session.handshake.uri
    }

    /// The client's address at the handshake, when the server knows it.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.session.handshake.peer_addr
    }

    /// Queues a text message.
    ///
    /// ```no_run
    /// # fn f(socket: carafe_engineio::Socket) -> Result<(), carafe_engineio::SendError> {
    /// socket.send("hello")?;
    /// # Ok(()) }
    /// ```
    pub fn send(&self, text: &str) -> Result<(), SendError> {
        self.send_packet(MessagePacket::text(text))
    }

    /// Queues a binary message.
    pub fn send_binary(&self, data: impl Into<Bytes>) -> Result<(), SendError> {
        self.send_packet(MessagePacket::binary(data))
    }

    /// Queues a message encoded beforehand; for sending one message to many sockets, as
    /// clones share their bytes.
    ///
    /// ```no_run
    /// # fn f(sockets: Vec<carafe_engineio::Socket>) {
    /// use carafe_engineio::packet::MessagePacket;
    ///
    /// let news = MessagePacket::text("news for everyone");
    /// for socket in &sockets {
    ///     let _ = socket.send_packet(news.clone());
    /// }
    /// # }
    /// ```
    pub fn send_packet(&self, packet: MessagePacket) -> Result<(), SendError> {
        self.session.push_all([Outgoing::Message(packet)])
    }

    /// Queues several messages with no other packet between them, all or none: a
    /// Socket.IO packet and its binary attachments, say.
    ///
    /// ```no_run
    /// # fn f(socket: carafe_engineio::Socket) -> Result<(), carafe_engineio::SendError> {
    /// use carafe_engineio::packet::MessagePacket;
    ///
    /// socket.send_all(&[
    ///     MessagePacket::text(r#"51-["file",{"_placeholder":true,"num":0}]"#),
    ///     MessagePacket::binary(vec![1, 2, 3]),
    /// ])?;
    /// # Ok(()) }
    /// ```
    pub fn send_all(&self, packets: &[MessagePacket]) -> Result<(), SendError> {
        self.session
            .push_all(packets.iter().cloned().map(Outgoing::Message))
    }

    /// Waits until every packet queued so far has been handed to the transport (written
    /// to the WebSocket, or taken by a long-polling GET), or the session is closing.
    /// Socket.IO uses it to start a namespace's connect handlers after the CONNECT answer
    /// went out on its own, as the reference server's write buffer does.
    ///
    /// ```no_run
    /// # async fn f(socket: carafe_engineio::Socket) {
    /// let _ = socket.send("first");
    /// socket.flushed().await;
    /// let _ = socket.send("second, in a later write");
    /// # }
    /// ```
    pub async fn flushed(&self) {
        loop {
            let mut drained = std::pin::pin!(self.session.drained.notified());
            drained.as_mut().enable();
            let mut lifecycle = std::pin::pin!(self.session.lifecycle.notified());
            lifecycle.as_mut().enable();
            {
                let state = self.session.lock();
                if state.queue.is_empty() || state.phase != Phase::Open {
                    return;
                }
            }
            tokio::select! {
                () = drained => {}
                () = lifecycle => {}
            }
        }
    }

    /// Closes the session after what is already queued has been sent; the handler gets
    /// [`DisconnectReason::ForcedClose`].
    pub fn close(&self) {
        self.close_with(DisconnectReason::ForcedClose);
    }

    pub(crate) fn close_with(&self, reason: DisconnectReason) {
        if self.session.lock().close_gracefully(reason, Instant::now()) {
            self.session.wake_all();
        }
    }

    /// Attaches the application's value to the session, once; `Err` gives it back if one
    /// is already there.
    ///
    /// ```no_run
    /// # fn f(socket: carafe_engineio::Socket) {
    /// struct User { name: String }
    /// let _ = socket.set_data(User { name: "ada".into() });
    /// let name = socket.data::<User>().map(|user| user.name.as_str());
    /// # }
    /// ```
    pub fn set_data<T: Any + Send + Sync>(&self, value: T) -> Result<(), T> {
        let mut value = Some(value);
        let _ = self.session.data.get_or_init(|| match value.take() {
            Some(value) => Box::new(value),
            None => Box::new(()),
        });
        value.map_or(Ok(()), Err)
    }

    /// The application's value, if one of type `T` was attached.
    pub fn data<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.session.data.get()?.downcast_ref()
    }

    /// Delivers a packet from the client. Returns `false` once the session is closed.
    /// Packets that arrive while the session closes are dropped, as the reference does.
    pub(crate) fn receive(&self, packet: Packet) -> bool {
        let engine = &self.session.engine;
        let mut state = self.session.lock();
        match state.phase {
            Phase::Closed(_) => return false,
            Phase::Closing { .. } => return true,
            Phase::Open => {}
        }
        let reason = match packet {
            Packet::Message(text) => {
                drop(state);
                engine.handler.on_message(self, text);
                return true;
            }
            Packet::Binary(data) => {
                drop(state);
                engine.handler.on_binary(self, data);
                return true;
            }
            Packet::Pong(_) => {
                state.on_pong(Instant::now(), engine.config.ping_interval);
                return true;
            }
            Packet::Open(_) | Packet::Upgrade | Packet::Noop => return true,
            Packet::Close => DisconnectReason::TransportClose,
            // Protocol 4: only the server pings ("invalid heartbeat direction").
            Packet::Ping(_) => DisconnectReason::TransportError,
        };
        state.close_now(reason);
        drop(state);
        self.session.wake_all();
        false
    }

    /// Tells the handler the session closed and removes it from the server. Only the
    /// driver calls this, once.
    pub(crate) async fn finish(&self, reason: DisconnectReason) {
        let engine = &self.session.engine;
        engine.handler.on_disconnect(self, reason);
        if self.session.lock().noop_owed {
            tokio::time::sleep(NOOP_GRACE).await;
        }
        engine.remove(&self.session.sid);
    }
}

impl PartialEq for Socket {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.session, &other.session)
    }
}

impl Eq for Socket {}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("sid", &self.session.sid)
            .field("peer_addr", &self.session.handshake.peer_addr)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
