//! Raw hyper 1.x, HTTP/1 only: a tokio accept loop, one task per connection.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{Either, Full};
use hyper::{
    body::Incoming,
    header::{HeaderValue, CONTENT_TYPE},
    server::conn::http1,
    service::service_fn,
    Method, Request, Response, StatusCode,
};
use hyper_util::rt::TokioIo;
use peer_common::{listen_addr, MESSAGE, PLAINTEXT};
use tokio::net::TcpListener;

/// A fixed body, or the request body streamed back (`/echo`).
type Body = Either<Full<Bytes>, Incoming>;

fn full(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Body> {
    let mut res = Response::new(Either::Left(Full::new(body)));
    *res.status_mut() = status;
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

async fn handle(req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let res = match (req.method(), req.uri().path()) {
        (&Method::GET, "/") => full(StatusCode::OK, "text/plain", Bytes::from_static(PLAINTEXT.as_bytes())),
        (&Method::GET, "/json") => {
            let body = serde_json::to_vec(&MESSAGE).expect("a static struct serialises");
            full(StatusCode::OK, "application/json", body.into())
        }
        (&Method::POST, "/echo") => Response::new(Either::Right(req.into_body())),
        _ => full(StatusCode::NOT_FOUND, "text/plain", Bytes::from_static(b"Not Found")),
    };
    Ok(res)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind(listen_addr()).await?;
    eprintln!("hyper listening on {}", listener.local_addr()?);
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(conn) => conn,
            Err(err) => {
                // EMFILE and friends: back off instead of spinning.
                eprintln!("accept: {err}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = http1::Builder::new()
                .pipeline_flush(true)
                .serve_connection(TokioIo::new(stream), service_fn(handle))
                .await;
        });
    }
}
