//! Socket.IO on Engine.IO: the glue between a [`SocketIo`] and carafe-engineio, and the
//! ways to serve it — alone, in front of another application, or with a carafe [`App`]
//! on one port (`sio.run(app)`, Flask-SocketIO's `socketio.run(app)`).
//!
//! Each Engine.IO session gets one [`Client`], kept as the session's data; its messages
//! are fed to the client as they arrive, and its close becomes every socket's disconnect
//! reason. The client reaches the session through a weak handle, so a closed session
//! and its client free each other. Packets go out as one Engine.IO batch each (text, then
//! attachments, nothing between them), and the text is the packet's own buffer: a
//! broadcast to many sockets hands each the same bytes.
//!
//! A session that joins no namespace within `connect_timeout` is closed. One task per
//! server does this for every session, from a queue in deadline order (all sessions have
//! the same timeout), so a connecting client costs one queue slot, not a timer task.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use carafe::session::cookie::{find_cookie, SessionSigner};
use carafe::App;
use carafe_engineio::{
    AllowedOrigins, DisconnectReason as EngineReason, EngineIo, Handler, Mounted, Str, WeakSocket,
};
use carafe_serve::Application;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::client::Client;
use crate::connection::{Connection, Handshake, HttpSession};
use crate::error::DisconnectReason;
use crate::io::SocketIo;
use crate::packet::Encoded;

/// The Engine.IO settings a Socket.IO server starts from: the reference server's, at
/// `/socket.io/`.
pub(crate) fn default_engine_config() -> carafe_engineio::Config {
    let mut config = carafe_engineio::Config::default();
    config.path = "/socket.io/".into();
    config
}

/// What [`Builder::cors_allowed_origins`](crate::Builder::cors_allowed_origins) accepts:
/// `"*"` (any origin), one origin, a list of origins, or an [`AllowedOrigins`].
pub trait IntoAllowedOrigins {
    /// The origins as carafe-engineio checks them.
    fn into_allowed_origins(self) -> AllowedOrigins;
}

impl IntoAllowedOrigins for AllowedOrigins {
    fn into_allowed_origins(self) -> AllowedOrigins {
        self
    }
}

impl IntoAllowedOrigins for &str {
    fn into_allowed_origins(self) -> AllowedOrigins {
        if self == "*" {
            AllowedOrigins::Any
        } else {
            AllowedOrigins::list([self])
        }
    }
}

impl IntoAllowedOrigins for String {
    fn into_allowed_origins(self) -> AllowedOrigins {
        self.as_str().into_allowed_origins()
    }
}

impl<const N: usize> IntoAllowedOrigins for [&str; N] {
    fn into_allowed_origins(self) -> AllowedOrigins {
        AllowedOrigins::list(self)
    }
}

impl IntoAllowedOrigins for Vec<String> {
    fn into_allowed_origins(self) -> AllowedOrigins {
        AllowedOrigins::list(self)
    }
}

impl IntoAllowedOrigins for Vec<&str> {
    fn into_allowed_origins(self) -> AllowedOrigins {
        AllowedOrigins::list(self)
    }
}

/// How to read an App's session cookie: its name, the keys, the lifetime.
pub(crate) struct SessionReader {
    signer: SessionSigner,
    cookie: String,
    max_age: u64,
}

impl SessionReader {
    fn of(app: &App) -> Option<SessionReader> {
        let config = app.config();
        let key = config.secret_key.as_deref()?;
        Some(SessionReader {
            signer: SessionSigner::with_fallbacks(key, &config.secret_key_fallbacks),
            cookie: config.session_cookie_name.clone(),
            max_age: config.permanent_session_lifetime.as_secs(),
        })
    }

    fn read(&self, headers: &http::HeaderMap) -> HttpSession {
        let cookies = headers
            .get_all(http::header::COOKIE)
            .iter()
            .map(|value| value.as_bytes());
        let Some(value) = find_cookie(cookies, &self.cookie) else {
            return HttpSession::default();
        };
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        self.signer
            .decode(value, now, self.max_age)
            .map(HttpSession::new)
            .unwrap_or_default()
    }
}

/// The pause between the CONNECT answer and what connect handlers send over WebSocket.
const FLUSH_GAP: Duration = Duration::from_millis(1);

/// One Engine.IO session as Socket.IO's [`Connection`].
struct Conn {
    socket: WeakSocket,
    issued: SystemTime,
    secure: bool,
    session: Option<Arc<SessionReader>>,
}

