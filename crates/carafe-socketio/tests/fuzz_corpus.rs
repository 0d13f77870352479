//! The `socketio_packet` fuzz corpus replayed in every `cargo test`: each file goes through
//! the fuzz target's own check (no panic, every decoded packet round-trips), and the
//! hand-written seeds must produce the number of packets pinned for them here.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

#[path = "../../../fuzz/oracle/socketio_packet.rs"]
mod oracle;

use std::path::PathBuf;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/socketio_packet")
}

/// Seeds and how many whole packets they decode to (the decoder stops counting nothing
/// after an error: later messages may still decode).
const SEEDS: &[(&str, usize)] = &[
    ("connect_main", 1),
    ("connect_admin_sid", 1),
    ("connect_auth", 1),
    ("connect_error_object", 1),
    ("connect_error_string", 1),
    ("event_main", 1),
    ("event_admin", 1),
    ("event_ack", 1),
    ("event_numeric_name", 1),
    ("event_unicode", 1),
    ("ack_empty", 1),
    ("ack_admin", 1),
    ("disconnect_main", 1),
    ("disconnect_admin", 1),
    ("disconnect_no_comma", 1),
    ("binary_event_one", 1),
    ("binary_event_two_admin", 1),
    ("binary_ack", 1),
    ("binary_zero_attachments", 1),
    ("binary_nested", 1),
    ("bad_placeholder_num", 0),
    ("bad_placeholder_negative", 0),
    ("too_many_attachments", 0),
    ("attachment_count_overflow", 0),
    ("text_while_waiting", 0),
    ("binary_without_header", 0),
    ("binary_after_plain_event", 1),
    ("reserved_event", 0),
    ("event_empty_array", 0),
    ("event_object", 0),
    ("ack_without_id", 0),
    ("ack_id_overflow", 0),
    ("unknown_type", 0),
    ("trailing_garbage", 0),
    ("namespace_not_utf8", 0),
    ("several_packets", 5),
];

#[test]
fn every_corpus_file_passes_the_fuzz_check() {
    let entries = std::fs::read_dir(corpus()).expect("fuzz/corpus/socketio_packet exists");
    let mut count = 0;
    for entry in entries {
        let path = entry.expect("readable corpus entry").path();
        let input = std::fs::read(&path).expect("readable corpus file");
        oracle::check(&input);
        count += 1;
    }
    assert!(count >= SEEDS.len(), "only {count} corpus files");
}

#[test]
fn each_seed_decodes_to_its_pinned_packet_count() {
    for (name, want) in SEEDS {
        let input = std::fs::read(corpus().join(name)).expect("seed file exists");
        assert_eq!(oracle::check(&input).len(), *want, "seed {name}");
    }
}
