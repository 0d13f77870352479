//! Exact error answers, CORS and mounting, over raw HTTP on loopback.

mod support;

use carafe_engineio::{AllowedOrigins, Config};
use support::*;

fn json(code: u8, message: &str) -> String {
    format!("{{\"code\":{code},\"message\":\"{message}\"}}")
}

#[tokio::test]
async fn each_refusal_gets_the_reference_servers_status_and_json() {
    let server = start(test_config()).await;
    let addr = server.addr;
    let cases: Vec<(&str, &str, u16, String)> = vec![
        (
            "GET",
            "/engine.io/?EIO=4",
            400,
            json(0, "Transport unknown"),
        ),
        (
            "GET",
            "/engine.io/?EIO=4&transport=abc",
            400,
            json(0, "Transport unknown"),
        ),
        (
            "GET",
            "/engine.io/?EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAAAA",
            400,
            json(1, "Session ID unknown"),
        ),
        (
            "GET",
            "/engine.io/?EIO=4&transport=polling&sid=x",
            400,
            json(1, "Session ID unknown"),
        ),
        (
            "POST",
            "/engine.io/?EIO=4&transport=polling",
            400,
            json(2, "Bad handshake method"),
        ),
        (
            "PUT",
            "/engine.io/?EIO=4&transport=polling",
            400,
            json(2, "Bad handshake method"),
        ),
        (
            "GET",
            "/engine.io/?EIO=4&transport=websocket",
            400,
            json(3, "Bad request"),
        ),
        (
            "GET",
            "/engine.io/?transport=polling",
            400,
            json(5, "Unsupported protocol version"),
        ),
        (
            "GET",
            "/engine.io/?EIO=abc&transport=polling",
            400,
            json(5, "Unsupported protocol version"),
        ),
        (
            "GET",
            "/engine.io/?EIO=3&transport=polling",
            400,
            json(5, "Unsupported protocol version"),
        ),
    ];
    for (method, target, status, body) in cases {
        let answer = request(addr, method, target, &[], b"").await;
        assert_eq!(answer.status, status, "{method} {target}");
        assert_eq!(answer.text(), body, "{method} {target}");
        assert_eq!(answer.header("content-type"), Some("application/json"));
    }
}

#[tokio::test]
async fn websocket_refusals_are_a_bare_400_with_the_message() {
    let server = start(test_config()).await;
    let upgrade = [
        ("connection", "Upgrade"),
        ("upgrade", "websocket"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];
    for (target, message) in [
        ("/engine.io/?EIO=4&transport=abc", "Transport unknown"),
        (
            "/engine.io/?EIO=4&transport=websocket&sid=AAAAAAAAAAAAAAAAAAAAAA",
            "Session ID unknown",
        ),
        (
            "/engine.io/?transport=websocket",
            "Unsupported protocol version",
        ),
    ] {
        let answer = get(server.addr, target, &upgrade).await;
        assert_eq!(answer.status, 400, "{target}");
        assert_eq!(answer.text(), message, "{target}");
        assert_eq!(answer.header("content-type"), Some("text/html"));
    }
}

#[tokio::test]
async fn a_post_over_max_payload_gets_413_and_the_session_survives() {
    let mut config = test_config();
    config.max_payload = 1000;
    config.ping_interval = std::time::Duration::from_secs(20);
    let mut server = start(config).await;
    let sid = server.open_polling().await;
    let big = format!("4{}", "x".repeat(1000));
    let answer = post(
        server.addr,
        &server.url(&format!("transport=polling&sid={sid}")),
        big.as_bytes(),
    )
    .await;
    assert_eq!(answer.status, 413);
    let fits = format!("4{}", "y".repeat(999));
    let answer = post(
        server.addr,
        &server.url(&format!("transport=polling&sid={sid}")),
        fits.as_bytes(),
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.text(), "ok");
}

#[tokio::test]
async fn a_disallowed_origin_gets_403_and_no_session() {
    let mut config = test_config();
    config.cors_allowed_origins = AllowedOrigins::list(["http://good.example"]);
    let mut server = start(config).await;
    let answer = get(
        server.addr,
        "/engine.io/?EIO=4&transport=polling",
        &[("origin", "http://evil.example")],
    )
    .await;
    assert_eq!(answer.status, 403);
    assert_eq!(answer.text(), json(4, "Forbidden"));
    assert_eq!(server.engine.session_count(), 0);
    let preflight = request(
        server.addr,
        "OPTIONS",
        "/engine.io/?EIO=4&transport=polling",
        &[("origin", "http://evil.example")],
        b"",
    )
    .await;
    assert_eq!(preflight.status, 403);
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(100), server.events.recv())
            .await
            .is_err(),
        "no connect event"
    );
}

