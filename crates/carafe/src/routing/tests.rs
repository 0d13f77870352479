//! Router tests: table-driven cases for converters, priorities, backtracking,
//! percent-encoding, 404 / 405 / `Allow`, `HEAD` and `OPTIONS`, and registration errors.

use http::{header, Method};

use super::*;

async fn noop() {}

/// A router with each rule routed to `GET`.
fn router(rules: &[&str]) -> Router {
    let mut router = Router::new();
    for rule in rules {
        router.route(rule, get(noop));
    }
    router
}

/// The rule a path matched and its parameters, or the error status.
type Outcome = Result<(String, Vec<(String, String)>), u16>;

/// The rule `path` matches with `GET`, and its parameters, or the error status.
fn lookup(router: &Router, path: &str) -> Outcome {
    let found = router
        .at(&Method::GET, path)
        .map_err(|error| error.status().as_u16())?;
    let params = found
        .params()
        .iter()
        .map(|(name, value)| (name.to_owned(), value.into_owned()))
        .collect();
    Ok((found.rule().to_owned(), params))
}

fn hit(rule: &str, params: &[(&str, &str)]) -> Outcome {
    let params = params
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    Ok((rule.to_owned(), params))
}

fn check(rules: &[&str], cases: &[(&str, Outcome)]) {
    let router = router(rules);
    for (path, expected) in cases {
        assert_eq!(
            &lookup(&router, path),
            expected,
            "path {path:?} with rules {rules:?}"
        );
    }
}

#[test]
fn static_rules_match_exactly_and_trailing_slashes_are_significant() {
    check(
        &["/", "/about", "/about/", "/a/b/c"],
        &[
            ("/", hit("/", &[])),
            ("/about", hit("/about", &[])),
            ("/about/", hit("/about/", &[])),
            ("/a/b/c", hit("/a/b/c", &[])),
            ("/a/b", Err(404)),
            ("/a/b/c/", Err(404)),
            ("/About", Err(404)),
            ("//", Err(404)),
            ("", Err(404)),
            ("*", Err(404)),
        ],
    );
}

#[test]
fn each_converter_captures_its_values() {
    check(
        &[
            "/i/<int:v>",
            "/f/<float:v>",
            "/u/<uuid:v>",
            "/s/<v>",
            "/p/<path:v>",
        ],
        &[
            ("/i/42", hit("/i/<int:v>", &[("v", "42")])),
            ("/i/18446744073709551616", Err(404)),
            ("/i/-1", Err(404)),
            ("/i/4.2", Err(404)),
            ("/f/4.2", hit("/f/<float:v>", &[("v", "4.2")])),
            ("/f/42", Err(404)),
            (
                "/u/a8098c1a-f86e-11da-bd1a-00112444be1e",
                hit(
                    "/u/<uuid:v>",
                    &[("v", "a8098c1a-f86e-11da-bd1a-00112444be1e")],
                ),
            ),
            ("/u/not-a-uuid", Err(404)),
            ("/s/hello", hit("/s/<v>", &[("v", "hello")])),
            ("/s/", Err(404)),
            ("/s/a/b", Err(404)),
            ("/p/a/b/c.txt", hit("/p/<path:v>", &[("v", "a/b/c.txt")])),
            ("/p/a/", hit("/p/<path:v>", &[("v", "a/")])),
            ("/p/", Err(404)),
            ("/p", Err(404)),
            ("/p//a", Err(404)),
        ],
    );
}

#[test]
fn static_beats_converters_and_converters_have_a_fixed_priority() {
    // Registered from least to most specific: the order of registration must not matter.
    check(
        &[
            "/users/<path:p>",
            "/users/<name>",
            "/users/<float:f>",
            "/users/<uuid:u>",
            "/users/<int:id>",
            "/users/me",
        ],
        &[
            ("/users/me", hit("/users/me", &[])),
            ("/users/7", hit("/users/<int:id>", &[("id", "7")])),
            ("/users/7.5", hit("/users/<float:f>", &[("f", "7.5")])),
            (
                "/users/a8098c1a-f86e-11da-bd1a-00112444be1e",
                hit(
                    "/users/<uuid:u>",
                    &[("u", "a8098c1a-f86e-11da-bd1a-00112444be1e")],
                ),
            ),
            ("/users/bob", hit("/users/<name>", &[("name", "bob")])),
            (
                "/users/bob/posts",
                hit("/users/<path:p>", &[("p", "bob/posts")]),
            ),
        ],
    );
}

