//! Templates as a Flask developer uses them: `url_for` building the app's real URLs
//! (blueprint-relative names, extra parameters as the query string), `request.endpoint`,
//! and the free `render_template` called from a handler, sharing the handler's session.

mod support;

use std::fs;

use carafe::templates::{context, render_template, render_template_string, TemplateError};
use carafe::{get, App, Blueprint, Html, Session};
use support::{request, start_server};

/// A template folder with `files`.
fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temp dir");
    for (name, text) in files {
        fs::write(dir.path().join(name), text).expect("write a template");
    }
    dir
}

async fn show(name: &'static str) -> Result<Html<String>, TemplateError> {
    render_template(name, context! {})
}

async fn links() -> Result<Html<String>, TemplateError> {
    show("links.html").await
}

async fn user() -> Result<Html<String>, TemplateError> {
    show("endpoint.html").await
}

async fn broken_link() -> Result<Html<String>, TemplateError> {
    show("broken.html").await
}

async fn admin_index() -> Result<Html<String>, TemplateError> {
    show("admin.html").await
}

async fn login(session: Session) -> Result<Html<String>, TemplateError> {
    session.insert("user", "ada");
    render_template_string(
        "hello {{ session.user }} at {{ request.path }}",
        context! {},
    )
}

fn app(templates: &std::path::Path) -> App {
    let mut admin = Blueprint::new("admin").url_prefix("/admin");
    admin
        .route("/", get(admin_index).name("index"))
        .route("/users", get(|| async { "users" }).name("users"));
    let mut app = App::new();
    app.secret_key("a test key")
        .template_folder(templates)
        .route("/", get(links))
        .route("/users/<name>", get(user))
        .route("/broken", get(broken_link))
        .route("/login", get(login))
        .register_blueprint(admin);
    app
}

fn templates() -> tempfile::TempDir {
    folder(&[
        (
            "links.html",
            "{{ url_for('user', name='ann', tab='posts') }}|{{ url_for('admin.users') }}|\
             {{ url_for('links', _anchor='top') }}|{{ url_for('static', filename='a.css') }}",
        ),
        (
            "endpoint.html",
            "{{ request.endpoint }}|{{ request.blueprint }}|{{ request.path }}",
        ),
        (
            "admin.html",
            "{{ url_for('.users', page=2) }}|{{ request.endpoint }}|{{ request.blueprint }}",
        ),
        ("broken.html", "{{ url_for('nowhere') }}"),
    ])
}

#[tokio::test]
async fn url_for_in_templates_builds_the_apps_urls() {
    let dir = templates();
    let client = app(dir.path()).test_client();
    let response = client.get("/").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.text().await,
        "/users/ann?tab=posts|/admin/users|/#top|/static/a.css"
    );
}

#[tokio::test]
async fn url_for_in_a_blueprint_template_is_relative_to_the_blueprint() {
    let dir = templates();
    let client = app(dir.path()).test_client();
    let response = client.get("/admin/").await;
    assert_eq!(
        response.text().await,
        "/admin/users?page=2|admin.index|admin"
    );
}

#[tokio::test]
async fn request_endpoint_is_the_routes_endpoint() {
    let dir = templates();
    let client = app(dir.path()).test_client();
    let response = client.get("/users/ann").await;
    assert_eq!(response.text().await, "user|None|/users/ann");
}

#[tokio::test]
async fn an_unknown_endpoint_in_a_template_is_a_500_naming_it_in_debug_mode() {
    let dir = templates();
    let mut app = app(dir.path());
    let client = app.test_client();
    let response = client.get("/broken").await;
    assert_eq!(response.status(), 500);
    assert!(!response.text().await.contains("nowhere"));
    drop(client);
    app.config_mut().debug = true;
    let response = app.test_client().get("/broken").await;
    assert_eq!(response.status(), 500);
    let text = response.text().await;
    assert!(text.contains("nowhere"), "{text}");
}

#[tokio::test]
async fn render_template_sees_the_handlers_session_and_saves_it_once() {
    let dir = templates();
    let client = app(dir.path()).test_client();
    let response = client.get("/login").await;
    let cookies: Vec<_> = response.headers().get_all("set-cookie").iter().collect();
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    assert_eq!(response.text().await, "hello ada at /login");
    assert!(client.cookie("session").is_some());
}

#[tokio::test]
async fn render_template_outside_a_request_says_why() {
    let error = render_template("links.html", context! {})
        .err()
        .map(|error| error.to_string())
        .unwrap_or_default();
    assert!(error.contains("outside a request"), "{error}");
}

#[tokio::test]
async fn render_template_without_a_template_folder_names_the_fix() {
    let mut app = App::new();
    app.route(
        "/",
        get(|| async { render_template("a.html", context! {}) }),
    );
    app.config_mut().debug = true;
    let response = app.test_client().get("/").await;
    assert_eq!(response.status(), 500);
    let text = response.text().await;
    assert!(text.contains("template_folder"), "{text}");
}

#[tokio::test]
async fn url_for_and_render_template_over_a_real_socket() {
    let dir = templates();
    let server = start_server(app(dir.path())).await;
    let reply = request(server.addr, "GET", "/admin/", &[], b"").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), "/admin/users?page=2|admin.index|admin");
}
