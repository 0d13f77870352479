//! The registry of live connections: who is connected, since when, how much they sent
//! and received, and what each connection is doing now.
//!
//! Each accepted connection gets an entry whose counters the connection task updates with
//! relaxed atomics (a few per request). The entry leaves the registry when its
//! [`ConnGuard`] drops, which is also how graceful shutdown knows every connection,
//! upgraded ones included, is gone.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use tokio::sync::{Notify, OwnedSemaphorePermit};
use tokio::task::AbortHandle;

/// What a connection is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnState {
    /// Waiting for (or reading) a request head.
    Reading,
    /// The application is handling a request.
    Handling,
    /// Writing a response.
    Writing,
    /// Between requests on a keep-alive connection.
    Idle,
    /// Switched protocols (WebSocket, say); the application owns the stream.
    Upgraded,
    /// Closing.
    Closing,
}

impl ConnState {
    fn from_u8(value: u8) -> Self {
        match value {
            0 => ConnState::Reading,
            1 => ConnState::Handling,
            2 => ConnState::Writing,
            3 => ConnState::Idle,
            4 => ConnState::Upgraded,
            _ => ConnState::Closing,
        }
    }
}

/// A snapshot of one live connection.
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    /// The connection's id, unique for the server's lifetime.
    pub id: u64,
    /// The client's address.
    pub peer_addr: SocketAddr,
    /// When the connection was accepted.
    pub accepted_at: SystemTime,
    /// Requests answered so far.
    pub requests: u64,
    /// Bytes read from the client.
    pub bytes_in: u64,
    /// Bytes written to the client.
    pub bytes_out: u64,
    /// What it is doing now.
    pub state: ConnState,
}

/// The live part of an entry, shared by the registry and the connection task.
#[derive(Debug)]
pub(crate) struct ConnStats {
    pub(crate) id: u64,
    pub(crate) peer_addr: SocketAddr,
    accepted_at: SystemTime,
    requests: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    state: AtomicU8,
    /// Aborts the connection's task at the end of a graceful shutdown's grace period.
    abort: Mutex<Option<AbortHandle>>,
}

impl ConnStats {
    pub(crate) fn set_state(&self, state: ConnState) {
        self.state.store(state as u8, Ordering::Relaxed);
    }

    // The counters have one writer, the task that owns the connection, so a load and a
    // store do what `fetch_add` would, without a locked instruction per request; readers
    // (snapshots) only need a recent value.

    pub(crate) fn add_request(&self) {
        bump(&self.requests, 1);
    }

    pub(crate) fn add_in(&self, bytes: usize) {
        bump(&self.bytes_in, bytes as u64);
    }

    pub(crate) fn add_out(&self, bytes: usize) {
        bump(&self.bytes_out, bytes as u64);
    }

    /// Keeps the connection task's abort handle, for the hard stop; an upgraded
    /// connection has handed its stream on, so it keeps none.
    pub(crate) fn set_abort(&self, handle: AbortHandle) {
        let mut slot = self.abort.lock().unwrap_or_else(PoisonError::into_inner);
        if ConnState::from_u8(self.state.load(Ordering::Relaxed)) != ConnState::Upgraded {
            *slot = Some(handle);
        }
    }

    /// Marks the connection upgraded and drops the finished HTTP task's abort handle: the
    /// handle would keep that task's memory (its whole future) alive for as long as the
    /// upgraded stream lives, about 5 KiB per idle WebSocket.
    pub(crate) fn set_upgraded(&self) {
        let mut slot = self.abort.lock().unwrap_or_else(PoisonError::into_inner);
        self.set_state(ConnState::Upgraded);
        *slot = None;
    }

    fn snapshot(&self) -> ConnectionInfo {
        ConnectionInfo {
            id: self.id,
            peer_addr: self.peer_addr,
            accepted_at: self.accepted_at,
            requests: self.requests.load(Ordering::Relaxed),
            bytes_in: self.bytes_in.load(Ordering::Relaxed),
            bytes_out: self.bytes_out.load(Ordering::Relaxed),
            state: ConnState::from_u8(self.state.load(Ordering::Relaxed)),
        }
    }
}

/// Adds `n` to a counter that only the calling task writes.
fn bump(counter: &AtomicU64, n: u64) {
    counter.store(
        counter.load(Ordering::Relaxed).wrapping_add(n),
        Ordering::Relaxed,
    );
}

/// The server's table of live connections.
///
/// ```
/// let registry = carafe_serve::Registry::default();
/// assert!(registry.connections().is_empty());
/// ```
#[derive(Debug, Default)]
pub struct Registry {
    /// Live entries by connection id.
    entries: Mutex<HashMap<u64, Arc<ConnStats>>>,
    /// The next connection id.
    next_id: AtomicU64,
    /// Woken whenever an entry leaves, so shutdown can wait for the table to empty.
    left: Notify,
}

impl Registry {
    /// A snapshot of every live connection.
    pub fn connections(&self) -> Vec<ConnectionInfo> {
        self.lock().values().map(|stats| stats.snapshot()).collect()
    }

    /// How many connections are live.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no connection is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds an entry; it leaves when the returned guard drops.
    pub(crate) fn register(
        self: &Arc<Self>,
        peer_addr: SocketAddr,
        permit: OwnedSemaphorePermit,
    ) -> ConnGuard {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let stats = Arc::new(ConnStats {
            id,
            peer_addr,
            accepted_at: SystemTime::now(),
            requests: AtomicU64::new(0),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            state: AtomicU8::new(ConnState::Reading as u8),
            abort: Mutex::new(None),
        });
        self.lock().insert(id, Arc::clone(&stats));
        ConnGuard {
            registry: Arc::clone(self),
            stats,
            _permit: permit,
        }
    }

    /// Waits until the registry is empty.
    pub(crate) async fn wait_empty(&self) {
        loop {
            let left = self.left.notified();
            if self.is_empty() {
                return;
            }
            left.await;
        }
    }

    /// Aborts every connection task still registered (the hard stop after the grace).
    pub(crate) fn abort_all(&self) {
        for stats in self.lock().values() {
            if let Some(handle) = stats
                .abort
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
            {
                handle.abort();
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Arc<ConnStats>>> {
        // A panic while holding this lock cannot leave the map inconsistent: every
        // critical section is a single insert, remove or read.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Keeps a connection's registry entry alive; dropping it removes the entry.
#[derive(Debug)]
pub(crate) struct ConnGuard {
    registry: Arc<Registry>,
    pub(crate) stats: Arc<ConnStats>,
    /// The connection's slot under `max_connections`, freed with the entry.
    _permit: OwnedSemaphorePermit,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.stats.id);
        self.registry.left.notify_waiters();
    }
}
