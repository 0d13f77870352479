//! Blueprints: groups of routes with a URL prefix and their own hooks, error handlers,
//! template folder and static folder, registered on the app as one unit (Flask's
//! `Blueprint`).
//!
//! A [`Blueprint`] is built like an app and handed to
//! [`App::register_blueprint`](crate::App::register_blueprint). Its routes' endpoints are
//! prefixed with its name (`admin.index`); blueprints registered on a blueprint nest
//! (`admin.users.list`, prefixes joined). Its hooks run only for its routes, its error
//! handlers are tried before the app's. Once registered, a blueprint's settings are
//! readable as a [`BlueprintInfo`] ([`App::blueprints`](crate::App::blueprints),
//! [`RequestParts::blueprint`](crate::RequestParts::blueprint)): the template and static
//! features read its folders from there.

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use carafe_serve::Response;
use http::StatusCode;

use crate::error::Error;
use crate::hooks::{BeforeRequest, Hooks};
use crate::response::IntoResponse;
use crate::routing::MethodRouter;

/// A group of routes, hooks and error handlers under a name and a URL prefix.
///
/// ```
/// use carafe::{get, App, Blueprint};
///
/// async fn index() -> &'static str { "the admin's home" }
/// async fn users() -> &'static str { "every user" }
///
/// let mut admin = Blueprint::new("admin").url_prefix("/admin");
/// admin.route("/", get(index)).route("/users", get(users));
/// admin.before_request(|| async { /* check the user */ });
///
/// let mut app = App::new();
/// app.register_blueprint(admin);
/// assert_eq!(app.url_for("admin.users", ()).unwrap(), "/admin/users");
/// assert_eq!(app.url_for("admin.index", ()).unwrap(), "/admin/");
/// ```
pub struct Blueprint {
    /// What the app shows of the blueprint once registered (prefix not yet joined).
    info: BlueprintInfo,
    /// The routes, as written (without the prefix).
    routes: Vec<(String, MethodRouter)>,
    /// The blueprint's hooks and error handlers.
    hooks: Hooks,
    /// Blueprints registered on this one.
    children: Vec<Blueprint>,
}

impl fmt::Debug for Blueprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rules: Vec<&str> = self.routes.iter().map(|(rule, _)| rule.as_str()).collect();
        f.debug_struct("Blueprint")
            .field("info", &self.info)
            .field("routes", &rules)
            .field("hooks", &self.hooks)
            .field("children", &self.children)
            .finish()
    }
}

/// A registered blueprint's name, prefix and folders.
///
/// ```
/// let bp = carafe::Blueprint::new("shop").url_prefix("/shop").template_folder("shop/templates");
/// assert_eq!(bp.info().name(), "shop");
/// assert_eq!(bp.info().url_prefix(), "/shop");
/// assert_eq!(bp.info().template_folder(), Some(std::path::Path::new("shop/templates")));
/// ```
#[derive(Debug, Clone, Default)]
pub struct BlueprintInfo {
    name: String,
    url_prefix: String,
    template_folder: Option<PathBuf>,
    static_folder: Option<PathBuf>,
    static_url_path: Option<String>,
}

impl BlueprintInfo {
    /// The full name: `admin`, or `admin.users` for a nested blueprint.
    ///
    /// ```
    /// assert_eq!(carafe::Blueprint::new("admin").info().name(), "admin");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL prefix of its routes (joined with its parents' once registered); empty
    /// for none.
    ///
    /// ```
    /// assert_eq!(carafe::Blueprint::new("admin").info().url_prefix(), "");
    /// ```
    pub fn url_prefix(&self) -> &str {
        &self.url_prefix
    }

    /// The folder of its templates, searched before the app's (Flask: after).
    ///
    /// ```
    /// assert!(carafe::Blueprint::new("admin").info().template_folder().is_none());
    /// ```
    pub fn template_folder(&self) -> Option<&Path> {
        self.template_folder.as_deref()
    }

    /// The folder of its static files.
    ///
    /// ```
    /// let bp = carafe::Blueprint::new("admin").static_folder("admin/static");
    /// assert_eq!(bp.info().static_folder(), Some(std::path::Path::new("admin/static")));
    /// ```
    pub fn static_folder(&self) -> Option<&Path> {
        self.static_folder.as_deref()
    }

