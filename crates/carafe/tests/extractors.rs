//! Extractors over real sockets: JSON in and out with its error answers, query strings,
//! body limits, a streamed echo of a chunked body, and the connection's addresses.

mod support;

use carafe::{get, post, App, Body, ConnInfo, HttpError, Json, Query};
use serde::{Deserialize, Serialize};
use support::{request, send_raw, start_server};

#[derive(Deserialize, Serialize)]
struct Item {
    name: String,
    price: f64,
}

#[derive(Deserialize)]
struct Search {
    q: String,
}

async fn create(Json(item): Json<Item>) -> Json<Item> {
    Json(Item {
        name: item.name.to_uppercase(),
        price: item.price * 2.0,
    })
}

async fn search(Query(search): Query<Search>) -> String {
    format!("searching {}", search.q)
}

async fn echo(body: Body) -> Body {
    body
}

async fn whoami(conn: ConnInfo) -> String {
    conn.peer_addr.to_string()
}

async fn checked(text: String) -> Result<String, HttpError> {
    if text.is_empty() {
        return Err(HttpError::new(
            http::StatusCode::UNPROCESSABLE_ENTITY,
            "say something",
        ));
    }
    Ok(text)
}

fn app() -> App {
    let mut app = App::new();
    app.route("/items", post(create))
        .route("/search", get(search))
        .route("/echo", post(echo))
        .route("/whoami", get(whoami))
        .route("/checked", post(checked))
        .max_content_length(64);
    app
}

const JSON: (&str, &str) = ("content-type", "application/json");

#[tokio::test(flavor = "multi_thread")]
async fn json_in_json_out() {
    let server = start_server(app()).await;
    let reply = request(
        server.addr,
        "POST",
        "/items",
        &[JSON],
        br#"{"name":"tea","price":1.25}"#,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.text(), r#"{"name":"TEA","price":2.5}"#);
}

#[tokio::test(flavor = "multi_thread")]
async fn json_errors_say_what_is_wrong() {
    let server = start_server(app()).await;
    let reply = request(
        server.addr,
        "POST",
        "/items",
        &[],
        br#"{"name":"tea","price":1}"#,
    )
    .await;
    assert_eq!(reply.status, 415);
    assert!(
        reply.text().contains("application/json"),
        "{}",
        reply.text()
    );

    let reply = request(
        server.addr,
        "POST",
        "/items",
        &[JSON],
        br#"{"name":"tea","price":"free"}"#,
    )
    .await;
    assert_eq!(reply.status, 400);
    assert!(reply.text().contains("at `price`"), "{}", reply.text());

    let big = format!(r#"{{"name":"{}","price":1}}"#, "x".repeat(100));
    let reply = request(server.addr, "POST", "/items", &[JSON], big.as_bytes()).await;
    assert_eq!(reply.status, 413);
}

#[tokio::test(flavor = "multi_thread")]
async fn query_strings_are_decoded_or_refused() {
    let server = start_server(app()).await;
    let reply = request(server.addr, "GET", "/search?q=caf%C3%A9+au+lait", &[], b"").await;
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (200, "searching café au lait")
    );
    let reply = request(server.addr, "GET", "/search", &[], b"").await;
    assert_eq!(reply.status, 400);
    assert!(
        reply.text().contains("missing field `q`"),
        "{}",
        reply.text()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn echo_streams_a_chunked_body_back() {
    let server = start_server(app()).await;
    let raw = b"POST /echo HTTP/1.1\r\nhost: x\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n\
                5\r\nhello\r\n6\r\n, echo\r\n0\r\n\r\n";
    let reply = send_raw(server.addr, raw, false).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), "hello, echo");
}

#[tokio::test(flavor = "multi_thread")]
async fn handler_errors_are_answered() {
    let server = start_server(app()).await;
    let reply = request(server.addr, "POST", "/checked", &[], b"").await;
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (422, "say something")
    );
    let reply = request(server.addr, "POST", "/checked", &[], b"hi").await;
    assert_eq!((reply.status, reply.text().as_str()), (200, "hi"));
}

#[tokio::test(flavor = "multi_thread")]
async fn conn_info_is_the_clients_address() {
    let server = start_server(app()).await;
    let mut stream = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    let local = stream.local_addr().expect("local address");
    tokio::io::AsyncWriteExt::write_all(
        &mut stream,
        b"GET /whoami HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await
    .expect("write");
    let mut raw = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut raw)
        .await
        .expect("read");
    let reply = support::parse_reply(&raw, false);
    assert_eq!(reply.text(), local.to_string());
}
