//! App state: values shared by every request, and the settings extractors read.
//!
//! Flask apps keep shared objects on the app (`app.config`, `app.extensions`, module
//! globals). In carafe they go in the app's [`StateMap`] at startup with
//! [`App::state`](crate::App::state) and come back in handlers through the [`State`]
//! extractor, or from any extractor through
//! [`RequestParts::state`](crate::RequestParts::state). Features keep their settings there
//! too, one type per feature, so a new feature needs no new field on the app.

use std::any::{type_name, Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use http::StatusCode;

use crate::blueprint::BlueprintScope;
use crate::config::Config;
use crate::error::HttpError;
use crate::extract::{FromRequestParts, RequestParts};
use crate::hooks::Hooks;
use crate::routing::Router;

/// A map from a type to one value of that type: the app's shared state.
///
/// ```
/// let mut state = carafe::StateMap::default();
/// state.insert(42u32);
/// assert_eq!(state.get::<u32>(), Some(&42));
/// assert_eq!(state.get::<u64>(), None);
/// ```
#[derive(Default)]
pub struct StateMap {
    /// The values, with the type's name for `Debug` and error messages.
    values: HashMap<TypeId, (&'static str, Box<dyn Any + Send + Sync>)>,
}

impl StateMap {
    /// Stores `value`, replacing and returning a previous value of the same type.
    ///
    /// ```
    /// let mut state = carafe::StateMap::default();
    /// assert_eq!(state.insert("first"), None);
    /// assert_eq!(state.insert("second"), Some("first"));
    /// ```
    pub fn insert<T: Send + Sync + 'static>(&mut self, value: T) -> Option<T> {
        let previous = self
            .values
            .insert(TypeId::of::<T>(), (type_name::<T>(), Box::new(value)))?;
        previous.1.downcast::<T>().ok().map(|boxed| *boxed)
    }

    /// The value of type `T`, if one was stored.
    ///
    /// ```
    /// let mut state = carafe::StateMap::default();
    /// state.insert(String::from("db://"));
    /// assert_eq!(state.get::<String>().map(String::as_str), Some("db://"));
    /// ```
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        let (_, value) = self.values.get(&TypeId::of::<T>())?;
        value.downcast_ref::<T>()
    }

    /// The value of type `T`, to change.
    ///
    /// ```
    /// let mut state = carafe::StateMap::default();
    /// state.insert(1u8);
    /// if let Some(value) = state.get_mut::<u8>() {
    ///     *value += 1;
    /// }
    /// assert_eq!(state.get::<u8>(), Some(&2));
    /// ```
    pub fn get_mut<T: Send + Sync + 'static>(&mut self) -> Option<&mut T> {
        let (_, value) = self.values.get_mut(&TypeId::of::<T>())?;
        value.downcast_mut::<T>()
    }

    /// Whether a value of the type with this id is stored.
    ///
    /// ```
    /// let mut state = carafe::StateMap::default();
    /// state.insert(1u8);
    /// assert!(state.contains(std::any::TypeId::of::<u8>()));
    /// ```
    pub fn contains(&self, id: TypeId) -> bool {
        self.values.contains_key(&id)
    }
}

impl fmt::Debug for StateMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = self.values.values().map(|(name, _)| *name).collect();
        names.sort_unstable();
        f.debug_set().entries(names).finish()
    }
}

/// What a handler's extractors (and hooks) need from the app, collected when the handler
/// is registered so that [`App::check`](crate::App::check) finds what is missing before
/// the app serves a single request.
///
/// Extractors declare their needs in
/// [`FromRequestParts::needs`](crate::FromRequestParts::needs):
///
/// ```
/// use carafe::{FromRequestParts, HttpError, Needs, RequestParts};
///
/// #[derive(Clone)]
/// struct Pool;
///
/// /// A database connection from the app's `Pool`.
/// struct Db(Pool);
///
/// impl FromRequestParts for Db {
///     async fn from_request_parts(parts: &mut RequestParts) -> Result<Self, HttpError> {
///         let pool = parts.state::<Pool>().cloned();
///         pool.map(Db).ok_or_else(|| HttpError::from(http::StatusCode::INTERNAL_SERVER_ERROR))
///     }
///
///     fn needs(needs: &mut Needs) {
///         needs.state::<Pool>();
///     }
/// }
///
/// async fn users(_db: Db) -> &'static str { "users" }
///
/// let mut app = carafe::App::new();
/// app.route("/users", carafe::get(users));
/// let error = app.check().unwrap_err();
/// assert!(error.to_string().contains("Pool"), "{error}");
/// app.state(Pool);
/// assert!(app.check().is_ok());
/// ```
#[derive(Debug, Default, Clone)]
pub struct Needs {
    /// The state types needed, with their names, without duplicates.
    state: Vec<(TypeId, &'static str)>,
    /// The features that sign with the secret key (`"sessions"`), without duplicates.
    secret_key: Vec<&'static str>,
}

impl Needs {
    /// Declares that the app's state must hold a `T`.
    ///
    /// ```
    /// let mut needs = carafe::Needs::default();
    /// needs.state::<String>();
    /// assert_eq!(needs.state_names().collect::<Vec<_>>(), ["alloc::string::String"]);
    /// ```
    pub fn state<T: Send + Sync + 'static>(&mut self) -> &mut Self {
        let id = TypeId::of::<T>();
        if !self.state.iter().any(|(known, _)| *known == id) {
            self.state.push((id, type_name::<T>()));
        }
        self
    }