    /// The URL path its static files are served under: the one set with
    /// [`Blueprint::static_url_path`], else `{url_prefix}/static` when it has a static
    /// folder.
    ///
    /// ```
    /// let bp = carafe::Blueprint::new("admin").url_prefix("/admin").static_folder("s");
    /// assert_eq!(bp.info().static_url_path().as_deref(), Some("/admin/static"));
    /// ```
    pub fn static_url_path(&self) -> Option<String> {
        if let Some(path) = &self.static_url_path {
            return Some(path.clone());
        }
        self.static_folder.as_ref()?;
        Some(format!("{}/static", self.url_prefix.trim_end_matches('/')))
    }
}

impl Blueprint {
    /// A blueprint called `name`, which prefixes its endpoints (`name.index`).
    ///
    /// ```
    /// let bp = carafe::Blueprint::new("admin");
    /// # let _ = bp;
    /// ```
    ///
    /// # Panics
    ///
    /// If `name` is empty or contains a dot, which separates nested blueprints' names.
    #[track_caller]
    pub fn new(name: impl Into<String>) -> Self {
        let name = name.into();
        if name.is_empty() || name.contains('.') {
            panic!("blueprint name `{name}` must be non-empty and contain no dot");
        }
        Blueprint {
            info: BlueprintInfo {
                name,
                ..BlueprintInfo::default()
            },
            routes: Vec::new(),
            hooks: Hooks::default(),
            children: Vec::new(),
        }
    }

    /// Sets the URL prefix of every route (`/admin`).
    ///
    /// ```
    /// let bp = carafe::Blueprint::new("admin").url_prefix("/admin");
    /// assert_eq!(bp.info().url_prefix(), "/admin");
    /// ```
    pub fn url_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.info.url_prefix = prefix.into();
        self
    }

    /// Sets the blueprint's template folder.
    ///
    /// ```
    /// let bp = carafe::Blueprint::new("admin").template_folder("admin/templates");
    /// assert!(bp.info().template_folder().is_some());
    /// ```
    pub fn template_folder(mut self, folder: impl Into<PathBuf>) -> Self {
        self.info.template_folder = Some(folder.into());
        self
    }

    /// Sets the blueprint's static folder.
    ///
    /// ```
    /// let bp = carafe::Blueprint::new("admin").static_folder("admin/static");
    /// assert!(bp.info().static_folder().is_some());
    /// ```
    pub fn static_folder(mut self, folder: impl Into<PathBuf>) -> Self {
        self.info.static_folder = Some(folder.into());
        self
    }

    /// Sets the URL path of the static folder (default `{url_prefix}/static`).
    ///
    /// ```
    /// let bp = carafe::Blueprint::new("admin").static_folder("s").static_url_path("/assets");
    /// assert_eq!(bp.info().static_url_path().as_deref(), Some("/assets"));
    /// ```
    pub fn static_url_path(mut self, path: impl Into<String>) -> Self {
        self.info.static_url_path = Some(path.into());
        self
    }

    /// The blueprint's name, prefix and folders.
    ///
    /// ```
    /// assert_eq!(carafe::Blueprint::new("admin").info().name(), "admin");
    /// ```
    pub fn info(&self) -> &BlueprintInfo {
        &self.info
    }

    /// Adds a route, as [`App::route`](crate::App::route) does; the rule is joined to the
    /// prefix when the blueprint is registered (`/admin` and `/` make `/admin/`).
    ///
    /// ```
    /// let mut bp = carafe::Blueprint::new("admin");
    /// bp.route("/", carafe::get(|| async { "admin" }));
    /// ```
    pub fn route(&mut self, rule: &str, methods: MethodRouter) -> &mut Self {
        self.routes.push((rule.to_owned(), methods));
        self
    }

    /// Adds a hook run before each request to this blueprint's routes; see
    /// [`App::before_request`](crate::App::before_request).
    ///
    /// ```
    /// let mut bp = carafe::Blueprint::new("admin");
    /// bp.before_request(|| async { None::<&str> });
    /// ```
    pub fn before_request<H: BeforeRequest<Args>, Args: 'static>(&mut self, hook: H) -> &mut Self {
        self.hooks.add_before(hook);
        self
    }

    /// Adds a hook run on each response of this blueprint's routes; see
    /// [`App::after_request`](crate::App::after_request).
    ///
    /// ```
    /// let mut bp = carafe::Blueprint::new("admin");
    /// bp.after_request(|response: carafe::Response| async move { response });
    /// ```
    pub fn after_request<F, Fut, R>(&mut self, hook: F) -> &mut Self
    where
        F: Fn(Response) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoResponse,
    {
        self.hooks.add_after(hook);
        self
    }

    /// Adds a hook run after each request to this blueprint's routes; see
    /// [`App::teardown_request`](crate::App::teardown_request).
    ///
    /// ```
    /// let mut bp = carafe::Blueprint::new("admin");
    /// bp.teardown_request(|_error| async {});
    /// ```
    pub fn teardown_request<F, Fut>(&mut self, hook: F) -> &mut Self
    where
        F: Fn(Option<Arc<Error>>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.hooks.add_teardown(hook);
        self
    }

    /// Handles errors with `status` from this blueprint's routes, before the app's
    /// handlers; see [`App::register_error_handler`](crate::App::register_error_handler).
    ///
    /// ```
    /// let mut bp = carafe::Blueprint::new("admin");
    /// bp.register_error_handler(http::StatusCode::FORBIDDEN, |_error| async { "admins only" });
    /// ```
    pub fn register_error_handler<F, Fut, R>(&mut self, status: StatusCode, handler: F) -> &mut Self
    where
        F: Fn(Error) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoResponse,
    {
        self.hooks.add_status_handler(status, handler);
        self
    }

    /// Handles errors of type `T` from this blueprint's routes; see
    /// [`App::register_error_type_handler`](crate::App::register_error_type_handler).
    ///
    /// ```
    /// let mut bp = carafe::Blueprint::new("admin");
    /// bp.register_error_type_handler(|_error: std::fmt::Error| async { "formatting failed" });
    /// ```
    pub fn register_error_type_handler<T, F, Fut, R>(&mut self, handler: F) -> &mut Self
    where
        T: std::error::Error + Send + Sync + 'static,
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoResponse,
    {
        self.hooks.add_type_handler(handler);
        self
    }

    /// Nests `child` in this blueprint: its name becomes `this.child`, its prefix is
    /// joined to this one's.
    ///
    /// ```
    /// use carafe::{get, App, Blueprint};
    ///
    /// let mut users = Blueprint::new("users").url_prefix("/users");
    /// users.route("/", get(|| async { "users" }).name("list"));
    /// let mut admin = Blueprint::new("admin").url_prefix("/admin");
    /// admin.register_blueprint(users);
    /// let mut app = App::new();
    /// app.register_blueprint(admin);
    /// assert_eq!(app.url_for("admin.users.list", ()).unwrap(), "/admin/users/");
    /// ```
    pub fn register_blueprint(&mut self, child: Blueprint) -> &mut Self {
        self.children.push(child);
        self
    }

    /// Takes the blueprint apart for registration.
    pub(crate) fn into_parts(self) -> BlueprintParts {
        BlueprintParts {
            info: self.info,
            routes: self.routes,
            hooks: self.hooks,
            children: self.children,
        }
    }
}

