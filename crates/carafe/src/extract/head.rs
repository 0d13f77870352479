//! Extractors of the request's head: headers, method, target, version, connection.
//!
//! They copy what they take, so several of them can be used in one handler, and never
//! refuse a request, except [`ConnInfo`] when the app is not served by carafe-serve.

use carafe_serve::ConnInfo;
use http::{HeaderMap, Method, StatusCode, Uri, Version};

use super::{FromRequestParts, RequestParts};
use crate::error::HttpError;

/// The request headers.
///
/// ```
/// async fn agent(headers: http::HeaderMap) -> String {
///     format!("{:?}", headers.get(http::header::USER_AGENT))
/// }
/// # let _ = carafe::get(agent);
/// ```
impl FromRequestParts for HeaderMap {
    async fn from_request_parts(parts: &mut RequestParts) -> Result<Self, HttpError> {
        Ok(parts.headers().clone())
    }
}

/// The request method.
///
/// ```
/// async fn which(method: http::Method) -> String {
///     method.to_string()
/// }
/// # let _ = carafe::get(which).post(which);
/// ```
impl FromRequestParts for Method {
    async fn from_request_parts(parts: &mut RequestParts) -> Result<Self, HttpError> {
        Ok(parts.method().clone())
    }
}

/// The request target.
///
/// ```
/// async fn path(uri: http::Uri) -> String {
///     uri.path().to_owned()
/// }
/// # let _ = carafe::get(path);
/// ```
impl FromRequestParts for Uri {
    async fn from_request_parts(parts: &mut RequestParts) -> Result<Self, HttpError> {
        Ok(parts.uri().clone())
    }
}

/// The HTTP version.
///
/// ```
/// async fn version(version: http::Version) -> String {
///     format!("{version:?}")
/// }
/// # let _ = carafe::get(version);
/// ```
impl FromRequestParts for Version {
    async fn from_request_parts(parts: &mut RequestParts) -> Result<Self, HttpError> {
        Ok(parts.version())
    }
}

/// The connection's addresses (Werkzeug's `REMOTE_ADDR`): from the request's extensions
/// when something put a `ConnInfo` there (a tower adapter, a test), else from
/// carafe-serve's [`ConnInfo::current`]. Refuses with `500` when neither has one: the app
/// is not served by carafe-serve.
///
/// ```
/// use carafe::ConnInfo;
///
/// async fn whoami(conn: ConnInfo) -> String {
///     format!("you are {}", conn.peer_addr)
/// }
/// # let _ = carafe::get(whoami);
/// ```
impl FromRequestParts for ConnInfo {
    async fn from_request_parts(parts: &mut RequestParts) -> Result<Self, HttpError> {
        let info = parts.extensions().get::<ConnInfo>().copied();
        info.or_else(ConnInfo::current).ok_or_else(|| {
            HttpError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "no ConnInfo for the request: the app is not served by carafe-serve",
            )
        })
    }
}
