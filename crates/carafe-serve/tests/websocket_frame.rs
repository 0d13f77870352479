//! The WebSocket frame decoder (`websocket::frame::Decoder`) under the fuzz target's own
//! checks (`fuzz/oracle/websocket_frame.rs`): the seed corpus replayed with each seed's
//! answer pinned, a never-panics property over arbitrary and near-valid bytes, and a
//! round trip of generated messages through an independent client-side encoder, cut at
//! random places.
#![cfg(feature = "websocket")]

#[path = "../../../fuzz/oracle/websocket_frame.rs"]
mod oracle;

use std::path::PathBuf;

use carafe_serve::websocket::{Message, WebSocketConfig};
use proptest::collection::vec;
use proptest::prelude::*;

/// How each seed ends under the default limits without deflate: the number of messages,
/// then the close code of the error that stopped it (`None`: no error).
const SEEDS: &[(&str, usize, Option<u16>)] = &[
    ("text_hello", 1, None),
    ("binary_126", 1, None),
    ("binary_16bit_len", 1, None),
    ("fragmented_text_with_ping", 2, None),
    ("utf8_split_across_fragments", 1, None),
    ("invalid_utf8", 0, Some(1007)),
    ("close_1000_bye", 1, None),
    ("close_1005_forbidden", 0, Some(1002)),
    ("close_one_byte", 0, Some(1002)),
    ("ping_126_too_long", 0, Some(1002)),
    ("ping_fragmented", 0, Some(1002)),
    ("unmasked_text", 0, Some(1002)),
    ("rsv2_set", 0, Some(1002)),
    ("reserved_opcode_3", 0, Some(1002)),
    ("continuation_first", 0, Some(1002)),
    ("two_messages_interleaved", 0, Some(1002)),
    ("len64_msb_set", 0, Some(1002)),
    ("deflate_hello", 0, Some(1002)),
    ("deflate_hello_fragmented", 0, Some(1002)),
    ("deflate_rsv1_on_continuation", 0, Some(1002)),
    ("deflate_rsv1_on_ping", 0, Some(1002)),
    ("deflate_garbage", 0, Some(1002)),
    ("deflate_empty", 0, Some(1002)),
    ("deflate_bomb_200k_zeros", 0, Some(1002)),
];

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/websocket_frame")
}

#[test]
fn every_corpus_file_passes_the_checks_and_each_seed_gets_its_pinned_answer() {
    let mut seen = 0;
    for entry in std::fs::read_dir(corpus()).expect("fuzz/corpus/websocket_frame") {
        let path = entry.expect("entry").path();
        let input = std::fs::read(&path).expect("read seed");
        let run = oracle::check(&input);
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if let Some((_, count, code)) = SEEDS.iter().find(|(seed, ..)| *seed == name) {
            assert_eq!(run.messages.len(), *count, "{name}: {run:?}");
            assert_eq!(run.error, code.map(Some), "{name}: {run:?}");
            seen += 1;
        }
    }
    assert_eq!(
        seen,
        SEEDS.len(),
        "a pinned seed is missing from the corpus"
    );
}

#[test]
fn compressed_seeds_decode_once_deflate_is_on() {
    let config = WebSocketConfig::default();
    for (name, expected) in [
        ("deflate_hello", Message::text("Hello")),
        ("deflate_hello_fragmented", Message::text("Hello")),
        ("deflate_empty", Message::text("")),
    ] {
        let input = std::fs::read(corpus().join(name)).expect("seed");
        let run = oracle::decode(&config, true, &[&input]);
        assert_eq!(run.messages, [expected], "{name}");
    }
    let bomb = std::fs::read(corpus().join("deflate_bomb_200k_zeros")).expect("seed");
    let limit = WebSocketConfig::default().max_message_size(100_000);
    let run = oracle::decode(&limit, true, &[&bomb]);
    assert_eq!(
        run.error,
        Some(Some(1009)),
        "the bomb must stop at the limit"
    );
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// One message a client may send, as (opcode byte without FIN, payload).
fn message() -> impl Strategy<Value = (u8, Vec<u8>)> {
    prop_oneof![
        "[a-zé€ ]{0,40}".prop_map(|text| (0x1, text.into_bytes())),
        vec(any::<u8>(), 0..300).prop_map(|data| (0x2, data)),
        vec(any::<u8>(), 0..125).prop_map(|data| (0x9, data)),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(input in vec(any::<u8>(), 0..200)) {
        oracle::check(&input);
    }

    #[test]
    fn near_valid_frames_never_panic(
        messages in vec(message(), 1..4),
        flip in any::<(usize, u8)>(),
    ) {
        let mut input = Vec::new();
        for (opcode, payload) in &messages {
            input.extend(oracle::encode(0x80 | opcode, payload, [9, 8, 7, 6]));
        }
        let at = flip.0 % input.len();
        input[at] ^= flip.1;
        oracle::check(&input);
    }

    #[test]
    fn messages_round_trip_in_fragments_and_in_pieces(
        messages in vec(message(), 1..5),
        fragment in 1usize..50,
        cuts in vec(any::<usize>(), 0..6),
    ) {
        let mut input = Vec::new();
        let mut expected = Vec::new();
        for (opcode, payload) in &messages {
            let chunks: Vec<&[u8]> = match *opcode {
                0x9 => vec![payload],
                _ if payload.is_empty() => vec![&[][..]],
                _ => payload.chunks(fragment).collect(),
            };
            for (i, chunk) in chunks.iter().enumerate() {
                let code = if i == 0 { *opcode } else { 0 };
                let fin = if i + 1 == chunks.len() { 0x80 } else { 0 };
                input.extend(oracle::encode(fin | code, chunk, [i as u8, 1, 2, 3]));
            }
            expected.push(match opcode {
                0x1 => Message::text(String::from_utf8(payload.clone()).expect("utf-8")),
                0x2 => Message::binary(payload.clone()),
                _ => Message::Ping(payload.clone().into()),
            });
        }
        let mut cuts: Vec<usize> = cuts.iter().map(|cut| 1 + cut % input.len().max(2)).filter(|cut| *cut < input.len()).collect();
        cuts.sort_unstable();
        cuts.dedup();
        let run = oracle::decode(&WebSocketConfig::default(), false, &oracle::pieces(&input, &cuts));
        prop_assert_eq!(run.error, None);
        prop_assert_eq!(run.messages, expected);
    }
}
