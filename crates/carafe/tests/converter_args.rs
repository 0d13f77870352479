//! Werkzeug's converter arguments: `int(min, max, fixed_digits, signed)`,
//! `float(min, max, signed)`, `string(minlength, maxlength, length)`: what matches, what
//! `url_for` builds, and a clear panic at registration for bad arguments.

mod support;

use carafe::{get, App, Path};
use support::{request, start_server};

async fn page(Path(n): Path<u64>) -> String {
    format!("page {n}")
}

async fn year(Path(year): Path<u64>) -> String {
    format!("year {year}")
}

async fn offset(Path(by): Path<i64>) -> String {
    format!("offset {by}")
}

async fn scale(Path(x): Path<f64>) -> String {
    format!("scale {x}")
}

async fn temperature(Path(t): Path<f64>) -> String {
    format!("temperature {t}")
}

async fn country(Path(code): Path<String>) -> String {
    format!("country {code}")
}

async fn nick(Path(name): Path<String>) -> String {
    format!("nick {name}")
}

async fn fallback(Path(name): Path<String>) -> String {
    format!("fallback {name}")
}

fn app() -> App {
    let mut app = App::new();
    app.route("/page/<int(min=1, max=10):n>", get(page))
        .route("/year/<int(4):year>", get(year))
        .route("/offset/<int(signed=True):by>", get(offset))
        .route("/scale/<float(min=0.5, max=2):x>", get(scale))
        .route("/temp/<float(signed=True):t>", get(temperature))
        .route("/country/<string(length=2):code>", get(country))
        .route("/nick/<string(minlength=3, maxlength=5):name>", get(nick))
        .route("/nick/<name>", get(fallback));
    app
}

#[tokio::test]
async fn arguments_decide_what_matches() {
    let client = app().test_client();
    let cases = [
        ("/page/1", 200, "page 1"),
        ("/page/10", 200, "page 10"),
        ("/page/0", 404, ""),
        ("/page/11", 404, ""),
        ("/year/2024", 200, "year 2024"),
        ("/year/0042", 200, "year 42"),
        ("/year/42", 404, ""),
        ("/offset/-5", 200, "offset -5"),
        ("/offset/7", 200, "offset 7"),
        ("/offset/-", 404, ""),
        ("/scale/0.5", 200, "scale 0.5"),
        ("/scale/2.5", 404, ""),
        ("/temp/-1.5", 200, "temperature -1.5"),
        ("/country/fr", 200, "country fr"),
        ("/country/fra", 404, ""),
        ("/nick/ann", 200, "nick ann"),
        ("/nick/al", 200, "fallback al"),
        ("/nick/annabel", 200, "fallback annabel"),
    ];
    for (path, status, text) in cases {
        let response = client.get(path).await;
        assert_eq!(response.status(), status, "{path}");
        if status == 200 {
            assert_eq!(response.text().await, text, "{path}");
        }
    }
}

#[tokio::test]
async fn url_for_builds_with_the_arguments() {
    let app = app();
    assert_eq!(app.url_for("page", [("n", 3)]).as_deref(), Ok("/page/3"));
    assert!(app.url_for("page", [("n", 11)]).is_err());
    assert_eq!(
        app.url_for("year", [("year", 42)]).as_deref(),
        Ok("/year/0042")
    );
    assert_eq!(
        app.url_for("offset", [("by", -5)]).as_deref(),
        Ok("/offset/-5")
    );
    assert_eq!(
        app.url_for("scale", [("x", 1)]).as_deref(),
        Ok("/scale/1.0")
    );
    assert!(app.url_for("scale", [("x", 3)]).is_err());
    assert_eq!(
        app.url_for("country", [("code", "fr")]).as_deref(),
        Ok("/country/fr")
    );
    let error = app
        .url_for("country", [("code", "fra")])
        .err()
        .map(|error| error.to_string())
        .unwrap_or_default();
    assert!(error.contains("not a valid `string` value"), "{error}");
}

#[tokio::test]
async fn arguments_work_over_a_real_socket() {
    let server = start_server(app()).await;
    let reply = request(server.addr, "GET", "/year/0042", &[], b"").await;
    assert_eq!(reply.text(), "year 42");
    let reply = request(server.addr, "GET", "/page/11", &[], b"").await;
    assert_eq!(reply.status, 404);
}

#[test]
#[should_panic(expected = "`min` (5) is above `max` (1)")]
fn bad_arguments_panic_at_registration_naming_the_problem() {
    let mut app = App::new();
    app.route("/p/<int(min=5, max=1):n>", get(page));
}

#[test]
#[should_panic(expected = "`int` has no argument `minimum`")]
fn an_unknown_argument_names_the_known_ones() {
    let mut app = App::new();
    app.route("/p/<int(minimum=5):n>", get(page));
}
