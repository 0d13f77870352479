//! Cross-site request forgery protection for forms (Flask-WTF's `CSRFProtect`,
//! `generate_csrf`, `validate_csrf` and the `csrf_token()` template global).
//!
//! The defence is the synchronizer token pattern: each session gets one random token
//! (32 bytes from the operating system, URL-safe base64) kept in the signed session
//! cookie under `_csrf_token`. Every form the app renders carries it in a hidden field
//! named [`FIELD_NAME`]; a form post is accepted only if that field (or the
//! [`HEADER_NAME`] header, for scripts) equals the session's token. A page on another
//! site can make the browser post a form with the victim's cookie, but it cannot read
//! the token, so its post is refused with `400`.
//!
//! | Flask-WTF | carafe |
//! |---|---|
//! | `{{ csrf_token() }}` in a template | the same global, in every template rendered for a request |
//! | `generate_csrf()` | [`generate_csrf(&session)`](generate_csrf) |
//! | `validate_csrf(data)` | [`validate_csrf(&session, Some(token))`](validate_csrf) |
//! | `CSRFProtect(app)` checking every POST | take [`CsrfForm<T>`] instead of [`Form<T>`], or [`CsrfMultipartForm`] instead of [`MultipartForm`] |
//! | `X-CSRFToken` header | [`HEADER_NAME`], read by both extractors when the field is absent |
//! | `CSRFError` (400, "The CSRF token is missing.") | the same status and messages |
//!
//! ```
//! use carafe::csrf::CsrfForm;
//! use carafe::templates::{context, TemplateError, Templates};
//! use carafe::{get, App, Html};
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct Comment {
//!     text: String,
//! }
//!
//! async fn page(templates: Templates) -> Result<Html<String>, TemplateError> {
//!     let form = r#"<form method="post">
//!         <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
//!         <input name="text"></form>"#;
//!     templates.render_string(form, context! {})
//! }
//!
//! async fn save(CsrfForm(comment): CsrfForm<Comment>) -> String {
//!     format!("saved: {}", comment.text) // only runs when the token matched
//! }
//!
//! let mut app = App::new();
//! app.secret_key("change me").template_folder("templates");
//! app.route("/", get(page).post(save));
//! ```
//!
//! Unlike Flask-WTF the token is not time-stamped: it lives as long as the session
//! (which [`Config::permanent_session_lifetime`](crate::Config) bounds) and changes when
//! the session is cleared, for example at log-out.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use carafe_serve::Body;
use http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::HttpError;
use crate::extract::{Form, FromRequest, MultipartForm, RequestParts};
use crate::session::Session;

/// The form field that carries the token (Flask-WTF's `csrf_token`).
pub const FIELD_NAME: &str = "csrf_token";

/// The request header that may carry the token instead (Flask-WTF's `X-CSRFToken`).
pub const HEADER_NAME: &str = "x-csrftoken";

/// Where the session keeps its token.
const SESSION_KEY: &str = "_csrf_token";

/// The session's token, made and stored on first use (Flask-WTF's `generate_csrf`).
/// Every call for one session returns the same token.
///
/// ```
/// let session = carafe::Session::detached();
/// let token = carafe::csrf::generate_csrf(&session);
/// assert_eq!(token.len(), 43);
/// assert_eq!(carafe::csrf::generate_csrf(&session), token);
/// ```
pub fn generate_csrf(session: &Session) -> String {
    if let Some(token) = session.get::<String>(SESSION_KEY) {
        return token;
    }
    let token = new_token();
    session.insert(SESSION_KEY, &token);
    token
}

/// Checks a submitted token against the session's (Flask-WTF's `validate_csrf`).
///
/// The error is `400 Bad Request` with Flask-WTF's messages: "The CSRF token is
/// missing." (nothing submitted), "The CSRF session token is missing." (the session
/// has none: it expired or was never shown a form), "The CSRF tokens do not match.".
///
/// ```
/// use carafe::csrf::{generate_csrf, validate_csrf};
///
/// let session = carafe::Session::detached();
/// let token = generate_csrf(&session);
/// assert!(validate_csrf(&session, Some(&token)).is_ok());
/// let forged = validate_csrf(&session, Some("guess")).unwrap_err();
/// assert_eq!(forged.status(), 400);
/// assert_eq!(forged.message(), "The CSRF tokens do not match.");
/// ```
pub fn validate_csrf(session: &Session, submitted: Option<&str>) -> Result<(), HttpError> {
    let submitted = match submitted {
        Some(token) if !token.is_empty() => token,
        _ => return Err(refuse("The CSRF token is missing.")),
    };
    let Some(expected) = session.get::<String>(SESSION_KEY) else {
        return Err(refuse("The CSRF session token is missing."));
    };
    if constant_time_eq(expected.as_bytes(), submitted.as_bytes()) {
        Ok(())
    } else {
        Err(refuse("The CSRF tokens do not match."))
    }
}

/// A urlencoded or multipart form whose [`FIELD_NAME`] field (or [`HEADER_NAME`]
/// header) matched the session's token, deserialized into `T` as [`Form<T>`] does
/// (the token field is ignored unless `T` denies unknown fields). A request without a
/// matching token gets `400` before the handler runs.
///
/// ```
/// use carafe::csrf::CsrfForm;
///
/// #[derive(serde::Deserialize)]
/// struct Login { name: String }
///
/// async fn login(CsrfForm(login): CsrfForm<Login>) -> String {
///     login.name
/// }
/// # let _ = carafe::post(login);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest for CsrfForm<T> {
    async fn from_request(mut parts: RequestParts, body: Body) -> Result<Self, HttpError> {
        let session = Session::of(&mut parts);
        let header = header_token(&parts);
        let Form(fields) = Form::<Vec<(String, String)>>::from_request(parts, body).await?;
        let field = fields
            .iter()
            .find(|(name, _)| name == FIELD_NAME)
            .map(|(_, value)| value.as_str());
        validate_csrf(&session, field.or(header.as_deref()))?;
        let pairs = serde_urlencoded::to_string(&fields)
            .map_err(|error| HttpError::new(StatusCode::BAD_REQUEST, error.to_string()))?;
        Form::<T>::from_bytes(pairs.as_bytes()).map(|Form(value)| CsrfForm(value))
    }

    fn needs(needs: &mut crate::Needs) {
        needs.secret_key("CSRF protection");
    }
}

