//! Long-polling payloads (protocol "Packet encoding / HTTP long-polling"), sans-IO.
//!
//! A payload is one HTTP body: packets in their text form joined by the record separator
//! `\x1e`, binary data as `b<base64>`. The whole body arrives before it is decoded (it is
//! bounded by `maxPayload`), so [`Payload`] yields packets or a [`ParseError`], never
//! "need more". Like the reference parser, decoding stops at the first bad packet.

use bytes::{BufMut, Bytes, BytesMut};

use crate::packet::{Packet, ParseError};
use crate::Str;

/// The record separator between packets.
pub const SEPARATOR: u8 = 0x1e;

/// The packets of a long-polling body, in order.
///
/// ```
/// use carafe_engineio::packet::Packet;
/// use carafe_engineio::payload::Payload;
/// use carafe_engineio::Str;
///
/// let body = bytes::Bytes::from_static(b"4hello\x1e2\x1e4world");
/// let packets: Result<Vec<_>, _> = Payload::new(body).collect();
/// assert_eq!(
///     packets.unwrap(),
///     [Packet::Message(Str::from("hello")), Packet::PING, Packet::Message(Str::from("world"))]
/// );
/// ```
#[derive(Debug, Clone)]
pub struct Payload {
    /// What is left of the body, or `None` once the last record (or an error) is out.
    rest: Option<Bytes>,
}

impl Payload {
    /// Splits `body` into records. An empty body is one empty (and so invalid) packet.
    pub fn new(body: Bytes) -> Payload {
        Payload { rest: Some(body) }
    }

    fn next_record(&mut self) -> Option<Bytes> {
        let mut rest = self.rest.take()?;
        match rest.iter().position(|&byte| byte == SEPARATOR) {
            Some(at) => {
                let record = rest.split_to(at);
                bytes::Buf::advance(&mut rest, 1);
                self.rest = Some(rest);
                Some(record)
            }
            None => Some(rest),
        }
    }
}

impl Iterator for Payload {
    type Item = Result<Packet, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        let record = self.next_record()?;
        let decoded = Str::try_from(record)
            .map_err(|_| ParseError::InvalidUtf8)
            .and_then(Packet::decode_text);
        if decoded.is_err() {
            self.rest = None;
        }
        Some(decoded)
    }
}

/// Decodes a whole body, failing on the first bad packet.
///
/// ```
/// use carafe_engineio::packet::ParseError;
/// use carafe_engineio::payload::decode_payload;
///
/// assert_eq!(decode_payload(bytes::Bytes::from_static(b"4a\x1e")), Err(ParseError::Empty));
/// ```
pub fn decode_payload(body: Bytes) -> Result<Vec<Packet>, ParseError> {
    Payload::new(body).collect()
}

/// Appends `packets` in their text form, separated by `\x1e`.
///
/// ```
/// use carafe_engineio::packet::Packet;
/// use carafe_engineio::payload::encode_payload;
/// use carafe_engineio::Str;
///
/// let mut out = bytes::BytesMut::new();
/// encode_payload(&[Packet::Message(Str::from("hello")), Packet::PING], &mut out);
/// assert_eq!(&out[..], b"4hello\x1e2");
/// ```
pub fn encode_payload(packets: &[Packet], out: &mut BytesMut) {
    let len: usize = packets.iter().map(|p| p.encoded_len() + 1).sum();
    out.reserve(len);
    for (index, packet) in packets.iter().enumerate() {
        if index > 0 {
            out.put_u8(SEPARATOR);
        }
        packet.encode_text(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(body: &'static [u8]) -> Result<Vec<Packet>, ParseError> {
        decode_payload(Bytes::from_static(body))
    }

    fn message(text: &str) -> Packet {
        Packet::Message(Str::from(text))
    }

    #[test]
    fn spec_examples_round_trip() {
        let cases: Vec<(&'static [u8], Vec<Packet>)> = vec![
            (b"4hello", vec![message("hello")]),
            (
                b"4hello\x1e2\x1e4world",
                vec![message("hello"), Packet::PING, message("world")],
            ),
            (
                b"4hello\x1ebAQIDBA==",
                vec![
                    message("hello"),
                    Packet::Binary(Bytes::from_static(&[1, 2, 3, 4])),
                ],
            ),
            (
                b"4test1\x1e4test2\x1e4test3",
                vec![message("test1"), message("test2"), message("test3")],
            ),
            (b"1", vec![Packet::Close]),
            ("4€".as_bytes(), vec![message("€")]),
        ];
        for (wire, packets) in cases {
            assert_eq!(decode(wire).as_ref(), Ok(&packets), "decoding {wire:?}");
            let mut out = BytesMut::new();
            encode_payload(&packets, &mut out);
            assert_eq!(&out[..], wire, "encoding {packets:?}");
        }
    }

    #[test]
    fn malformed_payloads_are_rejected() {
        let cases: &[(&'static [u8], ParseError)] = &[
            (b"", ParseError::Empty),
            (b"abc", ParseError::UnknownType(b'a')),
            (b"4a\x1e", ParseError::Empty),
            (b"\x1e4a", ParseError::Empty),
            (b"4a\x1e\x1e4b", ParseError::Empty),
            (b"4a\x1ex", ParseError::UnknownType(b'x')),
            (b"4\xff", ParseError::InvalidUtf8),
            (b"b@@", ParseError::InvalidBase64),
        ];
        for (wire, error) in cases {
            assert_eq!(decode(wire), Err(*error), "decoding {wire:?}");
        }
    }

    #[test]
    fn decoding_stops_at_the_first_bad_packet() {
        let mut payload = Payload::new(Bytes::from_static(b"4a\x1ex\x1e4b"));
        assert_eq!(payload.next(), Some(Ok(message("a"))));
        assert_eq!(payload.next(), Some(Err(ParseError::UnknownType(b'x'))));
        assert_eq!(payload.next(), None);
    }

    #[test]
    fn an_empty_list_encodes_to_nothing() {
        let mut out = BytesMut::new();
        encode_payload(&[], &mut out);
        assert!(out.is_empty());
    }
}
