//! Socket ids: 16 base64url characters from 96 bits of `RandomState` hashing.
//!
//! A Socket.IO socket id is public (clients see each other's in broadcasts); the session
//! secret is the Engine.IO sid, so the std hasher's randomness is enough here.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::adapter::SocketId;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

pub(crate) fn generate() -> SocketId {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut id = String::with_capacity(16);
    for half in 0..2u64 {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(count);
        hasher.write_u64(half);
        let mut bits = hasher.finish();
        for _ in 0..8 {
            id.push(char::from(ALPHABET[(bits & 63) as usize]));
            bits >>= 6;
        }
    }
    id.into()
}
