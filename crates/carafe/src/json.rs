//! JSON: [`Json<T>`] reads a request body as JSON and writes a response as JSON.
//!
//! Reading checks the `content-type` (`application/json` or any `application/*+json`,
//! else `415 Unsupported Media Type`), enforces the app's body limit (`413`), and
//! deserializes with serde, answering `400 Bad Request` with a message that names the
//! field that failed (the path from `serde_path_to_error`) and the line and column
//! (from `serde_json`). Writing serializes into one buffer; a serialization failure is a
//! bug in the app and answers `500`.

use carafe_serve::{Body, Response};
use http::header::CONTENT_TYPE;
use http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::HttpError;
use crate::extract::{read_body, FromRequest, RequestParts};
use crate::response::{content_type, typed_response, IntoResponse};

/// A JSON request body or response body.
///
/// As an extractor it must be the handler's last argument, since it reads the body.
///
/// ```
/// use carafe::{post, Json};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Deserialize)]
/// struct NewItem { name: String, price: f64 }
///
/// #[derive(Serialize)]
/// struct Item { id: u64, name: String, price: f64 }
///
/// async fn create(Json(new): Json<NewItem>) -> Json<Item> {
///     Json(Item { id: 1, name: new.name, price: new.price })
/// }
/// # let _ = post(create);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned> Json<T> {
    /// Deserializes `bytes`, with the error the extractor would answer.
    ///
    /// ```
    /// use carafe::Json;
    ///
    /// let Json(numbers) = Json::<Vec<u32>>::from_bytes(b"[1, 2]").unwrap();
    /// assert_eq!(numbers, [1, 2]);
    ///
    /// let error = Json::<Vec<u32>>::from_bytes(b"[1, -2]").expect_err("invalid JSON");
    /// assert_eq!(error.status(), 400);
    /// assert!(error.message().contains("at `[1]`"), "{}", error.message());
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, HttpError> {
        // The common case, a body that fits, goes through plain serde_json; only a body
        // that fails is parsed again with the path tracking that names the field (which
        // costs about as much as the parse itself).
        if let Ok(value) = serde_json::from_slice(bytes) {
            return Ok(Json(value));
        }
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
            let path = error.path().to_string();
            let inner = error.into_inner();
            let message = if path == "." {
                format!("failed to parse the JSON body: {inner}")
            } else {
                format!("failed to parse the JSON body at `{path}`: {inner}")
            };
            HttpError::new(StatusCode::BAD_REQUEST, message)
        })?;
        deserializer.end().map_err(|error| {
            HttpError::new(
                StatusCode::BAD_REQUEST,
                format!("failed to parse the JSON body: {error}"),
            )
        })?;
        Ok(Json(value))
    }
}

impl<T: DeserializeOwned> FromRequest for Json<T> {
    async fn from_request(parts: RequestParts, body: Body) -> Result<Self, HttpError> {
        if !is_json(parts.headers()) {
            return Err(HttpError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "expected a request body with `Content-Type: application/json`",
            ));
        }
        let bytes = read_body(&parts, body).await?;
        Json::from_bytes(&bytes)
    }
}

/// Whether the request says its body is JSON: `application/json` or
/// `application/<anything>+json`, with any parameters.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    let suffix = subtype
        .len()
        .checked_sub(5)
        .and_then(|at| subtype.as_bytes().get(at..));
    let structured = suffix.is_some_and(|suffix| suffix.eq_ignore_ascii_case(b"+json"));
    kind.eq_ignore_ascii_case("application") && (subtype.eq_ignore_ascii_case("json") || structured)
}

/// `application/json`; a serialization error answers `500`.
impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        // Most answers are small objects: start at 128 bytes rather than grow from 8.
        let mut buf = Vec::with_capacity(128);
        match serde_json::to_writer(&mut buf, &self.0) {
            Ok(()) => typed_response(Body::from(buf), content_type::JSON),
            Err(error) => HttpError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("failed to serialize the JSON response: {error}"),
            )
            .into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn json_content_types_are_recognized() {
        let cases = [
            ("application/json", true),
            ("application/json; charset=utf-8", true),
            ("Application/JSON", true),
            ("application/vnd.api+json", true),
            ("application/problem+json;q=1", true),
            ("text/json", false),
            ("application/jsonp", false),
            ("text/plain", false),
            ("", false),
        ];
        for (content_type, expected) in cases {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
            assert_eq!(is_json(&headers), expected, "{content_type}");
        }
        assert!(!is_json(&HeaderMap::new()));
    }

    #[test]
    fn parse_errors_name_the_field_and_position() {
        #[derive(Debug, serde::Deserialize)]
        struct Item {
            #[allow(dead_code)]
            name: String,
        }
        #[derive(Debug, serde::Deserialize)]
        struct Order {
            #[allow(dead_code)]
            items: Vec<Item>,
        }
        let error =
            Json::<Order>::from_bytes(br#"{"items": [{"name": 5}]}"#).expect_err("invalid JSON");
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        assert!(
            error.message().contains("at `items[0].name`"),
            "{}",
            error.message()
        );
        assert!(
            error.message().contains("line 1 column"),
            "{}",
            error.message()
        );

        let error = Json::<Order>::from_bytes(br#"{"items": [{}]}"#).expect_err("invalid JSON");
        assert!(
            error.message().contains("missing field `name`"),
            "{}",
            error.message()
        );

        let error = Json::<Order>::from_bytes(b"{").expect_err("invalid JSON");
        assert!(error.message().contains("EOF"), "{}", error.message());

        let error = Json::<Vec<u8>>::from_bytes(b"[] x").expect_err("invalid JSON");
        assert!(
            error.message().contains("trailing characters"),
            "{}",
            error.message()
        );
    }

    #[test]
    fn response_is_compact_json() {
        let response = Json(serde_json::json!({"message": "Hello, World!"})).into_response();
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
    }

    #[test]
    fn serialization_failure_answers_500() {
        let mut map = std::collections::HashMap::new();
        map.insert(vec![1u8], 1);
        let response = Json(map).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
