//! Smoke test: GET, a sized POST and a chunked POST pipelined on one keep-alive connection.

mod support;

use std::time::Duration;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_post_and_keep_alive_work() {
    let server = start_server(echo_app, quick_config()).await;
    let (text, closed) = exchange(
        server.addr,
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST /e HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcPOST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n",
        Duration::from_millis(300),
    )
    .await;
    assert!(!closed, "{text}");
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 3, "{text}");
    assert!(text.contains("\r\n\r\nhello"));
    assert!(text.contains("\r\n\r\nabc"));
    assert!(text.ends_with("\r\n\r\nxy"), "{text}");
}
