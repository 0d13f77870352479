//! Writing the session back: the `Set-Cookie` header (RFC 6265 §4.1) Flask's
//! `SecureCookieSessionInterface.save_session` would send, added to the response by a
//! finisher the [`Session`](super::Session) extractor registers.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use carafe_serve::Response;
use http::header::{HeaderValue, SET_COOKIE, VARY};
use http::StatusCode;

use super::cookie::SessionSigner;
use super::{unix_now, CookieSettings, Session};
use crate::config::SameSite;
use crate::error::HttpError;
use crate::response::IntoResponse;

/// The longest `Set-Cookie` value browsers are sure to keep (Werkzeug's
/// `max_cookie_size`); a bigger session is still sent, with a warning.
const MAX_COOKIE_SIZE: usize = 4093;

/// Whether the missing-secret-key warning was logged already (once per process).
static WARNED_NO_SECRET: AtomicBool = AtomicBool::new(false);

/// Saves `session` into `response`: sets, refreshes or deletes the cookie, adds
/// `Vary: Cookie` when the session was read, and answers 500 when a changed session
/// cannot be signed for want of a secret key.
pub(super) fn save_session(session: &Session, response: &mut Response) {
    let Some(outcome) = session.outcome() else {
        return; // the handler never looked at the session
    };
    response
        .headers_mut()
        .append(VARY, HeaderValue::from_static("Cookie"));
    let settings = &session.settings;
    if outcome.data.is_empty() {
        if outcome.modified {
            append_cookie(response, &removal_cookie(settings));
        }
        return;
    }
    if !outcome.modified && !outcome.permanent {
        return;
    }
    let Some(secret) = settings.secret_key.as_deref() else {
        *response = no_secret_key();
        return;
    };
    let value = SessionSigner::new(secret).encode(&outcome.data, unix_now());
    let header = set_cookie(settings, &value, outcome.permanent, SystemTime::now());
    if header.len() > MAX_COOKIE_SIZE {
        tracing::warn!(
            target: "carafe::session",
            "the session cookie is {} bytes, more than browsers keep ({MAX_COOKIE_SIZE}): \
             store less in the session, or keep the data server-side",
            header.len()
        );
    }
    append_cookie(response, &header);
}

/// Appends one `Set-Cookie` header; values we build are always valid header text.
fn append_cookie(response: &mut Response, header: &str) {
    match HeaderValue::try_from(header) {
        Ok(value) => {
            response.headers_mut().append(SET_COOKIE, value);
        }
        Err(_) => tracing::error!(
            target: "carafe::session",
            "the session cookie settings make an invalid Set-Cookie header: {header:?}"
        ),
    }
}

/// The answer when a changed session cannot be signed: Flask raises
/// "The session is unavailable because no secret key was set".
fn no_secret_key() -> Response {
    if !WARNED_NO_SECRET.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            target: "carafe::session",
            "a handler changed the session, but the app has no secret key: \
             call app.secret_key(..) or set SECRET_KEY"
        );
    }
    HttpError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the session is unavailable because no secret key was set",
    )
    .into_response()
}

/// The `Set-Cookie` value carrying `value`, with the app's attributes; a permanent
/// session gets `Expires` and `Max-Age`, any other one is a browser-session cookie.
pub(super) fn set_cookie(
    settings: &CookieSettings,
    value: &str,
    permanent: bool,
    now: SystemTime,
) -> String {
    let mut header = format!("{}={value}", settings.name);
    if permanent {
        let lifetime = settings.lifetime;
        push_expiry(&mut header, now + lifetime, lifetime);
    }
    push_attributes(&mut header, settings);
    header
}

/// The `Set-Cookie` value that makes the browser forget the session cookie.
pub(super) fn removal_cookie(settings: &CookieSettings) -> String {
    let mut header = format!("{}=", settings.name);
    push_expiry(&mut header, SystemTime::UNIX_EPOCH, Duration::ZERO);
    push_attributes(&mut header, settings);
    header
}

/// `; Expires=<IMF-fixdate>; Max-Age=<seconds>`.
fn push_expiry(header: &mut String, expires: SystemTime, max_age: Duration) {
    let _ = write!(
        header,
        "; Expires={}; Max-Age={}",
        httpdate::fmt_http_date(expires),
        max_age.as_secs()
    );
}

/// `Domain`, `Secure`, `HttpOnly`, `Path` and `SameSite`, in Werkzeug's order.
fn push_attributes(header: &mut String, settings: &CookieSettings) {
    if let Some(domain) = &settings.domain {
        let _ = write!(header, "; Domain={domain}");
    }
    if settings.secure {
        header.push_str("; Secure");
    }
    if settings.http_only {
        header.push_str("; HttpOnly");
    }
    let _ = write!(header, "; Path={}", settings.path);
    header.push_str(match settings.same_site {
        SameSite::Lax => "; SameSite=Lax",
        SameSite::Strict => "; SameSite=Strict",
        SameSite::None => "; SameSite=None",
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> CookieSettings {
        CookieSettings {
            name: "session".into(),
            domain: None,
            path: "/".into(),
            http_only: true,
            secure: false,
            same_site: SameSite::Lax,
            lifetime: Duration::from_secs(3600),
            secret_key: Some("k".into()),
            fallbacks: Vec::new(),
        }
    }

    #[test]
    fn browser_session_cookie_has_no_expiry() {
        let header = set_cookie(&settings(), "v", false, SystemTime::UNIX_EPOCH);
        assert_eq!(header, "session=v; HttpOnly; Path=/; SameSite=Lax");
    }

    #[test]
    fn permanent_cookie_expires_after_the_lifetime() {
        let header = set_cookie(&settings(), "v", true, SystemTime::UNIX_EPOCH);
        assert_eq!(
            header,
            "session=v; Expires=Thu, 01 Jan 1970 01:00:00 GMT; Max-Age=3600; HttpOnly; \
             Path=/; SameSite=Lax"
        );
    }

    #[test]
    fn attributes_follow_the_settings() {
        let mut settings = settings();
        settings.name = "sid".into();
        settings.domain = Some("example.com".into());
        settings.path = "/app".into();
        settings.http_only = false;
        settings.secure = true;
        settings.same_site = SameSite::Strict;
        let header = set_cookie(&settings, "v", false, SystemTime::UNIX_EPOCH);
        assert_eq!(
            header,
            "sid=v; Domain=example.com; Secure; Path=/app; SameSite=Strict"
        );
    }

    #[test]
    fn removal_cookie_expired_in_the_past() {
        assert_eq!(
            removal_cookie(&settings()),
            "session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Path=/; \
             SameSite=Lax"
        );
    }
}
