//! Type-erased handlers: what `Namespace::on`, `on_connect`, `use_middleware` and
//! `on_disconnect` store, and [`EventHandler`], the trait that lets an event handler take
//! any number of [`FromEvent`](crate::extract::FromEvent) arguments.

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::error::{ConnectError, DisconnectReason};
use crate::extract::{EventParts, FromEvent};
use crate::socket::{Event, Socket};

/// A boxed handler future.
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

pub(crate) type ErasedEventHandler = Arc<dyn Fn(Socket, Event) -> BoxFuture<()> + Send + Sync>;
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

/// An event handler: an async function (or closure) whose arguments are all
/// [`FromEvent`] (up to eight), returning a [`HandlerOutput`]. `T` is the tuple of its
/// argument types; it only tells the implementations apart.
///
/// Arguments are extracted left to right. When one cannot be (a payload that does not
/// deserialize), the handler is not called: the failure is logged and, if the client asked
/// for an ack, the ack answers `{"error": ..., "field": ...}` naming the failing field.
///
/// ```
/// use carafe_socketio::{AckSender, Event, Socket, SocketIo};
/// use carafe_socketio::extract::Data;
///
/// let sio = SocketIo::builder().build();
/// let ns = sio.namespace("/");
/// ns.on("ping", || async {});
/// ns.on("echo", |Data(text): Data<String>, ack: AckSender| async move { ack.send(&text) });
/// ns.on("raw", |socket: Socket, event: Event| async move { let _ = (socket, event); });
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Socket.IO event handler",
    label = "not an event handler",
    note = "an event handler is an async closure or fn whose arguments all implement `FromEvent` (`Socket`, `Event`, `Data<T>`, `AckSender`, `Option<AckSender>`), at most eight, returning `()` or `Result<(), E: Display>`"
)]
pub trait EventHandler<T>: Send + Sync + 'static {
    /// Extracts the arguments and returns the handler's future (already finished, with
    /// the failure answered, when extraction failed).
    fn call(&self, socket: Socket, event: Event) -> BoxFuture<()>;
}

macro_rules! impl_event_handler {
    ($($ty:ident),*) => {
        #[allow(non_snake_case, unused_variables, unused_mut)]
        impl<F, Fut, $($ty,)*> EventHandler<($($ty,)*)> for F
        where
            F: Fn($($ty),*) -> Fut + Send + Sync + 'static,
            Fut: Future + Send + 'static,
            Fut::Output: HandlerOutput,
            $($ty: FromEvent,)*
        {
            fn call(&self, socket: Socket, event: Event) -> BoxFuture<()> {
                let mut parts = EventParts::new(socket, event);
                $(
                    let $ty = match $ty::from_event(&mut parts) {
                        Ok(value) => value,
                        Err(err) => {
                            parts.reject(&err);
                            return Box::pin(std::future::ready(()));
                        }
                    };
                )*
                let name = parts.into_name();
                let future = self($($ty),*);
                Box::pin(async move { future.await.finish(&name) })
            }
        }
    };
}

impl_event_handler!();
impl_event_handler!(T1);
impl_event_handler!(T1, T2);
impl_event_handler!(T1, T2, T3);
impl_event_handler!(T1, T2, T3, T4);
impl_event_handler!(T1, T2, T3, T4, T5);
impl_event_handler!(T1, T2, T3, T4, T5, T6);
impl_event_handler!(T1, T2, T3, T4, T5, T6, T7);
impl_event_handler!(T1, T2, T3, T4, T5, T6, T7, T8);

pub(crate) fn erase_event_handler<H, T>(handler: H) -> ErasedEventHandler
where
    H: EventHandler<T>,
{
    Arc::new(move |socket, event| handler.call(socket, event))
}

/// Runs `future` now, on the calling task, as far as it goes without waiting; only a
/// future that waits moves to a task of its own. Handlers that answer at once therefore
/// answer in the order their events arrived (as the reference server's synchronous
/// listeners do), and cost no task.
pub(crate) fn run_eagerly(mut future: BoxFuture<()>) {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    if future.as_mut().poll(&mut cx).is_pending() {
        tokio::spawn(future);
    }
}
