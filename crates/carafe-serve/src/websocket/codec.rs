//! The two halves of a connection over carafe's own frame codec (see ARCHITECTURE.md,
//! "WebSocket"): the [`Reader`] fills a buffer from the socket and hands it to the
//! sans-IO [`Decoder`](super::frame::Decoder); the [`Writer`] encodes one message as one
//! frame and writes it out, compressing it when permessage-deflate was agreed.
//!
//! Both halves are cancel-safe: the reader keeps every byte it read in its buffer, and the
//! writer keeps the unwritten rest of a frame and finishes it before the next one.

use std::io::{self, IoSlice};

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};

use super::deflate::{Agreed, Compressor, Inflater};
use super::frame::{self, opcode, Decoder};
use super::{Message, WebSocketConfig, WebSocketError};
use crate::upgrade::Upgraded;

/// Payloads up to this size are copied behind the frame head (one write); larger ones are
/// written from their own buffer with a vectored write, uncopied.
const INLINE: usize = 2048;

/// The most bytes a read takes while the reader holds no buffer (see [`Reader::fill`]).
const SMALL_READ: usize = 512;

/// [`Writer::write_batch`] writes out what it has encoded once this many bytes are
/// waiting, so a long batch does not grow one buffer without bound.
const BATCH_BYTES: usize = 64 * 1024;

/// After a write, a frame buffer grown past this is given back, so that a connection
/// that once sent a large batch does not keep its buffer while idle.
const KEEP_BUFFER: usize = 4096;

/// Starts speaking WebSocket frames, as the server, on an upgraded connection.
pub(super) fn start(
    upgraded: Upgraded,
    config: &WebSocketConfig,
    deflate: Option<Agreed>,
) -> (Reader, Writer) {
    let (read, write) = tokio::io::split(upgraded);
    let inflater = deflate.map(|agreed| Inflater::new(agreed.client_no_context_takeover));
    let reader = Reader {
        io: read,
        buf: BytesMut::new(),
        read_size: config.read_buffer_size.max(256),
        decoder: Decoder::with_inflater(config, inflater),
        small: [0; SMALL_READ],
    };
    let writer = Writer {
        io: write,
        head: BytesMut::with_capacity(64),
        body: Bytes::new(),
        deflate,
        compressor: None,
        closed: false,
    };
    (reader, writer)
}

/// The receiving half: a read buffer and the decoder.
#[derive(Debug)]
pub(super) struct Reader {
    io: ReadHalf<Upgraded>,
    /// Bytes read and not yet decoded; no allocation while that is nothing.
    buf: BytesMut,
    read_size: usize,
    decoder: Decoder,
    /// Where a read lands while `buf` is empty, so that a connection waiting for its
    /// next message holds no read buffer (`read_buffer_size` bytes each, across ten
    /// thousand idle WebSockets, would be most of their memory).
    small: [u8; SMALL_READ],
}

impl Reader {
    /// The next message already in the buffer, if any.
    pub(super) fn decode(&mut self) -> Result<Option<Message>, WebSocketError> {
        self.decoder.decode(&mut self.buf)
    }

    /// Reads more bytes into the buffer; `Ok(0)` at the end of the stream. Cancel-safe.
    ///
    /// With nothing buffered, the buffer is let go and the read lands in `small`; what it
    /// got is then copied into a buffer of its size (or of `read_size` when `small` was
    /// filled and more may follow). So an idle connection keeps no read buffer, and a
    /// small message costs one small allocation, shared with the message handed on.
    pub(super) async fn fill(&mut self) -> io::Result<usize> {
        if self.buf.is_empty() {
            self.buf = BytesMut::new();
            let read = self.io.read(&mut self.small).await?;
            let capacity = if read == SMALL_READ {
                self.read_size.max(read)
            } else {
                read
            };
            self.buf = BytesMut::with_capacity(capacity);
            self.buf.extend_from_slice(&self.small[..read]);
            return Ok(read);
        }
        if self.buf.capacity() - self.buf.len() < self.read_size / 4 {
            self.buf.reserve(self.read_size);
        }
        self.io.read_buf(&mut self.buf).await
    }
}

