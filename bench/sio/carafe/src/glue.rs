//! Serving a `SocketIo` on carafe-engineio over WebSocket.
//!
//! PROVISIONAL: the bench's own stand-in until carafe-socketio's own glue (being written
//! by another branch) lands; then `serve` becomes a call to it. Each Engine.IO session
//! gets a `carafe_socketio::Client` (kept as the session's data); text and binary
//! messages are fed to it; its packets go out as one Engine.IO batch each.

use std::sync::Arc;

use bytes::Bytes;
use carafe_engineio::packet::MessagePacket;
use carafe_engineio::{Config, DisconnectReason as EioReason, EngineIo, Handler, Str};
use carafe_socketio::connection::Connection;
use carafe_socketio::packet::Encoded;
use carafe_socketio::{Client, DisconnectReason, SocketIo};

struct Session(carafe_engineio::Socket);

impl Connection for Session {
    fn send(&self, packet: &Encoded) -> bool {
        let text = std::str::from_utf8(packet.text()).unwrap_or_default();
        if packet.attachments().is_empty() {
            return self.0.send(text).is_ok();
        }
        let mut all = vec![MessagePacket::text(text)];
        all.extend(
            packet
                .attachments()
                .iter()
                .cloned()
                .map(MessagePacket::binary),
        );
        self.0.send_all(&all).is_ok()
    }

    fn close(&self) {
        self.0.close();
    }
}

struct Glue(SocketIo);

impl Handler for Glue {
    fn on_connect(&self, socket: &carafe_engineio::Socket) {
        let client = self.0.accept(Arc::new(Session(socket.clone())));
        let _ = socket.set_data(client);
    }

    fn on_message(&self, socket: &carafe_engineio::Socket, text: Str) {
        if let Some(client) = socket.data::<Client>() {
            client.on_text(Bytes::from(text));
        }
    }

    fn on_binary(&self, socket: &carafe_engineio::Socket, data: Bytes) {
        if let Some(client) = socket.data::<Client>() {
            client.on_binary(data);
        }
    }

    fn on_disconnect(&self, socket: &carafe_engineio::Socket, reason: EioReason) {
        if let Some(client) = socket.data::<Client>() {
            client.on_close(match reason {
                EioReason::PingTimeout => DisconnectReason::PingTimeout,
                EioReason::TransportClose => DisconnectReason::TransportClose,
                EioReason::ServerClose => DisconnectReason::ServerShuttingDown,
                EioReason::ParseError => DisconnectReason::ParseError,
                _ => DisconnectReason::TransportError,
            });
        }
    }
}

pub fn serve(sio: SocketIo, host: &str, port: u16) -> Result<(), carafe_serve::Error> {
    let mut config = Config::default();
    config.path = "/socket.io/".into();
    config.polling = false;
    let engine = EngineIo::new(config, Glue(sio));
    carafe_serve::run_simple(engine)
        .host(host)
        .port(port)
        .access_log(false)
        .serve()
}
