//! A `run_simple` server that answers every request with its process id, for the
//! process-level tests (`tests/run.rs`, `tests/prefork.rs`): with `--processes N` each
//! answer says which worker served it.
//!
//! ```text
//! cargo run -p carafe-serve --example serve_hello -- --port 0 --processes 2
//! ```

use carafe_serve::{run_simple, Body, Request, Response};

async fn app(_req: Request) -> Response {
    Response::new(Body::from(std::process::id().to_string()))
}

fn main() {
    let mut host = "127.0.0.1".to_owned();
    let mut port = 5000;
    let mut processes = 1;
    let mut access_log = true;
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
            other => eprintln!("ignoring unknown argument {other}"),
        }
    }
    let served = run_simple(app)
        .host(host)
        .port(port)
        .processes(processes)
        .access_log(access_log)
        .serve();
    if let Err(error) = served {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}
