//! The packet encoders: a packet written once into an [`Encoded`] message.
//!
//! Arguments are serialized straight into the message buffer. A tuple is spread into
//! several arguments (`&("car", 12)` sends two), `()` sends none, and any other value,
//! arrays included, is one argument.

use std::fmt;

use bytes::Bytes;
use serde::Serialize;

use super::binary::PlaceholderFormatter;
use super::{Encoded, Packet, PacketData, PacketType};

mod probe;

use probe::Shape;

/// Why a payload could not be encoded: its `Serialize` implementation failed (a map with
/// non-string keys, say).
///
/// ```
/// use std::collections::HashMap;
///
/// let map: HashMap<(u8, u8), u8> = [((1, 2), 3)].into();
/// let err = carafe_socketio::packet::encode_event("/", "e", None, &map).unwrap_err();
/// assert!(err.to_string().starts_with("cannot encode the payload"));
/// ```
#[derive(Debug)]
pub struct EncodeError(serde_json::Error);

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot encode the payload as json: {}", self.0)
    }
}

impl std::error::Error for EncodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// Encodes an `EVENT` (or `BINARY_EVENT` when `args` holds byte strings).
///
/// ```
/// use carafe_socketio::packet::encode_event;
///
/// assert_eq!(encode_event("/admin", "bar", None, &())?.text(), "2/admin,[\"bar\"]");
/// assert_eq!(encode_event("/", "foo", Some(12), &("a", 1))?.text(), "212[\"foo\",\"a\",1]");
/// let binary = encode_event("/admin", "baz", None, &(bytes::Bytes::from_static(&[1, 2]), bytes::Bytes::from_static(&[3, 4])))?;
/// assert_eq!(
///     binary.text(),
///     "52-/admin,[\"baz\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]"
/// );
/// # Ok::<(), carafe_socketio::packet::EncodeError>(())
/// ```
pub fn encode_event<T: Serialize + ?Sized>(
    namespace: &str,
    event: &str,
    id: Option<u64>,
    args: &T,
) -> Result<Encoded, EncodeError> {
    let mut out = header(PacketType::Event, namespace, id);
    out.push(b'[');
    serde_json::to_writer(&mut out, event).map_err(EncodeError)?;
    let attachments = write_args(&mut out, args, true)?;
    Ok(finish(out, attachments))
}

/// Encodes an `ACK` (or `BINARY_ACK`) answering event `id`.
///
/// ```
/// use carafe_socketio::packet::encode_ack;
///
/// assert_eq!(encode_ack("/admin", 13, &"bar")?.text(), "3/admin,13[\"bar\"]");
/// assert_eq!(encode_ack("/", 12, &())?.text(), "312[]");
/// let binary = encode_ack("/", 15, &("bar", bytes::Bytes::from_static(&[1, 2, 3, 4])))?;
/// assert_eq!(binary.text(), "61-15[\"bar\",{\"_placeholder\":true,\"num\":0}]");
/// # Ok::<(), carafe_socketio::packet::EncodeError>(())
/// ```
pub fn encode_ack<T: Serialize + ?Sized>(
    namespace: &str,
    id: u64,
    args: &T,
) -> Result<Encoded, EncodeError> {
    let mut out = header(PacketType::Ack, namespace, Some(id));
    let attachments = write_args(&mut out, args, false)?;
    Ok(finish(out, attachments))
}

/// Encodes a `CONNECT`: the server's approval carries `{"sid": ...}`, a client's request
/// its `auth` object.
///
/// ```
/// use carafe_socketio::packet::encode_connect;
///
/// assert_eq!(encode_connect("/", None).text(), "0");
/// let sid = serde_json::json!({"sid": "oSO0OpakMV_3jnilAAAA"});
/// assert_eq!(encode_connect("/admin", Some(&sid)).text(), "0/admin,{\"sid\":\"oSO0OpakMV_3jnilAAAA\"}");
/// ```
pub fn encode_connect(namespace: &str, data: Option<&serde_json::Value>) -> Encoded {
    let mut out = header(PacketType::Connect, namespace, None);
    if let Some(data) = data {
        write_value(&mut out, data);
    }
    text_only(out)
}

