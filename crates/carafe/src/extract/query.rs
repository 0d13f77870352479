//! [`Query<T>`]: the query string, deserialized with `serde_urlencoded` (Flask's
//! `request.args`).

use http::StatusCode;
use serde::de::DeserializeOwned;

use super::{FromRequestParts, RequestParts};
use crate::error::HttpError;

/// The query string, deserialized into `T`; `400` if it does not fit.
///
/// A request without a query string is an empty one, so make fields that may be missing
/// `Option`s or give them `#[serde(default)]`.
///
/// ```
/// use carafe::Query;
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Search {
///     q: String,
///     #[serde(default)]
///     page: u32,
/// }
///
/// async fn search(Query(search): Query<Search>) -> String {
///     format!("{} (page {})", search.q, search.page)
/// }
/// # let _ = carafe::get(search);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned> FromRequestParts for Query<T> {
    async fn from_request_parts(parts: &mut RequestParts) -> Result<Self, HttpError> {
        let query = parts.uri().query().unwrap_or_default();
        serde_urlencoded::from_str(query)
            .map(Query)
            .map_err(|error| {
                HttpError::new(
                    StatusCode::BAD_REQUEST,
                    format!("failed to parse the query string: {error}"),
                )
            })
    }
}
