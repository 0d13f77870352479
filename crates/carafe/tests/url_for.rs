//! Endpoints and `url_for`: from handlers (the free function and `RequestParts`), from
//! blueprints (relative `.name`), without a request (`App::url_for`); endpoint clashes.

use carafe::{get, request_endpoint, url_for, App, Blueprint, Path, RequestParts, UrlError};

async fn index() -> carafe::Result<String> {
    Ok(url_for("user", [("name", "ann b"), ("tab", "posts")])?)
}

async fn user(Path(name): Path<String>) -> String {
    format!("{name} at {}", request_endpoint().unwrap_or_default())
}

async fn admin_home() -> carafe::Result<String> {
    let here = url_for(".admin_home", ())?;
    let users = url_for(".users", [("page", 2)])?;
    let top = url_for("index", [("_anchor", "top")])?;
    Ok(format!("{here} {users} {top}"))
}

async fn users() -> &'static str {
    "users"
}

/// An extractor-like use: the request's own `Host` makes external URLs.
async fn external(parts: carafe::Request) -> carafe::Result<String> {
    let (head, _) = parts.into_parts();
    let parts = RequestParts::new(head);
    Ok(parts
        .url_for("user", [("name", "x")])
        .err()
        .map(|error| error.to_string())
        .unwrap_or_default())
}

fn app() -> App {
    let mut admin = Blueprint::new("admin").url_prefix("/admin");
    admin
        .route("/", get(admin_home))
        .route("/users", get(users));
    let mut app = App::new();
    app.route("/", get(index))
        .route("/users/<name>", get(user))
        .route("/external", get(external))
        .register_blueprint(admin);
    app
}

#[tokio::test]
async fn url_for_works_inside_handlers() {
    let client = app().test_client();
    assert_eq!(
        client.get("/").await.text().await,
        "/users/ann%20b?tab=posts"
    );
    assert_eq!(client.get("/users/ann").await.text().await, "ann at user");
}

#[tokio::test]
async fn relative_endpoints_resolve_in_the_current_blueprint() {
    let client = app().test_client();
    assert_eq!(
        client.get("/admin/").await.text().await,
        "/admin/ /admin/users?page=2 /#top"
    );
}

#[tokio::test]
async fn request_parts_url_for_knows_nothing_of_the_app_when_detached() {
    let client = app().test_client();
    let text = client.get("/external").await.text().await;
    assert!(text.contains("no route has the endpoint `user`"), "{text}");
}

#[test]
fn app_url_for_builds_without_a_request() {
    let app = app();
    assert_eq!(
        app.url_for("admin.users", ()).as_deref(),
        Ok("/admin/users")
    );
    assert_eq!(
        app.url_for("user", [("name", "a/b")]).as_deref(),
        Ok("/users/a%2Fb")
    );
    assert!(matches!(
        app.url_for(".users", ()),
        Err(UrlError::UnknownEndpoint(_))
    ));
    assert_eq!(
        app.url_for("user", [("name", "x"), ("_external", "true")]),
        Err(UrlError::NoServerName)
    );
    let endpoints: Vec<_> = app
        .router()
        .routes()
        .filter_map(|route| route.endpoint())
        .collect();
    assert_eq!(
        endpoints,
        [
            "index",
            "user",
            "external",
            "admin.admin_home",
            "admin.users"
        ]
    );
}

mod other {
    pub(crate) async fn index() -> &'static str {
        "another index"
    }
}

#[test]
#[should_panic(expected = "the endpoint `index` of rule `/b`")]
fn two_handlers_under_one_endpoint_panic_at_startup() {
    let mut app = App::new();
    app.route("/a", get(index)).route("/b", get(other::index));
}

#[test]
fn one_handler_may_serve_several_rules() {
    let mut app = App::new();
    app.route("/pages/", get(users))
        .route("/pages/<int:n>", get(users));
    assert_eq!(app.url_for("users", ()).as_deref(), Ok("/pages/"));
    assert_eq!(app.url_for("users", [("n", 3)]).as_deref(), Ok("/pages/3"));
}

#[test]
fn nested_blueprints_join_names_and_prefixes() {
    let mut inner = Blueprint::new("posts").url_prefix("/posts");
    inner.route("/<int:id>", get(users).name("show"));
    let mut outer = Blueprint::new("blog").url_prefix("/blog");
    outer.register_blueprint(inner);
    let mut app = App::new();
    app.register_blueprint(outer);
    assert_eq!(
        app.url_for("blog.posts.show", [("id", 5)]).as_deref(),
        Ok("/blog/posts/5")
    );
    let names: Vec<&str> = app.blueprints().map(|bp| bp.name()).collect();
    assert_eq!(names, ["blog", "blog.posts"]);
}

#[test]
#[should_panic(expected = "a blueprint named `admin` is already registered")]
fn a_blueprint_name_is_registered_once() {
    let mut app = App::new();
    app.register_blueprint(Blueprint::new("admin"))
        .register_blueprint(Blueprint::new("admin"));
}
