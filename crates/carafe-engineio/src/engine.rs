//! The Engine.IO server as a carafe [`Application`]: request routing, the checks every
//! request goes through (the reference server's `verify`), handshakes and the session
//! table.
//!
//! A request at the mount path is checked in the reference server's order (CORS
//! preflight, `transport`, `Origin`, then `sid` or the handshake's method, transport and
//! `EIO`), and any failure becomes its answer in [`Error::response`]. Requests elsewhere
//! go to the inner application of [`Mounted`], or get 404.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, StatusCode};

use carafe_serve::{Application, Body, Request, Response};

use crate::cors::{Cors, Origin};
use crate::error::{BadRequest, RequestKind};
use crate::handshake::{self, Query};
use crate::socket::{Handshake, Phase, Session};
use crate::transport::{polling, websocket};
use crate::{Config, DisconnectReason, Error, Handler, Sid, Socket, Transport};

/// An Engine.IO v4 server: a carafe [`Application`] on its own, or mounted in front of
/// another one with [`EngineIo::mount`].
///
/// ```no_run
/// use carafe_engineio::{Config, EngineIo, Handler, Socket, Str};
///
/// struct Echo;
/// impl Handler for Echo {
///     fn on_message(&self, socket: &Socket, text: Str) {
///         let _ = socket.send(&text);
///     }
/// }
///
/// fn main() -> Result<(), carafe_serve::Error> {
///     let engine = EngineIo::new(Config::default(), Echo);
///     let app = engine.mount(|_req: carafe_serve::Request| async {
///         carafe_serve::Response::new(carafe_serve::Body::from("not engine.io"))
///     });
///     carafe_serve::run_simple(app).port(3000).serve()
/// }
/// ```
#[derive(Clone)]
pub struct EngineIo {
    shared: Arc<Shared>,
}

/// What every session of a server shares.
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) handler: Box<dyn Handler>,
    pub(crate) cors: Cors,
    /// The mount path without its trailing slash.
    bare_path: String,
    sessions: Mutex<HashMap<Sid, Arc<Session>>>,
}

