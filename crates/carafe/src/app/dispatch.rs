//! Dispatch: the path of one request through routing, hooks, the handler and the error
//! handlers (Flask's `full_dispatch_request`, `handle_user_exception`,
//! `finalize_request` and `do_teardown_request`).
//!
//! An app without hooks or error handlers, outside debug and testing mode, takes [`dispatch_plain`]:
//! routing, the handler, the response finishers; no allocation beyond the handler's
//! future. Any other app takes [`dispatch_full`], whose order is described in
//! [`hooks`](crate::hooks).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use carafe_serve::{ConnInfo, Request, Response};
use http::{header, HeaderMap, Method, StatusCode, Uri};
use pin_project_lite::pin_project;

use crate::error::Error;
use crate::error_page;
use crate::extract::RequestParts;
use crate::hooks::Hooks;
use crate::response::IntoResponse;
use crate::routing::{Found, MethodSet};
use crate::scope::{self, RequestHead, Scope};
use crate::state::AppShared;

/// Answers one request.
///
/// The choice is made before any future exists, so the lean path's future is returned as
/// it is: an `async` wrapper around both would move the request once more and carry the
/// full path's size (measured: ~250 instructions per request). The full path is boxed.
pub(crate) fn dispatch<'a>(
    shared: &'a Arc<AppShared>,
    req: Request,
) -> Dispatch<'a, impl Future<Output = Response> + Send + 'a> {
    if !shared.mounts.is_empty() {
        if let Some(mount) = shared.mounts.owner(req.uri().path()) {
            return Dispatch::Full {
                future: mount.call(req),
            };
        }
    }
    dispatch_routed(shared, req)
}

/// [`dispatch`] for a request the app's own routes answer.
fn dispatch_routed<'a>(
    shared: &'a Arc<AppShared>,
    req: Request,
) -> Dispatch<'a, impl Future<Output = Response> + Send + 'a> {
    if shared.hooked || shared.config.debug || shared.config.testing {
        Dispatch::Full {
            future: Box::pin(dispatch_full(shared, req)),
        }
    } else {
        Dispatch::Plain {
            future: dispatch_plain(shared, req),
        }
    }
}

pin_project! {
    /// The future of [`dispatch`]: one of the two paths.
    #[project = DispatchProjection]
    pub(crate) enum Dispatch<'a, P> {
        /// No hooks, no error handlers, no debug mode.
        Plain { #[pin] future: P },
        /// Everything else.
        Full { future: Pin<Box<dyn Future<Output = Response> + Send + 'a>> },
    }
}

impl<P: Future<Output = Response>> Future for Dispatch<'_, P> {
    type Output = Response;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        match self.project() {
            DispatchProjection::Plain { future } => future.poll(cx),
            DispatchProjection::Full { future } => future.as_mut().poll(cx),
        }
    }
}

/// Routing, extractors, handler, finishers: the lean path.
async fn dispatch_plain(shared: &Arc<AppShared>, req: Request) -> Response {
    let uri = req.uri();
    let found = match shared.router.lookup(req.method(), uri.path(), uri.query()) {
        Ok(found) => found,
        Err(error) => return error.into_plain_response(),
    };
    let Some(handler) = found.handler else {
        return automatic_options(found.allow);
    };
    let (head, body) = req.into_parts();
    let route = Some(found.route);
    let mut scope = Scope::new(Arc::clone(shared), route, false);
    if shared.templated {
        scope = scope.with_head(RequestHead::of(&head));
    }
    let mut parts = RequestParts::routed(head, found.captures, Arc::clone(shared));
    parts.set_route(route);
    let (mut response, scope) = scope::run_in(scope, handler.call(parts, body)).await;
    scope.finish(&mut response);
    response
}

/// What the debug page shows of the request, copied before the handler takes it.
#[derive(Debug)]
pub(crate) struct RequestView {
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    pub(crate) headers: HeaderMap,
    pub(crate) peer: Option<SocketAddr>,
}

/// The full path: before hooks, handler, error handlers, after hooks, finishers,
/// teardown.
async fn dispatch_full(shared: &Arc<AppShared>, req: Request) -> Response {
    let plan = crate::response::compression_plan(&shared.state, req.method(), req.headers());
    let response = dispatch_hooked(shared, req).await;
    crate::response::compress_response(plan, response)
}

