//! Hello, World! in carafe, the app the benchmark harness runs.
//!
//! ```text
//! cargo run --release --example hello -- --host 127.0.0.1 --port 8082 [--no-access-log]
//! ```

use carafe::{get, post, App, Body, Json, Path};
use serde::Serialize;

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

async fn index() -> &'static str {
    "Hello, World!"
}

async fn json() -> Json<Message> {
    Json(Message {
        message: "Hello, World!",
    })
}

/// Streams the request body back as it arrives.
async fn echo(body: Body) -> Body {
    body
}

async fn item(Path(id): Path<u64>) -> String {
    format!("item {id}")
}

fn main() -> Result<(), carafe::Error> {
    let mut app = App::new();
    app.route("/", get(index));
    app.route("/json", get(json));
    app.route("/echo", post(echo));
    app.route("/items/<int:id>", get(item));
    carafe::cli::run(app)
}
