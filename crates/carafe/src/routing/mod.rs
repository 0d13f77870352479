//! Routing: from a request's method and path to the handler that answers it.
//!
//! This is Werkzeug's `Map`, `Rule` and `MapAdapter.match`. Rules use Werkzeug's syntax
//! and converters (see [`App::route`](crate::App::route); `rule.rs`, `converter.rs`), and
//! the rules are compiled into a segment trie (`trie.rs`) when they are registered, so a
//! lookup costs one step per path segment however many rules there are, and matching a
//! rule without placeholders allocates nothing.
//!
//! When no rule matches the path the answer is `404 Not Found`. When rules match the path
//! but none has a handler for the method, it is `405 Method Not Allowed` with an `Allow`
//! header listing the methods those rules do have (RFC 9110 §15.5.6: "The origin server
//! MUST generate an Allow header field in a 405 response"). `HEAD` is answered by the
//! `GET` handler, and `OPTIONS` automatically (see [`MethodRouter`]).

mod converter;
mod method;
mod params;
mod rule;
mod trie;

#[cfg(test)]
mod tests;

use std::fmt;

use http::{header, Method, StatusCode};

use crate::error::HttpError;
use crate::handler::BoxedHandler;

pub use self::method::{delete, get, options, patch, post, put, MethodRouter};
pub use self::params::Params;

pub(crate) use self::converter::Converter;
pub(crate) use self::method::MethodSet;
pub(crate) use self::params::Capture;

use self::rule::Rule;
use self::trie::Node;

/// A set of rules and their handlers, compiled for lookup: Werkzeug's `Map`.
///
/// [`App`](crate::App) owns one and routes every request through it; using a `Router`
/// directly is for tools and tests that want to see how a path matches.
///
/// ```
/// use carafe::{get, Router};
/// use http::{Method, StatusCode};
///
/// let mut router = Router::new();
/// router.route("/items/<int:id>", get(|| async { "an item" }));
///
/// let found = router.at(&Method::GET, "/items/42").unwrap();
/// assert_eq!(found.rule(), "/items/<int:id>");
/// assert_eq!(found.params().get("id").as_deref(), Some("42"));
///
/// let missing = router.at(&Method::GET, "/items/forty-two").unwrap_err();
/// assert_eq!(missing.status(), StatusCode::NOT_FOUND);
/// ```
#[derive(Default)]
pub struct Router {
    /// The compiled rules.
    root: Node,
    /// The routes, indexed by the trie's endpoints, in registration order.
    routes: Vec<Route>,
}

/// A rule and its handlers.
struct Route {
    rule: Rule,
    methods: MethodRouter,
}

/// What a lookup found, for the app's dispatch.
pub(crate) struct Found<'r> {
    /// The matched rule, as written.
    pub(crate) rule: &'r str,
    /// The handler; `None` when this is an `OPTIONS` request to answer automatically.
    pub(crate) handler: Option<&'r BoxedHandler>,
    /// For an automatic `OPTIONS` answer, every method the path allows.
    pub(crate) allow: MethodSet,
    /// The placeholders' matches.
    pub(crate) captures: Vec<Capture>,
}

impl Router {
    /// A router with no rules: every path gets `404 Not Found`.
    ///
    /// ```
    /// let router = carafe::Router::new();
    /// assert!(router.at(&http::Method::GET, "/").is_err());
    /// ```
    pub fn new() -> Self {
        Router::default()
    }

