//! The in-memory adapter (the default): rooms as sets of socket ids, on one node.

use std::collections::{HashMap, HashSet};
use std::future::ready;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::{
    Adapter, AdapterFactory, AdapterFuture, BroadcastOptions, IdMap, IdSet, LocalSockets,
    RestoredSession, Room, Session, SessionStore, SocketId, SocketSummary,
};
use crate::packet::Encoded;

/// Rooms kept in memory, for a single node.
///
/// ```
/// use std::sync::Arc;
/// use carafe_socketio::adapter::{Adapter, LocalSockets, MemoryAdapter};
/// use carafe_socketio::packet::Encoded;
///
/// struct Nobody;
/// impl LocalSockets for Nobody {
///     fn deliver(&self, _id: &str, _packet: &Encoded) -> bool { true }
///     fn disconnect(&self, _id: &str, _close: bool) {}
///     fn data(&self, _id: &str) -> Option<serde_json::Value> { None }
/// }
///
/// let adapter = MemoryAdapter::new(Arc::new(Nobody));
/// adapter.add_all(&"s1".into(), &["s1".into(), "lobby".into()]);
/// assert_eq!(adapter.socket_rooms("s1").len(), 2);
/// adapter.del_all("s1");
/// assert!(adapter.socket_rooms("s1").is_empty());
/// ```
pub struct MemoryAdapter {
    /// Where packets for local sockets go.
    local: Arc<dyn LocalSockets>,
    /// The room index, both ways.
    index: RwLock<Index>,
    /// Packets and sessions kept for connection state recovery, when it is on.
    recovery: Option<SessionStore>,
}

impl std::fmt::Debug for MemoryAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let index = self.read();
        f.debug_struct("MemoryAdapter")
            .field("rooms", &index.rooms.len())
            .field("sockets", &index.sids.len())
            .finish()
    }
}

#[derive(Default)]
struct Index {
    /// Room to the sockets in it.
    rooms: HashMap<Room, IdSet>,
    /// Socket to the rooms it is in.
    sids: IdMap<HashSet<Room>>,
}

impl MemoryAdapter {
    /// An empty adapter delivering to `local`.
    ///
    /// ```no_run
    /// # fn f(local: std::sync::Arc<dyn carafe_socketio::adapter::LocalSockets>) {
    /// let adapter = carafe_socketio::adapter::MemoryAdapter::new(local);
    /// # }
    /// ```
    pub fn new(local: Arc<dyn LocalSockets>) -> Self {
        MemoryAdapter {
            local,
            index: RwLock::new(Index::default()),
            recovery: None,
        }
    }

    /// An empty adapter that also keeps packets and sessions for connection state
    /// recovery, for `window` (what the server uses when recovery is on).
    ///
    /// ```no_run
    /// # fn f(local: std::sync::Arc<dyn carafe_socketio::adapter::LocalSockets>) {
    /// use std::time::Duration;
    /// let adapter = carafe_socketio::adapter::MemoryAdapter::with_recovery(local, Duration::from_secs(120));
    /// # }
    /// ```
    pub fn with_recovery(local: Arc<dyn LocalSockets>, window: std::time::Duration) -> Self {
        MemoryAdapter {
            recovery: Some(SessionStore::new(window)),
            ..MemoryAdapter::new(local)
        }
    }

    /// The [`AdapterFactory`] for memory adapters with connection state recovery.
    ///
    /// ```
    /// use carafe_socketio::adapter::{AdapterFactory, MemoryAdapter};
    /// let factory = MemoryAdapter::recovering_factory(std::time::Duration::from_secs(120));
    /// let _boxed: Box<dyn AdapterFactory> = Box::new(factory);
    /// ```
    pub fn recovering_factory(window: std::time::Duration) -> impl AdapterFactory {
        move |_namespace: &str, local: Arc<dyn LocalSockets>| -> Arc<dyn Adapter> {
            Arc::new(MemoryAdapter::with_recovery(local, window))
        }
    }

    /// The [`AdapterFactory`](super::AdapterFactory) that gives every namespace its own
    /// memory adapter.
    ///
    /// ```
    /// use carafe_socketio::adapter::{AdapterFactory, MemoryAdapter};
    /// let factory: Box<dyn AdapterFactory> = Box::new(MemoryAdapter::factory);
    /// ```
    pub fn factory(_namespace: &str, local: Arc<dyn LocalSockets>) -> Arc<dyn Adapter> {
        Arc::new(MemoryAdapter::new(local))
    }

