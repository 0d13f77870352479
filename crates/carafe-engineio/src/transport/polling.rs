//! HTTP long-polling (protocol "Transports / HTTP long-polling"): the handshake, GET
//! (receive), POST (send), and the heartbeat task that drives a polling session.
//!
//! A GET takes everything queued for the client, or waits until something is; at most one
//! GET waits per session, and a second one closes the session (the first gets `1`, the
//! second 400). A POST body (at most `max_payload` bytes, else 413) is decoded packet by
//! packet and delivered before `ok` is answered; a bad packet closes the session.

use std::collections::VecDeque;
use std::pin::pin;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use http::header::{self, HeaderValue};
use tokio::time::Instant;

use carafe_serve::{Body, Request, Response};

use crate::engine::EngineIo;
use crate::error::BadRequest;
use crate::packet::{PacketType, ParseError};
use crate::payload::{Payload, SEPARATOR};
use crate::socket::{Handshake, Outgoing, Phase, PollAnswer, Tick, Upgrade};
use crate::{DisconnectReason, Error, Socket, Transport};

/// How long a GET that arrives after the upgrade probe waits before it gets `noop` (the
/// reference server's upgrade check interval).
const PROBED_POLL_WAIT: Duration = Duration::from_millis(100);

/// Opens a long-polling session: the answer is the `open` packet.
pub(crate) fn handshake(engine: &EngineIo, req: Request) -> Result<Response, Error> {
    let socket = engine.open_session(Handshake::from_request(&req), Transport::Polling)?;
    tokio::spawn(drive(socket.clone()));
    let open = engine.open_packet(socket.sid(), Transport::Polling);
    socket.session.engine.handler.on_connect(&socket);
    Ok(payload_response(Body::from(open)))
}

/// The session's driver while it polls: the heartbeat, and the report of its close.
/// Returns when the session closes or an upgrade hands the driving to the WebSocket task.
pub(crate) async fn drive(socket: Socket) {
    let session = &socket.session;
    let ping_timeout = session.engine.config.ping_timeout;
    loop {
        let mut woken = pin!(session.lifecycle.notified());
        woken.as_mut().enable();
        let tick = {
            let mut state = session.lock();
            if state.transport == Transport::WebSocket {
                return;
            }
            state.tick(Instant::now(), ping_timeout)
        };
        match tick {
            Tick::Finished(reason) => return socket.finish(reason).await,
            Tick::Sleep { until, wake_writer } => {
                if wake_writer {
                    session.outgoing.notify_waiters();
                }
                tokio::select! {
                    () = woken => {}
                    () = tokio::time::sleep_until(until) => {}
                }
            }
        }
    }
}

/// What a GET answers.
enum Answer {
    Packets(VecDeque<Outgoing>),
    Special(PollAnswer),
}

/// A GET: the packets queued for the client, as soon as there are any.
pub(crate) async fn get(socket: &Socket) -> Result<Response, Error> {
    let session = &socket.session;
    let arrived_probed = {
        let mut state = session.lock();
        if matches!(state.phase, Phase::Closed(_)) {
            return match std::mem::take(&mut state.noop_owed) {
                true => Ok(payload_response(encode_answer(Answer::Special(
                    PollAnswer::Noop,
                )))),
                false => Err(Error::UnknownSid),
            };
        }
        if state.transport != Transport::Polling {
            return Err(Error::BadRequest(BadRequest::TransportMismatch));
        }
        if state.poll_waiting {
            state.close_now(DisconnectReason::TransportError);
            drop(state);
            session.wake_all();
            return Err(Error::BadRequest(BadRequest::OverlappingPoll));
        }
        state.poll_waiting = true;
        state.upgrade == Upgrade::Probed
    };
    let _waiting = PollGuard(socket);
    let mut probe_wait = arrived_probed.then(|| Instant::now() + PROBED_POLL_WAIT);
    let answer = loop {
        let mut woken = pin!(session.outgoing.notified());
        woken.as_mut().enable();
        if let Some(answer) = next_answer(socket, arrived_probed, &mut probe_wait)? {
            break answer;
        }
        match probe_wait {
            Some(until) => {
                tokio::select! {
                    () = woken => {}
                    () = tokio::time::sleep_until(until) => {}
                }
            }
            None => woken.await,
        }
    };
    Ok(payload_response(encode_answer(answer)))
}

/// Decides the waiting GET's answer, if it has one yet.
fn next_answer(
    socket: &Socket,
    arrived_probed: bool,
    probe_wait: &mut Option<Instant>,
) -> Result<Option<Answer>, Error> {
    let mut state = socket.session.lock();
    if let Some(special) = state.poll_answer.take() {
        return Ok(Some(Answer::Special(special)));
    }
    if state.transport == Transport::WebSocket {
        // The upgrade completed while this GET waited.
        return match arrived_probed {
            true => Err(Error::BadRequest(BadRequest::TransportMismatch)),
            false => Ok(Some(Answer::Special(PollAnswer::Noop))),
        };
    }
    if !state.queue.is_empty() {
        let packets = state.take_queue();
        let closed = matches!(state.phase, Phase::Closed(_));
        drop(state);
        if closed {
            socket.session.lifecycle.notify_waiters();
        }
        socket.session.drained.notify_waiters();
        return Ok(Some(Answer::Packets(packets)));
    }
    if matches!(state.phase, Phase::Closed(_)) {
        return Ok(Some(Answer::Special(PollAnswer::Close)));
    }
    if state.upgrade == Upgrade::Probed && probe_wait.is_some_and(|at| Instant::now() >= at) {
        *probe_wait = None;
        return Ok(Some(Answer::Special(PollAnswer::Noop)));
    }
    Ok(None)
}

