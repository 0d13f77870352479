//! The test client: requests to an [`App`] in-process, without a socket (Flask's
//! `app.test_client()`, Werkzeug's `Client`).
//!
//! [`App::test_client`] gives a [`TestClient`] that calls the app's dispatch directly,
//! as the server would, with:
//!
//! - a cookie jar kept between requests (`Path`, `Max-Age`, `Expires` and deletion
//!   honoured; `Domain` and `Secure` ignored, as every request goes to one host);
//! - redirects followed on request ([`TestClient::follow_redirects`]), 10 at most;
//! - bodies built from JSON, urlencoded forms and multipart forms ([`MultipartForm`]);
//! - a fake connection: the client is `127.0.0.1:0` and the server `127.0.0.1:80`
//!   (a [`ConnInfo`] extension), so handlers that take [`ConnInfo`] work and the debug
//!   error page is shown in debug mode; [`TestRequest::peer`] changes the client's
//!   address.
//!
//! Requests get `host: localhost` unless they set one, and a `content-length` for a body.
//!
//! ```
//! use carafe::{get, App};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let mut app = App::new();
//! app.route("/", get(|| async { "Hello" }));
//! let client = app.test_client();
//! let response = client.get("/").await;
//! assert_eq!(response.status(), 200);
//! assert_eq!(response.text().await, "Hello");
//! # }
//! ```

mod jar;
mod multipart;

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use carafe_serve::{Body, ConnInfo, Request, Response};
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::app::dispatch::Propagated;
use crate::app::App;
use crate::error::Error;
use crate::state::AppShared;

use self::jar::Jar;
pub use self::multipart::MultipartForm;

/// How many redirects one request follows at most.
const MAX_REDIRECTS: usize = 10;

/// The fake client address of test requests.
const TEST_PEER: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);
/// The fake server address of test requests.
const TEST_LOCAL: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 80);

impl App {
    /// A client that sends requests to this app in-process; see [`testing`](crate::testing).
    ///
    /// The app's setup is finished from here on: the client shares it, so routes and
    /// settings cannot change while it lives.
    ///
    /// ```
    /// let app = carafe::App::new();
    /// let client = app.test_client();
    /// # let _ = client;
    /// ```
    ///
    /// # Panics
    ///
    /// When [`App::check`] fails (a handler needs state the app lacks, ...), with its
    /// message: a test should fail there. [`App::try_test_client`] returns the error.
    #[track_caller]
    pub fn test_client(&self) -> TestClient {
        match self.try_test_client() {
            Ok(client) => client,
            Err(error) => panic!("the app cannot serve: {error}"),
        }
    }

    /// A test client, or the error [`App::check`] finds.
    ///
    /// ```
    /// use carafe::{get, App, State};
    ///
    /// let mut app = App::new();
    /// app.route("/", get(|State(name): State<String>| async move { name }));
    /// assert!(app.try_test_client().is_err());
    /// ```
    pub fn try_test_client(&self) -> Result<TestClient, Error> {
        self.check()?;
        Ok(TestClient {
            app: Arc::clone(self.shared()),
            jar: Mutex::new(Jar::default()),
            follow_redirects: false,
        })
    }
}

/// Sends requests to an app in-process; made by [`App::test_client`].
///
/// ```
/// use carafe::{get, post, App, Json};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut app = App::new();
/// app.route("/echo", post(|Json(v): Json<serde_json::Value>| async move { Json(v) }));
/// let client = app.test_client();
/// let response = client.post("/echo").json(&serde_json::json!({"a": 1})).await;
/// let value: serde_json::Value = response.json().await.unwrap_or_default();
/// assert_eq!(value["a"], 1);
/// # }
/// ```
#[derive(Debug)]
pub struct TestClient {
    /// The app, shared with the `App` it came from.
    app: Arc<AppShared>,
    /// The cookies the app set.
    jar: Mutex<Jar>,
    /// Whether requests follow redirects unless they say otherwise.
    follow_redirects: bool,
}

