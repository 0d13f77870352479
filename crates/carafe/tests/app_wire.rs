//! The app's routing answers and error pages over real sockets: strict-slash redirects,
//! 405 with `Allow`, the production and debug error pages, hooks with teardown after an
//! error.

mod support;

use std::sync::{Arc, Mutex};

use carafe::{debug_page_allowed, get, post, App, Error};
use support::{request, start_server};

#[derive(Debug)]
struct Boom;

impl std::fmt::Display for Boom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("boom <secret>")
    }
}

impl std::error::Error for Boom {}

async fn boom() -> carafe::Result<&'static str> {
    Err(Boom.into())
}

fn app() -> App {
    let mut app = App::new();
    app.route("/about/", get(|| async { "about" }).name("about"))
        .route("/plain", get(|| async { "plain" }).name("plain"))
        .route("/form", post(|| async { "posted" }).name("form"))
        .route("/boom", get(boom));
    app
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slash_rule_redirects_the_bare_path_with_308_keeping_the_query() {
    let server = start_server(app()).await;
    let reply = request(server.addr, "GET", "/about?x=1&y=2", &[], b"").await;
    assert_eq!(reply.status, 308);
    assert_eq!(reply.header("location"), Some("/about/?x=1&y=2"));
    let reply = request(server.addr, "GET", "/about/", &[], b"").await;
    assert_eq!((reply.status, reply.text().as_str()), (200, "about"));
    let reply = request(server.addr, "GET", "/plain/", &[], b"").await;
    assert_eq!(
        reply.status, 404,
        "a rule without a slash does not answer one"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_method_gets_405_with_allow_and_options_lists_it() {
    let server = start_server(app()).await;
    let reply = request(server.addr, "DELETE", "/form", &[], b"").await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("OPTIONS, POST"));
    let reply = request(server.addr, "OPTIONS", "/plain", &[], b"").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("allow"), Some("GET, HEAD, OPTIONS"));
    let reply = request(server.addr, "HEAD", "/plain", &[], b"").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-length"), Some("5"));
}

#[tokio::test(flavor = "multi_thread")]
async fn production_errors_are_plain_and_never_show_internals() {
    let server = start_server(app()).await;
    let reply = request(server.addr, "GET", "/boom", &[], b"").await;
    assert_eq!(reply.status, 500);
    assert_eq!(reply.text(), "Internal Server Error");
}

#[tokio::test(flavor = "multi_thread")]
async fn debug_mode_shows_the_escaped_debug_page_to_a_loopback_client() {
    let mut app = app();
    app.config_mut().debug = true;
    let server = start_server(app).await;
    let reply = request(server.addr, "GET", "/boom", &[], b"").await;
    assert_eq!(reply.status, 500);
    assert_eq!(
        reply.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let page = reply.text();
    assert!(page.contains("boom &lt;secret&gt;"), "{page}");
    assert!(page.contains("GET /boom"), "{page}");
    // The decision the server made for 127.0.0.1 is refused to anyone else.
    assert!(debug_page_allowed(true, Some(server.addr)));
    let remote = "192.0.2.1:40000".parse().ok();
    assert!(!debug_page_allowed(true, remote));
}

#[tokio::test(flavor = "multi_thread")]
async fn hooks_run_in_order_and_teardown_sees_the_error() {
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut app = app();
    let (a, b, c) = (Arc::clone(&log), Arc::clone(&log), Arc::clone(&log));
    app.before_request(move || {
        let log = Arc::clone(&a);
        async move {
            log.lock()
                .map(|mut l| l.push("before".into()))
                .unwrap_or(())
        }
    })
    .after_request(move |response: carafe::Response| {
        let log = Arc::clone(&b);
        async move {
            let _ = log
                .lock()
                .map(|mut l| l.push(format!("after {}", response.status().as_u16())));
            response
        }
    })
    .teardown_request(move |error: Option<Arc<Error>>| {
        let log = Arc::clone(&c);
        async move {
            let seen = error.map(|error| error.to_string()).unwrap_or_default();
            let _ = log.lock().map(|mut l| l.push(format!("teardown {seen}")));
        }
    });
    let server = start_server(app).await;
    let reply = request(server.addr, "GET", "/boom", &[], b"").await;
    assert_eq!(reply.status, 500);
    let entries = log.lock().map(|l| l.clone()).unwrap_or_default();
    assert_eq!(entries, ["before", "after 500", "teardown boom <secret>"]);
}
