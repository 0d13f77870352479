//! Engine.IO v4 packets (protocol "Protocol" and "Packet encoding"), sans-IO.
//!
//! A packet is a type digit (`0` open … `6` noop) followed by its data. Over WebSocket
//! each packet is one frame: text frames carry `<type><data>`, binary frames carry a
//! message's raw bytes. Over long-polling, binary data is written as `b` followed by its
//! base64 (see [`payload`](crate::payload) for how packets are joined).
//!
//! This module never touches a socket: it turns complete frames or records into
//! [`Packet`]s and back. Inputs are always complete (a WebSocket message or one record of
//! an HTTP body), so decoding answers a packet or a [`ParseError`], never "need more".

use std::fmt;

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use bytes::{BufMut, Bytes, BytesMut};

use crate::Str;

/// The base64 of long-polling binary packets: the standard alphabet; encoded with
/// padding, decoded with or without it (clients differ).
pub(crate) const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The type of a packet: the digit it starts with on the wire.
///
/// ```
/// use carafe_engineio::packet::PacketType;
///
/// assert_eq!(PacketType::from_byte(b'4'), Some(PacketType::Message));
/// assert_eq!(PacketType::Message.as_byte(), b'4');
/// assert_eq!(PacketType::from_byte(b'7'), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// `0`: the server's handshake answer.
    Open,
    /// `1`: the transport may be closed.
    Close,
    /// `2`: heartbeat request (server to client), or the upgrade probe (client to server).
    Ping,
    /// `3`: heartbeat answer.
    Pong,
    /// `4`: application data.
    Message,
    /// `5`: the client completes an upgrade.
    Upgrade,
    /// `6`: nothing; ends a pending long-polling request during an upgrade.
    Noop,
}

impl PacketType {
    /// The type whose digit is `byte`.
    pub fn from_byte(byte: u8) -> Option<PacketType> {
        Some(match byte {
            b'0' => PacketType::Open,
            b'1' => PacketType::Close,
            b'2' => PacketType::Ping,
            b'3' => PacketType::Pong,
            b'4' => PacketType::Message,
            b'5' => PacketType::Upgrade,
            b'6' => PacketType::Noop,
            _ => return None,
        })
    }

    /// The digit of this type.
    pub fn as_byte(self) -> u8 {
        match self {
            PacketType::Open => b'0',
            PacketType::Close => b'1',
            PacketType::Ping => b'2',
            PacketType::Pong => b'3',
            PacketType::Message => b'4',
            PacketType::Upgrade => b'5',
            PacketType::Noop => b'6',
        }
    }
}

/// One Engine.IO packet.
///
/// ```
/// use carafe_engineio::packet::Packet;
/// use carafe_engineio::Str;
///
/// let packet = Packet::decode_text(Str::from("4hello")).unwrap();
/// assert_eq!(packet, Packet::Message(Str::from("hello")));
/// assert_eq!(packet.encode_to_vec(), b"4hello");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// The handshake's JSON data.
    Open(Str),
    /// Close the transport; any data is ignored.
    Close,
    /// A ping, with its data (`probe` during an upgrade, usually empty).
    Ping(Str),
    /// A pong, with its data (`probe` answers the upgrade probe).
    Pong(Str),
    /// A text message.
    Message(Str),
    /// A binary message (a binary frame, or `b<base64>` over long-polling).
    Binary(Bytes),
    /// The upgrade is complete; any data is ignored.
    Upgrade,
    /// Nothing; any data is ignored.
    Noop,
}

/// Why bytes are not an Engine.IO packet or payload.
///
/// ```
/// use carafe_engineio::packet::{Packet, ParseError};
/// use carafe_engineio::Str;
///
/// assert_eq!(Packet::decode_text(Str::from("abc")), Err(ParseError::UnknownType(b'a')));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// A packet with no bytes at all (not even a type).
    Empty,
    /// The first byte is neither a type digit `0`-`6` nor `b`.
    UnknownType(u8),
    /// The data after a `b` is not base64.
    InvalidBase64,
    /// A long-polling body that is not UTF-8.
    InvalidUtf8,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Empty => f.write_str("empty packet: expected a type digit 0-6 or `b`"),
            ParseError::UnknownType(byte) => write!(
                f,
                "unknown packet type {:?}: expected a digit 0-6 or `b`",
                char::from(*byte)
            ),
            ParseError::InvalidBase64 => f.write_str("binary packet data is not valid base64"),
            ParseError::InvalidUtf8 => f.write_str("long-polling payload is not valid UTF-8"),
        }
    }
}

impl std::error::Error for ParseError {}

impl Packet {
    /// The ping the server sends as its heartbeat.
    pub const PING: Packet = Packet::Ping(Str::from_static(""));

