//! Cookies: [`Cookies`] reads the request's `Cookie` headers (Flask's
//! `request.cookies`); [`SetCookie`] adds a `Set-Cookie` header to the response (Flask's
//! `response.set_cookie` and `delete_cookie`), with the `cookie` crate doing the parsing
//! and formatting (RFC 6265 §4.1 and §5.4).
//!
//! Reading is lenient, as browsers are: a pair that does not parse is skipped, the rest
//! is kept. Writing is strict: a name or value a browser would mangle is a programming
//! error, answered `500` with a message saying what to fix.

use std::time::{Duration, SystemTime};

use carafe_serve::Response;
use cookie::time::OffsetDateTime;
use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue, StatusCode};

use super::{FromRequestParts, RequestParts};
use crate::config::SameSite;
use crate::error::HttpError;
use crate::response::IntoResponse;

/// The request's cookies, from all its `Cookie` headers, in order.
///
/// ```
/// use carafe::extract::Cookies;
///
/// async fn theme(cookies: Cookies) -> String {
///     cookies.get("theme").unwrap_or("light").to_owned()
/// }
/// # let _ = carafe::get(theme);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cookies {
    /// Names and values, in the order the client sent them.
    pairs: Vec<(String, String)>,
}

impl Cookies {
    /// Parses every `Cookie` header in `headers`, skipping pairs that do not parse.
    /// Values in double quotes lose the quotes.
    ///
    /// ```
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("cookie", "a=1; junk; b=\"two\"".parse().unwrap());
    /// let cookies = carafe::extract::Cookies::from_headers(&headers);
    /// assert_eq!(cookies.get("a"), Some("1"));
    /// assert_eq!(cookies.get("b"), Some("two"));
    /// assert_eq!(cookies.len(), 2);
    /// ```
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let mut pairs = Vec::new();
        for value in headers.get_all(COOKIE) {
            let text = String::from_utf8_lossy(value.as_bytes());
            for cookie in cookie::Cookie::split_parse(text.as_ref()).flatten() {
                let (name, value) = cookie.name_value_trimmed();
                pairs.push((name.to_owned(), value.to_owned()));
            }
        }
        Cookies { pairs }
    }

    /// The value of the first cookie called `name`.
    ///
    /// ```
    /// # let cookies = carafe::extract::Cookies::default();
    /// let session = cookies.get("session");
    /// # assert!(session.is_none());
    /// ```
    pub fn get(&self, name: &str) -> Option<&str> {
        let found = self.pairs.iter().find(|(key, _)| key == name);
        found.map(|(_, value)| value.as_str())
    }

    /// The values of every cookie called `name` (a client may send one per path).
    ///
    /// ```
    /// # let cookies = carafe::extract::Cookies::default();
    /// let all: Vec<&str> = cookies.get_all("id").collect();
    /// # assert!(all.is_empty());
    /// ```
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Every cookie's name and value, in order.
    ///
    /// ```
    /// # let cookies = carafe::extract::Cookies::default();
    /// for (name, value) in cookies.iter() {
    ///     println!("{name}={value}");
    /// }
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.pairs
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// How many cookies the request has.
    ///
    /// ```
    /// assert_eq!(carafe::extract::Cookies::default().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether the request has no cookie.
    ///
    /// ```
    /// assert!(carafe::extract::Cookies::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

/// Never refuses a request: no `Cookie` header gives no cookies.
impl FromRequestParts for Cookies {
    async fn from_request_parts(parts: &mut RequestParts) -> Result<Self, HttpError> {
        Ok(Cookies::from_headers(parts.headers()))
    }
}

/// A `Set-Cookie` header to send: a cookie with its attributes, or the deletion of one.
///
/// Send it by returning it in front of the response, `(cookie, body)`, or from anywhere
/// in the handler with [`set_cookie`]. The path is `/` unless you say otherwise, as in
/// Flask; nothing else is set unless you set it.
///
/// ```
/// use std::time::Duration;
///
/// use carafe::extract::SetCookie;
/// use carafe::SameSite;
///
/// async fn remember() -> (SetCookie, &'static str) {
///     let cookie = SetCookie::new("theme", "dark")
///         .max_age(Duration::from_secs(30 * 24 * 3600))
///         .http_only(true)
///         .secure(true)
///         .same_site(SameSite::Lax);
///     (cookie, "remembered")
/// }
///
/// async fn forget() -> (SetCookie, &'static str) {
///     (SetCookie::delete("theme"), "forgotten")
/// }
/// # let _ = carafe::post(remember).delete(forget);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SetCookie {
    /// The cookie and its attributes.
    inner: cookie::Cookie<'static>,
}

