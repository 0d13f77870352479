//! Connection state recovery through the in-process `TestClient`: the CONNECT answer's
//! `pid`, offsets on kept packets, restoring id, rooms and data, missed packets in order,
//! which disconnects are recoverable, expiry.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::sync::{Arc, Mutex};
use std::time::Duration;

use carafe_socketio::extract::Data;
use carafe_socketio::packet::PacketData;
use carafe_socketio::testing::TestClient;
use carafe_socketio::{ConnectError, ConnectionStateRecovery, DisconnectReason, Socket, SocketIo};
use serde_json::{json, Value};

fn server(window: Duration) -> SocketIo {
    let sio = SocketIo::builder()
        .connection_state_recovery(ConnectionStateRecovery {
            max_disconnection_duration: window,
            ..ConnectionStateRecovery::default()
        })
        .build();
    sio.namespace("/")
        .on_connect(|socket: Socket, _auth: Value| async move {
            if !socket.recovered() {
                socket.join("news");
                socket.set_data(&json!({"name": "ann"}))?;
            }
            socket.emit("hello", &"first")
        })
        .on(
            "whoami",
            |socket: Socket, ack: carafe_socketio::AckSender| async move {
                let data: Value = socket.data()?;
                let mut rooms: Vec<String> = socket.rooms().iter().map(|r| r.to_string()).collect();
                rooms.sort();
                ack.send(&(socket.recovered(), data, rooms))
            },
        );
    sio
}

/// The event's arguments as JSON values, and its offset (the last string argument).
async fn next_event(client: &mut TestClient) -> (String, Vec<Value>) {
    let (name, id, args) = client.recv_event("/").await.unwrap();
    assert_eq!(id, None);
    (name, args.values().unwrap())
}

