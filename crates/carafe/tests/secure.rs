//! Secure detection from the connection: over a real TLS socket the session cookie gets
//! `Secure`, `RequestUrl` says `https` and `url_for(_external)` builds `https://` URLs,
//! with no proxy header; over plain HTTP none of this happens.

mod support;

use carafe::extract::RequestUrl;
use carafe::{get, url_for, App, Session};
use support::curl::{curl, CurlReply};
use support::{start_server, start_tls_server};

async fn login(session: Session) -> &'static str {
    session.insert("user", "ada");
    "in"
}

async fn whereami(url: RequestUrl) -> String {
    let external = url_for("whereami", [("_external", "true")]).unwrap_or_default();
    format!("{} {} {external}", url.scheme(), url.is_secure())
}

fn app() -> App {
    let mut app = App::new();
    app.secret_key("a test key")
        .route("/login", get(login))
        .route("/where", get(whereami));
    app.config_mut()
        .extra
        .insert("SERVER_NAME".into(), "localhost".into());
    app
}

/// The `Set-Cookie` value of the session cookie.
fn session_cookie(reply: &CurlReply) -> String {
    let cookies = reply.header_all("set-cookie");
    let cookie = cookies.iter().find(|cookie| cookie.starts_with("session="));
    cookie
        .map(|cookie| (*cookie).to_owned())
        .unwrap_or_else(|| panic!("no session cookie: {reply:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_the_session_cookie_is_secure_and_urls_are_https() {
    let server = start_tls_server(app()).await;
    let base = format!("https://localhost:{}", server.addr.port());
    let cert = server.cert.display().to_string();
    let login = curl(&["--cacert", &cert, &format!("{base}/login")]).await;
    let cookie = session_cookie(&login);
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    let here = curl(&["--cacert", &cert, &format!("{base}/where")]).await;
    assert_eq!(here.text(), "https true https://localhost/where");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_plain_http_the_cookie_is_not_secure_and_urls_are_http() {
    let server = start_server(app()).await;
    let base = format!("http://127.0.0.1:{}", server.addr.port());
    let login = curl(&[&format!("{base}/login")]).await;
    let cookie = session_cookie(&login);
    assert!(!cookie.contains("Secure"), "{cookie}");
    let here = curl(&[&format!("{base}/where")]).await;
    assert_eq!(here.text(), "http false http://localhost/where");
}
