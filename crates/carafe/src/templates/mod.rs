//! Templates: Flask's `render_template`, on [minijinja](https://docs.rs/minijinja)
//! (Jinja2's syntax and semantics, in Rust).
//!
//! The app names its template folders at setup ([`App::template_folder`], plus extra
//! search paths such as a blueprint's with [`App::add_template_search_path`]); a handler
//! takes the [`Templates`] extractor and renders with [`Templates::render`]. As in Flask:
//!
//! - templates whose name ends in `.html`, `.htm`, `.xml`, `.xhtml` or `.svg` (and string
//!   templates) are autoescaped; others (`.txt`, `.md`, ...) are not;
//! - `{% extends %}`, `{% include %}`, `{% import %}` and macros find templates in the
//!   same folders;
//! - every template sees `request`, `session`, `config` (without the secret keys),
//!   `get_flashed_messages()`, `url_for()` and `csrf_token()` ([`crate::csrf`]);
//! - with [`Config::templates_auto_reload`](crate::Config::templates_auto_reload) (on in
//!   debug mode) a template is reloaded when its file changes; otherwise each template is
//!   read and compiled once.
//!
//! A missing template or a syntax error is a [`TemplateError`] naming the template and
//! line: answered `500` and logged.

mod error;
mod globals;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use minijinja::value::{merge_maps, Serde};
use minijinja::{AutoEscape, Environment, TemplateSource, Value};
use serde::Serialize;

use crate::app::App;
use crate::config::Config;
use crate::error::HttpError;
use crate::extract::{FromRequestParts, RequestParts};
use crate::response::Html;
use crate::session::Session;

pub use self::error::TemplateError;
pub use minijinja::{self, context};

/// The name string templates get in error messages and for autoescaping.
const STRING_TEMPLATE_NAME: &str = "<string>";

/// A function that changes the template environment at its creation.
type Configure = Arc<dyn Fn(&mut Environment<'static>) + Send + Sync>;

/// The app's template settings, kept in its state, and the environment built from them
/// on first use.
#[derive(Clone, Default)]
pub(crate) struct TemplateSettings {
    /// The folders searched, in order: the app's, then extra ones (blueprints').
    folders: Vec<PathBuf>,
    /// The app's own changes to the environment (filters, globals, ...), in order.
    configure: Vec<Configure>,
    /// The environment, built by the first render: the configuration is final then.
    env: Arc<OnceLock<Arc<Environment<'static>>>>,
}

impl fmt::Debug for TemplateSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TemplateSettings")
            .field("folders", &self.folders)
            .field("configure", &self.configure.len())
            .finish_non_exhaustive()
    }
}

impl TemplateSettings {
    /// The environment, built on first use with the app's `config`.
    fn environment(&self, config: &Config) -> Arc<Environment<'static>> {
        Arc::clone(self.env.get_or_init(|| Arc::new(self.build(config))))
    }

    /// A new environment: loader over the folders, Flask's autoescaping, the app-wide
    /// globals, reloading as configured, then the app's own changes.
    fn build(&self, config: &Config) -> Environment<'static> {
        let mut env = Environment::new();
        env.set_loader(search_path_loader(&self.folders));
        env.set_auto_reload(config.templates_auto_reload());
        env.set_auto_escape_callback(autoescape);
        env.set_formatter(markupsafe_formatter);
        globals::add_app_globals(&mut env, config);
        for configure in &self.configure {
            configure(&mut env);
        }
        env
    }
}

/// A loader that looks for a template in each folder in turn (Flask's
/// `DispatchingJinjaLoader`: the app's folder first, then the blueprints').
fn search_path_loader(
    folders: &[PathBuf],
) -> impl Fn(&str) -> Result<Option<TemplateSource>, minijinja::Error> + Send + Sync + 'static {
    let loaders: Vec<_> = folders
        .iter()
        .cloned()
        .map(minijinja::path_loader)
        .collect();
    move |name| {
        for loader in &loaders {
            if let Some(source) = loader(name)? {
                return Ok(Some(source));
            }
        }
        Ok(None)
    }
}

/// Prints values as Jinja2 with MarkupSafe does: under HTML autoescaping, `&`, `<`,
/// `>`, `"` and `'` are escaped, but not `/` (minijinja's default escapes it too, which
/// turns every URL and path into `&#x2f;` soup). Everything else is minijinja's default.
fn markupsafe_formatter(
    out: &mut minijinja::Output<'_>,
    state: &mut minijinja::State<'_, '_>,
    value: &Value,
) -> Result<(), minijinja::Error> {
    let escaping = matches!(state.auto_escape(), AutoEscape::Html);
    if !escaping || value.is_safe() || value.is_undefined() || value.is_none() {
        return minijinja::escape_formatter(out, state, value);
    }
    let text = value.to_string();
    let mut rest = text.as_str();
    while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
        let (plain, tail) = rest.split_at(at);
        out.write_str(plain)?;
        let entity = match tail.as_bytes()[0] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&#34;",
            _ => "&#39;",
        };
        out.write_str(entity)?;
        rest = &tail[1..];
    }
    out.write_str(rest)?;
    Ok(())
}

