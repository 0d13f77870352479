//! HTTP/1.1 (RFC 9112): the connection loop that turns bytes into [`Request`]s and
//! [`Response`]s into bytes.
//!
//! [`serve_connection`] reads top-down: read a head, run the application while streaming
//! the body to it, decide whether the connection can be reused, write the response, and
//! go round again. The sans-IO pieces live beside it: [`parse`] (request heads),
//! [`chunked`] (the chunked decoder), [`encode`] (response heads); [`conn`] owns the socket
//! and [`body`] the request body channel.
//!
//! Invariants: a response is written only after the request's body has been read to its
//! end or the connection is marked to close; a message whose framing is in doubt gets an
//! error answer and a closed connection; at most one body chunk is buffered per request.

pub(crate) mod body;
pub mod chunked;
pub(crate) mod conn;
pub(crate) mod encode;
pub mod parse;
mod respond;

pub use parse::ParseError;

use std::sync::Arc;

use http::{Method, StatusCode, Version};
use tokio::net::TcpStream;

use self::body::{BodyPump, PumpState};
use self::conn::Connection;
use self::parse::{Framing, RequestHead};
use crate::error::Error;
use crate::gateway::{Application, Body, ConnInfo, Request, Response};
use crate::registry::{ConnGuard, ConnState};
use crate::server::Shared;
use crate::upgrade::{OnUpgrade, Upgraded};

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
pub(crate) async fn serve_connection<A: Application>(
    stream: TcpStream,
    info: ConnInfo,
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
        conn.stats.set_state(if first { ConnState::Reading } else { ConnState::Idle });
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
        match exchange(&mut conn, &*app, head, info).await {
            Next::KeepAlive => continue,
            Next::Close => {
                conn.linger_close().await;
                return;
            }
            Next::Done => return,
            Next::Upgrade(tx) => {
                let shutdown = conn.shutdown.clone();
                let (stream, pending) = conn.into_parts();
                let _ = tx.send(Upgraded::new(stream, pending, guard, shutdown));
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
async fn exchange<A: Application>(
    conn: &mut Connection,
    app: &A,
    head: RequestHead,
    info: ConnInfo,
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
    let (req, pump, upgrade_tx) = build_request(head, info, &conn.config);
    let (response, pump) = run_handler(conn, app.call(req), pump).await;
    let mut keep_alive = facts.keep_alive && !conn.shutting_down();
    if let Some(pump) = pump {
        match settle_body(conn, pump).await {
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
            return respond::write_switching_head(conn, response, &facts, tx).await;
        }
    }
    respond::write_response(conn, response, &facts, keep_alive).await
}

/// Builds the application's request from the head, wiring up the body and the upgrade.
fn build_request(
    head: RequestHead,
    info: ConnInfo,
    config: &crate::config::Config,
) -> (Request, Option<BodyPump>, Option<tokio::sync::oneshot::Sender<Upgraded>>) {
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
    req.extensions_mut().insert(info);
    let upgrade_tx = head.upgrade.then(|| {
        let (tx, on_upgrade) = OnUpgrade::pair();
        req.extensions_mut().insert(on_upgrade);
        tx
    });
    (req, pump, upgrade_tx)
}

/// Runs the handler's future, pumping the request body to it while it runs.
async fn run_handler(
    conn: &mut Connection,
    handler: impl std::future::Future<Output = Response>,
    pump: Option<BodyPump>,
) -> (Response, Option<BodyPump>) {
    let Some(mut pump) = pump else {
        return (handler.await, None);
    };
    let mut handler = std::pin::pin!(handler);
    loop {
        tokio::select! {
            biased;
            response = &mut handler => return (response, Some(pump)),
            () = pump_step(conn, &mut pump), if !pump.is_idle() => {}
        }
    }
}

/// Moves one frame of the body from the connection to the handler.
async fn pump_step(conn: &mut Connection, pump: &mut BodyPump) {
    if pump.state == PumpState::AwaitingDemand {
        if !pump.demand().await {
            pump.abandon();
            return;
        }
        // Buffered, so cancelling this step never leaves half an interim answer.
        conn.write_buf.extend_from_slice(encode::CONTINUE);
        if let Err(error) = conn.flush().await {
            pump.fail(error);
            return;
        }
        pump.state = PumpState::Streaming;
    }
    let Some(sender) = pump.sender() else {
        pump.abandon();
        return;
    };
    let Ok(permit) = sender.reserve_owned().await else {
        pump.abandon();
        return;
    };
    match next_frame(conn, pump).await {
        Ok(Some(frame)) => {
            permit.send(Ok(frame));
        }
        Ok(None) => pump.complete(),
        Err(error) => {
            permit.send(Err(body::copy_for_handler(&error)));
            pump.fail(error);
        }
    }
}

/// Decodes the next frame of the body, reading from the socket as needed; `None` at the
/// end of the body.
async fn next_frame(
    conn: &mut Connection,
    pump: &mut BodyPump,
) -> Result<Option<http_body::Frame<bytes::Bytes>>, Error> {
    loop {
        match pump.decoder.decode(&mut conn.read_buf)? {
            Some(chunked::Chunk::Data(data)) => {
                pump.read += data.len() as u64;
                let limit = conn.config.limits.max_body_bytes;
                if pump.read > limit {
                    return Err(Error::BodyTooLarge { limit });
                }
                return Ok(Some(http_body::Frame::data(data)));
            }
            Some(chunked::Chunk::Trailers(trailers)) => {
                return Ok(Some(http_body::Frame::trailers(trailers)))
            }
            Some(chunked::Chunk::End) => return Ok(None),
            None => conn.read_body().await?,
        }
    }
}

/// After the handler answered: makes sure the connection is positioned at the next
/// request. `Ok(true)` if it can be reused, `Ok(false)` if it must close after the
/// response, `Err` if the body failed (answered instead of the handler's response).
async fn settle_body(conn: &mut Connection, mut pump: BodyPump) -> Result<bool, Error> {
    let state = pump.state;
    // The handler is done with the body either way; what is left is ours to drain.
    pump.abandon();
    match state {
        PumpState::Complete => return Ok(true),
        PumpState::Failed => return Err(pump.error.take().unwrap_or(Error::IncompleteMessage)),
        // The client waits for `100 Continue` that never came: it will not send the body.
        PumpState::AwaitingDemand => return Ok(false),
        PumpState::Streaming | PumpState::Abandoned => {}
    }
    let budget = conn.config.limits.max_drain_bytes;
    if pump.decoder.remaining().is_some_and(|remaining| remaining > budget) {
        return Ok(false);
    }
    let start = pump.read;
    while pump.read - start <= budget {
        match next_frame(conn, &mut pump).await {
            Ok(Some(_)) => {}
            Ok(None) => return Ok(true),
            Err(error @ Error::BodyTooLarge { .. }) => return Err(error),
            Err(_) => return Ok(false),
        }
    }
    Ok(false)
}
