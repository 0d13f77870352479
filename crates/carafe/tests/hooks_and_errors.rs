//! Hooks, error handlers, abort, the error pages and startup checks, through the test
//! client.

use std::fmt;
use std::sync::{Arc, Mutex};

use carafe::{abort, abort_with, get, App, Blueprint, Error, Html, Response, State};
use http::header::HeaderValue;
use http::{HeaderMap, StatusCode};

/// Records the order hooks and handlers ran in.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn push(&self, entry: impl Into<String>) {
        if let Ok(mut entries) = self.0.lock() {
            entries.push(entry.into());
        }
    }

    fn take(&self) -> Vec<String> {
        self.0
            .lock()
            .map(|mut entries| std::mem::take(&mut *entries))
            .unwrap_or_default()
    }
}

#[derive(Debug)]
struct OutOfStock(u32);

impl fmt::Display for OutOfStock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "item {} is out of stock", self.0)
    }
}

impl std::error::Error for OutOfStock {}

#[derive(Debug)]
struct Hidden;

impl fmt::Display for Hidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("password=hunter2 <b>leaked</b>")
    }
}

impl std::error::Error for Hidden {}

async fn index() -> &'static str {
    "index"
}

async fn forbidden() -> carafe::Result<&'static str> {
    Err(abort(StatusCode::FORBIDDEN))
}

async fn stock() -> carafe::Result<&'static str> {
    Err(OutOfStock(7).into())
}

async fn crash() -> carafe::Result<&'static str> {
    Err(Hidden.into())
}

async fn parse() -> carafe::Result<String> {
    let number: u32 = "not a number".parse()?;
    Ok(number.to_string())
}

fn deep() -> carafe::Result<()> {
    Err(abort_with(StatusCode::CONFLICT, "taken"))
}

async fn nested() -> carafe::Result<&'static str> {
    deep()?;
    Ok("unreachable")
}

fn hooked_app(log: &Log) -> App {
    let mut app = App::new();
    app.route("/", get(index))
        .route("/forbidden", get(forbidden))
        .route("/crash", get(crash));
    let (a, b, c, d) = (log.clone(), log.clone(), log.clone(), log.clone());
    app.before_request(move || {
        let log = a.clone();
        async move { log.push("before 1") }
    })
    .before_request(move |headers: HeaderMap| {
        let log = b.clone();
        async move {
            log.push("before 2");
            headers
                .contains_key("x-stop")
                .then_some((StatusCode::IM_A_TEAPOT, "stopped early"))
        }
    })
    .after_request(move |mut response: Response| {
        let log = c.clone();
        async move {
            log.push("after");
            response
                .headers_mut()
                .insert("x-after", HeaderValue::from_static("1"));
            response
        }
    })
    .teardown_request(move |error: Option<Arc<Error>>| {
        let log = d.clone();
        async move {
            log.push(format!(
                "teardown {:?}",
                error.map(|error| error.to_string())
            ))
        }
    });
    app
}

#[tokio::test]
async fn hooks_run_in_flasks_order() {
    let log = Log::default();
    let client = hooked_app(&log).test_client();
    let response = client.get("/").await;
    assert_eq!(response.header("x-after"), Some("1"));
    assert_eq!(response.text().await, "index");
    assert_eq!(
        log.take(),
        ["before 1", "before 2", "after", "teardown None"]
    );
}

#[tokio::test]
async fn a_before_hook_may_answer_early_and_teardown_still_runs() {
    let log = Log::default();
    let client = hooked_app(&log).test_client();
    let response = client.get("/").header("x-stop", "1").await;
    assert_eq!(response.status(), StatusCode::IM_A_TEAPOT);
    assert_eq!(response.header("x-after"), Some("1"));
    assert_eq!(response.text().await, "stopped early");
    assert_eq!(
        log.take(),
        ["before 1", "before 2", "after", "teardown None"]
    );
}

#[tokio::test]
async fn teardown_receives_the_unhandled_error() {
    let log = Log::default();
    let client = hooked_app(&log).test_client();
    let response = client.get("/crash").await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.text().await, "Internal Server Error");
    let entries = log.take();
    assert_eq!(
        entries.last().map(String::as_str),
        Some("teardown Some(\"password=hunter2 <b>leaked</b>\")")
    );
}

#[tokio::test]
async fn hooks_run_for_routing_errors_too() {
    let log = Log::default();
    let client = hooked_app(&log).test_client();
    let response = client.get("/missing").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.header("x-after"), Some("1"));
    assert_eq!(log.take().len(), 4);
}

#[tokio::test]
async fn abort_and_question_mark_answer_with_their_status() {
    let mut app = App::new();
    app.route("/forbidden", get(forbidden))
        .route("/nested", get(nested))
        .route("/parse", get(parse));
    let client = app.test_client();
    assert_eq!(
        client.get("/forbidden").await.status(),
        StatusCode::FORBIDDEN
    );
    let response = client.get("/nested").await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(response.text().await, "taken");
    let response = client.get("/parse").await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.text().await, "Internal Server Error");
}

