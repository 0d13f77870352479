//! HTTP/1.1 (RFC 9112): the connection loop that turns bytes into [`Request`]s and
//! [`Response`]s into bytes.
//!
//! `serve_connection` reads top-down: read a head, run the application while streaming
//! the body to it, decide whether the connection can be reused, write the response, and
//! go round again. The sans-IO pieces live beside it: [`parse`] (request heads),
//! [`chunked`] (the chunked decoder), `encode` (response heads), `framing` (the RFC 9112
//! rules); `conn` owns the socket and `body` the request body channel.
//!
//! Invariants: a connection reads the next request only after the previous body was read
//! to its end (a body may stream in while its response streams out); a message whose framing is in doubt gets an
//! error answer and a closed connection; at most one body chunk is buffered per request.

pub(crate) mod body;
pub mod chunked;
pub(crate) mod conn;
pub(crate) mod encode;
mod framing;
pub mod parse;
mod respond;

pub use parse::ParseError;

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::Poll;

use self::body::BodyPump;
use self::conn::Connection;
pub(crate) use self::conn::Io;
use self::parse::{Framing, RequestHead};
use crate::error::Error;
use crate::gateway::{Application, Body, Request, Response};
use crate::registry::{ConnGuard, ConnState};
use crate::server::Shared;
use crate::upgrade::{OnUpgrade, Upgraded};
use http::{Method, StatusCode, Version};

/// What happens to the connection after one exchange.
#[derive(Debug)]
enum Next {
    /// Read another request.
    KeepAlive,
    /// Close (lingering, if the client may still be sending).
    Close,
    /// Close at once: the client is gone.
    Done,
    /// The 101 answer is written: hand the stream to the handler's `OnUpgrade`.
    Upgrade(tokio::sync::oneshot::Sender<Upgraded>),
}

/// Serves one accepted connection until it closes.
pub(crate) async fn serve_connection<S: Io, A: Application>(
    stream: S,
    guard: ConnGuard,
    app: Arc<A>,
    shared: Arc<Shared>,
) {
    let mut conn = Connection::new(
        stream,
        Arc::clone(&guard.stats),
        Arc::clone(&shared.config),
        shared.shutdown.clone(),
    );
    let mut first = true;
    loop {
        conn.stats.set_state(if first {
            ConnState::Reading
        } else {
            ConnState::Idle
        });
        let head = match conn.read_head(first).await {
            Ok(Some(head)) => head,
            Ok(None) => break,
            Err(error) => {
                respond::answer_error(&mut conn, &error);
                conn.linger_close().await;
                return;
            }
        };
        first = false;
        match exchange(&mut conn, &*app, head).await {
            Next::KeepAlive => continue,
            Next::Close => {
                conn.linger_close().await;
                return;
            }
            Next::Done => return,
            Next::Upgrade(tx) => {
                let signals = (conn.shutdown.clone(), shared.stopped.clone());
                let (stream, pending) = conn.into_parts();
                let _ = tx.send(Upgraded::new(Box::new(stream), pending, guard, signals));
                return;
            }
        }
    }
    conn.stats.set_state(ConnState::Closing);
    conn.close().await;
}

/// Request facts kept after the head is moved into the [`Request`].
struct Exchange {
    method: Method,
    version: Version,
    keep_alive: bool,
    /// The access-log line's request part, when access logging is on.
    log_line: Option<String>,
}

