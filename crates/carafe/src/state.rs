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

use crate::config::Config;
use crate::error::HttpError;
use crate::extract::{FromRequestParts, RequestParts};

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

/// A value from the app's state, stored at startup with [`App::state`](crate::App::state).
///
/// `T` is cloned for each request, so share big or mutable things behind an [`Arc`]
/// (a connection pool, an `Arc<Mutex<_>>`, an `Arc<AtomicU64>`). A handler asking for a
/// type the app never stored is answered `500` and the error is logged.
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
}

/// The answer when a handler asks for state the app does not have: a programming error.
fn missing_state<T>() -> HttpError {
    let name = type_name::<T>();
    tracing::error!(
        "a handler asked for State<{name}>, but the app has none: call app.state(..) at startup"
    );
    HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
}

/// What every request of an app shares: its state and its configuration.
#[derive(Debug)]
pub(crate) struct AppShared {
    /// Values from [`App::state`](crate::App::state) and features' settings.
    pub(crate) state: StateMap,
    /// The app's configuration.
    pub(crate) config: Config,
}

impl AppShared {
    /// The shared part of an app with nothing stored and the default limits.
    pub(crate) fn new() -> Self {
        AppShared {
            state: StateMap::default(),
            config: Config::default(),
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
