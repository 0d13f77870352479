//! Socket.IO and a carafe App on one port (`sio.attach`, what `sio.run(app)` serves):
//! App routes still answer, Socket.IO answers at `/socket.io/`, and a Socket.IO handler
//! reads the HTTP session the App's login route set — over real long-polling requests.

use std::net::SocketAddr;

use carafe::{get, post, App, Session};
use carafe_socketio::{Socket, SocketIo};

mod support;

use support::{body_of, open_polling};

/// The request headers that send the session `cookie` (none when it is empty).
fn cookie_header(cookie: &str) -> Vec<(&'static str, &str)> {
    match cookie {
        "" => Vec::new(),
        cookie => vec![("Cookie", cookie)],
    }
}

/// One request to `addr`, with the session `cookie` unless it is empty.
async fn http(addr: SocketAddr, method: &str, path: &str, cookie: &str, body: &str) -> String {
    support::http(addr, method, path, &cookie_header(cookie), body).await
}

fn cookie_of(reply: &str) -> String {
    let line = reply
        .lines()
        .find(|line| line.to_ascii_lowercase().starts_with("set-cookie:"))
        .expect("a Set-Cookie header");
    let value = line.split_once(':').map_or("", |(_, value)| value).trim();
    value.split(';').next().unwrap_or_default().to_owned()
}

async fn login(session: Session) -> &'static str {
    session.insert("user", "ana");
    "logged in"
}

/// The App and Socket.IO, served together on 127.0.0.1:0.
async fn start() -> SocketAddr {
    let sio = SocketIo::builder().build();
    sio.namespace("/")
        .on_connect(|socket: Socket, _auth: serde_json::Value| async move {
            let user = socket.http_session().get::<String>("user");
            let agent = socket
                .handshake()
                .and_then(|handshake| handshake.query("who"))
                .unwrap_or_default();
            let _ = socket.emit("whoami", &(user, agent));
        });
    sio.namespace("/details")
        .on_connect(|socket: Socket, auth: serde_json::Value| async move {
            let Some(handshake) = socket.handshake() else {
                let _ = socket.emit("details", "no handshake");
                return;
            };
            let age = handshake.issued.elapsed().unwrap_or_default();
            let _ = socket.emit(
                "details",
                &serde_json::json!({
                    "ip": handshake.address.map(|address| address.ip().to_string()),
                    "secure": handshake.secure,
                    "agent": handshake.headers.get("x-agent").and_then(|v| v.to_str().ok()),
                    "path": handshake.uri.path(),
                    "fresh": age < std::time::Duration::from_secs(60),
                    "auth": auth,
                }),
            );
        });
    let mut app = App::new();
    app.secret_key("a test secret");
    app.route("/", get(|| async { "home" }))
        .route("/login", post(login));
    sio.attach(&mut app);
    support::serve(app)
}

/// Opens a long-polling session with `headers`, sends `connect`, and returns what came
/// back until the event `event` did.
async fn connect_and_read(
    addr: SocketAddr,
    headers: &[(&str, &str)],
    connect: &str,
    event: &str,
) -> String {
    let sid = open_polling(addr, "&who=ana%20b", headers).await;
    let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let posted = support::http(addr, "POST", &path, headers, connect).await;
    assert_eq!(body_of(&posted), "ok");
    let mut seen = String::new();
    for _ in 0..4 {
        let polled = support::http(addr, "GET", &path, headers, "").await;
        seen.push_str(body_of(&polled));
        seen.push('\u{1e}');
        if seen.contains(&format!("[\"{event}\"")) {
            break;
        }
    }
    seen
}

/// Opens a long-polling session with `cookie`, joins `/`, and returns what the connect
/// handler emitted.
async fn whoami(addr: SocketAddr, cookie: &str) -> String {
    connect_and_read(addr, &cookie_header(cookie), "40", "whoami").await
}

#[tokio::test]
async fn app_routes_and_socketio_share_the_port() {
    let addr = start().await;
    let home = http(addr, "GET", "/", "", "").await;
    assert!(home.starts_with("HTTP/1.1 200"), "{home}");
    assert_eq!(body_of(&home), "home");
    let missing = http(addr, "GET", "/nope", "", "").await;
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
    let seen = whoami(addr, "").await;
    assert!(seen.starts_with("40{\"sid\":"), "{seen}");
}

#[tokio::test]
async fn socketio_handlers_read_the_http_session_of_the_handshake() {
    let addr = start().await;
    let login = http(addr, "POST", "/login", "", "").await;
    let cookie = cookie_of(&login);
    assert!(cookie.starts_with("session="), "{cookie}");
    let seen = whoami(addr, &cookie).await;
    assert!(seen.contains(r#"42["whoami","ana","ana b"]"#), "{seen}");
}

#[tokio::test]
async fn a_tampered_session_cookie_reads_as_an_empty_session() {
    let addr = start().await;
    let login = http(addr, "POST", "/login", "", "").await;
    let mut cookie = cookie_of(&login);
    // Flip the last character of the signature.
    let last = cookie.pop().expect("a value");
    cookie.push(if last == 'A' { 'B' } else { 'A' });
    let seen = whoami(addr, &cookie).await;
    assert!(seen.contains(r#"42["whoami",null,"ana b"]"#), "{seen}");
    let anonymous = whoami(addr, "").await;
    assert!(
        anonymous.contains(r#"42["whoami",null,"ana b"]"#),
        "{anonymous}"
    );
}

#[tokio::test]
async fn socketio_handlers_read_the_handshake_request() {
    let addr = start().await;
    let seen = connect_and_read(
        addr,
        &[("X-Agent", "test-agent")],
        r#"40/details,{"token":"t"}"#,
        "details",
    )
    .await;
    let packet = seen
        .split('\u{1e}')
        .find_map(|packet| packet.strip_prefix("42/details,"))
        .unwrap_or_else(|| panic!("a details event: {seen}"));
    let event: serde_json::Value = serde_json::from_str(packet).expect("json");
    assert_eq!(
        event,
        serde_json::json!(["details", {
            "ip": "127.0.0.1",
            "secure": false,
            "agent": "test-agent",
            "path": "/socket.io/",
            "fresh": true,
            "auth": {"token": "t"},
        }])
    );
}
