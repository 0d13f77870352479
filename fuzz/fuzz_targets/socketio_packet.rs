//! Feeds Engine.IO messages to the Socket.IO packet `Decoder` (see `oracle/socketio_packet.rs`).

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../oracle/socketio_packet.rs"]
mod oracle;

fuzz_target!(|input: &[u8]| {
    let _ = oracle::check(input);
});
