//! Socket.IO v5 packets, sans-IO: the layer between Engine.IO messages and namespaces.
//!
//! Implements "Packet encoding" of the Socket.IO protocol v5 (socketio/socket.io-protocol):
//!
//! ```text
//! <packet type>[<# of binary attachments>-][<namespace>,][<acknowledgment id>][JSON payload]
//! + binary attachments, each in its own Engine.IO binary message
//! ```
//!
//! This module owns the packet types ([`Packet`], [`PacketData`], [`Args`]), the
//! [`Decoder`] that turns Engine.IO messages into packets (waiting for a binary packet's
//! attachments), and the encoders that write a packet once into an [`Encoded`] message
//! that every recipient of a broadcast shares. It imports no tokio and touches no socket.
//!
//! Binary data travels as attachments: when a payload is serialized, every byte string
//! (`serialize_bytes`, as [`bytes::Bytes`] or `serde_bytes` do) is replaced by
//! `{"_placeholder":true,"num":N}` and sent after the text in order; a decoded payload keeps
//! its placeholders in the JSON text and puts the bytes back when it is deserialized.

mod binary;
mod decode;
mod encode;

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests;
mod value;

pub use value::{Spread, Value};

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use serde::de::DeserializeOwned;

pub use decode::{Decoder, ParseError, DEFAULT_MAX_ATTACHMENTS};
pub use encode::{
    encode_ack, encode_connect, encode_connect_error, encode_disconnect, encode_event, EncodeError,
};

/// The packet type digit that starts every Socket.IO packet.
///
/// ```
/// use carafe_socketio::packet::PacketType;
///
/// assert_eq!(PacketType::from_digit(b'5'), Some(PacketType::BinaryEvent));
/// assert_eq!(PacketType::Ack.digit(), b'3');
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// `0`: connect to a namespace (client), or the server's approval with `{sid}`.
    Connect,
    /// `1`: leave a namespace.
    Disconnect,
    /// `2`: an event: `["name", ...args]`.
    Event,
    /// `3`: the answer to an event that carried an ack id.
    Ack,
    /// `4`: the server refuses a namespace connection: `{message, data}`.
    ConnectError,
    /// `5`: an event with binary attachments.
    BinaryEvent,
    /// `6`: an ack with binary attachments.
    BinaryAck,
}

impl PacketType {
    /// The type for an ASCII digit, if it is one of the seven.
    ///
    /// ```
    /// assert!(carafe_socketio::packet::PacketType::from_digit(b'7').is_none());
    /// ```
    pub fn from_digit(digit: u8) -> Option<PacketType> {
        Some(match digit {
            b'0' => PacketType::Connect,
            b'1' => PacketType::Disconnect,
            b'2' => PacketType::Event,
            b'3' => PacketType::Ack,
            b'4' => PacketType::ConnectError,
            b'5' => PacketType::BinaryEvent,
            b'6' => PacketType::BinaryAck,
            _ => return None,
        })
    }

    /// The ASCII digit of this type.
    ///
    /// ```
    /// assert_eq!(carafe_socketio::packet::PacketType::Connect.digit(), b'0');
    /// ```
    pub fn digit(self) -> u8 {
        match self {
            PacketType::Connect => b'0',
            PacketType::Disconnect => b'1',
            PacketType::Event => b'2',
            PacketType::Ack => b'3',
            PacketType::ConnectError => b'4',
            PacketType::BinaryEvent => b'5',
            PacketType::BinaryAck => b'6',
        }
    }
}

/// A decoded Socket.IO packet: the namespace it is addressed to and what it carries.
///
/// ```
/// use bytes::Bytes;
/// use carafe_socketio::packet::{Decoder, PacketData};
///
/// let mut decoder = Decoder::new();
/// let packet = decoder.decode_text(Bytes::from_static(b"2/admin,7[\"bid\",3]"))?.unwrap();
/// assert_eq!(packet.namespace, "/admin");
/// let PacketData::Event { event, id, args } = packet.data else { panic!() };
/// assert_eq!((event.as_str(), id), ("bid", Some(7)));
/// assert_eq!(args.deserialize::<u32>()?, 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    /// The namespace, `/` when the packet names none.
    pub namespace: Cow<'static, str>,
    /// The packet's type and payload.
    pub data: PacketData,
}

