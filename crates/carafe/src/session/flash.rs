//! Flash messages: Flask's `flash` and `get_flashed_messages`.
//!
//! A message flashed during one request is kept in the session under `_flashes` (a list
//! of `[category, message]` pairs, as Flask keeps it) and shown by a later request, which
//! takes it out of the session. Within that later request every call sees the same
//! messages, as in Flask.

use std::fmt;

use serde_json::Value;

use super::Session;

/// The session key of the pending messages (Flask's).
const FLASHES_KEY: &str = "_flashes";

/// A flashed message and its category (`"message"` unless one was given).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FlashMessage {
    /// The category: `"message"`, or what [`flash_with_category`] was given
    /// (`"error"`, `"info"`, ...).
    pub category: String,
    /// The text.
    pub message: String,
}

impl fmt::Display for FlashMessage {
    /// The message's text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Flashes `message` for the next request that shows messages (Flask's
/// `flash(message)`), with the category `"message"`.
///
/// ```
/// use carafe::session::{flash, get_flashed_messages};
///
/// # let session = carafe::Session::detached();
/// flash(&session, "Saved.");
/// let shown = get_flashed_messages(&session, &[]);
/// assert_eq!(shown[0].message, "Saved.");
/// ```
pub fn flash(session: &Session, message: impl Into<String>) {
    flash_with_category(session, message, "message");
}

/// Flashes `message` with a category (Flask's `flash(message, category)`).
///
/// ```
/// use carafe::session::{flash_with_category, get_flashed_messages};
///
/// # let session = carafe::Session::detached();
/// flash_with_category(&session, "Wrong password.", "error");
/// assert_eq!(get_flashed_messages(&session, &["error"]).len(), 1);
/// ```
pub fn flash_with_category(
    session: &Session,
    message: impl Into<String>,
    category: impl Into<String>,
) {
    let pair = Value::Array(vec![
        Value::String(category.into()),
        Value::String(message.into()),
    ]);
    session.with_data_mut(|data| {
        match data.get_mut(FLASHES_KEY) {
            Some(Value::Array(flashes)) => flashes.push(pair),
            _ => {
                data.insert(FLASHES_KEY.to_owned(), Value::Array(vec![pair]));
            }
        }
        true
    });
}

/// The flashed messages, taken out of the session (Flask's `get_flashed_messages`),
/// oldest first; only those whose category is in `category_filter` unless it is empty.
///
/// The first call in a request removes them from the session; later calls in the same
/// request return them again. Flask's `with_categories` switch is not needed: every
/// [`FlashMessage`] has its category (templates still take the switch).
///
/// ```
/// use carafe::session::{flash, flash_with_category, get_flashed_messages};
///
/// # let session = carafe::Session::detached();
/// flash(&session, "Welcome!");
/// flash_with_category(&session, "Disk almost full.", "warning");
/// let all = get_flashed_messages(&session, &[]);
/// assert_eq!(all.len(), 2);
/// assert_eq!(all[1].category, "warning");
/// assert!(!session.contains("_flashes"));
/// ```
pub fn get_flashed_messages(session: &Session, category_filter: &[&str]) -> Vec<FlashMessage> {
    let all = take_flashes(session);
    all.into_iter()
        .filter(|flash| {
            category_filter.is_empty() || category_filter.contains(&flash.category.as_str())
        })
        .collect()
}

/// This request's flashes: taken from the session on the first call, then remembered.
fn take_flashes(session: &Session) -> Vec<FlashMessage> {
    if let Some(flashes) = &session.lock().flashes {
        return flashes.clone();
    }
    let mut stored = None;
    session.with_data_mut(|data| {
        stored = data.remove(FLASHES_KEY);
        stored.is_some()
    });
    let flashes: Vec<FlashMessage> = match stored {
        Some(Value::Array(pairs)) => pairs.iter().filter_map(parse_pair).collect(),
        _ => Vec::new(),
    };
    session.lock().flashes = Some(flashes.clone());
    flashes
}

/// One stored `[category, message]` pair; anything else is skipped.
fn parse_pair(pair: &Value) -> Option<FlashMessage> {
    match pair.as_array()?.as_slice() {
        [Value::String(category), Value::String(message)] => Some(FlashMessage {
            category: category.clone(),
            message: message.clone(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_call_in_a_request_sees_the_same_messages() {
        let session = Session::detached();
        flash(&session, "one");
        assert_eq!(get_flashed_messages(&session, &[]).len(), 1);
        assert_eq!(get_flashed_messages(&session, &[]).len(), 1);
        assert!(!session.contains(FLASHES_KEY));
    }

    #[test]
    fn filter_keeps_the_named_categories_in_order() {
        let session = Session::detached();
        flash_with_category(&session, "a", "error");
        flash(&session, "b");
        flash_with_category(&session, "c", "error");
        let errors: Vec<_> = get_flashed_messages(&session, &["error"])
            .into_iter()
            .map(|flash| flash.message)
            .collect();
        assert_eq!(errors, ["a", "c"]);
    }

    #[test]
    fn malformed_stored_flashes_are_skipped() {
        let session = Session::detached();
        session.insert(FLASHES_KEY, serde_json::json!([["x", "ok"], 3, ["only"]]));
        let shown = get_flashed_messages(&session, &[]);
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].to_string(), "ok");
    }
}
