//! The request scope: what lives exactly as long as one request's handling.
//!
//! Flask keeps per-request values in context locals (`request`, `session`, `g`). carafe
//! keeps them in a task-local [`Scope`] that [`App`](crate::App) sets up around its handler
//! and takes back when the handler is done, so code anywhere in a handler's call tree can
//! reach the request's scope without threading it through every call, and the app can
//! finish the response with what that code left there.
//!
//! The scope holds:
//!
//! - *response finishers*: closures that extractors register while a request is handled
//!   (the session saves its cookie this way) and that the app runs on the response before
//!   it is sent;
//! - the app and the matched route, for [`url_for`](crate::url_for) and
//!   [`request_endpoint`];
//! - for apps with templates, a copy of the request's method, target and headers (a
//!   [`RequestHead`]) and the request's [`Session`], so that the free
//!   [`render_template`](crate::templates::render_template) sees the same `request` and
//!   `session` as the [`Templates`](crate::templates::Templates) extractor;
//! - the error a handler returned, when the app has error handlers to give it to (see
//!   [`Error`]'s `IntoResponse`), and whether debug mode wants backtraces.
//!
//! Setting a scope up costs no allocation: one `Arc` clone of the app.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use carafe_serve::{ConnInfo, Response};
use http::{HeaderMap, Method, StatusCode, Uri, Version};

use crate::error::Error;
use crate::extract::RequestParts;
use crate::session::Session;
use crate::state::AppShared;

tokio::task_local! {
    /// The scope of the request the current task is handling.
    static SCOPE: RefCell<Scope>;
}

/// A closure that changes the response before it is sent.
type Finisher = Box<dyn FnOnce(&mut Response) + Send>;

/// The values of one request's scope.
#[derive(Default)]
pub(crate) struct Scope {
    /// Run on the response in registration order, after the handler.
    finishers: Vec<Finisher>,
    /// The app handling the request; `None` in unit tests of the scope.
    app: Option<Arc<AppShared>>,
    /// The matched route's index in the app's router.
    route: Option<usize>,
    /// Whether errors turned into responses are kept for the app's error handlers.
    catching: bool,
    /// Debug mode: errors capture a backtrace.
    debug: bool,
    /// The error kept for the app, with the mark of the response made from it.
    pending: Option<(u32, Error)>,
    /// The last mark handed out.
    marks: u32,
    /// The request's head, kept when the app renders templates (boxed: the scope lives
    /// in every request's future, which is copied when the server boxes it).
    head: Option<Box<RequestHead>>,
    /// The request's session, once an extractor or a template made it.
    session: Option<Session>,
}

/// A copy of a request's method, target, version, headers and connection: what
/// [`request_parts`] rebuilds a [`RequestParts`] from.
#[derive(Debug)]
pub(crate) struct RequestHead {
    /// The method.
    method: Method,
    /// The request target.
    uri: Uri,
    /// The HTTP version.
    version: Version,
    /// The headers.
    headers: HeaderMap,
    /// The connection, when the request carried one (the test client's).
    conn: Option<ConnInfo>,
}

impl RequestHead {
    /// The copy of `head`.
    pub(crate) fn of(head: &http::request::Parts) -> Self {
        RequestHead {
            method: head.method.clone(),
            uri: head.uri.clone(),
            version: head.version,
            headers: head.headers.clone(),
            conn: head.extensions.get::<ConnInfo>().copied(),
        }
    }
}

/// Marks a response made from an error kept in the scope: the app answers with its
/// error handlers instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ErrorMark(u32);

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("finishers", &self.finishers.len())
            .field("route", &self.route)
            .field("catching", &self.catching)
            .field("debug", &self.debug)
            .finish()
    }
}

impl Scope {
    /// The scope of a request to `app`, routed to `route`; `catching` keeps errors for the
    /// app's error handlers.
    pub(crate) fn new(app: Arc<AppShared>, route: Option<usize>, catching: bool) -> Self {
        let debug = app.config.debug;
        Scope {
            app: Some(app),
            route,
            catching,
            debug,
            ..Scope::default()
        }
    }

    /// Keeps a copy of the request's head (for `render_template`).
    pub(crate) fn with_head(mut self, head: RequestHead) -> Self {
        self.head = Some(Box::new(head));
        self
    }

    /// Runs the finishers on `response`, in the order they were registered.
    #[inline]
    pub(crate) fn finish(self, response: &mut Response) {
        for finisher in self.finishers {
            finisher(response);
        }
    }
}

/// Runs `future` inside a fresh, empty request scope and returns its output with the
/// scope.
#[cfg(test)]
pub(crate) async fn run<F: Future>(future: F) -> (F::Output, Scope) {
    run_in(Scope::default(), future).await
}

/// Runs `future` inside `scope` and returns its output with the scope.
pub(crate) async fn run_in<F: Future>(scope: Scope, future: F) -> (F::Output, Scope) {
    let scoped = SCOPE.scope(RefCell::new(scope), future);
    let mut scoped = std::pin::pin!(scoped);
    let output = scoped.as_mut().await;
    let scope = scoped.as_mut().take_value().map(RefCell::into_inner);
    (output, scope.unwrap_or_default())
}

