//! Broadcasting: `to(room)`, `except(room)` and what can be done to the sockets chosen.

use std::time::Duration;

use serde::Serialize;

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::adapter::{BroadcastOptions, Room, SocketSummary};
use crate::error::Error;
use crate::namespace::NsInner;
use crate::packet::{encode_event, Args};
use crate::socket::Socket;

/// A set of sockets in one namespace (rooms, minus except rooms), from
/// [`SocketIo::of`](crate::SocketIo::of), [`Namespace::to`](crate::Namespace::to),
/// [`Socket::to`](crate::Socket::to) or [`Socket::broadcast`](crate::Socket::broadcast).
/// It holds no lock and can be kept and used from anywhere: an HTTP handler, a background
/// task.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), carafe_socketio::Error> {
/// let sio = carafe_socketio::SocketIo::builder().build();
/// let mut client = sio.test_client();
/// client.connect("/item", None).await.ok();
/// let item = sio.of("/item");
/// tokio::spawn(async move { item.to("item:7").except("banned").emit("price", &12).await }).await.ok();
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct BroadcastOperator {
    ns: Arc<NsInner>,
    opts: BroadcastOptions,
}

/// The answers to a broadcast with acks, and the sockets that did not answer in time.
#[derive(Debug)]
pub struct BroadcastAcks {
    /// One `(socket id, ack arguments)` per answer.
    pub answers: Vec<(String, Args)>,
    /// How many sockets the event reached.
    pub expected: usize,
}

impl BroadcastOperator {
    pub(crate) fn new(ns: Arc<NsInner>, opts: BroadcastOptions) -> Self {
        BroadcastOperator { ns, opts }
    }

    /// Adds a target room.
    pub fn to(mut self, room: impl Into<Room>) -> Self {
        self.opts.rooms.push(room.into());
        self
    }

    /// Leaves out the sockets in `room`.
    pub fn except(mut self, room: impl Into<Room>) -> Self {
        self.opts.except.push(room.into());
        self
    }

    /// Only this node's sockets.
    pub fn local(mut self) -> Self {
        self.opts.local = true;
        self
    }

    /// The event may be lost: it is never kept for connection state recovery (so it
    /// carries no offset).
    pub fn volatile(mut self) -> Self {
        self.opts.volatile = true;
        self
    }

    /// Sends an event to every chosen socket; encoded once per namespace, shared by all
    /// its recipients. From a dynamic parent namespace, to the chosen sockets of every
    /// child.
    pub async fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), Error> {
        for ns in self.ns.scope() {
            let packet = encode_event(&ns.name, event, None, data)?;
            let packet = ns.persist(packet, &self.opts);
            ns.adapter().broadcast(&packet, &self.opts).await?;
        }
        Ok(())
    }

    /// Sends an event with an ack id to every chosen socket and collects the answers that
    /// come back within `timeout` (returning as soon as every socket reached answered).
    pub async fn emit_with_ack<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
        timeout: Duration,
    ) -> Result<BroadcastAcks, Error> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut waiting = Vec::new();
        let mut expected = 0;
        let mut failure = None;
        for ns in self.ns.scope() {
            let id = ns.next_ack_id();
            let packet = match encode_event(&ns.name, event, Some(id), data) {
                Ok(packet) => packet,
                Err(err) => {
                    failure = Some(Error::from(err));
                    break;
                }
            };
            ns.watch_broadcast_acks(id, tx.clone());
            waiting.push((ns.clone(), id));
            match ns.adapter().broadcast_with_ack(&packet, &self.opts).await {
                Ok(count) => expected += count,
                Err(err) => {
                    failure = Some(err.into());
                    break;
                }
            }
        }
        drop(tx);
        let mut answers = Vec::with_capacity(expected);
        if failure.is_none() {
            let deadline = tokio::time::Instant::now() + timeout;
            while answers.len() < expected {
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some((sid, args))) => answers.push((sid.to_string(), args)),
                    Ok(None) | Err(_) => break,
                }
            }
        }
        for (ns, id) in waiting {
            ns.forget_broadcast_acks(id);
        }
        match failure {
            Some(err) => Err(err),
            None => Ok(BroadcastAcks { answers, expected }),
        }
    }

    /// The chosen sockets, with their rooms and data.
    pub async fn fetch_sockets(&self) -> Result<Vec<SocketSummary>, Error> {
        let mut all = Vec::new();
        for ns in self.ns.scope() {
            all.extend(ns.adapter().fetch_sockets(&self.opts).await?);
        }
        Ok(all)
    }

    /// The chosen sockets connected to this node, as live [`Socket`]s (to emit to one,
    /// read its data, disconnect it).
    pub async fn sockets(&self) -> Result<Vec<Socket>, Error> {
        let mut all = Vec::new();
        for ns in self.ns.scope() {
            let local = BroadcastOptions {
                local: true,
                ..self.opts.clone()
            };
            let ids = ns.adapter().sockets(&local).await?;
            all.extend(ids.iter().filter_map(|id| ns.get_socket(id)));
        }
        Ok(all)
    }

    /// Disconnects the chosen sockets: each gets `DISCONNECT` and its disconnect handlers
    /// run with `server namespace disconnect`; `close` also closes their whole connections.
    pub async fn disconnect_sockets(&self, close: bool) -> Result<(), Error> {
        for ns in self.ns.scope() {
            ns.adapter().disconnect_sockets(&self.opts, close).await?;
        }
        Ok(())
    }

    /// Makes the chosen sockets join `rooms`.
    pub async fn sockets_join(&self, rooms: &[Room]) -> Result<(), Error> {
        for ns in self.ns.scope() {
            ns.adapter().add_sockets(&self.opts, rooms).await?;
        }
        Ok(())
    }

    /// Makes the chosen sockets leave `rooms`.
    pub async fn sockets_leave(&self, rooms: &[Room]) -> Result<(), Error> {
        for ns in self.ns.scope() {
            ns.adapter().del_sockets(&self.opts, rooms).await?;
        }
        Ok(())
    }
}
