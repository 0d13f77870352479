//! Loading the configuration: a TOML file and `CARAFE_*` environment variables, over the
//! defaults (Flask's `app.config.from_file` and `from_prefixed_env`).
//!
//! Precedence is defaults < file < environment: [`App::load_config`] reads the file, then
//! the environment, so a variable overrides the file's value. Keys are Flask's names,
//! case-insensitive (`SECRET_KEY` or `secret_key` in the file, `CARAFE_SECRET_KEY` in
//! the environment). Values:
//!
//! | key | TOML | environment |
//! |---|---|---|
//! | `debug`, `testing`, `session_cookie_httponly`, `session_cookie_secure`, `templates_auto_reload` | boolean | `1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off` |
//! | `secret_key`, `session_cookie_name`, `session_cookie_domain`, `session_cookie_path` | string | text |
//! | `secret_key_fallbacks` | array of strings | comma-separated |
//! | `session_cookie_samesite` | `"Lax"`, `"Strict"` or `"None"` | the same |
//! | `permanent_session_lifetime` | integer seconds | the same |
//! | `max_content_length` | integer bytes | the same |
//! | any other key | any value | JSON if it parses (`5000`, `true`, `[1]`), else text |
//!
//! Other keys go to [`Config::extra`] under their upper-case name (`SERVER_NAME`).
//!
//! [`App::load_config`]: crate::App::load_config

use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::{Config, SameSite};
use crate::app::App;
use crate::error::Error;

/// The prefix of the environment variables [`Config::apply_env`] reads.
pub const ENV_PREFIX: &str = "CARAFE_";

/// A configuration value or file that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Where the value came from: a file name, or an environment variable.
    source: String,
    /// What is wrong.
    message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.message)
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    fn new(source: &str, message: impl Into<String>) -> Self {
        ConfigError {
            source: source.to_owned(),
            message: message.into(),
        }
    }
}

impl Config {
    /// Sets the keys of a TOML document; keys it lacks keep their value.
    ///
    /// ```
    /// let mut config = carafe::Config::default();
    /// config
    ///     .apply_toml_str("SECRET_KEY = 'dev'\ndebug = true\nSERVER_NAME = 'example.com'")
    ///     .unwrap();
    /// assert_eq!(config.secret_key.as_deref(), Some("dev"));
    /// assert!(config.debug);
    /// assert_eq!(config.extra["SERVER_NAME"], "example.com");
    /// ```
    pub fn apply_toml_str(&mut self, text: &str) -> Result<(), ConfigError> {
        self.apply_toml(text, "the TOML configuration")
    }

