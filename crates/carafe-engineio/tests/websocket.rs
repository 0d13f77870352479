//! WebSocket sessions and the upgrade from long-polling, with a tungstenite client.

mod support;

use std::time::Duration;

use carafe_engineio::{DisconnectReason, Transport};
use futures_util::SinkExt;
use support::*;
use tokio_tungstenite::tungstenite::Message;

fn target(sid: &str) -> String {
    format!("/engine.io/?EIO=4&transport=polling&sid={sid}")
}

#[tokio::test]
async fn a_websocket_session_opens_without_upgrades_and_echoes_text_and_binary() {
    let mut server = start(test_config()).await;
    let mut ws = ws_connect(server.addr, "transport=websocket").await;
    let open = ws_text(&mut ws).await;
    let json: serde_json::Value = serde_json::from_str(&open[1..]).expect("json");
    assert_eq!(json["upgrades"], serde_json::json!([]));
    let sid = open_sid(&open);
    assert_eq!(server.event().await, Event::Connect(sid.clone()));
    ws_send(&mut ws, "4hello").await;
    assert_eq!(ws_text(&mut ws).await, "4hello");
    ws.send(Message::binary(vec![1u8, 2, 3, 4]))
        .await
        .expect("send");
    assert_eq!(
        ws_next(&mut ws).await,
        Some(Message::binary(vec![1u8, 2, 3, 4]))
    );
    assert_eq!(
        server.event().await,
        Event::Message(sid.clone(), "hello".into())
    );
    assert_eq!(
        server.event().await,
        Event::Binary(sid.clone(), vec![1, 2, 3, 4])
    );
    assert_eq!(
        server.engine.socket(&sid).map(|s| s.transport()),
        Some(Transport::WebSocket)
    );
}

#[tokio::test]
async fn heartbeat_over_websocket_and_ping_timeout() {
    let mut server = start(test_config()).await;
    let mut ws = ws_connect(server.addr, "transport=websocket").await;
    let sid = open_sid(&ws_text(&mut ws).await);
    let _ = server.event().await;
    for _ in 0..2 {
        assert_eq!(ws_text(&mut ws).await, "2");
        ws_send(&mut ws, "3").await;
    }
    assert_eq!(ws_text(&mut ws).await, "2");
    assert_eq!(ws_next(&mut ws).await, None, "closed after pingTimeout");
    assert_eq!(
        server.event().await,
        Event::Disconnect(sid, DisconnectReason::PingTimeout)
    );
}

#[tokio::test]
async fn an_invalid_packet_closes_with_parse_error() {
    let mut server = start(test_config()).await;
    let mut ws = ws_connect(server.addr, "transport=websocket").await;
    let sid = open_sid(&ws_text(&mut ws).await);
    let _ = server.event().await;
    ws_send(&mut ws, "abc").await;
    assert_eq!(ws_next(&mut ws).await, None);
    assert_eq!(
        server.event().await,
        Event::Disconnect(sid, DisconnectReason::ParseError)
    );
}

#[tokio::test]
async fn a_close_packet_and_a_close_frame_are_transport_close() {
    let mut server = start(test_config()).await;
    let mut ws = ws_connect(server.addr, "transport=websocket").await;
    let sid = open_sid(&ws_text(&mut ws).await);
    let _ = server.event().await;
    ws_send(&mut ws, "1").await;
    assert_eq!(ws_next(&mut ws).await, None);
    assert_eq!(
        server.event().await,
        Event::Disconnect(sid, DisconnectReason::TransportClose)
    );
    let mut ws = ws_connect(server.addr, "transport=websocket").await;
    let sid = open_sid(&ws_text(&mut ws).await);
    let _ = server.event().await;
    ws.close(None).await.expect("close");
    assert_eq!(
        server.event().await,
        Event::Disconnect(sid, DisconnectReason::TransportClose)
    );
}