    /// Decodes a text packet: a WebSocket text frame or one long-polling record.
    ///
    /// ```
    /// use carafe_engineio::packet::Packet;
    /// use carafe_engineio::Str;
    ///
    /// assert_eq!(Packet::decode_text(Str::from("2probe")), Ok(Packet::Ping(Str::from("probe"))));
    /// assert_eq!(
    ///     Packet::decode_text(Str::from("bAQIDBA==")),
    ///     Ok(Packet::Binary(bytes::Bytes::from_static(&[1, 2, 3, 4])))
    /// );
    /// ```
    pub fn decode_text(text: Str) -> Result<Packet, ParseError> {
        let bytes = Bytes::from(text);
        let Some(&first) = bytes.first() else {
            return Err(ParseError::Empty);
        };
        let data = bytes.slice(1..);
        if first == b'b' {
            let decoded = BASE64
                .decode(&data)
                .map_err(|_| ParseError::InvalidBase64)?;
            return Ok(Packet::Binary(Bytes::from(decoded)));
        }
        let kind = PacketType::from_byte(first).ok_or(ParseError::UnknownType(first))?;
        // The first byte is ASCII, so the rest of valid UTF-8 is valid UTF-8.
        let data = || Str::try_from(data).map_err(|_| ParseError::InvalidUtf8);
        Ok(match kind {
            PacketType::Open => Packet::Open(data()?),
            PacketType::Close => Packet::Close,
            PacketType::Ping => Packet::Ping(data()?),
            PacketType::Pong => Packet::Pong(data()?),
            PacketType::Message => Packet::Message(data()?),
            PacketType::Upgrade => Packet::Upgrade,
            PacketType::Noop => Packet::Noop,
        })
    }

    /// A binary WebSocket frame: always a binary message.
    ///
    /// ```
    /// use carafe_engineio::packet::Packet;
    ///
    /// let data = bytes::Bytes::from_static(&[1, 2, 3]);
    /// assert_eq!(Packet::decode_binary(data.clone()), Packet::Binary(data));
    /// ```
    pub fn decode_binary(data: Bytes) -> Packet {
        Packet::Binary(data)
    }

    /// The packet's type.
    ///
    /// ```
    /// use carafe_engineio::packet::{Packet, PacketType};
    ///
    /// assert_eq!(Packet::Noop.packet_type(), PacketType::Noop);
    /// ```
    pub fn packet_type(&self) -> PacketType {
        match self {
            Packet::Open(_) => PacketType::Open,
            Packet::Close => PacketType::Close,
            Packet::Ping(_) => PacketType::Ping,
            Packet::Pong(_) => PacketType::Pong,
            Packet::Message(_) | Packet::Binary(_) => PacketType::Message,
            Packet::Upgrade => PacketType::Upgrade,
            Packet::Noop => PacketType::Noop,
        }
    }

    /// The number of bytes [`encode_text`](Packet::encode_text) writes.
    ///
    /// ```
    /// use carafe_engineio::packet::Packet;
    ///
    /// assert_eq!(Packet::Binary(bytes::Bytes::from_static(&[1, 2, 3, 4])).encoded_len(), 9);
    /// ```
    pub fn encoded_len(&self) -> usize {
        match self {
            Packet::Open(data)
            | Packet::Ping(data)
            | Packet::Pong(data)
            | Packet::Message(data) => 1 + data.len(),
            Packet::Binary(data) => 1 + base64_len(data.len()),
            Packet::Close | Packet::Upgrade | Packet::Noop => 1,
        }
    }

    /// Appends the packet's text form: `<type><data>`, or `b<base64>` for binary data
    /// (the long-polling form; over WebSocket binary data goes in a binary frame as is).
    ///
    /// ```
    /// use carafe_engineio::packet::Packet;
    /// use carafe_engineio::Str;
    ///
    /// let mut out = bytes::BytesMut::new();
    /// Packet::Pong(Str::from("probe")).encode_text(&mut out);
    /// assert_eq!(&out[..], b"3probe");
    /// ```
    pub fn encode_text(&self, out: &mut BytesMut) {
        out.reserve(self.encoded_len());
        match self {
            Packet::Open(data)
            | Packet::Ping(data)
            | Packet::Pong(data)
            | Packet::Message(data) => {
                out.put_u8(self.packet_type().as_byte());
                out.put_slice(data.as_bytes());
            }
            Packet::Binary(data) => encode_binary(data, out),
            Packet::Close | Packet::Upgrade | Packet::Noop => {
                out.put_u8(self.packet_type().as_byte());
            }
        }
    }

    /// The packet's text form in a new vector.
    ///
    /// ```
    /// assert_eq!(carafe_engineio::packet::Packet::Noop.encode_to_vec(), b"6");
    /// ```
    pub fn encode_to_vec(&self) -> Vec<u8> {
        let mut out = BytesMut::new();
        self.encode_text(&mut out);
        out.to_vec()
    }
}

