//! Sessions: Flask's `session`, kept in a signed cookie, and flash messages.
//!
//! The session is a dict of JSON values that lives in the client's cookie, signed so the
//! client can read it but not change it (Flask's `SecureCookieSessionInterface`; the
//! format is in [`cookie`]). A handler takes the [`Session`] extractor and reads and
//! changes it; when the handler is done, a finisher registered with
//! [`after_this_request`](crate::after_this_request) writes the cookie back
//! (`save.rs`).
//!
//! - **Lazy**: a request that never takes `Session` costs nothing; one that takes it but
//!   never reads it decodes nothing and sends no cookie.
//! - **Never an error page for a bad cookie**: a tampered, expired, malformed or oversize
//!   cookie is logged at debug level and gives an empty session.
//! - **Written only when needed**: when the session changed, or when it is permanent (its
//!   expiry moves forward, Flask's `SESSION_REFRESH_EACH_REQUEST`); an emptied session
//!   deletes the cookie. A session that was read adds `Vary: Cookie`.
//! - **Keys**: signed with [`Config::secret_key`](crate::Config::secret_key), verified
//!   with it or any of [`Config::secret_key_fallbacks`](crate::Config::secret_key_fallbacks)
//!   (key rotation). Changing a session without a secret key answers 500 and logs why.

pub mod cookie;
mod flash;
mod save;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use carafe_serve::ConnInfo;

use crate::app::App;
use crate::config::SameSite;
use crate::error::HttpError;
use crate::extract::{FromRequestParts, RequestParts};

pub use self::flash::{flash, flash_with_category, get_flashed_messages, FlashMessage};

/// The key under which Flask keeps the session's permanence in the dict.
const PERMANENT_KEY: &str = "_permanent";

/// The request's session: a dict of JSON values kept in a signed cookie (Flask's
/// `session`).
///
/// Take it as a handler argument. It is a cheap handle: clones share the same session,
/// and it can be held across `.await`s and moved into other tasks (changes made after the
/// handler returned are not saved). The cookie is read on first use and written back
/// after the handler, only if the session changed (or is permanent).
///
/// ```
/// use carafe::{get, post, App, Session};
///
/// async fn login(session: Session) -> &'static str {
///     session.insert("user", "ada");
///     "logged in"
/// }
///
/// async fn whoami(session: Session) -> String {
///     match session.get::<String>("user") {
///         Some(user) => format!("hello, {user}"),
///         None => "who are you?".to_owned(),
///     }
/// }
///
/// let mut app = App::new();
/// app.secret_key("a long random string")
///     .route("/login", post(login))
///     .route("/", get(whoami));
/// ```
#[derive(Debug, Clone)]
pub struct Session {
    /// The cookie's settings and keys, fixed for the request.
    settings: Arc<CookieSettings>,
    /// The dict and what happened to it.
    state: Arc<Mutex<SessionState>>,
}

/// What the session cookie of one request looks like, taken from the app's [`Config`]
/// and the request.
///
/// [`Config`]: crate::Config
#[derive(Debug, Clone)]
pub(crate) struct CookieSettings {
    /// `SESSION_COOKIE_NAME`.
    name: String,
    /// `SESSION_COOKIE_DOMAIN`.
    domain: Option<String>,
    /// `SESSION_COOKIE_PATH`.
    path: String,
    /// `SESSION_COOKIE_HTTPONLY`.
    http_only: bool,
    /// `SESSION_COOKIE_SECURE`, or whether the request came over TLS.
    secure: bool,
    /// `SESSION_COOKIE_SAMESITE`.
    same_site: SameSite,
    /// `PERMANENT_SESSION_LIFETIME`: the cookie's lifetime when permanent, and the oldest
    /// signature accepted either way.
    lifetime: Duration,
    /// `SECRET_KEY`: signs and verifies.
    secret_key: Option<String>,
    /// `SECRET_KEY_FALLBACKS`: verify only.
    fallbacks: Vec<String>,
}

/// The dict and its history during one request.
#[derive(Debug, Default)]
struct SessionState {
    /// The cookie's value, until it is decoded on first use.
    cookie: Option<String>,
    /// The dict, once loaded (`None`: nobody looked, nothing to save).
    data: Option<Map<String, Value>>,
    /// Whether the dict changed since it was loaded.
    modified: bool,
    /// The flashes taken out of the session by the request's first
    /// `get_flashed_messages`, returned again by later calls (Flask's
    /// `request_ctx.flashes`).
    flashes: Option<Vec<FlashMessage>>,
}

