//! axum 0.8 on tokio's multi-thread runtime (one worker per core).

use axum::{
    body::Body,
    extract::Request,
    http::header,
    response::{IntoResponse, Response},
    routing::{get, post},
    serve::ListenerExt,
    Json, Router,
};
use peer_common::{listen_addr, MESSAGE, PLAINTEXT};

async fn plaintext() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain")], PLAINTEXT)
}

async fn json() -> impl IntoResponse {
    Json(MESSAGE)
}

/// Streams the request body back without buffering it.
async fn echo(req: Request) -> Response {
    Response::new(Body::new(req.into_body()))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> std::io::Result<()> {
    let app = Router::new()
        .route("/", get(plaintext))
        .route("/json", get(json))
        .route("/echo", post(echo));
    let listener = tokio::net::TcpListener::bind(listen_addr()).await?;
    eprintln!("axum listening on {}", listener.local_addr()?);
    // Like every other server here, turn Nagle off: with it on, pipelined
    // responses wait on the client's delayed ACK (~40 ms).
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await
}