/// The length of the padded base64 of `len` bytes.
pub(crate) fn base64_len(len: usize) -> usize {
    len.div_ceil(3) * 4
}

/// Appends `b` and the padded base64 of `data`.
pub(crate) fn encode_binary(data: &[u8], out: &mut BytesMut) {
    out.put_u8(b'b');
    let start = out.len();
    out.resize(start + base64_len(data.len()), 0);
    // The slice is exactly the padded length, which `encode_slice` needs and no more.
    let written = BASE64.encode_slice(data, &mut out[start..]).unwrap_or(0);
    out.truncate(start + written);
}

/// A message packet encoded once for the wire, to send to one socket or many.
///
/// Text is stored with its `4` type prefix, so sending the same `MessagePacket` to many
/// sockets copies nothing per recipient: clones share one buffer.
///
/// ```
/// use carafe_engineio::packet::MessagePacket;
///
/// let packet = MessagePacket::text("hello");
/// assert_eq!(packet.data_len(), 5);
/// let blob = MessagePacket::binary(vec![1, 2, 3]);
/// assert!(blob.is_binary());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessagePacket(Repr);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Repr {
    /// `4` followed by the text.
    Text(Str),
    /// The raw bytes.
    Binary(Bytes),
}

impl MessagePacket {
    /// A text message.
    pub fn text(text: &str) -> MessagePacket {
        let mut wire = String::with_capacity(1 + text.len());
        wire.push('4');
        wire.push_str(text);
        MessagePacket(Repr::Text(Str::from(wire)))
    }

    /// A text message already in wire form, `4` type prefix included: an upper layer that
    /// encodes a packet once for many sockets writes the prefix itself, and every
    /// recipient then shares the same bytes. `None` when `wire` does not start with `4`.
    ///
    /// ```
    /// use carafe_engineio::packet::MessagePacket;
    /// use carafe_engineio::Str;
    ///
    /// let packet = MessagePacket::from_wire(Str::from("4hello")).unwrap();
    /// assert_eq!(packet, MessagePacket::text("hello"));
    /// assert!(MessagePacket::from_wire(Str::from("hello")).is_none());
    /// ```
    pub fn from_wire(wire: Str) -> Option<MessagePacket> {
        (wire.as_bytes().first() == Some(&b'4')).then_some(MessagePacket(Repr::Text(wire)))
    }

    /// A binary message.
    pub fn binary(data: impl Into<Bytes>) -> MessagePacket {
        MessagePacket(Repr::Binary(data.into()))
    }

    /// Whether this is a binary message.
    pub fn is_binary(&self) -> bool {
        matches!(self.0, Repr::Binary(_))
    }

    /// The length of the message's data in bytes (without the type prefix).
    pub fn data_len(&self) -> usize {
        match &self.0 {
            Repr::Text(wire) => wire.len() - 1,
            Repr::Binary(data) => data.len(),
        }
    }

    /// The whole text frame `4<text>` of a text message.
    pub(crate) fn wire_text(&self) -> Option<&Str> {
        match &self.0 {
            Repr::Text(wire) => Some(wire),
            Repr::Binary(_) => None,
        }
    }

    /// The raw bytes of a binary message.
    pub(crate) fn binary_data(&self) -> Option<&Bytes> {
        match &self.0 {
            Repr::Text(_) => None,
            Repr::Binary(data) => Some(data),
        }
    }

    /// The number of bytes [`encode_polling`](MessagePacket::encode_polling) writes.
    pub(crate) fn polling_len(&self) -> usize {
        match &self.0 {
            Repr::Text(wire) => wire.len(),
            Repr::Binary(data) => 1 + base64_len(data.len()),
        }
    }

    /// Appends the long-polling form: `4<text>` or `b<base64>`.
    pub(crate) fn encode_polling(&self, out: &mut BytesMut) {
        match &self.0 {
            Repr::Text(wire) => out.put_slice(wire.as_bytes()),
            Repr::Binary(data) => encode_binary(data, out),
        }
    }
}

impl From<&str> for MessagePacket {
    fn from(text: &str) -> Self {
        MessagePacket::text(text)
    }
}

impl From<String> for MessagePacket {
    fn from(text: String) -> Self {
        MessagePacket::text(&text)
    }
}

impl From<Bytes> for MessagePacket {
    fn from(data: Bytes) -> Self {
        MessagePacket::binary(data)
    }
}

impl From<Vec<u8>> for MessagePacket {
    fn from(data: Vec<u8>) -> Self {
        MessagePacket::binary(data)
    }
}

#[cfg(test)]
mod tests;