    /// Sets the keys of the TOML file at `path`.
    ///
    /// ```no_run
    /// let mut config = carafe::Config::default();
    /// config.apply_toml_file("carafe.toml").unwrap();
    /// ```
    pub fn apply_toml_file(&mut self, path: impl AsRef<Path>) -> Result<(), ConfigError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|error| ConfigError::new(&name, format!("cannot read the file: {error}")))?;
        self.apply_toml(&text, &name)
    }

    fn apply_toml(&mut self, text: &str, source: &str) -> Result<(), ConfigError> {
        let table: toml::Table = toml::from_str(text)
            .map_err(|error| ConfigError::new(source, format!("invalid TOML: {error}")))?;
        for (key, value) in table {
            let value = serde_json::to_value(&value)
                .map_err(|error| ConfigError::new(source, error.to_string()))?;
            self.set(&key, value)
                .map_err(|message| ConfigError::new(source, message))?;
        }
        Ok(())
    }

    /// Sets the keys of the process's `CARAFE_*` environment variables
    /// (`CARAFE_SECRET_KEY`, `CARAFE_DEBUG`, ...).
    ///
    /// ```
    /// let mut config = carafe::Config::default();
    /// config.apply_env().unwrap();
    /// ```
    pub fn apply_env(&mut self) -> Result<(), ConfigError> {
        self.apply_env_from(std::env::vars())
    }

    /// Sets the keys of the `CARAFE_*` variables among `vars`; other variables are
    /// ignored.
    ///
    /// ```
    /// let mut config = carafe::Config::default();
    /// config
    ///     .apply_env_from([
    ///         ("CARAFE_DEBUG".to_owned(), "1".to_owned()),
    ///         ("CARAFE_PORT".to_owned(), "5000".to_owned()),
    ///         ("HOME".to_owned(), "/root".to_owned()),
    ///     ])
    ///     .unwrap();
    /// assert!(config.debug);
    /// assert_eq!(config.extra["PORT"], 5000);
    /// assert!(!config.extra.contains_key("HOME"));
    /// ```
    pub fn apply_env_from(
        &mut self,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(), ConfigError> {
        for (name, text) in vars {
            let Some(key) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            // `CARAFE_RUN_*` belongs to the command line (`cli::run`).
            if key.is_empty() || key.starts_with("RUN_") {
                continue;
            }
            let value = env_value(key, &text);
            self.set(key, value)
                .map_err(|message| ConfigError::new(&name, message))?;
        }
        Ok(())
    }

    /// Sets one key from a JSON value.
    fn set(&mut self, key: &str, value: Value) -> Result<(), String> {
        match key.to_ascii_lowercase().as_str() {
            "debug" => self.debug = boolean(&value)?,
            "testing" => self.testing = boolean(&value)?,
            "secret_key" => self.secret_key = Some(string(value)?),
            "secret_key_fallbacks" => self.secret_key_fallbacks = strings(value)?,
            "session_cookie_name" => self.session_cookie_name = string(value)?,
            "session_cookie_domain" => self.session_cookie_domain = Some(string(value)?),
            "session_cookie_path" => self.session_cookie_path = string(value)?,
            "session_cookie_httponly" => self.session_cookie_httponly = boolean(&value)?,
            "session_cookie_secure" => self.session_cookie_secure = Some(boolean(&value)?),
            "session_cookie_samesite" => self.session_cookie_samesite = same_site(&value)?,
            "permanent_session_lifetime" => {
                self.permanent_session_lifetime = Duration::from_secs(integer(&value)?);
            }
            "max_content_length" => {
                self.max_content_length = usize::try_from(integer(&value)?)
                    .map_err(|_| "the value is too large for this machine".to_owned())?;
            }
            "templates_auto_reload" => self.templates_auto_reload = Some(boolean(&value)?),
            _ => {
                self.extra.insert(key.to_ascii_uppercase(), value);
            }
        }
        Ok(())
    }
}

impl Config {
    /// Fails unless the app may sign things: a `secret_key` is set, or the app runs in
    /// debug or testing mode. Features that sign (sessions) register it as a startup
    /// check, so production refuses to start without a key; `feature` names the feature
    /// in the message.
    ///
    /// ```
    /// let mut config = carafe::Config::default();
    /// assert!(config.check_secret_key("sessions").is_err());
    /// config.debug = true;
    /// assert!(config.check_secret_key("sessions").is_ok());
    /// config.debug = false;
    /// config.secret_key = Some("a long random value".into());
    /// assert!(config.check_secret_key("sessions").is_ok());
    /// ```
    pub fn check_secret_key(&self, feature: &str) -> Result<(), ConfigError> {
        if self.secret_key.is_some() || self.debug || self.testing {
            return Ok(());
        }
        Err(ConfigError::new(
            "SECRET_KEY",
            format!(
                "{feature} need a secret key in production: set `secret_key` in the config, \
                 SECRET_KEY in the config file or the CARAFE_SECRET_KEY environment variable \
                 (a long random value, kept secret)"
            ),
        ))
    }
}

