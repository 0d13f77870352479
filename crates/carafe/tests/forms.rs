//! Urlencoded forms and JSON bodies over real sockets, sent by curl: repeated keys,
//! non-ASCII values, errors that name the field, 415 and 413.

mod support;

use carafe::extract::Form;
use carafe::{post, App, Json};
use serde::Deserialize;
use support::curl::curl_at;
use support::start_server;

#[derive(Deserialize)]
struct Signup {
    name: String,
    age: u8,
    #[serde(default)]
    topics: Vec<String>,
}

async fn signup(Form(signup): Form<Signup>) -> String {
    format!(
        "{} ({}) likes [{}]",
        signup.name,
        signup.age,
        signup.topics.join("|")
    )
}

#[derive(Deserialize)]
struct Line {
    #[allow(dead_code)]
    sku: String,
    #[allow(dead_code)]
    quantity: u32,
}

#[derive(Deserialize)]
struct Order {
    lines: Vec<Line>,
}

async fn order(Json(order): Json<Order>) -> String {
    format!("{} lines", order.lines.len())
}

async fn server() -> support::TestServer {
    let mut app = App::new();
    app.max_content_length(1024)
        .route("/signup", post(signup))
        .route("/order", post(order));
    start_server(app).await
}

#[tokio::test]
async fn urlencoded_form_with_repeated_keys_fills_a_vec() {
    let server = server().await;
    let scratch = tempfile::tempdir().expect("scratch dir");
    let reply = curl_at(
        server.addr,
        "/signup",
        &[
            "-d",
            "name=Ann+Lee&age=30&topics=rust&topics=web",
            "--data-urlencode",
            "topics=caf\u{e9} & tea",
        ],
        scratch.path(),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.text(),
        "Ann Lee (30) likes [rust|web|caf\u{e9} & tea]"
    );
}

#[tokio::test]
async fn multipart_text_fields_fill_a_form_too() {
    let server = server().await;
    let scratch = tempfile::tempdir().expect("scratch dir");
    let reply = curl_at(
        server.addr,
        "/signup",
        &[
            "-F", "name=Bo", "-F", "age=7", "-F", "topics=a", "-F", "topics=b",
        ],
        scratch.path(),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.text(), "Bo (7) likes [a|b]");
}

#[tokio::test]
async fn form_errors_name_the_field() {
    let server = server().await;
    let scratch = tempfile::tempdir().expect("scratch dir");
    let reply = curl_at(
        server.addr,
        "/signup",
        &["-d", "name=Ann&age=old"],
        scratch.path(),
    )
    .await;
    assert_eq!(reply.status, 400);
    assert!(reply.text().contains("field `age`"), "{}", reply.text());

    let reply = curl_at(server.addr, "/signup", &["-d", "age=3"], scratch.path()).await;
    assert_eq!(reply.status, 400);
    assert!(
        reply.text().contains("missing field `name`"),
        "{}",
        reply.text()
    );
}

#[tokio::test]
async fn form_refuses_other_content_types_and_big_bodies() {
    let server = server().await;
    let scratch = tempfile::tempdir().expect("scratch dir");
    let reply = curl_at(
        server.addr,
        "/signup",
        &["-H", "content-type: text/plain", "-d", "name=a&age=1"],
        scratch.path(),
    )
    .await;
    assert_eq!(reply.status, 415);
    assert!(
        reply.text().contains("x-www-form-urlencoded"),
        "{}",
        reply.text()
    );

    let big = format!("name={}&age=1", "a".repeat(2000));
    let reply = curl_at(server.addr, "/signup", &["-d", &big], scratch.path()).await;
    assert_eq!(reply.status, 413);
    assert!(reply.text().contains("1024 bytes"), "{}", reply.text());
}

#[tokio::test]
async fn json_errors_name_the_field_and_position() {
    let server = server().await;
    let scratch = tempfile::tempdir().expect("scratch dir");
    let body = r#"{"lines": [{"sku": "a", "quantity": 1}, {"sku": "b", "quantity": "two"}]}"#;
    let reply = curl_at(server.addr, "/order", &["--json", body], scratch.path()).await;
    assert_eq!(reply.status, 400);
    assert!(
        reply.text().contains("at `lines[1].quantity`"),
        "{}",
        reply.text()
    );
    assert!(reply.text().contains("line 1 column"), "{}", reply.text());

    let reply = curl_at(
        server.addr,
        "/order",
        &["--json", r#"{"lines": [{"sku": "a"}]}"#],
        scratch.path(),
    )
    .await;
    assert_eq!(reply.status, 400);
    assert!(reply.text().contains("lines[0]"), "{}", reply.text());
    assert!(
        reply.text().contains("missing field `quantity`"),
        "{}",
        reply.text()
    );

    let ok = r#"{"lines": [{"sku": "a", "quantity": 1}]}"#;
    let reply = curl_at(
        server.addr,
        "/order",
        &["-H", "content-type: application/vnd.api+json", "-d", ok],
        scratch.path(),
    )
    .await;
    assert_eq!((reply.status, reply.text().as_str()), (200, "1 lines"));
}

#[tokio::test]
async fn json_refuses_other_content_types_and_big_bodies() {
    let server = server().await;
    let scratch = tempfile::tempdir().expect("scratch dir");
    let ok = r#"{"lines": []}"#;
    let reply = curl_at(server.addr, "/order", &["-d", ok], scratch.path()).await;
    assert_eq!(reply.status, 415, "curl -d sends a form content type");
    assert!(
        reply.text().contains("application/json"),
        "{}",
        reply.text()
    );

    let big = format!(r#"{{"lines": [], "pad": "{}"}}"#, "x".repeat(2000));
    let reply = curl_at(server.addr, "/order", &["--json", &big], scratch.path()).await;
    assert_eq!(reply.status, 413);
}

// The fuzz target's checks, replayed on its seed corpus and on generated bodies.

#[path = "../../../fuzz/oracle/form.rs"]
mod form_oracle;

#[test]
fn form_fuzz_corpus_passes_the_oracle() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/form_decode");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/corpus/form_decode") {
        let path = entry.expect("a corpus entry").path();
        let _ = form_oracle::check(&std::fs::read(&path).expect("a seed"));
        count += 1;
    }
    assert!(count >= 20, "{count} seeds");
    assert_eq!(form_oracle::check(b"tags=1&tags=2&tags=3"), Ok(3));
    assert_eq!(form_oracle::check(b"age=300"), Err(400));
    assert_eq!(form_oracle::check(b"tags=1&tags=x"), Err(400));
}

proptest::proptest! {
    #[test]
    fn form_decoding_never_panics(input in "([a-z%+=&]|%[0-9A-Fa-f]{2}|[\u{e9}\u{5199}]){0,40}") {
        let _ = form_oracle::check(input.as_bytes());
    }

    #[test]
    fn form_decoding_never_panics_on_any_bytes(input in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
        let _ = form_oracle::check(&input);
    }
}