impl TestClient {
    /// Makes every request follow redirects (default off): the response is the last
    /// one's, after up to 10 redirects. `303`, and `301`/`302` after a `POST`, continue
    /// with a `GET` without body; `307` and `308` repeat the method and body.
    ///
    /// ```
    /// let client = carafe::App::new().test_client().follow_redirects(true);
    /// # let _ = client;
    /// ```
    pub fn follow_redirects(mut self, follow: bool) -> Self {
        self.follow_redirects = follow;
        self
    }

    /// A request with `method` to `uri` (a path with an optional query string, or an
    /// absolute URL whose path is used); send it with `.await` or [`TestRequest::send`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let client = carafe::App::new().test_client();
    /// let response = client.request(http::Method::PUT, "/missing").await;
    /// assert_eq!(response.status(), 404);
    /// # }
    /// ```
    pub fn request(&self, method: Method, uri: &str) -> TestRequest<'_> {
        TestRequest {
            client: self,
            method,
            uri: uri.to_owned(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            follow_redirects: None,
            peer: TEST_PEER,
            problem: None,
        }
    }

    /// A `GET` request.
    ///
    /// ```
    /// # let client = carafe::App::new().test_client();
    /// let request = client.get("/?page=2");
    /// # let _ = request;
    /// ```
    pub fn get(&self, uri: &str) -> TestRequest<'_> {
        self.request(Method::GET, uri)
    }

    /// A `POST` request.
    ///
    /// ```
    /// # let client = carafe::App::new().test_client();
    /// let request = client.post("/items").body("raw");
    /// # let _ = request;
    /// ```
    pub fn post(&self, uri: &str) -> TestRequest<'_> {
        self.request(Method::POST, uri)
    }

    /// A `PUT` request.
    ///
    /// ```
    /// # let client = carafe::App::new().test_client();
    /// let request = client.put("/items/1");
    /// # let _ = request;
    /// ```
    pub fn put(&self, uri: &str) -> TestRequest<'_> {
        self.request(Method::PUT, uri)
    }

    /// A `PATCH` request.
    ///
    /// ```
    /// # let client = carafe::App::new().test_client();
    /// let request = client.patch("/items/1");
    /// # let _ = request;
    /// ```
    pub fn patch(&self, uri: &str) -> TestRequest<'_> {
        self.request(Method::PATCH, uri)
    }

    /// A `DELETE` request.
    ///
    /// ```
    /// # let client = carafe::App::new().test_client();
    /// let request = client.delete("/items/1");
    /// # let _ = request;
    /// ```
    pub fn delete(&self, uri: &str) -> TestRequest<'_> {
        self.request(Method::DELETE, uri)
    }

    /// A `HEAD` request.
    ///
    /// ```
    /// # let client = carafe::App::new().test_client();
    /// let request = client.head("/");
    /// # let _ = request;
    /// ```
    pub fn head(&self, uri: &str) -> TestRequest<'_> {
        self.request(Method::HEAD, uri)
    }

    /// An `OPTIONS` request.
    ///
    /// ```
    /// # let client = carafe::App::new().test_client();
    /// let request = client.options("/");
    /// # let _ = request;
    /// ```
    pub fn options(&self, uri: &str) -> TestRequest<'_> {
        self.request(Method::OPTIONS, uri)
    }

    /// The value of the cookie `name` in the jar (for any path), if it is set and not
    /// expired.
    ///
    /// ```
    /// let client = carafe::App::new().test_client();
    /// client.set_cookie("theme", "dark");
    /// assert_eq!(client.cookie("theme").as_deref(), Some("dark"));
    /// ```
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar().value(name)
    }

    /// Puts a cookie in the jar, for path `/`, as if the app had set it.
    ///
    /// ```
    /// let client = carafe::App::new().test_client();
    /// client.set_cookie("session", "abc");
    /// ```
    pub fn set_cookie(&self, name: &str, value: &str) {
        self.jar().set(name, value, "/", None);
    }

    /// Removes the cookie `name` from the jar, for every path.
    ///
    /// ```
    /// let client = carafe::App::new().test_client();
    /// client.set_cookie("session", "abc");
    /// client.delete_cookie("session");
    /// assert_eq!(client.cookie("session"), None);
    /// ```
    pub fn delete_cookie(&self, name: &str) {
        self.jar().remove(name);
    }

    fn jar(&self) -> std::sync::MutexGuard<'_, Jar> {
        // The jar stays consistent when a panic poisoned the lock: updates are whole.
        self.jar.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends one request (no redirects) and stores the cookies it sets.
    async fn send_once(
        &self,
        request: &TestRequest<'_>,
        method: &Method,
        uri: &str,
        body: Bytes,
    ) -> Response {
        let path = path_of(uri);
        let mut builder = http::Request::builder().method(method.clone()).uri(path);
        if let Some(headers) = builder.headers_mut() {
            headers.extend(request.headers.clone());
            if !headers.contains_key(header::HOST) {
                headers.insert(header::HOST, HeaderValue::from_static("localhost"));
            }
            if !body.is_empty() {
                headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
            }
            if let Some(cookies) = self.jar().header_for(path_only(path)) {
                headers.insert(header::COOKIE, cookies);
            }
        }
        let conn = ConnInfo {
            peer_addr: request.peer,
            local_addr: TEST_LOCAL,
            id: 0,
            tls: false,
        };
        let req: Request = match builder.extension(conn).body(Body::from(body)) {
            Ok(req) => req,
            Err(error) => return bad_request(&format!("the test request is invalid: {error}")),
        };
        let response = crate::app::dispatch(&self.app, req).await;
        if let Some(propagated) = response.extensions().get::<Propagated>() {
            panic!(
                "{method} {path} failed (testing mode propagates errors, as Flask's TESTING \
                 does; set config.testing = false to get the 500 answer instead): {:?}",
                propagated.0
            );
        }
        self.jar().store(path_only(path), response.headers());
        response
    }
}

