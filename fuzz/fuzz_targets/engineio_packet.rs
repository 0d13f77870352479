//! Feeds arbitrary bytes to the Engine.IO packet decoder (see `engineio_oracle.rs`).

#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "engineio_oracle.rs"]
mod oracle;

fuzz_target!(|input: &[u8]| oracle::check_packet(input));
