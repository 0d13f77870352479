//! The npm `socket.io-client` 4.x against carafe-socketio, over WebSocket only, polling
//! only, and polling upgraded to WebSocket: every scenario of
//! `interop/socketio/client.mjs` (the contract is `interop/socketio/README.md`; the same
//! scripts pass against Node's socket.io 4.8, `interop/socketio/prove`). Each test checks
//! what the client saw (the script fails otherwise) and what carafe's handlers recorded.
//! Needs `make interop-deps`.

#[macro_use]
mod interop;

use interop::{id_of, Client, Observed, Options, Server};
use serde_json::json;

const JS: Client = Client::Js;
const PLAIN: Options = Options { recovery: false };

async fn connect_auth(server: &Server, observed: &Observed) {
    let id = id_of(observed.one("welcome"));
    let report = server
        .records
        .wait_for(&id, "a server disconnect", |r| !r.disconnects.is_empty())
        .await;
    assert_eq!(report.auth, json!({"token": "t1", "user": "ana", "n": 7}));
    assert_eq!(report.connects, 1);
    assert_eq!(report.disconnects, ["server namespace disconnect"]);
}
scenario!(JS, connect_auth, "connect-auth", PLAIN, connect_auth);

async fn client_disconnect(server: &Server, observed: &Observed) {
    let id = id_of(observed.one("client-disconnect"));
    let report = server
        .records
        .wait_for(&id, "the client left", |r| !r.disconnects.is_empty())
        .await;
    assert_eq!(report.disconnects, ["client namespace disconnect"]);
}
scenario!(
    JS,
    client_disconnect,
    "client-disconnect",
    PLAIN,
    client_disconnect,
);

async fn acks(server: &Server, observed: &Observed) {
    assert_eq!(observed.one("question")["payload"], json!({"n": 21}));
    let report = server.records.only("/");
    assert_eq!(report.events.get("echo"), Some(&23), "{report:?}");
    assert_eq!(report.events.get("ask"), Some(&1));
}
scenario!(JS, acks, "acks", PLAIN, acks);

async fn order(server: &Server, observed: &Observed) {
    assert_eq!(
        observed.one("order")["got"],
        json!((0..30).collect::<Vec<_>>())
    );
    let report = server.records.only("/");
    assert_eq!(report.events.get("emit-back"), Some(&30), "{report:?}");
}
scenario!(JS, order, "order", PLAIN, order,);

async fn binary(server: &Server, _: &Observed) {
    let report = server.records.only("/");
    assert_eq!(report.events.get("echo"), Some(&3), "{report:?}");
    assert_eq!(report.events.get("emit-back"), Some(&1));
}
scenario!(JS, binary, "binary", PLAIN, binary);

async fn namespaces(server: &Server, observed: &Observed) {
    let ids: Vec<String> =
        serde_json::from_value(observed.one("namespaces")["sockets"].clone()).expect("ids");
    let records = &server.records;
    let names: Vec<String> = ids
        .iter()
        .map(|id| records.get(id).expect("a report per socket").namespace)
        .collect();
    assert_eq!(names, ["/", "/admin", "/private"]);
    let admin = records
        .wait_for(&ids[1], "left /admin", |r| !r.disconnects.is_empty())
        .await;
    assert_eq!(admin.disconnects, ["client namespace disconnect"]);
}
scenario!(JS, namespaces, "namespaces", PLAIN, namespaces);

async fn auth_refused(server: &Server, _: &Observed) {
    let all = server.records.all();
    let refused: Vec<_> = all
        .iter()
        .filter(|(key, _)| key.starts_with("refused:eve-"))
        .collect();
    assert_eq!(refused.len(), 1, "{all:?}");
    assert_eq!(refused[0].1.refused, ["/private"]);
    let admitted = server.records.only("/private");
    assert_eq!(
        admitted.auth["user"], "ann",
        "only the right token connected"
    );
}
scenario!(JS, auth_refused, "auth-refused", PLAIN, auth_refused);

async fn rooms(server: &Server, observed: &Observed) {
    assert_eq!(observed.one("told")["a"], json!(["m1", "m2"]));
    assert_eq!(server.records.count("tell"), 4);
    assert_eq!(server.records.count("join"), 4);
}
scenario!(JS, rooms, "rooms", PLAIN, rooms);

async fn broadcast(server: &Server, _: &Observed) {
    let counts = (
        server.records.on("/").len(),
        server.records.on("/admin").len(),
    );
    assert_eq!(counts, (3, 1), "{:?}", server.records.all());
    assert_eq!(server.records.count("shout"), 1);
}
scenario!(JS, broadcast, "broadcast", PLAIN, broadcast);

async fn server_ack_timeout(server: &Server, _: &Observed) {
    assert_eq!(server.records.only("/").ack_timeouts, 1);
}
scenario!(
    JS,
    server_ack_timeout,
    "server-ack-timeout",
    PLAIN,
    server_ack_timeout
);

async fn client_ack_timeout(server: &Server, observed: &Observed) {
    assert_eq!(
        observed.one("client-timeout")["message"],
        "operation has timed out"
    );
    assert_eq!(server.records.only("/").events.get("never-ack"), Some(&1));
}
scenario!(
    JS,
    client_ack_timeout,
    "client-ack-timeout",
    PLAIN,
    client_ack_timeout
);

async fn retries(server: &Server, observed: &Observed) {
    let acks = observed.one("acks");
    let ids = acks["ids"].as_object().expect("ack counts by id");
    assert_eq!(ids.len(), 3);
    assert!(ids.values().all(|count| *count == 1), "{ids:?}");
    let report = server.records.only("/");
    assert_eq!(report.events.get("echo"), Some(&3));
    assert_eq!(report.events.get("never-ack"), Some(&3));
}
scenario!(JS, retries, "retries", PLAIN, retries);

async fn recovery(server: &Server, observed: &Observed) {
    assert_eq!(observed.one("reconnected")["recovered"], true);
    let all = server.records.all();
    let report = all
        .values()
        .find(|r| r.auth["user"] == "a")
        .expect("the recovered socket");
    assert_eq!(report.connects, 2, "{report:?}");
    // The drop (the client's final close may follow).
    let drop = report.disconnects.first().map(String::as_str);
    assert!(
        matches!(drop, Some("transport close" | "transport error")),
        "{report:?}"
    );
}
scenario!(
    JS,
    recovery,
    "recovery",
    Options { recovery: true },
    recovery
);
