//! The packet decoder: one Engine.IO message in, a [`Packet`] out once it is whole.
//!
//! A text message is parsed at once; a `BINARY_EVENT` / `BINARY_ACK` header with `N`
//! attachments makes the decoder wait for exactly `N` binary messages (`Ok(None)` until
//! then). Any error leaves the decoder empty; the caller closes the connection, as the
//! spec says a receiver of a malformed packet must.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use bytes::Bytes;
use serde_json::value::RawValue;

use super::{binary, Args, Packet, PacketData, PacketType};

/// The default bound on a binary packet's attachment count ([`Decoder::with_max_attachments`]).
pub const DEFAULT_MAX_ATTACHMENTS: usize = 64;

/// Event names a peer may not send: they are the local lifecycle events of Socket.IO.
const RESERVED_EVENTS: &[&str] = &[
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// Why a message is not a valid Socket.IO packet.
///
/// ```
/// use bytes::Bytes;
/// use carafe_socketio::packet::{Decoder, ParseError};
///
/// let err = Decoder::new().decode_text(Bytes::from_static(b"9")).unwrap_err();
/// assert_eq!(err, ParseError::UnknownType(b'9'));
/// assert_eq!(err.to_string(), "unknown packet type byte 0x39");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// The message was empty.
    Empty,
    /// The first byte is not a packet type digit `0`–`6`.
    UnknownType(u8),
    /// A binary packet's attachment count is missing, not decimal, or not followed by `-`.
    BadAttachmentCount,
    /// A binary packet announces more attachments than the decoder accepts.
    TooManyAttachments {
        /// The announced count.
        count: usize,
        /// The decoder's bound.
        max: usize,
    },
    /// The namespace is not UTF-8.
    BadNamespace,
    /// The ack id does not fit in 64 bits.
    BadAckId,
    /// An `ACK` packet without an ack id.
    MissingAckId,
    /// The payload is not JSON, or not the JSON this packet type requires.
    InvalidPayload(&'static str),
    /// A peer sent one of the reserved event names (`connect`, `disconnect`, ...).
    ReservedEvent(String),
    /// A placeholder in a binary packet is malformed or numbers an attachment that is not
    /// announced.
    BadPlaceholder,
    /// A text message arrived while a binary packet was still waiting for attachments.
    UnexpectedText,
    /// A binary message arrived when no binary packet was waiting for one.
    UnexpectedBinary,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Empty => f.write_str("empty packet"),
            ParseError::UnknownType(byte) => write!(f, "unknown packet type byte {byte:#04x}"),
            ParseError::BadAttachmentCount => {
                f.write_str("binary packet without a decimal attachment count ending in '-'")
            }
            ParseError::TooManyAttachments { count, max } => {
                write!(
                    f,
                    "binary packet announces {count} attachments, more than the limit of {max}"
                )
            }
            ParseError::BadNamespace => f.write_str("namespace is not utf-8"),
            ParseError::BadAckId => f.write_str("ack id does not fit in 64 bits"),
            ParseError::MissingAckId => f.write_str("ack packet without an ack id"),
            ParseError::InvalidPayload(why) => write!(f, "invalid payload: {why}"),
            ParseError::ReservedEvent(name) => write!(f, "event name {name:?} is reserved"),
            ParseError::BadPlaceholder => {
                f.write_str("binary placeholder is malformed or numbers a missing attachment")
            }
            ParseError::UnexpectedText => {
                f.write_str("text message while a binary packet waits for attachments")
            }
            ParseError::UnexpectedBinary => {
                f.write_str("binary message without a binary packet waiting for it")
            }
        }
    }
}

impl std::error::Error for ParseError {}

