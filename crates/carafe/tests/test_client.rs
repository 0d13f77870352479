//! The test client: cookies kept between requests, redirects, JSON, form and multipart
//! bodies, the fake loopback connection.

use carafe::testing::MultipartForm;
use carafe::{get, post, App, ConnInfo, Json, Response};
use http::header::{HeaderValue, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use http::{HeaderMap, StatusCode};

/// Sets the cookies named in the query (`?set=a=1; Path=/`), and echoes the `Cookie`
/// header it received.
async fn cookies(headers: HeaderMap, uri: http::Uri) -> Response {
    let received = headers
        .get(COOKIE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let mut response = carafe::IntoResponse::into_response(received);
    let query = uri.query().unwrap_or("");
    for (key, value) in
        serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap_or_default()
    {
        if key == "set" {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().append(SET_COOKIE, value);
            }
        }
    }
    response
}

fn app() -> App {
    let mut app = App::new();
    app.route("/cookies", get(cookies))
        .route("/admin/cookies", get(cookies).name("admin_cookies"))
        .route(
            "/old",
            get(|| async { (StatusCode::FOUND, [(LOCATION, "/new?from=old")], ()) }).name("old"),
        )
        .route(
            "/new",
            get(|uri: http::Uri| async move { format!("new {}", uri) }).name("new"),
        )
        .route(
            "/submit",
            post(|| async { (StatusCode::SEE_OTHER, [(LOCATION, "new")], ()) }).name("submit"),
        )
        .route(
            "/keep",
            post(|| async { (StatusCode::PERMANENT_REDIRECT, [(LOCATION, "/echo")], ()) })
                .name("keep"),
        )
        .route(
            "/echo",
            post(|headers: HeaderMap, body: String| async move {
                let kind = headers.get(CONTENT_TYPE).cloned();
                let kind = kind
                    .and_then(|v| v.to_str().ok().map(str::to_owned))
                    .unwrap_or_default();
                format!("{kind}\n{body}")
            })
            .name("echo"),
        )
        .route(
            "/json",
            post(|Json(value): Json<serde_json::Value>| async move { Json(value) }).name("json"),
        )
        .route(
            "/whoami",
            get(|conn: ConnInfo| async move { conn.peer_addr.to_string() }).name("whoami"),
        );
    app
}

#[tokio::test]
async fn cookies_are_kept_between_requests_and_deleted_on_expiry() {
    let client = app().test_client();
    let response = client.get("/cookies?set=a%3D1%3B+Path%3D%2F").await;
    assert_eq!(response.text().await, "");
    assert_eq!(client.cookie("a").as_deref(), Some("1"));
    assert_eq!(client.get("/cookies").await.text().await, "a=1");
    client
        .get("/cookies?set=a%3D%3B+Path%3D%2F%3B+Max-Age%3D0")
        .await;
    assert_eq!(client.cookie("a"), None);
    assert_eq!(client.get("/cookies").await.text().await, "");
}

#[tokio::test]
async fn cookies_honor_their_path() {
    let client = app().test_client();
    client
        .get("/admin/cookies?set=adm%3D1%3B+Path%3D%2Fadmin")
        .await;
    assert_eq!(client.get("/cookies").await.text().await, "");
    assert_eq!(client.get("/admin/cookies").await.text().await, "adm=1");
}

#[tokio::test]
async fn redirects_are_followed_only_on_request() {
    let client = app().test_client();
    let response = client.get("/old").await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(response.header("location"), Some("/new?from=old"));

    let response = client.get("/old").follow_redirects(true).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.url(), "/new?from=old");
    assert_eq!(response.text().await, "new /new?from=old");

    let client = app().test_client().follow_redirects(true);
    let response = client.post("/submit").body("x").await;
    assert_eq!(response.text().await, "new /new");
}

#[tokio::test]
async fn a_308_redirect_repeats_the_method_and_body() {
    let client = app().test_client().follow_redirects(true);
    let response = client.post("/keep").body("kept").await;
    assert_eq!(response.text().await, "\nkept");
}

#[tokio::test]
async fn json_form_and_multipart_bodies_carry_their_content_type() {
    let client = app().test_client();
    let value: serde_json::Value = client
        .post("/json")
        .json(&serde_json::json!({"n": [1, 2]}))
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(value, serde_json::json!({"n": [1, 2]}));

    let text = client
        .post("/echo")
        .form(&[("a", "1 2"), ("b", "&")])
        .await
        .text()
        .await;
    assert_eq!(text, "application/x-www-form-urlencoded\na=1+2&b=%26");

    let form = MultipartForm::new()
        .text("title", "t")
        .file("doc", "a.txt", "text/plain", "hello");
    let text = client.post("/echo").multipart(form).await.text().await;
    assert!(
        text.starts_with("multipart/form-data; boundary=carafe-test-boundary-0\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "name=\"doc\"; filename=\"a.txt\"\r\ncontent-type: text/plain\r\n\r\nhello\r\n"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn the_client_is_a_fake_loopback_peer_unless_told_otherwise() {
    let client = app().test_client();
    assert_eq!(client.get("/whoami").await.text().await, "127.0.0.1:0");
    let peer = "203.0.113.9:4000".parse().unwrap_or(([0; 4], 0).into());
    assert_eq!(
        client.get("/whoami").peer(peer).await.text().await,
        "203.0.113.9:4000"
    );
}

#[tokio::test]
async fn a_bad_header_is_answered_400_without_reaching_the_app() {
    let client = app().test_client();
    let response = client.get("/cookies").header("bad name", "x").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[test]
#[should_panic(expected = "State<u32>")]
fn a_missing_state_makes_test_client_panic_with_the_check() {
    let mut app = App::new();
    app.route(
        "/",
        get(|carafe::State(n): carafe::State<u32>| async move { n.to_string() }).name("n"),
    );
    let _ = app.test_client();
}