/// A request being built; send it with `.await` (or [`TestRequest::send`]).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let client = carafe::App::new().test_client();
/// let response = client
///     .post("/login")
///     .header("x-requested-with", "test")
///     .form(&[("user", "ann"), ("password", "secret")])
///     .await;
/// assert_eq!(response.status(), 404);
/// # }
/// ```
#[derive(Debug)]
#[must_use = "send the request with .await"]
pub struct TestRequest<'c> {
    client: &'c TestClient,
    method: Method,
    uri: String,
    headers: HeaderMap,
    body: Bytes,
    follow_redirects: Option<bool>,
    peer: SocketAddr,
    /// A builder call that failed (a bad header), answered as a `400` when sent.
    problem: Option<String>,
}

impl TestRequest<'_> {
    /// Adds a header.
    ///
    /// ```
    /// # let client = carafe::App::new().test_client();
    /// let request = client.get("/").header("accept", "text/html");
    /// # let _ = request;
    /// ```
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let parsed = HeaderName::from_bytes(name.as_bytes());
        match (parsed, HeaderValue::from_str(value)) {
            (Ok(parsed), Ok(value)) => {
                self.headers.append(parsed, value);
            }
            _ => self.problem = Some(format!("invalid header `{name}: {value}`")),
        }
        self
    }

    /// Sets the body as it is, without a `content-type`.
    ///
    /// ```
    /// # let client = carafe::App::new().test_client();
    /// let request = client.post("/").body("raw text");
    /// # let _ = request;
    /// ```
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets a JSON body and `content-type: application/json`.
    ///
    /// ```
    /// # let client = carafe::App::new().test_client();
    /// let request = client.post("/").json(&serde_json::json!({"name": "ann"}));
    /// # let _ = request;
    /// ```
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(json) => self.body = json.into(),
            Err(error) => {
                self.problem = Some(format!("the JSON body failed to serialize: {error}"))
            }
        }
        self.content_type("application/json")
    }

    /// Sets an urlencoded form body (`content-type: application/x-www-form-urlencoded`)
    /// from pairs or a struct.
    ///
    /// ```
    /// # let client = carafe::App::new().test_client();
    /// let request = client.post("/").form(&[("name", "ann"), ("age", "7")]);
    /// # let _ = request;
    /// ```
    pub fn form<T: Serialize + ?Sized>(mut self, form: &T) -> Self {
        match serde_urlencoded::to_string(form) {
            Ok(text) => self.body = text.into(),
            Err(error) => self.problem = Some(format!("the form failed to serialize: {error}")),
        }
        self.content_type("application/x-www-form-urlencoded")
    }

    /// Sets a `multipart/form-data` body.
    ///
    /// ```
    /// use carafe::testing::MultipartForm;
    ///
    /// # let client = carafe::App::new().test_client();
    /// let form = MultipartForm::new()
    ///     .text("title", "holiday")
    ///     .file("photo", "beach.jpg", "image/jpeg", vec![0xff, 0xd8]);
    /// let request = client.post("/upload").multipart(form);
    /// # let _ = request;
    /// ```
    pub fn multipart(mut self, form: MultipartForm) -> Self {
        let (content_type, body) = form.encode();
        self.body = body;
        self.content_type(&content_type)
    }

    /// Follows redirects for this request, or not, whatever the client's setting.
    ///
    /// ```
    /// # let client = carafe::App::new().test_client();
    /// let request = client.get("/old").follow_redirects(true);
    /// # let _ = request;
    /// ```
    pub fn follow_redirects(mut self, follow: bool) -> Self {
        self.follow_redirects = Some(follow);
        self
    }

    /// Sends the request as from `peer` (default `127.0.0.1:0`), to test what depends on
    /// the client's address.
    ///
    /// ```
    /// # let client = carafe::App::new().test_client();
    /// let request = client.get("/").peer("203.0.113.9:4000".parse().unwrap());
    /// # let _ = request;
    /// ```
    pub fn peer(mut self, peer: SocketAddr) -> Self {
        self.peer = peer;
        self
    }

    fn content_type(mut self, value: &str) -> Self {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.insert(header::CONTENT_TYPE, value);
        }
        self
    }

    /// Sends the request, following redirects if asked, and returns the response.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let client = carafe::App::new().test_client();
    /// let response = client.get("/").send().await;
    /// assert_eq!(response.status(), 404);
    /// # }
    /// ```
    pub async fn send(self) -> TestResponse {
        if let Some(problem) = &self.problem {
            return TestResponse::new(bad_request(problem), self.uri.clone());
        }
        let follow = self
            .follow_redirects
            .unwrap_or(self.client.follow_redirects);
        let mut method = self.method.clone();
        let mut uri = self.uri.clone();
        let mut body = self.body.clone();
        let mut redirects = 0;
        loop {
            let response = self
                .client
                .send_once(&self, &method, &uri, body.clone())
                .await;
            let location = response
                .headers()
                .get(header::LOCATION)
                .and_then(|value| value.to_str().ok());
            let next = match location {
                Some(location)
                    if follow && redirects < MAX_REDIRECTS && is_redirect(response.status()) =>
                {
                    resolve(&uri, location)
                }
                _ => return TestResponse::new(response, uri),
            };
            if changes_to_get(response.status(), &method) {
                method = Method::GET;
                body = Bytes::new();
            }
            uri = next;
            redirects += 1;
        }
    }
}