impl App {
    /// Loads the configuration: the TOML file at `path` if given, then the `CARAFE_*`
    /// environment variables, over what is set already (defaults < file < environment;
    /// see [`Config::apply_toml_file`] and [`Config::apply_env`] for the keys).
    ///
    /// ```no_run
    /// fn main() -> Result<(), carafe::Error> {
    ///     let mut app = carafe::App::new();
    ///     app.load_config(Some("carafe.toml"))?;
    ///     app.run().serve()
    /// }
    /// ```
    pub fn load_config(&mut self, path: Option<impl AsRef<Path>>) -> Result<&mut Self, Error> {
        if let Some(path) = path {
            self.config_mut().apply_toml_file(path)?;
        }
        self.config_from_env()
    }

    /// Sets the keys of the TOML file at `path` (Flask's `config.from_file`).
    ///
    /// ```no_run
    /// let mut app = carafe::App::new();
    /// app.config_from_toml_file("carafe.toml")?;
    /// # Ok::<(), carafe::Error>(())
    /// ```
    pub fn config_from_toml_file(&mut self, path: impl AsRef<Path>) -> Result<&mut Self, Error> {
        self.config_mut().apply_toml_file(path)?;
        Ok(self)
    }

    /// Sets the keys of a TOML document.
    ///
    /// ```
    /// let mut app = carafe::App::new();
    /// app.config_from_toml_str("SECRET_KEY = 'dev'")?;
    /// assert_eq!(app.config().secret_key.as_deref(), Some("dev"));
    /// # Ok::<(), carafe::Error>(())
    /// ```
    pub fn config_from_toml_str(&mut self, text: &str) -> Result<&mut Self, Error> {
        self.config_mut().apply_toml_str(text)?;
        Ok(self)
    }

    /// Sets the keys of the `CARAFE_*` environment variables (Flask's
    /// `config.from_prefixed_env`).
    ///
    /// ```
    /// let mut app = carafe::App::new();
    /// app.config_from_env()?;
    /// # Ok::<(), carafe::Error>(())
    /// ```
    pub fn config_from_env(&mut self) -> Result<&mut Self, Error> {
        self.config_mut().apply_env()?;
        Ok(self)
    }
}

/// The JSON value of an environment variable's text for `key`.
fn env_value(key: &str, text: &str) -> Value {
    match key.to_ascii_lowercase().as_str() {
        "debug"
        | "testing"
        | "session_cookie_httponly"
        | "session_cookie_secure"
        | "templates_auto_reload" => match text.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Value::Bool(true),
            "0" | "false" | "no" | "off" | "" => Value::Bool(false),
            _ => Value::String(text.to_owned()),
        },
        "secret_key_fallbacks" => Value::Array(
            text.split(',')
                .map(str::trim)
                .filter(|key| !key.is_empty())
                .map(|key| Value::String(key.to_owned()))
                .collect(),
        ),
        "secret_key"
        | "session_cookie_name"
        | "session_cookie_domain"
        | "session_cookie_path"
        | "session_cookie_samesite" => Value::String(text.to_owned()),
        _ => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned())),
    }
}

fn boolean(value: &Value) -> Result<bool, String> {
    value
        .as_bool()
        .ok_or_else(|| format!("expected true or false, found {value}"))
}

fn string(value: Value) -> Result<String, String> {
    match value {
        Value::String(text) => Ok(text),
        other => Err(format!("expected a string, found {other}")),
    }
}

fn strings(value: Value) -> Result<Vec<String>, String> {
    match value {
        Value::Array(items) => items.into_iter().map(string).collect(),
        other => Err(format!("expected a list of strings, found {other}")),
    }
}

fn integer(value: &Value) -> Result<u64, String> {
    value
        .as_u64()
        .ok_or_else(|| format!("expected a non-negative integer, found {value}"))
}

