//! Extractors: typed handler arguments taken from the request.
//!
//! A handler's arguments are extractors. All but the last implement
//! [`FromRequestParts`] and see only the request's head ([`RequestParts`]); the last may
//! implement [`FromRequest`] instead and consume the body. Every [`FromRequestParts`]
//! type is a [`FromRequest`] too, so any extractor can come last.
//!
//! | extractor | from | rejection |
//! |---|---|---|
//! | [`Path<T>`] | the rule's placeholders | `400`, or `500` if `T` does not fit the rule |
//! | [`Query<T>`] | the query string | `400` |
//! | [`HeaderMap`], [`Method`], [`Uri`], [`Version`] | the head | never |
//! | [`ConnInfo`] | the connection | `500` when not served by carafe-serve |
//! | [`Header<T>`] ([`UserAgent`], [`ContentType`], ...) | one header | `400`; `Option<Header<T>>` when absent |
//! | [`Cookies`] | the `Cookie` headers | never |
//! | [`ClientAddr`] | the peer, or `X-Forwarded-For` under [`ProxyFix`] | `500` when not served by carafe-serve |
//! | [`RequestUrl`] | scheme, host, prefix (`X-Forwarded-*` under [`ProxyFix`]) | never |
//! | [`Json<T>`](crate::Json) | the body (last) | `415`, `413`, `400` naming the field |
//! | [`Form<T>`] | a urlencoded or multipart body (last) | `415`, `413`, `400` naming the field |
//! | [`Multipart`] | a multipart body, part by part (last) | `415`, `400`, `413` naming the limit |
//! | [`MultipartForm`] | a multipart body: fields and [`UploadedFile`]s (last) | `415`, `400`, `413` naming the limit |
//! | [`String`], [`Bytes`](bytes::Bytes) | the body (last) | `413`, `400` |
//! | [`Body`], [`Request`](carafe_serve::Request) | the body, unread (last) | never |
//!
//! A rejection is an [`HttpError`], answered instead of calling the handler.
//! [`SetCookie`] and [`set_cookie`] are the other half of [`Cookies`]: they add
//! `Set-Cookie` to the response.
//!
//! An argument that is not an extractor is a compile error, "`fn(File) -> ...` is not a
//! carafe handler", whose notes list the extractors for the head and for the body:
//!
//! ```compile_fail
//! // error[E0277]: `fn(File) -> impl Future<..> {upload}` is not a carafe handler
//! async fn upload(file: std::fs::File) -> &'static str {
//!     "a file is not something a request carries"
//! }
//! let _ = carafe::post(upload);
//! ```
//!
//! ```compile_fail
//! // error[E0277]: ... is not a carafe handler
//! // note: ... only the last may read the body (`Json`, `Form`, `Multipart`, ...)
//! # #[derive(serde::Deserialize)] struct Signup { email: String }
//! async fn signup(form: carafe::extract::Form<Signup>, method: http::Method) -> &'static str {
//!     "unreachable"
//! }
//! let _ = carafe::post(signup);
//! ```
//!
//! [`HeaderMap`]: http::HeaderMap
//! [`Method`]: http::Method
//! [`Uri`]: http::Uri
//! [`Version`]: http::Version
//! [`ConnInfo`]: carafe_serve::ConnInfo

mod body;
mod client;
mod cookies;
pub(crate) mod form;
mod head;
mod headers;
mod multipart;
mod path;
mod query;

use std::future::Future;
use std::sync::Arc;

use carafe_serve::Body;
use http::request::Parts;
use http::{Extensions, HeaderMap, Method, Uri, Version};

use crate::error::HttpError;
use crate::routing::{Capture, Params};
use crate::state::AppShared;

pub(crate) use self::body::read_body;
pub use self::client::{ClientAddr, ProxyFix, RequestUrl};
pub use self::cookies::{set_cookie, Cookies, SetCookie};
pub use self::form::Form;
pub use self::headers::{ContentLength, ContentType, Header, Referer, TypedHeader, UserAgent};
pub use self::multipart::{
    secure_filename, Field, Multipart, MultipartForm, MultipartLimits, UploadedFile,
};
pub use self::path::Path;
pub use self::query::Query;

/// How many body bytes the buffering extractors read by default: 2 MiB (see
/// [`App::max_content_length`](crate::App::max_content_length)).
pub const DEFAULT_MAX_CONTENT_LENGTH: usize = 2 * 1024 * 1024;

