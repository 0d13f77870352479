//! The auction's HTTP side and its Socket.IO refusals, in-process through carafe's test
//! client and carafe-socketio's: accounts, CSRF, upload checks, images with ETags.

use auction::{build, Options};
use carafe::testing::{MultipartForm, TestClient};
use carafe::StatusCode;
use serde_json::{json, Value};

const PASSWORD: &str = "correct horse";
/// The first bytes of a PNG are all the server checks.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR fake but sniffable";

struct Site {
    client: TestClient,
    sio: carafe_socketio::SocketIo,
    _data: tempfile::TempDir,
}

fn site() -> Site {
    let data = tempfile::tempdir().expect("temp dir");
    let options = Options {
        data: data.path().to_path_buf(),
        demo: false,
        origins: vec!["http://127.0.0.1:8082".into()],
    };
    let (app, sio) = build(&options).expect("build");
    Site {
        client: app.test_client(),
        sio,
        _data: data,
    }
}

/// The CSRF token in a page's first form.
async fn token(client: &TestClient, path: &str) -> String {
    let html = client.get(path).await.text().await;
    let marker = "name=\"csrf_token\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("a CSRF field in {path}: {html}"))
        + marker.len();
    let end = html[start..].find('"').expect("closing quote") + start;
    html[start..end].to_owned()
}

async fn sign_up(client: &TestClient, name: &str) -> carafe::testing::TestResponse {
    let csrf = token(client, "/signup").await;
    client
        .post("/signup")
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", name),
            ("password", PASSWORD),
        ])
        .await
}

fn listing(csrf: &str, file: (&str, &str, Vec<u8>)) -> MultipartForm {
    MultipartForm::new()
        .text("csrf_token", csrf)
        .text("title", "Brass lamp")
        .text("description", "Works.")
        .text("start_price", "12.50")
        .text("duration", "2")
        .text("unit", "hours")
        .file("image", file.0, file.1, file.2)
}

#[tokio::test]
async fn signing_up_logs_in_with_a_welcome() {
    let site = site();
    let answer = sign_up(&site.client, "ana").await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let home = site.client.get("/").await.text().await;
    assert!(
        home.contains("Welcome, ana! Your account is ready."),
        "{home}"
    );
    assert!(home.contains("Sell an item"), "{home}");
}

#[tokio::test]
async fn a_taken_or_bad_name_is_refused_with_a_message() {
    let site = site();
    assert_eq!(
        sign_up(&site.client, "ana").await.status(),
        StatusCode::SEE_OTHER
    );
    let csrf = token(&site.client, "/").await;
    site.client
        .post("/logout")
        .form(&[("csrf_token", csrf.as_str())])
        .await;
    // Names ignore ASCII case: "ANA" is the same user as "ana".
    let taken = sign_up(&site.client, "ANA").await;
    assert_eq!(taken.status(), StatusCode::BAD_REQUEST);
    assert!(taken.text().await.contains("That user name is taken"));
    let bad = sign_up(&site.client, "a b").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(bad.text().await.contains("Pick a user name"));
}

#[tokio::test]
async fn logging_in_checks_the_password() {
    let site = site();
    sign_up(&site.client, "ana").await;
    let csrf = token(&site.client, "/").await;
    site.client
        .post("/logout")
        .form(&[("csrf_token", csrf.as_str())])
        .await;
    let csrf = token(&site.client, "/login").await;
    let wrong = site
        .client
        .post("/login")
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "ana"),
            ("password", "nope nope"),
        ])
        .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert!(wrong.text().await.contains("Wrong user name or password."));
    let right = site
        .client
        .post("/login")
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "ana"),
            ("password", PASSWORD),
            ("next", "//evil.example/"),
        ])
        .await;
    assert_eq!(right.status(), StatusCode::SEE_OTHER);
    assert_eq!(right.header("location"), Some("/"));
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let site = site();
    site.client.get("/login").await;
    let login = site
        .client
        .post("/login")
        .form(&[("name", "ana"), ("password", PASSWORD)])
        .await;
    assert_eq!(login.status(), StatusCode::BAD_REQUEST);
    assert!(login.text().await.contains("CSRF token is missing"));
    sign_up(&site.client, "ana").await;
    let forged = listing("not-the-token", ("a.png", "image/png", PNG.to_vec()));
    let upload = site.client.post("/items/new").multipart(forged).await;
    assert_eq!(upload.status(), StatusCode::BAD_REQUEST);
    let logout = site.client.post("/logout").form(&[("x", "1")]).await;
    assert_eq!(logout.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn selling_needs_a_login() {
    let site = site();
    let page = site.client.get("/items/new").await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.header("location"), Some("/login?next=/items/new"));
}

#[tokio::test]
async fn uploads_are_checked_by_type_and_size() {
    let site = site();
    sign_up(&site.client, "ana").await;
    let csrf = token(&site.client, "/items/new").await;
    let cases = [
        (
            ("notes.png", "image/png", b"just text".to_vec()),
            "must be a PNG",
        ),
        (("a.png", "text/plain", PNG.to_vec()), "must be a PNG"),
        (
            ("", "application/octet-stream", Vec::new()),
            "Choose a photo",
        ),
    ];
    for (file, message) in cases {
        let answer = site
            .client
            .post("/items/new")
            .multipart(listing(&csrf, file))
            .await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
        let page = answer.text().await;
        assert!(page.contains(message), "{message}: {page}");
        assert!(
            page.contains("value=\"Brass lamp\""),
            "the form keeps its values"
        );
    }
    let mut huge = PNG.to_vec();
    huge.resize(5 * 1024 * 1024 + 1, 0);
    let answer = site
        .client
        .post("/items/new")
        .multipart(listing(&csrf, ("big.png", "image/png", huge)))
        .await;
    assert_eq!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_listed_item_has_a_page_and_an_image_with_an_etag() {
    let site = site();
    sign_up(&site.client, "ana").await;
    let csrf = token(&site.client, "/items/new").await;
    let form = listing(&csrf, ("lamp.png", "image/png", PNG.to_vec()));
    let created = site.client.post("/items/new").multipart(form).await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    assert_eq!(created.header("location"), Some("/items/1"));
    let page = site.client.get("/items/1").await.text().await;
    assert!(
        page.contains("Brass lamp") && page.contains("$12.50"),
        "{page}"
    );
    let marker = "src=\"/images/";
    let start = page.find(marker).expect("an image") + 5;
    let end = page[start..].find('"').expect("quote") + start;
    let image = &page[start..end];
    let first = site.client.get(image).await;
    assert_eq!(first.status(), StatusCode::OK);
    let etag = first.header("etag").expect("an ETag").to_owned();
    assert_eq!(first.bytes().await.as_ref(), PNG);
    let again = site.client.get(image).header("If-None-Match", &etag).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(
        site.client.get("/items/2").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bids_without_a_login_are_refused_over_socketio() {
    let site = site();
    let mut socket = site.sio.test_client();
    socket
        .connect("/item", None)
        .await
        .expect("connect to /item");
    let bid = json!({ "item": 1, "amount": "20" });
    let answer = socket
        .emit_with_ack("/item", "bid", &bid)
        .await
        .expect("an ack");
    let answer: Value = answer.deserialize().expect("json");
    assert_eq!(answer["ok"], false);
    assert_eq!(answer["reason"], "not_logged_in");
    assert_eq!(answer["message"], "Log in to bid.");
    let watch = socket
        .emit_with_ack("/item", "watch", &42)
        .await
        .expect("an ack");
    let watch: Value = watch.deserialize().expect("json");
    assert_eq!(watch["ok"], false);
}
