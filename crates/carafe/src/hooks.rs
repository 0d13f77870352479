//! Request hooks and error handlers: Flask's `before_request`, `after_request`,
//! `teardown_request` and `errorhandler`, for the app and for blueprints.
//!
//! `Hooks` holds one scope's hooks (the app's, or one blueprint's), type-erased when
//! registered. The app runs them (see `app/dispatch.rs`) in Flask's order:
//!
//! 1. `before_request`: the app's, then each blueprint's from the outermost in; each in
//!    registration order. The first to answer ends the request's handling early.
//! 2. the handler (unless a hook answered).
//! 3. on an error: the first matching error handler, searched from the innermost
//!    blueprint out to the app.
//! 4. `after_request`: the innermost blueprint's first, the app's last; each in reverse
//!    registration order.
//! 5. the response finishers of [`after_this_request`](crate::after_this_request).
//! 6. `teardown_request`: in the order of step 4, always, with the error no error handler
//!    took.
//!
//! A before hook is an `async fn` of extractors, like a handler (extractors that read the
//! body cannot be used, as the handler still needs it). Its output is [`BeforeOutput`]:
//! `()`, an `Option` of a response, or a `Result` of those.

use std::any::TypeId;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

use carafe_serve::Response;
use http::StatusCode;

use crate::error::Error;
use crate::extract::{FromRequestParts, RequestParts};
use crate::response::IntoResponse;
use crate::state::Needs;

/// A boxed, sendable future.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a before-request hook may return: nothing (go on), an early answer, or an error.
///
/// ```
/// use carafe::BeforeOutput;
/// use http::StatusCode;
///
/// assert!(().into_early().unwrap().is_none());
/// assert!(Some(StatusCode::FORBIDDEN).into_early().unwrap().is_some());
/// let failed: carafe::Result<()> = Err(carafe::abort(StatusCode::UNAUTHORIZED));
/// assert!(failed.into_early().is_err());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not what a before_request hook may return",
    label = "return `()`, `Option<R>` (where `R: IntoResponse`) or `carafe::Result` of those",
    note = "`Some(response)` answers the request without calling the handler; `None` or \
            `()` goes on"
)]
pub trait BeforeOutput {
    /// `None` to go on, `Some(response)` to answer now, or an error.
    ///
    /// ```
    /// use carafe::BeforeOutput;
    /// assert!(None::<&str>.into_early().unwrap().is_none());
    /// ```
    fn into_early(self) -> Result<Option<Response>, Error>;
}

impl BeforeOutput for () {
    fn into_early(self) -> Result<Option<Response>, Error> {
        Ok(None)
    }
}

impl<R: IntoResponse> BeforeOutput for Option<R> {
    fn into_early(self) -> Result<Option<Response>, Error> {
        Ok(self.map(IntoResponse::into_response))
    }
}

impl<T: BeforeOutput, E: Into<Error>> BeforeOutput for Result<T, E> {
    fn into_early(self) -> Result<Option<Response>, Error> {
        self.map_err(Into::into)?.into_early()
    }
}

