//! # carafe-engineio
//!
//! An Engine.IO protocol 4 server (the protocol of `engine.io-client` 6.x and
//! `socket.io-client` 4.x) for carafe: what python-engineio is to Flask-SocketIO. It
//! runs on `carafe-serve`'s gateway as an [`Application`](carafe_serve::Application),
//! alone or in front of another application, and delivers sessions to one [`Handler`].
//!
//! | module | owns |
//! |---|---|
//! | [`packet`], [`payload`] | sans-IO codecs: packets, long-polling payloads |
//! | `handshake` | query parameters, the `open` packet |
//! | `engine` | [`EngineIo`]: routing, request checks, the session table, [`Mounted`] |
//! | `socket` | [`Socket`]: a session's state, queue, heartbeat and close |
//! | `transport::polling`, `transport::websocket` | the two transports and the upgrade |
//! | `cors` | [`AllowedOrigins`], CORS headers and preflight |
//! | `error` | [`Error`] and its answers, [`DisconnectReason`] |
//!
//! ```no_run
//! use carafe_engineio::{Config, EngineIo, Handler, Socket, Str};
//!
//! struct Echo;
//!
//! impl Handler for Echo {
//!     fn on_message(&self, socket: &Socket, text: Str) {
//!         let _ = socket.send(&text);
//!     }
//! }
//!
//! fn main() -> Result<(), carafe_serve::Error> {
//!     let engine = EngineIo::new(Config::default(), Echo);
//!     carafe_serve::run_simple(engine).port(3000).serve()
//! }
//! ```

mod config;
mod cors;
mod engine;
mod error;
mod handler;
mod handshake;
pub mod packet;
pub mod payload;
mod sid;
mod socket;
mod transport;

/// Text known to be UTF-8, shared without copying: WebSocket text frames reach the
/// handler as they were read.
pub use carafe_serve::websocket::Utf8Bytes as Str;
pub use config::Config;
pub use cors::AllowedOrigins;
pub use engine::{EngineIo, Mounted};
pub use error::{BadRequest, DisconnectReason, Error, RequestKind};
pub use handler::Handler;
pub use sid::Sid;
pub use socket::{SendError, Socket, Transport, WeakSocket};
