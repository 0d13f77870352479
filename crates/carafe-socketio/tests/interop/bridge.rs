//! A stand-in for the Engine.IO glue while it is being written (helper sioglue): each
//! carafe-engineio session feeds a carafe-socketio `Client`, served on 127.0.0.1:0 at
//! `/socket.io/`.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use carafe_engineio::packet::MessagePacket;
use carafe_engineio::{DisconnectReason as EioReason, EngineIo, Handler, Str};
use carafe_serve::TcpServer;
use carafe_socketio::connection::Connection;
use carafe_socketio::packet::Encoded;
use carafe_socketio::{Client, DisconnectReason, SocketIo};

struct Conn(carafe_engineio::Socket);

impl Connection for Conn {
    fn send(&self, packet: &Encoded) -> bool {
        let Ok(text) = std::str::from_utf8(packet.text()) else {
            return false;
        };
        let mut messages = vec![MessagePacket::text(text)];
        messages.extend(
            packet
                .attachments()
                .iter()
                .cloned()
                .map(MessagePacket::binary),
        );
        self.0.send_all(&messages).is_ok()
    }

    fn close(&self) {
        self.0.close();
    }
}

struct Bridge(SocketIo);

impl Handler for Bridge {
    fn on_connect(&self, socket: &carafe_engineio::Socket) {
        let client = self.0.accept(Arc::new(Conn(socket.clone())));
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
        let reason = match reason {
            EioReason::TransportClose => DisconnectReason::TransportClose,
            EioReason::PingTimeout => DisconnectReason::PingTimeout,
            EioReason::ServerClose => DisconnectReason::ServerShuttingDown,
            EioReason::ForcedClose => DisconnectReason::ForcedClose,
            EioReason::ParseError => DisconnectReason::ParseError,
            _ => DisconnectReason::TransportError,
        };
        if let Some(client) = socket.data::<Client>() {
            client.on_close(reason);
        }
    }
}

/// Serves `sio` on 127.0.0.1:0; returns the address.
pub async fn serve(sio: SocketIo) -> SocketAddr {
    let mut config = carafe_engineio::Config::default();
    config.path = "/socket.io/".to_owned();
    let engine = EngineIo::new(config, Bridge(sio));
    let mut serve_config = carafe_serve::Config::default();
    serve_config.access_log = false;
    let mut server =
        TcpServer::bind("127.0.0.1:0".parse().expect("literal"), serve_config).expect("bind");
    server.activate().expect("listen");
    let addr = server.local_addr();
    tokio::spawn(server.serve_forever(engine));
    addr
}