#[test]
fn a_failed_branch_backtracks_to_the_next_candidate() {
    check(
        &[
            "/a/<int:id>/x",
            "/a/<name>/y",
            "/b/c/d",
            "/b/<x>/e",
            "/c/<int:n>/z",
            "/c/<path:rest>",
        ],
        &[
            ("/a/5/x", hit("/a/<int:id>/x", &[("id", "5")])),
            ("/a/5/y", hit("/a/<name>/y", &[("name", "5")])),
            ("/a/5/z", Err(404)),
            ("/b/c/d", hit("/b/c/d", &[])),
            ("/b/c/e", hit("/b/<x>/e", &[("x", "c")])),
            ("/c/1/z", hit("/c/<int:n>/z", &[("n", "1")])),
            ("/c/1/q", hit("/c/<path:rest>", &[("rest", "1/q")])),
        ],
    );
}

#[test]
fn segments_are_percent_decoded() {
    check(
        &["/hello world", "/users/<name>", "/files/<path:p>"],
        &[
            ("/hello%20world", hit("/hello world", &[])),
            ("/hello world", hit("/hello world", &[])),
            (
                "/users/J%C3%B6rg",
                hit("/users/<name>", &[("name", "Jörg")]),
            ),
            ("/users/a%2Fb", hit("/users/<name>", &[("name", "a/b")])),
            ("/files/a%20b/c", hit("/files/<path:p>", &[("p", "a b/c")])),
            ("/users/%FF", hit("/users/<name>", &[("name", "\u{FFFD}")])),
        ],
    );
}

#[test]
fn names_differ_between_rules_sharing_a_trie_node() {
    let mut router = Router::new();
    router.route("/x/<int:a>", get(noop));
    router.route("/x/<int:b>", post(noop));
    let get_match = router
        .at(&Method::GET, "/x/1")
        .map_err(|error| error.to_string());
    assert_eq!(
        get_match.map(|found| found.params().get("a").map(|v| v.into_owned())),
        Ok(Some("1".into()))
    );
    let post_match = router
        .at(&Method::POST, "/x/1")
        .map_err(|error| error.to_string());
    assert_eq!(
        post_match.map(|found| found.params().get("b").map(|v| v.into_owned())),
        Ok(Some("1".into()))
    );
}

/// The status and `Allow` header of `method path`, or `None` on a match.
fn refusal(router: &Router, method: Method, path: &str) -> Option<(u16, Option<String>)> {
    let error = router.at(&method, path).err()?;
    let allow = error
        .headers()
        .get(header::ALLOW)
        .map(|value| value.to_str().unwrap_or("?").to_owned());
    Some((error.status().as_u16(), allow))
}

#[test]
fn wrong_method_gets_405_with_the_allowed_methods() {
    let mut router = Router::new();
    router.route("/items/<int:id>", get(noop).put(noop));
    router.route("/items/<name>", post(noop));
    router.route("/only-post", post(noop));
    let not_allowed = |allow: &str| Some((405, Some(allow.to_owned())));
    let cases = [
        (Method::GET, "/items/1", None),
        (Method::PUT, "/items/1", None),
        (Method::POST, "/items/1", None),
        (
            Method::DELETE,
            "/items/1",
            not_allowed("GET, HEAD, OPTIONS, POST, PUT"),
        ),
        (Method::PATCH, "/items/x", not_allowed("OPTIONS, POST")),
        (Method::GET, "/only-post", not_allowed("OPTIONS, POST")),
        (Method::HEAD, "/only-post", not_allowed("OPTIONS, POST")),
        (Method::TRACE, "/only-post", not_allowed("OPTIONS, POST")),
        (Method::GET, "/nowhere", Some((404, None))),
        (Method::DELETE, "/nowhere", Some((404, None))),
    ];
    for (method, path, expected) in cases {
        assert_eq!(
            refusal(&router, method.clone(), path),
            expected,
            "{method} {path}"
        );
    }
}

#[test]
fn head_uses_the_get_handler() {
    let mut router = Router::new();
    router.route("/", get(noop));
    let found = router
        .lookup(&Method::HEAD, "/", None)
        .map_err(|error| error.to_string());
    assert!(found.is_ok_and(|found| found.handler.is_some()));
}

