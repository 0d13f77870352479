//! Namespaces, events, acks, rooms and disconnects, driven through the in-process
//! `TestClient` (real encoder and decoder on both sides, no transport).

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use carafe_socketio::{ConnectError, DisconnectReason, Error, Event, Socket, SocketIo};
use serde_json::json;

#[tokio::test]
async fn a_socket_keeps_the_auth_it_connected_with() {
    let sio = SocketIo::builder().build();
    sio.namespace("/item")
        .on("whoami", |socket: Socket, mut event: Event| async move {
            event.ack(socket.auth())
        });
    let mut with = sio.test_client();
    with.connect("/item", Some(json!({"token": "abc"})))
        .await
        .unwrap();
    let answer = with.emit_with_ack("/item", "whoami", &()).await.unwrap();
    assert_eq!(
        answer.deserialize::<serde_json::Value>().unwrap(),
        json!({"token": "abc"})
    );
    let mut without = sio.test_client();
    without.connect("/item", None).await.unwrap();
    let answer = without.emit_with_ack("/item", "whoami", &()).await.unwrap();
    assert_eq!(
        answer.deserialize::<serde_json::Value>().unwrap(),
        json!({})
    );
}

#[tokio::test]
async fn connect_handler_gets_auth_and_event_acks_come_back() {
    let sio = SocketIo::builder().build();
    sio.namespace("/item")
        .on_connect(
            |socket: Socket, auth: serde_json::Value| async move { socket.emit("auth", &auth) },
        )
        .on("bid", |_socket: Socket, mut event: Event| async move {
            let (item, amount): (String, u32) = event.data()?;
            event.ack(&(format!("{item}:{amount}"), true))
        });
    let mut client = sio.test_client();
    let sid = client
        .connect("/item", Some(json!({"token": "123"})))
        .await
        .unwrap();
    assert_eq!(sid.len(), 16);
    let (name, _, args) = client.recv_event("/item").await.unwrap();
    assert_eq!(
        (
            name.as_str(),
            args.deserialize::<serde_json::Value>().unwrap()
        ),
        ("auth", json!({"token": "123"}))
    );
    let answer = client
        .emit_with_ack("/item", "bid", &("car", 12))
        .await
        .unwrap();
    assert_eq!(
        answer.deserialize::<(String, bool)>().unwrap(),
        ("car:12".to_owned(), true)
    );
}

#[tokio::test]
async fn middleware_refuses_with_message_and_data_and_unknown_namespaces_are_invalid() {
    let sio = SocketIo::builder().build();
    sio.namespace("/admin")
        .use_middleware(|_socket: Socket, auth: serde_json::Value| async move {
            if auth["token"] == "secret" {
                Ok(())
            } else {
                Err(ConnectError::new("not authorized").with_data(json!({"retry": false})))
            }
        });
    let mut client = sio.test_client();
    let refusal = client
        .connect("/admin", Some(json!({"token": "guess"})))
        .await
        .unwrap_err();
    assert_eq!(
        refusal,
        ConnectError::new("not authorized").with_data(json!({"retry": false}))
    );
    assert!(client
        .connect("/admin", Some(json!({"token": "secret"})))
        .await
        .is_ok());
    let refusal = client.connect("/nowhere", None).await.unwrap_err();
    assert_eq!(refusal.message, "Invalid namespace");
    assert_eq!(sio.namespace("/admin").socket_count(), 1);
}

#[tokio::test]
async fn server_emit_with_ack_gets_the_answer_or_times_out() {
    let sio = SocketIo::builder()
        .ack_timeout(Duration::from_millis(200))
        .build();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    sio.namespace("/")
        .on_connect(move |socket: Socket, _auth: serde_json::Value| {
            let tx = tx.clone();
            async move {
                let first: Result<String, Error> = socket.emit_with_ack("question", &1).await;
                let second: Result<String, Error> = socket.emit_with_ack("ignored", &2).await;
                let _ = tx.send((first, second));
            }
        });
    let mut client = sio.test_client();
    client.connect("/", None).await.unwrap();
    let (name, id, _) = client.recv_event("/").await.unwrap();
    assert_eq!(name, "question");
    client.ack("/", id.unwrap(), &"answer").unwrap();
    let (first, second) = rx.recv().await.unwrap();
    assert_eq!(first.unwrap(), "answer");
    assert!(matches!(second, Err(Error::AckTimeout)), "{second:?}");
}

