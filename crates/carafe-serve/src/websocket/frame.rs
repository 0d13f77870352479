//! The frame layer, sans-IO (RFC 6455 §5, RFC 7692 §6): [`Decoder`] turns the bytes a
//! client sends into [`Message`]s and `encode_header` writes the head of the server's
//! frames. No socket is involved, so the same code runs under the fuzzer
//! (`fuzz/fuzz_targets/websocket_frame.rs`).
//!
//! The decoder owns every rule a server must enforce on what it reads: client frames are
//! masked, reserved bits and opcodes are unused, control frames are final and at most 125
//! bytes, a message's frames do not interleave with another message's (control frames
//! may), text is UTF-8 (checked fragment by fragment, so a bad message fails at the frame
//! that breaks it), close frames carry a code that may be sent and a UTF-8 reason, and no
//! frame or message exceeds the configured limits, compressed or not.
//!
//! ```
//! use bytes::BytesMut;
//! use carafe_serve::websocket::frame::Decoder;
//! use carafe_serve::websocket::{Message, WebSocketConfig};
//!
//! let mut decoder = Decoder::new(&WebSocketConfig::default());
//! // A masked "Hi" text frame (mask key 1, 2, 3, 4), arriving in two reads.
//! let mut buf = BytesMut::from(&[0x81, 0x82, 1, 2][..]);
//! assert!(decoder.decode(&mut buf).unwrap().is_none());
//! buf.extend_from_slice(&[3, 4, b'H' ^ 1, b'i' ^ 2]);
//! assert_eq!(decoder.decode(&mut buf).unwrap(), Some(Message::text("Hi")));
//! assert!(buf.is_empty());
//! ```

use bytes::{Buf, Bytes, BytesMut};

use super::deflate::Inflater;
use super::{CloseFrame, Message, Utf8Bytes, WebSocketConfig, WebSocketError};

/// Frame opcodes (RFC 6455 §5.2).
pub(super) mod opcode {
    pub(in super::super) const CONTINUATION: u8 = 0x0;
    pub(in super::super) const TEXT: u8 = 0x1;
    pub(in super::super) const BINARY: u8 = 0x2;
    pub(in super::super) const CLOSE: u8 = 0x8;
    pub(in super::super) const PING: u8 = 0x9;
    pub(in super::super) const PONG: u8 = 0xA;
}

/// The largest control frame payload (RFC 6455 §5.5).
const MAX_CONTROL: usize = 125;

/// A parsed frame head.
#[derive(Debug, Clone, Copy)]
struct Head {
    fin: bool,
    /// RSV1: the message is compressed (permessage-deflate, first frame only).
    rsv1: bool,
    opcode: u8,
    mask: [u8; 4],
    /// Payload bytes.
    len: usize,
    /// Bytes of the head itself.
    head_len: usize,
}

/// A message whose final frame has not arrived yet.
#[derive(Debug)]
struct Partial {
    text: bool,
    compressed: bool,
    /// The payload so far (decompressed when `compressed`).
    data: BytesMut,
    /// How many bytes of `data` are known to be UTF-8 (text only).
    checked: usize,
}

/// Turns the bytes a client sends into messages (RFC 6455 §5, and RFC 7692 §6 when
/// permessage-deflate was negotiated).
///
/// Feed it the connection's read buffer: [`decode`](Self::decode) takes whole frames off
/// its front and leaves a partial frame in place, so it can be called again after any
/// read. Because all state lives here and in the buffer, the read that fills the buffer
/// can be cancelled at any point without losing a byte.
#[derive(Debug)]
pub struct Decoder {
    max_frame_size: usize,
    max_message_size: usize,
    /// Present when permessage-deflate was negotiated: RSV1 marks a compressed message.
    inflater: Option<Inflater>,
    partial: Option<Partial>,
}

