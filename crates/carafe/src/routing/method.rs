//! Method routing: which handler answers which HTTP method of one rule.
//!
//! A [`MethodRouter`] holds at most one handler per method. `GET` handlers answer `HEAD`
//! too (the server sends the head without the body), and every rule answers `OPTIONS`
//! with its `Allow` header unless it has an `OPTIONS` handler of its own, as Flask does
//! (RFC 9110 §9.3.2 and §9.3.7).

use std::borrow::Cow;
use std::fmt;

use http::{HeaderValue, Method};

use crate::handler::{BoxedHandler, Handler};

/// The methods carafe routes, in the order `Allow` lists them (alphabetical, as
/// Werkzeug's tests sort them).
const METHODS: [Method; 7] = [
    Method::DELETE,
    Method::GET,
    Method::HEAD,
    Method::OPTIONS,
    Method::PATCH,
    Method::POST,
    Method::PUT,
];

/// The position of `method` in [`METHODS`], or `None` for a method carafe does not route.
fn index_of(method: &Method) -> Option<usize> {
    match method.as_str() {
        "DELETE" => Some(DELETE),
        "GET" => Some(GET),
        "HEAD" => Some(HEAD),
        "OPTIONS" => Some(OPTIONS),
        "PATCH" => Some(PATCH),
        "POST" => Some(POST),
        "PUT" => Some(PUT),
        _ => None,
    }
}

// Positions in `METHODS`.
const DELETE: usize = 0;
const GET: usize = 1;
const HEAD: usize = 2;
const OPTIONS: usize = 3;
const PATCH: usize = 4;
const POST: usize = 5;
const PUT: usize = 6;

/// A set of routed methods, one bit per entry of [`METHODS`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct MethodSet(u8);

impl MethodSet {
    fn with(self, index: usize) -> Self {
        MethodSet(self.0 | 1 << index)
    }

    fn has(self, index: usize) -> bool {
        self.0 & (1 << index) != 0
    }

    /// Every method in either set.
    pub(crate) fn union(self, other: MethodSet) -> MethodSet {
        MethodSet(self.0 | other.0)
    }

    /// The methods in both sets.
    pub(crate) fn intersection(self, other: MethodSet) -> MethodSet {
        MethodSet(self.0 & other.0)
    }

    /// Whether the set is empty.
    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The methods, in `Allow` order.
    pub(crate) fn iter(self) -> impl Iterator<Item = &'static Method> {
        METHODS
            .iter()
            .enumerate()
            .filter(move |(index, _)| self.has(*index))
            .map(|(_, m)| m)
    }

    /// The value of an `Allow` header listing the set: `GET, HEAD, OPTIONS`.
    pub(crate) fn to_header_value(self) -> HeaderValue {
        let names: Vec<&str> = self.iter().map(Method::as_str).collect();
        // Method names are tokens, and tokens joined by ", " are a valid header value.
        HeaderValue::from_str(&names.join(", ")).unwrap_or(HeaderValue::from_static(""))
    }
}

impl fmt::Display for MethodSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (position, method) in self.iter().enumerate() {
            if position > 0 {
                f.write_str(", ")?;
            }
            f.write_str(method.as_str())?;
        }
        Ok(())
    }
}

/// The handlers of one rule, by HTTP method: what [`App::route`](crate::App::route) takes.
///
/// Build one with [`get`], [`post`], [`put`], [`delete`], [`patch`] or [`options`], and
/// chain more methods onto it:
///
/// ```
/// use carafe::{get, App, MethodRouter};
///
/// async fn show() -> &'static str { "an item" }
/// async fn update() -> &'static str { "updated" }
/// async fn remove() -> &'static str { "removed" }
///
/// let methods: MethodRouter = get(show).put(update).delete(remove);
/// let mut app = App::new();
/// app.route("/items/<int:id>", methods);
/// ```
///
/// # Panics
///
/// Giving one method two handlers panics: it is a programming error, found at startup.
#[derive(Default)]
#[must_use = "pass the MethodRouter to App::route"]
pub struct MethodRouter {
    /// The handlers, indexed like [`METHODS`].
    handlers: [Option<BoxedHandler>; METHODS.len()],
    /// The index of the handler added first, whose name is the default endpoint.
    first: Option<usize>,
    /// The endpoint name given with [`MethodRouter::name`].
    name: Option<Cow<'static, str>>,
}

impl MethodRouter {
    /// A method router with no handlers; a rule routed to it answers `OPTIONS`, and every
    /// other method with `405 Method Not Allowed`.
    ///
    /// ```
    /// let methods = carafe::MethodRouter::new().get(|| async { "hi" });
    /// # let _ = methods;
    /// ```
    pub fn new() -> Self {
        MethodRouter::default()
    }

