//! Compression over real sockets: curl `--compressed` and explicit `Accept-Encoding`
//! values against an app wrapped in `Compress`; q-value negotiation, what is left alone,
//! static files (weak ETags still revalidate), `HEAD`, and a compressed stream whose
//! chunks arrive while it is produced.

mod support;

use std::io::Read;
use std::time::Duration;

use carafe::response::{Compress, Compression, Event, Sse};
use carafe::{get, App, Html, Json, Streaming};
use carafe_serve::{Application, Config, ShutdownHandle, TcpServer};
use futures_util::{stream, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use support::curl::{curl, scratch_path, CurlReply};

/// A server stopped when dropped.
struct Server {
    addr: std::net::SocketAddr,
    handle: ShutdownHandle,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

async fn serve(app: impl Application) -> Server {
    let mut config = Config::default();
    config.access_log = false;
    let address = "127.0.0.1:0".parse().expect("literal address");
    let mut server = TcpServer::bind(address, config).expect("bind");
    server.activate().expect("listen");
    let addr = server.local_addr();
    let handle = server.shutdown_handle();
    tokio::spawn(server.serve_forever(app));
    Server { addr, handle }
}

/// Text that compresses well, 4,000 bytes.
fn page() -> String {
    "<p>carafe serves compressed text</p>\n".repeat(108)
}

struct StaticDir(std::path::PathBuf);

impl Drop for StaticDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn compressed_app(settings: Compression) -> (Server, StaticDir) {
    let dir = StaticDir(scratch_path("compress-static"));
    std::fs::create_dir_all(&dir.0).expect("static dir");
    std::fs::write(
        dir.0.join("site.css"),
        "body { color: black; }\n".repeat(200),
    )
    .expect("write site.css");
    std::fs::write(dir.0.join("logo.png"), vec![7; 5000]).expect("write logo.png");
    let mut app = App::new();
    app.route("/page", get(|| async { Html(page()) }))
        .route("/tiny", get(|| async { Html("<p>tiny</p>") }))
        .route("/json", get(|| async { Json(vec!["carafe"; 400]) }))
        .route("/bytes", get(|| async { vec![b'a'; 5000] }))
        .route(
            "/missing",
            get(|| async { (http::StatusCode::NOT_FOUND, page()) }),
        )
        .route(
            "/events",
            get(|| async { Sse::new(stream::iter([Event::default().data(page())])) }),
        )
        .route(
            "/stream",
            get(|| async {
                let lines = stream::iter(0..200).map(|n| format!("line {n} of a long stream\n"));
                Streaming::new(lines)
            }),
        )
        .static_folder(&dir.0);
    (serve(Compress::new(app, settings)).await, dir)
}

fn url(server: &Server, path: &str) -> String {
    format!("http://{}{path}", server.addr)
}

fn gunzip(bytes: &[u8]) -> String {
    let mut out = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut out)
        .expect("valid gzip");
    out
}

fn unbrotli(bytes: &[u8]) -> String {
    let mut out = String::new();
    brotli::Decompressor::new(bytes, 4096)
        .read_to_string(&mut out)
        .expect("valid brotli");
    out
}

async fn with_accept(server: &Server, path: &str, accept: &str) -> CurlReply {
    curl(&[
        "-H",
        &format!("Accept-Encoding: {accept}"),
        &url(server, path),
    ])
    .await
}

#[tokio::test]
async fn curl_compressed_gets_brotli_and_decodes_it() {
    let (server, _dir) = compressed_app(Compression::default()).await;
    let raw = with_accept(&server, "/page", "gzip, deflate, br, zstd").await;
    assert_eq!(raw.header("content-encoding"), Some("br"));
    assert_eq!(raw.header("vary"), Some("accept-encoding"));
    assert_eq!(raw.header("content-length"), None);
    assert!(raw.body.len() < 1000, "{} bytes", raw.body.len());
    assert_eq!(unbrotli(&raw.body), page());
    let decoded = curl(&["--compressed", &url(&server, "/page")]).await;
    assert_eq!(decoded.status, 200);
    assert_eq!(decoded.text(), page());
}

#[tokio::test]
async fn q_values_choose_the_coding() {
    let (server, _dir) = compressed_app(Compression::default()).await;
    let cases = [
        ("gzip", Some("gzip")),
        ("br;q=0.5, gzip", Some("gzip")),
        ("br, gzip;q=0.9", Some("br")),
        ("*", Some("br")),
        ("br;q=0, *;q=0.1", Some("gzip")),
        ("identity", None),
        ("gzip;q=0, br;q=0", None),
        ("deflate", None),
    ];
    for (accept, expected) in cases {
        let reply = with_accept(&server, "/page", accept).await;
        assert_eq!(reply.status, 200, "{accept}");
        assert_eq!(reply.header("content-encoding"), expected, "{accept}");
        let text = match expected {
            Some("gzip") => gunzip(&reply.body),
            Some(_) => unbrotli(&reply.body),
            None => reply.text(),
        };
        assert_eq!(text, page(), "{accept}");
    }
    let plain = curl(&[&url(&server, "/page")]).await;
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.header("vary"), Some("accept-encoding"));
    let gzip_only = compressed_app(Compression::default().brotli(false)).await;
    let reply = with_accept(&gzip_only.0, "/page", "br, gzip;q=0.1").await;
    assert_eq!(reply.header("content-encoding"), Some("gzip"));
}