/// A request without its body, plus what routing found: what extractors read.
///
/// ```
/// use carafe::{FromRequestParts, HttpError, RequestParts};
/// use http::StatusCode;
///
/// /// The caller's API key, from the `x-api-key` header.
/// struct ApiKey(String);
///
/// impl FromRequestParts for ApiKey {
///     async fn from_request_parts(parts: &mut RequestParts) -> Result<Self, HttpError> {
///         let key = parts.headers().get("x-api-key").and_then(|value| value.to_str().ok());
///         match key {
///             Some(key) => Ok(ApiKey(key.to_owned())),
///             None => Err(HttpError::new(StatusCode::UNAUTHORIZED, "missing x-api-key")),
///         }
///     }
/// }
///
/// async fn secret(ApiKey(key): ApiKey) -> String {
///     format!("hello, holder of {key}")
/// }
/// # let _ = carafe::get(secret);
/// ```
#[derive(Debug)]
pub struct RequestParts {
    /// The request line, headers and extensions.
    head: Parts,
    /// The placeholders' matches, as ranges of `head.uri`'s path.
    captures: Vec<Capture>,
    /// What every request of the app shares: state and limits.
    app: Arc<AppShared>,
    /// The matched route's index in the app's router, for its endpoint and blueprint.
    route: Option<usize>,
}

impl RequestParts {
    /// Parts of a request that did not go through routing: no path parameters, and the
    /// default body limit. Useful to test an extractor.
    ///
    /// ```
    /// let (head, _body) = http::Request::new(carafe::Body::empty()).into_parts();
    /// let parts = carafe::RequestParts::new(head);
    /// assert!(parts.params().is_empty());
    /// ```
    pub fn new(head: Parts) -> Self {
        RequestParts::routed(head, Vec::new(), AppShared::detached())
    }

    /// Parts of a routed request.
    pub(crate) fn routed(head: Parts, captures: Vec<Capture>, app: Arc<AppShared>) -> Self {
        RequestParts {
            head,
            captures,
            app,
            route: None,
        }
    }

    /// Records which route matched.
    pub(crate) fn set_route(&mut self, route: Option<usize>) {
        self.route = route;
    }

    /// The matched route's endpoint (Flask's `request.endpoint`): `"index"`,
    /// `"admin.users"`; `None` for a request that matched no named route.
    ///
    /// ```
    /// # let parts = carafe::RequestParts::new(http::Request::new(()).into_parts().0);
    /// assert_eq!(parts.endpoint(), None);
    /// ```
    pub fn endpoint(&self) -> Option<&str> {
        self.app.router.endpoint_of(self.route?)
    }

    /// The blueprint of the matched route (Flask's `request.blueprint`), with its
    /// template and static folders.
    ///
    /// ```
    /// # let parts = carafe::RequestParts::new(http::Request::new(()).into_parts().0);
    /// assert!(parts.blueprint().is_none());
    /// ```
    pub fn blueprint(&self) -> Option<&crate::BlueprintInfo> {
        let index = self.app.router.blueprint_of(self.route?)?;
        Some(&self.app.blueprints[index].info)
    }

    /// Builds the URL of `endpoint` with `params` (see [`url_for`](crate::url_for));
    /// `_external` URLs use the request's `Host` unless `SERVER_NAME` is configured.
    ///
    /// ```
    /// # let parts = carafe::RequestParts::new(http::Request::new(()).into_parts().0);
    /// assert!(parts.url_for("missing", ()).is_err());
    /// ```
    pub fn url_for(
        &self,
        endpoint: &str,
        params: impl crate::UrlParams,
    ) -> Result<String, crate::UrlError> {
        let host = self
            .headers()
            .get(http::header::HOST)
            .and_then(|host| host.to_str().ok());
        let url = RequestUrl::from_parts(self);
        let scheme = Some(url.scheme());
        crate::url::build(
            &self.app,
            self.route,
            endpoint,
            params.into_pairs(),
            host,
            scheme,
        )
    }

    /// The request method.
    ///
    /// ```
    /// # let parts = carafe::RequestParts::new(http::Request::new(()).into_parts().0);
    /// assert_eq!(parts.method(), http::Method::GET);
    /// ```
    pub fn method(&self) -> &Method {
        &self.head.method
    }

    /// The request target.
    ///
    /// ```
    /// # let parts = carafe::RequestParts::new(http::Request::new(()).into_parts().0);
    /// assert_eq!(parts.uri().path(), "/");
    /// ```
    pub fn uri(&self) -> &Uri {
        &self.head.uri
    }

    /// The HTTP version.
    ///
    /// ```
    /// # let parts = carafe::RequestParts::new(http::Request::new(()).into_parts().0);
    /// assert_eq!(parts.version(), http::Version::HTTP_11);
    /// ```
    pub fn version(&self) -> Version {
        self.head.version
    }

