//! A `run_simple` server that answers every request with its process id, for the
//! process-level tests (`tests/run.rs`, `tests/prefork.rs`, `tests/tls.rs`): with
//! `--processes N` each answer says which worker served it; `/scheme` answers `http` or
//! `https`. `--cert adhoc` or `--cert FILE --key FILE` serve HTTPS.
//!
//! ```text
//! cargo run -p carafe-serve --example serve_hello -- --port 0 --processes 2
//! ```

use carafe_serve::{run_simple, Body, ConnInfo, Request, Response, TlsConfig};

async fn app(req: Request) -> Response {
    if req.uri().path() == "/scheme" {
        let scheme = ConnInfo::current().map_or("none", |info| info.scheme());
        return Response::new(Body::from(scheme));
    }
    Response::new(Body::from(std::process::id().to_string()))
}

fn main() {
    let mut host = "127.0.0.1".to_owned();
    let mut port = 5000;
    let mut processes = 1;
    let mut access_log = true;
    let (mut cert, mut key) = (None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--host" => host = args.next().unwrap_or(host),
            "--port" => port = args.next().and_then(|p| p.parse().ok()).unwrap_or(port),
            "--processes" => {
                processes = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(processes)
            }
            "--no-access-log" => access_log = false,
            "--cert" => cert = args.next(),
            "--key" => key = args.next(),
            other => eprintln!("ignoring unknown argument {other}"),
        }
    }
    let mut run = run_simple(app)
        .host(host)
        .port(port)
        .processes(processes)
        .access_log(access_log);
    match (cert.as_deref(), key) {
        (Some("adhoc"), _) => run = run.tls(TlsConfig::adhoc()),
        (Some(cert), Some(key)) => run = run.tls(TlsConfig::from_pem_files(cert, key)),
        _ => {}
    }
    let served = run.serve();
    if let Err(error) = served {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}
