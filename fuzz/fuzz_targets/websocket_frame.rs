//! Feeds arbitrary bytes to the WebSocket frame `Decoder`, whole and in pieces, with and
//! without permessage-deflate (see `oracle/websocket_frame.rs`).

#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../oracle/websocket_frame.rs"]
mod oracle;

fuzz_target!(|input: &[u8]| {
    let _ = oracle::check(input);
});
