//! Connection state recovery (Socket.IO 4.6's `connectionStateRecovery`): the server's
//! settings, which disconnects may be recovered, and the private session ids.
//!
//! With recovery on, the CONNECT answer carries `{sid, pid}`; every `EVENT` without an ack
//! id sent to a socket or broadcast gets an offset as its last argument and is kept by the
//! namespace's adapter ([`Adapter::persist_packet`](crate::adapter::Adapter::persist_packet));
//! a socket that leaves for a recoverable reason leaves its session (sid, pid, rooms, data)
//! with the adapter ([`Adapter::persist_session`](crate::adapter::Adapter::persist_session)).
//! A CONNECT whose `auth` carries that `pid` and the last `offset` the client saw gets the
//! same sid, rooms and data back, and the packets it missed right after the CONNECT answer
//! ([`Adapter::restore_session`](crate::adapter::Adapter::restore_session)).

use std::time::Duration;

use crate::error::DisconnectReason;

/// The settings of connection state recovery, for
/// [`Builder::connection_state_recovery`](crate::Builder::connection_state_recovery).
///
/// ```
/// use std::time::Duration;
/// use carafe_socketio::{ConnectionStateRecovery, SocketIo};
///
/// let recovery = ConnectionStateRecovery::default();
/// assert_eq!(recovery.max_disconnection_duration, Duration::from_secs(120));
/// assert!(recovery.skip_middlewares);
/// let sio = SocketIo::builder().connection_state_recovery(recovery).build();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionStateRecovery {
    /// How long a disconnected session, and every packet sent, is kept (default 2 min).
    pub max_disconnection_duration: Duration,
    /// Whether a recovered socket skips the connect middleware (default `true`).
    pub skip_middlewares: bool,
}

impl Default for ConnectionStateRecovery {
    fn default() -> Self {
        ConnectionStateRecovery {
            max_disconnection_duration: Duration::from_secs(120),
            skip_middlewares: true,
        }
    }
}

/// Whether a socket that left for `reason` keeps its session: the connection was lost,
/// not ended on purpose by either side (Node's `RECOVERABLE_DISCONNECT_REASONS`).
pub(crate) fn is_recoverable(reason: DisconnectReason) -> bool {
    matches!(
        reason,
        DisconnectReason::TransportError
            | DisconnectReason::TransportClose
            | DisconnectReason::ForcedClose
            | DisconnectReason::PingTimeout
            | DisconnectReason::ServerShuttingDown
    )
}

/// A private session id: 128 random bits, base64url. Whoever holds it can take the
/// session over, so it comes from the OS's random source, unlike the public socket id.
pub(crate) fn generate_pid() -> std::sync::Arc<str> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut random = [0u8; 16];
    if getrandom::fill(&mut random).is_err() {
        // No OS randomness: fall back to the hasher-seeded socket id generator twice over
        // (still unpredictable per process, and logged so the operator knows).
        tracing::warn!("getrandom failed; private session ids use the std hasher's randomness");
        let a = crate::sid::generate();
        let b = crate::sid::generate();
        return format!("{a}{b}").into();
    }
    let bits = u128::from_le_bytes(random);
    (0..22)
        .map(|i| char::from(ALPHABET[((bits >> (6 * i)) & 63) as usize]))
        .collect::<String>()
        .into()
}