    /// Adds a handler for `GET` requests, which also answers `HEAD`.
    ///
    /// ```
    /// let methods = carafe::post(|| async { "created" }).get(|| async { "listed" });
    /// # let _ = methods;
    /// ```
    #[track_caller]
    pub fn get<H: Handler<Args>, Args: 'static>(self, handler: H) -> Self {
        self.on(GET, BoxedHandler::new(handler))
    }

    /// Adds a handler for `POST` requests.
    ///
    /// ```
    /// let methods = carafe::get(|| async { "form" }).post(|| async { "sent" });
    /// # let _ = methods;
    /// ```
    #[track_caller]
    pub fn post<H: Handler<Args>, Args: 'static>(self, handler: H) -> Self {
        self.on(POST, BoxedHandler::new(handler))
    }

    /// Adds a handler for `PUT` requests.
    ///
    /// ```
    /// let methods = carafe::get(|| async { "item" }).put(|| async { "replaced" });
    /// # let _ = methods;
    /// ```
    #[track_caller]
    pub fn put<H: Handler<Args>, Args: 'static>(self, handler: H) -> Self {
        self.on(PUT, BoxedHandler::new(handler))
    }

    /// Adds a handler for `DELETE` requests.
    ///
    /// ```
    /// let methods = carafe::get(|| async { "item" }).delete(|| async { "gone" });
    /// # let _ = methods;
    /// ```
    #[track_caller]
    pub fn delete<H: Handler<Args>, Args: 'static>(self, handler: H) -> Self {
        self.on(DELETE, BoxedHandler::new(handler))
    }

    /// Adds a handler for `PATCH` requests.
    ///
    /// ```
    /// let methods = carafe::get(|| async { "item" }).patch(|| async { "patched" });
    /// # let _ = methods;
    /// ```
    #[track_caller]
    pub fn patch<H: Handler<Args>, Args: 'static>(self, handler: H) -> Self {
        self.on(PATCH, BoxedHandler::new(handler))
    }

    /// Adds a handler for `OPTIONS` requests, replacing the automatic answer.
    ///
    /// ```
    /// let methods = carafe::get(|| async { "item" }).options(|| async { "custom" });
    /// # let _ = methods;
    /// ```
    #[track_caller]
    pub fn options<H: Handler<Args>, Args: 'static>(self, handler: H) -> Self {
        self.on(OPTIONS, BoxedHandler::new(handler))
    }

    /// Names the endpoint of the rule (Flask's `endpoint=`), for
    /// [`url_for`](crate::url_for). Without a name, the endpoint is the name of the first
    /// handler function added (`index` for `async fn index`); closures have no name, so a
    /// rule served by a closure needs this to be reachable by `url_for`.
    ///
    /// ```
    /// use carafe::{get, App};
    ///
    /// let mut app = App::new();
    /// app.route("/", get(|| async { "home" }).name("home"));
    /// assert_eq!(app.url_for("home", ()).unwrap(), "/");
    /// ```
    pub fn name(mut self, endpoint: impl Into<Cow<'static, str>>) -> Self {
        self.name = Some(endpoint.into());
        self
    }

    /// The endpoint: the given name, or the first handler's function name.
    pub(crate) fn endpoint(&self) -> Option<&str> {
        if let Some(name) = &self.name {
            return Some(name);
        }
        self.first_handler()?.endpoint_name()
    }

    /// The handler added first.
    pub(crate) fn first_handler(&self) -> Option<&BoxedHandler> {
        self.handlers[self.first?].as_ref()
    }

    /// Every handler.
    pub(crate) fn handlers(&self) -> impl Iterator<Item = &BoxedHandler> {
        self.handlers.iter().flatten()
    }

    #[track_caller]
    fn on(mut self, index: usize, handler: BoxedHandler) -> Self {
        let slot = &mut self.handlers[index];
        if let Some(existing) = slot {
            panic!(
                "{} already has a handler ({}) in this MethodRouter; cannot add {}",
                METHODS[index],
                existing.name(),
                handler.name()
            );
        }
        *slot = Some(handler);
        self.first.get_or_insert(index);
        self
    }

    /// The handler for `method`: its own, or the `GET` handler for `HEAD`.
    pub(crate) fn handler(&self, method: &Method) -> Option<&BoxedHandler> {
        let index = index_of(method)?;
        match &self.handlers[index] {
            Some(handler) => Some(handler),
            None if index == HEAD => self.handlers[GET].as_ref(),
            None => None,
        }
    }

    /// The methods with a handler of their own.
    pub(crate) fn explicit(&self) -> MethodSet {
        let mut set = MethodSet::default();
        for (index, handler) in self.handlers.iter().enumerate() {
            if handler.is_some() {
                set = set.with(index);
            }
        }
        set
    }

    /// The type name of the first handler (`GET`'s if there is one), for listings.
    pub(crate) fn first_handler_name(&self) -> Option<&'static str> {
        let get = self.handlers[GET].as_ref();
        let first = get.or_else(|| self.handlers.iter().flatten().next());
        first.map(BoxedHandler::name)
    }

    /// The methods this rule answers: its own, `HEAD` with `GET`, and always `OPTIONS`.
    pub(crate) fn allowed(&self) -> MethodSet {
        let mut set = self.explicit().with(OPTIONS);
        if set.has(GET) {
            set = set.with(HEAD);
        }
        set
    }
}

