//! The WebSocket transport (protocol "Transports / WebSocket" and "Upgrade"), on
//! `carafe_serve::websocket`.
//!
//! Each packet is one frame: text packets in text frames, binary messages in binary
//! frames as they are. A WebSocket either opens a session of its own (no `sid`), or
//! upgrades a polling session: the client sends `2probe`, the server answers `3probe`
//! and ends the pending GET with `noop`, the client sends `5`, and from then on the
//! session's queue drains to the WebSocket. A second WebSocket for a session that is
//! upgrading or upgraded is accepted and closed at once, as the reference does.
//!
//! Once on WebSocket, one task per session does everything: it reads frames, writes
//! queued packets, runs the heartbeat and reports the close. A write in progress is a
//! boxed future kept across turns of the loop, so a slow reader of our frames does not
//! stop us reading its pongs, and a close is never stuck behind it.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::{pin, Pin};
use std::time::Duration;

use tokio::time::Instant;

use carafe_serve::websocket::{
    self, close_code, Message, PendingWebSocket, WebSocketConfig, WebSocketError, WebSocketReader,
    WebSocketWriter,
};
use carafe_serve::{Request, Response};

use crate::engine::EngineIo;
use crate::error::BadRequest;
use crate::packet::Packet;
use crate::socket::{Handshake, Outgoing, Phase, PollAnswer, Tick, Upgrade};
use crate::{DisconnectReason, Error, Socket, Str, Transport};

/// How long the server waits for its close frame to go out before dropping the
/// connection.
const CLOSE_WRITE_TIMEOUT: Duration = Duration::from_secs(1);

pub(crate) use websocket::is_upgrade_request;

fn config(engine: &crate::Config) -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(engine.max_payload)
        .max_frame_size(engine.max_payload)
        .permessage_deflate(engine.permessage_deflate)
        // A shutdown closes the session gracefully (see `drive`), with its own reason.
        .close_on_shutdown(false)
}

fn accept(
    req: &mut Request,
    engine: &crate::Config,
) -> Result<(Response, PendingWebSocket), Error> {
    websocket::accept(req, &config(engine)).map_err(|handshake| {
        tracing::debug!(target: "carafe::engineio", "websocket handshake refused: {handshake}");
        Error::BadRequest(BadRequest::TransportHandshake)
    })
}

/// A WebSocket that opens a session of its own.
pub(crate) fn handshake(engine: &EngineIo, mut req: Request) -> Result<Response, Error> {
    if !engine.has_room() {
        return Err(Error::TooManySessions);
    }
    let (response, pending) = accept(&mut req, engine.config())?;
    let handshake = Handshake::from_request(&req);
    let engine = engine.clone();
    tokio::spawn(async move {
        let Ok(ws) = pending.wait().await else { return };
        let (reader, writer) = ws.split();
        let socket = match engine.open_session(handshake, Transport::WebSocket) {
            Ok(socket) => socket,
            Err(_) => return close_quietly(&writer, close_code::INTERNAL_ERROR).await,
        };
        let open = engine.open_packet(socket.sid(), Transport::WebSocket);
        if writer.send(Message::text(open)).await.is_err() {
            socket.session.close_now(DisconnectReason::TransportError);
        }
        socket.session.engine.handler.on_connect(&socket);
        drive(socket, reader, writer).await;
    });
    Ok(response)
}

/// A WebSocket for an existing polling session: the upgrade.
pub(crate) fn upgrade(socket: Socket, mut req: Request) -> Result<Response, Error> {
    if matches!(socket.session.lock().phase, Phase::Closed(_)) {
        return Err(Error::UnknownSid);
    }
    let (response, pending) = accept(&mut req, &socket.session.engine.config)?;
    let may_upgrade = {
        let mut state = socket.session.lock();
        let free = state.transport == Transport::Polling && state.upgrade == Upgrade::None;
        if free {
            state.upgrade = Upgrade::Started;
        }
        free
    };
    tokio::spawn(async move {
        let Ok(ws) = pending.wait().await else {
            return end_upgrade(&socket, may_upgrade);
        };
        let (reader, writer) = ws.split();
        if !may_upgrade {
            return close_quietly(&writer, close_code::POLICY_VIOLATION).await;
        }
        match probe(&socket, reader, &writer).await {
            Some(reader) => drive(socket, reader, writer).await,
            None => {
                end_upgrade(&socket, true);
                close_quietly(&writer, close_code::NORMAL).await;
            }
        }
    });
    Ok(response)
}

