//! Long-polling sessions over raw HTTP on loopback: messages, binary, heartbeat, the
//! protocol errors that close a session, and every close reason reaching the handler.

mod support;

use std::time::Duration;

use carafe_engineio::DisconnectReason;
use support::*;

fn target(sid: &str) -> String {
    format!("/engine.io/?EIO=4&transport=polling&sid={sid}")
}

#[tokio::test]
async fn the_handshake_answers_an_open_packet_with_the_reference_headers() {
    let server = start(test_config()).await;
    let answer = get(server.addr, "/engine.io/?EIO=4&transport=polling", &[]).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("content-type"),
        Some("text/plain; charset=UTF-8")
    );
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    let json: serde_json::Value = serde_json::from_str(&answer.text()[1..]).expect("json");
    assert_eq!(json["upgrades"], serde_json::json!(["websocket"]));
    assert_eq!(json["pingInterval"], 300);
    assert_eq!(json["pingTimeout"], 200);
    assert_eq!(json["maxPayload"], 1_000_000);
    let sid = json["sid"].as_str().expect("sid");
    assert_eq!(sid.len(), 22);
    assert!(sid
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
}

#[tokio::test]
async fn messages_flow_both_ways_in_order() {
    let mut server = start(test_config()).await;
    let sid = server.open_polling().await;
    let answer = post(server.addr, &target(&sid), b"4test1\x1e4test2\x1ebAQIDBA==").await;
    assert_eq!((answer.status, answer.text().as_str()), (200, "ok"));
    assert_eq!(answer.header("content-type"), Some("text/html"));
    assert_eq!(
        server.event().await,
        Event::Message(sid.clone(), "test1".into())
    );
    assert_eq!(
        server.event().await,
        Event::Message(sid.clone(), "test2".into())
    );
    assert_eq!(
        server.event().await,
        Event::Binary(sid.clone(), vec![1, 2, 3, 4])
    );
    let answer = get(server.addr, &target(&sid), &[]).await;
    assert_eq!(answer.text(), "4test1\x1e4test2\x1ebAQIDBA==");
}

