//! The spec's examples both ways, malformed packets, and two properties: decoding never
//! panics, and what the encoders write decodes to the same arguments.

use bytes::Bytes;
use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;

fn decode_all(text: &str, binaries: &[&[u8]]) -> Result<Option<Packet>, ParseError> {
    let mut decoder = Decoder::new();
    let mut packet = decoder.decode_text(Bytes::copy_from_slice(text.as_bytes()))?;
    for binary in binaries {
        packet = decoder.decode_binary(Bytes::copy_from_slice(binary))?;
    }
    Ok(packet)
}

fn decode(text: &str) -> Packet {
    match decode_all(text, &[]) {
        Ok(Some(packet)) => packet,
        other => panic!("{text:?} decoded to {other:?}"),
    }
}

/// What a decoded packet should look like, in a form a table can hold.
#[derive(Debug, PartialEq)]
enum Want<'a> {
    Connect(&'a str, Option<Value>),
    Disconnect(&'a str),
    Event(&'a str, &'a str, Option<u64>, Value),
    Ack(&'a str, u64, Value),
    ConnectError(&'a str, Value),
}

fn summary(packet: &Packet) -> (String, PacketType, Option<u64>, Option<String>, Value) {
    let nsp = packet.namespace.to_string();
    let kind = packet.packet_type();
    match &packet.data {
        PacketData::Connect(data) => (
            nsp,
            kind,
            None,
            None,
            data.as_ref()
                .map_or(Value::Null, |d| serde_json::from_slice(d).unwrap()),
        ),
        PacketData::Disconnect => (nsp, kind, None, None, Value::Null),
        PacketData::Event { event, id, args } => (
            nsp,
            kind,
            *id,
            Some(event.clone()),
            Value::Array(args.values().unwrap()),
        ),
        PacketData::Ack { id, args } => (
            nsp,
            kind,
            Some(*id),
            None,
            Value::Array(args.values().unwrap()),
        ),
        PacketData::ConnectError(data) => {
            (nsp, kind, None, None, serde_json::from_slice(data).unwrap())
        }
    }
}

fn want_summary(want: &Want<'_>) -> (String, PacketType, Option<u64>, Option<String>, Value) {
    match want {
        Want::Connect(nsp, data) => (
            nsp.to_string(),
            PacketType::Connect,
            None,
            None,
            data.clone().unwrap_or(Value::Null),
        ),
        Want::Disconnect(nsp) => (
            nsp.to_string(),
            PacketType::Disconnect,
            None,
            None,
            Value::Null,
        ),
        Want::Event(nsp, event, id, args) => (
            nsp.to_string(),
            PacketType::Event,
            *id,
            Some(event.to_string()),
            args.clone(),
        ),
        Want::Ack(nsp, id, args) => (
            nsp.to_string(),
            PacketType::Ack,
            Some(*id),
            None,
            args.clone(),
        ),
        Want::ConnectError(nsp, data) => (
            nsp.to_string(),
            PacketType::ConnectError,
            None,
            None,
            data.clone(),
        ),
    }
}

/// The examples of the protocol's "Packet encoding" section, plus edge cases the reference
/// parser accepts.
#[test]
fn spec_examples_decode_and_encode_back_byte_for_byte() {
    let table: Vec<(&str, Want<'_>)> = vec![
        ("0", Want::Connect("/", None)),
        (
            "0/admin,{\"sid\":\"oSO0OpakMV_3jnilAAAA\"}",
            Want::Connect("/admin", Some(json!({"sid": "oSO0OpakMV_3jnilAAAA"}))),
        ),
        (
            "0/admin,{\"token\":\"123\"}",
            Want::Connect("/admin", Some(json!({"token": "123"}))),
        ),
        (
            "4{\"message\":\"Not authorized\"}",
            Want::ConnectError("/", json!({"message": "Not authorized"})),
        ),
        (
            "4\"Not authorized\"",
            Want::ConnectError("/", json!("Not authorized")),
        ),
        ("2[\"foo\"]", Want::Event("/", "foo", None, json!([]))),
        (
            "2/admin,[\"bar\"]",
            Want::Event("/admin", "bar", None, json!([])),
        ),
        ("212[\"foo\"]", Want::Event("/", "foo", Some(12), json!([]))),
        (
            "2/admin,13[\"foo\"]",
            Want::Event("/admin", "foo", Some(13), json!([])),
        ),
        (
            "2[\"hey\",\"Jude\"]",
            Want::Event("/", "hey", None, json!(["Jude"])),
        ),
        (
            "2[42,{\"a\":[1,2]}]",
            Want::Event("/", "42", None, json!([{"a": [1, 2]}])),
        ),
        (
            "2[\"\\u00e9v\u{e9}nement\",null]",
            Want::Event("/", "\u{e9}v\u{e9}nement", None, json!([null])),
        ),
        ("312[]", Want::Ack("/", 12, json!([]))),
        (
            "3/admin,13[\"bar\"]",
            Want::Ack("/admin", 13, json!(["bar"])),
        ),
        ("1", Want::Disconnect("/")),
        ("1/admin,", Want::Disconnect("/admin")),
        // The reference parser also reads a namespace that ends the message without a comma.
        ("1/admin", Want::Disconnect("/admin")),
        ("0/,", Want::Connect("/", None)),
        // A binary packet announcing no attachments is complete at once.
        ("50-[\"a\"]", Want::Event("/", "a", None, json!([]))),
    ];
    for (text, want) in &table {
        let packet = decode(text);
        assert_eq!(summary(&packet), want_summary(want), "{text:?}");
        let canonical = if *text == "1/admin" {
            "1/admin,"
        } else if *text == "0/," {
            "0"
        } else if *text == "50-[\"a\"]" {
            "2[\"a\"]"
        } else {
            text
        };
        assert_eq!(
            packet.encode().text(),
            canonical.as_bytes(),
            "{text:?} encoded back"
        );
    }
}

#[test]
fn spec_binary_examples_wait_for_their_attachments_then_reassemble() {
    let mut decoder = Decoder::new();
    let header =
        "52-/admin,[\"baz\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]";
    assert_eq!(decoder.decode_text(Bytes::from(header)), Ok(None));
    assert_eq!(decoder.decode_binary(Bytes::from_static(&[1, 2])), Ok(None));
    let packet = decoder
        .decode_binary(Bytes::from_static(&[3, 4]))
        .unwrap()
        .unwrap();
    assert!(!decoder.is_waiting());
    assert_eq!(packet.namespace, "/admin");
    assert_eq!(packet.packet_type(), PacketType::BinaryEvent);
    let PacketData::Event { event, args, .. } = &packet.data else {
        panic!("{packet:?}")
    };
    assert_eq!(event, "baz");
    let (a, b): (Bytes, Vec<u8>) = args.deserialize().unwrap();
    assert_eq!((&a[..], &b[..]), (&[1, 2][..], &[3, 4][..]));
    let encoded = packet.encode();
    assert_eq!(encoded.text(), header.as_bytes());
    assert_eq!(
        encoded.attachments(),
        &[Bytes::from_static(&[1, 2]), Bytes::from_static(&[3, 4])]
    );

    let packet = decode_all(
        "61-15[\"bar\",{\"_placeholder\":true,\"num\":0}]",
        &[&[1, 2, 3, 4]],
    )
    .unwrap()
    .unwrap();
    assert_eq!(packet.packet_type(), PacketType::BinaryAck);
    let PacketData::Ack { id: 15, args } = &packet.data else {
        panic!("{packet:?}")
    };
    assert_eq!(args.get::<Bytes>(1).unwrap().unwrap(), &[1, 2, 3, 4][..]);
}

#[test]
fn malformed_packets_get_their_error() {
    let table: &[(&str, ParseError)] = &[
        ("", ParseError::Empty),
        ("7", ParseError::UnknownType(b'7')),
        ("a", ParseError::UnknownType(b'a')),
        ("5[\"a\"]", ParseError::BadAttachmentCount),
        ("5-[\"a\"]", ParseError::BadAttachmentCount),
        ("51[\"a\"]", ParseError::BadAttachmentCount),
        (
            "5999999999999999999999-[\"a\"]",
            ParseError::BadAttachmentCount,
        ),
        (
            "565-[\"a\"]",
            ParseError::TooManyAttachments {
                count: 65,
                max: DEFAULT_MAX_ATTACHMENTS,
            },
        ),
        (
            "2",
            ParseError::InvalidPayload("event payload must be an array"),
        ),
        (
            "2[]",
            ParseError::InvalidPayload("event payload must not be empty"),
        ),
        (
            "2{\"a\":1}",
            ParseError::InvalidPayload("event payload must be an array"),
        ),
        (
            "2[null]",
            ParseError::InvalidPayload("event name must be a string or a number"),
        ),
        (
            "2[[\"a\"]]",
            ParseError::InvalidPayload("event name must be a string or a number"),
        ),
        ("2[\"a\"", ParseError::InvalidPayload("not json")),
        ("2[\"a\"]x", ParseError::InvalidPayload("not json")),
        (
            "2abc",
            ParseError::InvalidPayload("event payload must be an array"),
        ),
        (
            "2[\"disconnect\"]",
            ParseError::ReservedEvent("disconnect".into()),
        ),
        (
            "2[\"connect\"]",
            ParseError::ReservedEvent("connect".into()),
        ),
        ("3[]", ParseError::MissingAckId),
        (
            "31",
            ParseError::InvalidPayload("ack payload must be an array"),
        ),
        (
            "31{}",
            ParseError::InvalidPayload("ack payload must be an array"),
        ),
        ("318446744073709551616[]", ParseError::BadAckId),
        (
            "0[]",
            ParseError::InvalidPayload("connect payload must be an object"),
        ),
        (
            "0\"a\"",
            ParseError::InvalidPayload("connect payload must be an object"),
        ),
        ("0{", ParseError::InvalidPayload("not json")),
        (
            "1{}",
            ParseError::InvalidPayload("disconnect carries no payload"),
        ),
        (
            "4",
            ParseError::InvalidPayload("connect_error payload must be a string or an object"),
        ),
        (
            "4[1]",
            ParseError::InvalidPayload("connect_error payload must be a string or an object"),
        ),
        (
            "51-[\"a\",{\"_placeholder\":true,\"num\":1}]",
            ParseError::BadPlaceholder,
        ),
        (
            "51-[\"a\",{\"_placeholder\":true,\"num\":-1}]",
            ParseError::BadPlaceholder,
        ),
        (
            "51-[\"a\",{\"_placeholder\":true}]",
            ParseError::BadPlaceholder,
        ),
        (
            "50-[\"a\",{\"_placeholder\":true,\"num\":0}]",
            ParseError::BadPlaceholder,
        ),
    ];
    for (text, want) in table {
        assert_eq!(decode_all(text, &[]), Err(want.clone()), "{text:?}");
    }
    let mut bad_namespace = b"2/\xff,[\"a\"]".to_vec();
    assert_eq!(
        Decoder::new().decode_text(Bytes::from(bad_namespace.split_off(0))),
        Err(ParseError::BadNamespace)
    );
}

#[test]
fn attachments_out_of_turn_are_errors_and_reset_the_decoder() {
    let mut decoder = Decoder::new();
    assert_eq!(
        decoder.decode_binary(Bytes::from_static(b"x")),
        Err(ParseError::UnexpectedBinary)
    );
    // A plain packet followed by a binary message: the binary one is unexpected.
    assert!(decoder
        .decode_text(Bytes::from_static(b"2[\"a\"]"))
        .unwrap()
        .is_some());
    assert_eq!(
        decoder.decode_binary(Bytes::from_static(b"x")),
        Err(ParseError::UnexpectedBinary)
    );
    // Text while attachments are awaited.
    let header = Bytes::from_static(b"51-[\"a\",{\"_placeholder\":true,\"num\":0}]");
    assert_eq!(decoder.decode_text(header.clone()), Ok(None));
    assert_eq!(
        decoder.decode_text(Bytes::from_static(b"2[\"b\"]")),
        Err(ParseError::UnexpectedText)
    );
    assert!(!decoder.is_waiting());
    // The decoder starts over cleanly after an error.
    assert_eq!(decoder.decode_text(header), Ok(None));
    assert!(decoder
        .decode_binary(Bytes::from_static(b"x"))
        .unwrap()
        .is_some());
}

#[test]
fn plain_events_keep_placeholder_objects_as_objects() {
    // Only BINARY_* packets have attachments; in a plain EVENT a placeholder is data.
    let packet = decode("2[\"a\",{\"_placeholder\":true,\"num\":0}]");
    let PacketData::Event { args, .. } = &packet.data else {
        panic!()
    };
    assert_eq!(
        args.deserialize::<Value>().unwrap(),
        json!({"_placeholder": true, "num": 0})
    );
}

#[test]
fn several_arguments_deserialize_as_a_tuple_and_one_as_itself() {
    let packet = decode("2[\"bid\",{\"item\":3,\"amount\":10},\"EUR\"]");
    let PacketData::Event { args, .. } = &packet.data else {
        panic!()
    };
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Bid {
        item: u32,
        amount: u32,
    }
    let (bid, currency): (Bid, String) = args.deserialize().unwrap();
    assert_eq!(
        (bid, currency.as_str()),
        (
            Bid {
                item: 3,
                amount: 10
            },
            "EUR"
        )
    );
    assert_eq!(args.get::<String>(1).unwrap().unwrap(), "EUR");
    assert!(args.deserialize::<Bid>().is_err());

    let packet = decode("2[\"ping\"]");
    let PacketData::Event { args, .. } = &packet.data else {
        panic!()
    };
    args.deserialize::<()>().unwrap();
}

#[test]
fn encoders_spread_tuples_and_keep_other_values_whole() {
    let cases: Vec<(Encoded, &str)> = vec![
        (encode_event("/", "e", None, &()).unwrap(), "2[\"e\"]"),
        (encode_event("/", "e", None, &(1,)).unwrap(), "2[\"e\",1]"),
        (
            encode_event("/", "e", None, &(1, "two", [3])).unwrap(),
            "2[\"e\",1,\"two\",[3]]",
        ),
        (
            encode_event("/", "e", None, &vec![1, 2]).unwrap(),
            "2[\"e\",[1,2]]",
        ),
        (
            encode_event("/", "e", None, &json!([1, 2])).unwrap(),
            "2[\"e\",[1,2]]",
        ),
        (
            encode_event("/", "e\"q", Some(0), &json!({"a": null})).unwrap(),
            "20[\"e\\\"q\",{\"a\":null}]",
        ),
        (encode_ack("/", 1, &()).unwrap(), "31[]"),
        (encode_ack("/", 1, &(1, 2)).unwrap(), "31[1,2]"),
        (encode_ack("/", 1, &vec![1, 2]).unwrap(), "31[[1,2]]"),
        // `Value::Null` serializes as `()`: no arguments.
        (encode_ack("/x", 1, &Value::Null).unwrap(), "3/x,1[]"),
        (encode_ack("/x", 1, &None::<u8>).unwrap(), "3/x,1[null]"),
    ];
    for (encoded, want) in cases {
        assert_eq!(encoded.text(), want.as_bytes());
    }
}

#[test]
fn nested_binary_is_numbered_in_serialization_order() {
    #[derive(serde::Serialize)]
    struct Upload {
        name: &'static str,
        parts: Vec<Bytes>,
    }
    let upload = Upload {
        name: "f",
        parts: vec![Bytes::from_static(b"a"), Bytes::from_static(b"b")],
    };
    let encoded = encode_event("/", "up", Some(3), &(&upload, Bytes::from_static(b"c"))).unwrap();
    assert_eq!(
        encoded.text(),
        "53-3[\"up\",{\"name\":\"f\",\"parts\":[{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]},{\"_placeholder\":true,\"num\":2}]".as_bytes()
    );
    assert_eq!(
        encoded.attachments(),
        &[
            Bytes::from_static(b"a"),
            Bytes::from_static(b"b"),
            Bytes::from_static(b"c")
        ]
    );
}

/// Arbitrary JSON, with byte strings mixed in (as `Bytes`, which serialize as binary).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(untagged)]
enum Arg {
    Null(()),
    Bool(bool),
    Int(i64),
    Text(String),
    Binary(Bytes),
    List(Vec<Arg>),
    Map(std::collections::BTreeMap<String, Arg>),
}

fn arg() -> impl Strategy<Value = Arg> {
    let leaf = prop_oneof![
        Just(Arg::Null(())),
        any::<bool>().prop_map(Arg::Bool),
        any::<i64>().prop_map(Arg::Int),
        ".{0,8}".prop_map(Arg::Text),
        proptest::collection::vec(any::<u8>(), 0..8)
            .prop_map(|bytes| Arg::Binary(Bytes::from(bytes))),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Arg::List),
            proptest::collection::btree_map("[a-z_]{0,6}", inner, 0..4).prop_map(Arg::Map),
        ]
    })
}

