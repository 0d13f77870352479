//! Typed handlers and acks through the `TestClient`: extractors, payload errors answered
//! through the ack, acks sent at most once, and the `ackTimeout` + `retries` client mode
//! (every emit carries an ack id; a retry is the same event sent again).

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use carafe_socketio::extract::Data;
use carafe_socketio::packet::PacketData;
use carafe_socketio::{AckSender, Event, Socket, SocketIo};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, Deserialize, Serialize, PartialEq)]
struct Bid {
    item: String,
    amount: u32,
}

#[tokio::test]
async fn typed_arguments_and_the_ack_in_one_handler() {
    let sio = SocketIo::builder().build();
    sio.namespace("/item").on(
        "bid",
        |socket: Socket, Data(bid): Data<Bid>, ack: AckSender| async move {
            socket.join(format!("item:{}", bid.item));
            ack.send(&(bid.amount * 2, socket.rooms().len()))
        },
    );
    sio.namespace("/item").on(
        "pair",
        |Data((a, b)): Data<(String, Bid)>, ack: Option<AckSender>| async move {
            if let Some(ack) = ack {
                ack.send(&format!("{a}:{}", b.amount))?;
            }
            Ok::<(), carafe_socketio::Error>(())
        },
    );
    let mut client = sio.test_client();
    client.connect("/item", None).await.unwrap();
    let answer = client
        .emit_with_ack("/item", "bid", &json!({"item": "car", "amount": 21}))
        .await
        .unwrap();
    assert_eq!(answer.deserialize::<(u32, usize)>().unwrap(), (42, 2));
    let answer = client
        .emit_with_ack("/item", "pair", &("x", json!({"item": "b", "amount": 3})))
        .await
        .unwrap();
    assert_eq!(answer.deserialize::<String>().unwrap(), "x:3");
}

#[tokio::test]
async fn a_bad_payload_answers_the_ack_with_the_failing_field_and_skips_the_handler() {
    let sio = SocketIo::builder().build();
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    sio.namespace("/")
        .on("bid", move |ack: AckSender, Data(bid): Data<Bid>| {
            counted.fetch_add(1, Ordering::SeqCst);
            async move { ack.send(&bid.amount) }
        });
    sio.namespace("/")
        .on("pair", |Data(_pair): Data<(String, Bid)>| async {});
    let mut client = sio.test_client();
    client.connect("/", None).await.unwrap();
    let cases = [
        (json!({"item": "car", "amount": "lots"}), "amount"),
        (json!({"item": "car"}), "amount"),
        (json!("not an object"), "."),
    ];
    for (payload, field) in cases {
        let answer = client.emit_with_ack("/", "bid", &payload).await.unwrap();
        let error: Value = answer.deserialize().unwrap();
        assert_eq!(error["field"], field, "{error}");
        assert!(error["error"].as_str().unwrap().contains(field), "{error}");
    }
    let answer = client
        .emit_with_ack("/", "pair", &("a", json!({"item": 1, "amount": 2})))
        .await
        .unwrap();
    assert_eq!(answer.deserialize::<Value>().unwrap()["field"], "[1].item");
    // Exactly one answer each time, even though the ack had been extracted first.
    assert!(client
        .try_recv_within(Duration::from_millis(50))
        .await
        .is_none());
    // Without an ack nothing is sent, nothing panics, and the socket keeps working.
    client.emit("/", "bid", &json!({"amount": -1})).unwrap();
    let answer = client
        .emit_with_ack("/", "bid", &json!({"item": "ok", "amount": 1}))
        .await
        .unwrap();
    assert_eq!(answer.deserialize::<u32>().unwrap(), 1);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the handler runs only for the good payload"
    );
}

