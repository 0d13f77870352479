//! `run_simple` as a process (the `serve_hello` example): it prints Werkzeug's banner with
//! the real port, serves, stops gracefully on `SIGTERM`, and exits non-zero with a clear
//! message when its port is already in use.

mod support;

use std::time::Duration;

use nix::sys::signal::Signal;
use support::process::ServerProcess;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn banner_names_the_real_port_and_the_server_answers() {
    let mut server = ServerProcess::start(&["--port", "0"]);
    let port = server.port().await;
    assert_ne!(port, 0);
    let stderr = server.stderr();
    assert!(stderr.contains("Press CTRL+C to quit"), "{stderr}");
    let mut client = Client::connect(([127, 0, 0, 1], port).into()).await;
    let resp = client.request(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
    assert_eq!((resp.status, resp.text()), (200, server.pid().to_string()));
    drop(client);
    server.signal(Signal::SIGTERM);
    let status = server
        .exit_within(Duration::from_secs(5))
        .await
        .expect("exit after SIGTERM");
    assert!(status.success(), "{status}; stderr:\n{}", server.stderr());
    // One access line per request, in Werkzeug's format:
    // 127.0.0.1 - - [22/Nov/2026 05:01:50] "GET / HTTP/1.1" 200 5
    let stderr = server.stderr();
    let line = stderr
        .lines()
        .find(|line| line.contains("\"GET / HTTP/1.1\" 200"))
        .unwrap_or_else(|| panic!("no access line in:\n{stderr}"));
    assert!(line.starts_with("127.0.0.1 - - ["), "{line}");
    assert!(
        line.ends_with(&format!(" {}", server.pid().to_string().len())),
        "{line}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_idle_connections_and_exits_cleanly() {
    let mut server = ServerProcess::start(&["--port", "0"]);
    let port = server.port().await;
    let mut client = Client::connect(([127, 0, 0, 1], port).into()).await;
    // A kept-alive connection that is idle when the signal arrives is closed, not answered.
    assert_eq!(
        client
            .request(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            .await
            .status,
        200
    );
    server.signal(Signal::SIGTERM);
    assert!(
        client.closed_within(Duration::from_secs(3)).await,
        "idle connection left open"
    );
    let status = server
        .exit_within(Duration::from_secs(5))
        .await
        .expect("exit after SIGTERM");
    assert!(status.success(), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_already_in_use_exits_non_zero_with_a_clear_message() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let port = taken.local_addr().expect("local addr").port().to_string();
    let mut server = ServerProcess::start(&["--port", &port]);
    let status = server
        .exit_within(Duration::from_secs(10))
        .await
        .expect("exits on its own");
    assert!(!status.success(), "{status}");
    // The stderr reader may lag the exit by a moment.
    let said = wait_until(Duration::from_secs(2), || {
        server.stderr().contains("already in use")
    })
    .await;
    assert!(said, "stderr:\n{}", server.stderr());
    assert!(
        server.stderr().contains(&port),
        "the message names the port:\n{}",
        server.stderr()
    );
    drop(taken);
}
