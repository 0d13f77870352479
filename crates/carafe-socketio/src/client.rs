//! One Engine.IO session on the Socket.IO side: decodes its messages and routes each
//! packet to its namespace, in the order they arrived.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::adapter::{RestoredSession, Session};
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
    conn: Arc<dyn Connection>,
    decoder: Mutex<Decoder>,
    /// Packets in arrival order, for the task that handles them.
    queue: mpsc::UnboundedSender<Packet>,
    /// The sockets of this client, by namespace.
    sockets: Mutex<HashMap<String, Socket>>,
}

impl std::fmt::Debug for ClientInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

impl Client {
    pub(crate) fn new(io: SocketIo, conn: Arc<dyn Connection>, max_attachments: usize) -> Client {
        let (queue, rx) = mpsc::unbounded_channel();
        let client = Client(Arc::new(ClientInner {
            conn,
            decoder: Mutex::new(Decoder::with_max_attachments(max_attachments)),
            queue,
            sockets: Mutex::default(),
        }));
        tokio::spawn(run(io, client.clone(), rx));
        client
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
            Ok(Some(packet)) => {
                let _ = self.0.queue.send(packet);
            }
            Ok(None) => {}
            Err(err) => {
                tracing::debug!("closing a socket.io connection: {err}");
                self.on_close(DisconnectReason::ParseError);
                self.0.conn.close();
            }
        }
    }

    fn lock_decoder(&self) -> std::sync::MutexGuard<'_, Decoder> {
        self.0
            .decoder
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lock_sockets(&self) -> std::sync::MutexGuard<'_, HashMap<String, Socket>> {
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
            .unwrap_or(serde_json::Value::Null);
        let restored = restore(&ns, &auth).await;
        let (origin, rooms, missed) = match restored {
            Some(restored) => {
                let session = restored.session;
                let origin = Origin {
                    id: Some(session.sid),
                    pid: Some(session.pid),
                    data: Some(session.data),
                    recovered: true,
                };
                (origin, session.rooms, restored.missed)
            }
            None => {
                let pid = ns.config.recovery.map(|_| crate::recovery::generate_pid());
                let origin = Origin {
                    pid,
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

/// Handles one client's packets in order; a connect (with its middleware) finishes before
/// the next packet is looked at.
async fn run(io: SocketIo, client: Client, mut rx: mpsc::UnboundedReceiver<Packet>) {
    while let Some(packet) = rx.recv().await {
        match packet.data {
            PacketData::Connect(auth) => client.connect(&io, &packet.namespace, auth).await,
            _ => client.handle(packet),
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
