//! Feeds a content type and a body to carafe's `Multipart` and `MultipartForm`, whole
//! and in pieces (see `oracle/multipart.rs`).

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../oracle/multipart.rs"]
mod multipart;

fuzz_target!(|input: &[u8]| {
    let _ = multipart::check(input);
});