fn offset(args: &[Value]) -> String {
    args.last().unwrap().as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_lost_connection_gets_its_id_rooms_data_and_missed_packets_back() {
    let sio = server(Duration::from_secs(60));
    let mut client = sio.test_client();
    let answer = client.connect_answer("/", None).await.unwrap();
    let (sid, pid) = (answer["sid"].clone(), answer["pid"].clone());
    assert_eq!(pid.as_str().unwrap().len(), 22, "{answer}");
    let (name, args) = next_event(&mut client).await;
    assert_eq!(name, "hello");
    assert_eq!(args[0], "first", "the payload comes first, the offset last");
    let last_seen = offset(&args);

    // Packets sent while the client is away: to its room, to everyone, to its own id, to
    // a room it is not in, and one volatile and one with an ack (neither is kept).
    client.close_with(DisconnectReason::PingTimeout);
    let of = sio.namespace("/");
    of.to("news").emit("missed", &1).await.unwrap();
    of.broadcast().emit("missed", &2).await.unwrap();
    of.to("sports").emit("not-for-you", &3).await.unwrap();
    of.to(sid.as_str().unwrap())
        .emit("missed", &4)
        .await
        .unwrap();
    of.broadcast()
        .volatile()
        .emit("volatile", &5)
        .await
        .unwrap();
    of.to("news")
        .except("news")
        .emit("excluded", &6)
        .await
        .unwrap();

    let mut again = sio.test_client();
    let answer = again
        .connect_answer("/", Some(json!({"pid": pid, "offset": last_seen})))
        .await
        .unwrap();
    assert_eq!(answer["sid"], sid);
    assert_eq!(answer["pid"], pid);
    let mut missed = Vec::new();
    for _ in 0..3 {
        let (name, args) = next_event(&mut again).await;
        assert_eq!(name, "missed");
        missed.push(args[0].clone());
        assert_eq!(
            args.len(),
            2,
            "each missed packet keeps its offset: {args:?}"
        );
    }
    assert_eq!(missed, vec![json!(1), json!(2), json!(4)]);
    // Then the connect handler's own emit; nothing else was missed.
    let (name, _) = next_event(&mut again).await;
    assert_eq!(name, "hello");
    let answer = again.emit_with_ack("/", "whoami", &()).await.unwrap();
    let (recovered, data, rooms): (bool, Value, Vec<String>) = answer.deserialize().unwrap();
    assert!(recovered);
    assert_eq!(data, json!({"name": "ann"}));
    let mut want = vec!["news".to_owned(), sid.as_str().unwrap().to_owned()];
    want.sort();
    assert_eq!(rooms, want);
}

#[tokio::test]
async fn a_session_is_restored_once_and_not_after_a_deliberate_disconnect() {
    let sio = server(Duration::from_secs(60));

    // Client namespace disconnect: not recoverable.
    let mut client = sio.test_client();
    let answer = client.connect_answer("/", None).await.unwrap();
    let (_, args) = next_event(&mut client).await;
    client.disconnect("/");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let auth = json!({"pid": answer["pid"], "offset": offset(&args)});
    let mut again = sio.test_client();
    let fresh = again.connect_answer("/", Some(auth)).await.unwrap();
    assert_ne!(fresh["sid"], answer["sid"]);
    assert_ne!(fresh["pid"], answer["pid"]);

    // Transport close: recoverable, but only once.
    let (_, args) = next_event(&mut again).await;
    again.close();
    let auth = json!({"pid": fresh["pid"], "offset": offset(&args)});
    let mut third = sio.test_client();
    assert_eq!(
        third.connect_answer("/", Some(auth.clone())).await.unwrap()["sid"],
        fresh["sid"]
    );
    let mut fourth = sio.test_client();
    assert_ne!(
        fourth.connect_answer("/", Some(auth)).await.unwrap()["sid"],
        fresh["sid"]
    );
}

#[tokio::test]
async fn server_disconnects_are_not_recoverable_and_unknown_offsets_start_fresh() {
    let sio = server(Duration::from_secs(60));
    let mut client = sio.test_client();
    let answer = client.connect_answer("/", None).await.unwrap();
    let (_, args) = next_event(&mut client).await;
    sio.of("/").disconnect_sockets(false).await.unwrap();
    let auth = json!({"pid": answer["pid"], "offset": offset(&args)});
    let mut again = sio.test_client();
    let second = again.connect_answer("/", Some(auth)).await.unwrap();
    assert_ne!(second["sid"], answer["sid"]);

    let (_, _) = next_event(&mut again).await;
    again.close_with(DisconnectReason::TransportError);
    let auth = json!({"pid": second["pid"], "offset": "not-an-offset"});
    let mut third = sio.test_client();
    assert_ne!(
        third.connect_answer("/", Some(auth)).await.unwrap()["sid"],
        second["sid"]
    );
}

#[tokio::test(start_paused = true)]
async fn sessions_and_packets_expire_after_the_window() {
    let sio = server(Duration::from_secs(120));
    let mut client = sio.test_client();
    let answer = client.connect_answer("/", None).await.unwrap();
    let (_, args) = next_event(&mut client).await;
    client.close();
    tokio::time::advance(Duration::from_secs(121)).await;
    let auth = json!({"pid": answer["pid"], "offset": offset(&args)});
    let mut again = sio.test_client();
    assert_ne!(
        again.connect_answer("/", Some(auth)).await.unwrap()["sid"],
        answer["sid"]
    );
}

#[tokio::test(start_paused = true)]
async fn within_the_window_the_session_survives() {
    let sio = server(Duration::from_secs(120));
    let mut client = sio.test_client();
    let answer = client.connect_answer("/", None).await.unwrap();
    let (_, args) = next_event(&mut client).await;
    client.close();
    tokio::time::advance(Duration::from_secs(119)).await;
    let auth = json!({"pid": answer["pid"], "offset": offset(&args)});
    let mut again = sio.test_client();
    assert_eq!(
        again.connect_answer("/", Some(auth)).await.unwrap()["sid"],
        answer["sid"]
    );
}

#[tokio::test]
async fn middleware_is_skipped_for_a_recovered_socket_unless_asked_not_to() {
    for skip in [true, false] {
        let sio = SocketIo::builder()
            .connection_state_recovery(ConnectionStateRecovery {
                skip_middlewares: skip,
                ..ConnectionStateRecovery::default()
            })
            .build();
        let calls = Arc::new(Mutex::new(0));
        let counted = calls.clone();
        sio.namespace("/")
            .use_middleware(move |_socket: Socket, auth: Value| {
                *counted.lock().unwrap() += 1;
                async move {
                    if auth.get("pid").is_some() && auth["token"] != "ok" {
                        return Err(ConnectError::new("token expired"));
                    }
                    Ok(())
                }
            })
            .on_connect(|socket: Socket, _auth: Value| async move { socket.emit("hi", &()) });
        let mut client = sio.test_client();
        let answer = client.connect_answer("/", None).await.unwrap();
        let (_, args) = next_event(&mut client).await;
        client.close();
        let auth = json!({"pid": answer["pid"], "offset": offset(&args)});
        let mut again = sio.test_client();
        let result = again.connect_answer("/", Some(auth.clone())).await;
        if skip {
            assert_eq!(result.unwrap()["sid"], answer["sid"]);
            assert_eq!(*calls.lock().unwrap(), 1);
        } else {
            assert_eq!(result.unwrap_err().message, "token expired");
            assert_eq!(*calls.lock().unwrap(), 2);
            // The refused attempt leaves the session for a later one.
            let mut auth = auth;
            auth["token"] = json!("ok");
            let mut third = sio.test_client();
            let ok = third.connect_answer("/", Some(auth)).await.unwrap();
            assert_eq!(ok["sid"], answer["sid"]);
        }
    }
}

#[tokio::test]
async fn without_recovery_nothing_is_appended_and_there_is_no_pid() {
    let sio = SocketIo::builder().build();
    sio.namespace("/")
        .on("echo", |socket: Socket, Data(v): Data<Value>| async move {
            socket.emit("echo", &v)
        });
    let mut client = sio.test_client();
    let answer = client.connect_answer("/", None).await.unwrap();
    assert!(answer.get("pid").is_none(), "{answer}");
    client.emit("/", "echo", &"x").unwrap();
    let (_, _, args) = client.recv_event("/").await.unwrap();
    assert_eq!(args.values().unwrap(), vec![json!("x")]);
}

#[tokio::test]
async fn acks_are_never_given_offsets() {
    let sio = server(Duration::from_secs(60));
    sio.namespace("/")
        .on("q", |ack: carafe_socketio::AckSender| async move {
            ack.send(&"a")
        });
    let mut client = sio.test_client();
    client.connect("/", None).await.unwrap();
    let _ = next_event(&mut client).await;
    let answer = client.emit_with_ack("/", "q", &()).await.unwrap();
    assert_eq!(answer.values().unwrap(), vec![json!("a")]);
    let packet = client.try_recv_within(Duration::from_millis(50)).await;
    assert!(
        !matches!(packet, Some(ref p) if matches!(p.data, PacketData::Event { .. })),
        "{packet:?}"
    );
}
