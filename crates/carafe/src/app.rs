//! The application: Flask's `Flask` object.
//!
//! An [`App`] collects routes at startup and answers requests afterwards. It implements
//! [`carafe_serve::Application`], so the serving layer calls it once per request;
//! [`App::run`] and [`cli::run`](crate::cli::run) start that server.
//!
//! A request goes through routing ([`Router`]), the handler's extractors and the handler,
//! and the handler's return value becomes the response. Routing failures (`404`, `405`)
//! and extractor rejections are [`HttpError`](crate::HttpError)s, answered in one place.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use carafe_serve::{Application, Request, Response};
use http::StatusCode;

use crate::blueprint::{join_rule, Blueprint, BlueprintInfo, BlueprintScope};
use crate::config::Config;
use crate::error::Error;
use crate::hooks::BeforeRequest;
use crate::response::IntoResponse;
use crate::routing::{MethodRouter, Origin, Router};
use crate::run::Run;
use crate::state::{AppShared, StateMap};
use crate::url::{UrlError, UrlParams};

pub(crate) mod dispatch;

pub(crate) use self::dispatch::{dispatch, RequestView};

/// A check run before the app serves: [`App::add_startup_check`].
type StartupCheck = Box<dyn Fn(&App) -> Result<(), Error> + Send + Sync>;

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
pub struct App {
    /// Routes, hooks, state and settings every request shares.
    shared: Arc<AppShared>,
    /// Checks run before serving, besides the built-in ones.
    startup_checks: Vec<StartupCheck>,
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.shared.router, f)
    }
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
            shared: Arc::new(AppShared::new()),
            startup_checks: Vec::new(),
        }
    }

    /// Whether the app runs in debug mode (Flask's `app.debug`): on with `--debug`,
    /// `CARAFE_DEBUG=1` or [`Run::debug`]. Off by default.
    ///
    /// ```
    /// let mut app = carafe::App::new();
    /// assert!(!app.debug());
    /// app.set_debug(true);
    /// assert!(app.debug());
    /// ```
    pub fn debug(&self) -> bool {
        self.shared.config.debug
    }

    /// Turns debug mode on or off. [`Run::debug`] and the CLI's `--debug` call this; the
    /// reloader is their business, not this flag's.
    ///
    /// ```
    /// let mut app = carafe::App::new();
    /// app.set_debug(true);
    /// ```
    pub fn set_debug(&mut self, on: bool) -> &mut Self {
        self.shared_mut().config.debug = on;
        self
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
    /// | `<any(a, b):name>` | one of the listed words |
    ///
    /// Static text wins over placeholders, and more specific converters over less specific
    /// ones (`int`, `float`, `uuid`, `any`, then `string`, then `path`), whatever the
    /// order of registration. A trailing slash is significant, as in Werkzeug: a rule
    /// `/about/` answers `/about` with `308 Permanent Redirect` to `/about/` (query string
    /// kept), while a rule `/about` does not answer `/about/`.
    ///
    /// Each route has an endpoint name for [`url_for`](crate::url_for): the first
    /// handler's function name (`index`), or the name given with
    /// [`MethodRouter::name`]. Several rules may share an endpoint when they share the
    /// handler; two different handlers under one name panic, as in Flask.
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
        self.shared_mut().router.route(rule, methods);
        self
    }

    /// Registers `blueprint`'s routes, hooks and error handlers, and the blueprints nested
    /// in it (Flask's `app.register_blueprint`).
    ///
    /// ```
    /// use carafe::{get, App, Blueprint};
    ///
    /// let mut admin = Blueprint::new("admin").url_prefix("/admin");
    /// admin.route("/", get(|| async { "admin" }).name("index"));
    /// let mut app = App::new();
    /// app.register_blueprint(admin);
    /// assert_eq!(app.url_for("admin.index", ()).unwrap(), "/admin/");
    /// ```
    ///
    /// # Panics
    ///
    /// When a blueprint of the same full name is already registered, or one of its rules
    /// is invalid or clashes (see [`App::route`]).
    #[track_caller]
    pub fn register_blueprint(&mut self, blueprint: Blueprint) -> &mut Self {
        self.register_nested(blueprint, None);
        self
    }

    #[track_caller]
    fn register_nested(&mut self, blueprint: Blueprint, parent: Option<usize>) {
        let shared = self.shared_mut();
        let parts = blueprint.into_parts();
        let info = parts
            .info
            .nested_in(parent.map(|parent| &shared.blueprints[parent].info));
        if shared
            .blueprints
            .iter()
            .any(|known| known.info.name() == info.name())
        {
            panic!(
                "a blueprint named `{}` is already registered: blueprint names must be unique",
                info.name()
            );
        }
        let index = shared.blueprints.len();
        shared.hooked |= !parts.hooks.is_empty();
        let prefix = info.url_prefix().to_owned();
        let name = info.name().to_owned();
        shared.blueprints.push(BlueprintScope {
            info,
            parent,
            hooks: parts.hooks,
        });
        for (rule, methods) in parts.routes {
            let origin = Origin {
                blueprint_name: Some(&name),
                blueprint: Some(index),
            };
            shared
                .router
                .add(&join_rule(&prefix, &rule), methods, origin);
        }
        for child in parts.children {
            self.register_nested(child, Some(index));
        }
    }

    /// The registered blueprints, in registration order (nested ones after their parent),
    /// with their prefixes and folders.
    ///
    /// ```
    /// let mut app = carafe::App::new();
    /// app.register_blueprint(carafe::Blueprint::new("admin").static_folder("admin/static"));
    /// let names: Vec<&str> = app.blueprints().map(|bp| bp.name()).collect();
    /// assert_eq!(names, ["admin"]);
    /// ```
    pub fn blueprints(&self) -> impl Iterator<Item = &BlueprintInfo> {
        self.shared.blueprints.iter().map(|scope| &scope.info)
    }

    /// Sends every request through the full dispatch path (hooks, error handlers,
    /// compression): features that change every response call this at setup.
    #[track_caller]
    pub(crate) fn take_full_path(&mut self) -> &mut Self {
        self.shared_mut().hooked = true;
        self
    }

    /// Adds a hook run before each request, in registration order (Flask's
    /// `before_request`). It is an `async fn` taking extractors (see
    /// [`BeforeRequest`]); returning `Some(response)` answers the request without calling
    /// the handler, returning an error answers with the error handlers.
    ///
    /// ```
    /// use carafe::{get, App};
    /// use http::{HeaderMap, StatusCode};
    ///
    /// async fn logged_in(headers: HeaderMap) -> Option<(StatusCode, &'static str)> {
    ///     if headers.contains_key("authorization") {
    ///         None
    ///     } else {
    ///         Some((StatusCode::UNAUTHORIZED, "log in first"))
    ///     }
    /// }
    ///
    /// let mut app = App::new();
    /// app.before_request(logged_in).route("/", get(|| async { "secret" }));
    /// ```
    pub fn before_request<H: BeforeRequest<Args>, Args: 'static>(&mut self, hook: H) -> &mut Self {
        let shared = self.shared_mut();
        shared.hooks.add_before(hook);
        shared.hooked = true;
        self
    }

    /// Adds a hook that receives each response and returns it, changed or replaced
    /// (Flask's `after_request`). Hooks run last registered first; they run for error
    /// answers too.
    ///
    /// ```
    /// use carafe::{App, Response};
    /// use http::HeaderValue;
    ///
    /// let mut app = App::new();
    /// app.after_request(|mut response: Response| async move {
    ///     response.headers_mut().insert("x-frame-options", HeaderValue::from_static("DENY"));
    ///     response
    /// });
    /// ```
    pub fn after_request<F, Fut, R>(&mut self, hook: F) -> &mut Self
    where
        F: Fn(Response) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoResponse,
    {
        let shared = self.shared_mut();
        shared.hooks.add_after(hook);
        shared.hooked = true;
        self
    }

    /// Adds a hook run after each request once its response is made, whatever happened
    /// (Flask's `teardown_request`): after an early answer, after an error. It receives
    /// the error that no error handler took, if any.
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let mut app = carafe::App::new();
    /// app.teardown_request(|error: Option<Arc<carafe::Error>>| async move {
    ///     if let Some(error) = error {
    ///         eprintln!("the request failed: {error}");
    ///     }
    /// });
    /// ```
    pub fn teardown_request<F, Fut>(&mut self, hook: F) -> &mut Self
    where
        F: Fn(Option<Arc<Error>>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let shared = self.shared_mut();
        shared.hooks.add_teardown(hook);
        shared.hooked = true;
        self
    }

    /// Answers errors with `status` with `handler` (Flask's `errorhandler(404)`): errors
    /// from [`abort`](crate::abort), routing (`404`, `405`), extractors (`400`, `413`,
    /// ...) and, for `500`, every error no type handler took. The handler's response keeps
    /// the error's status unless it sets another one than `200`.
    ///
    /// ```
    /// use carafe::{App, Html};
    /// use http::StatusCode;
    ///
    /// let mut app = App::new();
    /// app.register_error_handler(StatusCode::NOT_FOUND, |_error| async {
    ///     Html("<h1>Nothing here</h1>")
    /// });
    /// ```
    pub fn register_error_handler<F, Fut, R>(&mut self, status: StatusCode, handler: F) -> &mut Self
    where
        F: Fn(Error) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoResponse,
    {
        let shared = self.shared_mut();
        shared.hooks.add_status_handler(status, handler);
        shared.hooked = true;
        self
    }

    /// Answers errors of type `T` (returned with `?` as a [`carafe::Error`](Error)) with
    /// `handler`, which receives the `T` itself (Flask's `errorhandler(SomeException)`).
    ///
    /// ```
    /// use carafe::App;
    /// use http::StatusCode;
    ///
    /// #[derive(Debug)]
    /// struct OutOfStock(u64);
    /// impl std::fmt::Display for OutOfStock {
    ///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    ///         write!(f, "item {} is out of stock", self.0)
    ///     }
    /// }
    /// impl std::error::Error for OutOfStock {}
    ///
    /// let mut app = App::new();
    /// app.register_error_type_handler(|error: OutOfStock| async move {
    ///     (StatusCode::CONFLICT, error.to_string())
    /// });
    /// ```
    pub fn register_error_type_handler<T, F, Fut, R>(&mut self, handler: F) -> &mut Self
    where
        T: std::error::Error + Send + Sync + 'static,
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoResponse,
    {
        let shared = self.shared_mut();
        shared.hooks.add_type_handler(handler);
        shared.hooked = true;
        self
    }

    /// Builds the URL of `endpoint` without a request (Flask's `url_for` in an app
    /// context); see [`url_for`](crate::url_for). Special parameters:
    ///
    /// | parameter | effect |
    /// |---|---|
    /// | `_anchor` | appended as `#anchor` |
    /// | `_external` | `true`: an absolute URL; the host is `SERVER_NAME` from `extra` |
    /// | `_scheme` | the scheme of an external URL (default `PREFERRED_URL_SCHEME`, `http`) |
    /// | `_method` | only rules that answer this method |
    ///
    /// ```
    /// use carafe::{get, App};
    ///
    /// async fn item() -> &'static str { "an item" }
    ///
    /// let mut app = App::new();
    /// app.route("/items/<int:id>", get(item));
    /// app.config_mut().extra.insert("SERVER_NAME".into(), "example.com".into());
    /// assert_eq!(app.url_for("item", [("id", "7"), ("q", "x y")]).unwrap(), "/items/7?q=x+y");
    /// assert_eq!(
    ///     app.url_for("item", [("id", "7"), ("_anchor", "top"), ("_external", "true")]).unwrap(),
    ///     "http://example.com/items/7#top"
    /// );
    /// assert!(app.url_for("item", [("id", "seven")]).is_err());
    /// ```
    pub fn url_for(&self, endpoint: &str, params: impl UrlParams) -> Result<String, UrlError> {
        crate::url::build(
            &self.shared,
            None,
            endpoint,
            params.into_pairs(),
            None,
            None,
        )
    }

    /// Adds a check that [`App::check`] runs before the app serves (and that the test
    /// client runs), such as "sessions need a secret key in production". Features
    /// register theirs when they are set up; applications may add their own.
    ///
    /// ```
    /// let mut app = carafe::App::new();
    /// app.add_startup_check(|app| {
    ///     if app.config().extra.contains_key("DATABASE_URL") {
    ///         Ok(())
    ///     } else {
    ///         Err(carafe::Error::msg("set DATABASE_URL"))
    ///     }
    /// });
    /// assert_eq!(app.check().unwrap_err().to_string(), "set DATABASE_URL");
    /// ```
    pub fn add_startup_check(
        &mut self,
        check: impl Fn(&App) -> Result<(), Error> + Send + Sync + 'static,
    ) -> &mut Self {
        self.startup_checks.push(Box::new(check));
        self
    }

    /// Checks that the app can serve: every state type that a handler's or a hook's
    /// extractors need is there, and every startup check passes. [`App::run`] and the
    /// test client call it; the error names the handler and what it lacks.
    ///
    /// ```
    /// use carafe::{get, App, State};
    ///
    /// async fn hits(State(count): State<u64>) -> String { count.to_string() }
    ///
    /// let mut app = App::new();
    /// app.route("/hits", get(hits));
    /// let error = app.check().unwrap_err().to_string();
    /// assert!(error.contains("State<u64>") && error.contains("hits"), "{error}");
    /// app.state(0u64);
    /// assert!(app.check().is_ok());
    /// ```
    pub fn check(&self) -> Result<(), Error> {
        let shared = &*self.shared;
        for (rule, handler) in shared.router.handlers() {
            if let Some(missing) = handler.needs().missing(&shared.state).next() {
                return Err(Error::from(StartupError(format!(
                    "the handler {} of rule `{rule}` takes State<{missing}>, but the app has no \
                     {missing}: call app.state(..) with one at startup",
                    handler.name()
                ))));
            }
        }
        let hooks =
            std::iter::once(&shared.hooks).chain(shared.blueprints.iter().map(|bp| &bp.hooks));
        for hooks in hooks {
            if let Some(missing) = hooks.needs.missing(&shared.state).next() {
                return Err(Error::from(StartupError(format!(
                    "a before_request hook takes State<{missing}>, but the app has no \
                     {missing}: call app.state(..) with one at startup"
                ))));
            }
        }
        self.check_secret_key()?;
        for check in &self.startup_checks {
            check(self)?;
        }
        Ok(())
    }

    /// Fails in production when a handler or hook signs with the secret key (takes a
    /// [`Session`](crate::Session)) and none is set; warns in debug mode.
    fn check_secret_key(&self) -> Result<(), Error> {
        let shared = &*self.shared;
        if shared.config.secret_key.is_some() {
            return Ok(());
        }
        let hooks =
            std::iter::once(&shared.hooks).chain(shared.blueprints.iter().map(|bp| &bp.hooks));
        let mut users = shared
            .router
            .handlers()
            .flat_map(|(rule, handler)| {
                let name = handler.name();
                handler
                    .needs()
                    .secret_key_users()
                    .map(move |feature| (feature, format!("the handler {name} of rule `{rule}`")))
            })
            .chain(hooks.flat_map(|hooks| {
                hooks
                    .needs
                    .secret_key_users()
                    .map(|feature| (feature, "a before_request hook".to_owned()))
            }));
        let Some((feature, user)) = users.next() else {
            return Ok(());
        };
        if let Err(error) = shared.config.check_secret_key(feature) {
            return Err(Error::from(StartupError(format!(
                "{user} uses {feature}: {error}"
            ))));
        }
        if shared.config.debug {
            tracing::warn!(
                target: "carafe::app",
                "{user} uses {feature} without a secret key: allowed in debug mode, but \
                 production refuses to start; set `secret_key` in the config or \
                 CARAFE_SECRET_KEY"
            );
        }
        Ok(())
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
    /// [`RequestParts::state`](crate::RequestParts::state)). One value per type; a second call with the same type
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

    /// Serves another [`Application`] at `prefix`, in front of the app's routes (what
    /// Werkzeug's `DispatcherMiddleware` does): requests whose path is `prefix` or below it
    /// go to `application` unchanged, full path included, and none of the app's routing,
    /// hooks, sessions or error handlers run for them. Socket.IO mounts its Engine.IO
    /// endpoint this way (`carafe_socketio::SocketIo::run`).
    ///
    /// ```
    /// use carafe_serve::{Body, Request, Response};
    ///
    /// let mut app = carafe::App::new();
    /// app.route("/", carafe::get(|| async { "home" }));
    /// app.mount("/legacy", |_req: Request| async { Response::new(Body::from("old")) });
    /// ```
    ///
    /// # Panics
    ///
    /// Like [`config_mut`](Self::config_mut), once the app serves requests.
    #[track_caller]
    pub fn mount(&mut self, prefix: &str, application: impl Application) -> &mut Self {
        self.shared_mut().mounts.add(prefix, application);
        self
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
    /// Marks the app as rendering templates: requests keep a copy of their head for
    /// [`render_template`](crate::templates::render_template).
    pub(crate) fn mark_templated(&mut self) {
        self.shared_mut().templated = true;
    }

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
        &self.shared.router
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

    /// The shared part, for the test client.
    pub(crate) fn shared(&self) -> &Arc<AppShared> {
        &self.shared
    }
}

/// A startup check's failure.
#[derive(Debug)]
pub(crate) struct StartupError(pub(crate) String);

impl fmt::Display for StartupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartupError {}

impl Application for App {
    fn call(&self, req: Request) -> impl Future<Output = Response> + Send {
        dispatch::dispatch(&self.shared, req)
    }
}

#[cfg(test)]
mod tests;
