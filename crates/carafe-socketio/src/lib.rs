//! # carafe-socketio
//!
//! Socket.IO protocol v5 for carafe: what python-socketio and Flask-SocketIO are to
//! Flask. It runs over any Engine.IO session that implements
//! [`Connection`](connection::Connection) (carafe-engineio's, or the in-process
//! [`TestClient`](testing::TestClient)).
//!
//! | module | Python / Node counterpart | owns |
//! |---|---|---|
//! | [`packet`] | `socket.io-parser` | sans-IO packet codec: types, decoder with binary attachments, encoders |
//! | [`adapter`] | `socket.io-adapter` | the [`Adapter`](adapter::Adapter) trait (rooms, broadcast, cluster requests) and the in-memory adapter |
//! | `io`, `namespace`, `socket`, `operator` | `socketio.Server`, namespaces | [`SocketIo`], [`Namespace`], [`Socket`], [`BroadcastOperator`] |
//! | `client` | `socket.io` `Client` | one Engine.IO session: decoding, routing packets to namespaces in order, restoring recovered sessions |
//! | [`extract`] | — | typed handler arguments: [`Socket`], [`Data<T>`](extract::Data), [`AckSender`], [`Event`] |
//! | `dynamic` | `ParentNamespace` | [`SocketIo::dynamic_namespace`], [`NamespacePattern`] |
//! | `recovery` | `connectionStateRecovery` | [`ConnectionStateRecovery`]; the store is [`SessionStore`](adapter::SessionStore) behind the adapter |
//! | [`testing`] | `socketio.test_client` | [`TestClient`](testing::TestClient) |
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use carafe_socketio::{Event, Socket, SocketIo};
//!
//! let sio = SocketIo::builder().build();
//! sio.namespace("/item").on("bid", |socket: Socket, mut event: Event| async move {
//!     let amount: u32 = event.data()?;
//!     socket.to("bidders").emit("new_bid", &amount).await?;
//!     event.ack(&"accepted")
//! });
//! let mut client = sio.test_client();
//! client.connect("/item", None).await.unwrap();
//! let answer = client.emit_with_ack("/item", "bid", &12).await.unwrap();
//! assert_eq!(answer.deserialize::<String>().unwrap(), "accepted");
//! # }
//! ```
//!
//! ## Features
//!
//! - **Typed handlers**: `ns.on("bid", |socket: Socket, Data(bid): Data<Bid>, ack: AckSender| ...)`;
//!   a payload that does not deserialize is answered through the ack with
//!   `{"error", "field"}` and the handler is not called (see [`extract`]).
//! - **Acks**: an ack is sent at most once ([`AckSender::send`] consumes it; dropping it
//!   sends nothing). socket.io-client's `retries` mode (an ack id on every emit, the event
//!   sent again after `ackTimeout`) gets one dispatch and at most one answer per packet,
//!   as with Node's server.
//! - **Dynamic namespaces**: [`SocketIo::dynamic_namespace`] with a closure or a pattern
//!   (`"/room-*"`); children share the parent's handlers; the parent broadcasts to all;
//!   [`Builder::cleanup_empty_child_namespaces`] removes empty children.
//! - **Connection state recovery**: [`Builder::connection_state_recovery`]; the CONNECT
//!   answer carries `{sid, pid}`, kept packets get an offset as last argument, and a
//!   client back within the window gets its id, rooms, data and missed packets.
//!
//! ## Adapters and the Redis adapter
//!
//! Each namespace owns one [`Adapter`](adapter::Adapter). The in-memory adapter keeps
//! rooms as sets of socket ids and fans a broadcast out by handing every recipient a clone
//! of one [`Encoded`](packet::Encoded) packet (shared bytes, no copy). A Redis adapter
//! wire-compatible with `@socket.io/redis-adapter` (a later issue) maps onto the same
//! trait: `broadcast` delivers locally and publishes `[uid, packet, opts]` (msgpack, as
//! notepack writes it, binary as `bin`) on `socket.io#/nsp#` or `socket.io#/nsp#room#`;
//! `broadcast_with_ack` also publishes and adds the `BROADCAST_CLIENT_COUNT` answers of
//! other nodes to the local count, their `BROADCAST_ACK`s feeding the same ack channel;
//! `sockets`, `fetch_sockets`, `add_sockets`, `del_sockets`, `disconnect_sockets`,
//! `server_side_emit` and `server_count` become the `SOCKETS`, `REMOTE_FETCH`,
//! `REMOTE_JOIN`, `REMOTE_LEAVE`, `REMOTE_DISCONNECT`, `SERVER_SIDE_EMIT` requests on
//! `socket.io-request#/nsp#` and their answers on `socket.io-response#/nsp#`, waited for
//! with a timeout (hence the async [`AdapterFuture`](adapter::AdapterFuture)).
//! [`BroadcastOptions::local`](adapter::BroadcastOptions::local) keeps a request on this
//! node. The packet the Redis adapter needs in Node's object form (`{type, data, nsp}`) is
//! rebuilt from the `Encoded` text once per broadcast, never per recipient.

pub mod adapter;
mod client;
pub mod connection;
mod dynamic;
mod error;
pub mod extract;
mod handler;
mod io;
mod namespace;
mod operator;
pub mod packet;
mod recovery;
mod sid;
mod socket;
pub mod testing;

pub use client::Client;
pub use dynamic::{NamespaceMatcher, NamespacePattern};
pub use error::{ConnectError, DisconnectReason, Error};
pub use handler::{EventHandler, HandlerOutput};
pub use io::{Builder, SocketIo};
pub use namespace::Namespace;
pub use operator::{BroadcastAcks, BroadcastOperator};
pub use recovery::ConnectionStateRecovery;
pub use socket::{AckSender, Event, Socket};