#[tokio::test]
async fn only_large_text_like_successes_are_compressed() {
    let (server, _dir) = compressed_app(Compression::default()).await;
    let cases = [
        ("/json", Some("gzip")),
        ("/static/site.css", Some("gzip")),
        ("/tiny", None),
        ("/bytes", None),
        ("/static/logo.png", None),
        ("/missing", None),
        ("/events", None),
    ];
    for (path, expected) in cases {
        let reply = with_accept(&server, path, "gzip").await;
        assert_eq!(reply.header("content-encoding"), expected, "{path}");
    }
    let json = with_accept(&server, "/json", "gzip").await;
    assert!(gunzip(&json.body).starts_with("[\"carafe\",\"carafe\""));
}

#[tokio::test]
async fn compressed_static_files_keep_revalidating() {
    let (server, _dir) = compressed_app(Compression::default()).await;
    let identity = curl(&[&url(&server, "/static/site.css")]).await;
    let strong = identity.header("etag").expect("an etag").to_owned();
    assert_eq!(identity.header("accept-ranges"), Some("bytes"));
    let compressed = with_accept(&server, "/static/site.css", "gzip").await;
    let weak = compressed.header("etag").expect("an etag").to_owned();
    assert_eq!(weak, format!("W/{strong}"));
    assert_eq!(compressed.header("accept-ranges"), None);
    assert_eq!(gunzip(&compressed.body), identity.text());
    let revalidate = curl(&[
        "-H",
        "Accept-Encoding: gzip",
        "-H",
        &format!("If-None-Match: {weak}"),
        &url(&server, "/static/site.css"),
    ])
    .await;
    assert_eq!(revalidate.status, 304);
    assert_eq!(revalidate.header("vary"), Some("accept-encoding"));
    // A range is served from the identity bytes, uncompressed.
    let range = curl(&[
        "-H",
        "Accept-Encoding: gzip",
        "-r",
        "0-3",
        &url(&server, "/static/site.css"),
    ])
    .await;
    assert_eq!((range.status, range.text().as_str()), (206, "body"));
    assert_eq!(range.header("content-encoding"), None);
}

#[tokio::test]
async fn head_gets_the_get_headers_without_a_body() {
    let (server, _dir) = compressed_app(Compression::default()).await;
    let reply = curl(&[
        "-I",
        "-H",
        "Accept-Encoding: gzip",
        &url(&server, "/static/site.css"),
    ])
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-encoding"), Some("gzip"));
    assert_eq!(reply.header("content-length"), None);
    let page = curl(&["-I", "-H", "Accept-Encoding: br", &url(&server, "/page")]).await;
    assert_eq!(page.header("content-encoding"), Some("br"));
}

#[tokio::test]
async fn streams_are_compressed_incrementally() {
    let (server, _dir) = compressed_app(Compression::default()).await;
    let reply = with_accept(&server, "/stream", "gzip").await;
    assert_eq!(reply.header("content-encoding"), Some("gzip"));
    assert_eq!(reply.header("transfer-encoding"), Some("chunked"));
    let expected: String = (0..200)
        .map(|n| format!("line {n} of a long stream\n"))
        .collect();
    assert_eq!(gunzip(&reply.body), expected);
}

