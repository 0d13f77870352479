//! The client's address and URL over real sockets, with and without `ProxyFix`: forged
//! `X-Forwarded-*` headers are ignored unless trusted, and only the trusted number of
//! `X-Forwarded-For` hops from the right is ever believed.

mod support;

use carafe::extract::{ClientAddr, ProxyFix, RequestUrl};
use carafe::{get, App};
use support::curl::curl_at;
use support::start_server;

async fn whoami(ClientAddr(ip): ClientAddr, url: RequestUrl) -> String {
    format!("{ip} {} secure={}", url.url_root(), url.is_secure())
}

async fn server(fix: Option<ProxyFix>) -> support::TestServer {
    let mut app = App::new();
    if let Some(fix) = fix {
        app.proxy_fix(fix);
    }
    app.route("/me", get(whoami));
    start_server(app).await
}

async fn ask(server: &support::TestServer, headers: &[&str]) -> String {
    let scratch = tempfile::tempdir().expect("scratch dir");
    let mut args = Vec::new();
    for header in headers {
        args.extend(["-H", *header]);
    }
    let reply = curl_at(server.addr, "/me", &args, scratch.path()).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.text()
}

#[tokio::test]
async fn without_proxy_fix_forwarded_headers_are_ignored() {
    let server = server(None).await;
    let body = ask(
        &server,
        &[
            "x-forwarded-for: 6.6.6.6",
            "x-forwarded-proto: https",
            "x-forwarded-host: evil.test",
            "host: app.test",
        ],
    )
    .await;
    assert_eq!(body, "127.0.0.1 http://app.test/ secure=false");
}

#[tokio::test]
async fn one_trusted_proxy_believes_only_the_last_hop() {
    let server = server(Some(ProxyFix::new().x_for(1))).await;
    // The client forged the first two values; the proxy appended the third.
    let body = ask(&server, &["x-forwarded-for: 6.6.6.6, 7.7.7.7, 203.0.113.9"]).await;
    assert!(body.starts_with("203.0.113.9 "), "{body}");
    // A forged header line before the proxy's own: still the last value.
    let body = ask(
        &server,
        &["x-forwarded-for: 6.6.6.6", "x-forwarded-for: 203.0.113.9"],
    )
    .await;
    assert!(body.starts_with("203.0.113.9 "), "{body}");
    let body = ask(&server, &["x-forwarded-for: not-an-ip"]).await;
    assert!(
        body.starts_with("127.0.0.1 "),
        "malformed falls back to the peer: {body}"
    );
}

#[tokio::test]
async fn two_trusted_proxies_never_reach_further_left() {
    let server = server(Some(ProxyFix::new().x_for(2))).await;
    let body = ask(
        &server,
        &["x-forwarded-for: 6.6.6.6, 198.51.100.7, 10.0.0.3"],
    )
    .await;
    assert!(body.starts_with("198.51.100.7 "), "{body}");
    let body = ask(&server, &["x-forwarded-for: 10.0.0.3"]).await;
    assert!(body.starts_with("127.0.0.1 "), "too few hops: {body}");
}

#[tokio::test]
async fn trusted_proto_host_and_prefix_build_the_external_root() {
    let fix = ProxyFix::new().x_for(1).x_proto(1).x_host(1).x_prefix(1);
    let server = server(Some(fix)).await;
    let body = ask(
        &server,
        &[
            "x-forwarded-for: 203.0.113.9",
            "x-forwarded-proto: https",
            "x-forwarded-host: evil.test, shop.example.com",
            "x-forwarded-prefix: /shop",
        ],
    )
    .await;
    assert_eq!(
        body,
        "203.0.113.9 https://shop.example.com/shop/ secure=true"
    );
}
