//! The npm `engine.io-client` 6.x against carafe-engineio: long-polling only, WebSocket
//! only, and polling upgraded to WebSocket. Needs `make interop-deps` (node and
//! `npm ci --prefix interop`).

mod support;

use std::path::PathBuf;
use std::time::Duration;

use carafe_engineio::{AllowedOrigins, DisconnectReason};
use support::*;

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../interop")
}

/// Runs one scenario of `interop/engineio/client.mjs` and returns its output.
async fn run_client(scenario: &str, server: &Server) -> String {
    let dir = interop_dir();
    assert!(
        dir.join("node_modules/engine.io-client").is_dir(),
        "the npm engine.io-client is missing: run `make interop-deps` (npm ci --prefix interop)"
    );
    let output = tokio::process::Command::new("node")
        .arg(dir.join("engineio/client.mjs"))
        .arg(scenario)
        .arg(format!("http://{}", server.addr))
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(30), output)
        .await
        .expect("the client finishes")
        .expect("node runs (is node installed? see `make interop-deps`)");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains(&format!("ok {scenario}")),
        "{scenario}: {stdout}\n{stderr}"
    );
    stdout
}

fn config() -> carafe_engineio::Config {
    let mut config = test_config();
    config.ping_interval = Duration::from_millis(500);
    config.ping_timeout = Duration::from_millis(300);
    config
}

/// The reason the handler got for the client's session.
async fn disconnect_reason(server: &mut Server) -> DisconnectReason {
    loop {
        if let Event::Disconnect(_, reason) = server.event().await {
            return reason;
        }
    }
}

#[tokio::test]
async fn messages_both_ways_over_polling() {
    let server = start(config()).await;
    run_client("exchange:polling", &server).await;
}

#[tokio::test]
async fn messages_both_ways_over_websocket() {
    let server = start(config()).await;
    run_client("exchange:websocket", &server).await;
}

#[tokio::test]
async fn messages_both_ways_after_an_upgrade() {
    let server = start(config()).await;
    run_client("exchange:upgrade", &server).await;
}

#[tokio::test]
async fn a_message_over_the_limit_ends_the_polling_session() {
    let mut server = start(config()).await;
    run_client("over-limit:polling", &server).await;
    // The POST gets 413 and the client drops the session without a word; the server
    // learns it from the missing pong (as the reference does when it cannot see the
    // client abort its pending GET).
    let reason = disconnect_reason(&mut server).await;
    assert!(
        matches!(
            reason,
            DisconnectReason::PingTimeout | DisconnectReason::TransportError
        ),
        "{reason:?}"
    );
}

#[tokio::test]
async fn a_message_over_the_limit_ends_the_websocket_session() {
    let mut server = start(config()).await;
    run_client("over-limit:websocket", &server).await;
    assert_eq!(
        disconnect_reason(&mut server).await,
        DisconnectReason::TransportError
    );
}

#[tokio::test]
async fn a_client_that_stops_answering_pings_times_out_over_polling() {
    let mut server = start(config()).await;
    run_client("no-pong:polling", &server).await;
    assert_eq!(
        disconnect_reason(&mut server).await,
        DisconnectReason::PingTimeout
    );
}

#[tokio::test]
async fn a_client_that_stops_answering_pings_times_out_over_websocket() {
    let mut server = start(config()).await;
    run_client("no-pong:websocket", &server).await;
    assert_eq!(
        disconnect_reason(&mut server).await,
        DisconnectReason::PingTimeout
    );
}

#[tokio::test]
async fn a_disallowed_origin_gets_no_session() {
    let mut config = config();
    config.cors_allowed_origins = AllowedOrigins::list(["http://good.example"]);
    let server = start(config).await;
    run_client("disallowed-origin:polling", &server).await;
    run_client("disallowed-origin:websocket", &server).await;
    assert_eq!(server.engine.session_count(), 0);
}
