//! Sessions over real sockets: a login-like flow with the cookie carried between
//! requests (by hand and by curl's cookie jar), flash messages shown once, tampered
//! cookies, permanence, and the missing secret key.

mod support;

use std::process::Command;
use std::time::Duration;

use carafe::session::{flash, flash_with_category, get_flashed_messages};
use carafe::{get, post, App, Session};
use support::{request, start_server, Reply};

async fn login(session: Session) -> &'static str {
    session.insert("user", "ada");
    "logged in"
}

async fn whoami(session: Session) -> String {
    match session.get::<String>("user") {
        Some(user) => format!("user={user}"),
        None => "anonymous".to_owned(),
    }
}

async fn logout(session: Session) -> &'static str {
    session.clear();
    "bye"
}

async fn remember(session: Session) -> &'static str {
    session.set_permanent(true);
    session.insert("user", "ada");
    "remembered"
}

async fn untouched(_session: Session) -> &'static str {
    "did not look"
}

async fn add_flash(session: Session) -> &'static str {
    flash(&session, "Saved.");
    flash_with_category(&session, "Careful.", "warning");
    "flashed"
}

async fn show_flashes(session: Session) -> String {
    let shown: Vec<String> = get_flashed_messages(&session, &[])
        .into_iter()
        .map(|flash| format!("{}:{}", flash.category, flash.message))
        .collect();
    shown.join(",")
}

fn app(secret: Option<&str>) -> App {
    let mut app = App::new();
    if let Some(secret) = secret {
        app.secret_key(secret);
    }
    app.route("/login", post(login))
        .route("/", get(whoami))
        .route("/logout", post(logout))
        .route("/remember", post(remember))
        .route("/untouched", get(untouched))
        .route("/flash", post(add_flash))
        .route("/flashes", get(show_flashes));
    app
}