#[tokio::test]
async fn a_message_over_max_payload_closes_the_websocket() {
    let mut config = test_config();
    config.max_payload = 1000;
    let mut server = start(config).await;
    let mut ws = ws_connect(server.addr, "transport=websocket").await;
    let sid = open_sid(&ws_text(&mut ws).await);
    let _ = server.event().await;
    ws_send(&mut ws, &format!("4{}", "y".repeat(999))).await;
    assert_eq!(
        ws_text(&mut ws).await.len(),
        1000,
        "a message at the limit passes"
    );
    let _ = server.event().await;
    ws_send(&mut ws, &format!("4{}", "x".repeat(1000))).await;
    assert_eq!(ws_next(&mut ws).await, None);
    assert_eq!(
        server.event().await,
        Event::Disconnect(sid, DisconnectReason::TransportError)
    );
}

#[tokio::test]
async fn an_upgrade_flushes_buffered_packets_in_order_without_loss_or_duplicates() {
    let mut config = test_config();
    config.ping_interval = Duration::from_secs(20);
    let mut server = start(config).await;
    let sid = server.open_polling().await;
    let socket = server.engine.socket(&sid).expect("open");
    let addr = server.addr;
    let poll = tokio::spawn({
        let target = target(&sid);
        async move { get(addr, &target, &[]).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut ws = ws_connect(addr, &format!("transport=websocket&sid={sid}")).await;
    ws_send(&mut ws, "2probe").await;
    assert_eq!(ws_text(&mut ws).await, "3probe");
    assert_eq!(
        poll.await.expect("poll").text(),
        "6",
        "noop to the pending GET"
    );
    for n in 0..5 {
        socket.send(&format!("during {n}")).expect("send");
    }
    ws_send(&mut ws, "5").await;
    for n in 5..10 {
        socket.send(&format!("after {n}")).expect("send");
    }
    for n in 0..10 {
        let word = if n < 5 { "during" } else { "after" };
        assert_eq!(ws_text(&mut ws).await, format!("4{word} {n}"));
    }
    assert_eq!(socket.transport(), Transport::WebSocket);
    ws_send(&mut ws, "4hello").await;
    assert_eq!(ws_text(&mut ws).await, "4hello");
    assert_eq!(
        get(addr, &target(&sid), &[]).await.status,
        400,
        "polling after upgrade"
    );
    let mut second = ws_connect(addr, &format!("transport=websocket&sid={sid}")).await;
    assert_eq!(
        ws_next(&mut second).await,
        None,
        "a second websocket is closed"
    );
    ws_send(&mut ws, "4still").await;
    assert_eq!(ws_text(&mut ws).await, "4still");
}

#[tokio::test]
async fn a_failed_probe_leaves_the_session_polling() {
    let mut config = test_config();
    config.ping_interval = Duration::from_secs(20);
    let mut server = start(config).await;
    let sid = server.open_polling().await;
    let mut ws = ws_connect(server.addr, &format!("transport=websocket&sid={sid}")).await;
    ws_send(&mut ws, "4not a probe").await;
    assert_eq!(ws_next(&mut ws).await, None);
    let socket = server.engine.socket(&sid).expect("still open");
    socket.send("over polling").expect("send");
    assert_eq!(
        get(server.addr, &target(&sid), &[]).await.text(),
        "4over polling"
    );
    assert_eq!(socket.transport(), Transport::Polling);
}

#[tokio::test]
async fn a_server_close_over_websocket_sends_queued_messages_first() {
    let mut server = start(test_config()).await;
    let mut ws = ws_connect(server.addr, "transport=websocket").await;
    let sid = open_sid(&ws_text(&mut ws).await);
    let _ = server.event().await;
    let socket = server.engine.socket(&sid).expect("open");
    socket.send("one").expect("send");
    socket.send_binary(vec![9u8]).expect("send");
    socket.close();
    assert_eq!(ws_text(&mut ws).await, "4one");
    assert_eq!(ws_next(&mut ws).await, Some(Message::binary(vec![9u8])));
    assert_eq!(ws_next(&mut ws).await, None);
    assert_eq!(
        server.event().await,
        Event::Disconnect(sid, DisconnectReason::ForcedClose)
    );
}
