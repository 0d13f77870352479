//! Socket.IO and a carafe App on one port (`sio.attach`, what `sio.run(app)` serves):
//! App routes still answer, Socket.IO answers at `/socket.io/`, and a Socket.IO handler
//! reads the HTTP session the App's login route set — over real long-polling requests.

use std::net::SocketAddr;
use std::time::Duration;

use carafe::{get, post, App, Session};
use carafe_socketio::{Socket, SocketIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PATIENCE: Duration = Duration::from_secs(5);

/// One HTTP/1.1 request with `Connection: close`; the status line, headers and body.
async fn http(addr: SocketAddr, method: &str, path: &str, cookie: &str, body: &str) -> String {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let cookie = match cookie {
            "" => String::new(),
            cookie => format!("Cookie: {cookie}\r\n"),
        };
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{cookie}Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.expect("write");
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).await.expect("read");
        String::from_utf8_lossy(&reply).into_owned()
    };
    tokio::time::timeout(PATIENCE, exchange)
        .await
        .expect("an answer in time")
}

fn body_of(reply: &str) -> &str {
    reply.split_once("\r\n\r\n").map_or("", |(_, body)| body)
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
    let mut app = App::new();
    app.secret_key("a test secret");
    app.route("/", get(|| async { "home" }))
        .route("/login", post(login));
    sio.attach(&mut app);
    let mut config = carafe_serve::Config::default();
    config.access_log = false;
    let mut server = carafe_serve::TcpServer::bind("127.0.0.1:0".parse().expect("literal"), config)
        .expect("bind");
    server.activate().expect("listen");
    let addr = server.local_addr();
    tokio::spawn(server.serve_forever(app));
    addr
}

/// Opens a long-polling session with `cookie`, joins `/`, and returns what the connect
/// handler emitted.
async fn whoami(addr: SocketAddr, cookie: &str) -> String {
    let open = http(
        addr,
        "GET",
        "/socket.io/?EIO=4&transport=polling&who=ana%20b",
        cookie,
        "",
    )
    .await;
    let open = body_of(&open);
    assert!(open.starts_with("0{"), "an open packet: {open}");
    let handshake: serde_json::Value = serde_json::from_str(&open[1..]).expect("json");
    let sid = handshake["sid"].as_str().expect("sid").to_owned();
    let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let posted = http(addr, "POST", &path, cookie, "40").await;
    assert_eq!(body_of(&posted), "ok");
    let mut seen = String::new();
    for _ in 0..4 {
        let polled = http(addr, "GET", &path, cookie, "").await;
        seen.push_str(body_of(&polled));
        seen.push('\u{1e}');
        if seen.contains("whoami") {
            break;
        }
    }
    seen
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