#[tokio::test]
async fn error_handlers_answer_by_status_and_by_type() {
    let mut app = App::new();
    app.route("/forbidden", get(forbidden))
        .route("/stock", get(stock))
        .route("/crash", get(crash))
        .register_error_handler(StatusCode::NOT_FOUND, |error: Error| async move {
            Html(format!(
                "<h1>{} - nothing here</h1>",
                error.status().as_u16()
            ))
        })
        .register_error_handler(StatusCode::INTERNAL_SERVER_ERROR, |_error| async {
            "sorry, our fault"
        })
        .register_error_type_handler(|error: OutOfStock| async move {
            (StatusCode::CONFLICT, format!("{error}, try later"))
        });
    let client = app.test_client();

    let response = client.get("/nowhere").await;
    assert_eq!(
        response.status(),
        StatusCode::NOT_FOUND,
        "keeps the error's status"
    );
    assert_eq!(response.text().await, "<h1>404 - nothing here</h1>");

    let response = client.get("/stock").await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(response.text().await, "item 7 is out of stock, try later");

    let response = client.get("/crash").await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.text().await, "sorry, our fault");

    let response = client.get("/forbidden").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(response.text().await, "Forbidden");
}

#[tokio::test]
async fn extractor_rejections_reach_status_handlers() {
    let mut app = App::new();
    app.route(
        "/items",
        get(
            |carafe::Query(q): carafe::Query<std::collections::HashMap<String, u32>>| async move {
                format!("{}", q.len())
            },
        )
        .name("items"),
    )
    .register_error_handler(StatusCode::BAD_REQUEST, |error: Error| async move {
        format!(
            "bad request: {}",
            error
                .http_error()
                .map(|error| error.message())
                .unwrap_or("")
        )
    });
    let response = app.test_client().get("/items?n=x").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response
        .text()
        .await
        .starts_with("bad request: failed to parse the query string"));
}

#[tokio::test]
async fn blueprint_handlers_come_before_the_apps() {
    let mut admin = Blueprint::new("admin").url_prefix("/admin");
    admin
        .route("/forbidden", get(forbidden))
        .register_error_handler(StatusCode::FORBIDDEN, |_error| async { "admins only" });
    let mut app = App::new();
    app.route("/forbidden", get(forbidden))
        .register_error_handler(StatusCode::FORBIDDEN, |_error| async { "app says no" })
        .register_blueprint(admin);
    let client = app.test_client();
    assert_eq!(
        client.get("/admin/forbidden").await.text().await,
        "admins only"
    );
    assert_eq!(client.get("/forbidden").await.text().await, "app says no");
}

#[tokio::test]
async fn blueprint_hooks_run_only_for_their_routes_inside_the_apps() {
    let log = Log::default();
    let (a, b, c, d) = (log.clone(), log.clone(), log.clone(), log.clone());
    let mut admin = Blueprint::new("admin").url_prefix("/admin");
    admin
        .route("/", get(index))
        .before_request(move || {
            let log = a.clone();
            async move { log.push("bp before") }
        })
        .teardown_request(move |_| {
            let log = b.clone();
            async move { log.push("bp teardown") }
        });
    let mut app = App::new();
    app.route("/", get(index))
        .before_request(move || {
            let log = c.clone();
            async move { log.push("app before") }
        })
        .teardown_request(move |_| {
            let log = d.clone();
            async move { log.push("app teardown") }
        })
        .register_blueprint(admin);
    let client = app.test_client();
    client.get("/admin/").await;
    assert_eq!(
        log.take(),
        ["app before", "bp before", "bp teardown", "app teardown"]
    );
    client.get("/").await;
    assert_eq!(log.take(), ["app before", "app teardown"]);
}

#[tokio::test]
async fn the_debug_page_shows_the_chain_escaped_to_loopback_clients_only() {
    let mut app = App::new();
    app.route("/crash", get(crash));
    app.config_mut().debug = true;
    let client = app.test_client();

    let response = client.get("/crash").header("x-probe", "<i>").await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        response.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let page = response.text().await;
    assert!(
        page.contains("password=hunter2 &lt;b&gt;leaked&lt;/b&gt;"),
        "{page}"
    );
    assert!(page.contains("GET /crash"), "{page}");
    assert!(page.contains("&lt;i&gt;"), "{page}");
    assert!(
        page.contains("<h2>Backtrace</h2>\n<pre>"),
        "a backtrace is captured: {page}"
    );
    assert!(!page.contains("<b>leaked"), "{page}");

    let remote = "198.51.100.7:5555".parse().unwrap_or(([0; 4], 0).into());
    let response = client.get("/crash").peer(remote).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.text().await, "Internal Server Error");
}

#[tokio::test]
async fn state_a_hook_needs_is_checked_at_startup() {
    let mut app = App::new();
    app.before_request(|State(_n): State<u16>| async {});
    let error = app
        .check()
        .err()
        .map(|error| error.to_string())
        .unwrap_or_default();
    assert!(
        error.contains("before_request") && error.contains("u16"),
        "{error}"
    );
    app.state(1u16);
    assert!(app.check().is_ok());
}

#[tokio::test]
async fn production_refuses_to_start_without_a_secret_key_when_a_feature_needs_one() {
    let mut app = App::new();
    app.add_startup_check(|app| Ok(app.config().check_secret_key("sessions")?));
    let error = app
        .check()
        .err()
        .map(|error| error.to_string())
        .unwrap_or_default();
    assert!(error.contains("sessions need a secret key"), "{error}");
    app.config_mut().secret_key = Some("k".into());
    assert!(app.check().is_ok());
    let served = App::new();
    let mut failing = served;
    failing.add_startup_check(|_| Err(Error::msg("not ready")));
    let result = failing.run().port(0).serve();
    assert_eq!(
        result.err().map(|error| error.to_string()).as_deref(),
        Some("not ready")
    );
}
