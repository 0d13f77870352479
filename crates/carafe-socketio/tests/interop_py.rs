//! The PyPI `python-socketio` client (the family Flask-SocketIO users know) against
//! carafe-socketio, over WebSocket only, polling only, and polling upgraded to WebSocket:
//! every scenario of `interop/socketio/client.py` (contract: `interop/socketio/README.md`;
//! the same script passes against Node's socket.io 4.8, `interop/socketio/prove py`).
//! Each test checks what the client saw (the script fails otherwise) and what carafe's
//! handlers recorded. Needs `make interop-deps`.

mod interop;

use interop::{run, start, Client, Observed, Options, Server};

/// One test per transport for a scenario: `$check(server, observed)` runs after the
/// client succeeded.
macro_rules! scenario {
    ($name:ident, $scenario:literal, $check:expr $(, #[$attr:meta])?) => {
        mod $name {
            use super::*;

            async fn one(transport: &str) {
                let server = start(Options::default()).await;
                let observed = run(Client::Py, &server, transport, $scenario).await;
                $check(&server, &observed).await;
            }

            $(#[$attr])?
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn over_websocket() {
                one("websocket").await;
            }

            $(#[$attr])?
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn over_polling() {
                one("polling").await;
            }

            $(#[$attr])?
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn after_an_upgrade() {
                one("upgrade").await;
            }
        }
    };
}

scenario!(
    connect_auth,
    "connect-auth",
    |server: &Server, observed: &Observed| {
        let welcome = observed.one("welcome").clone();
        let records = server.records.clone();
        async move {
            let id = welcome["id"].as_str().expect("a socket id").to_owned();
            let report = records
                .wait_for(&id, "the client left", |r| r.disconnects.len() == 1)
                .await;
            assert_eq!(
                report.auth,
                serde_json::json!({"token": "t1", "user": "ana", "n": 7})
            );
            assert_eq!(report.connects, 1);
        }
    }
);

scenario!(events, "events", |server: &Server, _: &Observed| {
    let all = server.records.all();
    async move {
        let report = all
            .values()
            .find(|r| r.namespace == "/")
            .expect("the socket on /");
        assert_eq!(report.events.get("emit-back"), Some(&2), "{report:?}");
    }
});

scenario!(
    order,
    "order",
    |server: &Server, observed: &Observed| {
        let order = observed.one("order").clone();
        let all = server.records.all();
        async move {
            assert_eq!(order["got"], serde_json::json!((0..10).collect::<Vec<_>>()));
            let report = all.values().find(|r| r.namespace == "/").expect("the socket on /");
            assert_eq!(report.events.get("emit-back"), Some(&10), "{report:?}");
        }
    },
    #[ignore = "fails: each event's handler runs in its own task, so answers to events sent in a row go out in another order (Node keeps it; siointerop report)"]
);

scenario!(acks, "acks", |server: &Server, _: &Observed| {
    let all = server.records.all();
    async move {
        let report = all
            .values()
            .find(|r| r.namespace == "/")
            .expect("the socket on /");
        assert_eq!(report.events.get("echo"), Some(&13), "{report:?}");
        assert_eq!(report.events.get("ask"), Some(&1));
    }
});

scenario!(rooms, "rooms", |server: &Server, _: &Observed| {
    let all = server.records.all();
    async move {
        let joins: u64 = all.values().filter_map(|r| r.events.get("join")).sum();
        let tells: u64 = all.values().filter_map(|r| r.events.get("tell")).sum();
        assert_eq!((joins, tells), (4, 3), "{all:?}");
    }
});
