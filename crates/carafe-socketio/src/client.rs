//! One Engine.IO session on the Socket.IO side: decodes its messages and routes each
//! packet to its namespace, in the order they arrived.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use crate::adapter::{NameMap, RestoredSession, Session};
use crate::connection::Connection;
use crate::error::DisconnectReason;
use crate::io::SocketIo;
use crate::namespace::NsInner;
use crate::packet::{
    encode_connect, encode_connect_error, Decoder, Packet, PacketData, ParseError,
};
use crate::socket::{Origin, Socket};

/// The Socket.IO side of one Engine.IO session: feed it the session's messages.
#[derive(Debug, Clone)]
pub struct Client(Arc<ClientInner>);

struct ClientInner {
    io: SocketIo,
    conn: Arc<dyn Connection>,
    decoder: Mutex<Decoder>,
    /// Packets that arrived while a CONNECT (middleware, recovery) was being handled.
    pending: Mutex<Pending>,
    /// The sockets of this client, by namespace.
    sockets: Mutex<NameMap<Socket>>,
    /// Set at the first accepted CONNECT.
    has_connected: std::sync::atomic::AtomicBool,
}

/// Packets are handled in arrival order. Most are handled at once, on the task that read
/// them; a CONNECT runs asynchronously (middleware may wait), and while it does, later
/// packets queue here and the connecting task handles them after it. An idle client
/// therefore owns no task and no channel.
#[derive(Default)]
struct Pending {
    /// A task is handling a CONNECT and then the queue.
    busy: bool,
    queue: VecDeque<Packet>,
}

impl std::fmt::Debug for ClientInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

impl Client {
    pub(crate) fn new(io: SocketIo, conn: Arc<dyn Connection>, max_attachments: usize) -> Client {
        Client(Arc::new(ClientInner {
            io,
            conn,
            decoder: Mutex::new(Decoder::with_max_attachments(max_attachments)),
            pending: Mutex::default(),
            sockets: Mutex::default(),
            has_connected: std::sync::atomic::AtomicBool::new(false),
        }))
    }

    /// Whether this client is connected to at least one namespace.
    pub fn is_connected(&self) -> bool {
        self.lock_sockets().values().any(Socket::connected)
    }

