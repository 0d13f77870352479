//! An in-process Socket.IO client, like Flask-SocketIO's `socketio.test_client(app)`:
//! packets go straight into the server's [`Client`] and come back through a channel, with
//! the real encoder and decoder on both sides and no transport in between.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;

use crate::client::Client;
use crate::connection::Connection;
use crate::error::{ConnectError, DisconnectReason};
use crate::io::SocketIo;
use crate::packet::{
    encode_ack, encode_connect, encode_disconnect, encode_event, Args, Decoder, EncodeError,
    Encoded, Packet, PacketData,
};

/// How long the test client waits for the server before giving up.
const WAIT: Duration = Duration::from_secs(5);

/// What the server sent down the in-process connection.
#[derive(Debug)]
enum Outgoing {
    Packet(Encoded),
    Close,
}

#[derive(Debug)]
struct TestConn {
    tx: mpsc::UnboundedSender<Outgoing>,
    closed: AtomicBool,
}

impl Connection for TestConn {
    fn send(&self, packet: &Encoded) -> bool {
        !self.closed.load(Ordering::Acquire)
            && self.tx.send(Outgoing::Packet(packet.clone())).is_ok()
    }

    fn close(&self) {
        if !self.closed.swap(true, Ordering::AcqRel) {
            let _ = self.tx.send(Outgoing::Close);
        }
    }
}

/// An in-process client of a [`SocketIo`] server, for tests. Must be used inside a tokio
/// runtime.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use carafe_socketio::{Event, Socket, SocketIo};
///
/// let sio = SocketIo::builder().build();
/// sio.namespace("/").on("echo", |_socket: Socket, mut event: Event| async move {
///     let text: String = event.data()?;
///     event.ack(&text)
/// });
/// let mut client = sio.test_client();
/// client.connect("/", None).await.unwrap();
/// let answer = client.emit_with_ack("/", "echo", &"hi").await.unwrap();
/// assert_eq!(answer.deserialize::<String>().unwrap(), "hi");
/// # }
/// ```
#[derive(Debug)]
pub struct TestClient {
    client: Client,
    conn: Arc<TestConn>,
    rx: mpsc::UnboundedReceiver<Outgoing>,
    decoder: Decoder,
    /// Packets received while waiting for another one.
    pending: VecDeque<Packet>,
    next_id: u64,
}

impl TestClient {
    pub(crate) fn new(io: &SocketIo) -> TestClient {
        let (tx, rx) = mpsc::unbounded_channel();
        let conn = Arc::new(TestConn {
            tx,
            closed: AtomicBool::new(false),
        });
        let client = io.accept(conn.clone());
        TestClient {
            client,
            conn,
            rx,
            decoder: Decoder::new(),
            pending: VecDeque::new(),
            next_id: 0,
        }
    }

    /// Connects to `namespace` with an optional `auth` payload; returns the socket id, or
    /// the server's refusal.
    pub async fn connect(
        &mut self,
        namespace: &str,
        auth: Option<serde_json::Value>,
    ) -> Result<String, ConnectError> {
        let answer = self.connect_answer(namespace, auth).await?;
        Ok(answer["sid"].as_str().unwrap_or_default().to_owned())
    }

