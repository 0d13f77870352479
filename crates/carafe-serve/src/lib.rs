//! # carafe-serve
//!
//! The serving layer of carafe, from a listening socket to HTTP/1.1 responses: what
//! Python's `socketserver`, `http.server` and Werkzeug's `serving.py` do for Flask.
//!
//! | module | Python counterpart | owns |
//! |---|---|---|
//! | [`tcp`] | `socket.py`, `TCPServer.server_bind` / `server_activate` | socket options, bind, listen, accept |
//! | [`server`] | `socketserver.TCPServer.serve_forever` / `shutdown` | accept loop, connection tasks, graceful shutdown |
//! | [`http1`] | `http.server.BaseHTTPRequestHandler` | HTTP/1.1 parsing, framing, keep-alive, limits |
//! | [`gateway`] | WSGI | `Request` / `Response` / `Body`, tower adapters |
//! | [`run`] | `werkzeug.serving.run_simple` | banner, logging, signals, prefork |
//! | `websocket` (feature `websocket`, on by default) | `simple-websocket` | RFC 6455 handshake and messages on the upgrade hook |
//!
//! ```no_run
//! use carafe_serve::{run_simple, Body, Request, Response};
//!
//! fn main() -> Result<(), carafe_serve::Error> {
//!     run_simple(|req: Request| async move {
//!         Response::new(Body::from(format!("Hello from {}", req.uri().path())))
//!     })
//!     .port(8082)
//!     .serve()
//! }
//! ```

mod config;
mod error;
pub mod gateway;
pub mod http1;
mod registry;
pub mod run;
pub mod server;
pub mod tcp;
pub mod upgrade;
#[cfg(feature = "websocket")]
pub mod websocket;

pub use config::{Config, Limits, Timeouts};
pub use error::{BoxError, Deadline, Error};
pub use gateway::{
    Application, ApplicationService, Body, ConnInfo, Request, Response, TowerApplication,
};
pub use registry::{ConnState, ConnectionInfo, Registry};
pub use run::{run_simple, RunSimple};
pub use server::{ShutdownHandle, TcpServer};
pub use tcp::Listener;
