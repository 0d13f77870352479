//! Feeds arbitrary bytes to carafe's session cookie decoder (see
//! `oracle/session_cookie.rs`).

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../oracle/session_cookie.rs"]
mod oracle;

fuzz_target!(|input: &[u8]| {
    let _ = oracle::check(input);
});
