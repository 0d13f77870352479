//! `app.compress(..)` compresses the app's own responses (not only through the
//! `Compress` wrapper), and leaves them alone without it.

use carafe::response::Compression;
use carafe::{get, App};

async fn big() -> String {
    "carafe compresses text. ".repeat(200)
}

fn app(compress: bool) -> App {
    let mut app = App::new();
    app.route("/big", get(big));
    if compress {
        app.compress(Compression::default());
    }
    app
}

#[tokio::test]
async fn app_compress_encodes_big_text_responses() {
    let client = app(true).test_client();
    let response = client
        .get("/big")
        .header("accept-encoding", "gzip")
        .send()
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.header("content-encoding"), Some("gzip"));
    assert_eq!(response.header("vary"), Some("accept-encoding"));
    let body = response.bytes().await;
    assert!(body.len() < 4800, "compressed to {} bytes", body.len());
}

#[tokio::test]
async fn without_compress_or_accept_encoding_the_body_is_plain() {
    let plain = app(false)
        .test_client()
        .get("/big")
        .header("accept-encoding", "gzip")
        .send()
        .await;
    assert_eq!(plain.header("content-encoding"), None);
    let unasked = app(true).test_client().get("/big").send().await;
    assert_eq!(unasked.header("content-encoding"), None);
    assert_eq!(unasked.bytes().await.len(), 4800);
}

/// Not compression, but the same kind of seam: the static folder's endpoint is `static`,
/// so `url_for` builds its URLs.
#[test]
fn static_folder_endpoint_is_static() {
    let dir = std::env::temp_dir();
    let mut app = App::new();
    app.static_folder(dir);
    let url = app.url_for("static", [("filename", "app.css")]);
    assert_eq!(url.ok().as_deref(), Some("/static/app.css"));
}
