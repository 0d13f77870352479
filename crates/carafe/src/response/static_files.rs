//! Files from a folder, by a path the client chose: Flask's `send_from_directory` and
//! static folder, with Werkzeug's `safe_join` made stricter.
//!
//! A client-chosen path is checked twice before a file is opened: by its text
//! ([`safe_join`]: no `..` segment, no absolute path, no backslash, no NUL, on Windows
//! no drive letter), and by where it really leads (the joined path is canonicalized and must stay
//! inside the canonical folder, so a symbolic link pointing out of the folder is refused).
//! Every refusal is a plain `404`, indistinguishable from a missing file.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use http::{HeaderMap, Method, StatusCode};

use super::file::SendFile;
use crate::app::App;
use crate::error::HttpError;
use crate::extract::Path as PathParams;
use crate::routing::{get, MethodRouter};

/// The rule [`App::static_folder`] registers.
pub const STATIC_RULE: &str = "/static/<path:filename>";

/// Joins an untrusted relative `path` to `directory`, or `None` when `path` could leave
/// it (Werkzeug's `safe_join`). The check is on the text only; symbolic links are checked
/// by [`send_from_directory`].
///
/// Refused: empty paths, absolute paths, `..` segments, backslashes, NUL bytes, and on
/// Windows `:` (a drive or a stream).
///
/// ```
/// use carafe::response::safe_join;
/// use std::path::Path;
///
/// assert_eq!(safe_join(Path::new("static"), "css/site.css"), Some("static/css/site.css".into()));
/// assert_eq!(safe_join(Path::new("static"), "../Cargo.toml"), None);
/// assert_eq!(safe_join(Path::new("static"), "/etc/passwd"), None);
/// assert_eq!(safe_join(Path::new("static"), "a\\..\\b"), None);
/// ```
pub fn safe_join(directory: &Path, path: &str) -> Option<PathBuf> {
    // `:` names a drive (`C:x`) or a stream (`file::$DATA`) only on Windows; elsewhere
    // it is an ordinary character of file names such as `12:30.log`.
    let refused = path.is_empty()
        || path.starts_with('/')
        || path.contains(['\\', '\0'])
        || (cfg!(windows) && path.contains(':'))
        || path.split('/').any(|segment| segment == "..");
    if refused {
        return None;
    }
    let relative = Path::new(path);
    // Belt and braces: whatever the text check let through, only plain names and `.`
    // may remain.
    let plain = relative
        .components()
        .all(|component| matches!(component, Component::Normal(_) | Component::CurDir));
    plain.then(|| directory.join(relative))
}

/// Sends the file at the untrusted relative `path` inside `directory` (Flask's
/// `send_from_directory`); finish it like [`send_file`](super::send_file)'s builder. The answer is `404`
/// when the path could escape the folder (by its text or through a symbolic link), does
/// not exist, or is not a regular file.
///
/// ```
/// use carafe::response::send_from_directory;
/// use carafe::{get, App, Path, Response};
/// use http::{HeaderMap, Method};
///
/// async fn upload(Path(name): Path<String>, method: Method, headers: HeaderMap) -> Response {
///     send_from_directory("uploads", &name)
///         .as_attachment(true)
///         .respond(&method, &headers)
///         .await
/// }
///
/// let mut app = App::new();
/// app.route("/uploads/<path:name>", get(upload));
/// ```
pub fn send_from_directory(directory: impl Into<PathBuf>, path: &str) -> SendFile {
    SendFile::in_directory(directory.into(), path.to_owned())
}

/// The real path of the untrusted `path` inside `directory`, or `404`.
pub(crate) async fn resolve_in_directory(
    directory: &Path,
    path: &str,
) -> Result<PathBuf, HttpError> {
    let not_found = || HttpError::new(StatusCode::NOT_FOUND, "not found");
    let joined = safe_join(directory, path).ok_or_else(not_found)?;
    let root = tokio::fs::canonicalize(directory)
        .await
        .map_err(|_| not_found())?;
    let real = tokio::fs::canonicalize(&joined)
        .await
        .map_err(|_| not_found())?;
    if !real.starts_with(&root) {
        return Err(not_found());
    }
    Ok(real)
}

/// A `GET` handler serving `directory`'s files for a rule with a `<path:filename>`
/// placeholder: what [`App::static_folder`] registers, and what a blueprint registers for
/// its own static folder.
///
/// ```
/// use carafe::response::static_handler;
/// use carafe::App;
///
/// let mut app = App::new();
/// app.route("/assets/<path:filename>", static_handler("assets"));
/// ```
pub fn static_handler(directory: impl Into<PathBuf>) -> MethodRouter {
    let directory: Arc<Path> = Arc::from(directory.into());
    get(
        move |PathParams(filename): PathParams<String>, method: Method, headers: HeaderMap| {
            let directory = Arc::clone(&directory);
            async move {
                send_from_directory(directory.to_path_buf(), &filename)
                    .respond(&method, &headers)
                    .await
            }
        },
    )
}

impl App {
    /// Serves the files under `directory` at `/static/<path:filename>` (Flask's
    /// `static_folder`), with conditional requests, ranges and path-traversal protection
    /// (see [`send_from_directory`]). Call it once.
    ///
    /// Flask serves `static/` next to the app without being asked; carafe does too when
    /// the app helper's startup finds a `static/` folder in the working directory (see
    /// [`default_static_folder`]); call this to choose another folder.
    ///
    /// ```
    /// let mut app = carafe::App::new();
    /// app.static_folder("public");
    /// ```
    ///
    /// # Panics
    ///
    /// When a rule already routes `GET /static/...` (see [`App::route`]).
    #[track_caller]
    pub fn static_folder(&mut self, directory: impl Into<PathBuf>) -> &mut Self {
        self.route(STATIC_RULE, static_handler(directory).name("static"))
    }
}

/// The `static/` folder in the working directory, if there is one: the folder Flask
/// serves by default (it looks next to the app's module; a Rust binary's natural place is
/// where it is started, as `cargo run` does from the package's folder).
///
/// ```
/// let folder = carafe::response::default_static_folder();
/// # let _ = folder;
/// ```
pub fn default_static_folder() -> Option<PathBuf> {
    let folder = std::env::current_dir().ok()?.join("static");
    folder.is_dir().then_some(folder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_join_refuses_every_escape() {
        let root = Path::new("/srv/static");
        let refused = [
            "",
            "..",
            "../x",
            "a/../../x",
            "a/..",
            "/etc/passwd",
            "//etc/passwd",
            "a\\..\\..\\x",
            "..\\x",
            "a\0b",
            "C:\\Windows\\win.ini",
        ];
        for path in refused {
            assert_eq!(safe_join(root, path), None, "{path:?}");
        }
        let allowed = [
            ("a.css", "/srv/static/a.css"),
            ("css/a.css", "/srv/static/css/a.css"),
            ("./a.css", "/srv/static/./a.css"),
            ("a/./b", "/srv/static/a/./b"),
            ("..a", "/srv/static/..a"),
            ("a..", "/srv/static/a.."),
            ("...", "/srv/static/..."),
            ("%2e%2e", "/srv/static/%2e%2e"),
            ("12:30.log", "/srv/static/12:30.log"),
        ];
        for (path, joined) in allowed {
            assert_eq!(
                safe_join(root, path),
                Some(PathBuf::from(joined)),
                "{path:?}"
            );
        }
    }
}
