//! Feeds arbitrary bytes to carafe's entity-tag, tag-list, `If-Range` and
//! `Accept-Encoding` parsers (see `oracle/conditional.rs`).

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../oracle/conditional.rs"]
mod conditional;

fuzz_target!(|input: &[u8]| {
    conditional::check(input);
});