#[test]
fn options_is_automatic_unless_routed() {
    let mut router = Router::new();
    router.route("/auto/<int:id>", get(noop));
    router.route("/auto/<name>", delete(noop));
    router.route("/custom", get(noop).options(noop));
    let auto = router
        .lookup(&Method::OPTIONS, "/auto/1", None)
        .map_err(|error| error.to_string());
    let auto = auto.map(|found| (found.handler.is_none(), found.allow.to_string(), found.rule));
    assert_eq!(
        auto,
        Ok((
            true,
            "DELETE, GET, HEAD, OPTIONS".to_owned(),
            "/auto/<int:id>"
        ))
    );
    let custom = router
        .lookup(&Method::OPTIONS, "/custom", None)
        .map_err(|error| error.to_string());
    assert!(custom.is_ok_and(|found| found.handler.is_some()));
    assert_eq!(
        refusal(&router, Method::OPTIONS, "/nowhere"),
        Some((404, None))
    );
}

#[test]
fn one_rule_may_be_routed_again_for_other_methods() {
    let mut router = Router::new();
    router.route("/items", get(noop));
    router.route("/items", post(noop));
    assert!(router.at(&Method::GET, "/items").is_ok());
    assert!(router.at(&Method::POST, "/items").is_ok());
}

#[test]
#[should_panic(
    expected = "rule `/items` conflicts with rule `/items`: both match the same paths and route GET"
)]
fn routing_one_method_of_one_rule_twice_panics() {
    let mut router = Router::new();
    router.route("/items", get(noop));
    router.route("/items", get(noop).post(noop));
}

#[test]
#[should_panic(expected = "rule `/x/<int:b>` conflicts with rule `/x/<int:a>`")]
fn equivalent_rules_with_one_method_panic() {
    let mut router = Router::new();
    router.route("/x/<int:a>", get(noop));
    router.route("/x/<int:b>", get(noop));
}

#[test]
#[should_panic(expected = "invalid rule `/x/<number:id>`: unknown converter `number`")]
fn invalid_rule_panics_with_the_reason() {
    let mut router = Router::new();
    router.route("/x/<number:id>", get(noop));
}

#[test]
fn lookup_of_a_static_rule_captures_nothing() {
    let router = router(&["/plaintext", "/json", "/items/<int:id>"]);
    let found = router
        .lookup(&Method::GET, "/json", None)
        .map_err(|error| error.to_string());
    assert!(found.is_ok_and(|found| found.captures.is_empty() && found.captures.capacity() == 0));
}

#[test]
fn many_rules_each_match_their_own_paths() {
    let mut rules = Vec::new();
    for index in 0..200 {
        rules.push(format!("/static/{index}/page"));
        rules.push(format!("/r{index}/<int:id>/<name>"));
    }
    let mut router = Router::new();
    for rule in &rules {
        router.route(rule, get(noop));
    }
    for index in 0..200 {
        let (rule, _) = lookup(&router, &format!("/static/{index}/page")).unwrap_or_default();
        assert_eq!(rule, format!("/static/{index}/page"));
        let (rule, params) = lookup(&router, &format!("/r{index}/9/nine")).unwrap_or_default();
        assert_eq!(rule, format!("/r{index}/<int:id>/<name>"));
        assert_eq!(
            params,
            [
                ("id".to_owned(), "9".to_owned()),
                ("name".to_owned(), "nine".to_owned())
            ]
        );
    }
    assert_eq!(lookup(&router, "/static/200/page"), Err(404));
}

#[test]
fn strict_slashes_redirect_through_placeholders_and_keep_the_query() {
    let router = router(&["/users/<name>/", "/files/<path:p>", "/plain"]);
    let redirect = router
        .lookup(&Method::GET, "/users/ann", Some("tab=1"))
        .err();
    let location = redirect
        .as_ref()
        .and_then(|error| error.headers().get(http::header::LOCATION).cloned());
    assert_eq!(redirect.map(|error| error.status().as_u16()), Some(308));
    assert_eq!(
        location.as_ref().and_then(|v| v.to_str().ok()),
        Some("/users/ann/?tab=1")
    );
    let missing = router.lookup(&Method::GET, "/plain/x", None).err();
    assert_eq!(missing.map(|error| error.status().as_u16()), Some(404));
    let missing = router.lookup(&Method::GET, "//users/ann", None).err();
    assert_eq!(missing.map(|error| error.status().as_u16()), Some(404));
}