    /// Whether this client has ever joined a namespace (`connectTimeout` no longer
    /// applies to it then, even after it left them all).
    pub fn has_connected(&self) -> bool {
        self.0
            .has_connected
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// A text message arrived.
    pub fn on_text(&self, text: Bytes) {
        let result = self.lock_decoder().decode_text(text);
        self.decoded(result);
    }

    /// A binary message arrived.
    pub fn on_binary(&self, data: Bytes) {
        let result = self.lock_decoder().decode_binary(data);
        self.decoded(result);
    }

    /// The session closed: every socket leaves its namespace with `reason`.
    pub fn on_close(&self, reason: DisconnectReason) {
        let sockets: Vec<Socket> = self
            .lock_sockets()
            .drain()
            .map(|(_, socket)| socket)
            .collect();
        for socket in sockets {
            socket.0.ns.remove(&socket, reason);
        }
    }

    fn decoded(&self, result: Result<Option<Packet>, ParseError>) {
        match result {
            Ok(Some(packet)) => self.arrived(packet),
            Ok(None) => {}
            Err(err) => {
                tracing::debug!("closing a socket.io connection: {err}");
                self.on_close(DisconnectReason::ParseError);
                self.0.conn.close();
            }
        }
    }

    /// Handles `packet` now, or queues it behind a CONNECT in progress.
    fn arrived(&self, packet: Packet) {
        {
            let mut pending = self.lock_pending();
            if pending.busy {
                pending.queue.push_back(packet);
                return;
            }
            if !matches!(packet.data, PacketData::Connect(_)) {
                drop(pending);
                self.handle(packet);
                return;
            }
            pending.busy = true;
        }
        // Most CONNECTs finish without waiting (no middleware, recovery from memory): run
        // them here, at once, so the answer is queued before this message's task goes on
        // and is written in the same turn; only one that waits moves to a task of its own.
        crate::handler::run_eagerly(Box::pin(self.clone().handle_queued(packet)));
    }

    /// Handles a CONNECT, then what queued behind it, until the queue is empty.
    async fn handle_queued(self, first: Packet) {
        let mut next = Some(first);
        while let Some(packet) = next {
            match packet.data {
                PacketData::Connect(auth) => {
                    let io = self.0.io.clone();
                    self.connect(&io, &packet.namespace, auth).await;
                }
                _ => self.handle(packet),
            }
            let mut pending = self.lock_pending();
            next = pending.queue.pop_front();
            pending.busy = next.is_some();
        }
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.0
            .pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lock_decoder(&self) -> std::sync::MutexGuard<'_, Decoder> {
        self.0
            .decoder
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lock_sockets(&self) -> std::sync::MutexGuard<'_, NameMap<Socket>> {
        self.0
            .sockets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The connected socket of this client in `namespace`; one the server disconnected
    /// is forgotten here, so the client may connect to that namespace again.
    fn socket(&self, namespace: &str) -> Option<Socket> {
        let mut sockets = self.lock_sockets();
        match sockets.get(namespace) {
            Some(socket) if socket.connected() => Some(socket.clone()),
            Some(_) => {
                sockets.remove(namespace);
                None
            }
            None => None,
        }
    }

    async fn connect(&self, io: &SocketIo, namespace: &str, auth: Option<Bytes>) {
        let Some(connecting) = io.connecting(namespace) else {
            let _ = self
                .0
                .conn
                .send(&encode_connect_error(namespace, "Invalid namespace", None));
            return;
        };
        let ns = connecting.0.clone();
        if self.socket(namespace).is_some() {
            return; // Already connected; the reference server ignores a second CONNECT.
        }
        let auth = auth
            .and_then(|raw| serde_json::from_slice(&raw).ok())
            .unwrap_or_else(|| serde_json::Value::Object(serde_json::Map::new()));
        let restored = restore(&ns, &auth).await;
        let (origin, rooms, missed) = match restored {
            Some(restored) => {
                let session = restored.session;
                let origin = Origin {
                    id: Some(session.sid),
                    pid: Some(session.pid),
                    data: Some(session.data),
                    recovered: true,
                    auth: auth.clone(),
                };
                (origin, session.rooms, restored.missed)
            }
            None => {
                let pid = ns.config.recovery.map(|_| crate::recovery::generate_pid());
                let origin = Origin {
                    pid,
                    auth: auth.clone(),
                    ..Origin::default()
                };
                (origin, Vec::new(), Vec::new())
            }
        };
        let socket = Socket::new(origin, ns.clone(), self.0.conn.clone());
        let skip = socket.recovered() && ns.config.recovery.is_some_and(|r| r.skip_middlewares);
        if !skip {
            if let Err(refusal) = ns.admit(&socket, &auth).await {
                let data = refusal.data.as_ref();
                let _ = self
                    .0
                    .conn
                    .send(&encode_connect_error(namespace, &refusal.message, data));
                if let (true, Some(pid)) = (socket.recovered(), socket.0.pid.clone()) {
                    // Refused this time; the session may still be recovered later.
                    ns.adapter().persist_session(Session {
                        sid: socket.0.id.clone(),
                        pid,
                        rooms,
                        data: socket.data_value(),
                    });
                }
                return;
            }
        }
        self.lock_sockets()
            .insert(namespace.to_owned(), socket.clone());
        self.0
            .has_connected
            .store(true, std::sync::atomic::Ordering::Release);
        let answer = match &socket.0.pid {
            Some(pid) => serde_json::json!({ "sid": socket.id(), "pid": &**pid }),
            None => serde_json::json!({ "sid": socket.id() }),
        };
        let _ = self.0.conn.send(&encode_connect(namespace, Some(&answer)));
        for packet in &missed {
            let _ = self.0.conn.send(packet);
        }
        ns.insert(&socket, &rooms);
        ns.connected(&socket, auth);
        drop(connecting);
    }

    fn handle(&self, packet: Packet) {
        let Some(socket) = self.socket(&packet.namespace) else {
            return; // Not connected to that namespace: ignored, as the reference server does.
        };
        match packet.data {
            PacketData::Event { event, id, args } => socket.0.ns.dispatch(&socket, event, id, args),
            PacketData::Ack { id, args } => socket.0.ns.receive_ack(&socket, id, args),
            PacketData::Disconnect => {
                self.lock_sockets().remove(&*packet.namespace);
                socket
                    .0
                    .ns
                    .remove(&socket, DisconnectReason::ClientNamespaceDisconnect);
            }
            PacketData::Connect(_) | PacketData::ConnectError(_) => {}
        }
    }
}

/// The session a CONNECT's `auth` asks to recover (`{pid, offset}`), if recovery is on and
/// the adapter still has it.
async fn restore(ns: &NsInner, auth: &serde_json::Value) -> Option<RestoredSession> {
    ns.config.recovery?;
    let pid = auth.get("pid")?.as_str()?;
    let offset = auth.get("offset")?.as_str()?;
    match ns.adapter().restore_session(pid, offset).await {
        Ok(restored) => restored,
        Err(err) => {
            tracing::warn!("connection state recovery failed in {}: {err}", ns.name);
            None
        }
    }
}
