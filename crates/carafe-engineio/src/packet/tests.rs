use bytes::Bytes;

use super::*;

fn text(s: &str) -> Str {
    Str::from(s)
}

/// (wire, packet) pairs from the protocol's examples; each decodes to the packet and the
/// packet encodes back to the wire.
#[test]
fn spec_examples_round_trip() {
    let cases: &[(&str, Packet)] = &[
        (
            "0{\"sid\":\"abc\"}",
            Packet::Open(text("{\"sid\":\"abc\"}")),
        ),
        ("1", Packet::Close),
        ("2", Packet::PING),
        ("2probe", Packet::Ping(text("probe"))),
        ("3", Packet::Pong(text(""))),
        ("3probe", Packet::Pong(text("probe"))),
        ("4hello", Packet::Message(text("hello"))),
        ("4", Packet::Message(text(""))),
        (
            "4€ and \u{1e}-free",
            Packet::Message(text("€ and \u{1e}-free")),
        ),
        ("5", Packet::Upgrade),
        ("6", Packet::Noop),
        (
            "bAQIDBA==",
            Packet::Binary(Bytes::from_static(&[1, 2, 3, 4])),
        ),
        ("b", Packet::Binary(Bytes::new())),
    ];
    for (wire, packet) in cases {
        assert_eq!(
            Packet::decode_text(text(wire)).as_ref(),
            Ok(packet),
            "decoding {wire:?}"
        );
        assert_eq!(
            packet.encode_to_vec(),
            wire.as_bytes(),
            "encoding {packet:?}"
        );
        assert_eq!(packet.encoded_len(), wire.len(), "length of {packet:?}");
    }
}

#[test]
fn data_after_close_upgrade_and_noop_is_ignored() {
    for (wire, packet) in [
        ("1x", Packet::Close),
        ("5probe", Packet::Upgrade),
        ("6abc", Packet::Noop),
    ] {
        assert_eq!(Packet::decode_text(text(wire)), Ok(packet));
    }
}

#[test]
fn malformed_packets_are_rejected() {
    let cases: &[(&str, ParseError)] = &[
        ("", ParseError::Empty),
        ("abc", ParseError::UnknownType(b'a')),
        ("7", ParseError::UnknownType(b'7')),
        ("9hello", ParseError::UnknownType(b'9')),
        (" 4", ParseError::UnknownType(b' ')),
        ("b!!!", ParseError::InvalidBase64),
        ("bAQIDBA=x", ParseError::InvalidBase64),
    ];
    for (wire, error) in cases {
        assert_eq!(
            Packet::decode_text(text(wire)),
            Err(*error),
            "decoding {wire:?}"
        );
    }
}

#[test]
fn base64_without_padding_is_accepted() {
    assert_eq!(
        Packet::decode_text(text("bAQIDBA")),
        Ok(Packet::Binary(Bytes::from_static(&[1, 2, 3, 4])))
    );
}

#[test]
fn binary_frames_are_messages() {
    let data = Bytes::from_static(b"4not text");
    assert_eq!(Packet::decode_binary(data.clone()), Packet::Binary(data));
}

#[test]
fn message_packets_encode_for_polling() {
    let cases: &[(MessagePacket, &[u8])] = &[
        (MessagePacket::text("hello"), b"4hello"),
        (MessagePacket::text(""), b"4"),
        (MessagePacket::binary(vec![1, 2, 3, 4]), b"bAQIDBA=="),
        (MessagePacket::binary(Vec::new()), b"b"),
    ];
    for (packet, wire) in cases {
        let mut out = BytesMut::new();
        packet.encode_polling(&mut out);
        assert_eq!(&out[..], *wire);
        assert_eq!(packet.polling_len(), wire.len());
    }
    assert_eq!(
        MessagePacket::text("hi").wire_text().map(|s| s.as_str()),
        Some("4hi")
    );
    assert_eq!(MessagePacket::text("hé").data_len(), 3);
}

#[test]
fn every_type_digit_round_trips() {
    for byte in 0u8..=255 {
        match PacketType::from_byte(byte) {
            Some(kind) => assert_eq!(kind.as_byte(), byte),
            None => assert!(!(b'0'..=b'6').contains(&byte)),
        }
    }
}

#[test]
fn parse_errors_say_what_was_expected() {
    assert_eq!(
        ParseError::UnknownType(b'a').to_string(),
        "unknown packet type 'a': expected a digit 0-6 or `b`"
    );
}
