//! The PyPI `python-socketio` client (the family Flask-SocketIO users know) against
//! carafe-socketio, over WebSocket only, polling only, and polling upgraded to WebSocket:
//! every scenario of `interop/socketio/client.py` (contract: `interop/socketio/README.md`;
//! the same script passes against Node's socket.io 4.8, `interop/socketio/prove py`).
//! Each test checks what the client saw (the script fails otherwise) and what carafe's
//! handlers recorded. Needs `make interop-deps`.

#[macro_use]
mod interop;

use interop::{id_of, Client, Observed, Options, Server};
use serde_json::json;

const PY: Client = Client::Py;
const PLAIN: Options = Options { recovery: false };

async fn connect_auth(server: &Server, observed: &Observed) {
    let id = id_of(observed.one("welcome"));
    let report = server
        .records
        .wait_for(&id, "the client left", |r| r.disconnects.len() == 1)
        .await;
    assert_eq!(report.auth, json!({"token": "t1", "user": "ana", "n": 7}));
    assert_eq!(report.connects, 1);
}
scenario!(PY, connect_auth, "connect-auth", PLAIN, connect_auth);

async fn events(server: &Server, _: &Observed) {
    let report = server.records.only("/");
    assert_eq!(report.events.get("emit-back"), Some(&2), "{report:?}");
}
scenario!(PY, events, "events", PLAIN, events);

async fn order(server: &Server, observed: &Observed) {
    assert_eq!(
        observed.one("order")["got"],
        json!((0..10).collect::<Vec<_>>())
    );
    let report = server.records.only("/");
    assert_eq!(report.events.get("emit-back"), Some(&10), "{report:?}");
}
scenario!(PY, order, "order", PLAIN, order,);

async fn acks(server: &Server, _: &Observed) {
    let report = server.records.only("/");
    assert_eq!(report.events.get("echo"), Some(&13), "{report:?}");
    assert_eq!(report.events.get("ask"), Some(&1));
}
scenario!(PY, acks, "acks", PLAIN, acks);

async fn rooms(server: &Server, _: &Observed) {
    let counts = (server.records.count("join"), server.records.count("tell"));
    assert_eq!(counts, (4, 3), "{:?}", server.records.all());
}
scenario!(PY, rooms, "rooms", PLAIN, rooms);