/// What the finisher saves: a snapshot of a loaded session.
struct Outcome {
    /// The dict.
    data: Map<String, Value>,
    /// Whether it changed.
    modified: bool,
    /// Whether it is permanent.
    permanent: bool,
}

impl Session {
    /// The session of the request behind `parts`: the one an earlier extractor of this
    /// request made, or a new one whose cookie is saved after the handler.
    pub(crate) fn of(parts: &mut RequestParts) -> Session {
        if let Some(session) = parts.extensions().get::<Session>() {
            return session.clone();
        }
        if let Some(session) = crate::scope::session() {
            parts.extensions_mut().insert(session.clone());
            return session;
        }
        let settings = CookieSettings::of(parts);
        let cookies = parts.headers().get_all(http::header::COOKIE);
        let cookie = cookie::find_cookie(cookies.iter().map(|v| v.as_bytes()), &settings.name)
            .map(str::to_owned);
        let session = Session {
            settings: Arc::new(settings),
            state: Arc::new(Mutex::new(SessionState {
                cookie,
                ..SessionState::default()
            })),
        };
        let saved = session.clone();
        if !crate::after_this_request(move |response| save::save_session(&saved, response)) {
            tracing::debug!(
                target: "carafe::session",
                "session taken outside a request handled by an App: it will not be saved"
            );
        }
        crate::scope::keep_session(&session);
        parts.extensions_mut().insert(session.clone());
        session
    }

    /// A session detached from any request (nothing saves it): for tests of code that
    /// takes a `Session`.
    ///
    /// ```
    /// let session = carafe::Session::detached();
    /// session.insert("n", 1);
    /// assert_eq!(session.get::<u32>("n"), Some(1));
    /// ```
    pub fn detached() -> Session {
        let mut parts = RequestParts::new(http::Request::new(()).into_parts().0);
        Session::of(&mut parts)
    }