/// A blueprint being registered.
pub(crate) struct BlueprintParts {
    pub(crate) info: BlueprintInfo,
    pub(crate) routes: Vec<(String, MethodRouter)>,
    pub(crate) hooks: Hooks,
    pub(crate) children: Vec<Blueprint>,
}

impl BlueprintInfo {
    /// The info of a blueprint registered under `parent` (its full name and prefix).
    pub(crate) fn nested_in(mut self, parent: Option<&BlueprintInfo>) -> Self {
        if let Some(parent) = parent {
            self.name = format!("{}.{}", parent.name, self.name);
            self.url_prefix = join_rule(&parent.url_prefix, &self.url_prefix);
        }
        self
    }
}

/// A registered blueprint, as the app keeps it.
#[derive(Debug)]
pub(crate) struct BlueprintScope {
    /// Its name, prefix and folders.
    pub(crate) info: BlueprintInfo,
    /// The blueprint it is nested in.
    pub(crate) parent: Option<usize>,
    /// Its hooks and error handlers.
    pub(crate) hooks: Hooks,
}

/// Joins a prefix and a rule as Flask does: `/admin` + `/users` = `/admin/users`,
/// `/admin` + `/` = `/admin/`, `/admin` + `` = `/admin`.
pub(crate) fn join_rule(prefix: &str, rule: &str) -> String {
    if prefix.is_empty() {
        return rule.to_owned();
    }
    if rule.is_empty() {
        return prefix.to_owned();
    }
    format!(
        "{}/{}",
        prefix.trim_end_matches('/'),
        rule.trim_start_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::join_rule;

    #[test]
    fn rules_join_prefixes_as_flask_does() {
        assert_eq!(join_rule("/admin", "/users"), "/admin/users");
        assert_eq!(join_rule("/admin/", "/"), "/admin/");
        assert_eq!(join_rule("/admin", ""), "/admin");
        assert_eq!(join_rule("", "/x"), "/x");
    }
}