/// Forgets a failed upgrade: the session goes on polling.
fn end_upgrade(socket: &Socket, started: bool) {
    if started {
        socket.session.lock().upgrade = Upgrade::None;
    }
}

/// The upgrade's probe exchange. Returns the reader once the client sent `5` and the
/// session is switched to WebSocket, or `None` if the upgrade failed.
async fn probe(
    socket: &Socket,
    mut reader: WebSocketReader,
    writer: &WebSocketWriter,
) -> Option<WebSocketReader> {
    let session = &socket.session;
    let deadline = Instant::now() + session.engine.config.upgrade_timeout;
    loop {
        let mut closed = pin!(session.lifecycle.notified());
        closed.as_mut().enable();
        if matches!(session.lock().phase, Phase::Closed(_)) {
            return None;
        }
        let item = tokio::select! {
            item = reader.recv() => item,
            () = closed => continue,
            () = tokio::time::sleep_until(deadline) => return None,
        };
        match decode(item?.ok()?) {
            Some(Ok(Packet::Ping(data))) if data == "probe" => {
                writer.send(Message::text("3probe")).await.ok()?;
                probed(socket);
            }
            Some(Ok(Packet::Upgrade)) => return switch(socket).then_some(reader),
            _ => return None,
        }
    }
}

/// The probe was answered: the pending GET ends with `noop`.
fn probed(socket: &Socket) {
    let mut state = socket.session.lock();
    state.upgrade = Upgrade::Probed;
    if state.poll_waiting && state.poll_answer.is_none() {
        state.poll_answer = Some(PollAnswer::Noop);
    }
    drop(state);
    socket.session.outgoing.notify_waiters();
}

/// The client sent `5`: the session moves to WebSocket and this task becomes its
/// driver. `false` if the session closed meanwhile.
fn switch(socket: &Socket) -> bool {
    let mut state = socket.session.lock();
    if matches!(state.phase, Phase::Closed(_)) {
        return false;
    }
    state.transport = Transport::WebSocket;
    state.upgrade = Upgrade::None;
    drop(state);
    // The polling driver sees the new transport and ends; a waiting GET is answered.
    socket.session.wake_all();
    true
}

/// A frame as a packet; `None` for frames that carry none (pings, pongs, close).
fn decode(message: Message) -> Option<Result<Packet, crate::packet::ParseError>> {
    match message {
        Message::Text(text) => Some(Packet::decode_text(text)),
        Message::Binary(data) => Some(Ok(Packet::decode_binary(data))),
        Message::Ping(_) | Message::Pong(_) => None,
        Message::Close(_) => Some(Ok(Packet::Close)),
    }
}

/// A batch of packets being written; it resolves to the emptied queue, kept for the next
/// batch (see `State::take_queue_into`).
type Sending =
    Pin<Box<dyn Future<Output = (Result<(), WebSocketError>, VecDeque<Outgoing>)> + Send>>;