/// The `name=value` part of the reply's `Set-Cookie`, to send back as `Cookie`.
fn cookie_of(reply: &Reply) -> String {
    let set_cookie = reply.header("set-cookie").expect("a Set-Cookie header");
    set_cookie.split(';').next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn login_flow_carries_the_cookie_between_requests() {
    let server = start_server(app(Some("a test secret"))).await;
    let anonymous = request(server.addr, "GET", "/", &[], b"").await;
    assert_eq!(anonymous.text(), "anonymous");
    assert_eq!(anonymous.header("set-cookie"), None);
    assert_eq!(anonymous.header("vary"), Some("Cookie"));

    let logged_in = request(server.addr, "POST", "/login", &[], b"").await;
    let set_cookie = logged_in.header("set-cookie").expect("a session cookie");
    assert!(set_cookie.starts_with("session="), "{set_cookie}");
    assert!(
        set_cookie.ends_with("; HttpOnly; Path=/; SameSite=Lax"),
        "{set_cookie}"
    );
    assert!(
        !set_cookie.contains("Expires"),
        "a browser-session cookie: {set_cookie}"
    );
    let cookie = cookie_of(&logged_in);

    let me = request(server.addr, "GET", "/", &[("cookie", &cookie)], b"").await;
    assert_eq!(me.text(), "user=ada");
    assert_eq!(
        me.header("set-cookie"),
        None,
        "unchanged sessions are not re-sent"
    );

    let bye = request(server.addr, "POST", "/logout", &[("cookie", &cookie)], b"").await;
    let removal = bye.header("set-cookie").expect("a removal cookie");
    assert!(removal.starts_with("session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"));
}

#[tokio::test]
async fn handler_that_does_not_read_the_session_sends_nothing() {
    let server = start_server(app(Some("k"))).await;
    let reply = request(
        server.addr,
        "GET",
        "/untouched",
        &[("cookie", "session=x")],
        b"",
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("set-cookie"), None);
    assert_eq!(reply.header("vary"), None);
}

#[tokio::test]
async fn tampered_wrong_key_and_garbage_cookies_give_an_empty_session() {
    let server = start_server(app(Some("k"))).await;
    let cookie = cookie_of(&request(server.addr, "POST", "/login", &[], b"").await);
    let (name_and_payload, rest) = cookie.split_at(12);
    let flipped = rest
        .chars()
        .next()
        .map_or('A', |c| if c == 'A' { 'B' } else { 'A' });
    let tampered = format!("{name_and_payload}{flipped}{}", &rest[1..]);

    let other = start_server(app(Some("another key"))).await;
    let foreign = request(other.addr, "GET", "/", &[("cookie", &cookie)], b"").await;
    assert_eq!(foreign.text(), "anonymous");

    let garbage = format!("session={}", "%.!".repeat(3000));
    for bad in [
        tampered.as_str(),
        "session=a.b.c",
        "session=",
        garbage.as_str(),
    ] {
        let reply = request(server.addr, "GET", "/", &[("cookie", bad)], b"").await;
        assert_eq!(
            (reply.status, reply.text().as_str()),
            (200, "anonymous"),
            "{bad:.40}"
        );
    }
}

#[tokio::test]
async fn flash_is_shown_once() {
    let server = start_server(app(Some("k"))).await;
    let flashed = request(server.addr, "POST", "/flash", &[], b"").await;
    let cookie = cookie_of(&flashed);

    let shown = request(server.addr, "GET", "/flashes", &[("cookie", &cookie)], b"").await;
    assert_eq!(shown.text(), "message:Saved.,warning:Careful.");
    let after = shown
        .header("set-cookie")
        .expect("the flashes leave the session");
    assert!(
        after.starts_with("session=; Expires=Thu, 01 Jan 1970"),
        "{after}"
    );

    let again = request(server.addr, "GET", "/flashes", &[], b"").await;
    assert_eq!(again.text(), "");
}

#[tokio::test]
async fn permanent_session_gets_max_age_from_the_lifetime() {
    let mut app = app(Some("k"));
    app.config_mut().permanent_session_lifetime = Duration::from_secs(3600);
    app.config_mut().session_cookie_secure = Some(true);
    let server = start_server(app).await;
    let reply = request(server.addr, "POST", "/remember", &[], b"").await;
    let set_cookie = reply.header("set-cookie").expect("a session cookie");
    assert!(
        set_cookie.contains("; Max-Age=3600; Secure; HttpOnly"),
        "{set_cookie}"
    );
    assert!(set_cookie.contains("; Expires="), "{set_cookie}");
}

#[tokio::test]
async fn changing_a_session_without_a_secret_key_is_a_500() {
    let server = start_server(app(None)).await;
    let reply = request(server.addr, "POST", "/login", &[], b"").await;
    assert_eq!(reply.status, 500);
    assert_eq!(reply.header("set-cookie"), None);
    assert!(reply.text().contains("no secret key"), "{}", reply.text());
    let read_only = request(server.addr, "GET", "/", &[], b"").await;
    assert_eq!(read_only.status, 200);
}

/// curl's cookie engine keeps the cookie between two separate curl runs.
#[tokio::test]
async fn curl_cookie_jar_keeps_the_session() {
    let server = start_server(app(Some("k"))).await;
    let jar = tempfile::NamedTempFile::new().expect("a temp file");
    let jar = jar.path().to_str().expect("a UTF-8 path").to_owned();
    let base = format!("http://{}", server.addr);
    let curl = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            let output = Command::new("curl")
                .args(["-sS", "--max-time", "10"])
                .args(args)
                .output()
                .expect("curl is installed");
            assert!(output.status.success(), "{output:?}");
            String::from_utf8_lossy(&output.stdout).into_owned()
        })
    };
    let login = vec![
        "-c".into(),
        jar.clone(),
        "-X".into(),
        "POST".into(),
        format!("{base}/login"),
    ];
    assert_eq!(curl(login).await.expect("curl ran"), "logged in");
    let me = vec!["-b".into(), jar.clone(), format!("{base}/")];
    assert_eq!(curl(me).await.expect("curl ran"), "user=ada");
}
