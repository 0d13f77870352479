//! Cookies over real sockets with curl's cookie jar: set by a response (as a tuple part
//! and through `set_cookie`), stored by curl with their attributes, sent back and read by
//! the `Cookies` extractor, and deleted.

mod support;

use std::time::Duration;

use carafe::extract::{set_cookie, Cookies, SetCookie};
use carafe::{get, App, SameSite};
use support::curl::curl_at;
use support::start_server;

async fn login() -> (SetCookie, &'static str) {
    set_cookie(SetCookie::new("theme", "dark").max_age(Duration::from_secs(3600)));
    let user = SetCookie::new("user", "ann")
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/");
    (user, "logged in")
}

async fn show(cookies: Cookies) -> String {
    let mut pairs: Vec<String> = cookies
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    pairs.sort();
    pairs.join(";")
}

async fn logout() -> (Vec<SetCookie>, &'static str) {
    (vec![SetCookie::delete("user")], "bye")
}

async fn broken() -> (SetCookie, &'static str) {
    (SetCookie::new("bad", "two words"), "never sent")
}

async fn server() -> support::TestServer {
    let mut app = App::new();
    app.route("/login", get(login))
        .route("/show", get(show))
        .route("/logout", get(logout))
        .route("/broken", get(broken));
    start_server(app).await
}

#[tokio::test]
async fn cookies_round_trip_through_curls_jar() {
    let server = server().await;
    let scratch = tempfile::tempdir().expect("scratch dir");
    let reply = curl_at(server.addr, "/login", &["-c", "jar"], scratch.path()).await;
    assert_eq!(reply.status, 200);
    let set = reply.header_all("set-cookie");
    assert_eq!(set.len(), 2, "{set:?}");
    assert!(
        set.contains(&"user=ann; HttpOnly; SameSite=Lax; Path=/"),
        "{set:?}"
    );
    assert!(set.contains(&"theme=dark; Path=/; Max-Age=3600"), "{set:?}");
    let jar = std::fs::read_to_string(scratch.path().join("jar")).expect("curl wrote its jar");
    assert!(
        jar.contains("#HttpOnly_127.0.0.1"),
        "curl saw HttpOnly: {jar}"
    );

    let reply = curl_at(server.addr, "/show", &["-b", "jar"], scratch.path()).await;
    assert_eq!(reply.text(), "theme=dark;user=ann");

    let reply = curl_at(
        server.addr,
        "/logout",
        &["-b", "jar", "-c", "jar"],
        scratch.path(),
    )
    .await;
    assert_eq!(
        reply.header_all("set-cookie"),
        ["user=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"]
    );
    let reply = curl_at(server.addr, "/show", &["-b", "jar"], scratch.path()).await;
    assert_eq!(
        reply.text(),
        "theme=dark",
        "curl dropped the deleted cookie"
    );
}

#[tokio::test]
async fn malformed_cookie_headers_keep_the_good_pairs() {
    let server = server().await;
    let scratch = tempfile::tempdir().expect("scratch dir");
    let reply = curl_at(
        server.addr,
        "/show",
        &[
            "-H",
            "cookie: a=1; garbage; =nameless; b=\"quoted\"",
            "-H",
            "cookie: c=3",
        ],
        scratch.path(),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), "a=1;b=quoted;c=3");
}

#[tokio::test]
async fn an_invalid_cookie_is_a_500_not_a_broken_header() {
    let server = server().await;
    let scratch = tempfile::tempdir().expect("scratch dir");
    let reply = curl_at(server.addr, "/broken", &[], scratch.path()).await;
    assert_eq!(reply.status, 500);
    assert!(reply.header_all("set-cookie").is_empty());
    assert!(reply.text().contains("cookie `bad`"), "{}", reply.text());
}