/// What a [`Packet`] carries. Binary events and acks decode to [`PacketData::Event`] and
/// [`PacketData::Ack`] with their attachments in [`Args`].
#[derive(Debug, Clone, PartialEq)]
pub enum PacketData {
    /// `CONNECT`: from a client, the optional `auth` object (raw JSON); from the server,
    /// `{"sid": ...}`.
    Connect(Option<Bytes>),
    /// `DISCONNECT`.
    Disconnect,
    /// `EVENT` / `BINARY_EVENT`.
    Event {
        /// The event name (a numeric name is kept as its decimal text).
        event: String,
        /// The ack id, when the sender wants an answer.
        id: Option<u64>,
        /// The arguments after the event name.
        args: Args,
    },
    /// `ACK` / `BINARY_ACK`.
    Ack {
        /// The id of the event this answers.
        id: u64,
        /// The answer's arguments.
        args: Args,
    },
    /// `CONNECT_ERROR`: a JSON string or object (raw JSON).
    ConnectError(Bytes),
}

impl Packet {
    /// The packet type this packet is encoded with (binary when it has attachments).
    ///
    /// ```
    /// use carafe_socketio::packet::{Packet, PacketData, PacketType};
    ///
    /// let packet = Packet { namespace: "/".into(), data: PacketData::Disconnect };
    /// assert_eq!(packet.packet_type(), PacketType::Disconnect);
    /// ```
    pub fn packet_type(&self) -> PacketType {
        match &self.data {
            PacketData::Connect(_) => PacketType::Connect,
            PacketData::Disconnect => PacketType::Disconnect,
            PacketData::Event { args, .. } if args.has_attachments() => PacketType::BinaryEvent,
            PacketData::Event { .. } => PacketType::Event,
            PacketData::Ack { args, .. } if args.has_attachments() => PacketType::BinaryAck,
            PacketData::Ack { .. } => PacketType::Ack,
            PacketData::ConnectError(_) => PacketType::ConnectError,
        }
    }

    /// Encodes this packet again (placeholders and attachments as they were decoded).
    ///
    /// ```
    /// use bytes::Bytes;
    /// use carafe_socketio::packet::Decoder;
    ///
    /// let text = Bytes::from_static(b"3/admin,13[\"bar\"]");
    /// let packet = Decoder::new().decode_text(text.clone())?.unwrap();
    /// assert_eq!(packet.encode().text(), &text);
    /// # Ok::<(), carafe_socketio::packet::ParseError>(())
    /// ```
    pub fn encode(&self) -> Encoded {
        encode::encode_packet(self)
    }
}

/// The arguments of an event or ack: the JSON array as received (placeholders included),
/// where each argument lies in it, and the binary attachments.
///
/// Cloning shares the text and the attachments.
#[derive(Clone, PartialEq)]
pub struct Args {
    /// The whole JSON array, event name included for events.
    json: Bytes,
    /// Byte ranges of the arguments in `json` (the event name excluded).
    items: Vec<Range<usize>>,
    /// Binary attachments, in placeholder order.
    attachments: Vec<Bytes>,
}

impl Args {
    /// How many arguments there are.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use carafe_socketio::packet::{Decoder, PacketData};
    /// let packet = Decoder::new().decode_text(Bytes::from_static(b"31[1,2]"))?.unwrap();
    /// let PacketData::Ack { args, .. } = packet.data else { panic!() };
    /// assert_eq!(args.len(), 2);
    /// # Ok::<(), carafe_socketio::packet::ParseError>(())
    /// ```
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are no arguments.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use carafe_socketio::packet::{Decoder, PacketData};
    /// let packet = Decoder::new().decode_text(Bytes::from_static(b"31[]"))?.unwrap();
    /// let PacketData::Ack { args, .. } = packet.data else { panic!() };
    /// assert!(args.is_empty());
    /// # Ok::<(), carafe_socketio::packet::ParseError>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The JSON text of argument `index` (placeholders left in place).
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use carafe_socketio::packet::{Decoder, PacketData};
    /// let packet = Decoder::new().decode_text(Bytes::from_static(b"2[\"a\", {\"x\": 1}]"))?.unwrap();
    /// let PacketData::Event { args, .. } = packet.data else { panic!() };
    /// assert_eq!(args.raw(0).as_deref(), Some(&b"{\"x\": 1}"[..]));
    /// # Ok::<(), carafe_socketio::packet::ParseError>(())
    /// ```
    pub fn raw(&self, index: usize) -> Option<Bytes> {
        self.items
            .get(index)
            .map(|range| self.json.slice(range.clone()))
    }

