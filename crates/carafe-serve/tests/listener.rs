//! The TCP layer's socket options over real sockets: IPv6, port 0, `SO_REUSEPORT`,
//! bind before listen, and the connection info handed to handlers.

mod support;

use std::time::Duration;

use carafe_serve::{Body, Config, ConnInfo, Listener, Request, Response, TcpServer};
use support::*;

async fn peer_echo(_req: Request) -> Response {
    let info = ConnInfo::current().expect("served by carafe-serve");
    Response::new(Body::from(format!(
        "{} {}",
        info.peer_addr, info.local_addr
    )))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_loopback_is_served_with_an_ephemeral_port() {
    let mut server = match TcpServer::bind("[::1]:0".parse().expect("literal"), quick_config()) {
        Ok(server) => server,
        // A machine without IPv6 cannot run this test; say so instead of failing.
        Err(error) => return eprintln!("skipping: no IPv6 loopback here ({error})"),
    };
    server.activate().expect("listen");
    let addr = server.local_addr();
    assert!(addr.is_ipv6());
    assert_ne!(addr.port(), 0);
    let handle = server.shutdown_handle();
    let task = tokio::spawn(server.serve_forever(peer_echo));
    let (text, _) = exchange(
        addr,
        b"GET / HTTP/1.1\r\nHost: [::1]\r\nConnection: close\r\n\r\n",
        Duration::from_secs(2),
    )
    .await;
    assert_eq!(status_of(&text), 200, "{text}");
    assert!(text.contains(&format!("[::1]:{}", addr.port())), "{text}");
    handle.shutdown();
    task.await.expect("join").expect("serve");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_see_the_peer_and_local_addresses() {
    let server = start_server(peer_echo, quick_config()).await;
    let mut client = Client::connect(server.addr).await;
    let local = client.stream.local_addr().expect("local addr");
    let resp = client.request(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
    assert_eq!(resp.text(), format!("{local} {}", server.addr));
}

#[test]
fn reuse_port_lets_two_sockets_bind_one_port() {
    let first = Listener::bind("127.0.0.1:0".parse().expect("literal"), 16, true).expect("bind");
    first.activate().expect("listen");
    let port = first.local_addr().port();
    let addr = format!("127.0.0.1:{port}").parse().expect("literal");
    let second = Listener::bind(addr, 16, true).expect("second bind with SO_REUSEPORT");
    second.activate().expect("listen");
    assert_eq!(second.local_addr().port(), port);
}

#[test]
fn without_reuse_port_a_taken_port_is_refused_clearly() {
    let first = Listener::bind("127.0.0.1:0".parse().expect("literal"), 16, false).expect("bind");
    first.activate().expect("listen");
    let addr = first.local_addr();
    let error = Listener::bind(addr, 16, false).expect_err("port is taken");
    assert!(error.is_addr_in_use(), "{error}");
    assert!(error.to_string().contains("already in use"), "{error}");
}

#[test]
fn connections_are_refused_between_bind_and_activate() {
    let mut config = Config::default();
    config.backlog = 7;
    let server = TcpServer::bind("127.0.0.1:0".parse().expect("literal"), config).expect("bind");
    // Bound but not listening: `bind` and `activate` are separate steps, as in
    // socketserver's server_bind and server_activate.
    let refused =
        std::net::TcpStream::connect_timeout(&server.local_addr(), Duration::from_secs(1));
    assert!(refused.is_err(), "connected before activate");
}
