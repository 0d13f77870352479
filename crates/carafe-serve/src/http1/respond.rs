//! Writing answers: the application's response, the server's own error answers, the
//! hand-over of an upgraded connection, and the access log line.

use std::fmt::Write as _;

use bytes::Bytes;
use http::{header, HeaderValue, StatusCode, Version};
use http_body::Body as _;
use http_body_util::BodyExt;
use tokio::sync::oneshot;

use super::body::BodyPump;
use super::conn::{Connection, Core, Io, FLUSH_THRESHOLD};
use super::encode::{self, BodyEncoding};
use super::parse::RequestHead;
use super::{Exchange, Next};
use crate::error::Error;
use crate::gateway::{Body, Response};
use crate::registry::ConnState;
use crate::upgrade::Upgraded;

/// Bodies larger than this are written straight from their buffer, not copied.
const DIRECT_WRITE: usize = 16 * 1024;

/// Encodes the server's own answer to a failed request into the write buffer. The
/// connection is closed after it, so it says `connection: close`.
pub(super) fn answer_error(conn: &mut Core, error: &Error) {
    let Some(status) = error.status() else {
        return;
    };
    tracing::debug!(target: "carafe::http1", peer = %conn.stats.peer_addr, "{error}");
    let message = error.to_string();
    let mut headers = http::HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    let exchange = encode::Exchange {
        head_request: false,
        http11: true,
        keep_alive: false,
        body_len: Some(message.len() as u64),
    };
    encode::encode_head(status, &headers, exchange, &mut conn.write_buf);
    conn.write_buf.extend_from_slice(message.as_bytes());
}

/// A response whose head is encoded but which needs I/O to finish: a streamed or large
/// body, or a request body to drain afterwards.
pub(super) struct Unfinished {
    body: Body,
    encoding: BodyEncoding,
    keep_alive: bool,
    /// What is left of writing a body that is in memory.
    full: Option<FullWrite>,
    pump: Option<BodyPump>,
}

/// How far [`start_response`] got.
pub(super) enum Started {
    /// The response is in the write buffer.
    Done(Next),
    /// The response needs [`finish_response`].
    Unfinished(Unfinished),
}

/// Encodes the application's response into the write buffer. Not async: the common
/// answer (a small body in memory, no request body left) needs no I/O here, and a future
/// built for every request would be copied around for nothing.
pub(super) fn start_response(
    conn: &mut Core,
    response: Response,
    facts: &Exchange,
    keep_alive: bool,
    pump: Option<BodyPump>,
) -> Started {
    conn.stats.set_state(ConnState::Writing);
    let (parts, body) = response.into_parts();
    let status = if parts.status == StatusCode::SWITCHING_PROTOCOLS {
        // 101 without an upgrade request (or twice) is an application bug.
        tracing::error!(target: "carafe::http1", "101 answer to a request that did not ask to upgrade");
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        parts.status
    };
    let exchange = encode::Exchange {
        head_request: facts.method == http::Method::HEAD,
        http11: facts.version == Version::HTTP_11,
        keep_alive,
        body_len: body.size_hint().exact(),
    };
    let encoded = encode::encode_head(status, &parts.headers, exchange, &mut conn.write_buf);
    let (encoding, keep_alive) = (encoded.encoding, encoded.keep_alive);
    conn.recycle_headers(parts.headers);
    log_access(facts, status, exchange.body_len);
    conn.stats.add_request();
    let full = match body.as_full() {
        Some(bytes) if encoding != BodyEncoding::None => Some(write_full(conn, bytes, encoding)),
        Some(_) => Some(FullWrite::Buffered),
        None if encoding == BodyEncoding::None => Some(FullWrite::Buffered),
        None => None,
    };
    if matches!(full, Some(FullWrite::Buffered)) && pump.is_none() {
        let reusable = keep_alive && !encode::forces_close(encoding);
        return Started::Done(if reusable {
            Next::KeepAlive
        } else {
            Next::Close
        });
    }
    Started::Unfinished(Unfinished {
        body,
        encoding,
        keep_alive,
        full,
        pump,
    })
}