/// Decodes the messages of one connection into packets.
///
/// ```
/// use bytes::Bytes;
/// use carafe_socketio::packet::{Decoder, PacketData};
///
/// let mut decoder = Decoder::new();
/// // The protocol's example: `51-["baz",{"_placeholder":true,"num":0}]` + <01 02 03 04>.
/// let header = Bytes::from_static(b"51-[\"baz\",{\"_placeholder\":true,\"num\":0}]");
/// assert!(decoder.decode_text(header)?.is_none());
/// let packet = decoder.decode_binary(Bytes::from_static(&[1, 2, 3, 4]))?.unwrap();
/// let PacketData::Event { event, args, .. } = packet.data else { panic!() };
/// assert_eq!(event, "baz");
/// assert_eq!(args.deserialize::<Bytes>().unwrap(), &[1, 2, 3, 4][..]);
/// # Ok::<(), carafe_socketio::packet::ParseError>(())
/// ```
#[derive(Debug)]
pub struct Decoder {
    /// The most attachments a binary packet may announce.
    max_attachments: usize,
    /// A binary packet waiting for its attachments, and how many it needs in all.
    pending: Option<(Packet, usize)>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder accepting up to [`DEFAULT_MAX_ATTACHMENTS`] attachments per packet.
    ///
    /// ```
    /// let decoder = carafe_socketio::packet::Decoder::new();
    /// assert!(!decoder.is_waiting());
    /// ```
    pub fn new() -> Self {
        Decoder::with_max_attachments(DEFAULT_MAX_ATTACHMENTS)
    }

    /// A decoder accepting up to `max` attachments per binary packet.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use carafe_socketio::packet::{Decoder, ParseError};
    ///
    /// let mut decoder = Decoder::with_max_attachments(1);
    /// let err = decoder.decode_text(Bytes::from_static(b"52-[\"a\"]")).unwrap_err();
    /// assert_eq!(err, ParseError::TooManyAttachments { count: 2, max: 1 });
    /// ```
    pub fn with_max_attachments(max: usize) -> Self {
        Decoder {
            max_attachments: max,
            pending: None,
        }
    }

    /// Whether a binary packet is waiting for attachments.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// let mut decoder = carafe_socketio::packet::Decoder::new();
    /// decoder.decode_text(Bytes::from_static(b"51-[\"a\",{\"_placeholder\":true,\"num\":0}]"))?;
    /// assert!(decoder.is_waiting());
    /// # Ok::<(), carafe_socketio::packet::ParseError>(())
    /// ```
    pub fn is_waiting(&self) -> bool {
        self.pending.is_some()
    }

    /// Decodes a text message. `Ok(None)` means a binary packet now waits for attachments.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// let packet = carafe_socketio::packet::Decoder::new().decode_text(Bytes::from_static(b"0"))?;
    /// assert_eq!(packet.unwrap().namespace, "/");
    /// # Ok::<(), carafe_socketio::packet::ParseError>(())
    /// ```
    pub fn decode_text(&mut self, text: Bytes) -> Result<Option<Packet>, ParseError> {
        if self.pending.take().is_some() {
            return Err(ParseError::UnexpectedText);
        }
        let (packet, attachments) = parse_packet(text, self.max_attachments)?;
        if attachments == 0 {
            return Ok(Some(packet));
        }
        self.pending = Some((packet, attachments));
        Ok(None)
    }

    /// Takes a binary message as the next attachment of the waiting packet; returns the
    /// packet once it has all of them.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// use carafe_socketio::packet::{Decoder, ParseError};
    ///
    /// let err = Decoder::new().decode_binary(Bytes::from_static(b"\x01")).unwrap_err();
    /// assert_eq!(err, ParseError::UnexpectedBinary);
    /// ```
    pub fn decode_binary(&mut self, data: Bytes) -> Result<Option<Packet>, ParseError> {
        let Some((mut packet, expected)) = self.pending.take() else {
            return Err(ParseError::UnexpectedBinary);
        };
        let args = match &mut packet.data {
            PacketData::Event { args, .. } | PacketData::Ack { args, .. } => args,
            // Only events and acks are ever left pending (see `parse_packet`).
            _ => return Err(ParseError::UnexpectedBinary),
        };
        args.attachments.push(data);
        if args.attachments.len() == expected {
            return Ok(Some(packet));
        }
        self.pending = Some((packet, expected));
        Ok(None)
    }
}