#[tokio::test]
async fn an_allowed_origin_gets_cors_headers_with_credentials() {
    let mut config = test_config();
    config.cors_allowed_origins = AllowedOrigins::list(["http://good.example"]);
    let server = start(config).await;
    let answer = get(
        server.addr,
        "/engine.io/?EIO=4&transport=polling",
        &[("origin", "http://good.example")],
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some("http://good.example")
    );
    assert_eq!(
        answer.header("access-control-allow-credentials"),
        Some("true")
    );
    let preflight = request(
        server.addr,
        "OPTIONS",
        "/engine.io/?EIO=4&transport=polling",
        &[
            ("origin", "http://good.example"),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "content-type"),
        ],
        b"",
    )
    .await;
    assert_eq!(preflight.status, 204);
    assert_eq!(
        preflight.header("access-control-allow-methods"),
        Some("OPTIONS, GET, POST")
    );
    assert_eq!(
        preflight.header("access-control-allow-headers"),
        Some("content-type")
    );
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("http://good.example")
    );
}

#[tokio::test]
async fn by_default_only_the_same_origin_is_allowed() {
    let server = start(test_config()).await;
    let own = format!("http://{}", server.addr);
    let answer = get(
        server.addr,
        "/engine.io/?EIO=4&transport=polling",
        &[("origin", &own)],
    )
    .await;
    assert_eq!(answer.status, 200);
    let answer = get(
        server.addr,
        "/engine.io/?EIO=4&transport=polling",
        &[("origin", "http://localhost:1")],
    )
    .await;
    assert_eq!(answer.status, 403);
    let no_origin = get(server.addr, "/engine.io/?EIO=4&transport=polling", &[]).await;
    assert_eq!(no_origin.status, 200);
    assert_eq!(no_origin.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn requests_outside_the_path_reach_the_inner_application() {
    let server = start(test_config()).await;
    let answer = get(server.addr, "/elsewhere", &[]).await;
    assert_eq!((answer.status, answer.text().as_str()), (200, "inner"));
    let bare = get(server.addr, "/engine.io?EIO=4&transport=polling", &[]).await;
    assert!(
        bare.text().starts_with('0'),
        "the path without its slash is served"
    );
}

#[tokio::test]
async fn a_custom_path_is_served_and_the_default_is_not() {
    let mut config = Config::default();
    config.path = "/socket.io/".into();
    let server = start(config).await;
    let answer = get(server.addr, "/socket.io/?EIO=4&transport=polling", &[]).await;
    assert!(answer.text().starts_with('0'));
    let answer = get(server.addr, "/engine.io/?EIO=4&transport=polling", &[]).await;
    assert_eq!(answer.text(), "inner");
}

#[tokio::test]
async fn a_full_server_answers_503() {
    let mut config = test_config();
    config.max_sessions = 1;
    config.ping_interval = std::time::Duration::from_secs(20);
    let mut server = start(config).await;
    server.open_polling().await;
    let answer = get(server.addr, "/engine.io/?EIO=4&transport=polling", &[]).await;
    assert_eq!(answer.status, 503);
}
