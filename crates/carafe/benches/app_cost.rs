//! What the Flask layer costs on top of the bare gateway, for a realistic JSON endpoint:
//! `POST /items/<int:id>?page=N` with a JSON body, taking `Path`, `Query`, `Session` (a
//! signed cookie read, changed and written back) and `Json`, answering JSON. The bare
//! gateway case is a `carafe_serve` function doing the same JSON work by hand, without
//! routing, extractors or session.
//!
//! ```text
//! cargo bench -p carafe --bench app_cost                    # criterion timings
//! CARAFE_BENCH_INSTR=app CARAFE_BENCH_COUNT=20000 \
//!     valgrind --tool=callgrind target/release/deps/app_cost-*  # instruction counts
//! ```
//!
//! Groups: `in_memory/*` calls the application directly (no socket): the layer's own
//! cost. `loopback/*` sends the same requests over a real 127.0.0.1 connection, 16
//! pipelined per round trip: the cost a client sees, server included. With
//! `CARAFE_BENCH_INSTR=app|gateway|app_plain` the binary skips criterion and answers
//! `CARAFE_BENCH_COUNT` in-memory requests (`loopback_app`, ... : over loopback, client
//! in the same process), so that callgrind runs with two counts give instructions per
//! request by difference; `CARAFE_BENCH_INSTR=size` prints the size of the App's request
//! future (the server moves it into a box for requests with a body).

// A bench's main and helpers need no docs.
#![allow(missing_docs)]

use std::future::Future;
use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use carafe::session::cookie::SessionSigner;
use carafe::{post, App, Body, Json, Path, Query, Request, Response, Session};
use carafe_serve::{Application, Config, TcpServer};
use criterion::Criterion;
use serde::{Deserialize, Serialize};

const SECRET: &str = "a benchmark secret key, long enough";
const BODY: &str = r#"{"name":"espresso cup","price":12.5,"tags":["cups","white"]}"#;
const PIPELINE: usize = 16;

#[derive(Deserialize)]
struct Page {
    page: u32,
}

#[derive(Deserialize, Serialize)]
struct Item {
    name: String,
    price: f64,
    tags: Vec<String>,
}

#[derive(Serialize)]
struct Answer {
    id: u64,
    page: u32,
    name: String,
    seen: u64,
}

async fn update(
    Path(id): Path<u64>,
    Query(page): Query<Page>,
    session: Session,
    Json(item): Json<Item>,
) -> Json<Answer> {
    let seen = session.get::<u64>("seen").unwrap_or(0) + 1;
    session.insert("seen", seen);
    Json(Answer {
        id,
        page: page.page,
        name: item.name,
        seen,
    })
}

async fn update_without_session(
    Path(id): Path<u64>,
    Query(page): Query<Page>,
    Json(item): Json<Item>,
) -> Json<Answer> {
    Json(Answer {
        id,
        page: page.page,
        name: item.name,
        seen: 0,
    })
}

/// The app: the JSON endpoint among a few other routes.
fn app() -> App {
    let mut app = App::new();
    app.secret_key(SECRET)
        .route("/", carafe::get(|| async { "index" }))
        .route("/items/<int:id>", post(update))
        .route("/plain/<int:id>", post(update_without_session))
        .route(
            "/users/<name>",
            carafe::get(|| async { "user" }).name("user"),
        );
    app
}

/// The bare gateway: the same JSON work, by hand.
async fn gateway(req: Request) -> Response {
    let id = req
        .uri()
        .path()
        .rsplit('/')
        .next()
        .and_then(|id| id.parse::<u64>().ok())
        .unwrap_or(0);
    let page = req
        .uri()
        .query()
        .and_then(|query| query.strip_prefix("page="))
        .and_then(|page| page.parse::<u32>().ok())
        .unwrap_or(0);
    let body = req.into_body().to_bytes(1 << 20).await.unwrap_or_default();
    let Ok(item) = serde_json::from_slice::<Item>(&body) else {
        return Response::new(Body::empty());
    };
    let answer = Answer {
        id,
        page,
        name: item.name,
        seen: 0,
    };
    let json = serde_json::to_vec(&answer).unwrap_or_default();
    let mut response = Response::new(Body::from(json));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

/// A valid session cookie holding `seen`.
fn cookie() -> String {
    let mut data = serde_json::Map::new();
    data.insert("seen".into(), 41.into());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    format!("session={}", SessionSigner::new(SECRET).encode(&data, now))
}

fn request(path: &str, cookie: &str) -> Request {
    http::Request::post(path)
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("content-length", BODY.len())
        .header("cookie", cookie)
        .body(Body::from(Bytes::from_static(BODY.as_bytes())))
        .unwrap_or_default()
}

/// Polls `future` to completion with a no-op waker; the handlers never wait.
fn run<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..16 {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return Some(output);
        }
    }
    None
}

