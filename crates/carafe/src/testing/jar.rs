//! The test client's cookie jar (RFC 6265 §5.3, for one host).
//!
//! `Set-Cookie` headers are parsed with the `cookie` crate. A cookie is stored under its
//! name and path (the request's directory when it has no `Path`); `Max-Age` wins over
//! `Expires`; a cookie that is already expired deletes the stored one. Requests carry the
//! unexpired cookies whose path matches theirs.

use std::time::{Duration, SystemTime};

use cookie::Cookie;
use http::header::SET_COOKIE;
use http::{HeaderMap, HeaderValue};

/// One stored cookie.
#[derive(Debug, Clone)]
struct Stored {
    name: String,
    value: String,
    path: String,
    /// When it expires; `None` for a session cookie.
    expires: Option<SystemTime>,
}

impl Stored {
    fn live(&self, now: SystemTime) -> bool {
        self.expires.is_none_or(|expires| expires > now)
    }
}

/// The cookies of a test client.
#[derive(Debug, Default)]
pub(crate) struct Jar {
    cookies: Vec<Stored>,
}

impl Jar {
    /// The value of the live cookie `name`.
    pub(crate) fn value(&self, name: &str) -> Option<String> {
        let now = SystemTime::now();
        let cookie = self
            .cookies
            .iter()
            .find(|cookie| cookie.name == name && cookie.live(now))?;
        Some(cookie.value.clone())
    }

    /// Stores a cookie, replacing the one with the same name and path; an expiry in the
    /// past deletes it.
    pub(crate) fn set(&mut self, name: &str, value: &str, path: &str, expires: Option<SystemTime>) {
        self.cookies
            .retain(|cookie| !(cookie.name == name && cookie.path == path));
        let cookie = Stored {
            name: name.to_owned(),
            value: value.to_owned(),
            path: path.to_owned(),
            expires,
        };
        if cookie.live(SystemTime::now()) {
            self.cookies.push(cookie);
        }
    }

    /// Removes every cookie called `name`.
    pub(crate) fn remove(&mut self, name: &str) {
        self.cookies.retain(|cookie| cookie.name != name);
    }

    /// Stores the cookies a response to `request_path` sets.
    pub(crate) fn store(&mut self, request_path: &str, headers: &HeaderMap) {
        for value in headers.get_all(SET_COOKIE) {
            let Ok(text) = value.to_str() else { continue };
            let Ok(cookie) = Cookie::parse(text) else {
                continue;
            };
            let path = match cookie.path() {
                Some(path) if path.starts_with('/') => path.to_owned(),
                _ => default_path(request_path).to_owned(),
            };
            let expires = expiry(&cookie);
            self.set(cookie.name(), cookie.value(), &path, expires);
        }
    }

    /// The `Cookie` header for a request to `path`, if any cookie applies.
    pub(crate) fn header_for(&self, path: &str) -> Option<HeaderValue> {
        let now = SystemTime::now();
        let mut matching: Vec<&Stored> = self
            .cookies
            .iter()
            .filter(|cookie| cookie.live(now) && path_matches(&cookie.path, path))
            .collect();
        if matching.is_empty() {
            return None;
        }
        // RFC 6265 §5.4: longer paths first.
        matching.sort_by_key(|cookie| std::cmp::Reverse(cookie.path.len()));
        let pairs: Vec<String> = matching
            .iter()
            .map(|cookie| format!("{}={}", cookie.name, cookie.value))
            .collect();
        HeaderValue::from_str(&pairs.join("; ")).ok()
    }
}

/// When a parsed cookie expires: `Max-Age` first, then `Expires`.
fn expiry(cookie: &Cookie<'_>) -> Option<SystemTime> {
    if let Some(max_age) = cookie.max_age() {
        let seconds = max_age.whole_seconds();
        return Some(match u64::try_from(seconds) {
            Ok(seconds) if seconds > 0 => SystemTime::now() + Duration::from_secs(seconds),
            _ => SystemTime::UNIX_EPOCH,
        });
    }
    let expires = cookie.expires_datetime()?;
    let seconds = u64::try_from(expires.unix_timestamp()).unwrap_or(0);
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds))
}

/// RFC 6265 §5.1.4's default path: the request path up to its last `/`.
fn default_path(request_path: &str) -> &str {
    match request_path.rfind('/') {
        Some(0) | None => "/",
        Some(at) => &request_path[..at],
    }
}

/// RFC 6265 §5.1.4's path-match.
fn path_matches(cookie_path: &str, request_path: &str) -> bool {
    request_path == cookie_path
        || (request_path.starts_with(cookie_path)
            && (cookie_path.ends_with('/') || request_path[cookie_path.len()..].starts_with('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(set_cookies: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in set_cookies {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.append(SET_COOKIE, value);
            }
        }
        headers
    }

    #[test]
    fn cookies_are_sent_back_on_matching_paths() {
        let mut jar = Jar::default();
        jar.store("/", &response(&["a=1; Path=/", "b=2; Path=/admin"]));
        assert!(jar.header_for("/").is_some_and(|v| v == "a=1"));
        let admin = jar.header_for("/admin/users");
        assert_eq!(
            admin.as_ref().and_then(|v| v.to_str().ok()),
            Some("b=2; a=1")
        );
        assert!(jar.header_for("/administrator").is_some_and(|v| v == "a=1"));
    }

    #[test]
    fn expired_or_zero_max_age_cookies_delete() {
        let mut jar = Jar::default();
        jar.store("/", &response(&["s=1; Path=/"]));
        assert_eq!(jar.value("s").as_deref(), Some("1"));
        jar.store("/", &response(&["s=; Path=/; Max-Age=0"]));
        assert_eq!(jar.value("s"), None);
        jar.store(
            "/",
            &response(&["t=1; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT"]),
        );
        assert_eq!(jar.value("t"), None);
        jar.store("/", &response(&["u=1; Path=/; Max-Age=3600"]));
        assert_eq!(jar.value("u").as_deref(), Some("1"));
    }

    #[test]
    fn default_path_is_the_request_directory() {
        let mut jar = Jar::default();
        jar.store("/docs/page", &response(&["d=1"]));
        assert!(jar.header_for("/docs/other").is_some());
        assert!(jar.header_for("/").is_none());
        assert_eq!(default_path("/page"), "/");
    }
}
