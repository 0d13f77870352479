//! The fuzz checks in every `cargo test`: the committed `engineio_packet` and
//! `engineio_payload` corpora replayed, and generated inputs (random bytes and
//! near-valid payloads) through the same checks (`fuzz/fuzz_targets/engineio_oracle.rs`).

use std::path::PathBuf;

use proptest::prelude::*;

#[path = "../../../fuzz/fuzz_targets/engineio_oracle.rs"]
mod oracle;

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|_| panic!("{} exists", dir.display()));
    let files: Vec<_> = entries
        .map(|entry| {
            let path = entry.expect("entry").path();
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&path).expect("read"))
        })
        .collect();
    assert!(files.len() >= 10, "{target} has its seeds");
    files
}

#[test]
fn every_packet_seed_passes_the_fuzz_check() {
    for (name, bytes) in corpus("engineio_packet") {
        let outcome = std::panic::catch_unwind(|| oracle::check_packet(&bytes));
        assert!(outcome.is_ok(), "seed {name}");
    }
}

#[test]
fn every_payload_seed_passes_the_fuzz_check() {
    for (name, bytes) in corpus("engineio_payload") {
        let outcome = std::panic::catch_unwind(|| oracle::check_payload(&bytes));
        assert!(outcome.is_ok(), "seed {name}");
    }
}

/// Records that look like packets: a type byte (valid or not) and some data, with the
/// separator and base64 characters common.
fn near_valid_payload() -> impl Strategy<Value = Vec<u8>> {
    let record = (
        prop::sample::select(b"0123456789b\x1e a".to_vec()),
        prop::collection::vec(
            prop_oneof![
                4 => prop::sample::select(b"AQIDBA==probe\x1e".to_vec()),
                1 => any::<u8>(),
            ],
            0..12,
        ),
    )
        .prop_map(|(kind, mut data)| {
            data.insert(0, kind);
            data
        });
    prop::collection::vec(record, 1..6).prop_map(|records| records.join(&0x1e))
}

proptest! {
    #[test]
    fn parser_never_panics_on_bytes(input in prop::collection::vec(any::<u8>(), 0..256)) {
        oracle::check_packet(&input);
        oracle::check_payload(&input);
    }

    #[test]
    fn parser_never_panics_on_near_valid_payloads(input in near_valid_payload()) {
        oracle::check_packet(&input);
        oracle::check_payload(&input);
    }
}
