//! actix-web 4 with one worker per core.

use actix_web::{web, App, HttpResponse, HttpServer};
use peer_common::{listen_addr, MESSAGE, PLAINTEXT};

async fn plaintext() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain")
        .body(PLAINTEXT)
}

async fn json() -> HttpResponse {
    HttpResponse::Ok().json(MESSAGE)
}

/// Streams the request body back without buffering it.
async fn echo(body: web::Payload) -> HttpResponse {
    HttpResponse::Ok().streaming(body)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let addr = listen_addr();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    eprintln!("actix listening on {addr} with {workers} workers");
    HttpServer::new(|| {
        App::new()
            .route("/", web::get().to(plaintext))
            .route("/json", web::get().to(json))
            .route("/echo", web::post().to(echo))
    })
    .workers(workers)
    .bind(addr)?
    .run()
    .await
}