    /// The binary attachments, in the order of their placeholder numbers.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use carafe_socketio::packet::{Decoder, PacketData};
    /// let mut decoder = Decoder::new();
    /// assert!(decoder.decode_text(Bytes::from_static(b"51-[\"a\",{\"_placeholder\":true,\"num\":0}]"))?.is_none());
    /// let packet = decoder.decode_binary(Bytes::from_static(&[1, 2]))?.unwrap();
    /// let PacketData::Event { args, .. } = packet.data else { panic!() };
    /// assert_eq!(args.attachments(), &[Bytes::from_static(&[1, 2])]);
    /// # Ok::<(), carafe_socketio::packet::ParseError>(())
    /// ```
    pub fn attachments(&self) -> &[Bytes] {
        &self.attachments
    }

    /// Whether the arguments came with binary attachments.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use carafe_socketio::packet::{Decoder, PacketData};
    /// let packet = Decoder::new().decode_text(Bytes::from_static(b"31[1]"))?.unwrap();
    /// let PacketData::Ack { args, .. } = packet.data else { panic!() };
    /// assert!(!args.has_attachments());
    /// # Ok::<(), carafe_socketio::packet::ParseError>(())
    /// ```
    pub fn has_attachments(&self) -> bool {
        !self.attachments.is_empty()
    }

    /// The arguments as `T`: with exactly one argument, `T` is read from it; with several,
    /// from the array of all of them (a tuple fits); with none, from `null` (`()` and
    /// `Option` fit).
    /// Placeholders become byte strings (`bytes::Bytes`, `Vec<u8>`, `serde_bytes`).
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use carafe_socketio::packet::{Decoder, PacketData};
    /// let packet = Decoder::new().decode_text(Bytes::from_static(b"2[\"bid\",\"car\",12]"))?.unwrap();
    /// let PacketData::Event { args, .. } = packet.data else { panic!() };
    /// let (item, amount): (String, u32) = args.deserialize()?;
    /// assert_eq!((item.as_str(), amount), ("car", 12));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        match self.items.as_slice() {
            [] => T::deserialize(serde_json::Value::Null),
            [only] => self.deserialize_item(only.clone()),
            _ => {
                let values = serde_json::Value::Array(self.values()?);
                binary::from_value(&values, &self.attachments)
            }
        }
    }

    /// Argument `index` as `T`, or `None` when there is no such argument.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use carafe_socketio::packet::{Decoder, PacketData};
    /// let packet = Decoder::new().decode_text(Bytes::from_static(b"2[\"bid\",\"car\",12]"))?.unwrap();
    /// let PacketData::Event { args, .. } = packet.data else { panic!() };
    /// assert_eq!(args.get::<u32>(1).transpose()?, Some(12));
    /// assert!(args.get::<u32>(2).is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get<T: DeserializeOwned>(&self, index: usize) -> Option<Result<T, serde_json::Error>> {
        let range = self.items.get(index)?.clone();
        Some(self.deserialize_item(range))
    }

    /// Every argument as a JSON value, placeholders left as objects (see
    /// [`Args::attachments`] for the bytes).
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use carafe_socketio::packet::{Decoder, PacketData};
    /// let packet = Decoder::new().decode_text(Bytes::from_static(b"2[\"a\",1,null]"))?.unwrap();
    /// let PacketData::Event { args, .. } = packet.data else { panic!() };
    /// assert_eq!(args.values()?, vec![serde_json::json!(1), serde_json::Value::Null]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn values(&self) -> Result<Vec<serde_json::Value>, serde_json::Error> {
        self.items
            .iter()
            .map(|range| serde_json::from_slice(&self.json[range.clone()]))
            .collect()
    }

    /// Every argument as a [`Value`], binary ones as bytes: what an echo sends back as
    /// they came, with [`Spread`].
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use carafe_socketio::packet::{Decoder, PacketData, Value};
    /// let mut decoder = Decoder::new();
    /// assert!(decoder.decode_text(Bytes::from_static(b"51-[\"a\",1,{\"_placeholder\":true,\"num\":0}]"))?.is_none());
    /// let packet = decoder.decode_binary(Bytes::from_static(&[7]))?.unwrap();
    /// let PacketData::Event { args, .. } = packet.data else { panic!() };
    /// let all = args.all()?;
    /// assert_eq!(all.len(), 2);
    /// assert_eq!(all[1], Value::Bytes(Bytes::from_static(&[7])));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn all(&self) -> Result<Vec<Value>, serde_json::Error> {
        (0..self.len())
            .filter_map(|index| self.get::<Value>(index))
            .collect()
    }

    /// Like [`deserialize`](Args::deserialize), and on failure the path of the value that
    /// failed (`amount`, `[1].item`, `.` for the whole) with the error.
    pub(crate) fn deserialize_with_path<T: DeserializeOwned>(
        &self,
    ) -> Result<T, (String, serde_json::Error)> {
        let tracked = |err: serde_path_to_error::Error<serde_json::Error>| {
            (err.path().to_string(), err.into_inner())
        };
        let untracked = |err: serde_json::Error| (".".to_owned(), err);
        match self.items.as_slice() {
            [] => T::deserialize(serde_json::Value::Null).map_err(untracked),
            [only] if self.attachments.is_empty() => {
                let mut de = serde_json::Deserializer::from_slice(&self.json[only.clone()]);
                serde_path_to_error::deserialize(&mut de).map_err(tracked)
            }
            [only] => {
                let value: serde_json::Value =
                    serde_json::from_slice(&self.json[only.clone()]).map_err(untracked)?;
                binary::from_value_with_path(&value, &self.attachments).map_err(tracked)
            }
            _ => {
                let values = serde_json::Value::Array(self.values().map_err(untracked)?);
                binary::from_value_with_path(&values, &self.attachments).map_err(tracked)
            }
        }
    }

    fn deserialize_item<T: DeserializeOwned>(
        &self,
        range: Range<usize>,
    ) -> Result<T, serde_json::Error> {
        let text = &self.json[range];
        if self.attachments.is_empty() {
            return serde_json::from_slice(text);
        }
        let value: serde_json::Value = serde_json::from_slice(text)?;
        binary::from_value(&value, &self.attachments)
    }
}

