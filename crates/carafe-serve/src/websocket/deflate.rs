//! permessage-deflate (RFC 7692): agreeing on the extension in the opening handshake
//! (sans-IO, [`negotiate`]), and the compressor and decompressor of a connection.
//!
//! The server accepts the first offer it can honour and declines the rest by leaving
//! them out of its answer: offers with unknown, repeated or malformed parameters, and
//! `server_max_window_bits=8`, which zlib cannot produce for raw deflate streams
//! (it rounds 8 up to 9, a window the client did not allow). Every other parameter is
//! honoured: `server_no_context_takeover` resets the compressor after each message,
//! `server_max_window_bits=9..15` bounds its window, `client_no_context_takeover` is
//! echoed (the decompressor then resets after each message too), and
//! `client_max_window_bits` needs nothing, since the decompressor's 32 KiB window reads
//! any smaller one.

use std::io;

use bytes::{Bytes, BytesMut};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use http::header::{HeaderMap, HeaderName, HeaderValue};

use super::WebSocketError;

/// The handshake header that offers and accepts extensions (RFC 6455 §9.1).
pub(super) const SEC_WEBSOCKET_EXTENSIONS: HeaderName =
    HeaderName::from_static("sec-websocket-extensions");

/// The end of a sync flush: removed from each compressed message by the sender and
/// appended by the receiver (RFC 7692 §7.2.1, §7.2.2).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Bytes decompressed per step; output is checked against the message limit after each.
const INFLATE_CHUNK: usize = 16 * 1024;

/// The parameters agreed for one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Agreed {
    /// The server resets its compressor after each message.
    pub(crate) server_no_context_takeover: bool,
    /// The client resets its compressor after each message, so the decompressor does too.
    pub(crate) client_no_context_takeover: bool,
    /// Base-2 logarithm of the server's LZ77 window, 9 to 15.
    pub(crate) server_max_window_bits: u8,
}

/// The first permessage-deflate offer in `headers` that the server can honour, and the
/// `Sec-WebSocket-Extensions` value that accepts it; `None` when there is none.
pub(crate) fn negotiate(headers: &HeaderMap) -> Option<(Agreed, HeaderValue)> {
    headers
        .get_all(SEC_WEBSOCKET_EXTENSIONS)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .find_map(accept_offer)
}

/// Accepts one offer (`permessage-deflate; param; param=value`) or declines it.
fn accept_offer(offer: &str) -> Option<(Agreed, HeaderValue)> {
    let mut params = offer.split(';').map(str::trim);
    if !params.next()?.eq_ignore_ascii_case("permessage-deflate") {
        return None;
    }
    let mut agreed = Agreed {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 15,
    };
    let mut window_asked = false;
    let mut seen = [false; 4];
    for param in params.filter(|param| !param.is_empty()) {
        let (name, value) = match param.split_once('=') {
            Some((name, value)) => (name.trim(), Some(unquote(value.trim())?)),
            None => (param, None),
        };
        let name = name.to_ascii_lowercase();
        let slot = match (name.as_str(), value) {
            ("server_no_context_takeover", None) => {
                agreed.server_no_context_takeover = true;
                0
            }
            ("client_no_context_takeover", None) => {
                agreed.client_no_context_takeover = true;
                1
            }
            ("server_max_window_bits", Some(value)) => {
                agreed.server_max_window_bits = window_bits(value).filter(|bits| *bits >= 9)?;
                window_asked = true;
                2
            }
            ("client_max_window_bits", None) => 3,
            ("client_max_window_bits", Some(value)) => {
                window_bits(value)?;
                3
            }
            _ => return None,
        };
        if std::mem::replace(&mut seen[slot], true) {
            return None;
        }
    }
    Some((agreed, response(&agreed, window_asked)))
}

/// The `Sec-WebSocket-Extensions` answer for an accepted offer.
fn response(agreed: &Agreed, window_asked: bool) -> HeaderValue {
    let mut value = String::from("permessage-deflate");
    if agreed.server_no_context_takeover {
        value.push_str("; server_no_context_takeover");
    }
    if agreed.client_no_context_takeover {
        value.push_str("; client_no_context_takeover");
    }
    if window_asked {
        value.push_str(&format!(
            "; server_max_window_bits={}",
            agreed.server_max_window_bits
        ));
    }
    // Built from fixed ASCII and a number, so always a valid header value.
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("permessage-deflate"))
}