impl SetCookie {
    /// A cookie `name=value` with `Path=/`, lasting until the browser closes.
    ///
    /// The name must be an HTTP token and the value made of RFC 6265 cookie octets (no
    /// spaces, `"`, `,`, `;` or `\`): encode anything else (base64, percent-encoding)
    /// first. The response carrying an invalid cookie is a `500`.
    ///
    /// ```
    /// let cookie = carafe::extract::SetCookie::new("lang", "en");
    /// assert_eq!(cookie.to_string(), "lang=en; Path=/");
    /// ```
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        let mut inner = cookie::Cookie::new(name.into(), value.into());
        inner.set_path("/");
        SetCookie { inner }
    }

    /// A cookie that deletes `name`: empty, `Max-Age=0` and an `Expires` in the past.
    /// Give it the same `path` and `domain` as the cookie it deletes.
    ///
    /// ```
    /// let cookie = carafe::extract::SetCookie::delete("lang");
    /// assert_eq!(
    ///     cookie.to_string(),
    ///     "lang=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
    /// );
    /// ```
    pub fn delete(name: impl Into<String>) -> Self {
        let mut cookie = SetCookie::new(name, "");
        cookie.inner.set_max_age(cookie::time::Duration::ZERO);
        cookie.inner.set_expires(OffsetDateTime::UNIX_EPOCH);
        cookie
    }

    /// `Max-Age`: how long the cookie lives (whole seconds).
    ///
    /// ```
    /// let cookie = carafe::extract::SetCookie::new("a", "1").max_age(std::time::Duration::from_secs(60));
    /// assert_eq!(cookie.to_string(), "a=1; Path=/; Max-Age=60");
    /// ```
    pub fn max_age(mut self, age: Duration) -> Self {
        let seconds = i64::try_from(age.as_secs()).unwrap_or(i64::MAX);
        self.inner
            .set_max_age(cookie::time::Duration::seconds(seconds));
        self
    }

    /// `Expires`: when the cookie ends.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    ///
    /// let when = UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    /// let cookie = carafe::extract::SetCookie::new("a", "1").expires(when);
    /// assert_eq!(cookie.to_string(), "a=1; Path=/; Expires=Sun, 09 Sep 2001 01:46:40 GMT");
    /// ```
    pub fn expires(mut self, when: SystemTime) -> Self {
        self.inner.set_expires(OffsetDateTime::from(when));
        self
    }

    /// `Path`: the paths the browser sends the cookie to.
    ///
    /// ```
    /// let cookie = carafe::extract::SetCookie::new("a", "1").path("/admin");
    /// assert_eq!(cookie.to_string(), "a=1; Path=/admin");
    /// ```
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.inner.set_path(path.into());
        self
    }

    /// `Domain`: send the cookie to this domain and its subdomains too.
    ///
    /// ```
    /// let cookie = carafe::extract::SetCookie::new("a", "1").domain("example.com");
    /// assert_eq!(cookie.to_string(), "a=1; Path=/; Domain=example.com");
    /// ```
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.inner.set_domain(domain.into());
        self
    }

    /// `Secure`: send the cookie over HTTPS only.
    ///
    /// ```
    /// let cookie = carafe::extract::SetCookie::new("a", "1").secure(true);
    /// assert_eq!(cookie.to_string(), "a=1; Secure; Path=/");
    /// ```
    pub fn secure(mut self, secure: bool) -> Self {
        self.inner.set_secure(secure);
        self
    }

    /// `HttpOnly`: hide the cookie from JavaScript.
    ///
    /// ```
    /// let cookie = carafe::extract::SetCookie::new("a", "1").http_only(true);
    /// assert_eq!(cookie.to_string(), "a=1; HttpOnly; Path=/");
    /// ```
    pub fn http_only(mut self, http_only: bool) -> Self {
        self.inner.set_http_only(http_only);
        self
    }

    /// `SameSite`: whether other sites' requests carry the cookie. Browsers ignore
    /// `SameSite=None` without `Secure`.
    ///
    /// ```
    /// use carafe::SameSite;
    ///
    /// let cookie = carafe::extract::SetCookie::new("a", "1").same_site(SameSite::Strict);
    /// assert_eq!(cookie.to_string(), "a=1; SameSite=Strict; Path=/");
    /// ```
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.inner.set_same_site(match same_site {
            SameSite::Lax => cookie::SameSite::Lax,
            SameSite::Strict => cookie::SameSite::Strict,
            SameSite::None => cookie::SameSite::None,
        });
        self
    }

    /// `Partitioned` (CHIPS): a third-party cookie kept per top-level site. Browsers
    /// require `Secure` with it, so it is added.
    ///
    /// ```
    /// let cookie = carafe::extract::SetCookie::new("a", "1").partitioned(true);
    /// assert_eq!(cookie.to_string(), "a=1; Partitioned; Secure; Path=/");
    /// ```
    pub fn partitioned(mut self, partitioned: bool) -> Self {
        self.inner.set_partitioned(partitioned);
        self
    }

    /// The cookie's name.
    ///
    /// ```
    /// assert_eq!(carafe::extract::SetCookie::new("a", "1").name(), "a");
    /// ```
    pub fn name(&self) -> &str {
        self.inner.name()
    }

    /// The `Set-Cookie` header's value; `500` when the name, value, path or domain holds
    /// a character that does not belong there.
    ///
    /// ```
    /// use carafe::extract::SetCookie;
    ///
    /// assert_eq!(SetCookie::new("a", "1").to_header_value().unwrap(), "a=1; Path=/");
    /// let error = SetCookie::new("a", "two words").to_header_value().unwrap_err();
    /// assert_eq!(error.status(), 500);
    /// ```
    pub fn to_header_value(&self) -> Result<HeaderValue, HttpError> {
        let (name, value) = (self.inner.name(), self.inner.value());
        check(!name.is_empty() && name.bytes().all(is_token), || {
            format!("the cookie name {name:?} is not an HTTP token")
        })?;
        let bare = value
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'))
            .unwrap_or(value);
        check(bare.bytes().all(is_cookie_octet), || {
            format!(
                "the value of cookie `{name}` holds a character cookies cannot carry \
                 (space, `\"`, `,`, `;`, `\\` or non-ASCII): encode it first"
            )
        })?;
        for (what, attribute) in [("path", self.inner.path()), ("domain", self.inner.domain())] {
            let attribute = attribute.unwrap_or_default();
            check(attribute.bytes().all(is_attribute_octet), || {
                format!("the {what} of cookie `{name}` holds `;` or a control character")
            })?;
        }
        HeaderValue::try_from(self.inner.to_string())
            .map_err(|error| HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()))
    }

    /// Appends the `Set-Cookie` header to `response`; an invalid cookie turns the
    /// response into a `500` (see [`SetCookie::to_header_value`]).
    ///
    /// ```
    /// use carafe::IntoResponse;
    ///
    /// let mut response = "hello".into_response();
    /// carafe::extract::SetCookie::new("a", "1").apply(&mut response);
    /// assert_eq!(response.headers()["set-cookie"], "a=1; Path=/");
    /// ```
    pub fn apply(&self, response: &mut Response) {
        match self.to_header_value() {
            Ok(value) => {
                response.headers_mut().append(SET_COOKIE, value);
            }
            Err(error) => *response = error.into_response(),
        }
    }
}

