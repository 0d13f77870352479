//! CSRF protection through the test client: the `csrf_token()` template global puts the
//! session's token in a form, `CsrfForm` and `CsrfMultipartForm` accept a post only with
//! that token (field or `X-CSRFToken` header), and another session's token is refused.

use carafe::csrf::{CsrfForm, CsrfMultipartForm};
use carafe::templates::{context, TemplateError, Templates};
use carafe::testing::{MultipartForm, TestClient};
use carafe::{get, post, App, Html, StatusCode};
use serde::Deserialize;

#[derive(Deserialize)]
struct Comment {
    text: String,
}

async fn page(templates: Templates) -> Result<Html<String>, TemplateError> {
    let form = r#"<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">"#;
    templates.render_string(form, context! {})
}

async fn comment(CsrfForm(comment): CsrfForm<Comment>) -> String {
    format!("saved {}", comment.text)
}

async fn upload(CsrfMultipartForm(form): CsrfMultipartForm) -> String {
    let file = form.file("photo").map_or(0, |file| file.len());
    format!(
        "{} bytes for {}",
        file,
        form.get("title").unwrap_or_default()
    )
}

fn app() -> App {
    let mut app = App::new();
    app.secret_key("csrf test secret");
    // The page renders a string template; the folder only has to exist.
    app.template_folder(env!("CARGO_MANIFEST_DIR"));
    app.route("/", get(page))
        .route("/comment", post(comment))
        .route("/upload", post(upload));
    app
}

/// Renders the page and returns the token its hidden field carries.
async fn token_of(client: &TestClient) -> String {
    let html = client.get("/").await.text().await;
    let start = html
        .find("value=\"")
        .unwrap_or_else(|| panic!("a value attribute in {html}"))
        + 7;
    let end = html[start..].find('"').expect("a closing quote") + start;
    html[start..end].to_owned()
}

#[tokio::test]
async fn the_template_token_is_stable_within_a_session() {
    let client = app().test_client();
    let first = token_of(&client).await;
    assert_eq!(first.len(), 43, "{first}");
    assert_eq!(token_of(&client).await, first);
    let other = app().test_client();
    assert_ne!(token_of(&other).await, first);
}

#[tokio::test]
async fn a_form_with_the_session_token_is_accepted() {
    let client = app().test_client();
    let token = token_of(&client).await;
    let reply = client
        .post("/comment")
        .form(&[("csrf_token", token.as_str()), ("text", "hi")])
        .await;
    assert_eq!(reply.status(), StatusCode::OK);
    assert_eq!(reply.text().await, "saved hi");
}

#[tokio::test]
async fn a_form_without_a_token_is_refused_before_the_handler() {
    let client = app().test_client();
    token_of(&client).await;
    let reply = client.post("/comment").form(&[("text", "hi")]).await;
    assert_eq!(reply.status(), StatusCode::BAD_REQUEST);
    assert!(reply.text().await.contains("The CSRF token is missing."));
}

#[tokio::test]
async fn another_sessions_token_is_refused() {
    let victim = app().test_client();
    token_of(&victim).await;
    let attacker = app().test_client();
    let stolen = token_of(&attacker).await;
    let reply = victim
        .post("/comment")
        .form(&[("csrf_token", stolen.as_str()), ("text", "hi")])
        .await;
    assert_eq!(reply.status(), StatusCode::BAD_REQUEST);
    assert!(reply.text().await.contains("do not match"));
}

#[tokio::test]
async fn a_session_that_never_saw_a_form_is_refused() {
    let client = app().test_client();
    let reply = client
        .post("/comment")
        .form(&[("csrf_token", "x"), ("text", "hi")])
        .await;
    assert_eq!(reply.status(), StatusCode::BAD_REQUEST);
    assert!(reply.text().await.contains("session token is missing"));
}

#[tokio::test]
async fn the_header_carries_the_token_for_scripts() {
    let client = app().test_client();
    let token = token_of(&client).await;
    let reply = client
        .post("/comment")
        .header("X-CSRFToken", &token)
        .form(&[("text", "hi")])
        .await;
    assert_eq!(reply.status(), StatusCode::OK);
}

#[tokio::test]
async fn multipart_uploads_are_checked_too() {
    let client = app().test_client();
    let token = token_of(&client).await;
    let form = || {
        MultipartForm::new().text("title", "lamp").file(
            "photo",
            "a.png",
            "image/png",
            b"12345".to_vec(),
        )
    };
    let refused = client.post("/upload").multipart(form()).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let accepted = client
        .post("/upload")
        .multipart(form().text("csrf_token", &token))
        .await;
    assert_eq!(accepted.status(), StatusCode::OK);
    assert_eq!(accepted.text().await, "5 bytes for lamp");
}
