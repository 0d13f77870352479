//! Responses over real sockets: redirects (curl, with and without `-L`), status and
//! header tuples, `Option`, streamed bodies and server-sent events (curl `-N`, parsed as
//! a browser would), each chunk arriving before the next is produced.

mod support;

use std::time::Duration;

use carafe::response::{Event, KeepAlive, Sse};
use carafe::{get, post, App, Html, Json, Query, Redirect, StatusCode, Streaming};
use futures_util::{stream, StreamExt};
use http::HeaderMap;
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use support::curl::curl;
use support::{start_server, TestServer};

#[derive(Deserialize)]
struct Next {
    next: String,
}

fn app() -> App {
    let mut app = App::new();
    app.route("/old", get(|| async { Redirect::to("/new") }))
        .route("/new", get(|| async { Html("<p>new</p>") }))
        .route("/form", post(|| async { Redirect::see_other("/new") }))
        .route("/moved", get(|| async { Redirect::permanent("/new") }))
        .route("/again", get(|| async { Redirect::temporary("/new") }))
        .route(
            "/login",
            get(|Query(next): Query<Next>| async move { Redirect::to(&next.next) }),
        )
        .route(
            "/created",
            get(|| async {
                let body = Json(serde_json::json!({"id": 7}));
                (StatusCode::CREATED, [("x-id", "7"), ("x-id", "8")], body)
            }),
        )
        .route(
            "/teapot",
            get(|| async {
                let mut headers = HeaderMap::new();
                headers.insert("x-brew", "earl grey".parse().expect("a valid value"));
                (StatusCode::IM_A_TEAPOT, headers, "short and stout")
            }),
        )
        .route("/accepted", get(|| async { StatusCode::ACCEPTED }))
        .route(
            "/maybe/<int:id>",
            get(|carafe::Path(id): carafe::Path<u32>| async move { (id == 1).then_some("found") }),
        )
        .route(
            "/fallible",
            get(|| async { Err::<String, _>((StatusCode::CONFLICT, "taken")) }),
        )
        .route(
            "/lines",
            get(|| async {
                let lines = stream::iter(1..=5).map(|n| format!("line {n}\n"));
                Streaming::new(lines).content_type("text/csv; charset=utf-8")
            }),
        )
        .route(
            "/events",
            get(|| async {
                let events = stream::iter([
                    Event::default()
                        .event("greeting")
                        .id("1")
                        .data("hello\nworld"),
                    Event::default().comment("a comment the browser ignores"),
                    Event::default()
                        .json_data(&serde_json::json!({"n": 2}))
                        .expect("serializable"),
                    Event::default().retry(Duration::from_millis(2500)).data(""),
                ]);
                Sse::new(events)
            }),
        )
        .route(
            "/quiet",
            get(|| async {
                let first = stream::iter([Event::default().data("first")]);
                Sse::new(first.chain(stream::pending()))
                    .keep_alive(KeepAlive::default().interval(Duration::from_millis(100)))
            }),
        );
    app
}

fn url(server: &TestServer, path: &str) -> String {
    format!("http://{}{path}", server.addr)
}

#[tokio::test]
async fn redirects_carry_their_status_and_location() {
    let server = start_server(app()).await;
    let cases = [("/old", 302), ("/moved", 308), ("/again", 307)];
    for (path, status) in cases {
        let reply = curl(&[&url(&server, path)]).await;
        assert_eq!(reply.status, status, "{path}");
        assert_eq!(reply.header("location"), Some("/new"), "{path}");
        assert!(reply.text().contains("href=\"/new\""), "{path}");
    }
    let see_other = curl(&["-X", "POST", &url(&server, "/form")]).await;
    assert_eq!(see_other.status, 303);
    let followed = curl(&["-L", &url(&server, "/old")]).await;
    assert_eq!(
        (followed.status, followed.text().as_str()),
        (200, "<p>new</p>")
    );
}

#[tokio::test]
async fn a_redirect_built_from_input_cannot_inject_headers() {
    let server = start_server(app()).await;
    let target = "/login?next=/x%0d%0aSet-Cookie:%20evil=1%0d%0a";
    let reply = curl(&[&url(&server, target)]).await;
    assert_eq!(reply.status, 302);
    assert_eq!(reply.header("set-cookie"), None);
    assert_eq!(
        reply.header("location"),
        Some("/x%0D%0ASet-Cookie:%20evil=1%0D%0A")
    );
    let unicode = curl(&[&url(&server, "/login?next=/caf%C3%A9")]).await;
    assert_eq!(unicode.header("location"), Some("/caf%C3%A9"));
}

#[tokio::test]
async fn tuples_set_status_and_headers() {
    let server = start_server(app()).await;
    let created = curl(&[&url(&server, "/created")]).await;
    assert_eq!(created.status, 201);
    assert_eq!(created.header("content-type"), Some("application/json"));
    let ids: Vec<_> = created
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("x-id"))
        .map(|(_, value)| value.as_str())
        .collect();
    assert_eq!(ids, ["7", "8"]);
    assert_eq!(created.text(), "{\"id\":7}");
    let teapot = curl(&[&url(&server, "/teapot")]).await;
    assert_eq!(teapot.status, 418);
    assert_eq!(teapot.header("x-brew"), Some("earl grey"));
    assert_eq!(teapot.text(), "short and stout");
    let accepted = curl(&[&url(&server, "/accepted")]).await;
    assert_eq!((accepted.status, accepted.body.len()), (202, 0));
}