/// A [`MultipartForm`] (fields and uploaded files) whose [`FIELD_NAME`] field (or
/// [`HEADER_NAME`] header) matched the session's token; `400` before the handler runs
/// otherwise. Put the hidden token field before the file inputs: browsers send fields in
/// document order.
///
/// ```
/// use carafe::csrf::CsrfMultipartForm;
///
/// async fn upload(CsrfMultipartForm(form): CsrfMultipartForm) -> String {
///     format!("{} files", form.files().len())
/// }
/// # let _ = carafe::post(upload);
/// ```
#[derive(Debug)]
pub struct CsrfMultipartForm(pub MultipartForm);

impl FromRequest for CsrfMultipartForm {
    async fn from_request(mut parts: RequestParts, body: Body) -> Result<Self, HttpError> {
        let session = Session::of(&mut parts);
        let header = header_token(&parts);
        let form = MultipartForm::from_request(parts, body).await?;
        validate_csrf(&session, form.get(FIELD_NAME).or(header.as_deref()))?;
        Ok(CsrfMultipartForm(form))
    }

    fn needs(needs: &mut crate::Needs) {
        needs.secret_key("CSRF protection");
    }
}

/// The token in the [`HEADER_NAME`] header, if any.
fn header_token(parts: &RequestParts) -> Option<String> {
    parts
        .headers()
        .get(HEADER_NAME)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

fn refuse(message: &'static str) -> HttpError {
    HttpError::new(StatusCode::BAD_REQUEST, message)
}

/// 32 random bytes from the operating system, URL-safe base64 without padding.
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    if getrandom::fill(&mut bytes).is_err() {
        // No operating-system randomness is a broken machine, not bad input; a token
        // from the std hasher's random keys is still unguessable from another site.
        tracing::warn!("getrandom failed; the CSRF token uses the std hasher's randomness");
        fallback_random(&mut bytes);
    }
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Fills `bytes` from `RandomState`'s per-process random keys.
fn fallback_random(bytes: &mut [u8; 32]) {
    use std::hash::{BuildHasher, Hasher};
    for (index, chunk) in bytes.chunks_mut(8).enumerate() {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_usize(index);
        chunk.copy_from_slice(&hasher.finish().to_le_bytes());
    }
}

/// Compares without an early exit, so the time taken does not tell how much matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_differ_between_sessions() {
        let one = generate_csrf(&Session::detached());
        let two = generate_csrf(&Session::detached());
        assert_ne!(one, two);
    }

    #[test]
    fn a_missing_or_empty_token_is_refused() {
        let session = Session::detached();
        generate_csrf(&session);
        for submitted in [None, Some("")] {
            let error = validate_csrf(&session, submitted).expect_err("refused");
            assert_eq!(error.message(), "The CSRF token is missing.");
        }
    }

    #[test]
    fn a_session_without_token_refuses_any_token() {
        let session = Session::detached();
        let error = validate_csrf(&session, Some("anything")).expect_err("refused");
        assert_eq!(error.message(), "The CSRF session token is missing.");
    }

    #[test]
    fn clearing_the_session_changes_the_token() {
        let session = Session::detached();
        let before = generate_csrf(&session);
        session.clear();
        assert!(validate_csrf(&session, Some(&before)).is_err());
        assert_ne!(generate_csrf(&session), before);
    }

    #[test]
    fn constant_time_eq_compares_whole_values() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn fallback_randomness_fills_every_byte_differently() {
        let mut bytes = [0u8; 32];
        fallback_random(&mut bytes);
        assert_ne!(bytes[..8], bytes[8..16]);
    }
}
