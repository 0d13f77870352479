//! Feeds arbitrary bytes to carafe's `Range` parser (see `oracle/range.rs`).

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../oracle/range.rs"]
mod range;

fuzz_target!(|input: &[u8]| {
    let _ = range::check(input);
});
