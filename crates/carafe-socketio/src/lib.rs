//! # carafe-socketio
//!
//! Socket.IO protocol v5 for carafe, over carafe-engineio: what python-socketio and
//! Flask-SocketIO are to Flask.
//!
//! | module | Python / Node counterpart | owns |
//! |---|---|---|
//! | [`packet`] | `socket.io-parser` | sans-IO packet codec: types, decoder with binary attachments, encoders |
//! | [`adapter`] | `socket.io-adapter` | the [`Adapter`](adapter::Adapter) trait (rooms, broadcast, cross-node requests) and the in-memory adapter |

pub mod adapter;
pub mod packet;
