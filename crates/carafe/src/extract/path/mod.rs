//! [`Path<T>`]: the values of the rule's placeholders, deserialized with serde (Flask's
//! view arguments).
//!
//! `T` is a single value when the rule has one placeholder, a tuple in rule order, or a
//! struct (or map) keyed by placeholder name. Values of `int` and `float` placeholders
//! are numbers; the others are percent-decoded text, parsed when `T` asks for a number.
//!
//! A value that does not parse as what `T` asks for is the client's fault (`400`); a `T`
//! that does not fit the rule (a tuple of the wrong length, a field the rule lacks) is the
//! program's, so it answers `500` with a message saying what to fix.

mod de;

use serde::de::DeserializeOwned;

use super::{FromRequestParts, RequestParts};
use crate::error::HttpError;

/// The rule's path parameters, deserialized into `T`.
///
/// ```
/// use carafe::{get, App, Path};
/// use serde::Deserialize;
///
/// async fn item(Path(id): Path<u64>) -> String {
///     format!("item {id}")
/// }
///
/// async fn post(Path((user, id)): Path<(String, u32)>) -> String {
///     format!("{user}'s post {id}")
/// }
///
/// #[derive(Deserialize)]
/// struct Price { currency: String, amount: f64 }
///
/// async fn price(Path(price): Path<Price>) -> String {
///     format!("{} {}", price.amount, price.currency)
/// }
///
/// let mut app = App::new();
/// app.route("/items/<int:id>", get(item));
/// app.route("/users/<user>/posts/<int:id>", get(post));
/// app.route("/prices/<currency>/<float:amount>", get(price));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned> FromRequestParts for Path<T> {
    async fn from_request_parts(parts: &mut RequestParts) -> Result<Self, HttpError> {
        de::from_params(parts.params())
            .map(Path)
            .map_err(de::PathError::into_http_error)
    }
}

#[cfg(test)]
mod tests;
