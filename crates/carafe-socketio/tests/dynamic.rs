//! Dynamic namespaces through the `TestClient`: children created on CONNECT, shared
//! handlers and middleware, broadcast from the parent, `sio.of(child)`, cleanup.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::time::Duration;

use carafe_socketio::extract::Data;
use carafe_socketio::{AckSender, ConnectError, Socket, SocketIo};
use serde_json::Value;

#[tokio::test]
async fn children_share_the_parents_handlers_and_middleware() {
    let sio = SocketIo::builder().build();
    let parent = sio.dynamic_namespace(|name: &str| name.starts_with("/tenant-"));
    parent
        .use_middleware(|_socket: Socket, auth: Value| async move {
            match auth["token"].as_str() {
                Some("ok") => Ok(()),
                _ => Err(ConnectError::new("no token")),
            }
        })
        .on("where", |socket: Socket, ack: AckSender| async move {
            ack.send(socket.namespace())
        });
    let mut client = sio.test_client();
    let refused = client.connect("/tenant-a", None).await.unwrap_err();
    assert_eq!(refused.message, "no token");
    let auth = Some(serde_json::json!({"token": "ok"}));
    client.connect("/tenant-a", auth.clone()).await.unwrap();
    client.connect("/tenant-b", auth.clone()).await.unwrap();
    assert_eq!(
        client.connect("/other", auth).await.unwrap_err().message,
        "Invalid namespace"
    );
    for name in ["/tenant-a", "/tenant-b"] {
        let answer = client.emit_with_ack(name, "where", &()).await.unwrap();
        assert_eq!(answer.deserialize::<String>().unwrap(), name);
    }
    let mut children = parent.children();
    children.sort();
    assert_eq!(children, vec!["/tenant-a", "/tenant-b"]);
    assert_eq!(parent.socket_count(), 2);

    // A handler registered on the parent later applies to existing children too.
    parent.on("late", |ack: AckSender| async move { ack.send(&"yes") });
    let answer = client
        .emit_with_ack("/tenant-b", "late", &())
        .await
        .unwrap();
    assert_eq!(answer.deserialize::<String>().unwrap(), "yes");
}

#[tokio::test]
async fn the_parent_broadcasts_to_every_child_and_of_child_reaches_one() {
    let sio = SocketIo::builder().build();
    let parent = sio.dynamic_namespace("/room-*");
    let mut one = sio.test_client();
    let mut two = sio.test_client();
    one.connect("/room-1", None).await.unwrap();
    two.connect("/room-2", None).await.unwrap();
    parent.broadcast().emit("all", &"hi").await.unwrap();
    assert_eq!(one.recv_event("/room-1").await.unwrap().0, "all");
    assert_eq!(two.recv_event("/room-2").await.unwrap().0, "all");

    // From outside a handler, e.g. a background task.
    let room2 = sio.of("/room-2");
    tokio::spawn(async move { room2.emit("only", &2).await })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(two.recv_event("/room-2").await.unwrap().0, "only");
    assert!(one
        .try_recv_within(Duration::from_millis(50))
        .await
        .is_none());

    // Broadcast with acks across children collects both answers.
    let waiting = tokio::spawn({
        let parent = parent.clone();
        async move {
            parent
                .broadcast()
                .emit_with_ack("poll", &(), Duration::from_secs(2))
                .await
        }
    });
    for (client, ns) in [(&mut one, "/room-1"), (&mut two, "/room-2")] {
        let (_, id, _) = client.recv_event(ns).await.unwrap();
        client.ack(ns, id.unwrap(), &ns).unwrap();
    }
    let acks = waiting.await.unwrap().unwrap();
    assert_eq!(acks.expected, 2);
    let mut got: Vec<String> = acks
        .answers
        .iter()
        .map(|(_, args)| args.deserialize().unwrap())
        .collect();
    got.sort();
    assert_eq!(got, vec!["/room-1", "/room-2"]);
    assert_eq!(parent.broadcast().fetch_sockets().await.unwrap().len(), 2);
}

#[tokio::test]
async fn empty_children_are_removed_only_when_asked() {
    for cleanup in [false, true] {
        let sio = SocketIo::builder()
            .cleanup_empty_child_namespaces(cleanup)
            .build();
        let parent = sio.dynamic_namespace("/game-*");
        parent.on("x", |Data(_v): Data<Value>| async {});
        let mut client = sio.test_client();
        client.connect("/game-1", None).await.unwrap();
        assert!(sio.get_namespace("/game-1").is_some());
        client.disconnect("/game-1");
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(sio.get_namespace("/game-1").is_none(), cleanup);
        assert_eq!(parent.children().is_empty(), cleanup);
        // Connecting again works either way (a new child when it was removed).
        client.connect("/game-1", None).await.unwrap();
        assert_eq!(parent.children(), vec!["/game-1"]);
    }
}

#[tokio::test]
async fn a_refused_connect_does_not_leave_an_empty_child_behind_with_cleanup() {
    let sio = SocketIo::builder()
        .cleanup_empty_child_namespaces(true)
        .build();
    let parent = sio.dynamic_namespace("/p-*");
    parent.use_middleware(|_s: Socket, _a: Value| async { Err(ConnectError::new("no")) });
    let mut client = sio.test_client();
    assert!(client.connect("/p-1", None).await.is_err());
    assert!(sio.get_namespace("/p-1").is_none());
    assert!(parent.children().is_empty());
}

#[tokio::test]
async fn static_namespaces_win_over_patterns() {
    let sio = SocketIo::builder().build();
    sio.namespace("/room-static")
        .on("who", |ack: AckSender| async move { ack.send(&"static") });
    let parent = sio.dynamic_namespace("/room-*");
    parent.on("who", |ack: AckSender| async move { ack.send(&"dynamic") });
    let mut client = sio.test_client();
    client.connect("/room-static", None).await.unwrap();
    client.connect("/room-x", None).await.unwrap();
    let a = client
        .emit_with_ack("/room-static", "who", &())
        .await
        .unwrap();
    let b = client.emit_with_ack("/room-x", "who", &()).await.unwrap();
    assert_eq!(a.deserialize::<String>().unwrap(), "static");
    assert_eq!(b.deserialize::<String>().unwrap(), "dynamic");
    assert_eq!(parent.children(), vec!["/room-x"]);
}