/// Parses one text message into a packet and the number of attachments still to come.
fn parse_packet(text: Bytes, max_attachments: usize) -> Result<(Packet, usize), ParseError> {
    let bytes = &text[..];
    let first = *bytes.first().ok_or(ParseError::Empty)?;
    let kind = PacketType::from_digit(first).ok_or(ParseError::UnknownType(first))?;
    let mut at = 1;
    let binary = matches!(kind, PacketType::BinaryEvent | PacketType::BinaryAck);
    let attachments = if binary {
        let (count, next) = parse_attachment_count(bytes, at)?;
        if count > max_attachments {
            return Err(ParseError::TooManyAttachments {
                count,
                max: max_attachments,
            });
        }
        at = next;
        count
    } else {
        0
    };
    let (namespace, next) = parse_namespace(bytes, at)?;
    let (id, next) = parse_id(bytes, next)?;
    let payload = next..bytes.len();
    let data = parse_data(kind, id, &text, payload)?;
    if binary {
        if let PacketData::Event { args, .. } | PacketData::Ack { args, .. } = &data {
            binary::check_placeholders(&args.json, attachments)?;
        }
    }
    Ok((Packet { namespace, data }, attachments))
}

/// `<digits>-` after a binary type digit.
fn parse_attachment_count(bytes: &[u8], start: usize) -> Result<(usize, usize), ParseError> {
    let digits = count_digits(bytes, start);
    if digits == 0 || bytes.get(start + digits) != Some(&b'-') {
        return Err(ParseError::BadAttachmentCount);
    }
    let count =
        parse_decimal(&bytes[start..start + digits]).ok_or(ParseError::BadAttachmentCount)?;
    let count = usize::try_from(count).map_err(|_| ParseError::BadAttachmentCount)?;
    Ok((count, start + digits + 1))
}

/// `/name,` (the comma may be missing at the very end); `/` when the next byte is not `/`.
fn parse_namespace(bytes: &[u8], start: usize) -> Result<(Cow<'static, str>, usize), ParseError> {
    if bytes.get(start) != Some(&b'/') {
        return Ok((Cow::Borrowed("/"), start));
    }
    let rest = &bytes[start..];
    let (name, next) = match rest.iter().position(|&byte| byte == b',') {
        Some(comma) => (&rest[..comma], start + comma + 1),
        None => (rest, bytes.len()),
    };
    let name = std::str::from_utf8(name).map_err(|_| ParseError::BadNamespace)?;
    let name = if name == "/" {
        Cow::Borrowed("/")
    } else {
        Cow::Owned(name.to_owned())
    };
    Ok((name, next))
}

/// An optional decimal ack id.
fn parse_id(bytes: &[u8], start: usize) -> Result<(Option<u64>, usize), ParseError> {
    let digits = count_digits(bytes, start);
    if digits == 0 {
        return Ok((None, start));
    }
    let id = parse_decimal(&bytes[start..start + digits]).ok_or(ParseError::BadAckId)?;
    Ok((Some(id), start + digits))
}

fn count_digits(bytes: &[u8], start: usize) -> usize {
    bytes.get(start..).map_or(0, |rest| {
        rest.iter().take_while(|byte| byte.is_ascii_digit()).count()
    })
}

/// A run of ASCII digits as a number, `None` on overflow.
fn parse_decimal(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |value, digit| {
        value.checked_mul(10)?.checked_add(u64::from(digit - b'0'))
    })
}

/// The payload, checked against what the packet type allows.
fn parse_data(
    kind: PacketType,
    id: Option<u64>,
    text: &Bytes,
    payload: Range<usize>,
) -> Result<PacketData, ParseError> {
    let empty = payload.is_empty();
    match kind {
        PacketType::Connect if empty => Ok(PacketData::Connect(None)),
        PacketType::Connect => {
            let range = raw_value(text, payload, b'{', "connect payload must be an object")?;
            Ok(PacketData::Connect(Some(text.slice(range))))
        }
        PacketType::Disconnect if empty => Ok(PacketData::Disconnect),
        PacketType::Disconnect => Err(ParseError::InvalidPayload("disconnect carries no payload")),
        PacketType::ConnectError => {
            let range = raw_value(text, payload.clone(), b'{', "")
                .or_else(|_| raw_value(text, payload, b'"', ""))
                .map_err(|_| {
                    ParseError::InvalidPayload(
                        "connect_error payload must be a string or an object",
                    )
                })?;
            Ok(PacketData::ConnectError(text.slice(range)))
        }
        PacketType::Event | PacketType::BinaryEvent => parse_event(id, text, payload),
        PacketType::Ack | PacketType::BinaryAck => {
            let id = id.ok_or(ParseError::MissingAckId)?;
            let args = parse_array(text, payload, "ack payload must be an array")?;
            Ok(PacketData::Ack { id, args })
        }
    }
}

