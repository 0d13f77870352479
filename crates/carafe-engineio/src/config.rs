//! The server's knobs, with the reference server's defaults.

use std::time::Duration;

use crate::AllowedOrigins;

/// Everything an [`EngineIo`](crate::EngineIo) server can be told.
///
/// Start from [`Config::default`] and change fields:
///
/// ```
/// use std::time::Duration;
/// use carafe_engineio::{AllowedOrigins, Config};
///
/// let mut config = Config::default();
/// config.path = "/socket.io/".into();
/// config.ping_interval = Duration::from_secs(10);
/// config.cors_allowed_origins = AllowedOrigins::list(["http://localhost:8082"]);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The request path the server answers (`/engine.io/`; Socket.IO uses `/socket.io/`).
    /// The same path without its trailing slash is answered too.
    pub path: String,
    /// How often the server pings each client (`pingInterval`, 25 s).
    pub ping_interval: Duration,
    /// How long the server waits for the pong before it closes the session
    /// (`pingTimeout`, 20 s).
    pub ping_timeout: Duration,
    /// How long a client has to finish an upgrade to WebSocket after opening it (10 s).
    pub upgrade_timeout: Duration,
    /// The most bytes of one long-polling POST body or one WebSocket message
    /// (`maxPayload`, 1,000,000; larger POSTs get 413).
    pub max_payload: usize,
    /// The most sessions open at once; further handshakes get 503.
    pub max_sessions: usize,
    /// The most bytes queued for one client and not yet written; a client that reads
    /// slower than the application sends is disconnected
    /// ([`DisconnectReason::BufferFull`](crate::DisconnectReason::BufferFull)) rather than
    /// left to grow memory.
    pub max_buffered_bytes: usize,
    /// Offer HTTP long-polling.
    pub polling: bool,
    /// Offer WebSocket (directly, and as an upgrade from long-polling).
    pub websocket: bool,
    /// Offer `permessage-deflate` to WebSocket clients (off by default; see
    /// `carafe_serve::websocket::WebSocketConfig::permessage_deflate` for what the codec
    /// supports).
    pub permessage_deflate: bool,
    /// Which origins may open sessions (`cors_allowed_origins`); the default is the
    /// server's own origin only.
    pub cors_allowed_origins: AllowedOrigins,
    /// Allow credentials (cookies) on cross-origin requests
    /// (`Access-Control-Allow-Credentials: true`).
    pub cors_credentials: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path: "/engine.io/".into(),
            ping_interval: Duration::from_secs(25),
            ping_timeout: Duration::from_secs(20),
            upgrade_timeout: Duration::from_secs(10),
            max_payload: 1_000_000,
            max_sessions: 100_000,
            max_buffered_bytes: 4 * 1024 * 1024,
            polling: true,
            websocket: true,
            permessage_deflate: false,
            cors_allowed_origins: AllowedOrigins::SameOrigin,
            cors_credentials: true,
        }
    }
}