/// Keeps `error` for the app's error handlers when the current request's app has any,
/// answering with a placeholder response that marks it; otherwise gives it back.
pub(crate) fn stash_error(error: Error) -> Result<Response, Error> {
    let mut slot = Some(error);
    let kept = SCOPE.try_with(|scope| {
        let mut scope = scope.try_borrow_mut().ok()?;
        if !scope.catching {
            return None;
        }
        let error = slot.take()?;
        scope.marks += 1;
        let mark = scope.marks;
        scope.pending = Some((mark, error));
        Some(mark)
    });
    match (kept.ok().flatten(), slot) {
        (_, Some(error)) => Err(error),
        (Some(mark), None) => {
            let mut response = Response::new(carafe_serve::Body::empty());
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            response.extensions_mut().insert(ErrorMark(mark));
            Ok(response)
        }
        // `slot` is only emptied when a mark is handed out.
        (None, None) => Err(Error::msg("the request scope lost an error")),
    }
}

/// The error `response` was made from, if [`stash_error`] kept it.
pub(crate) fn take_error(response: &Response) -> Option<Error> {
    let ErrorMark(mark) = *response.extensions().get::<ErrorMark>()?;
    SCOPE
        .try_with(|scope| {
            let mut scope = scope.try_borrow_mut().ok()?;
            match scope.pending.take() {
                Some((kept, error)) if kept == mark => Some(error),
                other => {
                    scope.pending = other;
                    None
                }
            }
        })
        .ok()
        .flatten()
}

/// Whether the current request runs in debug mode, where errors capture backtraces.
pub(crate) fn debug_backtraces() -> bool {
    SCOPE
        .try_with(|scope| scope.try_borrow().is_ok_and(|scope| scope.debug))
        .unwrap_or(false)
}

/// Calls `f` with the current request's app and matched route, if there is a request.
pub(crate) fn with_app<R>(f: impl FnOnce(&AppShared, Option<usize>) -> R) -> Option<R> {
    SCOPE
        .try_with(|scope| {
            let scope = scope.try_borrow().ok()?;
            let app = scope.app.as_deref()?;
            Some(f(app, scope.route))
        })
        .ok()
        .flatten()
}

/// The endpoint of the route handling the current request (Flask's `request.endpoint`):
/// `"index"`, `"admin.users"`; `None` outside a request, or when the route has no name.
///
/// ```
/// use carafe::{get, request_endpoint, App};
///
/// async fn index() -> String {
///     request_endpoint().unwrap_or_default()
/// }
///
/// let mut app = App::new();
/// app.route("/", get(index)); // answers "index"
/// assert_eq!(request_endpoint(), None);
/// ```
pub fn request_endpoint() -> Option<String> {
    with_app(|app, route| {
        let route = route?;
        app.router.endpoint_of(route).map(str::to_owned)
    })
    .flatten()
}

/// The current request's parts, rebuilt from the head kept in the scope (apps with
/// templates keep one): method, target, headers, connection, app and route.
pub(crate) fn request_parts() -> Option<RequestParts> {
    SCOPE
        .try_with(|scope| {
            let scope = scope.try_borrow().ok()?;
            let head = scope.head.as_ref()?;
            let app = Arc::clone(scope.app.as_ref()?);
            let mut request = http::Request::new(());
            *request.method_mut() = head.method.clone();
            *request.uri_mut() = head.uri.clone();
            *request.version_mut() = head.version;
            *request.headers_mut() = head.headers.clone();
            if let Some(conn) = head.conn {
                request.extensions_mut().insert(conn);
            }
            let (parts, ()) = request.into_parts();
            let mut parts = RequestParts::routed(parts, Vec::new(), app);
            parts.set_route(scope.route);
            Some(parts)
        })
        .ok()
        .flatten()
}

/// The session the current request made so far, if any.
pub(crate) fn session() -> Option<Session> {
    SCOPE
        .try_with(|scope| scope.try_borrow().ok()?.session.clone())
        .ok()
        .flatten()
}

/// Records `session` as the current request's session.
pub(crate) fn keep_session(session: &Session) {
    let _ = SCOPE.try_with(|scope| {
        if let Ok(mut scope) = scope.try_borrow_mut() {
            scope.session = Some(session.clone());
        }
    });
}

/// Registers `finisher` to change this request's response before it is sent (Flask's
/// `after_this_request`).
///
/// Call it from a handler or from any function it calls, on the task that handles the
/// request. Returns `false`, and drops `finisher`, when called outside a request handled
/// by an [`App`](crate::App) (in a spawned task, or in a unit test calling an extractor
/// directly).
///
/// ```
/// use carafe::{after_this_request, get, App};
/// use http::header::HeaderValue;
///
/// async fn index() -> &'static str {
///     after_this_request(|response| {
///         response.headers_mut().insert("x-foo", HeaderValue::from_static("a value"));
///     });
///     "Hello"
/// }
///
/// let mut app = App::new();
/// app.route("/", get(index));
/// ```
pub fn after_this_request(finisher: impl FnOnce(&mut Response) + Send + 'static) -> bool {
    SCOPE
        .try_with(|scope| scope.borrow_mut().finishers.push(Box::new(finisher)))
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IntoResponse;
    use http::header::HeaderValue;

    #[tokio::test]
    async fn finishers_run_in_order_after_the_future() {
        let (value, scope) = run(async {
            assert!(after_this_request(|response| {
                response
                    .headers_mut()
                    .insert("x-order", HeaderValue::from_static("first"));
            }));
            assert!(after_this_request(|response| {
                response
                    .headers_mut()
                    .append("x-order", HeaderValue::from_static("second"));
            }));
            7
        })
        .await;
        assert_eq!(value, 7);
        let mut response = ().into_response();
        scope.finish(&mut response);
        let order: Vec<_> = response.headers().get_all("x-order").iter().collect();
        assert_eq!(order, ["first", "second"]);
    }

    #[tokio::test]
    async fn outside_a_request_nothing_is_registered() {
        assert!(!after_this_request(|_| {}));
    }
}
