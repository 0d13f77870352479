//! HTTPS over real loopback sockets: curl verifying the adhoc certificate for `localhost`
//! and `127.0.0.1`, a certificate pair made by the `openssl` tool, keep-alive, large
//! bodies both ways, a plain-HTTP client on the TLS port, stalled handshakes, an upgrade
//! over TLS with a rustls client, and `run_simple`'s banner.

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use carafe_serve::{
    upgrade, Body, Config, ConnInfo, Request, Response, ShutdownHandle, TcpServer, TlsConfig,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use support::process::ServerProcess;
use support::{quick_config, read_for};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Answers `SCHEME CONNECTION-ID`; `/big` sends 1 MiB; POST echoes its body; `/echo`
/// upgrades to an echo protocol.
async fn app(mut req: Request) -> Response {
    if let Some(on_upgrade) = upgrade::on_upgrade(&mut req) {
        tokio::spawn(async move {
            let Ok(mut upgraded) = on_upgrade.await else {
                return;
            };
            let mut buf = [0u8; 1024];
            while let Ok(len @ 1..) = upgraded.read(&mut buf).await {
                if upgraded.write_all(&buf[..len]).await.is_err() {
                    break;
                }
            }
        });
        let mut response = Response::new(Body::empty());
        *response.status_mut() = http::StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        headers.insert("upgrade", http::HeaderValue::from_static("echo"));
        headers.insert("connection", http::HeaderValue::from_static("upgrade"));
        return response;
    }
    if req.method() == http::Method::POST {
        let body = req
            .into_body()
            .to_bytes(usize::MAX)
            .await
            .unwrap_or_default();
        return Response::new(Body::from(body));
    }
    if req.uri().path() == "/big" {
        return Response::new(Body::from(vec![b'x'; 1024 * 1024]));
    }
    let info = ConnInfo::current().expect("served by carafe-serve");
    Response::new(Body::from(format!("{} {}", info.scheme(), info.id)))
}

/// A TLS server in this test's runtime.
struct TlsServer {
    addr: SocketAddr,
    handle: ShutdownHandle,
    /// The adhoc certificate's PEM file, when it uses one.
    cert: Option<PathBuf>,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

async fn start_tls(tls: TlsConfig, config: Config) -> TlsServer {
    let mut server =
        TcpServer::bind("127.0.0.1:0".parse().expect("literal"), config).expect("bind");
    server.activate().expect("listen");
    server.tls(&tls).expect("load the certificate");
    let server_info = TlsServer {
        addr: server.local_addr(),
        handle: server.shutdown_handle(),
        cert: server.adhoc_cert_path(),
    };
    tokio::spawn(server.serve_forever(app));
    server_info
}

/// Runs curl with `args`; returns (succeeded, stdout, stderr).
async fn curl(args: Vec<String>) -> (bool, String, String) {
    let output = tokio::task::spawn_blocking(move || {
        Command::new("curl")
            .args(["--silent", "--show-error", "--max-time", "10"])
            .args(&args)
            .output()
            .expect("curl is installed (apt-get install curl)")
    })
    .await
    .expect("curl thread");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// curl to `url`, trusting only `cert`.
async fn curl_verified(cert: &Path, urls: &[String]) -> (bool, String, String) {
    let mut args = vec!["--cacert".to_owned(), cert.display().to_string()];
    args.extend(urls.iter().cloned());
    curl(args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_verifies_the_adhoc_certificate_for_localhost_and_127_0_0_1() {
    let server = start_tls(TlsConfig::adhoc(), quick_config()).await;
    let cert = server.cert.clone().expect("an adhoc certificate file");
    let pem = std::fs::read_to_string(&cert).expect("readable certificate");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    assert!(
        !pem.contains("PRIVATE KEY"),
        "the key must not be in the certificate file"
    );
    let port = server.addr.port();
    for host in ["localhost", "127.0.0.1"] {
        let url = format!("https://{host}:{port}/");
        let (ok, out, err) = curl_verified(&cert, &[url]).await;
        assert!(ok, "curl to {host} failed: {err}");
        assert!(out.starts_with("https "), "{out}");
    }
    // Without the certificate, verification fails: the check above is real.
    let (ok, _, err) = curl(vec![format!("https://localhost:{port}/")]).await;
    assert!(!ok, "an untrusted certificate must not verify");
    assert!(err.contains("certificate"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_and_large_bodies_work_both_ways_over_tls() {
    let server = start_tls(TlsConfig::adhoc(), quick_config()).await;
    let cert = server.cert.clone().expect("adhoc certificate");
    let base = format!("https://localhost:{}", server.addr.port());
    // Two URLs in one curl run share the connection: the same connection id answers.
    let (ok, out, err) = curl_verified(&cert, &[format!("{base}/a"), format!("{base}/b")]).await;
    assert!(ok, "{err}");
    let ids: Vec<&str> = out.split("https ").filter(|id| !id.is_empty()).collect();
    assert_eq!(ids.len(), 2, "{out}");
    assert_eq!(ids[0], ids[1], "keep-alive over TLS: {out}");

    let (ok, out, err) = curl_verified(&cert, &[format!("{base}/big")]).await;
    assert!(ok, "{err}");
    assert_eq!(out.len(), 1024 * 1024);

    let upload = std::env::temp_dir().join(format!("carafe-tls-upload-{}", std::process::id()));
    let data: Vec<u8> = (0..300_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    std::fs::write(&upload, &data).expect("write upload");
    let args = vec![
        "--cacert".to_owned(),
        cert.display().to_string(),
        "--data-binary".to_owned(),
        format!("@{}", upload.display()),
        format!("{base}/echo-body"),
    ];
    let (ok, out, err) = curl(args).await;
    let _ = std::fs::remove_file(&upload);
    assert!(ok, "{err}");
    assert_eq!(out.as_bytes(), &data[..], "the body came back whole");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_pair_made_by_openssl_is_served() {
    let dir = std::env::temp_dir().join(format!("carafe-tls-pair-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args([
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("the openssl tool is installed (apt-get install openssl)");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let server = start_tls(TlsConfig::from_pem_files(&cert, &key), quick_config()).await;
    assert_eq!(server.cert, None, "no adhoc certificate");
    let url = format!("https://localhost:{}/", server.addr.port());
    let (ok, out, err) = curl_verified(&cert, &[url]).await;
    let _ = std::fs::remove_dir_all(&dir);
    assert!(ok, "{err}");
    assert!(out.starts_with("https "), "{out}");
}

#[test]
fn missing_or_mismatched_files_are_startup_errors_that_name_them() {
    let mut server =
        TcpServer::bind("127.0.0.1:0".parse().expect("literal"), Config::default()).expect("bind");
    let error = server
        .tls(&TlsConfig::from_pem_files(
            "/nonexistent/cert.pem",
            "/nonexistent/key.pem",
        ))
        .expect_err("missing files");
    assert!(
        error.to_string().contains("/nonexistent/cert.pem"),
        "{error}"
    );

    let dir = std::env::temp_dir().join(format!("carafe-tls-bad-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let not_pem = dir.join("cert.txt");
    std::fs::write(&not_pem, "hello").expect("write");
    let error = server
        .tls(&TlsConfig::from_pem_files(&not_pem, &not_pem))
        .expect_err("no certificate in the file");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(error.to_string().contains("no PEM certificate"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_on_the_tls_port_gets_a_400_naming_https_and_a_close() {
    let server = start_tls(TlsConfig::adhoc(), quick_config()).await;
    let mut plain = TcpStream::connect(server.addr).await.expect("connect");
    plain
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("write");
    let (answer, closed) = read_for(&mut plain, Duration::from_secs(3)).await;
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    assert!(answer.contains("https://"), "{answer}");
    assert!(closed, "the connection must close");
    // The server goes on serving TLS.
    let cert = server.cert.clone().expect("adhoc certificate");
    let url = format!("https://127.0.0.1:{}/", server.addr.port());
    let (ok, _, err) = curl_verified(&cert, &[url]).await;
    assert!(ok, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_and_garbage_handshakes_are_closed_without_harm() {
    let server = start_tls(TlsConfig::adhoc(), quick_config()).await;
    // A handshake record header and then silence: closed at the header deadline (500 ms).
    let mut stalled = TcpStream::connect(server.addr).await.expect("connect");
    stalled.write_all(&[0x16, 0x03, 0x01]).await.expect("write");
    let started = std::time::Instant::now();
    let (_, closed) = read_for(&mut stalled, Duration::from_secs(5)).await;
    assert!(closed, "a stalled handshake must be closed");
    assert!(started.elapsed() < Duration::from_secs(4));
    // A handshake record full of junk: rustls refuses it, the connection closes.
    let mut junk = TcpStream::connect(server.addr).await.expect("connect");
    let mut record = vec![0x16, 0x03, 0x01, 0x00, 0x20];
    record.extend([0xAB; 32]);
    junk.write_all(&record).await.expect("write");
    let (_, closed) = read_for(&mut junk, Duration::from_secs(3)).await;
    assert!(closed, "a junk handshake must be closed");
    let cert = server.cert.clone().expect("adhoc certificate");
    let url = format!("https://localhost:{}/", server.addr.port());
    let (ok, _, err) = curl_verified(&cert, &[url]).await;
    assert!(ok, "the server still serves: {err}");
}

/// A rustls client that trusts only `cert`, offering ALPN `http/1.1`.
fn tls_connector(cert: &Path) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for der in CertificateDer::pem_file_iter(cert).expect("open certificate") {
        roots
            .add(der.expect("a PEM certificate"))
            .expect("a usable root");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("default versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgraded_connection_speaks_over_tls() {
    let server = start_tls(TlsConfig::adhoc(), quick_config()).await;
    let cert = server.cert.clone().expect("adhoc certificate");
    let tcp = TcpStream::connect(server.addr).await.expect("connect");
    let name = ServerName::try_from("localhost").expect("a DNS name");
    let mut tls = tls_connector(&cert)
        .connect(name, tcp)
        .await
        .expect("handshake verifies the adhoc certificate");
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let request =
        b"GET /echo HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n";
    tls.write_all(&[&request[..], b"early"].concat())
        .await
        .expect("write");
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).contains("early") {
        let read = tokio::time::timeout(Duration::from_secs(5), tls.read(&mut buf))
            .await
            .expect("an answer in time")
            .expect("read");
        assert!(read > 0, "closed early: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..read]);
    }
    let text = String::from_utf8_lossy(&seen);
    assert!(text.starts_with("HTTP/1.1 101 "), "{text}");
    assert!(
        text.ends_with("\r\n\r\nearly"),
        "bytes sent with the head are echoed: {text}"
    );
    tls.write_all(b"after the upgrade").await.expect("write");
    let mut echoed = vec![0u8; b"after the upgrade".len()];
    tokio::time::timeout(Duration::from_secs(5), tls.read_exact(&mut echoed))
        .await
        .expect("echo in time")
        .expect("read echo");
    assert_eq!(&echoed, b"after the upgrade");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_simple_banner_says_https_and_names_a_certificate_curl_trusts() {
    let server = ServerProcess::start(&["--port", "0", "--cert", "adhoc", "--processes", "2"]);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let (port, cert) = loop {
        let text = server.stderr();
        let port = text
            .lines()
            .find_map(|line| line.strip_prefix(" * Running on https://127.0.0.1:"))
            .and_then(|port| port.trim().parse::<u16>().ok());
        let cert = text.lines().find_map(|line| {
            line.split_once("::1: ")
                .map(|(_, path)| path.trim().to_owned())
        });
        if let (Some(port), Some(cert)) = (port, cert) {
            break (port, PathBuf::from(cert));
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no https banner:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // Both worker processes serve the parent's certificate, and know the scheme.
    for _ in 0..6 {
        let url = format!("https://localhost:{port}/scheme");
        let (ok, out, err) = curl_verified(&cert, &[url]).await;
        assert!(ok, "{err}\n{}", server.stderr());
        assert_eq!(out, "https");
    }
    // A graceful stop removes the certificate's files.
    let mut server = server;
    server.signal(nix::sys::signal::Signal::SIGTERM);
    let status = server.exit_within(Duration::from_secs(15)).await;
    assert!(
        status.is_some(),
        "the server did not stop:\n{}",
        server.stderr()
    );
    assert!(!cert.exists(), "{} is left behind", cert.display());
}
