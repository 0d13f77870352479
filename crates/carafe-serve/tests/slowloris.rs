//! Deadlines over real sockets: a client trickling its head a byte at a time gets 408 and
//! a closed connection once the header deadline passes, while other clients are served;
//! idle and silent connections are closed without an answer.

mod support;

use std::time::{Duration, Instant};

use carafe_serve::{Config, Request, Response};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn app(req: Request) -> Response {
    answer(200, format!("served {}", req.uri().path()))
}

fn deadlines() -> Config {
    let mut config = quick_config();
    config.timeouts.header_read = Duration::from_secs(1);
    config.timeouts.idle = Duration::from_millis(500);
    config
}

/// Sends `GET /slow` one byte every 200 ms until the server answers or closes; returns what
/// it read, whether it saw the close, and how long after connecting the answer began.
async fn trickle(addr: std::net::SocketAddr) -> (String, bool, Duration) {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let started = Instant::now();
    let (mut reader, mut writer) = stream.into_split();
    let read_all = tokio::spawn(async move {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        let mut first_byte_at = None;
        let closed = loop {
            match tokio::time::timeout(PATIENCE, reader.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break true,
                Ok(Ok(len)) => {
                    first_byte_at.get_or_insert_with(|| started.elapsed());
                    out.extend_from_slice(&buf[..len]);
                }
                Err(_) => break false,
            }
        };
        (
            String::from_utf8_lossy(&out).into_owned(),
            closed,
            first_byte_at.unwrap_or_default(),
        )
    });
    let request = b"GET /slow HTTP/1.1\r\nHost: a\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    for byte in request {
        if read_all.is_finished() || writer.write_all(&[*byte]).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    read_all.await.expect("reader task")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn byte_a_time_client_gets_408_at_the_header_deadline_while_others_are_served() {
    let server = start_server(app, deadlines()).await;
    let slow = tokio::spawn(trickle(server.addr));
    // Meanwhile, other clients are served at once, again and again.
    for i in 0..5 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let began = Instant::now();
        let mut client = Client::connect(server.addr).await;
        let resp = client
            .request(format!("GET /fast/{i} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes())
            .await;
        assert_eq!(
            (resp.status, resp.text()),
            (200, format!("served /fast/{i}"))
        );
        assert!(
            began.elapsed() < Duration::from_millis(500),
            "a fast client waited {:?}",
            began.elapsed()
        );
    }
    let (text, closed, answered_after) = slow.await.expect("trickle task");
    assert_eq!(status_of(&text), 408, "{text:?}");
    assert!(
        text.to_ascii_lowercase().contains("connection: close"),
        "{text:?}"
    );
    assert!(closed, "the slow client's connection stayed open");
    assert!(
        answered_after >= Duration::from_millis(900)
            && answered_after < Duration::from_millis(2500),
        "answered {answered_after:?} after connecting, with a 1 s header deadline"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_idle_past_the_idle_timeout_is_closed_silently() {
    let server = start_server(app, deadlines()).await;
    let mut client = Client::connect(server.addr).await;
    let resp = client.request(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
    assert_eq!(resp.status, 200);
    let idle_since = Instant::now();
    assert!(
        !client.closed_within(Duration::from_millis(300)).await,
        "closed before the idle timeout"
    );
    assert!(
        client.closed_within(Duration::from_secs(2)).await,
        "idle connection left open"
    );
    let closed_after = idle_since.elapsed();
    assert!(
        closed_after >= Duration::from_millis(450),
        "closed after {closed_after:?}"
    );
    assert_eq!(client.leftover(), "", "an idle close sends nothing");
    assert!(wait_until(Duration::from_secs(1), || server.registry.is_empty()).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_that_never_sends_is_closed_silently_at_the_header_deadline() {
    let server = start_server(app, deadlines()).await;
    let mut client = Client::connect(server.addr).await;
    let connected = Instant::now();
    assert!(
        client.closed_within(Duration::from_secs(3)).await,
        "silent connection left open"
    );
    let closed_after = connected.elapsed();
    assert!(
        closed_after >= Duration::from_millis(900),
        "closed after {closed_after:?}"
    );
    assert_eq!(client.leftover(), "", "a silent connection gets no answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_second_request_on_a_kept_alive_connection_gets_408() {
    let server = start_server(app, deadlines()).await;
    let mut client = Client::connect(server.addr).await;
    assert_eq!(
        client
            .request(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            .await
            .status,
        200
    );
    client.send(b"GET /second HTTP/1.1\r\n").await;
    let started = Instant::now();
    // The second head has begun; its header deadline (1 s), not the idle timeout, applies.
    let resp = client
        .read_response(false, Duration::from_secs(3))
        .await
        .expect("an answer");
    assert_eq!(resp.status, 408, "{resp:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "answered after {:?}",
        started.elapsed()
    );
    assert!(resp.says_close());
    assert!(client.closed_within(Duration::from_secs(1)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_body_gets_408_at_the_body_deadline() {
    let echo = |req: Request| async move {
        match req.into_body().to_bytes(usize::MAX).await {
            Ok(bytes) => answer(200, bytes),
            Err(error) => answer(400, error.to_string()),
        }
    };
    let server = start_server(echo, deadlines()).await;
    let mut client = Client::connect(server.addr).await;
    client
        .send(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234")
        .await;
    let started = Instant::now();
    let resp = client
        .read_response(false, Duration::from_secs(3))
        .await
        .expect("an answer");
    assert_eq!(resp.status, 408, "{resp:?}");
    // quick_config's body deadline is 500 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "answered after {:?}",
        started.elapsed()
    );
    assert!(resp.says_close());
    assert!(client.closed_within(Duration::from_secs(1)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_that_stops_reading_a_large_answer_is_dropped_after_the_idle_timeout() {
    let piece = bytes::Bytes::from(vec![b'x'; 64 * 1024]);
    let huge = move |_req: Request| {
        let piece = piece.clone();
        async move { Response::new(streamed_body(std::iter::repeat_n(piece, 4096))) }
    };
    let server = start_server(huge, deadlines()).await;
    let mut client = Client::connect(server.addr).await;
    client.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
    // The client never reads: the server's writes stall once the socket buffers are full.
    let registry = server.registry.clone();
    // Under load the accept can lag: an empty registry must mean "dropped", not "not yet".
    let accepted = wait_until(Duration::from_secs(5), || !registry.is_empty()).await;
    assert!(accepted, "the connection was never accepted");
    let dropped = wait_until(Duration::from_secs(5), || registry.is_empty()).await;
    assert!(
        dropped,
        "a client that stopped reading still holds {:?}",
        registry.connections()
    );
    // What it does read afterwards ends early: 256 MiB were never sent.
    let mut total = 0usize;
    let mut buf = vec![0u8; 256 * 1024];
    while let Ok(Ok(read)) =
        tokio::time::timeout(Duration::from_secs(2), client.stream.read(&mut buf)).await
    {
        if read == 0 {
            break;
        }
        total += read;
    }
    assert!(total < 64 * 1024 * 1024, "read {total} bytes");
}