impl Connection for Conn {
    fn send(&self, packet: &Encoded) -> bool {
        let Some(socket) = self.socket.upgrade() else {
            return false;
        };
        let sent = if packet.attachments().is_empty() {
            socket.send_packet(packet.text_message())
        } else {
            socket.send_all(&packet.messages())
        };
        sent.is_ok()
    }

    fn close(&self) {
        if let Some(socket) = self.socket.upgrade() {
            socket.close();
        }
    }

    fn flushed(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'static>> {
        let socket = self.socket.upgrade();
        Box::pin(async move {
            let Some(socket) = socket else {
                return;
            };
            socket.flushed().await;
            if socket.transport() == carafe_engineio::Transport::WebSocket {
                // Written, but a client that reads one message per wake-up (the official
                // protocol suite waits for one `message` event at a time) may still read
                // what follows in the same chunk and miss it. The reference server leaves
                // an event-loop turn between writes; a millisecond does the same here, and
                // costs connect handlers nothing a person could notice.
                tokio::time::sleep(FLUSH_GAP).await;
            }
        })
    }

    fn handshake(&self) -> Option<Handshake> {
        let socket = self.socket.upgrade()?;
        let session = match &self.session {
            Some(reader) => reader.read(socket.headers()),
            None => HttpSession::default(),
        };
        Some(Handshake {
            headers: socket.headers().clone(),
            uri: socket.uri().clone(),
            address: socket.peer_addr(),
            issued: self.issued,
            secure: self.secure,
            session,
        })
    }
}

/// The Engine.IO handler that runs Socket.IO.
struct Glue {
    io: SocketIo,
    deadlines: Arc<ConnectDeadlines>,
}

impl Handler for Glue {
    fn on_connect(&self, socket: &carafe_engineio::Socket) {
        let secure = carafe_serve::ConnInfo::current().is_some_and(|info| info.tls);
        let conn = Conn {
            socket: socket.downgrade(),
            issued: SystemTime::now(),
            secure,
            session: self.io.0.http_session.get().cloned(),
        };
        let client = self.io.accept(Arc::new(conn));
        let _ = socket.set_data(client);
        self.deadlines.push(socket.downgrade());
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

    fn on_disconnect(&self, socket: &carafe_engineio::Socket, reason: EngineReason) {
        if let Some(client) = socket.data::<Client>() {
            client.on_close(disconnect_reason(reason));
        }
    }
}

/// Socket.IO's name for why an Engine.IO session ended.
fn disconnect_reason(reason: EngineReason) -> DisconnectReason {
    match reason {
        EngineReason::TransportClose => DisconnectReason::TransportClose,
        EngineReason::PingTimeout => DisconnectReason::PingTimeout,
        EngineReason::ServerClose => DisconnectReason::ServerShuttingDown,
        EngineReason::ForcedClose => DisconnectReason::ForcedClose,
        EngineReason::ParseError => DisconnectReason::ParseError,
        _ => DisconnectReason::TransportError,
    }
}

/// Sessions waiting for their first namespace, in deadline order, and the one task that
/// closes those still without one when their time comes.
struct ConnectDeadlines {
    timeout: Duration,
    queue: Mutex<VecDeque<(Instant, WeakSocket)>>,
    wake: Notify,
    sweeper: OnceLock<()>,
}

impl ConnectDeadlines {
    fn new(timeout: Duration) -> Arc<ConnectDeadlines> {
        Arc::new(ConnectDeadlines {
            timeout,
            queue: Mutex::new(VecDeque::new()),
            wake: Notify::new(),
            sweeper: OnceLock::new(),
        })
    }

