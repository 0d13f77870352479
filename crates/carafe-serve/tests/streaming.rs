//! Streaming over a real socket: a 50 MB request body reaches the handler chunk by chunk
//! without the server's memory growing with it, and a streamed response body of unknown
//! length arrives chunked, complete, and frame by frame as it is produced.

mod support;

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use carafe_serve::{Body, Request, Response};
use support::*;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

const UPLOAD: u64 = 50 * 1024 * 1024;

/// The process's resident set size in bytes, from `/proc/self/status`.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .expect("VmRSS line");
    kib * 1024
}

/// Counts the body's bytes chunk by chunk; answers `bytes chunks largest-chunk`.
async fn count_body(req: Request) -> Response {
    let mut body = req.into_body();
    let (mut total, mut chunks, mut largest) = (0usize, 0usize, 0usize);
    while let Some(chunk) = body.chunk().await {
        match chunk {
            Ok(chunk) => {
                total += chunk.len();
                chunks += 1;
                largest = largest.max(chunk.len());
            }
            Err(error) => return answer(400, error.to_string()),
        }
    }
    answer(200, format!("{total} {chunks} {largest}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_megabyte_upload_is_read_in_chunks_with_bounded_memory() {
    let mut config = quick_config();
    config.limits.max_body_bytes = 64 * 1024 * 1024;
    config.timeouts.body_read = Duration::from_secs(5);
    let server = start_server(count_body, config).await;
    let mut client = Client::connect(server.addr).await;
    let warm_up = client
        .request(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc")
        .await;
    assert_eq!(warm_up.text(), "3 1 3");

    let baseline = rss_bytes();
    let peak = Arc::new(AtomicU64::new(baseline));
    let sampler = {
        let peak = Arc::clone(&peak);
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss_bytes(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    client
        .send(format!("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {UPLOAD}\r\n\r\n").as_bytes())
        .await;
    let piece = vec![b'u'; 64 * 1024];
    let upload = async {
        for _ in 0..UPLOAD / piece.len() as u64 {
            client.stream.write_all(&piece).await.expect("upload");
        }
    };
    tokio::time::timeout(Duration::from_secs(60), upload)
        .await
        .expect("upload timed out");
    let resp = client.response().await;
    sampler.abort();
    peak.fetch_max(rss_bytes(), Ordering::Relaxed);

    assert_eq!(resp.status, 200, "{resp:?}");
    let text = resp.text();
    let fields: Vec<u64> = text
        .split(' ')
        .map(|n| n.parse().expect("number"))
        .collect();
    assert_eq!(fields[0], UPLOAD, "{text}");
    assert!(fields[1] > 50, "the body came in {} chunks", fields[1]);
    assert!(fields[2] <= 1024 * 1024, "a chunk of {} bytes", fields[2]);
    let growth = peak.load(Ordering::Relaxed).saturating_sub(baseline);
    assert!(
        growth < 20 * 1024 * 1024,
        "memory grew by {} KiB during a 50 MiB upload",
        growth / 1024
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_response_of_many_chunks_arrives_chunked_and_complete() {
    let app = |_req: Request| async {
        Response::new(streamed_body((0..1000).map(|i| format!("chunk-{i:04}\n"))))
    };
    let server = start_server(app, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    let resp = client.request(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.delimited, Delimited::Chunked, "{:?}", resp.headers);
    let expected: String = (0..1000).map(|i| format!("chunk-{i:04}\n")).collect();
    assert_eq!(resp.text(), expected);
    assert!(resp.chunks > 1, "one chunk only");
    assert!(!client.closed_within(Duration::from_millis(100)).await);
    assert_eq!(client.leftover(), "");
}

/// A response body fed from a channel, to control when each chunk is produced.
struct ChannelStream(mpsc::Receiver<Bytes>);

impl futures_core::Stream for ChannelStream {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|item| item.map(Ok))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_streamed_chunk_reaches_the_client_before_the_next_is_produced() {
    let (feed, rx) = mpsc::channel::<Bytes>(1);
    let rx = Arc::new(std::sync::Mutex::new(Some(rx)));
    let app = move |_req: Request| {
        let rx = rx.lock().expect("lock").take();
        async move {
            match rx {
                Some(rx) => Response::new(Body::from_stream(ChannelStream(rx))),
                None => answer(500, "one stream only"),
            }
        }
    };
    let server = start_server(app, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    client.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
    let mut seen = String::new();
    for i in 0..5 {
        let event = format!("data: {i}\n\n");
        feed.send(Bytes::from(event.clone())).await.expect("feed");
        // Without the next chunk, the client must already be able to read this one.
        let arrived = wait_for_text(&mut client, &event).await;
        assert!(arrived, "event {i} did not arrive on its own");
        seen.push_str(&event);
    }
    drop(feed);
    let resp = client.response().await;
    assert_eq!(resp.delimited, Delimited::Chunked);
    assert_eq!(resp.text(), seen);
}

/// Reads until `needle` has arrived (in the raw bytes), for up to two seconds.
async fn wait_for_text(client: &mut Client, needle: &str) -> bool {
    // Peek at the socket without consuming: the bytes stay for `response()` later.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    let mut buf = vec![0u8; 64 * 1024];
    while tokio::time::Instant::now() < deadline {
        let peeked =
            tokio::time::timeout(Duration::from_millis(50), client.stream.peek(&mut buf)).await;
        if let Ok(Ok(len)) = peeked {
            if String::from_utf8_lossy(&buf[..len]).contains(needle) {
                return true;
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    false
}