/// Writes the rest of an [`Unfinished`] response and drains what is left of the request
/// body; says what becomes of the connection.
pub(super) async fn finish_response<S: Io>(conn: &mut Connection<S>, mut rest: Unfinished) -> Next {
    let written = match rest.full.take() {
        Some(step) => {
            let bytes = rest.body.as_full().unwrap_or_default();
            finish_full(conn, bytes, step).await
        }
        None => write_streamed(conn, &mut rest.body, rest.encoding, rest.pump.as_mut()).await,
    };
    // A body the response did not consume is drained now; if that fails the connection
    // closes even though the head did not say so (RFC 9112 §9.6 allows it).
    let settled = match (&written, rest.pump.as_mut()) {
        (Ok(()), Some(pump)) => pump.drain(conn).await.unwrap_or(false),
        _ => true,
    };
    match written {
        Ok(()) if rest.keep_alive && settled && !encode::forces_close(rest.encoding) => {
            Next::KeepAlive
        }
        Ok(()) => Next::Close,
        Err(error) => {
            tracing::debug!(target: "carafe::http1", "writing the response failed: {error}");
            Next::Done
        }
    }
}

/// A body already in memory: copied behind the head (small) or written on its own.
/// Not async on the common path, so that answering a small request builds no future.
fn write_full(conn: &mut Core, bytes: &[u8], encoding: BodyEncoding) -> FullWrite {
    if encoding == BodyEncoding::Chunked {
        // Only a user-declared length can make a full body unsized; keep it simple.
        encode::write_chunk_size(bytes.len(), &mut conn.write_buf);
    }
    let direct = bytes.len() >= DIRECT_WRITE;
    if !direct {
        conn.write_buf.extend_from_slice(bytes);
    }
    let tail: &'static [u8] = match encoding {
        BodyEncoding::Chunked => b"\r\n0\r\n\r\n",
        _ => b"",
    };
    match direct {
        true => FullWrite::Direct { tail },
        false => {
            conn.write_buf.extend_from_slice(tail);
            match conn.write_buf.len() >= FLUSH_THRESHOLD {
                true => FullWrite::Flush,
                false => FullWrite::Buffered,
            }
        }
    }
}

