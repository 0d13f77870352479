//! The seam between Engine.IO and what runs on it (Socket.IO, or an application): one
//! handler trait, called as sessions open, receive messages and close.

use bytes::Bytes;

use crate::{DisconnectReason, Socket, Str};

/// What the application does when sessions open, send and close.
///
/// The methods are plain functions, called from the task that read the packet (a
/// long-polling POST, or the session's WebSocket task), in the order the client sent the
/// packets: `on_connect` first, then messages, then `on_disconnect` exactly once. They
/// must not block; spawn a task for slow work. Sending from inside a method is fine: it
/// only queues the packet.
///
/// ```
/// use carafe_engineio::{DisconnectReason, Handler, Socket, Str};
///
/// struct Echo;
///
/// impl Handler for Echo {
///     fn on_message(&self, socket: &Socket, text: Str) {
///         let _ = socket.send(&text);
///     }
///     fn on_binary(&self, socket: &Socket, data: bytes::Bytes) {
///         let _ = socket.send_binary(data);
///     }
///     fn on_disconnect(&self, socket: &Socket, reason: DisconnectReason) {
///         eprintln!("{} left: {reason}", socket.sid());
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an Engine.IO handler",
    label = "this does not implement `carafe_engineio::Handler`",
    note = "implement `on_message` (and optionally `on_connect`, `on_binary`, `on_disconnect`) for it"
)]
pub trait Handler: Send + Sync + 'static {
    /// A session opened (its `open` packet is on its way to the client).
    fn on_connect(&self, socket: &Socket) {
        let _ = socket;
    }

    /// A text message arrived.
    fn on_message(&self, socket: &Socket, text: Str);

    /// A binary message arrived.
    fn on_binary(&self, socket: &Socket, data: Bytes) {
        let _ = (socket, data);
    }

    /// The session ended; nothing more will be delivered or sent.
    fn on_disconnect(&self, socket: &Socket, reason: DisconnectReason) {
        let _ = (socket, reason);
    }
}
