//! The adapter: where rooms live and how a broadcast reaches every socket.
