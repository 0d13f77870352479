//! The knobs of a WebSocket connection, with safe defaults.

/// How a WebSocket connection behaves: size limits, buffer sizes and extensions.
///
/// Start from [`WebSocketConfig::default`] and change what you need, by field or with the
/// chained setters:
///
/// ```
/// use carafe_serve::websocket::WebSocketConfig;
///
/// let config = WebSocketConfig::default()
///     .max_message_size(1024 * 1024)
///     .max_frame_size(256 * 1024);
/// assert_eq!(config.max_message_size, 1024 * 1024);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WebSocketConfig {
    /// The largest message (all its fragments together) a peer may send; a larger one
    /// closes the connection with 1009 (message too big).
    pub max_message_size: usize,
    /// The largest single frame a peer may send; a larger one closes with 1009 too.
    pub max_frame_size: usize,
    /// Accept `permessage-deflate` (RFC 7692) from clients that offer it: messages both
    /// ways are then compressed (off by default: it costs CPU and about 300 KiB per
    /// connection that sends). `max_message_size` bounds the decompressed size.
    pub permessage_deflate: bool,
    /// Bytes reserved for reading frames once a read fills the first 512 bytes; it grows
    /// for larger frames. A connection waiting for its next message holds no read buffer
    /// at all (a read into an empty buffer lands in 512 bytes the reader keeps inline).
    pub read_buffer_size: usize,
    /// Kept for compatibility; unused: every `send` writes its whole message to the socket
    /// before it returns, so nothing gathers.
    pub write_buffer_size: usize,
    /// Kept for compatibility; unused: a slow peer makes `send` wait rather than queue, so
    /// [`WebSocketError::WriteBufferFull`](super::WebSocketError::WriteBufferFull) does not
    /// happen.
    pub max_write_buffer_size: usize,
    /// When the server begins a graceful shutdown, send close 1001 (going away) and finish
    /// the close handshake while the grace period lasts.
    pub close_on_shutdown: bool,
}

impl Default for WebSocketConfig {
    fn default() -> Self {
        WebSocketConfig {
            max_message_size: 64 << 20,
            max_frame_size: 16 << 20,
            permessage_deflate: false,
            read_buffer_size: 4 * 1024,
            write_buffer_size: 0,
            max_write_buffer_size: 64 << 20,
            close_on_shutdown: true,
        }
    }
}

impl WebSocketConfig {
    /// Sets [`max_message_size`](Self::max_message_size).
    ///
    /// ```
    /// let config = carafe_serve::websocket::WebSocketConfig::default().max_message_size(1 << 20);
    /// assert_eq!(config.max_message_size, 1 << 20);
    /// ```
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Sets [`max_frame_size`](Self::max_frame_size).
    ///
    /// ```
    /// let config = carafe_serve::websocket::WebSocketConfig::default().max_frame_size(1 << 16);
    /// assert_eq!(config.max_frame_size, 1 << 16);
    /// ```
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// Sets [`permessage_deflate`](Self::permessage_deflate).
    ///
    /// ```
    /// let config = carafe_serve::websocket::WebSocketConfig::default().permessage_deflate(true);
    /// assert!(config.permessage_deflate);
    /// ```
    pub fn permessage_deflate(mut self, on: bool) -> Self {
        self.permessage_deflate = on;
        self
    }

    /// Sets [`read_buffer_size`](Self::read_buffer_size).
    ///
    /// ```
    /// let config = carafe_serve::websocket::WebSocketConfig::default().read_buffer_size(16 * 1024);
    /// assert_eq!(config.read_buffer_size, 16 * 1024);
    /// ```
    pub fn read_buffer_size(mut self, bytes: usize) -> Self {
        self.read_buffer_size = bytes;
        self
    }

    /// Sets [`write_buffer_size`](Self::write_buffer_size) and
    /// [`max_write_buffer_size`](Self::max_write_buffer_size).
    ///
    /// ```
    /// let config = carafe_serve::websocket::WebSocketConfig::default().write_buffer(0, 1 << 20);
    /// assert_eq!(config.max_write_buffer_size, 1 << 20);
    /// ```
    pub fn write_buffer(mut self, bytes: usize, max_bytes: usize) -> Self {
        self.write_buffer_size = bytes;
        self.max_write_buffer_size = max_bytes;
        self
    }

    /// Sets [`close_on_shutdown`](Self::close_on_shutdown).
    ///
    /// ```
    /// let config = carafe_serve::websocket::WebSocketConfig::default().close_on_shutdown(false);
    /// assert!(!config.close_on_shutdown);
    /// ```
    pub fn close_on_shutdown(mut self, on: bool) -> Self {
        self.close_on_shutdown = on;
        self
    }
}