impl EngineIo {
    /// A server with `config`, delivering to `handler`.
    pub fn new(config: Config, handler: impl Handler) -> EngineIo {
        let cors = Cors {
            allowed: config.cors_allowed_origins.clone(),
            credentials: config.cors_credentials,
        };
        let bare_path = config.path.trim_end_matches('/').to_owned();
        EngineIo {
            shared: Arc::new(Shared {
                config,
                handler: Box::new(handler),
                cors,
                bare_path,
                sessions: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// Serves this server's path and passes every other request to `inner`.
    pub fn mount<A: Application>(self, inner: A) -> Mounted<A> {
        Mounted {
            engine: self,
            inner,
        }
    }

    /// Whether `req` is for this server's path.
    ///
    /// ```
    /// # use carafe_engineio::{Config, EngineIo, Handler, Socket, Str};
    /// # struct H; impl Handler for H { fn on_message(&self, _: &Socket, _: Str) {} }
    /// let engine = EngineIo::new(Config::default(), H);
    /// let req = http::Request::get("/engine.io/?EIO=4")
    ///     .body(carafe_serve::Body::empty())
    ///     .unwrap();
    /// assert!(engine.handles(&req));
    /// ```
    pub fn handles(&self, req: &Request) -> bool {
        let path = req.uri().path();
        path == self.shared.config.path || path == self.shared.bare_path
    }

    /// The open session with this id.
    pub fn socket(&self, sid: &str) -> Option<Socket> {
        let sid = Sid::parse(sid)?;
        let session = self.shared.lookup(&sid)?;
        let closed = matches!(session.lock().phase, Phase::Closed(_));
        (!closed).then(|| Socket::new(session))
    }

    /// Every open session.
    pub fn sockets(&self) -> Vec<Socket> {
        let sessions = self.shared.sessions();
        sessions.values().cloned().map(Socket::new).collect()
    }

    /// How many sessions are open.
    pub fn session_count(&self) -> usize {
        self.shared.sessions().len()
    }

    /// Closes every session gracefully; handlers get [`DisconnectReason::ServerClose`].
    pub fn close_all(&self) {
        for socket in self.sockets() {
            socket.close_with(DisconnectReason::ServerClose);
        }
    }

    /// Answers a request for this server's path (see [`handles`](EngineIo::handles)).
    pub async fn handle(&self, req: Request) -> Response {
        let kind = match websocket::is_upgrade_request(&req) {
            true => RequestKind::Upgrade,
            false => RequestKind::Http,
        };
        let origin = self.shared.cors.check(req.headers());
        let answer = self.dispatch(req, kind, &origin).await;
        let mut response = answer.unwrap_or_else(|error| {
            tracing::debug!(target: "carafe::engineio", "refused: {error}");
            error.response(kind)
        });
        if response.status() != StatusCode::SWITCHING_PROTOCOLS {
            self.shared.cors.apply(&origin, response.headers_mut());
        }
        response
    }

    async fn dispatch(
        &self,
        req: Request,
        kind: RequestKind,
        origin: &Origin,
    ) -> Result<Response, Error> {
        let shared = &self.shared;
        if req.method() == Method::OPTIONS {
            return match origin {
                Origin::Denied => Err(Error::Forbidden),
                _ => Ok(shared.cors.preflight(origin, req.headers())),
            };
        }
        let query = Query::parse(req.uri().query());
        let transport = shared.transport(query.transport)?;
        match origin {
            Origin::Denied => return Err(Error::Forbidden),
            Origin::Absent | Origin::Allowed(_) => {}
        }
        if let Some(sid) = query.sid {
            let session = Sid::parse(sid)
                .and_then(|sid| shared.lookup(&sid))
                .ok_or(Error::UnknownSid)?;
            return self.existing(req, kind, transport, session).await;
        }
        if req.method() != Method::GET {
            return Err(Error::BadHandshakeMethod);
        }
        if (transport == Transport::WebSocket) != (kind == RequestKind::Upgrade) {
            return Err(Error::BadRequest(BadRequest::TransportHandshake));
        }
        if query.eio != Some("4") {
            return Err(Error::UnsupportedProtocolVersion);
        }
        match transport {
            Transport::Polling => polling::handshake(self, req),
            Transport::WebSocket => websocket::handshake(self, req),
        }
    }

    /// A request for an existing session.
    async fn existing(
        &self,
        req: Request,
        kind: RequestKind,
        transport: Transport,
        session: Arc<Session>,
    ) -> Result<Response, Error> {
        if kind == RequestKind::Upgrade {
            return match transport {
                Transport::WebSocket => websocket::upgrade(Socket::new(session), req),
                Transport::Polling => Err(Error::BadRequest(BadRequest::TransportHandshake)),
            };
        }
        if transport != Transport::Polling {
            return Err(Error::BadRequest(BadRequest::TransportMismatch));
        }
        let socket = Socket::new(session);
        match *req.method() {
            Method::GET => polling::get(&socket).await,
            Method::POST => polling::post(&socket, req).await,
            _ => Err(Error::BadRequest(BadRequest::Method)),
        }
    }

    /// Registers a new session unless the server is full.
    pub(crate) fn open_session(
        &self,
        handshake: Handshake,
        transport: Transport,
    ) -> Result<Socket, Error> {
        let sid = Sid::generate().map_err(|_| Error::BadRequest(BadRequest::IdGeneration))?;
        let session = Arc::new(Session::new(
            sid,
            Arc::clone(&self.shared),
            handshake,
            transport,
        ));
        let mut sessions = self.shared.sessions();
        if sessions.len() >= self.shared.config.max_sessions {
            return Err(Error::TooManySessions);
        }
        sessions.insert(sid, Arc::clone(&session));
        Ok(Socket::new(session))
    }

    /// Whether another session fits under `max_sessions`.
    pub(crate) fn has_room(&self) -> bool {
        self.shared.sessions().len() < self.shared.config.max_sessions
    }

    /// The `open` packet for a new session on `transport`.
    pub(crate) fn open_packet(&self, sid: Sid, transport: Transport) -> String {
        let config = &self.shared.config;
        let upgrades: &[Transport] = match transport {
            Transport::Polling if config.websocket => &[Transport::WebSocket],
            _ => &[],
        };
        handshake::open_packet(
            sid,
            upgrades,
            config.ping_interval,
            config.ping_timeout,
            config.max_payload,
        )
    }
}

impl Shared {
    fn sessions(&self) -> MutexGuard<'_, HashMap<Sid, Arc<Session>>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A session that is not closed, or that still owes a GET its `noop`.
    fn lookup(&self, sid: &Sid) -> Option<Arc<Session>> {
        let session = self.sessions().get(sid).cloned()?;
        let state = session.lock();
        let gone = matches!(state.phase, Phase::Closed(_)) && !state.noop_owed;
        drop(state);
        (!gone).then_some(session)
    }

    pub(crate) fn remove(&self, sid: &Sid) {
        self.sessions().remove(sid);
    }

    /// The enabled transport named in the query.
    fn transport(&self, name: Option<&str>) -> Result<Transport, Error> {
        match name {
            Some("polling") if self.config.polling => Ok(Transport::Polling),
            Some("websocket") if self.config.websocket => Ok(Transport::WebSocket),
            _ => Err(Error::UnknownTransport),
        }
    }
}

impl Application for EngineIo {
    async fn call(&self, req: Request) -> Response {
        match self.handles(&req) {
            true => self.handle(req).await,
            false => not_found(),
        }
    }
}

fn not_found() -> Response {
    let mut response = Response::new(Body::from(Bytes::from_static(b"Not Found")));
    *response.status_mut() = StatusCode::NOT_FOUND;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// An [`EngineIo`] in front of another application: requests for the Engine.IO path go
/// to the server, every other request to `inner` (see [`EngineIo::mount`]).
#[derive(Clone)]
pub struct Mounted<A> {
    engine: EngineIo,
    inner: A,
}

impl<A> Mounted<A> {
    /// The Engine.IO server.
    pub fn engine(&self) -> &EngineIo {
        &self.engine
    }
}

impl<A: Application> Application for Mounted<A> {
    async fn call(&self, req: Request) -> Response {
        match self.engine.handles(&req) {
            true => self.engine.handle(req).await,
            false => self.inner.call(req).await,
        }
    }
}

impl fmt::Debug for EngineIo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineIo")
            .field("path", &self.shared.config.path)
            .field("sessions", &self.session_count())
            .finish_non_exhaustive()
    }
}

impl<A> fmt::Debug for Mounted<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mounted")
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}