/// Handles one request: runs the application, settles the body, writes the response.
async fn exchange<S: Io, A: Application>(
    conn: &mut Connection<S>,
    app: &A,
    head: RequestHead,
) -> Next {
    conn.stats.set_state(ConnState::Handling);
    if let Framing::Length(length) = head.framing {
        let limit = conn.config.limits.max_body_bytes;
        if length > limit {
            respond::answer_error(conn, &Error::BodyTooLarge { limit });
            return Next::Close;
        }
    }
    let facts = Exchange {
        method: head.method.clone(),
        version: head.version,
        keep_alive: head.keep_alive,
        log_line: respond::access_log_request(conn, &head),
    };
    let wants_upgrade = head.upgrade;
    let (req, pump, upgrade_tx) = build_request(head, &conn.config);
    // Paths that stream a body are boxed: their futures are large, and an unboxed large
    // state would be copied on every request, even the ones that never take those paths.
    let (response, mut pump) = match pump {
        None => {
            // Pinned here, not moved into a wrapper future: that move would cost a copy of
            // the application's future on every request.
            let mut handler = std::pin::pin!(app.call(req));
            let outcome = std::future::poll_fn(|cx| poll_catching(handler.as_mut(), cx)).await;
            (outcome.unwrap_or_else(panic_response), None)
        }
        Some(pump) => Box::pin(run_handler(conn, catch_panic(app.call(req)), pump)).await,
    };
    let mut keep_alive = facts.keep_alive && !conn.shutting_down();
    if let Some(pump) = &mut pump {
        match Box::pin(pump.before_response(conn)).await {
            Ok(reusable) => keep_alive &= reusable,
            Err(error) => {
                if error.status().is_some() {
                    respond::answer_error(conn, &error);
                    return Next::Close;
                }
                return Next::Done;
            }
        }
    }
    if wants_upgrade && response.status() == StatusCode::SWITCHING_PROTOCOLS {
        if let Some(tx) = upgrade_tx {
            return Box::pin(respond::write_switching_head(conn, response, &facts, tx)).await;
        }
    }
    match respond::start_response(conn, response, &facts, keep_alive, pump) {
        respond::Started::Done(next) => next,
        respond::Started::Unfinished(rest) => Box::pin(respond::finish_response(conn, rest)).await,
    }
}

/// Builds the application's request from the head, wiring up the body and the upgrade.
fn build_request(
    head: RequestHead,
    config: &crate::config::Config,
) -> (
    Request,
    Option<BodyPump>,
    Option<tokio::sync::oneshot::Sender<Upgraded>>,
) {
    let decoder = body::Decoder::new(head.framing, config.limits.max_chunk_line_bytes);
    let (body, pump) = match decoder {
        None => (Body::empty(), None),
        Some(decoder) => {
            let (incoming, pump) = body::channel(decoder, head.expect_continue);
            (Body::incoming(incoming), Some(pump))
        }
    };
    let mut req = Request::new(body);
    *req.method_mut() = head.method;
    *req.uri_mut() = head.uri;
    *req.version_mut() = head.version;
    *req.headers_mut() = head.headers;
    let upgrade_tx = head.upgrade.then(|| {
        let (tx, on_upgrade) = OnUpgrade::pair();
        req.extensions_mut().insert(on_upgrade);
        tx
    });
    (req, pump, upgrade_tx)
}

/// Polls the application's future, catching a panic (`None`). The future is dropped right
/// after a panic, so no broken state is observed.
fn poll_catching<F: Future<Output = Response>>(
    handler: std::pin::Pin<&mut F>,
    cx: &mut std::task::Context<'_>,
) -> Poll<Option<Response>> {
    match std::panic::catch_unwind(AssertUnwindSafe(|| handler.poll(cx))) {
        Ok(Poll::Ready(response)) => Poll::Ready(Some(response)),
        Ok(Poll::Pending) => Poll::Pending,
        Err(_) => Poll::Ready(None),
    }
}

/// Runs the application's future, answering 500 (and closing the connection) if it
/// panics: one handler's bug must not drop the connection without a word, and Werkzeug
/// answers 500 too. The panic itself is reported by the panic hook as usual.
async fn catch_panic(handler: impl Future<Output = Response>) -> Response {
    let mut handler = std::pin::pin!(handler);
    let outcome = std::future::poll_fn(|cx| poll_catching(handler.as_mut(), cx)).await;
    outcome.unwrap_or_else(panic_response)
}

/// The answer to a request whose handler panicked.
fn panic_response() -> Response {
    tracing::error!(target: "carafe::http1", "the application panicked; answered 500");
    let mut response = Response::new(Body::from("Internal Server Error"));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    let close = http::HeaderValue::from_static("close");
    response
        .headers_mut()
        .insert(http::header::CONNECTION, close);
    response
}

/// Runs the handler's future, pumping the request body to it while it runs.
async fn run_handler<S: Io>(
    conn: &mut Connection<S>,
    handler: impl std::future::Future<Output = Response>,
    mut pump: BodyPump,
) -> (Response, Option<BodyPump>) {
    let mut handler = std::pin::pin!(handler);
    loop {
        tokio::select! {
            biased;
            response = &mut handler => return (response, Some(pump)),
            () = pump.step(conn), if !pump.is_idle() => {}
        }
    }
}