/// The JSON the receiver should see: byte strings as `{"$bytes": [...]}` (see `Back`).
fn expected(arg: &Arg) -> Value {
    match arg {
        Arg::Null(()) => Value::Null,
        Arg::Bool(b) => json!(b),
        Arg::Int(i) => json!(i),
        Arg::Text(t) => json!(t),
        Arg::Binary(bytes) => json!({ "$bytes": bytes.to_vec() }),
        Arg::List(items) => Value::Array(items.iter().map(expected).collect()),
        Arg::Map(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), expected(v))).collect()),
    }
}

/// What `Args::deserialize` gives back, byte strings told apart from lists and text.
struct Back(Value);

impl<'de> serde::Deserialize<'de> for Back {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(BackVisitor).map(Back)
    }
}

struct BackVisitor;

impl<'de> serde::de::Visitor<'de> for BackVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(json!(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(json!(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(json!(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(json!(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(json!(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(json!({ "$bytes": v }))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Back(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some((key, Back(value))) = map.next_entry::<String, Back>()? {
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

proptest! {
    #[test]
    fn parser_never_panics(text in proptest::collection::vec(any::<u8>(), 0..64), binaries in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..4), 0..3)) {
        let mut decoder = Decoder::with_max_attachments(2);
        let _ = decoder.decode_text(Bytes::from(text));
        for binary in binaries {
            let _ = decoder.decode_binary(Bytes::from(binary));
        }
    }

    #[test]
    fn parser_never_panics_on_near_valid_headers(
        kind in "[0-6]", count in "[0-9]{0,3}-?", nsp in "(/[a-z,]{0,4},?)?", id in "[0-9]{0,21}",
        json in prop_oneof![Just(String::new()), Just("[\"a\"]".to_string()), Just("{}".to_string()), Just("[\"a\",{\"_placeholder\":true,\"num\":0}]".to_string()), ".{0,8}"],
    ) {
        let text = format!("{kind}{count}{nsp}{id}{json}");
        let mut decoder = Decoder::new();
        if let Ok(None) = decoder.decode_text(Bytes::from(text)) {
            let _ = decoder.decode_binary(Bytes::from_static(b"x"));
        }
    }

    #[test]
    fn encoded_events_and_acks_decode_to_the_same_arguments(
        nsp in prop_oneof![Just("/".to_string()), "/[a-z]{1,6}"],
        event in "[a-z]{1,8}",
        id in proptest::option::of(any::<u64>()),
        args in proptest::collection::vec(arg(), 0..4),
        ack in any::<bool>(),
    ) {
        let encoded = if ack {
            encode_ack(&nsp, id.unwrap_or(0), &args).unwrap()
        } else {
            encode_event(&nsp, &event, id, &args).unwrap()
        };
        let mut decoder = Decoder::new();
        let mut packet = decoder.decode_text(encoded.text().clone()).unwrap();
        for attachment in encoded.attachments() {
            prop_assert!(packet.is_none());
            packet = decoder.decode_binary(attachment.clone()).unwrap();
        }
        let packet = packet.unwrap();
        prop_assert_eq!(&packet.namespace, &nsp);
        let decoded_args = match &packet.data {
            PacketData::Event { event: got, id: got_id, args } if !ack => {
                prop_assert_eq!(got, &event);
                prop_assert_eq!(*got_id, id);
                args
            }
            PacketData::Ack { id: got_id, args } if ack => {
                prop_assert_eq!(*got_id, id.unwrap_or(0));
                args
            }
            other => return Err(TestCaseError::fail(format!("{other:?}"))),
        };
        // A Vec is one argument: the list itself.
        prop_assert_eq!(decoded_args.len(), 1);
        let Back(back) = decoded_args.deserialize().unwrap();
        prop_assert_eq!(back, Value::Array(args.iter().map(expected).collect()));
        // Encoding the decoded packet gives the same message again.
        prop_assert_eq!(packet.encode(), encoded);
    }
}

proptest! {
    /// Connection state recovery appends an offset to events without an ack id: the
    /// receiver sees the same arguments plus the offset, attachments untouched; every
    /// other packet is left alone.
    #[test]
    fn with_offset_appends_one_last_argument_to_events_without_ack(
        nsp in prop_oneof![Just("/".to_string()), "/[a-z,]{1,6}"],
        event in ".{0,6}",
        id in proptest::option::of(any::<u64>()),
        args in proptest::collection::vec(arg(), 0..3),
        offset in ".{0,8}",
        ack in any::<bool>(),
    ) {
        let nsp = nsp.replace(',', "");
        let encoded = if ack {
            encode_ack(&nsp, id.unwrap_or(0), &args).unwrap()
        } else {
            encode_event(&nsp, &event, id, &args).unwrap()
        };
        let Some(with) = encoded.with_offset(&offset) else {
            prop_assert!(ack || id.is_some());
            return Ok(());
        };
        prop_assert!(!ack && id.is_none());
        let mut decoder = Decoder::new();
        let mut packet = decoder.decode_text(with.text().clone()).unwrap();
        for attachment in with.attachments() {
            packet = decoder.decode_binary(attachment.clone()).unwrap();
        }
        let Some(Packet { data: PacketData::Event { event: got, id: None, args: got_args }, .. }) = packet else {
            return Err(TestCaseError::fail("not an event without id"));
        };
        prop_assert_eq!(got, event);
        prop_assert_eq!(got_args.len(), 2);
        let Back(first) = got_args.get(0).unwrap().unwrap();
        prop_assert_eq!(first, Value::Array(args.iter().map(expected).collect()));
        prop_assert_eq!(got_args.get::<String>(1).unwrap().unwrap(), offset);
    }
}