/// The session's driver on WebSocket: reads, writes, heartbeat, close.
async fn drive(socket: Socket, mut reader: WebSocketReader, writer: WebSocketWriter) {
    let session = &socket.session;
    let ping_timeout = session.engine.config.ping_timeout;
    let mut shutdown = pin!(writer.shutdown_signal());
    let mut shutdown_seen = false;
    let mut sending: Option<Sending> = None;
    let mut spare = VecDeque::new();
    // One timer for the whole session, moved when the heartbeat's next deadline moves,
    // rather than a new one registered for every frame.
    let mut timer = pin!(tokio::time::sleep_until(Instant::now()));
    let reason = loop {
        let mut outgoing = pin!(session.outgoing.notified());
        outgoing.as_mut().enable();
        let mut lifecycle = pin!(session.lifecycle.notified());
        lifecycle.as_mut().enable();
        let (tick, batch) = {
            let mut state = session.lock();
            let tick = state.tick(Instant::now(), ping_timeout);
            let idle = sending.is_none() && !state.queue.is_empty();
            (
                tick,
                idle.then(|| state.take_queue_into(std::mem::take(&mut spare))),
            )
        };
        let until = match tick {
            Tick::Finished(reason) => break reason,
            Tick::Sleep { until, .. } => until,
        };
        if timer.deadline() != until {
            timer.as_mut().reset(until);
        }
        if let Some(batch) = batch {
            sending = Some(Box::pin(write_batch(writer.clone(), batch)));
            session.drained.notify_waiters();
        }
        tokio::select! {
            item = reader.recv() => on_frame(&socket, item),
            written = async { Some(sending.as_mut()?.await) }, if sending.is_some() => {
                sending = None;
                let (written, emptied) = written.unwrap_or_else(|| (Ok(()), VecDeque::new()));
                spare = emptied;
                if written.is_err() {
                    session.close_now(DisconnectReason::TransportError);
                }
            }
            () = outgoing, if sending.is_none() => {}
            () = lifecycle => {}
            () = &mut timer => {}
            () = &mut shutdown, if !shutdown_seen => {
                shutdown_seen = true;
                socket.close_with(DisconnectReason::ServerClose);
            }
        }
    };
    if let Some(write) = sending {
        // The last batch of a graceful close: let it finish, briefly.
        let _ = tokio::time::timeout(CLOSE_WRITE_TIMEOUT, write).await;
    }
    close_quietly(&writer, close_code::NORMAL).await;
    drop(reader);
    socket.finish(reason).await;
}

/// Delivers one frame from the client.
fn on_frame(socket: &Socket, item: Option<Result<Message, WebSocketError>>) {
    let session = &socket.session;
    let message = match item {
        Some(Ok(message)) => message,
        // The connection ended without a close frame.
        None => return session.close_now(DisconnectReason::TransportClose),
        // The peer broke the protocol, or the connection failed.
        Some(Err(_)) => return session.close_now(DisconnectReason::TransportError),
    };
    match decode(message) {
        None => {}
        Some(Ok(Packet::Close)) => session.close_now(DisconnectReason::TransportClose),
        Some(Ok(packet)) => {
            socket.receive(packet);
        }
        Some(Err(parse)) => {
            tracing::debug!(target: "carafe::engineio", "closing {}: {parse}", socket.sid());
            session.close_now(DisconnectReason::ParseError);
        }
    }
}

/// Writes packets in order, one frame each, framed behind each other so that a batch
/// costs one write to the connection (a broadcast that queued twenty messages for a
/// client sends them with one system call); the final `Close` of a graceful close becomes
/// a close frame.
async fn write_batch(
    writer: WebSocketWriter,
    mut batch: VecDeque<Outgoing>,
) -> (Result<(), WebSocketError>, VecDeque<Outgoing>) {
    // Nothing is queued after a `Close` (the session stops taking packets), so it can
    // only be last.
    let close = matches!(batch.back(), Some(Outgoing::Close));
    let messages = batch.drain(..).filter_map(|packet| match packet {
        Outgoing::Message(message) => Some(match message.wire_text() {
            Some(text) => Message::Text(text.clone()),
            None => Message::Binary(message.binary_data().cloned().unwrap_or_default()),
        }),
        Outgoing::Ping => Some(Message::Text(Str::from_static("2"))),
        Outgoing::Close => None,
    });
    let mut written = writer.send_all(messages).await;
    if close && written.is_ok() {
        written = writer.close(close_code::NORMAL, "").await;
    }
    (written, batch)
}

/// Sends a close frame if the connection still takes one, without waiting long.
async fn close_quietly(writer: &WebSocketWriter, code: u16) {
    let _ = tokio::time::timeout(CLOSE_WRITE_TIMEOUT, writer.close(code, "")).await;
}