/// A before-request hook: an `async fn` of up to four [`FromRequestParts`] extractors
/// returning a [`BeforeOutput`]. Implemented for all such functions and closures.
///
/// ```
/// use carafe::App;
/// use http::{HeaderMap, StatusCode};
///
/// async fn require_key(headers: HeaderMap) -> Option<StatusCode> {
///     (!headers.contains_key("x-api-key")).then_some(StatusCode::UNAUTHORIZED)
/// }
///
/// let mut app = App::new();
/// app.before_request(require_key);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a before_request hook",
    label = "not an async fn of extractors returning `()`, `Option<R>` or a `Result`",
    note = "a before_request hook takes 0 to 4 `FromRequestParts` extractors (`HeaderMap`, \
            `Method`, `Uri`, `Query<T>`, `State<T>`, ...) and returns `()`, \
            `Option<impl IntoResponse>`, or a `carafe::Result` of those",
    note = "extractors that read the body (`Json<T>`, `String`, `Bytes`) cannot be used: \
            the handler still needs the body"
)]
pub trait BeforeRequest<Args>: Send + Sync + 'static {
    /// Runs the extractors and the hook.
    ///
    /// ```
    /// use carafe::{BeforeRequest, RequestParts};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let hook = |method: http::Method| async move { (method == "DELETE").then_some("no") };
    /// let mut parts = RequestParts::new(http::Request::new(()).into_parts().0);
    /// assert!(hook.call(&mut parts).await.unwrap().is_none());
    /// # }
    /// ```
    fn call<'a>(
        &'a self,
        parts: &'a mut RequestParts,
    ) -> impl Future<Output = Result<Option<Response>, Error>> + Send + 'a;

    /// Collects what the hook's extractors need from the app.
    ///
    /// ```
    /// use carafe::{BeforeRequest, Needs, State};
    ///
    /// let hook = |State(n): State<u8>| async move { let _ = n; };
    /// let mut needs = Needs::default();
    /// hook.needs(&mut needs);
    /// assert_eq!(needs.state_names().count(), 1);
    /// ```
    fn needs(&self, needs: &mut Needs) {
        let _ = needs;
    }
}

/// Implements [`BeforeRequest`] for functions of the given extractors.
macro_rules! impl_before {
    ($($extractor:ident),*) => {
        impl<F, Fut, O, $($extractor,)*> BeforeRequest<($($extractor,)*)> for F
        where
            F: Fn($($extractor),*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = O> + Send,
            O: BeforeOutput,
            $($extractor: FromRequestParts + Send,)*
        {
            #[allow(non_snake_case, unused_variables)]
            fn call<'a>(
                &'a self,
                parts: &'a mut RequestParts,
            ) -> impl Future<Output = Result<Option<Response>, Error>> + Send + 'a {
                async move {
                    $(let $extractor = $extractor::from_request_parts(parts).await?;)*
                    self($($extractor),*).await.into_early()
                }
            }

            #[allow(unused_variables)]
            fn needs(&self, needs: &mut Needs) {
                $(<$extractor as FromRequestParts>::needs(needs);)*
            }
        }
    };
}

impl_before!();
impl_before!(T1);
impl_before!(T1, T2);
impl_before!(T1, T2, T3);
impl_before!(T1, T2, T3, T4);

/// A before hook, boxed.
type BeforeFn = Box<dyn ErasedBefore>;

/// The object-safe face of [`BeforeRequest`].
trait ErasedBefore: Send + Sync {
    fn call<'a>(
        &'a self,
        parts: &'a mut RequestParts,
    ) -> BoxFuture<'a, Result<Option<Response>, Error>>;
}

/// A before hook with the argument tuple that selected its impl.
struct Before<H, Args> {
    hook: H,
    args: PhantomData<fn() -> Args>,
}

impl<H: BeforeRequest<Args>, Args: 'static> ErasedBefore for Before<H, Args> {
    fn call<'a>(
        &'a self,
        parts: &'a mut RequestParts,
    ) -> BoxFuture<'a, Result<Option<Response>, Error>> {
        Box::pin(self.hook.call(parts))
    }
}
/// An after hook, boxed.
type AfterFn = Box<dyn Fn(Response) -> BoxFuture<'static, Response> + Send + Sync>;
/// A teardown hook, boxed.
type TeardownFn = Box<dyn Fn(Option<Arc<Error>>) -> BoxFuture<'static, ()> + Send + Sync>;
/// An error handler, boxed: gives the error back when it is not its type.
type ErrorFn = Box<dyn Fn(Error) -> Result<BoxFuture<'static, Response>, Error> + Send + Sync>;

/// The hooks and error handlers of the app or of one blueprint.
#[derive(Default)]
pub(crate) struct Hooks {
    before: Vec<BeforeFn>,
    after: Vec<AfterFn>,
    teardown: Vec<TeardownFn>,
    /// Error handlers by status.
    by_status: Vec<(StatusCode, ErrorFn)>,
    /// Error handlers by error type.
    by_type: Vec<(TypeId, ErrorFn)>,
    /// What the before hooks' extractors need.
    pub(crate) needs: Needs,
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("before", &self.before.len())
            .field("after", &self.after.len())
            .field("teardown", &self.teardown.len())
            .field(
                "by_status",
                &self.by_status.iter().map(|(s, _)| s).collect::<Vec<_>>(),
            )
            .field("by_type", &self.by_type.len())
            .finish()
    }
}

