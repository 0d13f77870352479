//! Secure detection from the connection: over a real TLS socket the session cookie gets
//! `Secure`, `RequestUrl` says `https` and `url_for(_external)` builds `https://` URLs,
//! with no proxy header; over plain HTTP none of this happens.

mod support;

use std::process::Command;

use carafe::extract::RequestUrl;
use carafe::{get, url_for, App, Session};
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

/// `curl -i` of `url` (trusting `cert` if given): the whole response, head included.
async fn curl(url: String, cert: Option<std::path::PathBuf>) -> String {
    let output = tokio::task::spawn_blocking(move || {
        let mut command = Command::new("curl");
        command.args(["--silent", "--show-error", "--max-time", "10", "-i"]);
        if let Some(cert) = cert {
            command.arg("--cacert").arg(cert);
        }
        command.arg(url).output().expect("curl is installed")
    })
    .await
    .expect("curl thread");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn session_cookie(response: &str) -> String {
    response
        .lines()
        .find(|line| line.to_ascii_lowercase().starts_with("set-cookie: session="))
        .unwrap_or_else(|| panic!("no session cookie in {response}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_the_session_cookie_is_secure_and_urls_are_https() {
    let server = start_tls_server(app()).await;
    let base = format!("https://localhost:{}", server.addr.port());
    let cert = Some(server.cert.clone());
    let login = curl(format!("{base}/login"), cert.clone()).await;
    let cookie = session_cookie(&login);
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    let here = curl(format!("{base}/where"), cert).await;
    assert!(here.ends_with("https true https://localhost/where"), "{here}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_plain_http_the_cookie_is_not_secure_and_urls_are_http() {
    let server = start_server(app()).await;
    let base = format!("http://127.0.0.1:{}", server.addr.port());
    let login = curl(format!("{base}/login"), None).await;
    let cookie = session_cookie(&login);
    assert!(!cookie.contains("Secure"), "{cookie}");
    let here = curl(format!("{base}/where"), None).await;
    assert!(here.ends_with("http false http://localhost/where"), "{here}");
}