impl fmt::Debug for Args {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<_> = self
            .items
            .iter()
            .map(|range| String::from_utf8_lossy(&self.json[range.clone()]))
            .collect();
        f.debug_struct("Args")
            .field("items", &items)
            .field("attachments", &self.attachments.len())
            .finish()
    }
}

/// A packet encoded once, ready to be sent to any number of recipients: the text message
/// and the binary attachments that follow it. Cloning shares both.
///
/// ```
/// use carafe_socketio::packet::encode_event;
///
/// let encoded = encode_event("/", "hey", None, &"Jude")?;
/// assert_eq!(encoded.text(), "2[\"hey\",\"Jude\"]");
/// assert!(encoded.attachments().is_empty());
/// # Ok::<(), carafe_socketio::packet::EncodeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The text message (valid UTF-8: built from `&str` and serde_json output only): a
    /// view of `wire` without its first byte.
    text: Bytes,
    /// The same text as one Engine.IO message, `4` prefix included, in the same buffer:
    /// every recipient of a broadcast is handed this one buffer.
    wire: carafe_engineio::Str,
    /// The attachments, shared by every clone.
    attachments: Arc<[Bytes]>,
}

impl Encoded {
    /// Wraps an encoded text (`out`, without the Engine.IO prefix) and its attachments.
    pub(crate) fn from_parts(mut out: Vec<u8>, attachments: Arc<[Bytes]>) -> Encoded {
        out.insert(0, b'4');
        let wire = Bytes::from(out);
        let text = wire.slice(1..);
        // The encoders write `&str`s and serde_json output only, so this cannot fail; an
        // empty message stands in if it ever did, rather than a panic.
        let wire = carafe_engineio::Str::try_from(wire).unwrap_or_else(|_| {
            tracing::error!("a Socket.IO packet encoded to invalid UTF-8; sent empty");
            carafe_engineio::Str::from_static("4")
        });
        Encoded {
            text,
            wire,
            attachments,
        }
    }