#[tokio::test]
async fn a_waiting_get_is_answered_when_a_message_is_sent() {
    let mut server = start(test_config()).await;
    let sid = server.open_polling().await;
    let addr = server.addr;
    let poll = tokio::spawn({
        let target = target(&sid);
        async move { get(addr, &target, &[]).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    server
        .engine
        .socket(&sid)
        .expect("open")
        .send("later")
        .expect("send");
    assert_eq!(poll.await.expect("poll").text(), "4later");
}

#[tokio::test]
async fn the_heartbeat_pings_after_one_interval_and_a_missing_pong_times_out() {
    let mut server = start(test_config()).await;
    let started = tokio::time::Instant::now();
    let sid = server.open_polling().await;
    for _ in 0..2 {
        let answer = get(server.addr, &target(&sid), &[]).await;
        assert_eq!(answer.text(), "2");
        assert!(
            started.elapsed() >= Duration::from_millis(290),
            "not before pingInterval"
        );
        assert_eq!(post(server.addr, &target(&sid), b"3").await.status, 200);
    }
    let answer = get(server.addr, &target(&sid), &[]).await;
    assert_eq!(answer.text(), "2");
    assert_eq!(
        server.event().await,
        Event::Disconnect(sid.clone(), DisconnectReason::PingTimeout)
    );
    assert_eq!(get(server.addr, &target(&sid), &[]).await.status, 400);
}

#[tokio::test]
async fn a_second_get_closes_the_session() {
    let mut server = start(test_config()).await;
    let sid = server.open_polling().await;
    let addr = server.addr;
    let first = tokio::spawn({
        let target = target(&sid);
        async move { get(addr, &target, &[]).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let second = get(addr, &target(&sid), &[]).await;
    assert_eq!(second.status, 400);
    assert_eq!(first.await.expect("first").text(), "1");
    assert_eq!(
        server.event().await,
        Event::Disconnect(sid.clone(), DisconnectReason::TransportError)
    );
    assert_eq!(get(addr, &target(&sid), &[]).await.status, 400);
}

#[tokio::test]
async fn a_bad_packet_gets_400_and_closes_with_parse_error() {
    let mut server = start(test_config()).await;
    let sid = server.open_polling().await;
    let answer = post(server.addr, &target(&sid), b"abc").await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        server.event().await,
        Event::Disconnect(sid.clone(), DisconnectReason::ParseError)
    );
    assert_eq!(get(server.addr, &target(&sid), &[]).await.status, 400);
}

#[tokio::test]
async fn a_binary_content_type_closes_with_transport_error() {
    let mut server = start(test_config()).await;
    let sid = server.open_polling().await;
    let answer = request(
        server.addr,
        "POST",
        &target(&sid),
        &[("content-type", "application/octet-stream")],
        b"\x01\x02",
    )
    .await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        server.event().await,
        Event::Disconnect(sid, DisconnectReason::TransportError)
    );
}

#[tokio::test]
async fn a_client_close_ends_the_waiting_get_with_noop() {
    let mut server = start(test_config()).await;
    let sid = server.open_polling().await;
    let addr = server.addr;
    let poll = tokio::spawn({
        let target = target(&sid);
        async move { get(addr, &target, &[]).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(post(addr, &target(&sid), b"1").await.status, 200);
    assert_eq!(poll.await.expect("poll").text(), "6");
    assert_eq!(
        server.event().await,
        Event::Disconnect(sid.clone(), DisconnectReason::TransportClose)
    );
    assert_eq!(get(addr, &target(&sid), &[]).await.status, 400);
}

#[tokio::test]
async fn a_get_racing_a_client_close_still_gets_noop_once() {
    let mut server = start(test_config()).await;
    let sid = server.open_polling().await;
    assert_eq!(post(server.addr, &target(&sid), b"1").await.status, 200);
    assert_eq!(get(server.addr, &target(&sid), &[]).await.text(), "6");
    assert_eq!(get(server.addr, &target(&sid), &[]).await.status, 400);
    assert_eq!(
        server.event().await,
        Event::Disconnect(sid, DisconnectReason::TransportClose)
    );
}

#[tokio::test]
async fn a_server_close_flushes_queued_packets_then_sends_close() {
    let mut server = start(test_config()).await;
    let sid = server.open_polling().await;
    let socket = server.engine.socket(&sid).expect("open");
    socket.send("bye").expect("send");
    socket.close();
    assert!(socket.send("too late").is_err());
    assert_eq!(
        get(server.addr, &target(&sid), &[]).await.text(),
        "4bye\x1e1"
    );
    assert_eq!(
        server.event().await,
        Event::Disconnect(sid.clone(), DisconnectReason::ForcedClose)
    );
    assert_eq!(get(server.addr, &target(&sid), &[]).await.status, 400);
}

#[tokio::test]
async fn close_all_reports_server_close() {
    let mut server = start(test_config()).await;
    let sid = server.open_polling().await;
    server.engine.close_all();
    assert_eq!(get(server.addr, &target(&sid), &[]).await.text(), "1");
    assert_eq!(
        server.event().await,
        Event::Disconnect(sid, DisconnectReason::ServerClose)
    );
}

#[tokio::test]
async fn a_consumer_that_does_not_poll_is_disconnected_when_its_buffer_fills() {
    let mut config = test_config();
    config.max_buffered_bytes = 10_000;
    config.ping_interval = Duration::from_secs(20);
    let mut server = start(config).await;
    let sid = server.open_polling().await;
    let socket = server.engine.socket(&sid).expect("open");
    let chunk = "x".repeat(1000);
    let sent = (0..100).take_while(|_| socket.send(&chunk).is_ok()).count();
    assert!((5..10).contains(&sent), "{sent} messages fit in 10 kB");
    assert_eq!(
        server.event().await,
        Event::Disconnect(sid.clone(), DisconnectReason::BufferFull)
    );
    assert_eq!(get(server.addr, &target(&sid), &[]).await.status, 400);
}

#[tokio::test]
async fn socket_handles_expose_the_handshake() {
    let mut server = start(test_config()).await;
    let answer = get(
        server.addr,
        "/engine.io/?EIO=4&transport=polling&token=abc",
        &[("x-user", "ada")],
    )
    .await;
    let sid = open_sid(&answer.text());
    let _ = server.event().await;
    let socket = server.engine.socket(&sid).expect("open");
    assert_eq!(socket.headers()["x-user"], "ada");
    assert_eq!(
        socket.uri().query(),
        Some("EIO=4&transport=polling&token=abc")
    );
    assert_eq!(socket.peer_addr().map(|a| a.ip().is_loopback()), Some(true));
    assert_eq!(socket.transport(), carafe_engineio::Transport::Polling);
    assert!(socket.is_open());
}