/// The sending half: the frame being written and the compressor.
#[derive(Debug)]
pub(super) struct Writer {
    io: WriteHalf<Upgraded>,
    /// Unwritten frame head (and small payload).
    head: BytesMut,
    /// Unwritten large payload, after `head`.
    body: Bytes,
    deflate: Option<Agreed>,
    /// Made on the first compressed message, so idle connections do not pay for it.
    compressor: Option<Compressor>,
    /// A close frame has been queued: nothing more may be sent.
    closed: bool,
}

impl Writer {
    /// Writes one message as one frame. Fails with `Closed` once a close frame was sent.
    pub(super) async fn write(&mut self, message: Message) -> Result<(), WebSocketError> {
        self.finish().await?;
        if self.closed {
            return Err(WebSocketError::Closed);
        }
        self.encode(message)?;
        self.finish().await
    }

    /// Writes several messages, one frame each and in order, with as few writes as
    /// possible: small frames are encoded behind each other and go out together (up to
    /// `BATCH_BYTES` at a time). Fails with `Closed` at a message after a close frame.
    ///
    /// Cancel-safe like [`write`](Self::write) for what was already encoded; messages
    /// the iterator had not yet yielded are not sent.
    pub(super) async fn write_batch(
        &mut self,
        messages: impl IntoIterator<Item = Message>,
    ) -> Result<(), WebSocketError> {
        self.finish().await?;
        for message in messages {
            if self.closed {
                self.finish().await?;
                return Err(WebSocketError::Closed);
            }
            self.encode(message)?;
            // A large payload waits in `body`: write it (and what precedes it) now.
            if !self.body.is_empty() || self.head.len() >= BATCH_BYTES {
                self.finish().await?;
            }
        }
        self.finish().await
    }

    fn encode(&mut self, message: Message) -> Result<(), WebSocketError> {
        let (code, payload) = match message {
            Message::Text(text) => (opcode::TEXT, Bytes::from(text)),
            Message::Binary(data) => (opcode::BINARY, data),
            Message::Ping(data) => (opcode::PING, data),
            Message::Pong(data) => (opcode::PONG, data),
            Message::Close(frame) => {
                let mut payload = BytesMut::new();
                if let Some(frame) = frame {
                    payload.extend_from_slice(&frame.code.to_be_bytes());
                    payload.extend_from_slice(frame.reason.as_bytes());
                }
                (opcode::CLOSE, payload.freeze())
            }
        };
        if code >= opcode::CLOSE && payload.len() > 125 {
            return Err(WebSocketError::Protocol(format!(
                "a ping, pong or close payload may have at most 125 bytes, not {}",
                payload.len()
            )));
        }
        let (rsv1, payload) = match (&self.deflate, code) {
            (Some(agreed), opcode::TEXT | opcode::BINARY) => {
                let compressor = self
                    .compressor
                    .get_or_insert_with(|| Compressor::new(agreed));
                (true, compressor.compress(&payload)?)
            }
            _ => (false, payload),
        };
        self.closed = code == opcode::CLOSE;
        frame::encode_head(&mut self.head, code, rsv1, payload.len());
        if payload.len() <= INLINE {
            self.head.extend_from_slice(&payload);
        } else {
            self.body = payload;
        }
        Ok(())
    }

    /// Writes what is left of the current frame.
    async fn finish(&mut self) -> Result<(), WebSocketError> {
        while !self.head.is_empty() || !self.body.is_empty() {
            let written = if self.body.is_empty() {
                self.io.write(&self.head).await?
            } else if self.head.is_empty() {
                self.io.write(&self.body).await?
            } else {
                let parts = [IoSlice::new(&self.head), IoSlice::new(&self.body)];
                self.io.write_vectored(&parts).await?
            };
            if written == 0 {
                return Err(io::Error::from(io::ErrorKind::WriteZero).into());
            }
            let from_head = written.min(self.head.len());
            self.head.advance(from_head);
            self.body.advance(written - from_head);
        }
        if self.head.capacity() > KEEP_BUFFER {
            self.head = BytesMut::with_capacity(64);
        }
        Ok(())
    }
}
