//! Request bodies: decoding them off the connection and streaming them to the handler.
//!
//! The connection task runs the handler's future and a [`BodyPump`] side by side. The pump
//! decodes body bytes from the connection's buffer ([`Decoder`], RFC 9112 §6.3) and sends
//! them through a channel of one frame to the [`Incoming`] body the handler holds, so the
//! server holds at most one chunk of a body at a time, and reads from the socket only as
//! fast as the handler consumes.
//!
//! `Expect: 100-continue` (RFC 9110 §10.1.1) is honoured lazily: the pump sends
//! `100 Continue` only when the handler first polls the body, so a handler that answers
//! without reading (a 401, say) never invites the client to send it.

use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http_body::{Frame, SizeHint};
use tokio::sync::{mpsc, oneshot};

use super::chunked::{Chunk, ChunkedDecoder};
use super::conn::{Connection, Io};
use super::encode;
use super::parse::{Framing, ParseError};
use crate::error::Error;

/// Removes one body's bytes from the connection buffer.
#[derive(Debug)]
pub(crate) enum Decoder {
    /// `Content-Length` framing with this many bytes left.
    Length(u64),
    /// Chunked framing.
    Chunked(ChunkedDecoder),
}

impl Decoder {
    /// The decoder for a framing, or `None` for a request without a body.
    pub(crate) fn new(framing: Framing, max_chunk_line: usize) -> Option<Self> {
        match framing {
            Framing::Empty => None,
            Framing::Length(length) => Some(Decoder::Length(length)),
            Framing::Chunked => Some(Decoder::Chunked(ChunkedDecoder::new(max_chunk_line))),
        }
    }

    /// The next piece of the body, or `Ok(None)` when `buf` needs more bytes.
    pub(crate) fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Chunk>, ParseError> {
        match self {
            Decoder::Length(0) => Ok(Some(Chunk::End)),
            Decoder::Length(_) if buf.is_empty() => Ok(None),
            Decoder::Length(remaining) => {
                let take = usize::try_from(*remaining)
                    .unwrap_or(usize::MAX)
                    .min(buf.len());
                *remaining -= take as u64;
                Ok(Some(Chunk::Data(buf.split_to(take).freeze())))
            }
            Decoder::Chunked(chunked) => chunked.decode(buf),
        }
    }

    /// Bytes still expected, when the framing says.
    pub(crate) fn remaining(&self) -> Option<u64> {
        match self {
            Decoder::Length(remaining) => Some(*remaining),
            Decoder::Chunked(_) => None,
        }
    }
}

/// The handler's end of a request body (inside [`Body`](crate::Body)).
#[derive(Debug)]
pub(crate) struct Incoming {
    /// Frames from the pump; closed when the body is complete.
    frames: mpsc::Receiver<Result<Frame<Bytes>, Error>>,
    /// Fired on the first poll, so the pump knows the handler wants the body.
    want: Option<oneshot::Sender<()>>,
    /// Bytes still to come, when the request said (`Content-Length`).
    remaining: Option<u64>,
    /// The channel is closed: the body ended or failed.
    ended: bool,
}

impl Incoming {
    pub(crate) fn poll_frame(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        if let Some(want) = self.want.take() {
            // The pump may be gone already (the connection failed); then recv ends at once.
            let _ = want.send(());
        }
        if self.ended {
            return Poll::Ready(None);
        }
        let frame = std::task::ready!(self.frames.poll_recv(cx));
        match &frame {
            Some(Ok(frame)) => {
                if let (Some(data), Some(remaining)) = (frame.data_ref(), &mut self.remaining) {
                    *remaining = remaining.saturating_sub(data.len() as u64);
                }
            }
            Some(Err(_)) | None => self.ended = true,
        }
        Poll::Ready(frame)
    }

    pub(crate) fn is_end_stream(&self) -> bool {
        self.ended || self.remaining == Some(0)
    }

    pub(crate) fn size_hint(&self) -> SizeHint {
        match self.remaining {
            Some(remaining) => SizeHint::with_exact(remaining),
            None => SizeHint::default(),
        }
    }
}

