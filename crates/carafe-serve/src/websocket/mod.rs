//! WebSockets (RFC 6455) on carafe-serve's upgrade hook: the opening handshake
//! ([`accept`]), then an open [`WebSocket`] that sends and receives [`Message`]s.
//!
//! The frame codec is carafe's own, chosen by measurement against tokio-tungstenite and
//! fastwebsockets (see ARCHITECTURE.md): [`frame`] parses what clients send, sans-IO;
//! `codec.rs` moves bytes between it and the socket. permessage-deflate (RFC 7692) is
//! available with [`WebSocketConfig::permessage_deflate`].
//!
//! ```no_run
//! use carafe_serve::websocket::{self, Message, WebSocketConfig};
//! use carafe_serve::{Body, Request, Response};
//!
//! async fn app(mut req: Request) -> Response {
//!     if !websocket::is_upgrade_request(&req) {
//!         return Response::new(Body::from("not a websocket"));
//!     }
//!     match websocket::accept(&mut req, &WebSocketConfig::default()) {
//!         Ok((response, pending)) => {
//!             tokio::spawn(async move {
//!                 let Ok(mut socket) = pending.wait().await else { return };
//!                 while let Some(Ok(message)) = socket.recv().await {
//!                     if let Message::Text(_) | Message::Binary(_) = message {
//!                         if socket.send(message).await.is_err() {
//!                             break;
//!                         }
//!                     }
//!                 }
//!             });
//!             response
//!         }
//!         Err(error) => error.into_response(),
//!     }
//! }
//! ```

mod codec;
mod config;
mod deflate;
mod error;
pub mod frame;
mod handshake;
mod message;
mod socket;

pub use config::WebSocketConfig;
pub use error::WebSocketError;
pub use handshake::HandshakeError;
pub use message::{close_code, CloseFrame, Message, Utf8Bytes};
pub use socket::{PendingWebSocket, WebSocket, WebSocketReader, WebSocketWriter};

use crate::gateway::{Request, Response};
use crate::upgrade;

/// Whether the request asks for a WebSocket (`Upgrade: websocket` and
/// `Connection: upgrade`). The rest of the handshake is checked by [`accept`], which
/// answers a bad one with a status that says what is wrong.
///
/// ```
/// let req = http::Request::get("/")
///     .header("upgrade", "websocket")
///     .header("connection", "keep-alive, Upgrade")
///     .body(carafe_serve::Body::empty())
///     .unwrap();
/// assert!(carafe_serve::websocket::is_upgrade_request(&req));
/// ```
pub fn is_upgrade_request(req: &Request) -> bool {
    handshake::asks_for_websocket(req.headers())
}

/// Checks the opening handshake (RFC 6455 §4.2.1: `GET`, HTTP/1.1, `Upgrade: websocket`,
/// `Connection: upgrade`, `Sec-WebSocket-Version: 13` and a `Sec-WebSocket-Key` of 16
/// bytes in base64) and returns the `101` response to answer with, plus the socket that
/// opens once the server has sent it.
///
/// With [`WebSocketConfig::permessage_deflate`] on, the first permessage-deflate offer in
/// `Sec-WebSocket-Extensions` that the server can honour is accepted in the answer (see
/// ARCHITECTURE.md for the parameters); without an acceptable offer the connection runs
/// uncompressed.
///
/// On error nothing is taken from the request; answer with
/// [`HandshakeError::into_response`].
///
/// ```
/// use carafe_serve::websocket::{accept, HandshakeError, WebSocketConfig};
///
/// let mut req = http::Request::post("/")
///     .header("upgrade", "websocket")
///     .header("connection", "upgrade")
///     .body(carafe_serve::Body::empty())
///     .unwrap();
/// let refused = accept(&mut req, &WebSocketConfig::default()).unwrap_err();
/// assert_eq!(refused.into_response().status(), 400);
/// ```
pub fn accept(
    req: &mut Request,
    config: &WebSocketConfig,
) -> Result<(Response, PendingWebSocket), HandshakeError> {
    let accept_key = handshake::check_request(req.method(), req.version(), req.headers())?;
    let on_upgrade = upgrade::on_upgrade(req).ok_or(HandshakeError::NotUpgradable)?;
    let mut response = handshake::switching_protocols(accept_key);
    let deflate = match config.permessage_deflate {
        true => deflate::negotiate(req.headers()),
        false => None,
    };
    let deflate = deflate.map(|(agreed, answer)| {
        response
            .headers_mut()
            .insert(deflate::SEC_WEBSOCKET_EXTENSIONS, answer);
        agreed
    });
    Ok((
        response,
        PendingWebSocket::new(on_upgrade, config.clone(), deflate),
    ))
}