/// One in-memory request to `target` (`app`, `app_plain` or `gateway`).
fn answer_once(target: &str, app: &App, cookie: &str) -> Option<Response> {
    match target {
        "gateway" => run(Application::call(
            &gateway,
            request("/items/7?page=2", cookie),
        )),
        "app_plain" => run(app.call(request("/plain/7?page=2", cookie))),
        _ => run(app.call(request("/items/7?page=2", cookie))),
    }
}

fn bench_in_memory(c: &mut Criterion) {
    let app = app();
    let cookie = cookie();
    // The app's answer is what the bench claims it is.
    let response = answer_once("app", &app, &cookie).expect("the handler answers at once");
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("set-cookie"));
    let mut group = c.benchmark_group("in_memory");
    for target in ["gateway", "app_plain", "app"] {
        group.bench_function(target, |b| {
            b.iter(|| black_box(answer_once(target, &app, &cookie)));
        });
    }
    group.finish();
}

/// Serves `application` on a loopback port from a runtime of its own thread.
fn serve<A: Application>(application: A) -> SocketAddr {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let mut config = Config::default();
            config.access_log = false;
            let mut server =
                TcpServer::bind("127.0.0.1:0".parse().expect("literal"), config).expect("bind");
            server.activate().expect("listen");
            let _ = sender.send(server.local_addr());
            let _ = server.serve_forever(application).await;
        });
    });
    receiver.recv().expect("the server's address")
}

/// Sends `rounds` batches of `PIPELINE` requests on `stream`, reading every answer.
fn pipelined(stream: &mut TcpStream, batch: &[u8], rounds: u64) -> Duration {
    let start = Instant::now();
    let mut buf = vec![0u8; 64 * 1024];
    for _ in 0..rounds {
        stream.write_all(batch).expect("send");
        // Every answer ends with the JSON body's closing brace, and only there.
        let mut seen = 0;
        while seen < PIPELINE {
            let read = stream.read(&mut buf).expect("receive");
            assert!(read > 0, "the server closed the connection");
            seen += buf[..read].iter().filter(|byte| **byte == b'}').count();
        }
    }
    start.elapsed()
}

fn raw_request(path: &str, cookie: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nCookie: {cookie}\r\n\r\n{BODY}",
        BODY.len()
    )
    .into_bytes()
}

fn bench_loopback(c: &mut Criterion) {
    let cookie = cookie();
    let mut group = c.benchmark_group("loopback");
    group.throughput(criterion::Throughput::Elements(PIPELINE as u64));
    let servers = [
        ("gateway", serve(gateway), "/items/7?page=2"),
        ("app_plain", serve(app()), "/plain/7?page=2"),
        ("app", serve(app()), "/items/7?page=2"),
    ];
    for (name, addr, path) in servers {
        let batch = raw_request(path, &cookie).repeat(PIPELINE);
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        group.bench_function(name, |b| {
            b.iter_custom(|rounds| pipelined(&mut stream, &batch, rounds));
        });
    }
    group.finish();
}

fn main() {
    if let Ok(target) = std::env::var("CARAFE_BENCH_INSTR") {
        let count: u64 = std::env::var("CARAFE_BENCH_COUNT")
            .ok()
            .and_then(|count| count.parse().ok())
            .unwrap_or(1000);
        let cookie = cookie();
        if target == "size" {
            let app = app();
            let future = app.call(request("/items/7?page=2", &cookie));
            let size = std::mem::size_of_val(&future);
            std::io::stdout()
                .write_all(format!("App future: {size} bytes\n").as_bytes())
                .expect("stdout");
            return;
        }
        if let Some(server) = target.strip_prefix("loopback_") {
            let (addr, path) = match server {
                "gateway" => (serve(gateway), "/items/7?page=2"),
                "app_plain" => (serve(app()), "/plain/7?page=2"),
                _ => (serve(app()), "/items/7?page=2"),
            };
            let batch = raw_request(path, &cookie).repeat(PIPELINE);
            let mut stream = TcpStream::connect(addr).expect("connect");
            stream.set_nodelay(true).expect("nodelay");
            pipelined(&mut stream, &batch, count / PIPELINE as u64);
            return;
        }
        let app = app();
        for _ in 0..count {
            black_box(answer_once(&target, &app, &cookie));
        }
        return;
    }
    let mut criterion = Criterion::default().configure_from_args();
    bench_in_memory(&mut criterion);
    bench_loopback(&mut criterion);
    criterion.final_summary();
}