    /// The request headers.
    ///
    /// ```
    /// # let parts = carafe::RequestParts::new(http::Request::new(()).into_parts().0);
    /// assert!(parts.headers().get("cookie").is_none());
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        &self.head.headers
    }

    /// The request headers, to change.
    ///
    /// ```
    /// # let mut parts = carafe::RequestParts::new(http::Request::new(()).into_parts().0);
    /// parts.headers_mut().remove("cookie");
    /// ```
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.head.headers
    }

    /// The request's extensions: typed values that travel with the request.
    ///
    /// ```
    /// # let parts = carafe::RequestParts::new(http::Request::new(()).into_parts().0);
    /// let upgrade = parts.extensions().get::<carafe_serve::upgrade::OnUpgrade>();
    /// # assert!(upgrade.is_none());
    /// ```
    pub fn extensions(&self) -> &Extensions {
        &self.head.extensions
    }

    /// The request's extensions, to change: a place for extractors to leave values for
    /// later ones.
    ///
    /// ```
    /// # let mut parts = carafe::RequestParts::new(http::Request::new(()).into_parts().0);
    /// parts.extensions_mut().insert(42u32);
    /// ```
    pub fn extensions_mut(&mut self) -> &mut Extensions {
        &mut self.head.extensions
    }

    /// The rule's path parameters (Flask's `request.view_args`).
    ///
    /// ```
    /// # let parts = carafe::RequestParts::new(http::Request::new(()).into_parts().0);
    /// let id = parts.params().get("id");
    /// # assert!(id.is_none());
    /// ```
    pub fn params(&self) -> Params<'_> {
        Params::new(self.head.uri.path(), &self.captures)
    }

    /// The most body bytes that [`Json`](crate::Json), [`String`] and
    /// [`Bytes`](bytes::Bytes) read (Flask's `MAX_CONTENT_LENGTH`).
    ///
    /// ```
    /// # let parts = carafe::RequestParts::new(http::Request::new(()).into_parts().0);
    /// assert_eq!(parts.max_content_length(), carafe::extract::DEFAULT_MAX_CONTENT_LENGTH);
    /// ```
    pub fn max_content_length(&self) -> usize {
        self.app.config.max_content_length
    }

    /// The app's configuration (Flask's `current_app.config`).
    ///
    /// ```
    /// # let parts = carafe::RequestParts::new(http::Request::new(()).into_parts().0);
    /// assert!(!parts.config().debug);
    /// ```
    pub fn config(&self) -> &crate::Config {
        &self.app.config
    }

    /// A value of the app's state (see [`App::state`](crate::App::state) and
    /// [`State`](crate::State)), or `None` if the app has none of type `T`.
    ///
    /// ```
    /// # let parts = carafe::RequestParts::new(http::Request::new(()).into_parts().0);
    /// let pool: Option<&String> = parts.state::<String>();
    /// # assert!(pool.is_none());
    /// ```
    pub fn state<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.app.state.get::<T>()
    }

    /// The request line, headers and extensions.
    ///
    /// ```
    /// # let parts = carafe::RequestParts::new(http::Request::new(()).into_parts().0);
    /// let head: &http::request::Parts = parts.head();
    /// # let _ = head;
    /// ```
    pub fn head(&self) -> &Parts {
        &self.head
    }

    /// Gives back the request line, headers and extensions, to rebuild a request.
    ///
    /// ```
    /// # let parts = carafe::RequestParts::new(http::Request::new(()).into_parts().0);
    /// let request = carafe::Request::from_parts(parts.into_head(), carafe::Body::empty());
    /// # let _ = request;
    /// ```
    pub fn into_head(self) -> Parts {
        self.head
    }
}

/// A handler argument taken from the request's head: every argument but the last.
///
/// Implement it for your own extractors; the answer to a request your extractor refuses
/// is the [`HttpError`] it returns.
///
/// ```
/// use carafe::{FromRequestParts, HttpError, RequestParts};
///
/// /// The `user-agent`, or `"unknown"`.
/// struct UserAgent(String);
///
/// impl FromRequestParts for UserAgent {
///     async fn from_request_parts(parts: &mut RequestParts) -> Result<Self, HttpError> {
///         let agent = parts.headers().get(http::header::USER_AGENT);
///         let agent = agent.and_then(|value| value.to_str().ok()).unwrap_or("unknown");
///         Ok(UserAgent(agent.to_owned()))
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be extracted from the request head",
    label = "not an extractor for the request's head",
    note = "every handler argument but the last must implement `FromRequestParts`: \
            `Path<T>`, `Query<T>`, `State<T>`, `HeaderMap`, `Header<T>`, `Cookies`, \
            `ClientAddr`, `RequestUrl`, `Method`, `Uri`, `Version`, `ConnInfo`, \
            or a type of yours that implements it",
    note = "extractors that read the body (`Json<T>`, `Form<T>`, `Multipart`, \
            `MultipartForm`, `String`, `Bytes`, `Body`, `Request`) must be the handler's \
            last argument"
)]
pub trait FromRequestParts: Sized {
    /// Extracts the value, or refuses the request with an answer.
    ///
    /// ```
    /// use carafe::FromRequestParts;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (head, _body) = http::Request::new(carafe::Body::empty()).into_parts();
    /// let mut parts = carafe::RequestParts::new(head);
    /// let method = http::Method::from_request_parts(&mut parts).await.unwrap();
    /// assert_eq!(method, http::Method::GET);
    /// # }
    /// ```
    fn from_request_parts(
        parts: &mut RequestParts,
    ) -> impl Future<Output = Result<Self, HttpError>> + Send;

