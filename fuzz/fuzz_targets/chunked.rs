//! Feeds arbitrary bytes to `ChunkedDecoder`, whole and in pieces (see `oracle/chunked.rs`).

#![no_main]

use libfuzzer_sys::fuzz_target;

// This target uses only the chunked half of the shared checks.
#[allow(dead_code)]
#[path = "../oracle/mod.rs"]
mod oracle;

fuzz_target!(|input: &[u8]| {
    let _ = oracle::chunked::check(input);
});