/// The header's text, as `Set-Cookie` would carry it.
impl std::fmt::Display for SetCookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.inner, f)
    }
}

/// `T`'s response with the cookie set.
impl<T: IntoResponse> IntoResponse for (SetCookie, T) {
    fn into_response(self) -> Response {
        let (cookie, inner) = self;
        let mut response = inner.into_response();
        cookie.apply(&mut response);
        response
    }
}

/// `T`'s response with these cookies set, in order.
impl<T: IntoResponse> IntoResponse for (Vec<SetCookie>, T) {
    fn into_response(self) -> Response {
        let (cookies, inner) = self;
        let mut response = inner.into_response();
        for cookie in cookies {
            cookie.apply(&mut response);
        }
        response
    }
}

/// Sets `cookie` on this request's response, whatever the handler returns (Flask's
/// `response.set_cookie` from inside a view, through
/// [`after_this_request`](crate::after_this_request)). Returns `false` outside a request
/// handled by an [`App`](crate::App).
///
/// ```
/// use carafe::extract::{set_cookie, SetCookie};
///
/// async fn login() -> &'static str {
///     set_cookie(SetCookie::new("user", "ann").http_only(true));
///     "welcome"
/// }
/// # let _ = carafe::post(login);
/// ```
pub fn set_cookie(cookie: SetCookie) -> bool {
    crate::after_this_request(move |response| cookie.apply(response))
}