    /// Routes the paths matching `rule` to `methods`. See [`App::route`](crate::App::route)
    /// for the rule syntax.
    ///
    /// ```
    /// let mut router = carafe::Router::new();
    /// router.route("/", carafe::get(|| async { "home" }));
    /// ```
    ///
    /// # Panics
    ///
    /// If the rule is invalid, or if a rule that matches the same paths already has a
    /// handler for one of the methods.
    #[track_caller]
    pub fn route(&mut self, rule: &str, methods: MethodRouter) -> &mut Self {
        let rule = match Rule::parse(rule) {
            Ok(rule) => rule,
            Err(error) => panic!("invalid rule `{rule}`: {error}"),
        };
        let endpoint = self.root.endpoint(rule.segments());
        let explicit = methods.explicit();
        for &other in endpoint.iter() {
            let other = &self.routes[other];
            let shared = explicit.intersection(other.methods.explicit());
            if !shared.is_empty() {
                panic!(
                    "rule `{}` conflicts with rule `{}`: both match the same paths and route {shared}",
                    rule.as_str(),
                    other.rule.as_str()
                );
            }
        }
        endpoint.push(self.routes.len());
        self.routes.push(Route { rule, methods });
        self
    }

    /// Matches a request's method and path (its percent-encoded form, as in the request
    /// line): Werkzeug's `MapAdapter.match`.
    ///
    /// Fails with `404 Not Found`, or with `405 Method Not Allowed` and its `Allow`
    /// header, as [`HttpError`]s ready to be answered.
    ///
    /// ```
    /// use carafe::{post, Router};
    /// use http::{header, Method, StatusCode};
    ///
    /// let mut router = Router::new();
    /// router.route("/items", post(|| async { "created" }));
    /// let refused = router.at(&Method::GET, "/items").unwrap_err();
    /// assert_eq!(refused.status(), StatusCode::METHOD_NOT_ALLOWED);
    /// assert_eq!(refused.headers()[header::ALLOW], "OPTIONS, POST");
    /// ```
    pub fn at<'a>(&'a self, method: &Method, path: &'a str) -> Result<Match<'a>, HttpError> {
        let found = self.lookup(method, path)?;
        Ok(Match {
            rule: found.rule,
            path,
            captures: found.captures,
        })
    }

    /// Finds the handler for a request.
    pub(crate) fn lookup<'r>(
        &'r self,
        method: &Method,
        path: &str,
    ) -> Result<Found<'r>, HttpError> {
        let mut captures = Vec::new();
        let mut allow = MethodSet::default();
        let mut first_rule = None;
        let mut chosen = None;
        let routes = &self.routes;
        self.root.search(path, &mut captures, &mut |ids, _| {
            for route in ids.iter().map(|&id| &routes[id]) {
                if let Some(handler) = route.methods.handler(method) {
                    chosen = Some((route, handler));
                    return true;
                }
                allow = allow.union(route.methods.allowed());
                first_rule.get_or_insert(route.rule.as_str());
            }
            false
        });
        if let Some((route, handler)) = chosen {
            for (capture, param) in captures.iter_mut().zip(route.rule.params()) {
                capture.name = param.name;
            }
            let rule = route.rule.as_str();
            return Ok(Found {
                rule,
                handler: Some(handler),
                allow,
                captures,
            });
        }
        match first_rule {
            None => Err(not_found()),
            Some(rule) if method == Method::OPTIONS => Ok(Found {
                rule,
                handler: None,
                allow,
                captures: Vec::new(),
            }),
            Some(_) => Err(method_not_allowed(allow)),
        }
    }
}

impl Router {
    /// Every rule, in registration order, with its methods and endpoint: what
    /// `flask routes` lists (the CLI's `routes` subcommand prints it).
    ///
    /// ```
    /// async fn index() -> &'static str { "home" }
    ///
    /// let mut router = carafe::Router::new();
    /// router.route("/", carafe::get(index));
    /// let rules: Vec<_> = router.rules().collect();
    /// assert_eq!(rules[0].rule(), "/");
    /// assert_eq!(rules[0].methods().collect::<Vec<_>>(), ["GET", "HEAD", "OPTIONS"]);
    /// assert_eq!(rules[0].endpoint(), "index");
    /// ```
    pub fn rules(&self) -> impl Iterator<Item = RuleInfo<'_>> {
        self.routes.iter().map(|route| RuleInfo {
            rule: route.rule.as_str(),
            methods: route.methods.allowed(),
            handler: route.methods.first_handler_name(),
        })
    }
}

