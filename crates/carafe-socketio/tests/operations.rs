//! Server-side operations through the `TestClient`: broadcast acks with a timeout,
//! `disconnect_sockets(close)`, live `sockets()`, `except`, emits from outside handlers.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::sync::{Arc, Mutex};
use std::time::Duration;

use carafe_socketio::packet::PacketData;
use carafe_socketio::{DisconnectReason, Socket, SocketIo};
use serde_json::{json, Value};

#[tokio::test]
async fn broadcast_acks_return_what_came_in_before_the_timeout() {
    let sio = SocketIo::builder().build();
    let mut quick = sio.test_client();
    let mut silent = sio.test_client();
    quick.connect("/", None).await.unwrap();
    silent.connect("/", None).await.unwrap();
    let of = sio.of("/");
    let poll = tokio::spawn(async move {
        of.emit_with_ack("poll", &(), Duration::from_millis(200))
            .await
    });
    let (_, id, _) = quick.recv_event("/").await.unwrap();
    quick.ack("/", id.unwrap(), &"yes").unwrap();
    let (_, silent_id, _) = silent.recv_event("/").await.unwrap();
    let acks = poll.await.unwrap().unwrap();
    assert_eq!(acks.expected, 2);
    assert_eq!(acks.answers.len(), 1);
    assert_eq!(acks.answers[0].1.deserialize::<String>().unwrap(), "yes");
    // A late answer after the timeout is ignored (nothing waits for it, nothing breaks).
    silent.ack("/", silent_id.unwrap(), &"late").unwrap();
    assert!(silent
        .try_recv_within(Duration::from_millis(50))
        .await
        .is_none());
}

#[tokio::test]
async fn disconnect_sockets_with_close_ends_the_connections_with_the_server_reason() {
    let sio = SocketIo::builder().build();
    let reasons = Arc::new(Mutex::new(Vec::new()));
    let seen = reasons.clone();
    sio.namespace("/")
        .on_connect(|socket: Socket, auth: Value| async move {
            if auth["kick"] == true {
                socket.join("kicked");
            }
        })
        .on_disconnect(move |_socket: Socket, reason: DisconnectReason| {
            let seen = seen.clone();
            async move { seen.lock().unwrap().push(reason) }
        });
    let mut kicked = sio.test_client();
    let mut stays = sio.test_client();
    kicked
        .connect("/", Some(json!({"kick": true})))
        .await
        .unwrap();
    stays.connect("/", None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    sio.of("/")
        .to("kicked")
        .disconnect_sockets(true)
        .await
        .unwrap();
    let packet = kicked.recv().await.unwrap();
    assert_eq!(packet.data, PacketData::Disconnect);
    assert!(kicked.is_closed());
    assert!(!stays.is_closed());
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        *reasons.lock().unwrap(),
        vec![DisconnectReason::ServerNamespaceDisconnect]
    );
    assert_eq!(sio.namespace("/").socket_count(), 1);
}

#[tokio::test]
async fn live_sockets_can_be_picked_from_outside_a_handler() {
    let sio = SocketIo::builder().build();
    sio.namespace("/")
        .on_connect(|socket: Socket, auth: Value| async move { socket.set_data(&auth) });
    let mut ada = sio.test_client();
    let mut bob = sio.test_client();
    ada.connect("/", Some(json!({"name": "ada"})))
        .await
        .unwrap();
    bob.connect("/", Some(json!({"name": "bob"})))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    // As an HTTP handler or a background task would.
    let io = sio.clone();
    tokio::spawn(async move {
        for socket in io.of("/").sockets().await.unwrap() {
            let data: Value = socket.data().unwrap();
            if data["name"] == "bob" {
                socket.emit("only-bob", &()).unwrap();
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(bob.recv_event("/").await.unwrap().0, "only-bob");
    assert!(ada
        .try_recv_within(Duration::from_millis(50))
        .await
        .is_none());
}

#[tokio::test]
async fn socket_broadcast_except_leaves_out_the_sender_and_the_room() {
    let sio = SocketIo::builder().build();
    sio.namespace("/")
        .on_connect(|socket: Socket, auth: Value| async move {
            if auth["muted"] == true {
                socket.join("muted");
            }
        })
        .on("say", |socket: Socket| async move {
            socket.broadcast().except("muted").emit("said", &()).await
        });
    let mut sender = sio.test_client();
    let mut muted = sio.test_client();
    let mut listener = sio.test_client();
    sender.connect("/", None).await.unwrap();
    muted
        .connect("/", Some(json!({"muted": true})))
        .await
        .unwrap();
    listener.connect("/", None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    sender.emit("/", "say", &()).unwrap();
    assert_eq!(listener.recv_event("/").await.unwrap().0, "said");
    for client in [&mut sender, &mut muted] {
        assert!(client
            .try_recv_within(Duration::from_millis(50))
            .await
            .is_none());
    }
}

#[tokio::test]
async fn a_client_disconnected_by_the_server_can_connect_again_on_the_same_connection() {
    let sio = SocketIo::builder().build();
    sio.namespace("/")
        .on(
            "kick-me",
            |socket: Socket| async move { socket.disconnect() },
        )
        .on("hi", |ack: carafe_socketio::AckSender| async move {
            ack.send(&"hi")
        });
    let mut client = sio.test_client();
    let first = client.connect("/", None).await.unwrap();
    client.emit("/", "kick-me", &()).unwrap();
    assert_eq!(client.recv().await.unwrap().data, PacketData::Disconnect);
    // Events to the namespace it left are ignored.
    client.emit_with_id("/", "hi", 1, &()).unwrap();
    assert!(client
        .try_recv_within(Duration::from_millis(50))
        .await
        .is_none());
    let second = client.connect("/", None).await.unwrap();
    assert_ne!(first, second);
    let answer = client.emit_with_ack("/", "hi", &()).await.unwrap();
    assert_eq!(answer.deserialize::<String>().unwrap(), "hi");
}

#[tokio::test]
async fn an_emit_to_the_whole_namespace_reaches_every_connected_socket_and_no_other() {
    let sio = SocketIo::builder().build();
    sio.namespace("/");
    sio.namespace("/other");
    let mut clients = Vec::new();
    for _ in 0..3 {
        let mut client = sio.test_client();
        client.connect("/", None).await.unwrap();
        clients.push(client);
    }
    let mut gone = sio.test_client();
    gone.connect("/", None).await.unwrap();
    gone.disconnect("/");
    let mut elsewhere = sio.test_client();
    elsewhere.connect("/other", None).await.unwrap();
    // Wait until the server has seen the disconnect.
    for _ in 0..100 {
        if sio.of("/").fetch_sockets().await.unwrap().len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    sio.of("/").emit("news", &"for all").await.unwrap();
    for client in &mut clients {
        let (name, _, args) = client.recv_event("/").await.unwrap();
        assert_eq!(name, "news");
        assert_eq!(args.deserialize::<String>().unwrap(), "for all");
    }
    for client in [&mut gone, &mut elsewhere] {
        let got = client.try_recv_within(Duration::from_millis(50)).await;
        assert!(got.is_none(), "{got:?}");
    }
}