/// What is left to do after [`write_full`].
enum FullWrite {
    /// Everything is in the write buffer.
    Buffered,
    /// The write buffer is full enough to flush now.
    Flush,
    /// The body is large: write it straight from its buffer, then `tail`.
    Direct { tail: &'static [u8] },
}

/// Finishes a [`write_full`] that needs I/O (large bodies, full buffers).
async fn finish_full<S: Io>(
    conn: &mut Connection<S>,
    bytes: &[u8],
    step: FullWrite,
) -> Result<(), Error> {
    match step {
        FullWrite::Buffered => Ok(()),
        FullWrite::Flush => conn.flush().await,
        FullWrite::Direct { tail } => {
            conn.write_direct(bytes).await?;
            conn.write_buf.extend_from_slice(tail);
            Ok(())
        }
    }
}

/// A streamed body: each frame is written and flushed as it comes, so server-sent events
/// and long polls reach the client without delay.
async fn write_streamed<S: Io>(
    conn: &mut Connection<S>,
    body: &mut Body,
    encoding: BodyEncoding,
    mut pump: Option<&mut BodyPump>,
) -> Result<(), Error> {
    let mut left = match encoding {
        BodyEncoding::Length(length) => Some(length),
        _ => None,
    };
    loop {
        // Full duplex: while the response streams, the request body keeps flowing to
        // whoever reads it (the response itself, for an echo).
        let frame = match pump.as_deref_mut().filter(|pump| !pump.is_idle()) {
            None => body.frame().await,
            Some(pump) => tokio::select! {
                biased;
                frame = body.frame() => frame,
                () = pump.step(conn) => continue,
            },
        };
        let Some(frame) = frame else {
            break;
        };
        let frame = frame?;
        let Ok(data) = frame.into_data() else {
            continue; // Trailers are not sent: we never announce them in `trailer`.
        };
        if data.is_empty() {
            continue;
        }
        if let Some(left) = &mut left {
            *left = left.checked_sub(data.len() as u64).ok_or(Error::Body(
                "response body is longer than its content-length".into(),
            ))?;
        }
        write_data_frame(conn, data, encoding).await?;
        conn.flush().await?;
    }
    if left.is_some_and(|left| left > 0) {
        return Err(Error::Body(
            "response body is shorter than its content-length".into(),
        ));
    }
    if encoding == BodyEncoding::Chunked {
        conn.write_buf.extend_from_slice(encode::LAST_CHUNK);
    }
    Ok(())
}

async fn write_data_frame<S: Io>(
    conn: &mut Connection<S>,
    data: Bytes,
    encoding: BodyEncoding,
) -> Result<(), Error> {
    if encoding == BodyEncoding::Chunked {
        encode::write_chunk_size(data.len(), &mut conn.write_buf);
    }
    if data.len() >= DIRECT_WRITE {
        conn.write_direct(&data).await?;
    } else {
        conn.write_buf.extend_from_slice(&data);
    }
    if encoding == BodyEncoding::Chunked {
        conn.write_buf.extend_from_slice(b"\r\n");
    }
    Ok(())
}

/// Writes the 101 head; the caller then hands the socket, with any bytes read past the
/// request, to the handler's [`OnUpgrade`](crate::upgrade::OnUpgrade).
pub(super) async fn write_switching_head<S: Io>(
    conn: &mut Connection<S>,
    response: Response,
    facts: &Exchange,
    tx: oneshot::Sender<Upgraded>,
) -> Next {
    let exchange = encode::Exchange {
        head_request: false,
        http11: true,
        keep_alive: true,
        body_len: Some(0),
    };
    encode::encode_head(
        response.status(),
        response.headers(),
        exchange,
        &mut conn.write_buf,
    );
    log_access(facts, response.status(), None);
    conn.stats.add_request();
    match conn.flush().await {
        Ok(()) => Next::Upgrade(tx),
        Err(_) => Next::Done,
    }
}

/// The request part of the access log line, computed before the head is consumed, or
/// `None` when access logging is off.
pub(super) fn access_log_request(conn: &Core, head: &RequestHead) -> Option<String> {
    if !conn.config.access_log || !tracing::enabled!(target: "carafe::access", tracing::Level::INFO)
    {
        return None;
    }
    let mut line = String::with_capacity(64);
    let _ = write!(
        line,
        "{} - - [{}] \"{} {} {:?}\"",
        conn.stats.peer_addr.ip(),
        werkzeug_time(),
        head.method,
        head.uri,
        head.version
    );
    Some(line)
}

/// Logs Werkzeug's line: `127.0.0.1 - - [22/Nov/2026 05:01:50] "GET / HTTP/1.1" 200 13`.
fn log_access(facts: &Exchange, status: StatusCode, body_len: Option<u64>) {
    let Some(request) = &facts.log_line else {
        return;
    };
    match body_len {
        Some(len) => {
            tracing::info!(target: "carafe::access", "{request} {} {len}", status.as_u16())
        }
        None => tracing::info!(target: "carafe::access", "{request} {} -", status.as_u16()),
    }
}

/// The time as Werkzeug's log shows it, in UTC: `22/Nov/2026 05:01:50`.
fn werkzeug_time() -> String {
    // IMF-fixdate: "Sun, 22 Nov 2026 05:01:50 GMT"
    let imf = httpdate::fmt_http_date(std::time::SystemTime::now());
    let parts: Vec<&str> = imf.split(' ').collect();
    match parts.as_slice() {
        [_, day, month, year, time, _] => format!("{day}/{month}/{year} {time}"),
        _ => imf,
    }
}