/// The full path before compression.
async fn dispatch_hooked(shared: &Arc<AppShared>, req: Request) -> Response {
    let uri = req.uri();
    let found = shared.router.lookup(req.method(), uri.path(), uri.query());
    if let Err(redirect) = &found {
        if redirect.status().is_redirection() {
            return redirect.clone().into_plain_response();
        }
    }
    let route = found.as_ref().ok().map(|found| found.route);
    let blueprint = route.and_then(|route| shared.router.blueprint_of(route));
    let chain = hook_chain(shared, blueprint);
    let view = shared.config.debug.then(|| RequestView {
        method: req.method().clone(),
        uri: req.uri().clone(),
        headers: req.headers().clone(),
        peer: peer_of(&req),
    });
    let (head, body) = req.into_parts();
    let mut scope = Scope::new(Arc::clone(shared), route, true);
    if shared.templated {
        scope = scope.with_head(RequestHead::of(&head));
    }
    let work = async {
        let captures = found
            .as_ref()
            .map(|found| found.captures.clone())
            .unwrap_or_default();
        let mut parts = RequestParts::routed(head, captures, Arc::clone(shared));
        parts.set_route(route);
        let outcome = match run_before(&chain, &mut parts).await {
            Err(error) => Err(error),
            Ok(Some(early)) => Ok(early),
            Ok(None) => match found {
                Ok(Found {
                    handler: Some(handler),
                    ..
                }) => Ok(handler.call(parts, body).await),
                Ok(Found { allow, .. }) => Ok(automatic_options(allow)),
                Err(routing) => Err(Error::from(routing)),
            },
        };
        let (mut response, unhandled) = settle(&chain, outcome, view.as_ref()).await;
        for hooks in &chain {
            response = hooks.run_after(response).await;
        }
        (response, unhandled)
    };
    let ((mut response, unhandled), scope) = scope::run_in(scope, work).await;
    scope.finish(&mut response);
    let unhandled = unhandled.map(Arc::new);
    for hooks in &chain {
        hooks.run_teardown(&unhandled).await;
    }
    if shared.config.testing {
        if let Some(error) = unhandled.filter(|error| error.http_error().is_none()) {
            response.extensions_mut().insert(Propagated(error));
        }
    }
    response
}

/// In testing mode, the error no error handler took, carried on its `500` response for
/// the test client to raise (Flask's `PROPAGATE_EXCEPTIONS`). HTTP errors (`abort`, 404)
/// are answers, not failures, and are not carried.
#[derive(Debug, Clone)]
pub(crate) struct Propagated(pub(crate) Arc<Error>);

/// The hooks that apply to a request, innermost blueprint first, the app's last.
fn hook_chain(shared: &AppShared, blueprint: Option<usize>) -> Vec<&Hooks> {
    let mut chain = Vec::new();
    let mut next = blueprint;
    while let Some(index) = next {
        let scope = &shared.blueprints[index];
        chain.push(&scope.hooks);
        next = scope.parent;
    }
    chain.push(&shared.hooks);
    chain
}

/// Runs the before hooks: the app's first, then the blueprints' from the outermost in.
async fn run_before(chain: &[&Hooks], parts: &mut RequestParts) -> Result<Option<Response>, Error> {
    for hooks in chain.iter().rev() {
        if let Some(early) = hooks.run_before(parts).await? {
            return Ok(Some(early));
        }
    }
    Ok(None)
}

/// Turns the outcome into the response: errors (returned, or made into a response by
/// the handler) go to the error handlers, then to the default pages. Returns the error
/// no handler took, for the teardown hooks.
async fn settle(
    chain: &[&Hooks],
    outcome: Result<Response, Error>,
    view: Option<&RequestView>,
) -> (Response, Option<Error>) {
    let error = match outcome {
        Ok(response) => match scope::take_error(&response) {
            Some(error) => error,
            None => return (response, None),
        },
        Err(error) => error,
    };
    let status = error.status();
    let error = match find_handler(chain, error) {
        Ok(answer) => {
            let mut response = answer.await;
            if let Some(second) = scope::take_error(&response) {
                // The error handler failed too: answer that error plainly.
                return (error_page::render(&second, view), Some(second));
            }
            if response.status() == StatusCode::OK {
                *response.status_mut() = status;
            }
            return (response, None);
        }
        Err(error) => error,
    };
    (error_page::render(&error, view), Some(error))
}

/// The answer of the first error handler that takes `error`: by status, then by type,
/// for HTTP errors; by type, then by status (`500`) for the others. In each pass the
/// innermost blueprint's handlers come first.
fn find_handler(
    chain: &[&Hooks],
    error: Error,
) -> Result<crate::hooks::BoxFuture<'static, Response>, Error> {
    let passes = if error.http_error().is_some() {
        [false, true]
    } else {
        [true, false]
    };
    let mut error = error;
    for by_type in passes {
        for hooks in chain {
            error = match hooks.handle(error, by_type) {
                Ok(answer) => return Ok(answer),
                Err(error) => error,
            };
        }
    }
    Err(error)
}

/// The client's address: from a `ConnInfo` extension (test client, tower adapters) or
/// from the serving connection.
fn peer_of(req: &Request) -> Option<SocketAddr> {
    let info = req.extensions().get::<ConnInfo>().copied();
    info.or_else(ConnInfo::current).map(|info| info.peer_addr)
}

/// The answer to `OPTIONS` for a rule without an `OPTIONS` handler: `200` with `Allow`.
fn automatic_options(allow: MethodSet) -> Response {
    let mut response = ().into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, allow.to_header_value());
    response
}
