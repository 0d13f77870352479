//! The npm `socket.io-client` 4.x against carafe-socketio, over WebSocket only, polling
//! only, and polling upgraded to WebSocket: every scenario of
//! `interop/socketio/client.mjs` (the contract is `interop/socketio/README.md`; the same
//! scripts pass against Node's socket.io 4.8, `interop/socketio/prove`). Each test checks
//! what the client saw (the script fails otherwise) and what carafe's handlers recorded.
//! Needs `make interop-deps`.

mod interop;

use interop::{run, start, Client, Options, Server};

async fn js(server: &Server, transport: &str, scenario: &str) -> interop::Observed {
    run(Client::Js, server, transport, scenario).await
}

/// Declares one test per transport for a scenario: `$check(server, observed)` runs after
/// the client succeeded.
macro_rules! scenario {
    ($name:ident, $scenario:literal, $options:expr, $check:expr $(, #[$attr:meta])? $(,)?) => {
        mod $name {
            use super::*;

            async fn one(transport: &str) {
                let server = start($options).await;
                let observed = js(&server, transport, $scenario).await;
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

fn id_of(value: &serde_json::Value) -> String {
    value["id"].as_str().expect("a socket id").to_owned()
}

scenario!(
    connect_auth,
    "connect-auth",
    Options::default(),
    |server: &Server, observed: &interop::Observed| {
        let welcome = observed.one("welcome").clone();
        let records = server.records.clone();
        async move {
            let id = id_of(&welcome);
            let report = records
                .wait_for(&id, "a server disconnect", |r| !r.disconnects.is_empty())
                .await;
            assert_eq!(
                report.auth,
                serde_json::json!({"token": "t1", "user": "ana", "n": 7})
            );
            assert_eq!(report.connects, 1);
            assert_eq!(report.disconnects, ["server namespace disconnect"]);
        }
    }
);

scenario!(
    client_disconnect,
    "client-disconnect",
    Options::default(),
    |server: &Server, observed: &interop::Observed| {
        let left = observed.one("client-disconnect").clone();
        let records = server.records.clone();
        async move {
            let id = id_of(&left);
            let report = records
                .wait_for(&id, "the client left", |r| !r.disconnects.is_empty())
                .await;
            assert_eq!(report.disconnects, ["client namespace disconnect"]);
        }
    },
    #[ignore = "flaky: Client::on_close runs before the DISCONNECT still queued for the client's task, so the reason is sometimes \"transport close\" (siointerop report)"]
);

scenario!(
    acks,
    "acks",
    Options::default(),
    |server: &Server, observed: &interop::Observed| {
        let question = observed.one("question").clone();
        let all = server.records.all();
        async move {
            assert_eq!(question["payload"], serde_json::json!({"n": 21}));
            let report = all
                .values()
                .find(|r| r.namespace == "/")
                .expect("the socket on /");
            assert_eq!(report.events.get("echo"), Some(&23), "{report:?}");
            assert_eq!(report.events.get("ask"), Some(&1));
        }
    }
);

scenario!(
    order,
    "order",
    Options::default(),
    |server: &Server, observed: &interop::Observed| {
        let order = observed.one("order").clone();
        let all = server.records.all();
        async move {
            assert_eq!(order["got"], serde_json::json!((0..30).collect::<Vec<_>>()));
            let report = all.values().find(|r| r.namespace == "/").expect("the socket on /");
            assert_eq!(report.events.get("emit-back"), Some(&30), "{report:?}");
        }
    },
    #[ignore = "fails: each event's handler runs in its own task, so answers to events sent in a row go out in another order (Node keeps it; siointerop report)"]
);

scenario!(
    binary,
    "binary",
    Options::default(),
    |server: &Server, _: &interop::Observed| {
        let all = server.records.all();
        async move {
            let report = all
                .values()
                .find(|r| r.namespace == "/")
                .expect("the socket on /");
            assert_eq!(report.events.get("echo"), Some(&3), "{report:?}");
            assert_eq!(report.events.get("emit-back"), Some(&1));
        }
    }
);

scenario!(
    namespaces,
    "namespaces",
    Options::default(),
    |server: &Server, observed: &interop::Observed| {
        let seen = observed.one("namespaces").clone();
        let records = server.records.clone();
        async move {
            let ids: Vec<String> = serde_json::from_value(seen["sockets"].clone()).expect("ids");
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
    }
);

scenario!(
    auth_refused,
    "auth-refused",
    Options::default(),
    |server: &Server, _: &interop::Observed| {
        let all = server.records.all();
        async move {
            let refused: Vec<_> = all
                .iter()
                .filter(|(key, _)| key.starts_with("refused:eve-"))
                .collect();
            assert_eq!(refused.len(), 1, "{all:?}");
            assert_eq!(refused[0].1.refused, ["/private"]);
            let admitted: Vec<_> = all.values().filter(|r| r.namespace == "/private").collect();
            assert_eq!(admitted.len(), 1, "only the right token connected: {all:?}");
            assert_eq!(admitted[0].auth["user"], "ann");
        }
    }
);

scenario!(
    rooms,
    "rooms",
    Options::default(),
    |server: &Server, observed: &interop::Observed| {
        let told = observed.one("told").clone();
        let all = server.records.all();
        async move {
            assert_eq!(told["a"], serde_json::json!(["m1", "m2"]));
            let tells: u64 = all.values().filter_map(|r| r.events.get("tell")).sum();
            assert_eq!(tells, 4);
        }
    }
);

scenario!(
    broadcast,
    "broadcast",
    Options::default(),
    |server: &Server, _: &interop::Observed| {
        let all = server.records.all();
        async move {
            let on_main = all.values().filter(|r| r.namespace == "/").count();
            let on_admin = all.values().filter(|r| r.namespace == "/admin").count();
            assert_eq!((on_main, on_admin), (3, 1), "{all:?}");
        }
    }
);

scenario!(
    server_ack_timeout,
    "server-ack-timeout",
    Options::default(),
    |server: &Server, _: &interop::Observed| {
        let all = server.records.all();
        async move {
            let report = all
                .values()
                .find(|r| r.namespace == "/")
                .expect("the socket on /");
            assert_eq!(report.ack_timeouts, 1);
        }
    }
);

scenario!(
    client_ack_timeout,
    "client-ack-timeout",
    Options::default(),
    |server: &Server, observed: &interop::Observed| {
        let timeout = observed.one("client-timeout").clone();
        let all = server.records.all();
        async move {
            assert_eq!(timeout["message"], "operation has timed out");
            let report = all
                .values()
                .find(|r| r.namespace == "/")
                .expect("the socket on /");
            assert_eq!(report.events.get("never-ack"), Some(&1));
            assert!(report.disconnects.is_empty() || report.disconnects.len() == 1);
        }
    }
);

scenario!(
    retries,
    "retries",
    Options::default(),
    |server: &Server, observed: &interop::Observed| {
        let acks = observed.one("acks").clone();
        let all = server.records.all();
        async move {
            let ids = acks["ids"].as_object().expect("ack counts by id");
            assert_eq!(ids.len(), 3);
            assert!(ids.values().all(|count| *count == 1), "{ids:?}");
            let report = all
                .values()
                .find(|r| r.namespace == "/")
                .expect("the socket on /");
            assert_eq!(report.events.get("echo"), Some(&3));
            assert_eq!(report.events.get("never-ack"), Some(&3));
        }
    }
);

scenario!(
    recovery,
    "recovery",
    Options { recovery: true },
    |server: &Server, observed: &interop::Observed| {
        let reconnected = observed.one("reconnected").clone();
        let all = server.records.all();
        async move {
            assert_eq!(reconnected["recovered"], true);
            let report = all
                .values()
                .find(|r| r.auth["user"] == "a")
                .expect("the recovered socket");
            assert_eq!(report.connects, 2, "{report:?}");
        }
    }
);