#[tokio::test]
async fn an_ack_goes_out_at_most_once_and_dropping_it_sends_nothing() {
    let sio = SocketIo::builder().build();
    sio.namespace("/")
        .on("twice", |_socket: Socket, mut event: Event| async move {
            event.ack(&1)?;
            event.ack(&2)
        })
        .on("dropped", |ack: AckSender| async move { drop(ack) })
        .on("ignored", |_socket: Socket, _event: Event| async {})
        .on(
            "no-ack-asked",
            |socket: Socket, ack: AckSender| async move {
                if ack.requested() {
                    socket.emit("wrong", &"an ack was not asked for")?;
                }
                ack.send(&"nobody hears this")
            },
        );
    let mut client = sio.test_client();
    client.connect("/", None).await.unwrap();
    let answer = client.emit_with_ack("/", "twice", &()).await.unwrap();
    assert_eq!(answer.deserialize::<u32>().unwrap(), 1);
    client.emit_with_id("/", "dropped", 50, &()).unwrap();
    client.emit_with_id("/", "ignored", 51, &()).unwrap();
    client.emit("/", "no-ack-asked", &()).unwrap();
    let next = client.try_recv_within(Duration::from_millis(100)).await;
    assert!(next.is_none(), "{next:?}");
}

/// socket.io-client with `retries` attaches an ack id to every emit and, when no ack came
/// within `ackTimeout`, emits the same event again (with the next ack id). Node's server
/// dispatches every copy and answers each ack id at most once; so does carafe. A handler
/// that never acks leaves nothing behind.
#[tokio::test]
async fn the_retries_client_mode_gets_one_answer_per_attempt() {
    let sio = SocketIo::builder().build();
    let seen = Arc::new(AtomicUsize::new(0));
    let counted = seen.clone();
    sio.namespace("/")
        .on("save", move |Data(n): Data<u32>, ack: AckSender| {
            let attempt = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                // The first attempt is "slow" (never acked), the retry is answered.
                if attempt == 0 {
                    drop(ack);
                    return Ok(());
                }
                ack.send(&(n + 1))
            }
        })
        .on("fire", |Data(_n): Data<u32>| async {});
    let mut client = sio.test_client();
    client.connect("/", None).await.unwrap();
    client.emit_with_id("/", "save", 0, &7).unwrap();
    assert!(client
        .try_recv_within(Duration::from_millis(100))
        .await
        .is_none());
    client.emit_with_id("/", "save", 1, &7).unwrap();
    let answer = client.recv_ack("/", 1).await.unwrap();
    assert_eq!(answer.deserialize::<u32>().unwrap(), 8);
    // A handler that never acks (the client only wanted delivery): nothing comes back,
    // and later events still work.
    for id in 2..5 {
        client.emit_with_id("/", "fire", id, &id).unwrap();
    }
    // The same id sent twice (a client that reuses it): two dispatches, two answers, one
    // per packet, as Node does.
    client.emit_with_id("/", "save", 9, &1).unwrap();
    client.emit_with_id("/", "save", 9, &2).unwrap();
    let mut answers = Vec::new();
    for _ in 0..2 {
        let packet = client.recv().await.unwrap();
        let PacketData::Ack { id, args } = packet.data else {
            panic!("{packet:?}")
        };
        assert_eq!(id, 9);
        answers.push(args.deserialize::<u32>().unwrap());
    }
    answers.sort();
    assert_eq!(answers, vec![2, 3]);
    assert!(client
        .try_recv_within(Duration::from_millis(50))
        .await
        .is_none());
    assert_eq!(seen.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn zero_argument_handlers_and_the_old_socket_event_form_still_work() {
    let sio = SocketIo::builder().build();
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    sio.namespace("/")
        .on("ping", move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async {}
        })
        .on_any(|socket: Socket, mut event: Event| async move {
            let name = event.name().to_owned();
            let _ = socket.id();
            event.ack(&name)
        });
    let mut client = sio.test_client();
    client.connect("/", None).await.unwrap();
    client.emit("/", "ping", &()).unwrap();
    let answer = client.emit_with_ack("/", "other", &1).await.unwrap();
    assert_eq!(answer.deserialize::<String>().unwrap(), "other");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}