impl fmt::Debug for MethodRouter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (method, handler) in METHODS.iter().zip(&self.handlers) {
            if let Some(handler) = handler {
                map.entry(&method.as_str(), handler);
            }
        }
        map.finish()
    }
}

/// Routes `GET` (and `HEAD`) requests to `handler`.
///
/// ```
/// use carafe::{get, App};
///
/// async fn index() -> &'static str {
///     "Hello, World!"
/// }
///
/// let mut app = App::new();
/// app.route("/", get(index));
/// ```
#[track_caller]
pub fn get<H: Handler<Args>, Args: 'static>(handler: H) -> MethodRouter {
    MethodRouter::new().get(handler)
}

/// Routes `POST` requests to `handler`.
///
/// ```
/// use carafe::{post, App};
///
/// async fn create(body: String) -> String {
///     format!("created {body}")
/// }
///
/// let mut app = App::new();
/// app.route("/items", post(create));
/// ```
#[track_caller]
pub fn post<H: Handler<Args>, Args: 'static>(handler: H) -> MethodRouter {
    MethodRouter::new().post(handler)
}

/// Routes `PUT` requests to `handler`.
///
/// ```
/// let mut app = carafe::App::new();
/// app.route("/items/<int:id>", carafe::put(|| async { "replaced" }));
/// ```
#[track_caller]
pub fn put<H: Handler<Args>, Args: 'static>(handler: H) -> MethodRouter {
    MethodRouter::new().put(handler)
}

/// Routes `DELETE` requests to `handler`.
///
/// ```
/// let mut app = carafe::App::new();
/// app.route("/items/<int:id>", carafe::delete(|| async { "deleted" }));
/// ```
#[track_caller]
pub fn delete<H: Handler<Args>, Args: 'static>(handler: H) -> MethodRouter {
    MethodRouter::new().delete(handler)
}

/// Routes `PATCH` requests to `handler`.
///
/// ```
/// let mut app = carafe::App::new();
/// app.route("/items/<int:id>", carafe::patch(|| async { "patched" }));
/// ```
#[track_caller]
pub fn patch<H: Handler<Args>, Args: 'static>(handler: H) -> MethodRouter {
    MethodRouter::new().patch(handler)
}

/// Routes `OPTIONS` requests to `handler` instead of the automatic answer.
///
/// ```
/// let mut app = carafe::App::new();
/// app.route("/", carafe::options(|| async { "custom options" }));
/// ```
#[track_caller]
pub fn options<H: Handler<Args>, Args: 'static>(handler: H) -> MethodRouter {
    MethodRouter::new().options(handler)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists_methods_alphabetically_with_head_and_options() {
        let methods = post(|| async {}).get(|| async {});
        assert_eq!(methods.allowed().to_string(), "GET, HEAD, OPTIONS, POST");
        assert_eq!(
            methods.allowed().to_header_value(),
            "GET, HEAD, OPTIONS, POST"
        );
        assert_eq!(delete(|| async {}).allowed().to_string(), "DELETE, OPTIONS");
    }

    #[test]
    fn head_falls_back_to_get() {
        let methods = get(|| async {});
        assert!(methods.handler(&Method::HEAD).is_some());
        assert!(post(|| async {}).handler(&Method::HEAD).is_none());
    }

    #[test]
    fn unknown_methods_have_no_handler() {
        let methods = get(|| async {});
        let propfind = Method::from_bytes(b"PROPFIND").unwrap_or(Method::TRACE);
        assert!(methods.handler(&propfind).is_none());
        assert!(methods.handler(&Method::TRACE).is_none());
    }

    #[test]
    #[should_panic(expected = "GET already has a handler")]
    fn one_method_with_two_handlers_panics() {
        let _ = get(|| async {}).get(|| async {});
    }
}
