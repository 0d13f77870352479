//! The tower adapters over real sockets, both ways: an axum `Router` served by carafe's
//! `TcpServer` through `TowerApplication`, and a carafe application served by hyper through
//! `ApplicationService`.

mod support;

use axum::routing::{get, post};
use carafe_serve::{ApplicationService, Request, Response, TowerApplication};
use support::*;

fn router() -> axum::Router {
    axum::Router::new()
        .route("/", get(|| async { "from axum" }))
        .route(
            "/json",
            post(
                |axum::Json(mut value): axum::Json<serde_json::Value>| async move {
                    value["seen_by"] = serde_json::Value::from("axum");
                    axum::Json(value)
                },
            ),
        )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_router_serves_get_json_post_and_404_on_tcp_server() {
    let server = start_server(TowerApplication::new(router()), quick_config()).await;
    let mut client = Client::connect(server.addr).await;

    let resp = client.request(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
    assert_eq!(
        (resp.status, resp.text().as_str()),
        (200, "from axum"),
        "{resp:?}"
    );

    let body = br#"{"name":"carafe","n":3}"#;
    let mut request =
        format!("POST /json HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", body.len())
            .into_bytes();
    request.extend_from_slice(body);
    let resp = client.request(&request).await;
    assert_eq!(resp.status, 200, "{resp:?}");
    assert_eq!(resp.header("content-type"), Some("application/json"));
    let json: serde_json::Value = serde_json::from_slice(&resp.body).expect("json answer");
    assert_eq!(
        json,
        serde_json::json!({"name": "carafe", "n": 3, "seen_by": "axum"})
    );

    let resp = client
        .request(b"GET /missing HTTP/1.1\r\nHost: a\r\n\r\n")
        .await;
    assert_eq!(resp.status, 404, "{resp:?}");

    // Malformed JSON is axum's business: it answers, and the connection stays usable.
    let resp = client
        .request(b"POST /json HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 3\r\n\r\n{x]")
        .await;
    assert_eq!(resp.status, 400, "{resp:?}");
    let resp = client.request(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
    assert_eq!(resp.status, 200);
}

/// A carafe application: `GET` greets, `POST` reports the body it read through carafe's
/// `Body`.
async fn carafe_app(req: Request) -> Response {
    if req.method() == http::Method::POST {
        return match req.into_body().to_bytes(1024).await {
            Ok(bytes) => answer(
                200,
                format!(
                    "read {} bytes: {}",
                    bytes.len(),
                    String::from_utf8_lossy(&bytes)
                ),
            ),
            Err(error) => answer(413, error.to_string()),
        };
    }
    answer(200, format!("carafe on hyper at {}", req.uri().path()))
}

/// Serves `carafe_app` with hyper's HTTP/1 connection on an ephemeral port.
async fn start_hyper() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let service = ApplicationService::new(carafe_app);
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = hyper_util::service::TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    (addr, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn carafe_application_serves_get_and_post_on_hyper() {
    let (addr, task) = start_hyper().await;
    let mut client = Client::connect(addr).await;
    let resp = client
        .request(b"GET /hello HTTP/1.1\r\nHost: a\r\n\r\n")
        .await;
    assert_eq!(
        (resp.status, resp.text().as_str()),
        (200, "carafe on hyper at /hello"),
        "{resp:?}"
    );

    let resp = client
        .request(b"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world")
        .await;
    assert_eq!(
        (resp.status, resp.text().as_str()),
        (200, "read 11 bytes: hello world"),
        "{resp:?}"
    );

    let resp = client
        .request(b"POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n")
        .await;
    assert_eq!(
        (resp.status, resp.text().as_str()),
        (200, "read 7 bytes: abcdefg"),
        "{resp:?}"
    );

    let big = "z".repeat(2000);
    let resp = client
        .request(
            format!("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n{big}")
                .as_bytes(),
        )
        .await;
    assert_eq!(
        resp.status, 413,
        "carafe's to_bytes limit applies to hyper's body: {resp:?}"
    );
    task.abort();
}
