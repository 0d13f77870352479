//! Feeds arbitrary bytes to `HeadParser`, whole and in pieces (see `oracle/request_head.rs`).

#![no_main]

use libfuzzer_sys::fuzz_target;

// This target uses only the request-head half of the shared checks.
#[allow(dead_code)]
#[path = "../oracle/mod.rs"]
mod oracle;

fuzz_target!(|input: &[u8]| {
    let _ = oracle::request_head::check(input);
});
