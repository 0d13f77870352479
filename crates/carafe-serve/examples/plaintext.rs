//! The bare gateway: `GET /`, `GET /json` and `POST /echo` answered by one closure, with no
//! routing layer. The benchmark harness uses it to measure what the serving layer alone
//! costs (`carafe`'s App adds routing and extractors on top).
//!
//! ```text
//! cargo run --release -p carafe-serve --example plaintext -- --host 127.0.0.1 --port 8082
//! ```

use carafe_serve::{run_simple, Body, Request, Response};
use http::header::{HeaderValue, CONTENT_TYPE};

async fn app(req: Request) -> Response {
    let (content_type, body) = match (req.method(), req.uri().path()) {
        (&http::Method::GET, "/") => ("text/plain", Body::from("Hello, World!")),
        (&http::Method::GET, "/json") => (
            "application/json",
            Body::from(r#"{"message":"Hello, World!"}"#),
        ),
        (&http::Method::POST, "/echo") => ("application/octet-stream", req.into_body()),
        _ => {
            let mut response = Response::new(Body::from("Not Found"));
            *response.status_mut() = http::StatusCode::NOT_FOUND;
            return response;
        }
    };
    let mut response = Response::new(body);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn main() -> Result<(), carafe_serve::Error> {
    let mut host = "127.0.0.1".to_owned();
    let mut port = 8082;
    let mut access_log = true;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--host" => host = args.next().unwrap_or(host),
            "--port" => port = args.next().and_then(|p| p.parse().ok()).unwrap_or(port),
            "--no-access-log" => access_log = false,
            other => eprintln!("ignoring unknown argument {other}"),
        }
    }
    run_simple(app)
        .host(host)
        .port(port)
        .access_log(access_log)
        .serve()
}