    // A poisoned lock means a panic while the index was being changed; the index is still
    // a valid map, so carry on with it.
    fn read(&self) -> RwLockReadGuard<'_, Index> {
        self.index
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Index> {
        self.index
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The sockets `opts` addresses, each once.
    fn targets(&self, opts: &BroadcastOptions) -> Vec<SocketId> {
        let mut targets = Vec::new();
        self.each_target(opts, &mut |ids| targets.extend(ids.cloned()));
        targets
    }

    /// Calls `visit` once with the sockets `opts` addresses, each once, while the index
    /// is read-locked (so `visit` must not change rooms).
    fn each_target<R>(
        &self,
        opts: &BroadcastOptions,
        visit: &mut dyn FnMut(&mut dyn Iterator<Item = &SocketId>) -> R,
    ) -> R {
        let index = self.read();
        let except = index.members(&opts.except);
        let keep = |id: &&SocketId| !except.contains(*id);
        match opts.rooms.as_slice() {
            [] => visit(&mut index.sids.keys().filter(keep)),
            [room] => match index.rooms.get(room) {
                Some(ids) => visit(&mut ids.iter().filter(keep)),
                None => visit(&mut std::iter::empty()),
            },
            rooms => {
                let mut all = index.members(rooms);
                all.retain(|id| !except.contains(id));
                visit(&mut all.iter())
            }
        }
    }

    /// Queues `packet` for every socket `opts` addresses, in one pass over the index.
    fn deliver_all(&self, packet: &Encoded, opts: &BroadcastOptions) -> usize {
        if opts.rooms.is_empty() && opts.except.is_empty() {
            if let Some(count) = self.local.deliver_to_every(packet) {
                return count;
            }
        }
        self.each_target(opts, &mut |ids| self.local.deliver_each(ids, packet))
    }
}

impl Index {
    /// The sockets in any of `rooms`.
    fn members(&self, rooms: &[Room]) -> IdSet {
        rooms
            .iter()
            .filter_map(|room| self.rooms.get(room))
            .flatten()
            .cloned()
            .collect()
    }

    fn remove(&mut self, id: &str, room: &str) {
        if let Some(ids) = self.rooms.get_mut(room) {
            ids.remove(id);
            if ids.is_empty() {
                self.rooms.remove(room);
            }
        }
    }
}

impl Adapter for MemoryAdapter {
    fn add_all(&self, id: &SocketId, rooms: &[Room]) {
        let mut index = self.write();
        for room in rooms {
            index
                .rooms
                .entry(room.clone())
                .or_default()
                .insert(id.clone());
        }
        let joined = index.sids.entry(id.clone()).or_default();
        joined.extend(rooms.iter().cloned());
    }

    fn del(&self, id: &str, room: &str) {
        let mut index = self.write();
        index.remove(id, room);
        if let Some(rooms) = index.sids.get_mut(id) {
            rooms.remove(room);
        }
    }

    fn del_all(&self, id: &str) {
        let mut index = self.write();
        let Some(rooms) = index.sids.remove(id) else {
            return;
        };
        for room in rooms {
            index.remove(id, &room);
        }
    }

    fn socket_rooms(&self, id: &str) -> Vec<Room> {
        let index = self.read();
        index
            .sids
            .get(id)
            .map(|rooms| rooms.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn broadcast(&self, packet: &Encoded, opts: &BroadcastOptions) -> AdapterFuture<'_, ()> {
        self.deliver_all(packet, opts);
        Box::pin(ready(Ok(())))
    }

    fn broadcast_with_ack(
        &self,
        packet: &Encoded,
        opts: &BroadcastOptions,
    ) -> AdapterFuture<'_, usize> {
        let count = self.deliver_all(packet, opts);
        Box::pin(ready(Ok(count)))
    }

    fn sockets(&self, opts: &BroadcastOptions) -> AdapterFuture<'_, HashSet<SocketId>> {
        let ids = self.targets(opts).into_iter().collect();
        Box::pin(ready(Ok(ids)))
    }

