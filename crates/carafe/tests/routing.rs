//! Routing over real sockets: matches, parameters, 404, 405 with `Allow`, `HEAD` and
//! `OPTIONS`, as a client sees them.

mod support;

use carafe::{get, post, App, Path};
use support::{request, start_server};

async fn index() -> &'static str {
    "Hello, World!"
}

async fn user(Path(name): Path<String>) -> String {
    format!("hello {name}")
}

async fn item(Path(id): Path<u64>) -> String {
    format!("item {id}")
}

async fn file(Path(path): Path<String>) -> String {
    format!("file {path}")
}

fn app() -> App {
    let mut app = App::new();
    app.route("/", get(index))
        .route("/users/<name>", get(user))
        .route("/users/me", get(|| async { "it's you" }))
        .route("/items/<int:id>", get(item).post(|| async { "updated" }))
        .route("/files/<path:path>", get(file))
        .route("/submit", post(|| async { "submitted" }));
    app
}

#[tokio::test(flavor = "multi_thread")]
async fn get_index_answers_hello_world_as_text() {
    let server = start_server(app()).await;
    let reply = request(server.addr, "GET", "/", &[], b"").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), "Hello, World!");
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(reply.header("content-length"), Some("13"));
}

#[tokio::test(flavor = "multi_thread")]
async fn placeholders_and_priorities_route_each_path() {
    let server = start_server(app()).await;
    let cases = [
        ("/users/ann", 200, "hello ann"),
        ("/users/J%C3%B6rg", 200, "hello Jörg"),
        ("/users/me", 200, "it's you"),
        ("/items/42", 200, "item 42"),
        ("/items/42?x=1", 200, "item 42"),
        ("/files/a/b/c.txt", 200, "file a/b/c.txt"),
        ("/items/abc", 404, ""),
        ("/items/99999999999999999999", 404, ""),
        ("/users/", 404, ""),
        ("/users/ann/", 404, ""),
    ];
    for (target, status, body) in cases {
        let reply = request(server.addr, "GET", target, &[], b"").await;
        assert_eq!(reply.status, status, "GET {target}");
        if status == 200 {
            assert_eq!(reply.text(), body, "GET {target}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_path_gets_404_with_werkzeugs_message() {
    let server = start_server(app()).await;
    let reply = request(server.addr, "GET", "/nowhere", &[], b"").await;
    assert_eq!(reply.status, 404);
    assert!(reply
        .text()
        .starts_with("The requested URL was not found on the server."));
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_method_gets_405_with_allow() {
    let server = start_server(app()).await;
    let reply = request(server.addr, "DELETE", "/items/1", &[], b"").await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("GET, HEAD, OPTIONS, POST"));
    let reply = request(server.addr, "GET", "/submit", &[], b"").await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("OPTIONS, POST"));
}

#[tokio::test(flavor = "multi_thread")]
async fn head_gets_the_get_head_without_a_body() {
    let server = start_server(app()).await;
    let reply = request(server.addr, "HEAD", "/", &[], b"").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-length"), Some("13"));
    assert!(reply.body.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn options_lists_the_allowed_methods() {
    let server = start_server(app()).await;
    let reply = request(server.addr, "OPTIONS", "/items/1", &[], b"").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("allow"), Some("GET, HEAD, OPTIONS, POST"));
    assert!(reply.body.is_empty());
}