/// How far the pump got with a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PumpState {
    /// Waiting for the handler to ask for the body (`Expect: 100-continue` only).
    AwaitingDemand,
    /// Moving frames from the connection to the handler.
    Streaming,
    /// The handler dropped the body before its end.
    Abandoned,
    /// The whole body was read.
    Complete,
    /// The body broke the framing rules, exceeded the size limit, timed out, or the peer
    /// vanished; the connection cannot be reused.
    Failed,
}

/// The connection's end of a request body.
#[derive(Debug)]
pub(crate) struct BodyPump {
    /// Sends frames to [`Incoming`]; `None` once the handler dropped its end.
    frames: Option<mpsc::Sender<Result<Frame<Bytes>, Error>>>,
    /// Resolves when the handler first polls the body.
    want: Option<oneshot::Receiver<()>>,
    /// Takes the body's bytes off the connection buffer.
    pub(crate) decoder: Decoder,
    /// Body bytes read so far.
    pub(crate) read: u64,
    /// Where the pump is.
    pub(crate) state: PumpState,
    /// The error that failed the body, answered instead of the handler's response.
    pub(crate) error: Option<Error>,
}

/// A connected pair: the handler's [`Incoming`] and the connection's [`BodyPump`].
pub(crate) fn channel(decoder: Decoder, expect_continue: bool) -> (Incoming, BodyPump) {
    let (tx, rx) = mpsc::channel(1);
    let (want_tx, want_rx) = oneshot::channel();
    let incoming = Incoming {
        frames: rx,
        want: Some(want_tx),
        remaining: decoder.remaining(),
        ended: false,
    };
    let state = if expect_continue {
        PumpState::AwaitingDemand
    } else {
        PumpState::Streaming
    };
    let pump = BodyPump {
        frames: Some(tx),
        want: Some(want_rx),
        decoder,
        read: 0,
        state,
        error: None,
    };
    (incoming, pump)
}

impl BodyPump {
    /// Whether the pump has nothing more to do while the handler runs.
    pub(crate) fn is_idle(&self) -> bool {
        matches!(
            self.state,
            PumpState::Abandoned | PumpState::Complete | PumpState::Failed
        )
    }

    /// Waits until the handler polls the body; `false` if it dropped it unread.
    pub(crate) async fn demand(&mut self) -> bool {
        match self.want.take() {
            Some(want) => want.await.is_ok(),
            None => true,
        }
    }

    /// A sender for the next frame; `None` when the handler dropped the body.
    pub(crate) fn sender(&self) -> Option<mpsc::Sender<Result<Frame<Bytes>, Error>>> {
        self.frames.clone()
    }

    /// Records that the handler is gone, so the rest of the body is drained or abandoned.
    pub(crate) fn abandon(&mut self) {
        self.frames = None;
        if !matches!(self.state, PumpState::Complete | PumpState::Failed) {
            self.state = PumpState::Abandoned;
        }
    }

    /// Records that the body ended cleanly and closes the channel.
    pub(crate) fn complete(&mut self) {
        self.frames = None;
        self.state = PumpState::Complete;
    }

    /// Records a failure and closes the channel; the caller already told the handler.
    pub(crate) fn fail(&mut self, error: Error) {
        self.frames = None;
        self.state = PumpState::Failed;
        self.error = Some(error);
    }
}

/// The handler sees a copy of the error that failed the body; the original is kept to
/// pick the connection's answer.
pub(crate) fn copy_for_handler(error: &Error) -> Error {
    match error {
        Error::Parse(parse) => Error::Parse(*parse),
        Error::BodyTooLarge { limit } => Error::BodyTooLarge { limit: *limit },
        Error::Timeout(which) => Error::Timeout(*which),
        _ => Error::IncompleteMessage,
    }
}

