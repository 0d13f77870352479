//! The application: Flask's `Flask` object.
//!
//! An [`App`] collects routes at startup and answers requests afterwards. It implements
//! [`carafe_serve::Application`], so the serving layer calls it once per request;
//! [`App::run`] and [`cli::run`](crate::cli::run) start that server.
//!
//! A request goes through routing ([`Router`]), the handler's extractors and the handler,
//! and the handler's return value becomes the response. Routing failures (`404`, `405`)
//! and extractor rejections are [`HttpError`](crate::HttpError)s, answered in one place.

use std::future::Future;
use std::sync::Arc;

use carafe_serve::{Application, Request, Response};
use http::header;

use crate::config::Config;
use crate::extract::RequestParts;
use crate::response::IntoResponse;
use crate::routing::{MethodRouter, MethodSet, Router};
use crate::run::Run;
use crate::state::{AppShared, StateMap};

/// A carafe application: routes and their handlers.
///
/// Build it at startup with [`App::route`], then serve it with [`App::run`] or
/// [`cli::run`](crate::cli::run). It has no type parameters: handlers are boxed when they
/// are registered.
///
/// ```no_run
/// use carafe::{get, App, Path};
///
/// async fn index() -> &'static str {
///     "Hello, World!"
/// }
///
/// async fn item(Path(id): Path<u64>) -> String {
///     format!("item {id}")
/// }
///
/// fn main() -> Result<(), carafe::Error> {
///     let mut app = App::new();
///     app.route("/", get(index));
///     app.route("/items/<int:id>", get(item));
///     app.run().port(8082).serve()
/// }
/// ```
#[derive(Debug)]
pub struct App {
    /// The rules and their handlers.
    router: Router,
    /// State and settings every request shares; see [`App::state`].
    shared: Arc<AppShared>,
}

impl Default for App {
    fn default() -> Self {
        App::new()
    }
}

impl App {
    /// An app with no routes: every request gets `404 Not Found`.
    ///
    /// ```
    /// let app = carafe::App::new();
    /// # let _ = app;
    /// ```
    pub fn new() -> Self {
        App {
            router: Router::new(),
            shared: Arc::new(AppShared::new()),
        }
    }

    /// Routes requests whose path matches `rule` to the handlers in `methods` (Flask's
    /// `@app.route`).
    ///
    /// Rules use Werkzeug's syntax: static text, and placeholders that each fill a whole
    /// segment between slashes:
    ///
    /// | placeholder | matches |
    /// |---|---|
    /// | `<name>` or `<string:name>` | any text without a slash |
    /// | `<int:name>` | digits, up to `u64::MAX` |
    /// | `<float:name>` | digits, a dot, digits (`1.5`) |
    /// | `<uuid:name>` | a hyphenated UUID |
    /// | `<path:name>` | the rest of the path, slashes included; last segment only |
    ///
    /// Static text wins over placeholders, and more specific converters over less specific
    /// ones (`int`, `float`, `uuid`, then `string`, then `path`), whatever the order of
    /// registration. A trailing slash is significant: `/about` and `/about/` are
    /// different rules.
    ///
    /// ```
    /// use carafe::{get, App};
    ///
    /// let mut app = App::new();
    /// app.route("/", get(|| async { "home" }))
    ///     .route("/users/<name>", get(|| async { "a user" }))
    ///     .route("/users/me", get(|| async { "you" }))
    ///     .route("/files/<path:file>", get(|| async { "a file" }));
    /// ```
    ///
    /// # Panics
    ///
    /// An invalid rule, or a second handler for a method that a rule matching the same
    /// paths already routes, is a programming error, so it panics at startup, with a
    /// message saying what to fix (Flask raises at import time for the same mistakes):
    ///
    /// ```should_panic
    /// # use carafe::{get, App};
    /// let mut app = App::new();
    /// app.route("/items/<number:id>", get(|| async { "?" }));
    /// // panics: invalid rule `/items/<number:id>`: unknown converter `number`; ...
    /// ```
    #[track_caller]
    pub fn route(&mut self, rule: &str, methods: MethodRouter) -> &mut Self {
        self.router.route(rule, methods);
        self
    }

