//! Type-erased handlers: what `Namespace::on`, `on_connect`, `use_middleware` and
//! `on_disconnect` store.

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::error::{ConnectError, DisconnectReason};
use crate::socket::{Event, Socket};

/// A boxed handler future.
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

pub(crate) type EventHandler = Arc<dyn Fn(Socket, Event) -> BoxFuture<()> + Send + Sync>;
pub(crate) type ConnectHandler =
    Arc<dyn Fn(Socket, serde_json::Value) -> BoxFuture<()> + Send + Sync>;
pub(crate) type Middleware =
    Arc<dyn Fn(Socket, serde_json::Value) -> BoxFuture<Result<(), ConnectError>> + Send + Sync>;
pub(crate) type DisconnectHandler =
    Arc<dyn Fn(Socket, DisconnectReason) -> BoxFuture<()> + Send + Sync>;

/// What a handler may return: `()` or a `Result` whose error is logged.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a Socket.IO handler",
    note = "return `()` or `Result<(), E>` where `E: Display`"
)]
pub trait HandlerOutput: Send + 'static {
    /// Logs the error, if any.
    fn finish(self, what: &str);
}

impl HandlerOutput for () {
    fn finish(self, _what: &str) {}
}

impl<E: Display + Send + 'static> HandlerOutput for Result<(), E> {
    fn finish(self, what: &str) {
        if let Err(err) = self {
            tracing::warn!("socket.io handler for {what} failed: {err}");
        }
    }
}

pub(crate) fn event_handler<F, Fut>(name: String, handler: F) -> EventHandler
where
    F: Fn(Socket, Event) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: HandlerOutput,
{
    Arc::new(move |socket, event| {
        let future = handler(socket, event);
        let name = name.clone();
        Box::pin(async move { future.await.finish(&name) })
    })
}
