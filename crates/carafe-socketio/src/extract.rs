//! Extractors: the typed arguments of event handlers.
//!
//! An event handler registered with [`Namespace::on`](crate::Namespace::on) takes any
//! number of arguments whose types implement [`FromEvent`]:
//!
//! | argument | what it is |
//! |---|---|
//! | [`Socket`] | the socket the event came from |
//! | [`Data<T>`] | the event's arguments as `T` (one argument as itself, several as a tuple) |
//! | [`AckSender`] | the ack to answer with; sending does nothing when the client asked for none |
//! | `Option<AckSender>` | the ack, only if the client asked for one |
//! | [`Event`] | the whole event: name, raw arguments, ack |
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use carafe_socketio::{AckSender, Socket, SocketIo};
//! use carafe_socketio::extract::Data;
//!
//! #[derive(serde::Deserialize)]
//! struct Bid { item: String, amount: u32 }
//!
//! let sio = SocketIo::builder().build();
//! sio.namespace("/").on("bid", |_socket: Socket, Data(bid): Data<Bid>, ack: AckSender| async move {
//!     ack.send(&format!("{} for {}", bid.amount, bid.item))
//! });
//! let mut client = sio.test_client();
//! client.connect("/", None).await.unwrap();
//! let answer = client.emit_with_ack("/", "bid", &serde_json::json!({"item": "car", "amount": 5})).await.unwrap();
//! assert_eq!(answer.deserialize::<String>().unwrap(), "5 for car");
//! let refused = client.emit_with_ack("/", "bid", &serde_json::json!({"item": "car", "amount": "five"})).await.unwrap();
//! assert_eq!(refused.deserialize::<serde_json::Value>().unwrap()["field"], "amount");
//! # }
//! ```

use std::fmt;

use serde::de::DeserializeOwned;

use crate::packet::{encode_ack, Args};
use crate::socket::{AckSender, Event, Socket};

/// The event being taken apart by a handler's extractors.
#[derive(Debug)]
pub struct EventParts {
    socket: Socket,
    name: String,
    args: Args,
    ack: Option<AckSender>,
    /// The client's ack id, kept even after an extractor took the ack, so a failure can
    /// still be answered.
    ack_id: Option<u64>,
}

impl EventParts {
    pub(crate) fn new(socket: Socket, event: Event) -> EventParts {
        let (name, args, ack) = event.into_parts();
        let ack_id = ack.as_ref().and_then(AckSender::id);
        EventParts {
            socket,
            name,
            args,
            ack,
            ack_id,
        }
    }

    /// The socket the event came from.
    pub fn socket(&self) -> &Socket {
        &self.socket
    }

    /// The event name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The event's raw arguments.
    pub fn args(&self) -> &Args {
        &self.args
    }

    /// Takes the ack, if the client asked for one and no extractor took it yet.
    pub fn take_ack(&mut self) -> Option<AckSender> {
        self.ack.take()
    }

    pub(crate) fn into_name(self) -> String {
        self.name
    }

    /// Extraction failed: logs it and answers the client's ack (if it asked for one) with
    /// `{"error", "field"}`. An ack already taken by an earlier extractor is dropped
    /// unsent, so the client still gets exactly one answer.
    pub(crate) fn reject(self, err: &ExtractError) {
        tracing::warn!(
            "socket.io event {:?} on {} refused: {err}",
            self.name,
            self.socket.namespace()
        );
        let Some(id) = self.ack_id else { return };
        let answer = serde_json::json!({ "error": err.to_string(), "field": err.field });
        if let Ok(packet) = encode_ack(self.socket.namespace(), id, &answer) {
            let _ = self.socket.0.conn.send(&packet);
        }
    }
}

/// Why an argument could not be extracted from an event.
///
/// ```
/// let err = carafe_socketio::extract::ExtractError::new("amount", "invalid type: string \"x\", expected u32");
/// assert_eq!(err.field(), "amount");
/// assert_eq!(err.to_string(), "invalid payload at `amount`: invalid type: string \"x\", expected u32");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractError {
    field: String,
    message: String,
}

impl ExtractError {
    /// An error about `field` (a path such as `amount` or `[1].item`; `.` for the whole).
    ///
    /// ```
    /// let _ = carafe_socketio::extract::ExtractError::new(".", "expected a string");
    /// ```
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        ExtractError {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The failing field's path.
    ///
    /// ```
    /// assert_eq!(carafe_socketio::extract::ExtractError::new("a.b", "x").field(), "a.b");
    /// ```
    pub fn field(&self) -> &str {
        &self.field
    }

    fn from_payload(path: String, err: &serde_json::Error) -> Self {
        let message = err.to_string();
        // serde reports a missing field at the struct that lacks it; name the field itself.
        let field = match missing_field(&message) {
            Some(missing) if path == "." => missing.to_owned(),
            Some(missing) => format!("{path}.{missing}"),
            None => path,
        };
        ExtractError { field, message }
    }
}

/// `x` in serde's "missing field `x`".
fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next()
}

impl fmt::Display for ExtractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid payload at `{}`: {}", self.field, self.message)
    }
}

impl std::error::Error for ExtractError {}

/// A type an event handler can take as an argument.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an argument of a Socket.IO event handler",
    label = "not an extractor",
    note = "use `Socket`, `Event`, `Data<T>` (with `T: serde::de::DeserializeOwned`), `AckSender` or `Option<AckSender>`, or implement `FromEvent`"
)]
pub trait FromEvent: Sized + Send + 'static {
    /// Takes this argument from the event.
    fn from_event(parts: &mut EventParts) -> Result<Self, ExtractError>;
}

impl FromEvent for Socket {
    fn from_event(parts: &mut EventParts) -> Result<Self, ExtractError> {
        Ok(parts.socket.clone())
    }
}

/// The whole event; it takes the ack with it (an `AckSender` after it gets a no-op one).
impl FromEvent for Event {
    fn from_event(parts: &mut EventParts) -> Result<Self, ExtractError> {
        Ok(Event::from_parts(
            parts.name.clone(),
            parts.args.clone(),
            parts.ack.take(),
        ))
    }
}

/// The ack; when the client asked for none (or an earlier argument took it), a sender
/// whose `send` does nothing.
impl FromEvent for AckSender {
    fn from_event(parts: &mut EventParts) -> Result<Self, ExtractError> {
        Ok(parts
            .ack
            .take()
            .unwrap_or_else(|| AckSender::none(parts.socket.clone())))
    }
}

/// The ack, if the client asked for one.
impl FromEvent for Option<AckSender> {
    fn from_event(parts: &mut EventParts) -> Result<Self, ExtractError> {
        Ok(parts.ack.take())
    }
}

/// The event's arguments deserialized as `T`: one argument as itself, several as a tuple
/// (or any sequence type), none as `()` or `Option`. Binary attachments become byte
/// strings.
///
/// ```
/// use carafe_socketio::SocketIo;
/// use carafe_socketio::extract::Data;
///
/// let sio = SocketIo::builder().build();
/// sio.namespace("/").on("move", |Data((x, y)): Data<(i32, i32)>| async move {
///     let _ = x + y;
/// });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Data<T>(pub T);

impl<T: DeserializeOwned + Send + 'static> FromEvent for Data<T> {
    fn from_event(parts: &mut EventParts) -> Result<Self, ExtractError> {
        parts
            .args
            .deserialize_with_path()
            .map(Data)
            .map_err(|(path, err)| ExtractError::from_payload(path, &err))
    }
}
