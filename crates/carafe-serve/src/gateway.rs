//! The gateway: the interface between the server and the application (carafe's WSGI).
//!
//! Where WSGI hands an application a stringly `environ` dict and a `start_response`
//! callback, carafe hands it a typed [`Request`] and expects a [`Response`] back. Both are
//! the ecosystem's vocabulary types from the `http` crate with one concrete body type,
//! [`Body`], which implements [`http_body::Body`].
//!
//! Anything that implements [`Application`] can be served by [`TcpServer`](crate::TcpServer):
//! an `async fn(Request) -> Response` closure, a carafe `App`, or any `tower::Service`
//! (an axum `Router`, say) wrapped in [`TowerApplication`]. In the other direction,
//! [`ApplicationService`] turns an [`Application`] into a `tower::Service`, so a carafe
//! application runs on hyper or any other tower-speaking server.
//!
//! While a request is handled, [`ConnInfo::current`] tells the peer and local addresses of
//! its connection (Werkzeug's `REMOTE_ADDR` and `SERVER_PORT`). It is kept per connection
//! task rather than inserted in every request's extensions, which would cost three
//! allocations per request; [`TowerApplication`] does insert it, for tower services that
//! look there.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::BodyExt;

use crate::error::{BoxError, Error};
use crate::http1::body::Incoming;

/// A request as the application sees it.
pub type Request = http::Request<Body>;

/// A response as the application returns it.
pub type Response = http::Response<Body>;

/// The application side of the gateway: something that turns a request into a response.
///
/// Errors are the application's business: it always answers with a [`Response`], as a WSGI
/// application always calls `start_response`. Closures implement it:
///
/// ```
/// use carafe_serve::{Body, Request, Response};
///
/// let app = |req: Request| async move {
///     Response::new(Body::from(format!("you asked for {}", req.uri().path())))
/// };
/// # fn assert_app(_: impl carafe_serve::Application) {}
/// assert_app(app);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a carafe application",
    label = "this does not turn a `carafe_serve::Request` into a `carafe_serve::Response`",
    note = "an application is an `async fn(Request) -> Response` closure, a `carafe::App`, \
            or a tower service wrapped in `TowerApplication::new(..)`"
)]
pub trait Application: Send + Sync + 'static {
    /// Answers one request.
    fn call(&self, req: Request) -> impl Future<Output = Response> + Send;
}

impl<F, Fut> Application for F
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response> + Send,
{
    fn call(&self, req: Request) -> impl Future<Output = Response> + Send {
        self(req)
    }
}

/// Facts about the connection a request arrived on.
///
/// ```
/// use carafe_serve::{Body, ConnInfo, Request, Response};
///
/// async fn whoami(_req: Request) -> Response {
///     let peer = ConnInfo::current().map(|info| info.peer_addr.to_string());
///     Response::new(Body::from(peer.unwrap_or_default()))
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnInfo {
    /// The client's address (Werkzeug's `REMOTE_ADDR` and `REMOTE_PORT`).
    pub peer_addr: SocketAddr,
    /// The server's address the connection was accepted on.
    pub local_addr: SocketAddr,
    /// The connection's id in the server's [`Registry`](crate::Registry).
    pub id: u64,
    /// The connection speaks TLS (HTTPS): cookies can be `Secure`, redirects `https://`.
    pub tls: bool,
}

/// The body of a [`Request`] or a [`Response`].
///
/// A request body streams from the connection as the application reads it; the server
/// never buffers it whole. A response body is empty, a single buffer, or any
/// [`http_body::Body`] (a stream, server-sent events, a file).
///
/// ```
/// use carafe_serve::Body;
///
/// let hello = Body::from("Hello, World!");
/// let empty = Body::empty();
/// # let _ = (hello, empty);
/// ```
pub struct Body {
    kind: Kind,
}

enum Kind {
    /// No bytes at all.
    Empty,
    /// One buffer, handed out on the first poll.
    Full(Bytes),
    /// A request body arriving from an HTTP/1.1 connection.
    Incoming(Incoming),
    /// Any other body, boxed.
    Boxed(UnsyncBoxBody<Bytes, BoxError>),
}

tokio::task_local! {
    /// The connection served by the current task.
    static CONN_INFO: ConnInfo;
}