/// Clears the session's "a GET is waiting" mark when the GET ends, however it ends.
struct PollGuard<'a>(&'a Socket);

impl Drop for PollGuard<'_> {
    fn drop(&mut self) {
        let mut state = self.0.session.lock();
        state.poll_waiting = false;
        state.poll_answer = None;
    }
}

/// The body of a GET's answer: packets joined by the record separator.
fn encode_answer(answer: Answer) -> Body {
    let packets = match answer {
        Answer::Special(PollAnswer::Noop) => return Body::from(&b"6"[..]),
        Answer::Special(PollAnswer::Close) => return Body::from(&b"1"[..]),
        Answer::Packets(packets) => packets,
    };
    if let (1, Some(Outgoing::Message(message))) = (packets.len(), packets.front()) {
        if let Some(wire) = message.wire_text() {
            // One text message: its wire form is the whole body, no copy.
            return Body::from(Bytes::from(wire.clone()));
        }
    }
    let len: usize = packets.iter().map(|packet| polling_len(packet) + 1).sum();
    let mut out = BytesMut::with_capacity(len);
    for (index, packet) in packets.iter().enumerate() {
        if index > 0 {
            out.put_u8(SEPARATOR);
        }
        match packet {
            Outgoing::Message(message) => message.encode_polling(&mut out),
            Outgoing::Ping => out.put_u8(PacketType::Ping.as_byte()),
            Outgoing::Close => out.put_u8(PacketType::Close.as_byte()),
        }
    }
    Body::from(out.freeze())
}

fn polling_len(packet: &Outgoing) -> usize {
    match packet {
        Outgoing::Message(message) => message.polling_len(),
        Outgoing::Ping | Outgoing::Close => 1,
    }
}

/// A 200 answer carrying a payload, with the reference server's headers.
fn payload_response(body: Body) -> Response {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=UTF-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A POST: the client's packets, delivered in order before `ok` is answered.
pub(crate) async fn post(socket: &Socket, req: Request) -> Result<Response, Error> {
    let session = &socket.session;
    let max_payload = session.engine.config.max_payload;
    if is_octet_stream(&req) {
        session.close_now(DisconnectReason::TransportError);
        return Err(Error::BadRequest(BadRequest::BinaryContent));
    }
    if content_length(&req).is_some_and(|len| len > max_payload as u64) {
        return Err(Error::PayloadTooLarge);
    }
    {
        let mut state = session.lock();
        if matches!(state.phase, Phase::Closed(_)) {
            return Err(Error::UnknownSid);
        }
        if state.transport != Transport::Polling {
            return Err(Error::BadRequest(BadRequest::TransportMismatch));
        }
        if state.posting {
            state.close_now(DisconnectReason::TransportError);
            drop(state);
            session.wake_all();
            return Err(Error::BadRequest(BadRequest::OverlappingPost));
        }
        state.posting = true;
    }
    let _posting = PostGuard(socket);
    let body = match req.into_body().to_bytes(max_payload).await {
        Ok(body) => body,
        Err(carafe_serve::Error::BodyTooLarge { .. }) => return Err(Error::PayloadTooLarge),
        Err(_) => {
            session.close_now(DisconnectReason::TransportError);
            return Err(Error::BadRequest(BadRequest::Body));
        }
    };
    deliver(socket, body)?;
    let mut response = Response::new(Body::from(&b"ok"[..]));
    let headers = response.headers_mut();
    // text/html rather than text/plain keeps some browsers from offering a download.
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Delivers the packets of a POST body; a bad packet closes the session.
fn deliver(socket: &Socket, body: Bytes) -> Result<(), Error> {
    for packet in Payload::new(body) {
        match packet {
            Ok(packet) => {
                if !socket.receive(packet) {
                    break;
                }
            }
            Err(parse) => return Err(parse_error(socket, parse)),
        }
    }
    Ok(())
}

fn parse_error(socket: &Socket, parse: ParseError) -> Error {
    socket.session.close_now(DisconnectReason::ParseError);
    Error::BadRequest(BadRequest::Payload(parse))
}

/// Clears the session's "a POST is being read" mark when the POST ends.
struct PostGuard<'a>(&'a Socket);

impl Drop for PostGuard<'_> {
    fn drop(&mut self) {
        self.0.session.lock().posting = false;
    }
}

fn is_octet_stream(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes() == b"application/octet-stream")
}

fn content_length(req: &Request) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}