    /// Declares that `feature` signs with the app's secret key: [`App::check`] then fails
    /// in production (neither debug nor testing mode) when no
    /// [`secret_key`](crate::Config::secret_key) is set, and warns in debug mode. The
    /// [`Session`](crate::Session) extractor declares `"sessions"`.
    ///
    /// [`App::check`]: crate::App::check
    ///
    /// ```
    /// let mut needs = carafe::Needs::default();
    /// needs.secret_key("signed tokens");
    /// assert_eq!(needs.secret_key_users().collect::<Vec<_>>(), ["signed tokens"]);
    /// ```
    pub fn secret_key(&mut self, feature: &'static str) -> &mut Self {
        if !self.secret_key.contains(&feature) {
            self.secret_key.push(feature);
        }
        self
    }

    /// The features that declared they sign with the secret key.
    ///
    /// ```
    /// assert_eq!(carafe::Needs::default().secret_key_users().count(), 0);
    /// ```
    pub fn secret_key_users(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.secret_key.iter().copied()
    }

    /// The names of the state types needed.
    ///
    /// ```
    /// assert_eq!(carafe::Needs::default().state_names().count(), 0);
    /// ```
    pub fn state_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.state.iter().map(|(_, name)| *name)
    }

    /// The names of the needed state types that `state` lacks.
    pub(crate) fn missing<'a>(
        &'a self,
        state: &'a StateMap,
    ) -> impl Iterator<Item = &'static str> + 'a {
        self.state
            .iter()
            .filter(|(id, _)| !state.contains(*id))
            .map(|(_, name)| *name)
    }
}

/// A value from the app's state, stored at startup with [`App::state`](crate::App::state).
///
/// `T` is cloned for each request, so share big or mutable things behind an [`Arc`]
/// (a connection pool, an `Arc<Mutex<_>>`, an `Arc<AtomicU64>`). A handler asking for a
/// type the app never stored is found at startup: [`App::check`](crate::App::check)
/// (which [`App::run`](crate::App::run) and the test client call) fails naming the
/// handler and the type. Should such a request still arrive, it is answered `500` and
/// the error is logged.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::sync::Arc;
///
/// use carafe::{get, App, State};
///
/// async fn hits(State(counter): State<Arc<AtomicU64>>) -> String {
///     let seen = counter.fetch_add(1, Ordering::Relaxed) + 1;
///     format!("{seen} visits")
/// }
///
/// let mut app = App::new();
/// app.state(Arc::new(AtomicU64::new(0)));
/// app.route("/", get(hits));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct State<T>(pub T);

impl<T> FromRequestParts for State<T>
where
    T: Clone + Send + Sync + 'static,
{
    async fn from_request_parts(parts: &mut RequestParts) -> Result<Self, HttpError> {
        match parts.state::<T>() {
            Some(value) => Ok(State(value.clone())),
            None => Err(missing_state::<T>()),
        }
    }

    fn needs(needs: &mut Needs) {
        needs.state::<T>();
    }
}

/// The answer when a handler asks for state the app does not have: a programming error.
fn missing_state<T>() -> HttpError {
    let name = type_name::<T>();
    tracing::error!(
        "a handler asked for State<{name}>, but the app has none: call app.state(..) at startup"
    );
    HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
}

/// What every request of an app shares: routes, hooks, blueprints, state and
/// configuration. Built at setup, then read-only behind an [`Arc`].
#[derive(Debug)]
pub(crate) struct AppShared {
    /// Values from [`App::state`](crate::App::state) and features' settings.
    pub(crate) state: StateMap,
    /// The app's configuration.
    pub(crate) config: Config,
    /// The rules, their handlers and endpoints.
    pub(crate) router: Router,
    /// The app's own hooks and error handlers.
    pub(crate) hooks: Hooks,
    /// The registered blueprints, in registration order; routes refer to them by index.
    pub(crate) blueprints: Vec<BlueprintScope>,
    /// Whether any hook or error handler is registered, app- or blueprint-wide: without
    /// them (and outside debug mode) requests take the lean dispatch path.
    pub(crate) hooked: bool,
    /// Applications mounted in front of the routes ([`App::mount`](crate::App::mount)).
    pub(crate) mounts: crate::mount::Mounts,
    /// Whether the app has template settings: requests keep a copy of their head for
    /// [`render_template`](crate::templates::render_template).
    pub(crate) templated: bool,
}

impl AppShared {
    /// The shared part of an app with nothing stored and the default limits.
    pub(crate) fn new() -> Self {
        AppShared {
            state: StateMap::default(),
            config: Config::default(),
            router: Router::new(),
            hooks: Hooks::default(),
            blueprints: Vec::new(),
            hooked: false,
            mounts: crate::mount::Mounts::default(),
            templated: false,
        }
    }

    /// A fresh, empty shared part behind an [`Arc`], for requests built outside an app.
    pub(crate) fn detached() -> Arc<AppShared> {
        Arc::new(AppShared::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_replaces_and_returns_previous() {
        let mut state = StateMap::default();
        assert_eq!(state.insert(1u32), None);
        assert_eq!(state.insert(2u32), Some(1));
        assert_eq!(state.get::<u32>(), Some(&2));
    }

    #[test]
    fn debug_lists_type_names() {
        let mut state = StateMap::default();
        state.insert(1u32);
        assert_eq!(format!("{state:?}"), "{\"u32\"}");
    }

    #[tokio::test]
    async fn missing_state_is_a_500() {
        let (head, _) = http::Request::new(()).into_parts();
        let mut parts = RequestParts::new(head);
        let error = State::<u32>::from_request_parts(&mut parts).await.err();
        assert_eq!(
            error.map(|error| error.status()),
            Some(StatusCode::INTERNAL_SERVER_ERROR)
        );
    }
}
