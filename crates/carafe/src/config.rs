//! The app's configuration: Flask's `app.config`, typed.
//!
//! [`Config`] holds the settings carafe itself reads, under their Flask names, plus an
//! `extra` map for the application's own keys. Handlers read it with
//! [`RequestParts::config`](crate::RequestParts::config); setup code changes it with
//! [`App::config_mut`](crate::App::config_mut), or loads it from a TOML file and
//! `CARAFE_*` environment variables ([`App::load_config`](crate::App::load_config);
//! `config/load.rs`).

mod load;

use std::time::Duration;

pub use self::load::{ConfigError, ENV_PREFIX};

use crate::extract::DEFAULT_MAX_CONTENT_LENGTH;

/// The `SameSite` attribute of the session cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SameSite {
    /// `SameSite=Lax`: sent on top-level navigations from other sites (the default).
    #[default]
    Lax,
    /// `SameSite=Strict`: never sent from other sites.
    Strict,
    /// `SameSite=None`: always sent (browsers require `Secure` with it).
    None,
}

/// The settings of an app, under Flask's names.
///
/// | field | Flask key | default |
/// |---|---|---|
/// | `debug` | `DEBUG` | `false` |
/// | `testing` | `TESTING` | `false` |
/// | `secret_key` | `SECRET_KEY` | none |
/// | `secret_key_fallbacks` | `SECRET_KEY_FALLBACKS` | empty |
/// | `session_cookie_name` | `SESSION_COOKIE_NAME` | `"session"` |
/// | `session_cookie_domain` | `SESSION_COOKIE_DOMAIN` | none |
/// | `session_cookie_path` | `SESSION_COOKIE_PATH` | `"/"` |
/// | `session_cookie_httponly` | `SESSION_COOKIE_HTTPONLY` | `true` |
/// | `session_cookie_secure` | `SESSION_COOKIE_SECURE` | `None`: secure when served over TLS |
/// | `session_cookie_samesite` | `SESSION_COOKIE_SAMESITE` | `Lax` |
/// | `permanent_session_lifetime` | `PERMANENT_SESSION_LIFETIME` | 31 days |
/// | `max_content_length` | `MAX_CONTENT_LENGTH` | 2 MiB |
/// | `templates_auto_reload` | `TEMPLATES_AUTO_RELOAD` | `None`: follows `debug` |
/// | `extra` | any other key | empty |
///
/// ```
/// let config = carafe::Config::default();
/// assert_eq!(config.session_cookie_name, "session");
/// assert!(config.secret_key.is_none());
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Debug mode: the debug error page, template reloading, the reloader.
    pub debug: bool,
    /// Testing mode: errors propagate to the test client instead of becoming pages.
    pub testing: bool,
    /// The key that signs session cookies; sessions need one.
    pub secret_key: Option<String>,
    /// Former keys, still accepted when reading a cookie (key rotation), never used to sign.
    pub secret_key_fallbacks: Vec<String>,
    /// The session cookie's name.
    pub session_cookie_name: String,
    /// The session cookie's `Domain`, if any.
    pub session_cookie_domain: Option<String>,
    /// The session cookie's `Path`.
    pub session_cookie_path: String,
    /// Whether the session cookie is `HttpOnly`.
    pub session_cookie_httponly: bool,
    /// Whether the session cookie is `Secure`; `None` means: when the request came over TLS.
    pub session_cookie_secure: Option<bool>,
    /// The session cookie's `SameSite`.
    pub session_cookie_samesite: SameSite,
    /// How long a permanent session lives.
    pub permanent_session_lifetime: Duration,
    /// The most bytes the buffering extractors read from a body.
    pub max_content_length: usize,
    /// Whether templates reload from disk when they change; `None` follows `debug`.
    pub templates_auto_reload: Option<bool>,
    /// The application's own keys.
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            debug: false,
            testing: false,
            secret_key: None,
            secret_key_fallbacks: Vec::new(),
            session_cookie_name: "session".to_owned(),
            session_cookie_domain: None,
            session_cookie_path: "/".to_owned(),
            session_cookie_httponly: true,
            session_cookie_secure: None,
            session_cookie_samesite: SameSite::Lax,
            permanent_session_lifetime: Duration::from_secs(31 * 24 * 60 * 60),
            max_content_length: DEFAULT_MAX_CONTENT_LENGTH,
            templates_auto_reload: None,
            extra: serde_json::Map::new(),
        }
    }
}

impl Config {
    /// Whether templates reload from disk: `templates_auto_reload`, or else `debug`.
    ///
    /// ```
    /// let mut config = carafe::Config::default();
    /// config.debug = true;
    /// assert!(config.templates_auto_reload());
    /// ```
    pub fn templates_auto_reload(&self) -> bool {
        self.templates_auto_reload.unwrap_or(self.debug)
    }
}