/// Encodes a `CONNECT_ERROR` with `{"message": ..., "data": ...}` (`data` left out when
/// `None`).
///
/// ```
/// use carafe_socketio::packet::encode_connect_error;
///
/// assert_eq!(encode_connect_error("/", "Not authorized", None).text(), "4{\"message\":\"Not authorized\"}");
/// let data = serde_json::json!({"retry": false});
/// assert_eq!(
///     encode_connect_error("/a", "no", Some(&data)).text(),
///     "4/a,{\"message\":\"no\",\"data\":{\"retry\":false}}"
/// );
/// ```
pub fn encode_connect_error(
    namespace: &str,
    message: &str,
    data: Option<&serde_json::Value>,
) -> Encoded {
    #[derive(Serialize)]
    struct ConnectError<'a> {
        message: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        data: Option<&'a serde_json::Value>,
    }
    let mut out = header(PacketType::ConnectError, namespace, None);
    write_value(&mut out, &ConnectError { message, data });
    text_only(out)
}

/// Encodes a `DISCONNECT`.
///
/// ```
/// assert_eq!(carafe_socketio::packet::encode_disconnect("/").text(), "1");
/// ```
pub fn encode_disconnect(namespace: &str) -> Encoded {
    text_only(header(PacketType::Disconnect, namespace, None))
}

/// Encodes a decoded packet again, its JSON text and attachments as they are.
pub(super) fn encode_packet(packet: &Packet) -> Encoded {
    let namespace = &packet.namespace;
    let (kind, id, json, attachments): (_, _, &[u8], &[Bytes]) = match &packet.data {
        PacketData::Connect(data) => (
            PacketType::Connect,
            None,
            data.as_deref().unwrap_or_default(),
            &[],
        ),
        PacketData::Disconnect => (PacketType::Disconnect, None, &[], &[]),
        PacketData::Event { id, args, .. } => {
            (PacketType::Event, *id, &args.json, &args.attachments)
        }
        PacketData::Ack { id, args } => (PacketType::Ack, Some(*id), &args.json, &args.attachments),
        PacketData::ConnectError(data) => (PacketType::ConnectError, None, data, &[]),
    };
    let mut out = header(kind, namespace, id);
    out.extend_from_slice(json);
    finish(out, attachments.to_vec())
}

/// `<type>[<nsp>,][<id>]`; the attachment count goes in later, if there are any.
fn header(kind: PacketType, namespace: &str, id: Option<u64>) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.push(kind.digit());
    if namespace != "/" {
        out.extend_from_slice(namespace.as_bytes());
        out.push(b',');
    }
    if let Some(id) = id {
        out.extend_from_slice(id.to_string().as_bytes());
    }
    out
}

/// Appends the arguments and the closing `]`; `after_name` says whether an event name
/// already stands in the array. Returns the attachments the byte strings became.
fn write_args<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    args: &T,
    after_name: bool,
) -> Result<Vec<Bytes>, EncodeError> {
    let mut attachments = Vec::new();
    match probe::shape(args) {
        Shape::Unit => {
            if !after_name {
                out.push(b'[');
            }
            out.push(b']');
        }
        Shape::Tuple => {
            let start = out.len();
            serialize_into(out, args, &mut attachments)?;
            // The tuple wrote `[a,b]`: splice its items into the packet's array.
            if out.len() == start + 2 {
                out.truncate(start);
                out.extend_from_slice(if after_name { b"]" } else { b"[]" });
            } else if after_name {
                out[start] = b',';
            }
        }
        Shape::Other => {
            out.push(if after_name { b',' } else { b'[' });
            serialize_into(out, args, &mut attachments)?;
            out.push(b']');
        }
    }
    Ok(attachments)
}

fn serialize_into<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
    attachments: &mut Vec<Bytes>,
) -> Result<(), EncodeError> {
    let formatter = PlaceholderFormatter { attachments };
    let mut serializer = serde_json::Serializer::with_formatter(out, formatter);
    value.serialize(&mut serializer).map_err(EncodeError)
}

/// Appends a value that cannot fail to serialize (a `serde_json::Value` or plain strings).
fn write_value<T: Serialize>(out: &mut Vec<u8>, value: &T) {
    // Serializing these into a Vec fails only on non-string map keys, which a
    // `serde_json::Value` and the structs here cannot have.
    let _ = serde_json::to_writer(out, value);
}

/// Puts the binary type and attachment count into the header when there are attachments.
fn finish(mut out: Vec<u8>, attachments: Vec<Bytes>) -> Encoded {
    if !attachments.is_empty() {
        out[0] = match PacketType::from_digit(out[0]) {
            Some(PacketType::Event) => PacketType::BinaryEvent.digit(),
            Some(PacketType::Ack) => PacketType::BinaryAck.digit(),
            _ => out[0],
        };
        let count = format!("{}-", attachments.len());
        out.splice(1..1, count.bytes());
    }
    Encoded::from_parts(out, attachments.into())
}

fn text_only(out: Vec<u8>) -> Encoded {
    Encoded::from_parts(out, Vec::new().into())
}