impl ConnInfo {
    /// The connection the current request arrived on, when called while a request is
    /// handled by carafe-serve's server (inside the handler's future, not in a task it
    /// spawned). `None` elsewhere, for example under hyper.
    pub fn current() -> Option<ConnInfo> {
        CONN_INFO.try_with(|info| *info).ok()
    }

    /// The URL scheme the request came with: `"https"` over TLS, else `"http"`
    /// (WSGI's `wsgi.url_scheme`).
    ///
    /// ```
    /// # let info = carafe_serve::ConnInfo {
    /// #     peer_addr: "127.0.0.1:50000".parse().unwrap(),
    /// #     local_addr: "127.0.0.1:5000".parse().unwrap(),
    /// #     id: 1,
    /// #     tls: true,
    /// # };
    /// assert_eq!(info.scheme(), "https");
    /// ```
    pub fn scheme(&self) -> &'static str {
        if self.tls {
            "https"
        } else {
            "http"
        }
    }

    /// Runs `future` (a connection's task) with `self` as its [`ConnInfo::current`].
    pub(crate) fn scope<F: Future>(self, future: F) -> impl Future<Output = F::Output> {
        CONN_INFO.scope(self, future)
    }
}

impl Body {
    /// A body with no bytes.
    pub fn empty() -> Self {
        Body { kind: Kind::Empty }
    }

    /// Wraps any [`http_body::Body`] whose data is [`Bytes`].
    pub fn new<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Body {
            kind: Kind::Boxed(body.map_err(Into::into).boxed_unsync()),
        }
    }

    /// A body that yields the items of a stream as data frames.
    pub fn from_stream<S, E>(stream: S) -> Self
    where
        S: futures_core::Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        Body::new(StreamBody {
            stream: Box::pin(stream),
        })
    }

    pub(crate) fn incoming(incoming: Incoming) -> Self {
        Body {
            kind: Kind::Incoming(incoming),
        }
    }

    /// The next chunk of data, skipping trailers; `None` at the end of the body.
    ///
    /// ```no_run
    /// # async fn f(mut body: carafe_serve::Body) -> Result<(), carafe_serve::Error> {
    /// while let Some(chunk) = body.chunk().await {
    ///     let chunk = chunk?;
    ///     println!("read {} bytes", chunk.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn chunk(&mut self) -> Option<Result<Bytes, Error>> {
        loop {
            match self.frame().await? {
                Ok(frame) => match frame.into_data() {
                    Ok(data) => return Some(Ok(data)),
                    Err(_trailers) => continue,
                },
                Err(error) => return Some(Err(error)),
            }
        }
    }

    /// Reads the whole body into one buffer, failing with [`Error::BodyTooLarge`] if it is
    /// longer than `limit` bytes.
    pub async fn to_bytes(mut self, limit: usize) -> Result<Bytes, Error> {
        if let Kind::Full(bytes) = &mut self.kind {
            return check_len(std::mem::take(bytes), limit);
        }
        let mut buf = bytes::BytesMut::new();
        while let Some(chunk) = self.chunk().await {
            let chunk = chunk?;
            if buf.len() + chunk.len() > limit {
                return Err(Error::BodyTooLarge {
                    limit: limit as u64,
                });
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf.freeze())
    }

    /// The whole body when it is a single in-memory buffer (or empty), without polling.
    pub(crate) fn as_full(&self) -> Option<&[u8]> {
        match &self.kind {
            Kind::Empty => Some(&[]),
            Kind::Full(bytes) => Some(bytes),
            Kind::Incoming(_) | Kind::Boxed(_) => None,
        }
    }
}

fn check_len(bytes: Bytes, limit: usize) -> Result<Bytes, Error> {
    if bytes.len() > limit {
        return Err(Error::BodyTooLarge {
            limit: limit as u64,
        });
    }
    Ok(bytes)
}

impl Default for Body {
    fn default() -> Self {
        Body::empty()
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            Kind::Empty => "empty",
            Kind::Full(_) => "full",
            Kind::Incoming(_) => "incoming",
            Kind::Boxed(_) => "boxed",
        };
        f.debug_struct("Body")
            .field("kind", &kind)
            .field("size_hint", &http_body::Body::size_hint(self))
            .finish()
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        match &mut self.kind {
            Kind::Empty => Poll::Ready(None),
            Kind::Full(bytes) => {
                let bytes = std::mem::take(bytes);
                self.kind = Kind::Empty;
                Poll::Ready(Some(Ok(Frame::data(bytes))))
            }
            Kind::Incoming(incoming) => incoming.poll_frame(cx),
            Kind::Boxed(body) => Pin::new(body).poll_frame(cx).map_err(Error::Body),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Empty => true,
            Kind::Full(_) => false,
            Kind::Incoming(incoming) => incoming.is_end_stream(),
            Kind::Boxed(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Empty => SizeHint::with_exact(0),
            Kind::Full(bytes) => SizeHint::with_exact(bytes.len() as u64),
            Kind::Incoming(incoming) => incoming.size_hint(),
            Kind::Boxed(body) => body.size_hint(),
        }
    }
}