    fn fetch_sockets(&self, opts: &BroadcastOptions) -> AdapterFuture<'_, Vec<SocketSummary>> {
        let sockets = self
            .targets(opts)
            .into_iter()
            .filter_map(|id| {
                let data = self.local.data(&id)?;
                let rooms = self.socket_rooms(&id);
                Some(SocketSummary { id, rooms, data })
            })
            .collect();
        Box::pin(ready(Ok(sockets)))
    }

    fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> AdapterFuture<'_, ()> {
        for id in self.targets(opts) {
            self.add_all(&id, rooms);
        }
        Box::pin(ready(Ok(())))
    }

    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> AdapterFuture<'_, ()> {
        for id in self.targets(opts) {
            for room in rooms {
                self.del(&id, room);
            }
        }
        Box::pin(ready(Ok(())))
    }

    fn persist_packet(&self, packet: &Encoded, opts: &BroadcastOptions) -> Option<Encoded> {
        self.recovery.as_ref()?.persist_packet(packet, opts)
    }

    fn persist_session(&self, session: Session) {
        if let Some(store) = &self.recovery {
            store.persist_session(session);
        }
    }

    fn restore_session(
        &self,
        pid: &str,
        offset: &str,
    ) -> AdapterFuture<'_, Option<RestoredSession>> {
        let restored = self
            .recovery
            .as_ref()
            .and_then(|store| store.restore_session(pid, offset));
        Box::pin(ready(Ok(restored)))
    }

    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) -> AdapterFuture<'_, ()> {
        for id in self.targets(opts) {
            self.local.disconnect(&id, close);
        }
        Box::pin(ready(Ok(())))
    }

    fn server_side_emit(&self, _packet: &Encoded) -> AdapterFuture<'_, ()> {
        Box::pin(ready(Ok(())))
    }

    fn server_count(&self) -> AdapterFuture<'_, usize> {
        Box::pin(ready(Ok(1)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::packet::encode_event;

    /// Records deliveries; every id is "connected".
    #[derive(Default)]
    struct Recorder(Mutex<Vec<(String, Encoded)>>);

    impl LocalSockets for Recorder {
        fn deliver(&self, id: &str, packet: &Encoded) -> bool {
            self.0.lock().unwrap().push((id.to_owned(), packet.clone()));
            true
        }
        fn disconnect(&self, _id: &str, _close: bool) {}
        fn data(&self, _id: &str) -> Option<serde_json::Value> {
            Some(serde_json::Value::Null)
        }
    }

    fn setup() -> (Arc<Recorder>, MemoryAdapter) {
        let recorder = Arc::new(Recorder::default());
        let adapter = MemoryAdapter::new(recorder.clone());
        for (id, rooms) in [("a", &["red", "blue"][..]), ("b", &["red"]), ("c", &[])] {
            let mut all: Vec<Room> = rooms.iter().map(|&room| room.into()).collect();
            all.push(id.into());
            adapter.add_all(&id.into(), &all);
        }
        (recorder, adapter)
    }

    fn delivered(recorder: &Recorder) -> Vec<String> {
        let mut ids: Vec<String> = recorder
            .0
            .lock()
            .unwrap()
            .drain(..)
            .map(|(id, _)| id)
            .collect();
        ids.sort();
        ids
    }

    #[tokio::test]
    async fn broadcast_reaches_rooms_once_minus_except() {
        let (recorder, adapter) = setup();
        let packet = encode_event("/", "e", None, &()).unwrap();
        let cases: Vec<(BroadcastOptions, Vec<&str>)> = vec![
            (BroadcastOptions::default(), vec!["a", "b", "c"]),
            (BroadcastOptions::default().to("red"), vec!["a", "b"]),
            (
                BroadcastOptions::default().to("red").to("blue"),
                vec!["a", "b"],
            ),
            (
                BroadcastOptions::default().to("red").except("blue"),
                vec!["b"],
            ),
            (BroadcastOptions::default().except("a"), vec!["b", "c"]),
            (BroadcastOptions::default().to("nobody"), vec![]),
        ];
        for (opts, want) in cases {
            adapter.broadcast(&packet, &opts).await.unwrap();
            assert_eq!(delivered(&recorder), want, "{opts:?}");
        }
    }

    #[tokio::test]
    async fn recipients_share_one_encoded_buffer() {
        let (recorder, adapter) = setup();
        let packet = encode_event("/", "e", None, &"x".repeat(1000)).unwrap();
        assert_eq!(
            adapter
                .broadcast_with_ack(&packet, &BroadcastOptions::default())
                .await,
            Ok(3)
        );
        let sent = recorder.0.lock().unwrap();
        for (_, copy) in sent.iter() {
            assert_eq!(copy.text().as_ptr(), packet.text().as_ptr());
        }
    }

    #[tokio::test]
    async fn remote_join_leave_and_del_all_keep_both_indexes_in_step() {
        let (_, adapter) = setup();
        let red = BroadcastOptions::default().to("red");
        adapter.add_sockets(&red, &["green".into()]).await.unwrap();
        let green = adapter
            .sockets(&BroadcastOptions::default().to("green"))
            .await
            .unwrap();
        assert_eq!(green.len(), 2);
        adapter.del_sockets(&red, &["green".into()]).await.unwrap();
        assert!(adapter
            .sockets(&BroadcastOptions::default().to("green"))
            .await
            .unwrap()
            .is_empty());
        adapter.del_all("a");
        assert!(adapter.socket_rooms("a").is_empty());
        assert_eq!(adapter.fetch_sockets(&red).await.unwrap().len(), 1);
        assert!(
            !adapter.read().rooms.contains_key("blue"),
            "empty rooms are dropped"
        );
    }
}