impl Decoder {
    /// A decoder with `config`'s limits and no extension (RSV1 is a protocol error).
    ///
    /// ```
    /// let decoder = carafe_serve::websocket::frame::Decoder::new(&Default::default());
    /// # drop(decoder);
    /// ```
    pub fn new(config: &WebSocketConfig) -> Self {
        Decoder {
            max_frame_size: config.max_frame_size,
            max_message_size: config.max_message_size,
            inflater: None,
            partial: None,
        }
    }

    /// A decoder that also accepts messages compressed with permessage-deflate (RFC 7692)
    /// with context takeover: the first frame of a compressed message has RSV1 set.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use carafe_serve::websocket::frame::Decoder;
    /// use carafe_serve::websocket::Message;
    ///
    /// let mut decoder = Decoder::with_permessage_deflate(&Default::default());
    /// // RFC 7692 §7.2.3.1: "Hello" compressed, in one frame masked with the key 0.
    /// let mut buf = BytesMut::from(&[0xc1, 0x87, 0, 0, 0, 0, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00][..]);
    /// assert_eq!(decoder.decode(&mut buf).unwrap(), Some(Message::text("Hello")));
    /// ```
    pub fn with_permessage_deflate(config: &WebSocketConfig) -> Self {
        Decoder::with_inflater(config, Some(Inflater::new(false)))
    }

    pub(super) fn with_inflater(config: &WebSocketConfig, inflater: Option<Inflater>) -> Self {
        Decoder {
            inflater,
            ..Decoder::new(config)
        }
    }

    /// The next message whose frames are all in `buf`, taking them off its front;
    /// `Ok(None)` when more bytes are needed (the buffer's capacity is raised to hold the
    /// frame that is still arriving). Control frames are returned as they come, even in
    /// the middle of a fragmented message.
    ///
    /// An error means the client broke the protocol or a limit: answer with the close
    /// code that [`WebSocketError::close_code`] names and stop decoding.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Message>, WebSocketError> {
        loop {
            let Some(head) = parse_head(buf, self.max_frame_size)? else {
                return Ok(None);
            };
            self.check_sequence(&head)?;
            let total = head.head_len + head.len;
            if buf.len() < total {
                buf.reserve(total - buf.len());
                return Ok(None);
            }
            unmask(&mut buf[head.head_len..total], head.mask);
            buf.advance(head.head_len);
            let payload = buf.split_to(head.len);
            if let Some(message) = self.on_frame(&head, payload)? {
                return Ok(Some(message));
            }
        }
    }

    /// Checks a frame head against the message in progress, before its payload is read.
    fn check_sequence(&self, head: &Head) -> Result<(), WebSocketError> {
        if head.opcode >= opcode::CLOSE {
            if head.rsv1 {
                return Err(protocol(
                    "a control frame has RSV1 set; control frames are never compressed",
                ));
            }
            return Ok(());
        }
        let compressed = match (&self.partial, head.opcode) {
            (None, opcode::CONTINUATION) => {
                return Err(protocol(
                    "a continuation frame arrived with no message to continue",
                ));
            }
            (Some(_), opcode::CONTINUATION) if head.rsv1 => {
                return Err(protocol(
                    "RSV1 is set on a continuation frame; it belongs on a message's first frame only (RFC 7692 §6.1)",
                ));
            }
            (Some(partial), opcode::CONTINUATION) => partial.compressed,
            (Some(_), _) => {
                return Err(protocol(
                    "a new message began before the previous one's final frame",
                ));
            }
            (None, _) if head.rsv1 && self.inflater.is_none() => {
                return Err(protocol("RSV1 is set but no extension was negotiated"));
            }
            (None, _) => head.rsv1,
        };
        if !compressed {
            let so_far = self
                .partial
                .as_ref()
                .map_or(0, |partial| partial.data.len());
            let size = so_far.saturating_add(head.len);
            if size > self.max_message_size {
                return Err(WebSocketError::MessageTooBig {
                    size,
                    max: self.max_message_size,
                });
            }
        }
        Ok(())
    }

    fn on_frame(
        &mut self,
        head: &Head,
        payload: BytesMut,
    ) -> Result<Option<Message>, WebSocketError> {
        let message = match head.opcode {
            opcode::PING => Message::Ping(payload.freeze()),
            opcode::PONG => Message::Pong(payload.freeze()),
            opcode::CLOSE => Message::Close(close_frame(payload.freeze())?),
            opcode::TEXT | opcode::BINARY if head.fin && !head.rsv1 => {
                whole(head.opcode == opcode::TEXT, payload.freeze())?
            }
            opcode::TEXT | opcode::BINARY => {
                self.partial = Some(Partial {
                    text: head.opcode == opcode::TEXT,
                    compressed: head.rsv1,
                    data: BytesMut::new(),
                    checked: 0,
                });
                return self.append(&payload, head.fin);
            }
            _ => return self.append(&payload, head.fin),
        };
        Ok(Some(message))
    }

    /// Adds a frame's payload to the message in progress; the message once `fin`.
    fn append(&mut self, payload: &[u8], fin: bool) -> Result<Option<Message>, WebSocketError> {
        let Some(partial) = self.partial.as_mut() else {
            return Err(protocol(
                "a continuation frame arrived with no message to continue",
            ));
        };
        if partial.compressed {
            let Some(inflater) = self.inflater.as_mut() else {
                return Err(protocol("RSV1 is set but no extension was negotiated"));
            };
            inflater.inflate(payload, &mut partial.data, self.max_message_size, fin)?;
        } else {
            partial.data.extend_from_slice(payload);
        }
        if partial.text {
            check_utf8(&partial.data, &mut partial.checked, fin)?;
        }
        if !fin {
            return Ok(None);
        }
        let Some(partial) = self.partial.take() else {
            return Ok(None);
        };
        whole(partial.text, partial.data.freeze()).map(Some)
    }
}