    /// Declares what the extractor needs from the app (state types), so that a missing
    /// value is an error at startup ([`App::check`](crate::App::check)) rather than a
    /// `500` per request. The default needs nothing.
    ///
    /// ```
    /// let mut needs = carafe::Needs::default();
    /// <carafe::State<u32> as carafe::FromRequestParts>::needs(&mut needs);
    /// assert_eq!(needs.state_names().collect::<Vec<_>>(), ["u32"]);
    /// ```
    fn needs(needs: &mut crate::Needs) {
        let _ = needs;
    }
}

/// A handler's last argument, which may consume the request body.
///
/// Every [`FromRequestParts`] type implements it too, so a type implements one of the two
/// traits, never both.
///
/// ```
/// use carafe::{Body, FromRequest, HttpError, RequestParts};
///
/// /// The body's length, read and thrown away.
/// struct BodyLength(usize);
///
/// impl FromRequest for BodyLength {
///     async fn from_request(_parts: RequestParts, mut body: Body) -> Result<Self, HttpError> {
///         let mut length = 0;
///         while let Some(chunk) = body.chunk().await {
///             let chunk = chunk.map_err(|error| {
///                 HttpError::new(http::StatusCode::BAD_REQUEST, error.to_string())
///             })?;
///             length += chunk.len();
///         }
///         Ok(BodyLength(length))
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an extractor",
    label = "cannot be taken from a request",
    note = "a handler's last argument must implement `FromRequest` (`Json<T>`, `Form<T>`, \
            `Multipart`, `MultipartForm`, `String`, `Bytes`, `Body`, `Request`) or \
            `FromRequestParts` (`Path<T>`, `Query<T>`, `State<T>`, `HeaderMap`, \
            `Header<T>`, `Cookies`, `ClientAddr`, `Method`, `Uri`, `ConnInfo`, ...)",
    note = "for `Json<T>`, `Form<T>` and `Query<T>`, `T` must implement \
            `serde::Deserialize`"
)]
pub trait FromRequest: Sized {
    /// Extracts the value, or refuses the request with an answer.
    ///
    /// ```
    /// use carafe::FromRequest;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (head, body) = http::Request::new(carafe::Body::from("hi")).into_parts();
    /// let text = String::from_request(carafe::RequestParts::new(head), body).await.unwrap();
    /// assert_eq!(text, "hi");
    /// # }
    /// ```
    fn from_request(
        parts: RequestParts,
        body: Body,
    ) -> impl Future<Output = Result<Self, HttpError>> + Send;

    /// Declares what the extractor needs from the app; see
    /// [`FromRequestParts::needs`]. The default needs nothing.
    ///
    /// ```
    /// let mut needs = carafe::Needs::default();
    /// <String as carafe::FromRequest>::needs(&mut needs);
    /// assert_eq!(needs.state_names().count(), 0);
    /// ```
    fn needs(needs: &mut crate::Needs) {
        let _ = needs;
    }
}

#[cfg(test)]
mod tests;

/// The parts of a `GET uri` request routed by a router holding only `rule`.
#[cfg(test)]
pub(crate) fn routed_parts(rule: &str, uri: &str) -> RequestParts {
    let mut router = crate::Router::new();
    router.route(rule, crate::get(|| async {}));
    let (head, _body) = http::Request::get(uri)
        .body(())
        .unwrap_or_default()
        .into_parts();
    let found = router.lookup(&Method::GET, head.uri.path(), None);
    let captures = found.map(|found| found.captures).unwrap_or_default();
    RequestParts::routed(head, captures, AppShared::detached())
}

impl<T: FromRequestParts> FromRequest for T {
    async fn from_request(mut parts: RequestParts, body: Body) -> Result<Self, HttpError> {
        // The body is not needed: let the server drain or close it now.
        drop(body);
        T::from_request_parts(&mut parts).await
    }

    fn needs(needs: &mut crate::Needs) {
        <T as FromRequestParts>::needs(needs);
    }
}