/// A parameter value without the quotes RFC 7692 §7.1 allows around it.
fn unquote(value: &str) -> Option<&str> {
    match value.strip_prefix('"') {
        Some(inner) => inner.strip_suffix('"'),
        None => Some(value),
    }
}

/// A window size parameter: 8 to 15, decimal, no leading zero (RFC 7692 §7.1.2).
fn window_bits(value: &str) -> Option<u8> {
    if value.is_empty() || value.starts_with('0') || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok().filter(|bits| (8..=15).contains(bits))
}

/// Decompresses the messages a client sent with RSV1 set.
#[derive(Debug)]
pub(crate) struct Inflater {
    inner: Decompress,
    /// The client agreed to no context takeover, so each message starts afresh.
    reset_after_message: bool,
    /// The stream ended with a final block: the next message starts a new one.
    ended: bool,
    /// Output of one step, copied to the message only after the limit check.
    scratch: Vec<u8>,
}

impl Inflater {
    /// A decompressor for raw deflate with a 32 KiB window, which reads any window the
    /// client chose.
    pub(crate) fn new(reset_after_message: bool) -> Self {
        Inflater {
            inner: Decompress::new(false),
            reset_after_message,
            ended: false,
            scratch: vec![0; INFLATE_CHUNK],
        }
    }

    /// Decompresses one frame's payload onto `out`, and at the message's last frame the
    /// tail too. Fails with `MessageTooBig` as soon as `out` would pass `max` bytes, so a
    /// small compressed message that inflates to gigabytes never allocates more than
    /// `max` plus one step.
    pub(crate) fn inflate(
        &mut self,
        payload: &[u8],
        out: &mut BytesMut,
        max: usize,
        last: bool,
    ) -> Result<(), WebSocketError> {
        self.feed(payload, out, max, FlushDecompress::None)?;
        if last {
            self.feed(&TAIL, out, max, FlushDecompress::Sync)?;
            if self.reset_after_message || self.ended {
                self.inner.reset(false);
                self.ended = false;
            }
        }
        Ok(())
    }

    fn feed(
        &mut self,
        mut input: &[u8],
        out: &mut BytesMut,
        max: usize,
        flush: FlushDecompress,
    ) -> Result<(), WebSocketError> {
        while !self.ended {
            let (in_before, out_before) = (self.inner.total_in(), self.inner.total_out());
            let status = self
                .inner
                .decompress(input, &mut self.scratch, flush)
                .map_err(|error| {
                    WebSocketError::Protocol(format!(
                        "a compressed message is not valid deflate data: {error}"
                    ))
                })?;
            let read = usize::try_from(self.inner.total_in() - in_before).unwrap_or(usize::MAX);
            let wrote = usize::try_from(self.inner.total_out() - out_before).unwrap_or(usize::MAX);
            input = input.get(read..).unwrap_or_default();
            let size = out.len().saturating_add(wrote);
            if size > max {
                return Err(WebSocketError::MessageTooBig { size, max });
            }
            out.extend_from_slice(&self.scratch[..wrote]);
            self.ended = status == Status::StreamEnd;
            let stalled = read == 0 && wrote == 0;
            if stalled || (input.is_empty() && wrote < self.scratch.len()) {
                break;
            }
        }
        Ok(())
    }
}

/// Compresses the server's messages.
#[derive(Debug)]
pub(crate) struct Compressor {
    inner: Compress,
    reset_after_message: bool,
}

impl Compressor {
    /// A compressor for what was agreed: its window and whether it keeps its context.
    pub(crate) fn new(agreed: &Agreed) -> Self {
        let bits = agreed.server_max_window_bits.clamp(9, 15);
        Compressor {
            inner: Compress::new_with_window_bits(Compression::fast(), false, bits),
            reset_after_message: agreed.server_no_context_takeover,
        }
    }