/// A complete text or binary message.
fn whole(text: bool, data: Bytes) -> Result<Message, WebSocketError> {
    if text {
        Utf8Bytes::try_from(data)
            .map(Message::Text)
            .map_err(|_| WebSocketError::InvalidUtf8)
    } else {
        Ok(Message::Binary(data))
    }
}

fn protocol(what: &str) -> WebSocketError {
    WebSocketError::Protocol(what.to_owned())
}

/// Parses the frame head at the front of `buf`; `Ok(None)` until all of it is there.
fn parse_head(buf: &[u8], max_frame_size: usize) -> Result<Option<Head>, WebSocketError> {
    let [first, second, ..] = *buf else {
        return Ok(None);
    };
    if first & 0x30 != 0 {
        return Err(protocol("RSV2 or RSV3 is set but no extension uses them"));
    }
    let code = first & 0x0f;
    if !matches!(
        code,
        opcode::CONTINUATION
            | opcode::TEXT
            | opcode::BINARY
            | opcode::CLOSE
            | opcode::PING
            | opcode::PONG
    ) {
        return Err(WebSocketError::Protocol(format!(
            "opcode {code:#x} is reserved"
        )));
    }
    if second & 0x80 == 0 {
        return Err(protocol("a client's frames must be masked (RFC 6455 §5.1)"));
    }
    let fin = first & 0x80 != 0;
    let (len, len_bytes) = match second & 0x7f {
        126 => match buf.get(2..4) {
            Some(&[high, low]) => (u64::from(u16::from_be_bytes([high, low])), 2),
            _ => return Ok(None),
        },
        127 => match buf
            .get(2..10)
            .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
        {
            Some(bytes) => (u64::from_be_bytes(bytes), 8),
            None => return Ok(None),
        },
        short => (u64::from(short), 0),
    };
    if len >> 63 != 0 {
        return Err(protocol(
            "a 64-bit frame length has its most significant bit set",
        ));
    }
    if code >= opcode::CLOSE {
        if !fin {
            return Err(protocol("a control frame is fragmented"));
        }
        if len > MAX_CONTROL as u64 {
            return Err(protocol("a control frame's payload is over 125 bytes"));
        }
    }
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    if len > max_frame_size {
        return Err(WebSocketError::MessageTooBig {
            size: len,
            max: max_frame_size,
        });
    }
    let mask_at = 2 + len_bytes;
    let Some(mask) = buf
        .get(mask_at..mask_at + 4)
        .and_then(|bytes| <[u8; 4]>::try_from(bytes).ok())
    else {
        return Ok(None);
    };
    Ok(Some(Head {
        fin,
        rsv1: first & 0x40 != 0,
        opcode: code,
        mask,
        len,
        head_len: mask_at + 4,
    }))
}

