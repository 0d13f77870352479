//! Handlers: `async fn`s of extractors, type-erased when they are registered.
//!
//! A handler (Flask's "view function") is any `async fn` or closure returning a future
//! that takes up to six extractors and returns something that implements
//! [`IntoResponse`]. [`Handler`] is implemented for all of them by the impls at the end
//! of this file, one per arity, written by the crate's only macros.
//!
//! At registration ([`get`](crate::get) and friends) the handler is boxed behind an object
//! safe trait, so [`App`](crate::App) and [`MethodRouter`](crate::MethodRouter) have no
//! type parameters. The price is one allocation per request for the handler's future.

use std::any::{type_name, TypeId};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use carafe_serve::{Body, Response};

use crate::extract::{FromRequest, FromRequestParts, RequestParts};
use crate::response::IntoResponse;
use crate::state::Needs;

/// A function that answers requests: an `async fn` taking extractors, returning a
/// response.
///
/// You do not implement this trait: every `async fn` (or closure returning a `Send`
/// future) whose arguments are extractors and whose output implements [`IntoResponse`]
/// implements it. `Args` is the tuple of argument types, inferred by the compiler.
///
/// ```
/// use carafe::{get, Json, Path, Query};
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Paging { page: Option<u32> }
///
/// async fn index() -> &'static str {
///     "Hello, World!"
/// }
///
/// async fn show(Path(id): Path<u64>, Query(paging): Query<Paging>) -> String {
///     format!("item {id}, page {}", paging.page.unwrap_or(1))
/// }
///
/// async fn create(Json(item): Json<serde_json::Value>) -> Json<serde_json::Value> {
///     Json(item)
/// }
///
/// let _ = get(index);
/// let _ = get(show).post(create);
/// let _ = get(|| async { "closures work too" });
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a carafe handler",
    label = "this is not an async fn of extractors returning a response",
    note = "a handler is an `async fn` taking 0 to 6 extractors and returning a type that \
            implements `IntoResponse`, such as `carafe::Result<T>` to use `?` and `abort`",
    note = "every argument but the last must implement `FromRequestParts` (`Path`, `Query`, \
            `State`, `HeaderMap`, `Header`, `Cookies`, `ClientAddr`, `RequestUrl`, `Method`, \
            `Uri`, `ConnInfo`); only the last may read the body (`Json`, `Form`, `Multipart`, \
            `MultipartForm`, `String`, `Bytes`, `Body`, `Request`)",
    note = "the future must be `Send`: do not hold an `Rc` or a `std::sync::MutexGuard` \
            across an `.await`"
)]
pub trait Handler<Args>: Send + Sync + 'static {
    /// Runs the extractors on the request, calls the handler, and turns what it returns
    /// into a response. A failing extractor answers with its [`HttpError`](crate::HttpError)
    /// instead.
    ///
    /// ```
    /// use carafe::{Body, Handler, RequestParts};
    ///
    /// async fn hello() -> &'static str {
    ///     "Hello"
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (head, body) = http::Request::new(Body::empty()).into_parts();
    /// let response = hello.call(RequestParts::new(head), body).await;
    /// assert_eq!(response.status(), 200);
    /// # }
    /// ```
    fn call(&self, parts: RequestParts, body: Body) -> impl Future<Output = Response> + Send;

    /// Collects what the handler's extractors need from the app (see [`Needs`]).
    ///
    /// ```
    /// use carafe::{Handler, Needs, State};
    ///
    /// async fn hits(State(count): State<u64>) -> String {
    ///     count.to_string()
    /// }
    ///
    /// let mut needs = Needs::default();
    /// <_ as Handler<(State<u64>,)>>::needs(&hits, &mut needs);
    /// assert_eq!(needs.state_names().collect::<Vec<_>>(), ["u64"]);
    /// ```
    fn needs(&self, needs: &mut Needs) {
        let _ = needs;
    }
}

/// The future of a type-erased handler.
pub(crate) type BoxFuture<'a> = Pin<Box<dyn Future<Output = Response> + Send + 'a>>;

/// A handler with its type erased, as routes store it.
pub(crate) struct BoxedHandler {
    inner: Box<dyn ErasedHandler>,
    /// What the handler's extractors need from the app.
    needs: Needs,
    /// The handler's type, which tells two handlers apart for endpoint clashes.
    type_id: TypeId,
}

