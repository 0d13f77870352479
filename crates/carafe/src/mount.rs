//! Other applications mounted in front of the app's routes, at a path prefix (what
//! Werkzeug's `DispatcherMiddleware` does for WSGI apps): Socket.IO's Engine.IO endpoint at
//! `/socket.io/` is the common case.
//!
//! A mounted application sees the request unchanged (its full path) and answers it
//! alone: no routing, hooks, sessions or error handlers of the app run for it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use carafe_serve::{Application, Request, Response};

/// An [`Application`] behind a pointer: the trait's `call` returns `impl Future`, so it is
/// not object-safe; this boxes the future instead.
trait DynApplication: Send + Sync + 'static {
    fn call_boxed(&self, req: Request) -> Pin<Box<dyn Future<Output = Response> + Send + '_>>;
}

impl<A: Application> DynApplication for A {
    fn call_boxed(&self, req: Request) -> Pin<Box<dyn Future<Output = Response> + Send + '_>> {
        Box::pin(self.call(req))
    }
}

/// One mounted application.
pub(crate) struct Mount {
    /// The prefix without a trailing slash (`/socket.io`); empty never happens.
    prefix: String,
    app: Arc<dyn DynApplication>,
}

impl Mount {
    /// Answers a request for this mount's path.
    pub(crate) fn call(&self, req: Request) -> Pin<Box<dyn Future<Output = Response> + Send + '_>> {
        self.app.call_boxed(req)
    }
}

/// The mounted applications, tried in mount order before the app's own routes.
#[derive(Default)]
pub(crate) struct Mounts(Vec<Mount>);

impl std::fmt::Debug for Mounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|mount| &mount.prefix))
            .finish()
    }
}

impl Mounts {
    /// Adds `app` at `prefix` (a leading `/` is added and a trailing one dropped).
    pub(crate) fn add(&mut self, prefix: &str, app: impl Application) {
        let prefix = format!("/{}", prefix.trim_matches('/'));
        self.0.push(Mount {
            prefix,
            app: Arc::new(app),
        });
    }

    /// The mounted application that owns `path`, if one does.
    pub(crate) fn owner(&self, path: &str) -> Option<&Mount> {
        self.0.iter().find(|mount| owns(&mount.prefix, path))
    }

    /// Whether nothing is mounted (the common case, checked first on every request).
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Whether `path` is `prefix` or below it (`/socket.io`, `/socket.io/…`; not
/// `/socket.iox`). The root prefix `/` owns every path.
fn owns(prefix: &str, path: &str) -> bool {
    if prefix == "/" {
        return true;
    }
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::owns;

    #[test]
    fn a_prefix_owns_itself_and_what_is_below_it_only() {
        assert!(owns("/socket.io", "/socket.io"));
        assert!(owns("/socket.io", "/socket.io/"));
        assert!(owns("/socket.io", "/socket.io/x/y"));
        assert!(!owns("/socket.io", "/socket.iox"));
        assert!(!owns("/socket.io", "/"));
        assert!(!owns("/socket.io", "/socket"));
        assert!(owns("/", "/anything"));
    }
}