impl<'c> IntoFuture for TestRequest<'c> {
    type Output = TestResponse;
    type IntoFuture = Pin<Box<dyn Future<Output = TestResponse> + Send + 'c>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// A response to a test request.
///
/// ```
/// use carafe::{get, App};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut app = App::new();
/// app.route("/", get(|| async { "Hello" }));
/// let response = app.test_client().get("/").await;
/// assert_eq!(response.status(), 200);
/// assert_eq!(response.header("content-type"), Some("text/plain; charset=utf-8"));
/// assert_eq!(response.bytes().await, "Hello");
/// # }
/// ```
#[derive(Debug)]
pub struct TestResponse {
    response: Response,
    /// The URL of the request this answers (the last one, after redirects).
    url: String,
}

impl TestResponse {
    fn new(response: Response, url: String) -> Self {
        TestResponse { response, url }
    }

    /// The status.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let response = carafe::App::new().test_client().get("/").await;
    /// assert_eq!(response.status(), http::StatusCode::NOT_FOUND);
    /// # }
    /// ```
    pub fn status(&self) -> StatusCode {
        self.response.status()
    }

    /// The headers.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let response = carafe::App::new().test_client().get("/").await;
    /// assert!(response.headers().contains_key("content-type"));
    /// # }
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        self.response.headers()
    }