    /// The Engine.IO messages of this packet: its text, then one binary message per
    /// attachment. The text shares this packet's buffer, so calling this once per
    /// recipient of a broadcast copies no payload.
    ///
    /// ```
    /// let encoded = carafe_socketio::packet::encode_event("/", "f", None, &bytes::Bytes::from_static(b"\x01"))?;
    /// let messages = encoded.messages();
    /// assert_eq!(messages.len(), 2);
    /// assert!(messages[1].is_binary());
    /// # Ok::<(), carafe_socketio::packet::EncodeError>(())
    /// ```
    pub fn messages(&self) -> Vec<carafe_engineio::packet::MessagePacket> {
        let mut messages = Vec::with_capacity(1 + self.attachments.len());
        messages.push(self.text_message());
        messages.extend(
            self.attachments
                .iter()
                .cloned()
                .map(carafe_engineio::packet::MessagePacket::binary),
        );
        messages
    }

    /// The text as one Engine.IO message, sharing this packet's buffer.
    ///
    /// ```
    /// use carafe_engineio::packet::MessagePacket;
    ///
    /// let encoded = carafe_socketio::packet::encode_disconnect("/admin");
    /// assert_eq!(encoded.text_message(), MessagePacket::text("1/admin,"));
    /// ```
    pub fn text_message(&self) -> carafe_engineio::packet::MessagePacket {
        carafe_engineio::packet::MessagePacket::from_wire(self.wire.clone())
            .unwrap_or_else(|| carafe_engineio::packet::MessagePacket::text(""))
    }
}

impl Encoded {
    /// The text message (without the Engine.IO `4` prefix).
    ///
    /// ```
    /// let encoded = carafe_socketio::packet::encode_disconnect("/admin");
    /// assert_eq!(encoded.text(), "1/admin,");
    /// ```
    pub fn text(&self) -> &Bytes {
        &self.text
    }

    /// The binary attachments, each one Engine.IO binary message after the text.
    ///
    /// ```
    /// let encoded = carafe_socketio::packet::encode_event("/", "f", None, &bytes::Bytes::from_static(b"\x01"))?;
    /// assert_eq!(encoded.attachments().len(), 1);
    /// # Ok::<(), carafe_socketio::packet::EncodeError>(())
    /// ```
    pub fn attachments(&self) -> &[Bytes] {
        &self.attachments
    }
}

impl Encoded {
    /// This packet with `offset` appended as its last argument, if it is an `EVENT` or
    /// `BINARY_EVENT` without an ack id (the packets connection state recovery keeps);
    /// `None` for any other packet. The attachments are shared, not copied.
    ///
    /// ```
    /// use carafe_socketio::packet::encode_event;
    ///
    /// let event = encode_event("/chat", "msg", None, &("hi", 1))?;
    /// assert_eq!(event.with_offset("7").unwrap().text(), "2/chat,[\"msg\",\"hi\",1,\"7\"]");
    /// assert!(encode_event("/", "msg", Some(3), &())?.with_offset("7").is_none());
    /// # Ok::<(), carafe_socketio::packet::EncodeError>(())
    /// ```
    pub fn with_offset(&self, offset: &str) -> Option<Encoded> {
        if !is_event_without_ack(&self.text) || self.text.last() != Some(&b']') {
            return None;
        }
        let mut text = Vec::with_capacity(self.text.len() + offset.len() + 4);
        text.extend_from_slice(&self.text[..self.text.len() - 1]);
        text.push(b',');
        // A string always serializes.
        serde_json::to_writer(&mut text, offset).ok()?;
        text.push(b']');
        Some(Encoded::from_parts(text, self.attachments.clone()))
    }
}

/// Whether an encoded text is `2…` or `5N-…` with no ack id before its JSON array.
fn is_event_without_ack(text: &[u8]) -> bool {
    let mut rest = match text.split_first() {
        Some((b'2', rest)) => rest,
        Some((b'5', rest)) => {
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            match rest.get(digits) {
                Some(b'-') => &rest[digits + 1..],
                _ => return false,
            }
        }
        _ => return false,
    };
    if rest.first() == Some(&b'/') {
        match rest.iter().position(|&b| b == b',') {
            Some(comma) => rest = &rest[comma + 1..],
            None => return false,
        }
    }
    rest.first() == Some(&b'[')
}