/// XORs `data` with the repeating 4-byte `mask` (RFC 6455 §5.3), eight bytes at a time.
pub(super) fn unmask(data: &mut [u8], mask: [u8; 4]) {
    let word = u32::from_ne_bytes(mask);
    let wide = u64::from(word) | (u64::from(word) << 32);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut bytes = [0; 8];
        bytes.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(bytes) ^ wide).to_ne_bytes());
    }
    // Whole 8-byte chunks keep the mask's phase, so the tail starts at mask byte 0.
    for (byte, key) in chunks.into_remainder().iter_mut().zip(mask.iter().cycle()) {
        *byte ^= key;
    }
}

/// Checks that `data[checked..]` continues valid UTF-8, moving `checked` forward. A
/// character cut at the end is fine until the message's last frame.
fn check_utf8(data: &[u8], checked: &mut usize, fin: bool) -> Result<(), WebSocketError> {
    let rest = data.get(*checked..).unwrap_or_default();
    match std::str::from_utf8(rest) {
        Ok(_) => {
            *checked = data.len();
            Ok(())
        }
        Err(error) if error.error_len().is_none() && !fin => {
            *checked += error.valid_up_to();
            Ok(())
        }
        Err(_) => Err(WebSocketError::InvalidUtf8),
    }
}

/// The code and reason of a close frame's payload (RFC 6455 §5.5.1, §7.4).
fn close_frame(payload: Bytes) -> Result<Option<CloseFrame>, WebSocketError> {
    match payload.len() {
        0 => Ok(None),
        1 => Err(protocol(
            "a close frame's 1-byte payload has no room for its 2-byte code",
        )),
        _ => {
            let code = u16::from_be_bytes([payload[0], payload[1]]);
            if !may_be_sent(code) {
                return Err(WebSocketError::Protocol(format!(
                    "close code {code} may not be sent in a close frame (RFC 6455 §7.4)"
                )));
            }
            let reason =
                Utf8Bytes::try_from(payload.slice(2..)).map_err(|_| WebSocketError::InvalidUtf8)?;
            Ok(Some(CloseFrame { code, reason }))
        }
    }
}

/// Whether a peer may send `code` in a close frame: the codes RFC 6455 §7.4.1 defines for
/// sending, those IANA registered since (1012-1014), and the ranges for libraries and
/// applications (3000-4999).
pub(super) fn may_be_sent(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Appends the head of an unmasked server frame (RFC 6455 §5.2) to `out`.
pub(super) fn encode_head(out: &mut BytesMut, opcode: u8, rsv1: bool, len: usize) {
    let first = 0x80 | if rsv1 { 0x40 } else { 0 } | opcode;
    if len < 126 {
        out.extend_from_slice(&[first, len as u8]);
    } else if let Ok(short) = u16::try_from(len) {
        out.extend_from_slice(&[first, 126]);
        out.extend_from_slice(&short.to_be_bytes());
    } else {
        out.extend_from_slice(&[first, 127]);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

#[cfg(test)]
mod tests;