macro_rules! body_from_bytes {
    ($($ty:ty),*) => {$(
        impl From<$ty> for Body {
            fn from(value: $ty) -> Self {
                let bytes = Bytes::from(value);
                if bytes.is_empty() {
                    return Body::empty();
                }
                Body { kind: Kind::Full(bytes) }
            }
        }
    )*};
}
body_from_bytes!(Bytes, Vec<u8>, String, &'static str, &'static [u8]);

impl From<()> for Body {
    fn from((): ()) -> Self {
        Body::empty()
    }
}

/// Adapts a `Stream` of byte chunks to [`http_body::Body`].
struct StreamBody<E> {
    stream: Pin<Box<dyn futures_core::Stream<Item = Result<Bytes, E>> + Send>>,
}

impl<E> http_body::Body for StreamBody<E> {
    type Data = Bytes;
    type Error = E;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, E>>> {
        self.stream
            .as_mut()
            .poll_next(cx)
            .map(|item| item.map(|chunk| chunk.map(Frame::data)))
    }
}

/// Runs a `tower::Service` (an axum `Router`, say) as a carafe [`Application`].
///
/// The service is cloned for each request, as hyper and axum do, so that `poll_ready` and
/// `call` get a service of their own. Errors of the service become `500` responses.
///
/// ```no_run
/// # async fn f() -> Result<(), carafe_serve::Error> {
/// use carafe_serve::{Config, TcpServer, TowerApplication};
///
/// let router = axum::Router::new().route("/", axum::routing::get(|| async { "from axum" }));
/// let mut server = TcpServer::bind("127.0.0.1:0".parse().unwrap(), Config::default())?;
/// server.activate()?;
/// server.serve_forever(TowerApplication::new(router)).await
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct TowerApplication<S> {
    service: S,
}

impl<S> TowerApplication<S> {
    /// Wraps a tower service.
    pub fn new(service: S) -> Self {
        TowerApplication { service }
    }
}

impl<S, B> Application for TowerApplication<S>
where
    S: tower_service::Service<Request, Response = http::Response<B>>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send,
    S::Error: fmt::Display + Send,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    fn call(&self, mut req: Request) -> impl Future<Output = Response> + Send {
        let mut service = self.service.clone();
        if let Some(info) = ConnInfo::current() {
            req.extensions_mut().insert(info);
        }
        async move {
            let ready = std::future::poll_fn(|cx| service.poll_ready(cx)).await;
            let outcome = match ready {
                Ok(()) => service.call(req).await,
                Err(error) => Err(error),
            };
            match outcome {
                Ok(response) => response.map(Body::new),
                Err(error) => {
                    tracing::error!(target: "carafe::gateway", "tower service failed: {error}");
                    let mut response = Response::new(Body::from("Internal Server Error"));
                    *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
                    response
                }
            }
        }
    }
}

/// Runs a carafe [`Application`] as a `tower::Service`, for hyper or any tower server.
///
/// Requests may carry any [`http_body::Body`] (hyper's `Incoming`, say): it is wrapped in
/// a [`Body`]. With hyper, wrap this service in
/// `hyper_util::service::TowerToHyperService`.
#[derive(Debug)]
pub struct ApplicationService<A> {
    app: Arc<A>,
}

impl<A> ApplicationService<A> {
    /// Wraps an application.
    pub fn new(app: A) -> Self {
        ApplicationService { app: Arc::new(app) }
    }
}

impl<A> Clone for ApplicationService<A> {
    fn clone(&self) -> Self {
        ApplicationService {
            app: Arc::clone(&self.app),
        }
    }
}

impl<A, B> tower_service::Service<http::Request<B>> for ApplicationService<A>
where
    A: Application,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let app = Arc::clone(&self.app);
        Box::pin(async move { Ok(app.call(req.map(Body::new)).await) })
    }
}