#[tokio::test]
async fn rooms_broadcast_to_and_except_reach_the_right_sockets() {
    let sio = SocketIo::builder().build();
    sio.namespace("/")
        .on("join", |socket: Socket, event: Event| async move {
            let room: String = event.data()?;
            socket.join(room);
            Ok::<(), Error>(())
        });
    sio.namespace("/")
        .on("shout", |socket: Socket, event: Event| async move {
            let text: String = event.data().map_err(|err| err.to_string())?;
            socket
                .broadcast()
                .emit("shout", &text)
                .await
                .map_err(|err| err.to_string())
        });
    let mut clients = Vec::new();
    for room in ["red", "red", "blue"] {
        let mut client = sio.test_client();
        client.connect("/", None).await.unwrap();
        client.emit("/", "join", &room).unwrap();
        clients.push(client);
    }
    // Joins are handled in spawned tasks: wait until all three are in their rooms.
    for _ in 0..100 {
        let red = sio.of("/").to("red").fetch_sockets().await.unwrap().len();
        let blue = sio.of("/").to("blue").fetch_sockets().await.unwrap().len();
        if red == 2 && blue == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    sio.of("/")
        .to("red")
        .except("blue")
        .emit("news", &"for red")
        .await
        .unwrap();
    for (index, client) in clients.iter_mut().enumerate() {
        let got = client.try_recv_within(Duration::from_millis(100)).await;
        assert_eq!(got.is_some(), index < 2, "client {index}: {got:?}");
    }
    clients[0].emit("/", "shout", &"hi").unwrap();
    assert!(
        clients[0]
            .try_recv_within(Duration::from_millis(100))
            .await
            .is_none(),
        "the sender is left out"
    );
    for client in &mut clients[1..] {
        let (name, _, args) = client.recv_event("/").await.unwrap();
        assert_eq!(
            (
                name.as_str(),
                args.deserialize::<String>().unwrap().as_str()
            ),
            ("shout", "hi")
        );
    }
}

#[tokio::test]
async fn broadcast_with_acks_collects_every_answer() {
    let sio = SocketIo::builder().build();
    let mut clients = Vec::new();
    for _ in 0..3 {
        let mut client = sio.test_client();
        client.connect("/", None).await.unwrap();
        clients.push(client);
    }
    let sio2 = sio.clone();
    let poll = tokio::spawn(async move {
        sio2.of("/")
            .emit_with_ack("poll", &(), Duration::from_secs(2))
            .await
    });
    for (index, client) in clients.iter_mut().enumerate() {
        let (_, id, _) = client.recv_event("/").await.unwrap();
        client.ack("/", id.unwrap(), &index).unwrap();
    }
    let acks = poll.await.unwrap().unwrap();
    assert_eq!(acks.expected, 3);
    let mut answers: Vec<usize> = acks
        .answers
        .iter()
        .map(|(_, args)| args.deserialize().unwrap())
        .collect();
    answers.sort();
    assert_eq!(answers, vec![0, 1, 2]);
}

#[tokio::test]
async fn binary_travels_both_ways_and_catch_all_sees_unhandled_events() {
    let sio = SocketIo::builder().build();
    sio.namespace("/")
        .on_any(|socket: Socket, mut event: Event| async move {
            let data: Bytes = event.data()?;
            let name = event.name().to_owned();
            socket.emit(
                "seen",
                &(
                    name,
                    Bytes::from(data.iter().rev().copied().collect::<Vec<u8>>()),
                ),
            )?;
            event.ack(&data)
        });
    let mut client = sio.test_client();
    client.connect("/", None).await.unwrap();
    let answer = client
        .emit_with_ack("/", "upload", &Bytes::from_static(&[1, 2, 3]))
        .await
        .unwrap();
    assert_eq!(answer.attachments(), &[Bytes::from_static(&[1, 2, 3])]);
    let (name, _, args) = client.recv_event("/").await.unwrap();
    assert_eq!(name, "seen");
    let (event, data): (String, Bytes) = args.deserialize().unwrap();
    assert_eq!((event.as_str(), &data[..]), ("upload", &[3, 2, 1][..]));
}

#[tokio::test]
async fn disconnect_reasons_reach_the_handler() {
    let sio = SocketIo::builder().build();
    let reasons = Arc::new(Mutex::new(Vec::new()));
    let seen = reasons.clone();
    sio.namespace("/")
        .on_disconnect(move |_socket: Socket, reason: DisconnectReason| {
            seen.lock().unwrap().push(reason);
            async {}
        });
    sio.namespace("/")
        .on("kick", |socket: Socket, _event: Event| async move {
            socket.disconnect()
        });

    let mut leaving = sio.test_client();
    leaving.connect("/", None).await.unwrap();
    leaving.disconnect("/");
    let mut kicked = sio.test_client();
    kicked.connect("/", None).await.unwrap();
    kicked.emit("/", "kick", &()).unwrap();
    assert!(matches!(
        kicked.recv().await.map(|p| p.data),
        Some(carafe_socketio::packet::PacketData::Disconnect)
    ));
    let mut closing = sio.test_client();
    closing.connect("/", None).await.unwrap();
    closing.close();
    let mut malformed = sio.test_client();
    malformed.connect("/", None).await.unwrap();
    malformed.send_raw_text("2[\"disconnect\"]");
    assert!(malformed.is_closed());
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut got = reasons.lock().unwrap().clone();
    got.sort_by_key(|reason| reason.as_str());
    assert_eq!(
        got,
        vec![
            DisconnectReason::ClientNamespaceDisconnect,
            DisconnectReason::ParseError,
            DisconnectReason::ServerNamespaceDisconnect,
            DisconnectReason::TransportClose,
        ]
    );
    assert_eq!(sio.namespace("/").socket_count(), 0);
}

#[tokio::test]
async fn fetch_sockets_returns_data_and_disconnect_sockets_empties_a_room() {
    let sio = SocketIo::builder().build();
    sio.namespace("/")
        .on_connect(|socket: Socket, auth: serde_json::Value| async move {
            socket.join("players");
            socket.set_data(&auth)
        });
    let mut a = sio.test_client();
    a.connect("/", Some(json!({"name": "ada"}))).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let sockets = sio.of("/").to("players").fetch_sockets().await.unwrap();
    assert_eq!(sockets.len(), 1);
    assert_eq!(sockets[0].data, json!({"name": "ada"}));
    sio.of("/")
        .to("players")
        .disconnect_sockets(false)
        .await
        .unwrap();
    assert!(sio
        .of("/")
        .to("players")
        .fetch_sockets()
        .await
        .unwrap()
        .is_empty());
}
