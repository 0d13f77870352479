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

mod build;
mod converter;
mod method;
mod params;
mod rule;
mod trie;

#[cfg(test)]
mod tests;

use std::any::TypeId;
use std::collections::HashMap;
use std::fmt;

use http::{header, HeaderValue, Method, StatusCode};

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
    /// The routes of each endpoint, for `url_for`.
    endpoints: HashMap<Box<str>, Endpoint>,
}

/// A rule and its handlers.
struct Route {
    rule: Rule,
    methods: MethodRouter,
    /// The endpoint's full name (`admin.index`), if the route has one.
    endpoint: Option<Box<str>>,
    /// The index of the route's blueprint in the app.
    blueprint: Option<usize>,
}

/// The routes that share an endpoint name: one handler, one or more rules.
struct Endpoint {
    /// The handler's type: a second handler under the same name is a mistake.
    handler: TypeId,
    /// The handler's name, for the message about that mistake.
    handler_name: &'static str,
    /// The routes, in registration order.
    routes: Vec<usize>,
}

/// Where a route comes from: its blueprint, if any.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Origin<'a> {
    /// The blueprint's full name, prefixed to endpoints (`admin` → `admin.index`).
    pub(crate) blueprint_name: Option<&'a str>,
    /// The blueprint's index in the app.
    pub(crate) blueprint: Option<usize>,
}

/// One route of a [`Router`], as [`Router::routes`] lists it (the `routes` command).
///
/// ```
/// let mut router = carafe::Router::new();
/// router.route("/", carafe::get(|| async { "" }).name("home"));
/// let route = router.routes().next().unwrap();
/// assert_eq!((route.rule(), route.endpoint()), ("/", Some("home")));
/// assert_eq!(route.methods(), "GET, HEAD, OPTIONS");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RouteInfo<'a> {
    route: &'a Route,
}

impl<'a> RouteInfo<'a> {
    /// The rule, with its blueprint's prefix.
    ///
    /// ```
    /// # let mut router = carafe::Router::new();
    /// # router.route("/a", carafe::get(|| async { "" }));
    /// assert_eq!(router.routes().next().unwrap().rule(), "/a");
    /// ```
    pub fn rule(&self) -> &'a str {
        self.route.rule.as_str()
    }

    /// The endpoint, if the route has one.
    ///
    /// ```
    /// # let mut router = carafe::Router::new();
    /// # router.route("/a", carafe::get(|| async { "" }));
    /// assert_eq!(router.routes().next().unwrap().endpoint(), None);
    /// ```
    pub fn endpoint(&self) -> Option<&'a str> {
        self.route.endpoint.as_deref()
    }

    /// The methods the rule answers, as an `Allow` header lists them.
    ///
    /// ```
    /// # let mut router = carafe::Router::new();
    /// # router.route("/a", carafe::post(|| async { "" }));
    /// assert_eq!(router.routes().next().unwrap().methods(), "OPTIONS, POST");
    /// ```
    pub fn methods(&self) -> String {
        self.route.methods.allowed().to_string()
    }
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Route")
            .field("rule", &self.rule.as_str())
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