    /// The first value of header `name`, if it is text.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let response = carafe::App::new().test_client().get("/").await;
    /// assert_eq!(response.header("x-missing"), None);
    /// # }
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers().get(name)?.to_str().ok()
    }

    /// The path and query of the request this response answers: after redirects, the
    /// last one's.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let response = carafe::App::new().test_client().get("/a?b=c").await;
    /// assert_eq!(response.url(), "/a?b=c");
    /// # }
    /// ```
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The whole response, to read it yourself.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let response = carafe::App::new().test_client().get("/").await.into_response();
    /// assert_eq!(response.status(), 404);
    /// # }
    /// ```
    pub fn into_response(self) -> Response {
        self.response
    }

    /// The body's bytes.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let response = carafe::App::new().test_client().head("/").await;
    /// assert!(response.bytes().await.len() > 0); // in-process, HEAD bodies are not cut
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// If the body fails while being read (a streaming body's error): the test fails.
    pub async fn bytes(self) -> Bytes {
        match self.response.into_body().to_bytes(usize::MAX).await {
            Ok(bytes) => bytes,
            Err(error) => panic!("the response body failed: {error}"),
        }
    }

    /// The body as text (invalid UTF-8 replaced with `U+FFFD`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let response = carafe::App::new().test_client().get("/").await;
    /// assert!(response.text().await.starts_with("The requested URL was not found"));
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// As [`TestResponse::bytes`].
    pub async fn text(self) -> String {
        String::from_utf8_lossy(&self.bytes().await).into_owned()
    }

    /// The body parsed as JSON.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let response = carafe::App::new().test_client().get("/").await;
    /// assert!(response.json::<serde_json::Value>().await.is_err()); // a text 404
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// As [`TestResponse::bytes`].
    pub async fn json<T: DeserializeOwned>(self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.bytes().await)
    }
}

/// A `400` for a request the test client could not build.
fn bad_request(problem: &str) -> Response {
    crate::error::HttpError::new(StatusCode::BAD_REQUEST, problem.to_owned()).into_plain_response()
}

/// Whether `status` is a redirect the client follows.
fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// Whether a redirect with `status` continues with `GET` (RFC 9110 §15.4: 303 always,
/// 301 and 302 after a `POST` as browsers do).
fn changes_to_get(status: StatusCode, method: &Method) -> bool {
    status == StatusCode::SEE_OTHER
        || (matches!(status.as_u16(), 301 | 302) && method == Method::POST)
}

/// The path and query of `uri`, which may be absolute.
fn path_of(uri: &str) -> &str {
    let Some((_, rest)) = uri.split_once("://") else {
        return uri;
    };
    rest.find('/').map_or("/", |at| &rest[at..])
}

/// The path of a path and query.
fn path_only(uri: &str) -> &str {
    uri.split(['?', '#']).next().unwrap_or("/")
}

/// `location` resolved against `current`, as a path and query.
fn resolve(current: &str, location: &str) -> String {
    if location.contains("://") || location.starts_with('/') {
        return path_of(location).to_owned();
    }
    let base = path_only(path_of(current));
    let directory = &base[..base.rfind('/').map_or(0, |at| at + 1)];
    format!("{directory}{location}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_resolve_to_paths() {
        assert_eq!(resolve("/a/b", "/c"), "/c");
        assert_eq!(resolve("/a/b", "c?d=1"), "/a/c?d=1");
        assert_eq!(resolve("/a/b", "http://localhost/x/"), "/x/");
        assert_eq!(path_of("http://localhost"), "/");
    }

    #[test]
    fn only_see_other_and_posts_switch_to_get() {
        assert!(changes_to_get(StatusCode::SEE_OTHER, &Method::PUT));
        assert!(changes_to_get(StatusCode::FOUND, &Method::POST));
        assert!(!changes_to_get(StatusCode::FOUND, &Method::PUT));
        assert!(!changes_to_get(
            StatusCode::PERMANENT_REDIRECT,
            &Method::POST
        ));
    }
}
