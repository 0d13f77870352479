//! Redirects: Flask's `redirect(location, code)`.
//!
//! A [`Redirect`] is a status (`302`, `303`, `307` or `308`) and a `Location`. The
//! location is made safe for the header: characters that may not appear in a URI
//! (spaces, non-ASCII text, controls such as CR and LF) are percent-encoded, the way
//! Werkzeug's `iri_to_uri` does, so a location built from user input can never end the
//! header or add another one.

use carafe_serve::{Body, Response};
use http::header::LOCATION;
use http::{HeaderValue, StatusCode};
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

use super::{content_type, typed_response, IntoResponse};

/// What a `Location` may not hold as is: controls, space, non-ASCII (encoded by
/// `utf8_percent_encode` anyway), and the characters RFC 3986 never allows.
const LOCATION_ESCAPES: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// A redirect: a `3xx` status and a `Location` header, with a short HTML body for
/// clients that do not follow it (as Werkzeug's).
///
/// | constructor | status | the client repeats | Flask |
/// |---|---|---|---|
/// | [`Redirect::to`] | `302 Found` | as `GET` (in practice) | `redirect(url)` |
/// | [`Redirect::see_other`] | `303 See Other` | as `GET` | `redirect(url, 303)` |
/// | [`Redirect::temporary`] | `307 Temporary Redirect` | the same method and body | `redirect(url, 307)` |
/// | [`Redirect::permanent`] | `308 Permanent Redirect` | the same method and body | `redirect(url, 308)` |
///
/// ```
/// use carafe::{get, IntoResponse, Redirect};
///
/// async fn old_page() -> Redirect {
///     Redirect::permanent("/new-page")
/// }
/// # let _ = get(old_page);
///
/// let response = Redirect::to("/search?q=café crème").into_response();
/// assert_eq!(response.status(), 302);
/// assert_eq!(response.headers()["location"], "/search?q=caf%C3%A9%20cr%C3%A8me");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a Redirect does nothing unless it is returned from a handler"]
pub struct Redirect {
    /// `302`, `303`, `307` or `308`.
    status: StatusCode,
    /// The encoded location.
    location: HeaderValue,
}

impl Redirect {
    /// `302 Found` to `location` (Flask's default).
    ///
    /// ```
    /// let redirect = carafe::Redirect::to("/login");
    /// assert_eq!(redirect.status(), 302);
    /// ```
    pub fn to(location: &str) -> Redirect {
        Redirect::with_status(StatusCode::FOUND, location)
    }

    /// `303 See Other`: after a `POST`, fetch `location` with `GET`.
    ///
    /// ```
    /// assert_eq!(carafe::Redirect::see_other("/done").status(), 303);
    /// ```
    pub fn see_other(location: &str) -> Redirect {
        Redirect::with_status(StatusCode::SEE_OTHER, location)
    }

    /// `307 Temporary Redirect`: repeat the same request at `location`.
    ///
    /// ```
    /// assert_eq!(carafe::Redirect::temporary("/elsewhere").status(), 307);
    /// ```
    pub fn temporary(location: &str) -> Redirect {
        Redirect::with_status(StatusCode::TEMPORARY_REDIRECT, location)
    }

    /// `308 Permanent Redirect`: the resource moved for good; repeat the same request.
    ///
    /// ```
    /// assert_eq!(carafe::Redirect::permanent("/v2/items").status(), 308);
    /// ```
    pub fn permanent(location: &str) -> Redirect {
        Redirect::with_status(StatusCode::PERMANENT_REDIRECT, location)
    }

    fn with_status(status: StatusCode, location: &str) -> Redirect {
        let encoded = utf8_percent_encode(location, LOCATION_ESCAPES).to_string();
        // Every byte that a header value refuses has just been percent-encoded.
        let location =
            HeaderValue::try_from(encoded).unwrap_or_else(|_| HeaderValue::from_static("/"));
        Redirect { status, location }
    }

    /// The redirect's status.
    ///
    /// ```
    /// assert_eq!(carafe::Redirect::to("/").status(), http::StatusCode::FOUND);
    /// ```
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The `Location` value, percent-encoded where needed.
    ///
    /// ```
    /// assert_eq!(carafe::Redirect::to("/a b").location(), "/a%20b");
    /// ```
    pub fn location(&self) -> &HeaderValue {
        &self.location
    }
}

impl IntoResponse for Redirect {
    fn into_response(self) -> Response {
        // The location is percent-encoded, so the only character special in HTML that it
        // may hold is `&`.
        let href = self.location.to_str().unwrap_or("/").replace('&', "&amp;");
        let body = format!(
            "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n\
             <h1>Redirecting...</h1>\n<p>You should be redirected automatically to the \
             target URL: <a href=\"{href}\">{href}</a>. If not, click the link.\n"
        );
        let mut response = typed_response(Body::from(body), content_type::TEXT_HTML);
        *response.status_mut() = self.status;
        response.headers_mut().insert(LOCATION, self.location);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_injection_is_encoded() {
        let redirect = Redirect::to("/x\r\nSet-Cookie: a=b");
        assert_eq!(redirect.location(), "/x%0D%0ASet-Cookie:%20a=b");
    }

    #[test]
    fn statuses_match_constructors() {
        let table = [
            (Redirect::to("/"), 302),
            (Redirect::see_other("/"), 303),
            (Redirect::temporary("/"), 307),
            (Redirect::permanent("/"), 308),
        ];
        for (redirect, status) in table {
            assert_eq!(redirect.into_response().status(), status);
        }
    }

    #[test]
    fn valid_urls_pass_unchanged() {
        let url = "https://example.com/a/b?c=d&e=%20f#frag";
        assert_eq!(Redirect::to(url).location(), url);
    }

    #[test]
    fn the_html_body_escapes_the_link() {
        let response = Redirect::to("/a?b=\"<c>&d").into_response();
        assert_eq!(response.headers()[LOCATION], "/a?b=%22%3Cc%3E&d");
    }
}