#[tokio::test]
async fn options_and_results_choose_the_answer() {
    let server = start_server(app()).await;
    let found = curl(&[&url(&server, "/maybe/1")]).await;
    assert_eq!((found.status, found.text().as_str()), (200, "found"));
    let missing = curl(&[&url(&server, "/maybe/2")]).await;
    assert_eq!(missing.status, 404);
    let conflict = curl(&[&url(&server, "/fallible")]).await;
    assert_eq!((conflict.status, conflict.text().as_str()), (409, "taken"));
}

#[tokio::test]
async fn a_stream_is_sent_chunked() {
    let server = start_server(app()).await;
    let reply = curl(&["-N", &url(&server, "/lines")]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("transfer-encoding"), Some("chunked"));
    assert_eq!(
        reply.header("content-type"),
        Some("text/csv; charset=utf-8")
    );
    assert_eq!(reply.text(), "line 1\nline 2\nline 3\nline 4\nline 5\n");
}

/// Reads from `stream` until `needle` has arrived, failing after 5 s.
async fn read_until(stream: &mut TcpStream, seen: &mut Vec<u8>, needle: &str) {
    let wait = async {
        while !String::from_utf8_lossy(seen).contains(needle) {
            let mut buf = [0; 4096];
            let read = stream.read(&mut buf).await.expect("read");
            assert!(
                read > 0,
                "closed before {needle:?}: {:?}",
                String::from_utf8_lossy(seen)
            );
            seen.extend_from_slice(&buf[..read]);
        }
    };
    tokio::time::timeout(Duration::from_secs(5), wait)
        .await
        .unwrap_or_else(|_| panic!("no {needle:?} in {:?}", String::from_utf8_lossy(seen)));
}

#[tokio::test]
async fn each_chunk_arrives_before_the_next_is_produced() {
    let (sender, receiver) = mpsc::channel::<String>(1);
    let receiver = std::sync::Mutex::new(Some(receiver));
    let mut app = App::new();
    app.route(
        "/live",
        get(move || {
            let receiver = receiver.lock().ok().and_then(|mut slot| slot.take());
            async move {
                let chunks = stream::unfold(receiver, |receiver| async move {
                    let mut receiver = receiver?;
                    let chunk = receiver.recv().await?;
                    Some((chunk, Some(receiver)))
                });
                Streaming::new(chunks)
            }
        }),
    );
    let server = start_server(app).await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    stream
        .write_all(b"GET /live HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .expect("write");
    let mut seen = Vec::new();
    for n in 0..3 {
        let chunk = format!("chunk {n};");
        sender
            .send(chunk.clone())
            .await
            .expect("the handler is streaming");
        read_until(&mut stream, &mut seen, &chunk).await;
    }
    drop(sender);
    read_until(&mut stream, &mut seen, "\r\n0\r\n\r\n").await;
}

/// A browser's reading of an event stream (HTML Living Standard §9.2.6): the events, as
/// (type, id, data), and the comment lines.
fn parse_event_stream(text: &str) -> (Vec<(String, String, String)>, Vec<String>) {
    let (mut events, mut comments) = (Vec::new(), Vec::new());
    let (mut kind, mut id, mut data) = (String::new(), String::new(), None::<String>);
    for line in text.split('\n') {
        if line.is_empty() {
            if let Some(data) = data.take() {
                let kind = if kind.is_empty() {
                    "message".to_owned()
                } else {
                    kind.clone()
                };
                events.push((kind, id.clone(), data));
            }
            kind.clear();
            continue;
        }
        if let Some(comment) = line.strip_prefix(':') {
            comments.push(comment.trim_start().to_owned());
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value).to_owned();
        match field {
            "event" => kind = value,
            "id" => id = value,
            "data" => match &mut data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(&value);
                }
                None => data = Some(value),
            },
            _ => {}
        }
    }
    (events, comments)
}

#[tokio::test]
async fn server_sent_events_parse_as_a_browser_reads_them() {
    let server = start_server(app()).await;
    let reply = curl(&["-N", &url(&server, "/events")]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("text/event-stream"));
    assert_eq!(reply.header("cache-control"), Some("no-cache"));
    assert_eq!(reply.header("x-accel-buffering"), Some("no"));
    let text = reply.text();
    assert!(text.contains("retry: 2500\n"), "{text}");
    let (events, comments) = parse_event_stream(&text);
    let event =
        |kind: &str, id: &str, data: &str| (kind.to_owned(), id.to_owned(), data.to_owned());
    assert_eq!(
        events,
        [
            event("greeting", "1", "hello\nworld"),
            event("message", "1", "{\"n\":2}"),
            event("message", "1", ""),
        ]
    );
    assert_eq!(comments, ["a comment the browser ignores"]);
}

#[tokio::test]
async fn a_quiet_event_stream_sends_keep_alive_comments() {
    let server = start_server(app()).await;
    let reply = curl(&["-N", "--max-time", "1", &url(&server, "/quiet")]).await;
    let (events, comments) = parse_event_stream(&reply.text());
    assert_eq!(
        events,
        [("message".to_owned(), String::new(), "first".to_owned())]
    );
    // 100 ms apart for about a second: several, and not a flood.
    assert!(
        (3..=12).contains(&comments.len()),
        "{} comments",
        comments.len()
    );
}