impl BodyPump {
    /// Moves one frame of the body from the connection to the handler.
    pub(crate) async fn step<S: Io>(&mut self, conn: &mut Connection<S>) {
        if self.state == PumpState::AwaitingDemand {
            if !self.demand().await {
                self.abandon();
                return;
            }
            // Buffered, so cancelling this step never leaves half an interim answer.
            conn.write_buf.extend_from_slice(encode::CONTINUE);
            if let Err(error) = conn.flush().await {
                self.fail(error);
                return;
            }
            self.state = PumpState::Streaming;
        }
        let Some(sender) = self.sender() else {
            self.abandon();
            return;
        };
        let Ok(permit) = sender.reserve_owned().await else {
            self.abandon();
            return;
        };
        match self.next_frame(conn).await {
            Ok(Some(frame)) => {
                permit.send(Ok(frame));
            }
            Ok(None) => self.complete(),
            Err(error) => {
                permit.send(Err(copy_for_handler(&error)));
                self.fail(error);
            }
        }
    }

    /// Decodes the next frame of the body, reading from the socket as needed; `None` at
    /// the end of the body.
    async fn next_frame<S: Io>(
        &mut self,
        conn: &mut Connection<S>,
    ) -> Result<Option<Frame<Bytes>>, Error> {
        loop {
            match self.decoder.decode(&mut conn.read_buf)? {
                Some(Chunk::Data(data)) => {
                    self.read += data.len() as u64;
                    let limit = conn.config.limits.max_body_bytes;
                    if self.read > limit {
                        return Err(Error::BodyTooLarge { limit });
                    }
                    return Ok(Some(Frame::data(data)));
                }
                Some(Chunk::Trailers(trailers)) => return Ok(Some(Frame::trailers(trailers))),
                Some(Chunk::End) => return Ok(None),
                None => conn.read_body().await?,
            }
        }
    }

    /// Whether the handler still holds the body (it may have put it in its response).
    fn handler_holds_body(&self) -> bool {
        self.frames
            .as_ref()
            .is_some_and(|frames| !frames.is_closed())
    }

    /// Settles what can be settled before the response head is written. `Ok(false)` if
    /// the connection must close after the response, `Err` if the body failed (the error
    /// is answered instead of the handler's response).
    ///
    /// A body the handler still holds (an echo puts the request body in its response) is
    /// streamed while the response is written: a pending `100 Continue` goes out first.
    pub(crate) async fn before_response<S: Io>(
        &mut self,
        conn: &mut Connection<S>,
    ) -> Result<bool, Error> {
        match self.state {
            PumpState::Complete => Ok(true),
            PumpState::Failed => Err(self.error.take().unwrap_or(Error::IncompleteMessage)),
            PumpState::AwaitingDemand if self.handler_holds_body() => {
                self.want = None;
                conn.write_buf.extend_from_slice(encode::CONTINUE);
                self.state = PumpState::Streaming;
                Ok(true)
            }
            // The client waits for `100 Continue` that never comes: it will not send the
            // body, so the connection cannot be positioned at the next request.
            PumpState::AwaitingDemand => {
                self.abandon();
                Ok(false)
            }
            PumpState::Streaming if self.handler_holds_body() => Ok(true),
            PumpState::Streaming | PumpState::Abandoned => self.drain(conn).await,
        }
    }

    /// Reads and discards the rest of the body, up to `max_drain_bytes`. `Ok(true)` if the
    /// body ended, so the connection can serve another request.
    pub(crate) async fn drain<S: Io>(&mut self, conn: &mut Connection<S>) -> Result<bool, Error> {
        self.abandon();
        match self.state {
            PumpState::Complete => return Ok(true),
            PumpState::Failed => return Ok(false),
            _ => {}
        }
        let budget = conn.config.limits.max_drain_bytes;
        if self
            .decoder
            .remaining()
            .is_some_and(|remaining| remaining > budget)
        {
            return Ok(false);
        }
        let start = self.read;
        while self.read - start <= budget {
            match self.next_frame(conn).await {
                Ok(Some(_)) => {}
                Ok(None) => {
                    self.state = PumpState::Complete;
                    return Ok(true);
                }
                Err(error @ (Error::BodyTooLarge { .. } | Error::Parse(_))) => return Err(error),
                Err(_) => return Ok(false),
            }
        }
        Ok(false)
    }
}