    /// Connects to `namespace` and returns the whole CONNECT answer (`{sid}`, or
    /// `{sid, pid}` with connection state recovery), or the server's refusal.
    pub async fn connect_answer(
        &mut self,
        namespace: &str,
        auth: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, ConnectError> {
        self.send(&encode_connect(namespace, auth.as_ref()));
        let packet = self
            .wait_for(|packet| {
                packet.namespace == namespace
                    && matches!(
                        packet.data,
                        PacketData::Connect(_) | PacketData::ConnectError(_)
                    )
            })
            .await
            .ok_or_else(|| ConnectError::new("no answer from the server"))?;
        match packet.data {
            PacketData::Connect(Some(data)) => {
                Ok(serde_json::from_slice(&data).unwrap_or_default())
            }
            PacketData::ConnectError(data) => {
                let value: serde_json::Value = serde_json::from_slice(&data).unwrap_or_default();
                let message = value["message"].as_str().unwrap_or_default();
                let refusal = ConnectError::new(message);
                Err(match value.get("data") {
                    Some(data) => refusal.with_data(data.clone()),
                    None => refusal,
                })
            }
            _ => Err(ConnectError::new("unexpected answer to connect")),
        }
    }

    /// Sends an event.
    pub fn emit<T: Serialize + ?Sized>(
        &self,
        namespace: &str,
        event: &str,
        data: &T,
    ) -> Result<(), EncodeError> {
        self.send(&encode_event(namespace, event, None, data)?);
        Ok(())
    }

    /// Sends an event with an ack id and waits for the server's ack.
    pub async fn emit_with_ack<T: Serialize + ?Sized>(
        &mut self,
        namespace: &str,
        event: &str,
        data: &T,
    ) -> Option<Args> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&encode_event(namespace, event, Some(id), data).ok()?);
        let packet = self
            .wait_for(|packet| {
                packet.namespace == namespace
                    && matches!(&packet.data, PacketData::Ack { id: got, .. } if *got == id)
            })
            .await?;
        match packet.data {
            PacketData::Ack { args, .. } => Some(args),
            _ => None,
        }
    }

    /// Sends an event carrying ack id `id` without waiting (the same id may be sent again,
    /// as a client retrying would); read the answers with [`recv_ack`](TestClient::recv_ack).
    pub fn emit_with_id<T: Serialize + ?Sized>(
        &self,
        namespace: &str,
        event: &str,
        id: u64,
        data: &T,
    ) -> Result<(), EncodeError> {
        self.send(&encode_event(namespace, event, Some(id), data)?);
        Ok(())
    }

    /// The next ack the server sent on `namespace` for id `id`.
    pub async fn recv_ack(&mut self, namespace: &str, id: u64) -> Option<Args> {
        let packet = self
            .wait_for(|packet| {
                packet.namespace == namespace
                    && matches!(&packet.data, PacketData::Ack { id: got, .. } if *got == id)
            })
            .await?;
        match packet.data {
            PacketData::Ack { args, .. } => Some(args),
            _ => None,
        }
    }

    /// Answers the server's event `id` (from [`recv`](TestClient::recv)).
    pub fn ack<T: Serialize + ?Sized>(
        &self,
        namespace: &str,
        id: u64,
        data: &T,
    ) -> Result<(), EncodeError> {
        self.send(&encode_ack(namespace, id, data)?);
        Ok(())
    }

    /// The next event the server sent on `namespace`: its name, ack id and arguments.
    pub async fn recv_event(&mut self, namespace: &str) -> Option<(String, Option<u64>, Args)> {
        let packet = self
            .wait_for(|packet| {
                packet.namespace == namespace && matches!(packet.data, PacketData::Event { .. })
            })
            .await?;
        match packet.data {
            PacketData::Event { event, id, args } => Some((event, id, args)),
            _ => None,
        }
    }

    /// The next packet the server sent, `None` once the connection is closed or after
    /// 5 seconds of silence.
    pub async fn recv(&mut self) -> Option<Packet> {
        match self.pending.pop_front() {
            Some(packet) => Some(packet),
            None => self.read().await,
        }
    }

    /// Whether a packet arrives within `wait` (for checking that nothing does).
    pub async fn try_recv_within(&mut self, wait: Duration) -> Option<Packet> {
        if let Some(packet) = self.pending.pop_front() {
            return Some(packet);
        }
        tokio::time::timeout(wait, self.read()).await.ok().flatten()
    }

    /// Leaves `namespace`.
    pub fn disconnect(&self, namespace: &str) {
        self.send(&encode_disconnect(namespace));
    }

    /// Closes the whole connection, as a client going away would.
    pub fn close(&self) {
        self.close_with(DisconnectReason::TransportClose);
    }

    /// Closes the whole connection as Engine.IO would report it for `reason` (a ping
    /// timeout, a transport error, ...).
    pub fn close_with(&self, reason: DisconnectReason) {
        self.conn.close();
        self.client.on_close(reason);
    }

    /// Whether the server closed the connection.
    pub fn is_closed(&self) -> bool {
        self.conn.closed.load(Ordering::Acquire)
    }

    /// Feeds raw Engine.IO text to the server, for malformed-packet tests.
    pub fn send_raw_text(&self, text: &'static str) {
        self.client
            .on_text(bytes::Bytes::from_static(text.as_bytes()));
    }

    /// Feeds raw Engine.IO text to the server.
    pub fn send_text(&self, text: impl Into<String>) {
        self.client.on_text(bytes::Bytes::from(text.into()));
    }

    /// Sends an encoded packet: its text message, then its attachments.
    pub fn send(&self, packet: &Encoded) {
        self.client.on_text(packet.text().clone());
        for attachment in packet.attachments() {
            self.client.on_binary(attachment.clone());
        }
    }

    async fn wait_for(&mut self, wanted: impl Fn(&Packet) -> bool) -> Option<Packet> {
        if let Some(at) = self.pending.iter().position(&wanted) {
            return self.pending.remove(at);
        }
        loop {
            let packet = self.read().await?;
            if wanted(&packet) {
                return Some(packet);
            }
            self.pending.push_back(packet);
        }
    }

    /// The next whole packet from the server.
    async fn read(&mut self) -> Option<Packet> {
        loop {
            let outgoing = tokio::time::timeout(WAIT, self.rx.recv()).await.ok()??;
            let Outgoing::Packet(encoded) = outgoing else {
                return None;
            };
            let mut packet = self.decoder.decode_text(encoded.text().clone()).ok()?;
            for attachment in encoded.attachments() {
                packet = self.decoder.decode_binary(attachment.clone()).ok()?;
            }
            if packet.is_some() {
                return packet;
            }
        }
    }
}