impl Hooks {
    /// Whether nothing is registered.
    pub(crate) fn is_empty(&self) -> bool {
        self.before.is_empty()
            && self.after.is_empty()
            && self.teardown.is_empty()
            && self.by_status.is_empty()
            && self.by_type.is_empty()
    }

    pub(crate) fn add_before<H: BeforeRequest<Args>, Args: 'static>(&mut self, hook: H) {
        hook.needs(&mut self.needs);
        self.before.push(Box::new(Before {
            hook,
            args: PhantomData,
        }));
    }

    pub(crate) fn add_after<F, Fut, R>(&mut self, hook: F)
    where
        F: Fn(Response) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoResponse,
    {
        self.after.push(Box::new(move |response| {
            let future = hook(response);
            Box::pin(async move { future.await.into_response() })
        }));
    }

    pub(crate) fn add_teardown<F, Fut>(&mut self, hook: F)
    where
        F: Fn(Option<Arc<Error>>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.teardown
            .push(Box::new(move |error| Box::pin(hook(error))));
    }

    pub(crate) fn add_status_handler<F, Fut, R>(&mut self, status: StatusCode, handler: F)
    where
        F: Fn(Error) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoResponse,
    {
        let handler: ErrorFn = Box::new(move |error| {
            let future = handler(error);
            Ok(Box::pin(async move { future.await.into_response() }))
        });
        self.by_status.retain(|(known, _)| *known != status);
        self.by_status.push((status, handler));
    }

    pub(crate) fn add_type_handler<T, F, Fut, R>(&mut self, handler: F)
    where
        T: std::error::Error + Send + Sync + 'static,
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoResponse,
    {
        let handler: ErrorFn = Box::new(move |error| {
            let future = handler(error.downcast::<T>()?);
            Ok(Box::pin(async move { future.await.into_response() }))
        });
        let id = TypeId::of::<T>();
        self.by_type.retain(|(known, _)| *known != id);
        self.by_type.push((id, handler));
    }

    /// Runs the before hooks in order; stops at the first that answers or fails.
    pub(crate) async fn run_before(
        &self,
        parts: &mut RequestParts,
    ) -> Result<Option<Response>, Error> {
        for hook in &self.before {
            if let Some(early) = hook.call(parts).await? {
                return Ok(Some(early));
            }
        }
        Ok(None)
    }

    /// Runs the after hooks, last registered first.
    pub(crate) async fn run_after(&self, mut response: Response) -> Response {
        for hook in self.after.iter().rev() {
            response = hook(response).await;
        }
        response
    }

    /// Runs the teardown hooks, last registered first.
    pub(crate) async fn run_teardown(&self, error: &Option<Arc<Error>>) {
        for hook in self.teardown.iter().rev() {
            hook(error.clone()).await;
        }
    }

    /// The handler for `error` by its status, for HTTP errors.
    fn status_handler(&self, status: StatusCode) -> Option<&ErrorFn> {
        let (_, handler) = self.by_status.iter().find(|(known, _)| *known == status)?;
        Some(handler)
    }

    /// Gives `error` to a handler for its status (HTTP errors) or type (`is_type`
    /// checks), returning the handler's answer, or the error back if none matches.
    pub(crate) fn handle(
        &self,
        error: Error,
        by_type: bool,
    ) -> Result<BoxFuture<'static, Response>, Error> {
        if !by_type {
            return match self.status_handler(error.status()) {
                Some(handler) => handler(error),
                None => Err(error),
            };
        }
        let mut error = error;
        for (_, handler) in &self.by_type {
            error = match handler(error) {
                Ok(answer) => return Ok(answer),
                Err(error) => error,
            };
        }
        Err(error)
    }
}