#[tokio::test]
async fn a_compressed_chunk_decodes_before_the_stream_ends() {
    let (sender, receiver) = tokio::sync::mpsc::channel::<String>(1);
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
    let server = serve(Compress::new(app, Compression::default())).await;
    let mut socket = TcpStream::connect(server.addr).await.expect("connect");
    let request = b"GET /live HTTP/1.1\r\nhost: x\r\naccept-encoding: gzip\r\n\r\n";
    socket.write_all(request).await.expect("write");
    sender
        .send("first part, ".repeat(10))
        .await
        .expect("streaming");
    // Read chunks and decode what arrived: the first part must be readable while the
    // handler still holds the stream open.
    let mut raw = Vec::new();
    let mut decoder = flate2::write::GzDecoder::new(Vec::new());
    let wait = async {
        loop {
            let mut buf = [0; 4096];
            let read = socket.read(&mut buf).await.expect("read");
            assert!(read > 0, "closed early");
            raw.extend_from_slice(&buf[..read]);
            let Some(body) = chunked_payload(&raw) else {
                continue;
            };
            decoder = flate2::write::GzDecoder::new(Vec::new());
            let _ = std::io::Write::write_all(&mut decoder, &body);
            let _ = std::io::Write::flush(&mut decoder);
            if decoder.get_ref().len() >= 120 {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), wait)
        .await
        .expect("the first compressed chunk decodes before the stream ends");
    assert_eq!(
        String::from_utf8_lossy(decoder.get_ref()),
        "first part, ".repeat(10)
    );
    drop(sender);
}

/// The payload of the complete chunks after the head of a chunked response, if the head
/// has arrived.
fn chunked_payload(raw: &[u8]) -> Option<Vec<u8>> {
    let start = raw.windows(4).position(|window| window == b"\r\n\r\n")? + 4;
    let mut rest = &raw[start..];
    let mut payload = Vec::new();
    while let Some(end) = rest.windows(2).position(|window| window == b"\r\n") {
        let size = usize::from_str_radix(std::str::from_utf8(&rest[..end]).ok()?, 16).ok()?;
        if rest.len() < end + 2 + size + 2 {
            break;
        }
        payload.extend_from_slice(&rest[end + 2..end + 2 + size]);
        rest = &rest[end + 2 + size + 2..];
    }
    Some(payload)
}

#[tokio::test]
async fn app_compress_stores_the_settings_for_the_dispatch() {
    let mut app = App::new();
    app.compress(Compression::default().min_size(10));
    assert_eq!(
        app.state_map().get::<Compression>(),
        Some(&Compression::default().min_size(10))
    );
}

#[path = "../../../fuzz/oracle/conditional.rs"]
mod conditional_oracle;

#[test]
fn the_conditional_fuzz_corpus_passes_the_oracle() {
    let dir =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/conditional");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/corpus/conditional") {
        let path = entry.expect("a corpus entry").path();
        conditional_oracle::check(&std::fs::read(&path).expect("a corpus file"));
        seen += 1;
    }
    assert!(seen >= 10, "only {seen} seeds in {dir:?}");
}

mod never_panics {
    use proptest::prelude::*;

    use super::conditional_oracle;

    /// Near-valid tag lists and `Accept-Encoding` values.
    fn header_value() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("\"".to_owned()),
            Just("W/".to_owned()),
            Just(",".to_owned()),
            Just(" ".to_owned()),
            Just("*".to_owned()),
            Just(";q=".to_owned()),
            Just("gzip".to_owned()),
            Just("br".to_owned()),
            Just("identity".to_owned()),
            "[01]\\.[0-9]{0,4}",
            "[ -~]{0,3}",
        ];
        prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #[test]
        fn header_parsers_never_panic(value in header_value()) {
            conditional_oracle::check(value.as_bytes());
        }

        #[test]
        fn header_parsers_never_panic_on_bytes(input in prop::collection::vec(any::<u8>(), 0..48)) {
            conditional_oracle::check(&input);
        }
    }
}
