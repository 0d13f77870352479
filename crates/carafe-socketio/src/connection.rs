//! The seam under Socket.IO: what it needs from one Engine.IO session.
//!
//! carafe-engineio's `Socket` will implement [`Connection`]; the in-process
//! [`TestClient`](crate::testing::TestClient) implements it without any transport.

use crate::packet::Encoded;

/// One Engine.IO session, as Socket.IO uses it.
///
/// ```
/// use carafe_socketio::connection::Connection;
/// use carafe_socketio::packet::Encoded;
///
/// struct Discard;
/// impl Connection for Discard {
///     fn send(&self, _packet: &Encoded) -> bool { true }
///     fn close(&self) {}
/// }
/// ```
pub trait Connection: Send + Sync + 'static {
    /// Queues the packet's text message and then its attachments, with no other message
    /// between them; `false` when the session is closed.
    fn send(&self, packet: &Encoded) -> bool;

    /// Closes the session.
    fn close(&self);

    /// Resolves once every packet sent so far has been handed to the transport (see
    /// `carafe_engineio::Socket::flushed`); at once by default.
    fn flushed(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'static>> {
        Box::pin(std::future::ready(()))
    }

    /// What the handshake request said, when the session came over HTTP.
    fn handshake(&self) -> Option<Handshake> {
        None
    }
}

/// The HTTP request that opened a client's Engine.IO session (Node's `socket.handshake`):
/// for authentication by cookie or header, and for logging.
///
/// ```
/// use carafe_socketio::connection::Handshake;
///
/// let handshake = Handshake {
///     headers: http::HeaderMap::new(),
///     uri: "/socket.io/?EIO=4&transport=polling&room=7".parse().unwrap(),
///     address: None,
///     issued: std::time::SystemTime::now(),
///     secure: false,
///     session: Default::default(),
/// };
/// assert_eq!(handshake.query("room").as_deref(), Some("7"));
/// ```
#[derive(Debug, Clone)]
pub struct Handshake {
    /// The request's header fields (cookies, authorization, user agent, origin).
    pub headers: http::HeaderMap,
    /// The request URI; its query has the client's `query` option next to `EIO`,
    /// `transport` and `sid`.
    pub uri: http::Uri,
    /// The client's address, when known.
    pub address: Option<std::net::SocketAddr>,
    /// When the session opened.
    pub issued: std::time::SystemTime,
    /// Whether the connection was TLS.
    pub secure: bool,
    /// The HTTP session of the request (see [`HttpSession`]).
    pub session: HttpSession,
}

impl Handshake {
    /// The first value of query parameter `name`, percent-decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        let query = self.uri.query()?;
        query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key) == name).then(|| decode(value))
        })
    }
}

/// Percent-decodes a query component (`+` is a space), lossily.
fn decode(text: &str) -> String {
    let text = text.replace('+', " ");
    percent_encoding::percent_decode_str(&text)
        .decode_utf8_lossy()
        .into_owned()
}

/// The HTTP session (carafe's signed `session` cookie) of the handshake request, read
/// once when asked for: a read-only snapshot, as Flask-SocketIO's `manage_session=False`
/// gives. Changes made later by HTTP requests are not seen, and a Socket.IO handler
/// cannot change the cookie (no HTTP response carries it). Empty when the app has no
/// `secret_key`, the cookie is missing, tampered with or expired, or the server was not
/// started with [`SocketIo::run`](crate::SocketIo::run) /
/// [`attach`](crate::SocketIo::attach).
///
/// ```
/// let session = carafe_socketio::connection::HttpSession::default();
/// assert!(session.is_empty());
/// assert_eq!(session.get::<String>("user"), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HttpSession(serde_json::Map<String, serde_json::Value>);

impl HttpSession {
    pub(crate) fn new(map: serde_json::Map<String, serde_json::Value>) -> Self {
        HttpSession(map)
    }

    /// The value of `key` as `T`; `None` if absent or of another shape.
    pub fn get<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        T::deserialize(self.0.get(key)?).ok()
    }

    /// The raw value of `key`.
    pub fn get_value(&self, key: &str) -> Option<&serde_json::Value> {
        self.0.get(key)
    }

    /// Whether `key` is set.
    pub fn contains(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// Whether the session is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The whole session as a JSON map.
    pub fn to_map(&self) -> serde_json::Map<String, serde_json::Value> {
        self.0.clone()
    }
}