/// Fails with a `500` carrying `message()` unless `ok`.
fn check(ok: bool, message: impl FnOnce() -> String) -> Result<(), HttpError> {
    if ok {
        Ok(())
    } else {
        Err(HttpError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("invalid Set-Cookie: {}", message()),
        ))
    }
}

/// RFC 9110 `tchar`.
fn is_token(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// RFC 6265 `cookie-octet`: visible ASCII but `"`, `,`, `;` and `\`.
fn is_cookie_octet(byte: u8) -> bool {
    matches!(byte, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}

/// RFC 6265 `av-octet` of `Path` and `Domain`: any `CHAR` but controls and `;`.
fn is_attribute_octet(byte: u8) -> bool {
    (0x20..0x7F).contains(&byte) && byte != b';'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(COOKIE, HeaderValue::from_str(value).expect("valid header"));
        }
        headers
    }

    #[test]
    fn reads_every_cookie_header_and_skips_junk() {
        let cookies = Cookies::from_headers(&headers(&["a=1; =x; b", "c=3;d=\"q\"; a=2"]));
        let pairs: Vec<_> = cookies.iter().collect();
        assert_eq!(pairs, [("a", "1"), ("c", "3"), ("d", "q"), ("a", "2")]);
        assert_eq!(cookies.get("a"), Some("1"));
        assert_eq!(cookies.get_all("a").collect::<Vec<_>>(), ["1", "2"]);
        assert_eq!(cookies.get("b"), None);
    }

    #[test]
    fn non_utf8_cookie_headers_do_not_fail() {
        let mut map = HeaderMap::new();
        map.insert(
            COOKIE,
            HeaderValue::from_bytes(b"a=\xff; b=2").expect("obs-text is allowed"),
        );
        let cookies = Cookies::from_headers(&map);
        assert_eq!(cookies.get("b"), Some("2"));
    }

    #[test]
    fn all_attributes_are_written() {
        let cookie = SetCookie::new("id", "a3fWa")
            .max_age(Duration::from_secs(3600))
            .path("/docs")
            .domain("example.com")
            .secure(true)
            .http_only(true)
            .same_site(SameSite::None);
        let value = cookie.to_header_value().expect("valid cookie");
        let value = value.to_str().expect("ASCII");
        for part in [
            "id=a3fWa",
            "Max-Age=3600",
            "Path=/docs",
            "Domain=example.com",
            "Secure",
            "HttpOnly",
            "SameSite=None",
        ] {
            assert!(
                value.split("; ").any(|piece| piece == part),
                "{part} in {value}"
            );
        }
    }

    #[test]
    fn invalid_cookies_are_500s_that_say_why() {
        let cases = [
            SetCookie::new("", "x"),
            SetCookie::new("a b", "x"),
            SetCookie::new("a", "x;y"),
            SetCookie::new("a", "caf\u{e9}"),
            SetCookie::new("a", "x").path("/;Secure"),
            SetCookie::new("a", "x").domain("a\r\nb"),
        ];
        for cookie in cases {
            let error = cookie.to_header_value().expect_err("invalid cookie");
            assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
            assert!(error.message().starts_with("invalid Set-Cookie"), "{error}");
        }
        assert!(SetCookie::new("a", "\"quoted\"").to_header_value().is_ok());
        assert!(SetCookie::new("a", "").to_header_value().is_ok());
    }

    #[test]
    fn tuple_appends_without_replacing() {
        let response = (
            vec![SetCookie::new("a", "1"), SetCookie::delete("b")],
            (SetCookie::new("c", "3"), "body"),
        )
            .into_response();
        let values: Vec<_> = response.headers().get_all(SET_COOKIE).iter().collect();
        assert_eq!(values.len(), 3);
        assert_eq!(values[0], "c=3; Path=/");
    }
}