    fn push(self: &Arc<Self>, socket: WeakSocket) {
        let deadline = Instant::now() + self.timeout;
        let was_empty = {
            let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            queue.push_back((deadline, socket));
            queue.len() == 1
        };
        self.sweeper.get_or_init(|| {
            tokio::spawn(sweep(Arc::clone(self)));
        });
        if was_empty {
            self.wake.notify_one();
        }
    }
}

/// Closes each session whose deadline passed without a namespace; ends once the server
/// (the only other holder of `deadlines`) is gone.
async fn sweep(deadlines: Arc<ConnectDeadlines>) {
    loop {
        match deadlines.expire() {
            Some(deadline) => tokio::time::sleep_until(deadline).await,
            None => {
                if Arc::strong_count(&deadlines) == 1 {
                    return;
                }
                let wait = deadlines.timeout.max(Duration::from_secs(1));
                let _ = tokio::time::timeout(wait, deadlines.wake.notified()).await;
            }
        }
    }
}

impl ConnectDeadlines {
    /// Closes the sessions whose deadline passed and that joined no namespace; returns
    /// the next deadline.
    fn expire(&self) -> Option<Instant> {
        let now = Instant::now();
        let mut expired = Vec::new();
        {
            let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            while queue.front().is_some_and(|(deadline, _)| *deadline <= now) {
                if let Some((_, socket)) = queue.pop_front() {
                    expired.push(socket);
                }
            }
        }
        for socket in expired.iter().filter_map(WeakSocket::upgrade) {
            let connected = socket.data::<Client>().is_some_and(Client::has_connected);
            if !connected && socket.is_open() {
                tracing::debug!(
                    "closing session {}: no namespace within connectTimeout",
                    socket.sid()
                );
                socket.close();
            }
        }
        let queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        queue.front().map(|(deadline, _)| *deadline)
    }
}

impl SocketIo {
    /// The Engine.IO server carrying this Socket.IO server, at its path (`/socket.io/`):
    /// an [`Application`] to serve alone, or [`mount`](Self::mount) in front of another.
    /// Make one per listening server: each has its own session table.
    ///
    /// ```no_run
    /// let sio = carafe_socketio::SocketIo::builder().build();
    /// carafe_serve::run_simple(sio.engine()).port(3000).serve()?;
    /// # Ok::<(), carafe_serve::Error>(())
    /// ```
    pub fn engine(&self) -> EngineIo {
        let glue = Glue {
            io: self.clone(),
            deadlines: ConnectDeadlines::new(self.0.config.connect_timeout),
        };
        EngineIo::new(self.0.config.engine.clone(), glue)
    }

    /// Serves Socket.IO at its path and passes every other request to `inner`.
    ///
    /// ```no_run
    /// use carafe_serve::{Body, Request, Response};
    ///
    /// let sio = carafe_socketio::SocketIo::builder().build();
    /// let site = |_req: Request| async { Response::new(Body::from("hello")) };
    /// carafe_serve::run_simple(sio.mount(site)).port(3000).serve()?;
    /// # Ok::<(), carafe_serve::Error>(())
    /// ```
    pub fn mount<A: Application>(&self, inner: A) -> Mounted<A> {
        self.engine().mount(inner)
    }

    /// Puts this server in front of `app`: its path is served by Socket.IO (before the
    /// app's routes and hooks), and Socket.IO handlers can read the app's HTTP session
    /// ([`Socket::http_session`](crate::Socket::http_session)) with the app's
    /// `secret_key`. [`run`](Self::run) and [`cli`](Self::cli) call this; use it directly
    /// with the test client or your own server.
    ///
    /// ```
    /// let sio = carafe_socketio::SocketIo::builder().build();
    /// let mut app = carafe::App::new();
    /// sio.attach(&mut app);
    /// ```
    pub fn attach(&self, app: &mut App) {
        if let Some(reader) = SessionReader::of(app) {
            let _ = self.0.http_session.set(Arc::new(reader));
        }
        let path = self.0.config.engine.path.clone();
        app.mount(&path, self.engine());
    }

    /// Serves `app` and Socket.IO on one port (Flask-SocketIO's `socketio.run(app)`), with
    /// every option of [`App::run`]: host, port, workers, processes, debug, reload, TLS.
    ///
    /// Sessions live in one process: with `processes(n > 1)` a long-polling client's
    /// requests may reach another process, which does not know its session. Use
    /// WebSocket only ([`Builder::transports`](crate::Builder::transports)) or a load
    /// balancer with sticky sessions then.
    ///
    /// ```no_run
    /// use carafe_socketio::{Socket, SocketIo};
    ///
    /// let sio = SocketIo::builder().cors_allowed_origins("*").build();
    /// sio.namespace("/item").on("ping", |socket: Socket| async move {
    ///     let _ = socket.emit("pong", &());
    /// });
    /// let mut app = carafe::App::new();
    /// app.route("/", carafe::get(|| async { "hello" }));
    /// sio.run(app).port(8082).serve()?;
    /// # Ok::<(), carafe::Error>(())
    /// ```
    pub fn run(&self, mut app: App) -> carafe::Run {
        self.attach(&mut app);
        app.run()
    }

    /// Like [`carafe::cli::run`]: parses `flask run`'s flags (`--host`, `--port`,
    /// `--debug`, `--reload`, `--workers`, `--processes`, `--cert`...) and the `routes`
    /// subcommand from the command line, then serves `app` and Socket.IO.
    ///
    /// ```no_run
    /// let sio = carafe_socketio::SocketIo::builder().build();
    /// sio.cli(carafe::App::new())?;
    /// # Ok::<(), carafe::Error>(())
    /// ```
    pub fn cli(&self, mut app: App) -> Result<(), carafe::Error> {
        self.attach(&mut app);
        carafe::cli::run(app)
    }
}