/// One JSON value that must start with `open`; its range in `text`.
fn raw_value(
    text: &Bytes,
    payload: Range<usize>,
    open: u8,
    why: &'static str,
) -> Result<Range<usize>, ParseError> {
    let slice = &text[payload.clone()];
    let raw: &RawValue =
        serde_json::from_slice(slice).map_err(|_| ParseError::InvalidPayload("not json"))?;
    if raw.get().as_bytes().first() != Some(&open) {
        return Err(ParseError::InvalidPayload(why));
    }
    Ok(offset_in(slice, raw.get(), payload.start))
}

/// A JSON array; the ranges of its items (relative to the array's own slice).
fn parse_array(text: &Bytes, payload: Range<usize>, why: &'static str) -> Result<Args, ParseError> {
    let slice = &text[payload.clone()];
    if slice.iter().find(|byte| !byte.is_ascii_whitespace()) != Some(&b'[') {
        return Err(ParseError::InvalidPayload(why));
    }
    let mut json = serde_json::Deserializer::from_slice(slice);
    let items = serde::de::DeserializeSeed::deserialize(ItemRanges(slice), &mut json)
        .and_then(|items| json.end().map(|()| items))
        .map_err(|_| ParseError::InvalidPayload("not json"))?;
    Ok(Args {
        json: text.slice(payload),
        items,
        attachments: Vec::new(),
    })
}

/// Reads a JSON array straight into the byte ranges of its items within the array's
/// slice: each item is validated as it is skipped, and nothing is kept but the ranges.
struct ItemRanges<'a>(&'a [u8]);

impl<'de> serde::de::DeserializeSeed<'de> for ItemRanges<'_> {
    type Value = Vec<Range<usize>>;

    fn deserialize<D: serde::Deserializer<'de>>(self, json: D) -> Result<Self::Value, D::Error> {
        json.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for ItemRanges<'_> {
    type Value = Vec<Range<usize>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(4).min(16));
        while let Some(item) = seq.next_element::<&'de RawValue>()? {
            items.push(offset_in(self.0, item.get(), 0));
        }
        Ok(items)
    }
}

fn parse_event(
    id: Option<u64>,
    text: &Bytes,
    payload: Range<usize>,
) -> Result<PacketData, ParseError> {
    let mut args = parse_array(text, payload, "event payload must be an array")?;
    if args.items.is_empty() {
        return Err(ParseError::InvalidPayload(
            "event payload must not be empty",
        ));
    }
    let name = args.items.remove(0);
    let name = &args.json[name];
    let event = match name.first() {
        Some(b'"') => serde_json::from_slice::<String>(name)
            .map_err(|_| ParseError::InvalidPayload("not json"))?,
        Some(b'-' | b'0'..=b'9') => String::from_utf8_lossy(name).into_owned(),
        _ => {
            return Err(ParseError::InvalidPayload(
                "event name must be a string or a number",
            ))
        }
    };
    if RESERVED_EVENTS.contains(&event.as_str()) {
        return Err(ParseError::ReservedEvent(event));
    }
    Ok(PacketData::Event { event, id, args })
}

/// Where `inner` (a sub-slice of `outer`) lies, shifted by `base`.
fn offset_in(outer: &[u8], inner: &str, base: usize) -> Range<usize> {
    let start = inner.as_ptr() as usize - outer.as_ptr() as usize + base;
    start..start + inner.len()
}
