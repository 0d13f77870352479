//! Unit tests of the template environment, without a server.

use std::fs;

use super::*;
use crate::state::AppShared;

/// A `Templates` for a request to `target`, over `folder`, with `config`.
fn templates(folder: &Path, config: Config, target: &str) -> Templates {
    templates_with(folder, config, target, |_| {})
}

/// The same, after `prepare` ran on the request's session.
fn templates_with(
    folder: &Path,
    config: Config,
    target: &str,
    prepare: impl FnOnce(&Session),
) -> Templates {
    let mut settings = TemplateSettings::default();
    settings.folders.push(folder.to_path_buf());
    let mut shared = AppShared::new();
    shared.config = config;
    shared.state.insert(settings);
    let (head, ()) = http::Request::builder()
        .uri(target)
        .header("host", "example.com")
        .header("user-agent", "test-agent")
        .header("cookie", "secret=1")
        .body(())
        .unwrap_or_default()
        .into_parts();
    let mut parts = RequestParts::routed(head, Vec::new(), Arc::new(shared));
    prepare(&Session::of(&mut parts));
    let future = Templates::from_request_parts(&mut parts);
    match tokio::runtime::Builder::new_current_thread().build() {
        Ok(runtime) => runtime.block_on(future).ok(),
        Err(_) => None,
    }
    .unwrap_or_else(|| unreachable!("the app has a template folder"))
}

fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|_| unreachable!("temp dir"));
    for (name, text) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            let _ = fs::create_dir_all(parent);
        }
        let _ = fs::write(path, text);
    }
    dir
}

fn render(templates: &Templates, name: &str, context: Value) -> String {
    match templates.render(name, context) {
        Ok(Html(text)) => text,
        Err(error) => format!("ERROR: {error}"),
    }
}

#[test]
fn html_is_escaped_and_text_is_not() {
    let dir = folder(&[
        ("a.html", "{{ x }}"),
        ("a.txt", "{{ x }}"),
        ("a.svg", "{{ x }}"),
    ]);
    let templates = templates(dir.path(), Config::default(), "/");
    let context = || context! { x => "<script>" };
    assert_eq!(render(&templates, "a.html", context()), "&lt;script&gt;");
    assert_eq!(render(&templates, "a.svg", context()), "&lt;script&gt;");
    assert_eq!(render(&templates, "a.txt", context()), "<script>");
    let string = templates
        .render_string("{{ x }}", context())
        .map(|html| html.0);
    assert_eq!(string.ok().as_deref(), Some("&lt;script&gt;"));
}

#[test]
fn inheritance_and_includes() {
    let dir = folder(&[
        (
            "base.html",
            "<title>{% block title %}{% endblock %}</title>{% include 'nav.html' %}",
        ),
        ("nav.html", "<nav>{{ user }}</nav>"),
        (
            "page.html",
            "{% extends 'base.html' %}{% block title %}Home{% endblock %}",
        ),
    ]);
    let templates = templates(dir.path(), Config::default(), "/");
    assert_eq!(
        render(&templates, "page.html", context! { user => "ada" }),
        "<title>Home</title><nav>ada</nav>"
    );
}

#[test]
fn request_and_config_globals() {
    let dir = folder(&[(
        "r.txt",
        "{{ request.method }} {{ request.path }} {{ request.args.q }} {{ request.url }} \
         {{ request.headers['User-Agent'] }} [{{ request.headers.cookie }}] \
         {{ config.SESSION_COOKIE_NAME }} [{{ config.SECRET_KEY }}]",
    )]);
    let config = Config {
        secret_key: Some("hunter2".into()),
        ..Config::default()
    };
    let templates = templates(dir.path(), config, "/search?q=tea&q=coffee");
    assert_eq!(
        render(&templates, "r.txt", context! {}),
        "GET /search tea http://example.com/search?q=tea&q=coffee test-agent [] session []"
    );
}

#[test]
fn session_and_flashes_in_templates() {
    let dir = folder(&[(
        "f.txt",
        "{{ session.user }}|{% for m in get_flashed_messages() %}{{ m }};{% endfor %}|\
         {% for c, m in get_flashed_messages(with_categories=true) %}{{ c }}={{ m }};{% endfor %}|\
         {{ get_flashed_messages(category_filter=['error']) | length }}",
    )]);
    let templates = templates_with(dir.path(), Config::default(), "/", |session| {
        session.insert("user", "<ada>");
        crate::session::flash(session, "hi");
        crate::session::flash_with_category(session, "bad", "error");
    });
    let text = render(&templates, "f.txt", context! {});
    assert_eq!(text, "<ada>|hi;bad;|message=hi;error=bad;|1");
}

#[test]
fn url_for_static_and_unknown_endpoints() {
    let dir = folder(&[
        (
            "s.txt",
            "{{ url_for('static', filename='css/site one.css') }}",
        ),
        ("u.txt", "{{ url_for('index') }}"),
    ]);
    let templates = templates(dir.path(), Config::default(), "/");
    assert_eq!(
        render(&templates, "s.txt", context! {}),
        "/static/css/site%20one.css"
    );
    assert!(render(&templates, "u.txt", context! {}).starts_with("ERROR: "));
}

#[test]
fn errors_name_the_template_and_line() {
    let dir = folder(&[("bad.html", "line one\n{% if %}\n")]);
    let templates = templates(dir.path(), Config::default(), "/");
    let error = templates.render("bad.html", context! {}).err();
    let error = error.unwrap_or_else(|| unreachable!("a syntax error"));
    assert_eq!(error.line(), Some(2));
    assert!(
        error
            .to_string()
            .starts_with("template error in bad.html line 2"),
        "{error}"
    );
    let missing = templates.render("nope.html", context! {}).err();
    assert!(missing.is_some_and(|error| error.is_not_found()));
}

#[test]
fn production_errors_hide_the_details() {
    let dir = folder(&[("bad.html", "{% if %}")]);
    let production = templates(dir.path(), Config::default(), "/");
    let error = production.render("bad.html", context! {}).err();
    let http = error.map(HttpError::from);
    assert_eq!(
        http.as_ref().map(HttpError::message),
        Some("Internal Server Error")
    );

    let config = Config {
        debug: true,
        ..Config::default()
    };
    let debug = templates(dir.path(), config, "/");
    let error = debug
        .render("bad.html", context! {})
        .err()
        .map(HttpError::from);
    assert!(error.is_some_and(|error| error.message().contains("bad.html")));
}

#[test]
fn extra_search_paths_come_after_the_app_folder() {
    let app = folder(&[("a.txt", "app")]);
    let blueprint = folder(&[("a.txt", "blueprint"), ("b.txt", "only blueprint")]);
    let settings = TemplateSettings {
        folders: vec![app.path().to_path_buf(), blueprint.path().to_path_buf()],
        ..TemplateSettings::default()
    };
    let env = settings.build(&Config::default());
    let render = |name| env.get_template(name).and_then(|t| t.render(())).ok();
    assert_eq!(render("a.txt").as_deref(), Some("app"));
    assert_eq!(render("b.txt").as_deref(), Some("only blueprint"));
}
