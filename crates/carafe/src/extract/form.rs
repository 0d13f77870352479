//! [`Form<T>`]: an HTML form's fields, deserialized with serde (Flask's `request.form`).
//!
//! A urlencoded body (`application/x-www-form-urlencoded`) is read up to the app's
//! `max_content_length` (`413` beyond) and decoded with `serde_html_form`, so a name that
//! repeats (checkboxes, `<select multiple>`) fills a `Vec`. A `multipart/form-data` body
//! gives its text fields, under the app's
//! [`MultipartLimits`](crate::extract::MultipartLimits); its files are read and dropped
//! (take [`MultipartForm`](crate::extract::MultipartForm) to keep them). Any other
//! content type answers `415`. A field that does not fit `T` answers `400` with its name,
//! found by `serde_path_to_error`.

use carafe_serve::Body;
use http::header::CONTENT_TYPE;
use http::StatusCode;
use serde::de::DeserializeOwned;

use super::multipart::{is_multipart, MultipartForm};
use super::{read_body, FromRequest, RequestParts};
use crate::error::HttpError;

/// A form body deserialized into `T`; the handler's last argument.
///
/// ```
/// use carafe::extract::Form;
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Signup {
///     email: String,
///     age: u8,
///     #[serde(default)]
///     topics: Vec<String>, // topics=rust&topics=web
/// }
///
/// async fn signup(Form(signup): Form<Signup>) -> String {
///     format!("{} ({}), likes {}", signup.email, signup.age, signup.topics.join(", "))
/// }
/// # let _ = carafe::post(signup);
/// ```
///
/// A request whose `age` is `old` gets `400 Bad Request` with the body
/// ``invalid form field `age`: invalid digit found in string``.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Form<T>(pub T);

impl<T: DeserializeOwned> Form<T> {
    /// Decodes a urlencoded body, with the error the extractor would answer.
    ///
    /// ```
    /// use carafe::extract::Form;
    /// use std::collections::HashMap;
    ///
    /// let Form(fields) = Form::<HashMap<String, String>>::from_bytes(b"a=1&b=caf%C3%A9").unwrap();
    /// assert_eq!(fields["b"], "café");
    ///
    /// let error = Form::<HashMap<String, u8>>::from_bytes(b"a=300").expect_err("too big");
    /// assert_eq!(error.status(), 400);
    /// assert!(error.message().contains("`a`"), "{}", error.message());
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, HttpError> {
        decode(bytes).map(Form)
    }
}

/// Deserializes urlencoded `bytes` into `T`; `400` naming the field that failed.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, HttpError> {
    // Plain first; only a form that fails is decoded again with path tracking.
    if let Ok(value) = serde_html_form::from_bytes(bytes) {
        return Ok(value);
    }
    let deserializer = serde_html_form::Deserializer::from_bytes(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let message = if path == "." {
            format!("invalid form: {inner}")
        } else {
            format!("invalid form field `{path}`: {inner}")
        };
        HttpError::new(StatusCode::BAD_REQUEST, message)
    })
}

/// Whether a content type is `application/x-www-form-urlencoded`, with any parameters.
fn is_urlencoded(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/x-www-form-urlencoded")
}

impl<T: DeserializeOwned> FromRequest for Form<T> {
    async fn from_request(parts: RequestParts, body: Body) -> Result<Self, HttpError> {
        let content_type = parts
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        if is_urlencoded(content_type) {
            let bytes = read_body(&parts, body).await?;
            return Form::from_bytes(&bytes);
        }
        if is_multipart(content_type) {
            let form = MultipartForm::from_request(parts, body).await?;
            return form.deserialize().map(Form);
        }
        Err(HttpError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected a form body: `Content-Type: application/x-www-form-urlencoded` \
             or `multipart/form-data`",
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Signup {
        name: String,
        age: u8,
        #[serde(default)]
        tags: Vec<String>,
    }

    #[test]
    fn repeated_keys_fill_a_vec() {
        let Form(signup) = Form::<Signup>::from_bytes(b"name=Ann+Lee&age=30&tags=a&tags=b%20c")
            .expect("a valid form");
        assert_eq!(
            signup,
            Signup {
                name: "Ann Lee".into(),
                age: 30,
                tags: vec!["a".into(), "b c".into()],
            }
        );
    }

    #[test]
    fn errors_name_the_field() {
        let error = Form::<Signup>::from_bytes(b"name=x&age=old").expect_err("bad age");
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        assert!(
            error.message().contains("field `age`"),
            "{}",
            error.message()
        );

        let error = Form::<Signup>::from_bytes(b"age=1").expect_err("no name");
        assert!(
            error.message().contains("missing field `name`"),
            "{}",
            error.message()
        );
    }

    #[test]
    fn undecodable_bytes_are_replaced_not_fatal() {
        let Form(map) =
            Form::<HashMap<String, String>>::from_bytes(b"a=%FF&b=%zz&&=&c").expect("lenient");
        assert_eq!(map["a"], "\u{fffd}");
        assert_eq!(map["b"], "%zz");
    }

    #[test]
    fn content_types() {
        assert!(is_urlencoded("application/x-www-form-urlencoded"));
        assert!(is_urlencoded(
            "Application/X-WWW-Form-Urlencoded; charset=UTF-8"
        ));
        assert!(!is_urlencoded("application/json"));
        assert!(!is_urlencoded(""));
    }
}
