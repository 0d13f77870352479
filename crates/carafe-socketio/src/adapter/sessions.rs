//! The in-memory store behind connection state recovery (Node's `SessionAwareAdapter`):
//! the packets sent during the last window, with their offsets and targets, and the
//! sessions of sockets that lost their connection.
//!
//! Everything expires after the window. Both lists are in time order, so expiry pops from
//! their fronts; it runs on every access (keeping or restoring), so the store never holds
//! more than one window's worth of traffic plus what arrived before the last access.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use super::{BroadcastOptions, RestoredSession, Room, Session};
use crate::packet::Encoded;

/// Packets and disconnected sessions kept for one namespace during the recovery window.
///
/// ```
/// use std::time::Duration;
/// use carafe_socketio::adapter::{BroadcastOptions, Session, SessionStore};
/// use carafe_socketio::packet::encode_event;
///
/// let store = SessionStore::new(Duration::from_secs(60));
/// let first = store.persist_packet(&encode_event("/", "a", None, &1)?, &BroadcastOptions::default()).unwrap();
/// store.persist_session(Session { sid: "s".into(), pid: "p".into(), rooms: vec!["s".into()], data: serde_json::Value::Null });
/// let second = store.persist_packet(&encode_event("/", "b", None, &2)?, &BroadcastOptions::default()).unwrap();
/// let offset: String = serde_json::from_slice::<Vec<serde_json::Value>>(&first.text()[1..])?[2].as_str().unwrap().into();
/// let restored = store.restore_session("p", &offset).unwrap();
/// assert_eq!(restored.missed, vec![second]);
/// assert!(store.restore_session("p", &offset).is_none(), "a session is restored once");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SessionStore {
    window: Duration,
    /// Offsets are `<prefix><counter in hex>`: the random prefix keeps another store's
    /// (or another run's) offsets from matching.
    prefix: String,
    state: Mutex<State>,
}

impl std::fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("SessionStore")
            .field("window", &self.window)
            .field("packets", &state.packets.len())
            .field("sessions", &state.sessions.len())
            .finish()
    }
}

#[derive(Default)]
struct State {
    next: u64,
    packets: VecDeque<Kept>,
    sessions: HashMap<Arc<str>, (Session, Instant)>,
    /// Session ids in the order they were kept, for expiry.
    expiry: VecDeque<(Instant, Arc<str>)>,
}

struct Kept {
    number: u64,
    at: Instant,
    rooms: Vec<Room>,
    except: Vec<Room>,
    packet: Encoded,
}

impl SessionStore {
    /// An empty store keeping things for `window`.
    ///
    /// ```
    /// let store = carafe_socketio::adapter::SessionStore::new(std::time::Duration::from_secs(120));
    /// ```
    pub fn new(window: Duration) -> Self {
        let pid = crate::recovery::generate_pid();
        SessionStore {
            window,
            prefix: pid.chars().take(6).collect(),
            state: Mutex::default(),
        }
    }

    /// Keeps `packet` if it is an `EVENT` without ack id and `opts` is not volatile, and
    /// returns it with its new offset appended; `None` otherwise.
    ///
    /// ```
    /// use carafe_socketio::adapter::{BroadcastOptions, SessionStore};
    /// use carafe_socketio::packet::encode_event;
    ///
    /// let store = SessionStore::new(std::time::Duration::from_secs(60));
    /// let kept = store.persist_packet(&encode_event("/", "a", None, &())?, &BroadcastOptions::default());
    /// assert!(kept.is_some());
    /// let with_ack = store.persist_packet(&encode_event("/", "a", Some(1), &())?, &BroadcastOptions::default());
    /// assert!(with_ack.is_none());
    /// # Ok::<(), carafe_socketio::packet::EncodeError>(())
    /// ```
    pub fn persist_packet(&self, packet: &Encoded, opts: &BroadcastOptions) -> Option<Encoded> {
        if opts.volatile {
            return None;
        }
        let now = Instant::now();
        let mut state = self.lock();
        self.expire(&mut state, now);
        let number = state.next;
        let packet = packet.with_offset(&format!("{}{number:x}", self.prefix))?;
        state.next += 1;
        state.packets.push_back(Kept {
            number,
            at: now,
            rooms: opts.rooms.clone(),
            except: opts.except.clone(),
            packet: packet.clone(),
        });
        Some(packet)
    }