/// What a lookup found, for the app's dispatch.
pub(crate) struct Found<'r> {
    /// The matched route's index.
    pub(crate) route: usize,
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
        self.add(rule, methods, Origin::default())
    }

    /// Adds a route from `origin`; see [`Router::route`].
    #[track_caller]
    pub(crate) fn add(
        &mut self,
        rule: &str,
        methods: MethodRouter,
        origin: Origin<'_>,
    ) -> &mut Self {
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
        let index = self.routes.len();
        endpoint.push(index);
        let name = methods.endpoint().map(|name| match origin.blueprint_name {
            Some(blueprint) => format!("{blueprint}.{name}").into_boxed_str(),
            None => name.into(),
        });
        if let Some(name) = &name {
            self.add_endpoint(name, &rule, &methods, index);
        }
        self.routes.push(Route {
            rule,
            methods,
            endpoint: name,
            blueprint: origin.blueprint,
        });
        self
    }

    /// Records that route `index` serves endpoint `name`; panics if another handler
    /// already has the name (Flask: "View function mapping is overwriting an existing
    /// endpoint function").
    #[track_caller]
    fn add_endpoint(&mut self, name: &str, rule: &Rule, methods: &MethodRouter, index: usize) {
        let Some(handler) = methods.first_handler() else {
            return;
        };
        match self.endpoints.get_mut(name) {
            Some(known) if known.handler == handler.type_id() => known.routes.push(index),
            Some(known) => {
                let other = &self.routes[known.routes[0]];
                panic!(
                    "the endpoint `{name}` of rule `{}` (handler {}) is already the endpoint of \
                     rule `{}` (handler {}): give one of them another name with \
                     `.name(\"...\")`, or put them in different blueprints",
                    rule.as_str(),
                    handler.name(),
                    other.rule.as_str(),
                    known.handler_name,
                );
            }
            None => {
                let endpoint = Endpoint {
                    handler: handler.type_id(),
                    handler_name: handler.name(),
                    routes: vec![index],
                };
                self.endpoints.insert(name.into(), endpoint);
            }
        }
    }

    /// Every route, in registration order: the URL map (the `routes` command lists it).
    ///
    /// ```
    /// let mut router = carafe::Router::new();
    /// router.route("/", carafe::get(|| async { "" }));
    /// assert_eq!(router.routes().count(), 1);
    /// ```
    pub fn routes(&self) -> impl Iterator<Item = RouteInfo<'_>> {
        self.routes.iter().map(|route| RouteInfo { route })
    }

    /// Every rule with its handlers, for startup checks.
    pub(crate) fn handlers(&self) -> impl Iterator<Item = (&str, &BoxedHandler)> {
        self.routes.iter().flat_map(|route| {
            let rule = route.rule.as_str();
            route.methods.handlers().map(move |handler| (rule, handler))
        })
    }

    /// The endpoint of route `index`.
    pub(crate) fn endpoint_of(&self, index: usize) -> Option<&str> {
        self.routes.get(index)?.endpoint.as_deref()
    }

    /// The blueprint of route `index`.
    pub(crate) fn blueprint_of(&self, index: usize) -> Option<usize> {
        self.routes.get(index)?.blueprint
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
        let found = self.lookup(method, path, None)?;
        Ok(Match {
            rule: found.rule,
            path,
            captures: found.captures,
        })
    }

    /// Finds the handler for a request; `query` goes into the `Location` of a
    /// strict-slash redirect.
    pub(crate) fn lookup<'r>(
        &'r self,
        method: &Method,
        path: &str,
        query: Option<&str>,
    ) -> Result<Found<'r>, HttpError> {
        let mut captures = Vec::new();
        let mut allow = MethodSet::default();
        let mut first_rule = None;
        let mut chosen = None;
        let routes = &self.routes;
        self.root.search(path, &mut captures, &mut |ids, _| {
            for &id in ids {
                let route = &routes[id];
                if let Some(handler) = route.methods.handler(method) {
                    chosen = Some((id, route, handler));
                    return true;
                }
                allow = allow.union(route.methods.allowed());
                first_rule.get_or_insert((id, route.rule.as_str()));
            }
            false
        });
        if let Some((id, route, handler)) = chosen {
            for (capture, param) in captures.iter_mut().zip(route.rule.params()) {
                capture.name = param.name;
            }
            let rule = route.rule.as_str();
            return Ok(Found {
                route: id,
                rule,
                handler: Some(handler),
                allow,
                captures,
            });
        }
        match first_rule {
            None => Err(self.slash_redirect(path, query).unwrap_or_else(not_found)),
            Some((id, rule)) if method == Method::OPTIONS => Ok(Found {
                route: id,
                rule,
                handler: None,
                allow,
                captures: Vec::new(),
            }),
            Some(_) => Err(method_not_allowed(allow)),
        }
    }

    /// Werkzeug's strict slashes: when `path` has no trailing slash and no rule matches
    /// it, but a rule matches it with one (`/about/`), the answer is `308 Permanent
    /// Redirect` to that URL, the query string kept. 308 keeps the method and body.
    fn slash_redirect(&self, path: &str, query: Option<&str>) -> Option<HttpError> {
        // `//host` would be a network-path reference: never redirect there.
        if path.ends_with('/') || path.starts_with("//") || !path.starts_with('/') {
            return None;
        }
        if !self.root.reaches_with_slash(path, &mut Vec::new()) {
            return None;
        }
        let target = match query {
            Some(query) => format!("{path}/?{query}"),
            None => format!("{path}/"),
        };
        let location = HeaderValue::from_str(&target).ok()?;
        Some(
            HttpError::new(StatusCode::PERMANENT_REDIRECT, "Redirecting...")
                .with_header(header::LOCATION, location),
        )
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