fn same_site(value: &Value) -> Result<SameSite, String> {
    match value.as_str().map(str::to_ascii_lowercase).as_deref() {
        Some("lax") => Ok(SameSite::Lax),
        Some("strict") => Ok(SameSite::Strict),
        Some("none") => Ok(SameSite::None),
        _ => Err(format!(
            "expected \"Lax\", \"Strict\" or \"None\", found {value}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn every_typed_key_loads_from_toml() {
        let mut config = Config::default();
        let text = r#"
            DEBUG = true
            testing = true
            SECRET_KEY = "k"
            SECRET_KEY_FALLBACKS = ["old1", "old2"]
            SESSION_COOKIE_NAME = "sid"
            SESSION_COOKIE_DOMAIN = "example.com"
            SESSION_COOKIE_PATH = "/app"
            SESSION_COOKIE_HTTPONLY = false
            SESSION_COOKIE_SECURE = true
            SESSION_COOKIE_SAMESITE = "Strict"
            PERMANENT_SESSION_LIFETIME = 60
            MAX_CONTENT_LENGTH = 1024
            TEMPLATES_AUTO_RELOAD = false
            [DATABASE]
            url = "postgres://"
        "#;
        assert_eq!(config.apply_toml_str(text), Ok(()));
        assert!(config.debug && config.testing);
        assert_eq!(config.secret_key.as_deref(), Some("k"));
        assert_eq!(config.secret_key_fallbacks, ["old1", "old2"]);
        assert_eq!(config.session_cookie_name, "sid");
        assert_eq!(config.session_cookie_domain.as_deref(), Some("example.com"));
        assert_eq!(config.session_cookie_path, "/app");
        assert!(!config.session_cookie_httponly);
        assert_eq!(config.session_cookie_secure, Some(true));
        assert_eq!(config.session_cookie_samesite, SameSite::Strict);
        assert_eq!(config.permanent_session_lifetime, Duration::from_secs(60));
        assert_eq!(config.max_content_length, 1024);
        assert_eq!(config.templates_auto_reload, Some(false));
        assert_eq!(config.extra["DATABASE"]["url"], "postgres://");
    }

    #[test]
    fn environment_overrides_the_file() {
        let mut config = Config::default();
        assert_eq!(
            config.apply_toml_str("SECRET_KEY = 'file'\nDEBUG = true"),
            Ok(())
        );
        let vars = env(&[
            ("CARAFE_SECRET_KEY", "env"),
            ("CARAFE_DEBUG", "off"),
            ("CARAFE_SECRET_KEY_FALLBACKS", "a, b"),
            ("CARAFE_FEATURE_FLAGS", "[1, 2]"),
            ("CARAFE_GREETING", "hello there"),
            ("CARAFE_RUN_PORT", "8000"),
        ]);
        assert_eq!(config.apply_env_from(vars), Ok(()));
        assert_eq!(config.secret_key.as_deref(), Some("env"));
        assert!(!config.debug);
        assert_eq!(config.secret_key_fallbacks, ["a", "b"]);
        assert_eq!(config.extra["FEATURE_FLAGS"], serde_json::json!([1, 2]));
        assert_eq!(config.extra["GREETING"], "hello there");
        assert!(!config.extra.contains_key("RUN_PORT"));
    }

    #[test]
    fn wrong_types_name_the_source_and_the_key() {
        let mut config = Config::default();
        let error = config.apply_toml_str("DEBUG = 'yes please'").err();
        let message = error.map(|error| error.to_string()).unwrap_or_default();
        assert!(message.contains("expected true or false"), "{message}");
        let error = config
            .apply_env_from(env(&[("CARAFE_MAX_CONTENT_LENGTH", "lots")]))
            .err();
        let message = error.map(|error| error.to_string()).unwrap_or_default();
        assert!(
            message.starts_with("CARAFE_MAX_CONTENT_LENGTH: "),
            "{message}"
        );
        assert!(config.apply_toml_str("not toml [").is_err());
        assert!(config.apply_toml_file("/nonexistent/carafe.toml").is_err());
    }
}