/// Flask's `select_jinja_autoescape`: HTML escaping for markup files and strings.
fn autoescape(name: &str) -> AutoEscape {
    const MARKUP: [&str; 5] = [".html", ".htm", ".xml", ".xhtml", ".svg"];
    if name == STRING_TEMPLATE_NAME || MARKUP.iter().any(|ext| name.ends_with(ext)) {
        AutoEscape::Html
    } else {
        AutoEscape::None
    }
}

/// Renders templates for one request (Flask's `render_template` and
/// `render_template_string`).
///
/// Take it as a handler argument. Templates come from the app's template folders (see
/// [`App::template_folder`]); the context is any [`Serialize`] value, usually built
/// with [`context!`]. The extractor refuses the request with `500` (and a log line saying
/// what to call) when the app has no template folder.
///
/// ```
/// use carafe::templates::{context, TemplateError, Templates};
/// use carafe::{get, App, Html};
///
/// async fn hello(templates: Templates) -> Result<Html<String>, TemplateError> {
///     templates.render("hello.html", context! { name => "<World>" })
/// }
///
/// let mut app = App::new();
/// app.template_folder("templates").route("/", get(hello));
/// ```
#[derive(Debug, Clone)]
pub struct Templates {
    /// The app's environment.
    env: Arc<Environment<'static>>,
    /// `request`, `session` and `get_flashed_messages` for this request.
    request_globals: Value,
    /// Whether errors may show their details (debug mode).
    debug: bool,
}

impl Templates {
    /// Renders the template `name` with `context` (Flask's `render_template`).
    ///
    /// The context's keys win over the request globals of the same name.
    ///
    /// ```
    /// # use carafe::templates::{context, Templates, TemplateError};
    /// # async fn page(templates: Templates) -> Result<carafe::Html<String>, TemplateError> {
    /// templates.render("page.html", context! { title => "Home", items => vec![1, 2, 3] })
    /// # }
    /// ```
    pub fn render(
        &self,
        name: &str,
        context: impl Serialize,
    ) -> Result<Html<String>, TemplateError> {
        let rendered = self
            .env
            .get_template(name)
            .and_then(|template| template.render(self.context(context)));
        self.finish(name, rendered)
    }

    /// Renders `source` as a template with `context` (Flask's `render_template_string`);
    /// always autoescaped, as in Flask.
    ///
    /// ```
    /// # use carafe::templates::{context, Templates, TemplateError};
    /// # async fn page(templates: Templates) -> Result<carafe::Html<String>, TemplateError> {
    /// templates.render_string("<h1>{{ title }}</h1>", context! { title => "Home" })
    /// # }
    /// ```
    pub fn render_string(
        &self,
        source: &str,
        context: impl Serialize,
    ) -> Result<Html<String>, TemplateError> {
        let rendered = self
            .env
            .template_from_named_str(STRING_TEMPLATE_NAME, source)
            .and_then(|template| template.render(self.context(context)));
        self.finish(STRING_TEMPLATE_NAME, rendered)
    }

    /// The app's template environment, to render with minijinja's own API.
    ///
    /// ```
    /// # fn f(templates: carafe::templates::Templates) {
    /// let names_known = templates.environment().templates().count();
    /// # let _ = names_known;
    /// # }
    /// ```
    pub fn environment(&self) -> &Environment<'static> {
        &self.env
    }

    /// The user's context over the request globals.
    fn context(&self, context: impl Serialize) -> Value {
        merge_maps([Value::from(Serde(context)), self.request_globals.clone()])
    }

    /// The rendered page, or the error with the template's name.
    fn finish(
        &self,
        name: &str,
        rendered: Result<String, minijinja::Error>,
    ) -> Result<Html<String>, TemplateError> {
        rendered
            .map(Html)
            .map_err(|source| TemplateError::new(name, source, self.debug))
    }
}

impl Templates {
    /// The templates of the request behind `parts`, or `None` when the app has no
    /// template folder.
    fn of(parts: &mut RequestParts) -> Option<Templates> {
        let settings = parts.state::<TemplateSettings>()?;
        let env = settings.environment(parts.config());
        let debug = parts.config().debug;
        let session = Session::of(parts);
        Some(Templates {
            env,
            request_globals: globals::request_globals(parts, session),
            debug,
        })
    }
}

impl FromRequestParts for Templates {
    async fn from_request_parts(parts: &mut RequestParts) -> Result<Self, HttpError> {
        match Templates::of(parts) {
            Some(templates) => Ok(templates),
            None => {
                tracing::error!(target: "carafe::templates", "{NO_FOLDER}");
                Err(HttpError::from(http::StatusCode::INTERNAL_SERVER_ERROR))
            }
        }
    }
}

/// Why templates cannot render: the app has no template folder.
const NO_FOLDER: &str = "templates were used, but the app has no template folder: call \
                         app.template_folder(\"templates\") at startup";

