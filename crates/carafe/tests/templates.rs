//! Templates over real sockets: autoescaping, inheritance, the request/session/flash
//! globals across requests, error answers, and reloading in debug mode only.

mod support;

use std::fs;
use std::path::Path;

use carafe::session::flash;
use carafe::templates::{context, TemplateError, Templates};
use carafe::{get, post, App, Html, Path as UrlPath, Session};
use support::{request, start_server};

async fn page(
    templates: Templates,
    UrlPath(name): UrlPath<String>,
) -> Result<Html<String>, TemplateError> {
    templates.render(
        &name,
        context! { x => "<script>alert(1)</script>", user => "ada" },
    )
}

async fn add_flash(session: Session) -> &'static str {
    flash(&session, "Welcome <back>!");
    "flashed"
}

async fn inline(templates: Templates) -> Result<Html<String>, TemplateError> {
    templates.render_string("<b>{{ request.args.q }}</b>", context! {})
}

/// A template folder with `files`.
fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temp dir");
    for (name, text) in files {
        fs::write(dir.path().join(name), text).expect("write a template");
    }
    dir
}

fn app(templates: &Path, debug: bool) -> App {
    let mut app = App::new();
    app.config_mut().debug = debug;
    app.secret_key("k")
        .template_folder(templates)
        .route("/page/<name>", get(page))
        .route("/flash", post(add_flash))
        .route("/inline", get(inline));
    app
}

fn standard_templates() -> tempfile::TempDir {
    folder(&[
        ("a.html", "{{ x }}"),
        ("a.txt", "{{ x }}"),
        (
            "base.html",
            "<h1>{% block title %}{% endblock %}</h1>{% block body %}{% endblock %}",
        ),
        (
            "child.html",
            "{% extends 'base.html' %}{% block title %}Hi {{ user }}{% endblock %}\
             {% block body %}{% include 'part.html' %}{% endblock %}",
        ),
        (
            "part.html",
            "<p>{{ request.path }} {{ request.method }}</p>",
        ),
        (
            "flashes.html",
            "{% for m in get_flashed_messages() %}<li>{{ m }}</li>{% endfor %}",
        ),
        ("bad.html", "ok\n{% for %}"),
    ])
}

#[tokio::test]
async fn html_templates_are_escaped_text_templates_are_not() {
    let dir = standard_templates();
    let server = start_server(app(dir.path(), false)).await;
    let html = request(server.addr, "GET", "/page/a.html", &[], b"").await;
    assert_eq!(html.text(), "&lt;script&gt;alert(1)&lt;/script&gt;");
    assert_eq!(
        html.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let text = request(server.addr, "GET", "/page/a.txt", &[], b"").await;
    assert_eq!(text.text(), "<script>alert(1)</script>");
    let inline = request(server.addr, "GET", "/inline?q=%3Ci%3E", &[], b"").await;
    assert_eq!(inline.text(), "<b>&lt;i&gt;</b>");
}

#[tokio::test]
async fn inheritance_includes_and_request_global() {
    let dir = standard_templates();
    let server = start_server(app(dir.path(), false)).await;
    let reply = request(server.addr, "GET", "/page/child.html", &[], b"").await;
    // Escaped as MarkupSafe does: `/` is left alone.
    assert_eq!(reply.text(), "<h1>Hi ada</h1><p>/page/child.html GET</p>");
}

#[tokio::test]
async fn flashed_message_shows_once_in_a_template() {
    let dir = standard_templates();
    let server = start_server(app(dir.path(), false)).await;
    let flashed = request(server.addr, "POST", "/flash", &[], b"").await;
    let set_cookie = flashed.header("set-cookie").expect("a session cookie");
    let cookie = set_cookie.split(';').next().unwrap_or_default();

    let shown = request(
        server.addr,
        "GET",
        "/page/flashes.html",
        &[("cookie", cookie)],
        b"",
    )
    .await;
    assert_eq!(shown.text(), "<li>Welcome &lt;back&gt;!</li>");
    assert!(
        shown.header("set-cookie").is_some(),
        "the flash leaves the session"
    );
    let gone = request(server.addr, "GET", "/page/flashes.html", &[], b"").await;
    assert_eq!(gone.text(), "");
}

#[tokio::test]
async fn missing_and_broken_templates_are_500s() {
    let dir = standard_templates();
    let server = start_server(app(dir.path(), false)).await;
    let missing = request(server.addr, "GET", "/page/nope.html", &[], b"").await;
    assert_eq!(
        (missing.status, missing.text().as_str()),
        (500, "Internal Server Error")
    );
    let broken = request(server.addr, "GET", "/page/bad.html", &[], b"").await;
    assert_eq!(
        (broken.status, broken.text().as_str()),
        (500, "Internal Server Error")
    );

    let debug = start_server(app(dir.path(), true)).await;
    let broken = request(debug.addr, "GET", "/page/bad.html", &[], b"").await;
    assert_eq!(broken.status, 500);
    assert!(
        broken.text().contains("template error in bad.html line 2"),
        "{}",
        broken.text()
    );
}

/// Rewrites `name` with `text` (a different length, so the change shows even when the
/// file system's clock is coarse).
fn rewrite(dir: &Path, name: &str, text: &str) {
    fs::write(dir.join(name), text).expect("rewrite a template");
}

#[tokio::test]
async fn debug_mode_reloads_a_changed_template() {
    let dir = folder(&[("live.txt", "first")]);
    let server = start_server(app(dir.path(), true)).await;
    let before = request(server.addr, "GET", "/page/live.txt", &[], b"").await;
    assert_eq!(before.text(), "first");
    rewrite(dir.path(), "live.txt", "second version");
    let after = request(server.addr, "GET", "/page/live.txt", &[], b"").await;
    assert_eq!(after.text(), "second version");
}

#[tokio::test]
async fn production_mode_loads_a_template_once() {
    let dir = folder(&[("live.txt", "first")]);
    let server = start_server(app(dir.path(), false)).await;
    let before = request(server.addr, "GET", "/page/live.txt", &[], b"").await;
    assert_eq!(before.text(), "first");
    rewrite(dir.path(), "live.txt", "second version");
    let after = request(server.addr, "GET", "/page/live.txt", &[], b"").await;
    assert_eq!(after.text(), "first");
}

#[tokio::test]
async fn app_without_a_template_folder_answers_500() {
    let mut app = App::new();
    app.route(
        "/",
        get(|templates: Templates| async move { templates.render_string("never", context! {}) }),
    );
    let server = start_server(app).await;
    let reply = request(server.addr, "GET", "/", &[], b"").await;
    assert_eq!(reply.status, 500);
}
