//! App tests: dispatch of in-memory requests through routing, extractors and handlers.
//! (`tests/` drives the same over real sockets.)

use std::sync::atomic::{AtomicBool, Ordering};

use carafe_serve::{Application, Body, Request};
use http::header::{ALLOW, CONTENT_TYPE};
use http::{HeaderMap, Method, StatusCode, Uri};
use serde::{Deserialize, Serialize};

use super::App;
use crate::{get, post, Json, Path, Query};

async fn send(
    app: &App,
    method: Method,
    uri: &str,
    body: &'static str,
) -> (u16, HeaderMap, String) {
    let req: Request = http::Request::builder()
        .method(method)
        .uri(uri)
        .header(CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap_or_default();
    let response = app.call(req).await;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .to_bytes(usize::MAX)
        .await
        .unwrap_or_default();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

async fn hello() -> &'static str {
    "Hello, World!"
}

fn hello_app() -> App {
    let mut app = App::new();
    app.route("/", get(hello))
        .route("/items", post(|| async { StatusCode::CREATED }));
    app
}

#[tokio::test]
async fn get_runs_the_handler() {
    let (status, headers, body) = send(&hello_app(), Method::GET, "/", "").await;
    assert_eq!((status, body.as_str()), (200, "Hello, World!"));
    assert_eq!(headers[CONTENT_TYPE], "text/plain; charset=utf-8");
}

#[tokio::test]
async fn head_runs_the_get_handler() {
    let (status, headers, _) = send(&hello_app(), Method::HEAD, "/", "").await;
    assert_eq!(status, 200);
    assert_eq!(headers[CONTENT_TYPE], "text/plain; charset=utf-8");
}

#[tokio::test]
async fn unknown_path_gets_404() {
    let (status, headers, body) = send(&hello_app(), Method::GET, "/missing", "").await;
    assert_eq!(status, 404);
    assert!(
        body.starts_with("The requested URL was not found on the server."),
        "{body}"
    );
    assert_eq!(headers[CONTENT_TYPE], "text/plain; charset=utf-8");
}

#[tokio::test]
async fn wrong_method_gets_405_with_allow() {
    let (status, headers, _) = send(&hello_app(), Method::DELETE, "/items", "").await;
    assert_eq!(status, 405);
    assert_eq!(headers[ALLOW], "OPTIONS, POST");
}

#[tokio::test]
async fn options_is_answered_with_allow() {
    let (status, headers, body) = send(&hello_app(), Method::OPTIONS, "/", "").await;
    assert_eq!((status, body.as_str()), (200, ""));
    assert_eq!(headers[ALLOW], "GET, HEAD, OPTIONS");
}

#[derive(Deserialize)]
struct Paging {
    page: u32,
}

#[derive(Deserialize, Serialize)]
struct Note {
    text: String,
}

async fn six(
    method: Method,
    uri: Uri,
    Path((user, id)): Path<(String, u64)>,
    Query(paging): Query<Paging>,
    headers: HeaderMap,
    Json(note): Json<Note>,
) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "method": method.as_str(),
        "path": uri.path(),
        "user": user,
        "id": id,
        "page": paging.page,
        "json": headers.contains_key(CONTENT_TYPE),
        "note": note.text,
    }))
}

#[tokio::test]
async fn six_extractors_feed_one_handler() {
    let mut app = App::new();
    app.route("/users/<user>/notes/<int:id>", post(six));
    let (status, headers, body) = send(
        &app,
        Method::POST,
        "/users/ann/notes/3?page=2",
        r#"{"text":"hi"}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers[CONTENT_TYPE], "application/json");
    let expected = r#"{"id":3,"json":true,"method":"POST","note":"hi","page":2,"path":"/users/ann/notes/3","user":"ann"}"#;
    assert_eq!(body, expected);
}

static CALLED: AtomicBool = AtomicBool::new(false);

async fn must_not_run(Query(_paging): Query<Paging>) -> &'static str {
    CALLED.store(true, Ordering::SeqCst);
    "ran"
}

#[tokio::test]
async fn a_rejection_answers_instead_of_the_handler() {
    let mut app = App::new();
    app.route("/", get(must_not_run));
    let (status, _, body) = send(&app, Method::GET, "/?page=x", "").await;
    assert_eq!(status, 400);
    assert!(
        body.starts_with("failed to parse the query string"),
        "{body}"
    );
    assert!(!CALLED.load(Ordering::SeqCst));
}

#[tokio::test]
async fn max_content_length_limits_body_extractors() {
    let mut app = App::new();
    app.route("/", post(|Json(note): Json<Note>| async move { note.text }));
    app.max_content_length(11);
    let (status, _, _) = send(&app, Method::POST, "/", r#"{"text":"too long"}"#).await;
    assert_eq!(status, 413);
    let (status, _, body) = send(&app, Method::POST, "/", r#"{"text":""}"#).await;
    assert_eq!((status, body.as_str()), (200, ""));
}

#[test]
fn debug_lists_the_routes() {
    let debug = format!("{:?}", hello_app());
    assert!(
        debug.contains(r#""/": {"GET": carafe::app::tests::hello}"#),
        "{debug}"
    );
    assert!(debug.contains(r#""/items": {"POST""#), "{debug}");
}