    /// The value under `key`, deserialized as `T`; `None` if there is none or it is not a
    /// `T` (logged at debug level).
    ///
    /// ```
    /// # let session = carafe::Session::detached();
    /// session.insert("cart", vec![3, 4]);
    /// assert_eq!(session.get::<Vec<u32>>("cart"), Some(vec![3, 4]));
    /// assert_eq!(session.get::<String>("cart"), None);
    /// ```
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let value = self.get_value(key)?;
        match serde_json::from_value(value) {
            Ok(value) => Some(value),
            Err(error) => {
                tracing::debug!(target: "carafe::session", "session[{key:?}]: {error}");
                None
            }
        }
    }

    /// The JSON value under `key`.
    ///
    /// ```
    /// # let session = carafe::Session::detached();
    /// session.insert("n", 1);
    /// assert_eq!(session.get_value("n"), Some(serde_json::json!(1)));
    /// ```
    pub fn get_value(&self, key: &str) -> Option<Value> {
        self.with_data(|data| data.get(key).cloned())
    }

    /// Stores `value` under `key` (Flask's `session[key] = value`) and marks the session
    /// modified.
    ///
    /// A value that cannot become JSON (a map with non-string keys) is a programming
    /// error: it is logged and the response becomes a 500, as Flask fails to save it.
    ///
    /// ```
    /// #[derive(serde::Serialize)]
    /// struct Prefs { theme: &'static str }
    ///
    /// # let session = carafe::Session::detached();
    /// session.insert("user_id", 42);
    /// session.insert("prefs", Prefs { theme: "dark" });
    /// assert!(session.modified());
    /// ```
    pub fn insert(&self, key: impl Into<String>, value: impl Serialize) {
        let key = key.into();
        match serde_json::to_value(value) {
            Ok(value) => self.with_data_mut(|data| {
                data.insert(key, value);
                true
            }),
            Err(error) => {
                tracing::error!(
                    target: "carafe::session",
                    "session[{key:?}] cannot be stored: {error}"
                );
            }
        }
    }

    /// Removes and returns the value under `key` (Flask's `session.pop(key, None)`).
    ///
    /// ```
    /// # let session = carafe::Session::detached();
    /// session.insert("user", "ada");
    /// assert_eq!(session.remove("user"), Some(serde_json::json!("ada")));
    /// assert_eq!(session.remove("user"), None);
    /// ```
    pub fn remove(&self, key: &str) -> Option<Value> {
        let mut removed = None;
        self.with_data_mut(|data| {
            removed = data.remove(key);
            removed.is_some()
        });
        removed
    }

    /// Empties the session; the cookie is deleted after the handler (logging out).
    ///
    /// ```
    /// # let session = carafe::Session::detached();
    /// session.insert("user", "ada");
    /// session.clear();
    /// assert!(session.is_empty());
    /// ```
    pub fn clear(&self) {
        self.with_data_mut(|data| {
            let had = !data.is_empty();
            data.clear();
            had
        });
    }

    /// Whether the session has a value under `key` (Flask's `key in session`).
    ///
    /// ```
    /// # let session = carafe::Session::detached();
    /// assert!(!session.contains("user"));
    /// ```
    pub fn contains(&self, key: &str) -> bool {
        self.with_data(|data| data.contains_key(key))
    }

    /// Whether the session holds nothing.
    ///
    /// ```
    /// # let session = carafe::Session::detached();
    /// assert!(session.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.with_data(|data| data.is_empty())
    }

    /// A copy of the whole dict.
    ///
    /// ```
    /// # let session = carafe::Session::detached();
    /// session.insert("a", 1);
    /// assert_eq!(session.to_map().len(), 1);
    /// ```
    pub fn to_map(&self) -> Map<String, Value> {
        self.with_data(Map::clone)
    }

    /// Makes the session outlive the browser session (Flask's `session.permanent = True`):
    /// the cookie gets `Expires` and `Max-Age` from
    /// [`Config::permanent_session_lifetime`](crate::Config::permanent_session_lifetime),
    /// renewed on each request that uses the session.
    ///
    /// ```
    /// # let session = carafe::Session::detached();
    /// session.set_permanent(true);
    /// assert!(session.permanent());
    /// ```
    pub fn set_permanent(&self, permanent: bool) {
        if permanent {
            self.insert(PERMANENT_KEY, true);
        } else {
            self.remove(PERMANENT_KEY);
        }
    }

    /// Whether the session is permanent.
    ///
    /// ```
    /// # let session = carafe::Session::detached();
    /// assert!(!session.permanent());
    /// ```
    pub fn permanent(&self) -> bool {
        self.with_data(|data| data.get(PERMANENT_KEY) == Some(&Value::Bool(true)))
    }

    /// Whether the session changed during this request (Flask's `session.modified`).
    ///
    /// ```
    /// # let session = carafe::Session::detached();
    /// assert!(!session.modified());
    /// session.insert("a", 1);
    /// assert!(session.modified());
    /// ```
    pub fn modified(&self) -> bool {
        self.lock().modified
    }

    /// Whether the session was read or written during this request (Flask's
    /// `session.accessed`).
    ///
    /// ```
    /// # let session = carafe::Session::detached();
    /// assert!(!session.accessed());
    /// let _ = session.contains("a");
    /// assert!(session.accessed());
    /// ```
    pub fn accessed(&self) -> bool {
        self.lock().data.is_some()
    }

    /// The state, locked. A poisoned lock (a panic while it was held, which the short
    /// critical sections here cannot cause) is taken over: the dict is still consistent.
    fn lock(&self) -> MutexGuard<'_, SessionState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `f` on the dict, loading it first.
    fn with_data<R>(&self, f: impl FnOnce(&Map<String, Value>) -> R) -> R {
        let mut state = self.lock();
        f(self.load(&mut state))
    }

    /// Runs `f` on the dict, loading it first; `f` says whether it changed it.
    fn with_data_mut(&self, f: impl FnOnce(&mut Map<String, Value>) -> bool) {
        let mut state = self.lock();
        if f(self.load(&mut state)) {
            state.modified = true;
        }
    }

    /// The dict, decoded from the cookie on first use; a bad cookie gives an empty dict.
    fn load<'a>(&self, state: &'a mut SessionState) -> &'a mut Map<String, Value> {
        let cookie = state.cookie.take();
        state.data.get_or_insert_with(|| match cookie {
            Some(cookie) => self.settings.decode(&cookie),
            None => Map::new(),
        })
    }

    /// What to save, if the session was loaded.
    fn outcome(&self) -> Option<Outcome> {
        let state = self.lock();
        let data = state.data.clone()?;
        let permanent = data.get(PERMANENT_KEY) == Some(&Value::Bool(true));
        Some(Outcome {
            data,
            modified: state.modified,
            permanent,
        })
    }
}

impl FromRequestParts for Session {
    async fn from_request_parts(parts: &mut RequestParts) -> Result<Self, HttpError> {
        Ok(Session::of(parts))
    }

    /// Sessions sign their cookie: in production the app refuses to start without a
    /// secret key (see [`App::check`](crate::App::check)).
    fn needs(needs: &mut crate::Needs) {
        needs.secret_key("sessions");
    }
}

