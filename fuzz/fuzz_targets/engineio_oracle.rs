//! The checks behind the `engineio_packet` and `engineio_payload` targets, shared by path
//! with `crates/carafe-engineio/tests/never_panics.rs`, which replays the committed
//! corpora and runs the same checks on generated inputs.

use bytes::{Bytes, BytesMut};
use carafe_engineio::packet::Packet;
use carafe_engineio::payload::{decode_payload, encode_payload};
use carafe_engineio::Str;

/// One packet: decoding never panics, and a decoded packet encodes to a form that
/// decodes to the same packet.
pub(crate) fn check_packet(input: &[u8]) {
    let decoded = Packet::decode_binary(Bytes::copy_from_slice(input));
    assert_eq!(decoded, Packet::Binary(Bytes::copy_from_slice(input)));
    let Ok(text) = Str::try_from(Bytes::copy_from_slice(input)) else {
        return;
    };
    let Ok(packet) = Packet::decode_text(text) else {
        return;
    };
    let mut wire = BytesMut::new();
    packet.encode_text(&mut wire);
    assert_eq!(
        wire.len(),
        packet.encoded_len(),
        "encoded_len of {packet:?}"
    );
    let again = Str::try_from(wire.freeze()).expect("encoded packets are UTF-8");
    assert_eq!(
        Packet::decode_text(again).as_ref(),
        Ok(&packet),
        "round trip"
    );
}

/// One long-polling body: decoding never panics, and decoded packets re-encode to a
/// payload that decodes to the same packets.
pub(crate) fn check_payload(input: &[u8]) {
    let Ok(packets) = decode_payload(Bytes::copy_from_slice(input)) else {
        return;
    };
    assert!(
        !packets.is_empty(),
        "a valid payload has at least one packet"
    );
    let mut wire = BytesMut::new();
    encode_payload(&packets, &mut wire);
    assert_eq!(decode_payload(wire.freeze()), Ok(packets), "round trip");
}