/// Renders the template `name` with `context` for the current request (Flask's
/// `render_template`): the same as taking the [`Templates`] extractor and calling
/// [`Templates::render`], from anywhere in a handler's call tree.
///
/// The template sees the same `request`, `session`, `config`, `url_for` and
/// `get_flashed_messages` as with the extractor (and the same session: a change the
/// handler made shows). Outside a request handled by an [`App`] with a template folder,
/// it is an error that says so.
///
/// ```
/// use carafe::templates::{context, render_template, TemplateError};
/// use carafe::{get, App, Html};
///
/// async fn index() -> Result<Html<String>, TemplateError> {
///     render_template("index.html", context! { title => "Home" })
/// }
///
/// let mut app = App::new();
/// app.template_folder("templates").route("/", get(index));
/// ```
pub fn render_template(name: &str, context: impl Serialize) -> Result<Html<String>, TemplateError> {
    current_templates(name)?.render(name, context)
}

/// Renders `source` as a template with `context` for the current request (Flask's
/// `render_template_string`); see [`render_template`].
///
/// ```
/// use carafe::templates::{context, render_template_string, TemplateError};
/// use carafe::Html;
///
/// async fn hello() -> Result<Html<String>, TemplateError> {
///     render_template_string("<p>{{ request.path }}: {{ who }}</p>", context! { who => "you" })
/// }
/// # let _ = carafe::get(hello);
/// ```
pub fn render_template_string(
    source: &str,
    context: impl Serialize,
) -> Result<Html<String>, TemplateError> {
    current_templates(STRING_TEMPLATE_NAME)?.render_string(source, context)
}

/// The templates of the current request, or an error for the template `name` saying
/// why there are none.
fn current_templates(name: &str) -> Result<Templates, TemplateError> {
    let Some(mut parts) = crate::scope::request_parts() else {
        let detail = match crate::scope::with_app(|app, _| app.templated) {
            Some(true) | None => {
                "render_template was called outside a request handled by an App: call it \
                 from a handler's task, or take the Templates extractor"
            }
            Some(false) => NO_FOLDER,
        };
        return Err(TemplateError::outside(name, detail));
    };
    Templates::of(&mut parts).ok_or_else(|| TemplateError::outside(name, NO_FOLDER))
}

impl App {
    /// Sets the app's template folder (Flask's `template_folder`, `templates` by
    /// default there; carafe has no default, so call this once to use templates).
    ///
    /// A relative path is taken from the current directory when this is called (`cargo
    /// run` and `cargo test` start in different directories); for a folder beside your
    /// crate's `Cargo.toml` whatever the directory, write
    /// `concat!(env!("CARGO_MANIFEST_DIR"), "/templates")`.
    ///
    /// ```
    /// let mut app = carafe::App::new();
    /// app.template_folder(concat!(env!("CARGO_MANIFEST_DIR"), "/templates"));
    /// ```
    #[track_caller]
    pub fn template_folder(&mut self, folder: impl AsRef<Path>) -> &mut Self {
        let folder = absolute(folder.as_ref());
        self.change_templates(|settings| {
            settings.folders.retain(|known| *known != folder);
            settings.folders.insert(0, folder);
        })
    }

    /// Adds a folder searched after the app's template folder, such as a blueprint's
    /// `template_folder`. Relative paths are taken as in [`App::template_folder`].
    ///
    /// ```
    /// let mut app = carafe::App::new();
    /// app.template_folder("templates").add_template_search_path("admin/templates");
    /// ```
    #[track_caller]
    pub fn add_template_search_path(&mut self, folder: impl AsRef<Path>) -> &mut Self {
        let folder = absolute(folder.as_ref());
        self.change_templates(|settings| {
            if !settings.folders.contains(&folder) {
                settings.folders.push(folder);
            }
        })
    }

    /// Changes the template environment when it is created: add filters, tests and
    /// globals (Flask's `app.jinja_env`, `@app.template_filter`,
    /// `@app.template_global`).
    ///
    /// ```
    /// let mut app = carafe::App::new();
    /// app.template_folder("templates").configure_templates(|env| {
    ///     env.add_filter("shout", |text: String| text.to_uppercase());
    ///     env.add_global("site_name", "carafe");
    /// });
    /// ```
    #[track_caller]
    pub fn configure_templates(
        &mut self,
        configure: impl Fn(&mut Environment<'static>) + Send + Sync + 'static,
    ) -> &mut Self {
        self.change_templates(|settings| settings.configure.push(Arc::new(configure)))
    }

    /// Applies `change` to the app's template settings.
    #[track_caller]
    fn change_templates(&mut self, change: impl FnOnce(&mut TemplateSettings)) -> &mut Self {
        let mut settings = self
            .state_map()
            .get::<TemplateSettings>()
            .cloned()
            .unwrap_or_default();
        change(&mut settings);
        self.mark_templated();
        self.state(settings)
    }
}

/// `path` made absolute against the current directory (left as is if that fails).
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests;
