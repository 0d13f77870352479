//! The server's knobs: socket options, limits and timeouts, with safe defaults.
//!
//! Every limit is on by default. The numbers follow what mature servers use: nginx's 8 KiB
//! request line, Node's ~16 KiB header block (doubled here for large cookies), a 100-field
//! header count, and deadlines of a few seconds for a request head.

use std::time::Duration;

/// Everything a [`TcpServer`](crate::TcpServer) can be told.
///
/// Start from [`Config::default`] and change fields:
///
/// ```
/// let mut config = carafe_serve::Config::default();
/// config.max_connections = 50_000;
/// config.limits.max_body_bytes = 64 * 1024 * 1024;
/// config.timeouts.header_read = std::time::Duration::from_secs(2);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The `listen(2)` backlog: how many completed handshakes the kernel queues before
    /// `accept` (Python's `request_queue_size`).
    pub backlog: u32,
    /// Set `SO_REUSEPORT` so that several processes can bind the same port.
    pub reuse_port: bool,
    /// The most connections served at once; further clients wait in the kernel's queue.
    pub max_connections: usize,
    /// Sizes the server accepts from a client.
    pub limits: Limits,
    /// How long the server waits for a client.
    pub timeouts: Timeouts,
    /// Log one line per request (Werkzeug's format) at `INFO` on the `carafe::access` target.
    pub access_log: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            backlog: 1024,
            reuse_port: false,
            max_connections: 25_000,
            limits: Limits::default(),
            timeouts: Timeouts::default(),
            access_log: true,
        }
    }
}

/// Size limits on what a client sends; exceeding one gets the status named on the field.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Limits {
    /// Bytes in the request line plus header fields (431 Request Header Fields Too Large).
    pub max_head_bytes: usize,
    /// Number of header fields (431).
    pub max_headers: usize,
    /// Bytes in the request target (414 URI Too Long).
    pub max_uri_bytes: usize,
    /// Bytes in a request body (413 Content Too Large).
    pub max_body_bytes: u64,
    /// Bytes of an unread body the server reads and discards to keep a connection alive,
    /// or to let a client see an early answer (413, say) before the connection closes.
    pub max_drain_bytes: u64,
    /// Bytes in a chunk-size line with its extensions, and in a chunked body's trailers.
    pub max_chunk_line_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head_bytes: 32 * 1024,
            max_headers: 100,
            max_uri_bytes: 8 * 1024,
            max_body_bytes: 16 * 1024 * 1024,
            max_drain_bytes: 256 * 1024,
            max_chunk_line_bytes: 4 * 1024,
        }
    }
}

/// Deadlines, all on by default.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Timeouts {
    /// From the first byte of a request (or the accept) to its complete head; a slowloris
    /// client gets 408 and a closed connection.
    pub header_read: Duration,
    /// The longest pause between two reads of a request body (408).
    pub body_read: Duration,
    /// How long a keep-alive connection may sit between requests before it is closed.
    pub idle: Duration,
    /// How long a graceful shutdown waits for in-flight requests and upgraded connections
    /// before it stops them.
    pub shutdown_grace: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            header_read: Duration::from_secs(5),
            body_read: Duration::from_secs(30),
            idle: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}
