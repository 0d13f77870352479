//! Feeds a urlencoded body to carafe's `Form<T>` decoding (see `oracle/form.rs`).

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../oracle/form.rs"]
mod form;

fuzz_target!(|input: &[u8]| {
    let _ = form::check(input);
});
