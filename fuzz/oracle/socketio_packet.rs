//! The check behind the `socketio_packet` fuzz target, included by path from
//! `fuzz_targets/socketio_packet.rs` and `crates/carafe-socketio/tests/fuzz_corpus.rs`
//! (not from `oracle/mod.rs`, whose users do not depend on carafe-socketio).
//!
//! The input is a sequence of Engine.IO messages separated by `0x1e`; a message that starts
//! with `0xff` is binary (the rest of it), any other is text. Every message goes through
//! one `Decoder` (limited to 4 attachments, so short inputs reach the limit). Checks: no
//! panic; every packet the decoder gives out encodes to messages that decode to the same
//! packet again.

use bytes::Bytes;
use carafe_socketio::packet::{Decoder, Packet};

/// Feeds `input` to a decoder; returns the packets it produced.
pub(crate) fn check(input: &[u8]) -> Vec<Packet> {
    let mut decoder = Decoder::with_max_attachments(4);
    let mut packets = Vec::new();
    for message in input.split(|&byte| byte == 0x1e) {
        let result = match message.split_first() {
            Some((0xff, binary)) => decoder.decode_binary(Bytes::copy_from_slice(binary)),
            _ => decoder.decode_text(Bytes::copy_from_slice(message)),
        };
        if let Ok(Some(packet)) = result {
            check_round_trip(&packet);
            packets.push(packet);
        }
    }
    packets
}

/// The packet's encoding decodes to the same packet.
fn check_round_trip(packet: &Packet) {
    let encoded = packet.encode();
    let mut decoder = Decoder::with_max_attachments(4);
    let mut again = decoder.decode_text(encoded.text().clone());
    for attachment in encoded.attachments() {
        assert!(
            matches!(again, Ok(None)),
            "{packet:?} re-decoded early: {again:?}"
        );
        again = decoder.decode_binary(attachment.clone());
    }
    match again {
        Ok(Some(again)) => assert_eq!(&again, packet, "round trip of {:?}", encoded.text()),
        other => panic!(
            "{packet:?} encoded as {:?} decodes to {other:?}",
            encoded.text()
        ),
    }
}