    /// Sets the most bytes that [`Json`](crate::Json), [`String`] and
    /// [`Bytes`](bytes::Bytes) read from a request body before answering `413` (Flask's
    /// `MAX_CONTENT_LENGTH`). The default is
    /// [`DEFAULT_MAX_CONTENT_LENGTH`](crate::extract::DEFAULT_MAX_CONTENT_LENGTH), 2 MiB;
    /// the server's own limit applies too.
    ///
    /// ```
    /// let mut app = carafe::App::new();
    /// app.max_content_length(16 * 1024 * 1024);
    /// ```
    pub fn max_content_length(&mut self, bytes: usize) -> &mut Self {
        self.shared_mut().config.max_content_length = bytes;
        self
    }

    /// Stores `value` in the app's state, for handlers to take with the
    /// [`State`](crate::State) extractor (and extractors with
    /// [`RequestParts::state`]). One value per type; a second call with the same type
    /// replaces the first.
    ///
    /// ```
    /// use carafe::{get, App, State};
    ///
    /// #[derive(Clone)]
    /// struct Greeting(&'static str);
    ///
    /// async fn hello(State(greeting): State<Greeting>) -> &'static str {
    ///     greeting.0
    /// }
    ///
    /// let mut app = App::new();
    /// app.state(Greeting("Hello, World!")).route("/", get(hello));
    /// ```
    #[track_caller]
    pub fn state<T: Send + Sync + 'static>(&mut self, value: T) -> &mut Self {
        self.shared_mut().state.insert(value);
        self
    }

    /// The app's state: what [`App::state`] stored.
    ///
    /// ```
    /// let mut app = carafe::App::new();
    /// app.state(7u8);
    /// assert_eq!(app.state_map().get::<u8>(), Some(&7));
    /// ```
    pub fn state_map(&self) -> &StateMap {
        &self.shared.state
    }

    /// The app's configuration (Flask's `app.config`).
    ///
    /// ```
    /// let app = carafe::App::new();
    /// assert_eq!(app.config().session_cookie_name, "session");
    /// ```
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// The app's configuration, to change at setup.
    ///
    /// ```
    /// let mut app = carafe::App::new();
    /// app.config_mut().secret_key = Some("change me".into());
    /// ```
    ///
    /// # Panics
    ///
    /// Once the app serves requests (or a test client holds it), its configuration is
    /// fixed; changing it then is a programming error.
    #[track_caller]
    pub fn config_mut(&mut self) -> &mut Config {
        &mut self.shared_mut().config
    }

    /// The shared part, to change while the app is being set up.
    #[track_caller]
    fn shared_mut(&mut self) -> &mut AppShared {
        match Arc::get_mut(&mut self.shared) {
            Some(shared) => shared,
            None => panic!("the app's settings cannot change once it serves requests"),
        }
    }

    /// The app's routes.
    ///
    /// ```
    /// let mut app = carafe::App::new();
    /// app.route("/", carafe::get(|| async { "home" }));
    /// assert!(app.router().at(&http::Method::GET, "/").is_ok());
    /// ```
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// Starts building a server for the app (Flask's `app.run`); finish with
    /// [`Run::serve`].
    ///
    /// ```no_run
    /// let app = carafe::App::new();
    /// app.run().host("0.0.0.0").port(8082).serve()?;
    /// # Ok::<(), carafe::Error>(())
    /// ```
    pub fn run(self) -> Run {
        Run::new(self)
    }

    /// Answers one request: routing, extractors, handler.
    async fn dispatch_request(&self, req: Request) -> Response {
        let found = match self.router.lookup(req.method(), req.uri().path()) {
            Ok(found) => found,
            Err(error) => return error.into_response(),
        };
        let Some(handler) = found.handler else {
            return automatic_options(found.allow);
        };
        let (head, body) = req.into_parts();
        let parts = RequestParts::routed(head, found.captures, Arc::clone(&self.shared));
        let (mut response, scope) = crate::scope::run(handler.call(parts, body)).await;
        scope.finish(&mut response);
        response
    }
}

/// The answer to `OPTIONS` for a rule without an `OPTIONS` handler: `200` with `Allow`.
fn automatic_options(allow: MethodSet) -> Response {
    let mut response = ().into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, allow.to_header_value());
    response
}

impl Application for App {
    fn call(&self, req: Request) -> impl Future<Output = Response> + Send {
        self.dispatch_request(req)
    }
}

#[cfg(test)]
mod tests;