    /// One message's payload compressed, without the sync flush's tail (RFC 7692 §7.2.1).
    pub(crate) fn compress(&mut self, input: &[u8]) -> Result<Bytes, WebSocketError> {
        let mut out = Vec::with_capacity(input.len() / 2 + 64);
        let mut rest = input;
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(64));
            }
            let before = self.inner.total_in();
            self.inner
                .compress_vec(rest, &mut out, FlushCompress::Sync)
                .map_err(|error| WebSocketError::Io(io::Error::other(error)))?;
            let read = usize::try_from(self.inner.total_in() - before).unwrap_or(usize::MAX);
            rest = rest.get(read..).unwrap_or_default();
            // zlib has finished the flush once it leaves output space unused.
            if rest.is_empty() && out.len() < out.capacity() {
                break;
            }
        }
        if out.ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        if self.reset_after_message {
            self.inner.reset();
        }
        Ok(Bytes::from(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(value: &str) -> Option<(Agreed, HeaderValue)> {
        let mut headers = HeaderMap::new();
        headers.insert(
            SEC_WEBSOCKET_EXTENSIONS,
            HeaderValue::from_str(value).expect("test header"),
        );
        negotiate(&headers)
    }

    #[test]
    fn a_plain_offer_is_accepted_with_defaults() {
        let (agreed, answer) = offer("permessage-deflate").expect("accepted");
        assert_eq!(answer, "permessage-deflate");
        assert!(!agreed.server_no_context_takeover);
        assert_eq!(agreed.server_max_window_bits, 15);
    }

    #[test]
    fn browser_offer_is_accepted_without_client_parameters() {
        let (_, answer) = offer("permessage-deflate; client_max_window_bits").expect("accepted");
        assert_eq!(answer, "permessage-deflate");
    }

    #[test]
    fn every_parameter_is_honoured_and_echoed() {
        let (agreed, answer) = offer(
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=\"10\"; client_max_window_bits=12",
        )
        .expect("accepted");
        assert_eq!(
            answer,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10"
        );
        assert!(agreed.server_no_context_takeover && agreed.client_no_context_takeover);
        assert_eq!(agreed.server_max_window_bits, 10);
    }

    #[test]
    fn offers_the_server_cannot_honour_are_declined_for_the_next() {
        assert!(offer("permessage-deflate; server_max_window_bits=8").is_none());
        assert!(offer("permessage-deflate; server_max_window_bits=16").is_none());
        assert!(offer("permessage-deflate; server_max_window_bits=010").is_none());
        assert!(offer("permessage-deflate; server_max_window_bits").is_none());
        assert!(offer("permessage-deflate; mystery").is_none());
        assert!(offer(
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover"
        )
        .is_none());
        assert!(offer("x-webkit-deflate-frame").is_none());
        let (agreed, _) = offer(
            "permessage-deflate; server_max_window_bits=8, permessage-deflate; server_no_context_takeover",
        )
        .expect("second offer accepted");
        assert!(agreed.server_no_context_takeover);
    }

    #[test]
    fn compressed_messages_inflate_back_with_and_without_context() {
        for no_context in [false, true] {
            let agreed = Agreed {
                server_no_context_takeover: no_context,
                client_no_context_takeover: no_context,
                server_max_window_bits: 9,
            };
            let mut compressor = Compressor::new(&agreed);
            let mut inflater = Inflater::new(no_context);
            for text in ["", "hello hello hello", "hello hello hello", "x"] {
                let packed = compressor.compress(text.as_bytes()).expect("compress");
                let mut out = BytesMut::new();
                inflater
                    .inflate(&packed, &mut out, 1 << 20, true)
                    .expect("inflate");
                assert_eq!(&out[..], text.as_bytes());
            }
        }
    }

    #[test]
    fn rfc_7692_hello_sample_inflates() {
        let mut inflater = Inflater::new(false);
        let mut out = BytesMut::new();
        let sample = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        inflater
            .inflate(&sample, &mut out, 100, true)
            .expect("inflate");
        assert_eq!(&out[..], b"Hello");
        // Context takeover: the second "Hello" refers back to the first (§7.2.3.2).
        let mut again = BytesMut::new();
        inflater
            .inflate(&[0xf2, 0x00, 0x11, 0x00, 0x00], &mut again, 100, true)
            .expect("inflate");
        assert_eq!(&again[..], b"Hello");
    }

    #[test]
    fn a_bomb_stops_at_the_limit_without_growing_past_it() {
        let mut compressor = Compressor::new(&Agreed {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
        });
        let bomb = compressor.compress(&vec![0; 8 << 20]).expect("compress");
        assert!(bomb.len() * 50 < 8 << 20, "{}", bomb.len());
        let mut inflater = Inflater::new(false);
        let mut out = BytesMut::new();
        let error = inflater
            .inflate(&bomb, &mut out, 100_000, true)
            .expect_err("must fail");
        assert!(
            matches!(error, WebSocketError::MessageTooBig { max: 100_000, .. }),
            "{error:?}"
        );
        assert!(
            out.len() <= 100_000 && out.capacity() < 200_000,
            "{}",
            out.capacity()
        );
    }
}