    /// Keeps a disconnected socket's session for the window.
    ///
    /// ```
    /// use carafe_socketio::adapter::{Session, SessionStore};
    /// let store = SessionStore::new(std::time::Duration::from_secs(60));
    /// store.persist_session(Session { sid: "s".into(), pid: "p".into(), rooms: vec![], data: serde_json::Value::Null });
    /// assert_eq!(store.session_count(), 1);
    /// ```
    pub fn persist_session(&self, session: Session) {
        let now = Instant::now();
        let mut state = self.lock();
        self.expire(&mut state, now);
        state.expiry.push_back((now, session.pid.clone()));
        state.sessions.insert(session.pid.clone(), (session, now));
    }

    /// Takes the session `pid` (a session is restored at most once) with the packets after
    /// `offset` it would have received. `None` when the session is unknown or expired, or
    /// when `offset` is not one of the packets still kept (too old, or never sent here):
    /// then the client starts a new session, as with Node's adapter.
    ///
    /// ```
    /// let store = carafe_socketio::adapter::SessionStore::new(std::time::Duration::from_secs(60));
    /// assert!(store.restore_session("unknown", "0").is_none());
    /// ```
    pub fn restore_session(&self, pid: &str, offset: &str) -> Option<RestoredSession> {
        let now = Instant::now();
        let mut state = self.lock();
        self.expire(&mut state, now);
        let number = offset
            .strip_prefix(self.prefix.as_str())
            .and_then(|hex| u64::from_str_radix(hex, 16).ok())?;
        let start = state
            .packets
            .binary_search_by_key(&number, |kept| kept.number)
            .ok()?;
        let (session, _) = state.sessions.remove(pid)?;
        let missed = state
            .packets
            .iter()
            .skip(start + 1)
            .filter(|kept| reaches(&session.rooms, kept))
            .map(|kept| kept.packet.clone())
            .collect();
        Some(RestoredSession { session, missed })
    }

    /// How many packets are kept now.
    ///
    /// ```
    /// let store = carafe_socketio::adapter::SessionStore::new(std::time::Duration::from_secs(60));
    /// assert_eq!(store.packet_count(), 0);
    /// ```
    pub fn packet_count(&self) -> usize {
        let mut state = self.lock();
        self.expire(&mut state, Instant::now());
        state.packets.len()
    }

    /// How many sessions are kept now.
    ///
    /// ```
    /// let store = carafe_socketio::adapter::SessionStore::new(std::time::Duration::from_secs(60));
    /// assert_eq!(store.session_count(), 0);
    /// ```
    pub fn session_count(&self) -> usize {
        let mut state = self.lock();
        self.expire(&mut state, Instant::now());
        state.sessions.len()
    }

    /// Drops what is older than the window, from the fronts of both lists.
    fn expire(&self, state: &mut State, now: Instant) {
        let Some(threshold) = now.checked_sub(self.window) else {
            return;
        };
        while state
            .packets
            .front()
            .is_some_and(|kept| kept.at < threshold)
        {
            state.packets.pop_front();
        }
        while let Some((at, pid)) = state.expiry.front().cloned() {
            if at >= threshold {
                break;
            }
            state.expiry.pop_front();
            // The same pid may have been kept again since; drop only the old entry.
            if state
                .sessions
                .get(&pid)
                .is_some_and(|(_, kept)| *kept == at)
            {
                state.sessions.remove(&pid);
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held leaves consistent lists; carry on with them.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Whether a packet kept with `kept`'s targets would have reached a socket in `rooms`.
fn reaches(rooms: &[Room], kept: &Kept) -> bool {
    let included = kept.rooms.is_empty() || rooms.iter().any(|room| kept.rooms.contains(room));
    included && !rooms.iter().any(|room| kept.except.contains(room))
}
