//! Broadcasting: `to(room)`, `except(room)` and what can be done to the sockets chosen.

use std::time::Duration;

use serde::Serialize;

use crate::adapter::{BroadcastOptions, Room, SocketSummary};
use crate::error::Error;
use crate::namespace::NsInner;
use crate::packet::{encode_event, Args};
use std::sync::Arc;

/// A set of sockets in one namespace (rooms, minus except rooms), from
/// [`SocketIo::of`](crate::SocketIo::of), [`Socket::to`](crate::Socket::to) or
/// [`Socket::broadcast`](crate::Socket::broadcast).
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

    /// Sends an event to every chosen socket; encoded once, shared by all.
    pub async fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), Error> {
        let packet = encode_event(&self.ns.name, event, None, data)?;
        self.ns.adapter().broadcast(&packet, &self.opts).await?;
        Ok(())
    }

    /// Sends an event with an ack id to every chosen socket and collects the answers that
    /// come back within `timeout`.
    pub async fn emit_with_ack<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
        timeout: Duration,
    ) -> Result<BroadcastAcks, Error> {
        let id = self.ns.next_ack_id();
        let packet = encode_event(&self.ns.name, event, Some(id), data)?;
        let mut rx = self.ns.watch_broadcast_acks(id);
        let expected = match self
            .ns
            .adapter()
            .broadcast_with_ack(&packet, &self.opts)
            .await
        {
            Ok(expected) => expected,
            Err(err) => {
                self.ns.forget_broadcast_acks(id);
                return Err(err.into());
            }
        };
        let mut answers = Vec::with_capacity(expected);
        let deadline = tokio::time::Instant::now() + timeout;
        while answers.len() < expected {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some((sid, args))) => answers.push((sid.to_string(), args)),
                Ok(None) | Err(_) => break,
            }
        }
        self.ns.forget_broadcast_acks(id);
        Ok(BroadcastAcks { answers, expected })
    }

    /// The chosen sockets, with their rooms and data.
    pub async fn fetch_sockets(&self) -> Result<Vec<SocketSummary>, Error> {
        Ok(self.ns.adapter().fetch_sockets(&self.opts).await?)
    }

    /// Disconnects the chosen sockets (`close`: close their whole connections).
    pub async fn disconnect_sockets(&self, close: bool) -> Result<(), Error> {
        Ok(self
            .ns
            .adapter()
            .disconnect_sockets(&self.opts, close)
            .await?)
    }

    /// Makes the chosen sockets join `rooms`.
    pub async fn sockets_join(&self, rooms: &[Room]) -> Result<(), Error> {
        Ok(self.ns.adapter().add_sockets(&self.opts, rooms).await?)
    }

    /// Makes the chosen sockets leave `rooms`.
    pub async fn sockets_leave(&self, rooms: &[Room]) -> Result<(), Error> {
        Ok(self.ns.adapter().del_sockets(&self.opts, rooms).await?)
    }
}