impl BoxedHandler {
    /// Boxes `handler`.
    pub(crate) fn new<H, Args>(handler: H) -> Self
    where
        H: Handler<Args>,
        Args: 'static,
    {
        let mut needs = Needs::default();
        handler.needs(&mut needs);
        BoxedHandler {
            inner: Box::new(Erased {
                handler,
                args: PhantomData,
            }),
            needs,
            type_id: TypeId::of::<H>(),
        }
    }

    /// What the handler needs from the app.
    pub(crate) fn needs(&self) -> &Needs {
        &self.needs
    }

    /// The handler's type.
    pub(crate) fn type_id(&self) -> TypeId {
        self.type_id
    }

    /// The endpoint name a function gives its routes: its name without the module path
    /// (`index` for `app::views::index`); `None` for a closure, which has no name.
    pub(crate) fn endpoint_name(&self) -> Option<&'static str> {
        endpoint_name(self.name())
    }

    /// Answers one request.
    pub(crate) fn call(&self, parts: RequestParts, body: Body) -> BoxFuture<'_> {
        self.inner.call(parts, body)
    }

    /// The handler's type name, such as `hello::index`, for debugging output.
    pub(crate) fn name(&self) -> &'static str {
        self.inner.name()
    }
}

impl fmt::Debug for BoxedHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The object-safe face of [`Handler`].
trait ErasedHandler: Send + Sync {
    fn call(&self, parts: RequestParts, body: Body) -> BoxFuture<'_>;
    fn name(&self) -> &'static str;
}

/// A handler together with the argument tuple that selected its [`Handler`] impl.
struct Erased<H, Args> {
    handler: H,
    args: PhantomData<fn() -> Args>,
}

impl<H, Args> ErasedHandler for Erased<H, Args>
where
    H: Handler<Args>,
    Args: 'static,
{
    fn call(&self, parts: RequestParts, body: Body) -> BoxFuture<'_> {
        Box::pin(self.handler.call(parts, body))
    }

    fn name(&self) -> &'static str {
        type_name::<H>()
    }
}

/// The last path segment of a function's type name, or `None` for closures and other
/// types without a plain name.
pub(crate) fn endpoint_name(type_name: &'static str) -> Option<&'static str> {
    if type_name.contains('{') || type_name.contains('<') {
        return None;
    }
    let name = type_name.rsplit("::").next()?;
    (!name.is_empty()).then_some(name)
}

/// Turns an extractor's result into its value, or returns its rejection as the response.
macro_rules! extract_or_answer {
    ($extraction:expr) => {
        match $extraction.await {
            Ok(value) => value,
            Err(rejection) => return IntoResponse::into_response(rejection),
        }
    };
}

impl<F, Fut, R> Handler<()> for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send,
    R: IntoResponse,
{
    fn call(&self, _parts: RequestParts, _body: Body) -> impl Future<Output = Response> + Send {
        let answer = self();
        async move { answer.await.into_response() }
    }
}

/// Implements [`Handler`] for functions of `$head` parts extractors and a `$last`
/// extractor.
macro_rules! impl_handler {
    ($($head:ident),* ; $last:ident) => {
        impl<F, Fut, R, $($head,)* $last> Handler<($($head,)* $last,)> for F
        where
            F: Fn($($head,)* $last) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = R> + Send,
            R: IntoResponse,
            $($head: FromRequestParts + Send,)*
            $last: FromRequest + Send,
        {
            #[allow(non_snake_case, unused_mut)]
            fn call(
                &self,
                mut parts: RequestParts,
                body: Body,
            ) -> impl Future<Output = Response> + Send {
                async move {
                    $(let $head = extract_or_answer!($head::from_request_parts(&mut parts));)*
                    let $last = extract_or_answer!($last::from_request(parts, body));
                    self($($head,)* $last).await.into_response()
                }
            }

            fn needs(&self, needs: &mut Needs) {
                $(<$head as FromRequestParts>::needs(needs);)*
                <$last as FromRequest>::needs(needs);
            }
        }
    };
}

impl_handler!(; T1);
impl_handler!(T1; T2);
impl_handler!(T1, T2; T3);
impl_handler!(T1, T2, T3; T4);
impl_handler!(T1, T2, T3, T4; T5);
impl_handler!(T1, T2, T3, T4, T5; T6);

#[cfg(test)]
mod tests {
    use super::endpoint_name;

    #[test]
    fn endpoint_names_come_from_function_names_only() {
        assert_eq!(endpoint_name("app::views::index"), Some("index"));
        assert_eq!(endpoint_name("index"), Some("index"));
        assert_eq!(endpoint_name("app::main::{{closure}}"), None);
        assert_eq!(endpoint_name("app::Wrapper<u8>"), None);
    }
}
