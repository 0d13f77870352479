//! The seam under Socket.IO: what it needs from one Engine.IO session.
//!
//! carafe-engineio's `Socket` will implement [`Connection`]; the in-process
//! [`TestClient`](crate::testing::TestClient) implements it without any transport.

use crate::packet::Encoded;

/// One Engine.IO session, as Socket.IO uses it.
///
/// ```
/// use carafe_socketio::connection::Connection;
/// use carafe_socketio::packet::Encoded;
///
/// struct Discard;
/// impl Connection for Discard {
///     fn send(&self, _packet: &Encoded) -> bool { true }
///     fn close(&self) {}
/// }
/// ```
pub trait Connection: Send + Sync + 'static {
    /// Queues the packet's text message and then its attachments, with no other message
    /// between them; `false` when the session is closed.
    fn send(&self, packet: &Encoded) -> bool;

    /// Closes the session.
    fn close(&self);
}