impl CookieSettings {
    /// The settings for the request behind `parts`.
    fn of(parts: &RequestParts) -> CookieSettings {
        let config = parts.config();
        CookieSettings {
            name: config.session_cookie_name.clone(),
            domain: config.session_cookie_domain.clone(),
            path: config.session_cookie_path.clone(),
            http_only: config.session_cookie_httponly,
            secure: request_is_secure(parts),
            same_site: config.session_cookie_samesite,
            lifetime: config.permanent_session_lifetime,
            secret_key: config.secret_key.clone(),
            fallbacks: config.secret_key_fallbacks.clone(),
        }
    }

    /// Decodes a cookie value with the current and fallback keys; any failure is an
    /// empty session, logged at debug level.
    fn decode(&self, value: &str) -> Map<String, Value> {
        let Some(secret) = &self.secret_key else {
            tracing::debug!(target: "carafe::session", "no secret key: session cookie ignored");
            return Map::new();
        };
        let signer = cookie::SessionSigner::with_fallbacks(secret, &self.fallbacks);
        match signer.decode(value, unix_now(), self.lifetime.as_secs()) {
            Ok(data) => data,
            Err(error) => {
                tracing::debug!(target: "carafe::session", "session cookie refused: {error}");
                Map::new()
            }
        }
    }
}

/// Whether the session cookie of this request gets `Secure`.
///
/// [`Config::session_cookie_secure`](crate::Config::session_cookie_secure) decides when
/// set. Otherwise the cookie is secure when the request came over TLS: its connection
/// is TLS ([`ConnInfo::tls`]), its target was an `https` URL, or the app trusts a proxy to say so (see
/// [`App::session_trusts_forwarded_proto`]) and `X-Forwarded-Proto` is `https`.
///
/// ```
/// let (head, _) = http::Request::new(()).into_parts();
/// let parts = carafe::RequestParts::new(head);
/// assert!(!carafe::session::request_is_secure(&parts));
/// ```
pub fn request_is_secure(parts: &RequestParts) -> bool {
    if let Some(secure) = parts.config().session_cookie_secure {
        return secure;
    }
    if parts.uri().scheme() == Some(&http::uri::Scheme::HTTPS) {
        return true;
    }
    let conn = parts.extensions().get::<ConnInfo>().copied();
    if conn.or_else(ConnInfo::current).is_some_and(|conn| conn.tls) {
        return true;
    }
    let trusted = parts
        .state::<SessionProxySettings>()
        .is_some_and(|settings| settings.trust_forwarded_proto);
    trusted
        && parts
            .headers()
            .get("x-forwarded-proto")
            .is_some_and(|proto| proto.as_bytes().eq_ignore_ascii_case(b"https"))
}

/// Whether the app sits behind a proxy whose `X-Forwarded-Proto` it believes.
#[derive(Debug, Clone, Copy)]
struct SessionProxySettings {
    /// Read `X-Forwarded-Proto` to tell whether the client used TLS.
    trust_forwarded_proto: bool,
}

/// Seconds since the Unix epoch, now.
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

impl App {
    /// Sets the key that signs session cookies (Flask's `app.secret_key`, the
    /// `SECRET_KEY` setting). Use a long random string, keep it out of the source, and
    /// move the old key to
    /// [`Config::secret_key_fallbacks`](crate::Config::secret_key_fallbacks) when you
    /// change it, so existing sessions stay valid.
    ///
    /// ```
    /// let mut app = carafe::App::new();
    /// app.secret_key("7f3c1e0a9d8b4f2e6a5c3b1d0e9f8a7b");
    /// assert!(app.config().secret_key.is_some());
    /// ```
    #[track_caller]
    pub fn secret_key(&mut self, key: impl Into<String>) -> &mut Self {
        self.config_mut().secret_key = Some(key.into());
        self
    }

    /// Trusts `X-Forwarded-Proto: https` to mean the client used TLS, so the session
    /// cookie gets `Secure` (when
    /// [`Config::session_cookie_secure`](crate::Config::session_cookie_secure) is
    /// unset). Only turn this on behind a proxy that sets that header itself: a client
    /// talking to the app directly could send it too.
    ///
    /// ```
    /// let mut app = carafe::App::new();
    /// app.session_trusts_forwarded_proto(true);
    /// ```
    #[track_caller]
    pub fn session_trusts_forwarded_proto(&mut self, trust: bool) -> &mut Self {
        self.state(SessionProxySettings {
            trust_forwarded_proto: trust,
        })
    }
}

#[cfg(test)]
mod tests;
