//! The checks behind the fuzz targets.
//!
//! carafe-serve's `fuzz_corpus` and `never_panics` tests include this directory by path,
//! so a corpus file gets exactly the same checks in `cargo test` as under the fuzzer, and
//! a property test's input the same as a fuzzer's.

pub(crate) mod chunked;
pub(crate) mod request_head;
mod split;