/// One rule of a [`Router`], as [`Router::rules`] lists it.
#[derive(Debug, Clone, Copy)]
pub struct RuleInfo<'a> {
    rule: &'a str,
    methods: MethodSet,
    handler: Option<&'static str>,
}

impl<'a> RuleInfo<'a> {
    /// The rule, as it was registered.
    ///
    /// ```
    /// # let mut router = carafe::Router::new();
    /// # router.route("/items/<int:id>", carafe::get(|| async { "" }));
    /// assert_eq!(router.rules().next().unwrap().rule(), "/items/<int:id>");
    /// ```
    pub fn rule(&self) -> &'a str {
        self.rule
    }

    /// The methods the rule answers, `HEAD` and `OPTIONS` included, in `Allow` order.
    ///
    /// ```
    /// # let mut router = carafe::Router::new();
    /// # router.route("/", carafe::post(|| async { "" }));
    /// let methods: Vec<_> = router.rules().next().unwrap().methods().collect();
    /// assert_eq!(methods, ["OPTIONS", "POST"]);
    /// ```
    pub fn methods(&self) -> impl Iterator<Item = &'static str> {
        self.methods.iter().map(Method::as_str)
    }

    /// The endpoint: the handler function's name (`index` for `async fn index`), as
    /// Flask names endpoints after view functions; `<closure>` for a closure.
    ///
    /// ```
    /// # let mut router = carafe::Router::new();
    /// router.route("/", carafe::get(|| async { "" }));
    /// assert_eq!(router.rules().next().unwrap().endpoint(), "<closure>");
    /// ```
    pub fn endpoint(&self) -> &'static str {
        let Some(name) = self.handler else {
            return "-";
        };
        let name = name.split('<').next().unwrap_or(name);
        match name.rsplit("::").next() {
            Some("{{closure}}") | None => "<closure>",
            Some(last) => last,
        }
    }
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let routes = self
            .routes
            .iter()
            .map(|route| (route.rule.as_str(), &route.methods));
        f.debug_map().entries(routes).finish()
    }
}

/// A successful [`Router::at`]: the rule that matched and its parameters.
///
/// ```
/// # let mut router = carafe::Router::new();
/// # router.route("/hello/<name>", carafe::get(|| async { "" }));
/// let found = router.at(&http::Method::GET, "/hello/world").unwrap();
/// assert_eq!(found.rule(), "/hello/<name>");
/// assert_eq!(found.params().get("name").as_deref(), Some("world"));
/// ```
#[derive(Debug)]
pub struct Match<'a> {
    rule: &'a str,
    path: &'a str,
    captures: Vec<Capture>,
}

impl<'a> Match<'a> {
    /// The rule that matched, as it was registered.
    ///
    /// ```
    /// # let mut router = carafe::Router::new();
    /// # router.route("/", carafe::get(|| async { "" }));
    /// assert_eq!(router.at(&http::Method::GET, "/").unwrap().rule(), "/");
    /// ```
    pub fn rule(&self) -> &'a str {
        self.rule
    }

    /// The values of the rule's placeholders.
    ///
    /// ```
    /// # let mut router = carafe::Router::new();
    /// # router.route("/<int:id>", carafe::get(|| async { "" }));
    /// let found = router.at(&http::Method::GET, "/7").unwrap();
    /// assert_eq!(found.params().get("id").as_deref(), Some("7"));
    /// ```
    pub fn params(&self) -> Params<'_> {
        Params::new(self.path, &self.captures)
    }
}

/// Werkzeug's `NotFound`.
fn not_found() -> HttpError {
    HttpError::new(
        StatusCode::NOT_FOUND,
        "The requested URL was not found on the server. If you entered the URL manually \
         please check your spelling and try again.",
    )
}

/// Werkzeug's `MethodNotAllowed`, with the `Allow` header RFC 9110 requires.
fn method_not_allowed(allow: MethodSet) -> HttpError {
    HttpError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "The method is not allowed for the requested URL.",
    )
    .with_header(header::ALLOW, allow.to_header_value())
}
