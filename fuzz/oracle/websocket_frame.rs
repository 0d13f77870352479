//! Checks for [`Decoder`], carafe's WebSocket frame parser: it never panics, bytes that
//! arrive in pieces decode exactly as bytes that arrive whole (same messages, same error),
//! it never takes more than whole frames off the buffer, and what it returns obeys the
//! protocol (text is UTF-8, close codes may be sent, control payloads are at most 125
//! bytes, nothing exceeds the limits). Run with and without permessage-deflate, under the
//! default limits and under tight ones that short inputs reach.
//!
//! Standalone (no `mod.rs` needed): the fuzz target `websocket_frame` and carafe-serve's
//! `websocket_frame` test include this file by path. [`encode`] is an independent
//! client-side encoder for round-trip properties.

use bytes::BytesMut;
use carafe_serve::websocket::frame::Decoder;
use carafe_serve::websocket::{Message, WebSocketConfig, WebSocketError};

/// Limits small enough for short fuzz inputs to reach.
pub(crate) fn tight() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_frame_size(64)
        .max_message_size(100)
}

/// What one decoder made of one input.
#[derive(Debug, PartialEq)]
pub(crate) struct Run {
    pub(crate) messages: Vec<Message>,
    /// The close code of the error that stopped decoding, if one did.
    pub(crate) error: Option<Option<u16>>,
}

/// Every check on one input; returns the run under default limits without deflate.
pub(crate) fn check(input: &[u8]) -> Run {
    let mut first = None;
    for config in [WebSocketConfig::default(), tight()] {
        for deflate in [false, true] {
            let whole = decode(&config, deflate, &[input]);
            for cuts in cut_sets(input) {
                let pieces = pieces(input, &cuts);
                let split = decode(&config, deflate, &pieces);
                assert_eq!(
                    whole, split,
                    "whole and cut at {cuts:?} differ (deflate {deflate})"
                );
            }
            for message in &whole.messages {
                obeys_protocol(message, &config);
            }
            first.get_or_insert(whole);
        }
    }
    first.unwrap_or(Run {
        messages: Vec::new(),
        error: None,
    })
}

/// Feeds `pieces` one after another, decoding after each, until an error.
pub(crate) fn decode(config: &WebSocketConfig, deflate: bool, pieces: &[&[u8]]) -> Run {
    let mut decoder = match deflate {
        true => Decoder::with_permessage_deflate(config),
        false => Decoder::new(config),
    };
    let mut buf = BytesMut::new();
    let mut messages = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        loop {
            let before = buf.len();
            match decoder.decode(&mut buf) {
                Ok(Some(message)) => {
                    assert!(buf.len() < before, "a message came from no bytes");
                    messages.push(message);
                }
                Ok(None) => break,
                Err(error) => return stopped(messages, &error),
            }
        }
    }
    Run {
        messages,
        error: None,
    }
}

fn stopped(messages: Vec<Message>, error: &WebSocketError) -> Run {
    assert!(
        error.close_code().is_some(),
        "a decode error must be the peer's fault and name a close code: {error:?}"
    );
    Run {
        messages,
        error: Some(error.close_code()),
    }
}

fn obeys_protocol(message: &Message, config: &WebSocketConfig) {
    match message {
        Message::Text(text) => assert!(text.len() <= config.max_message_size),
        Message::Binary(data) => assert!(data.len() <= config.max_message_size),
        Message::Ping(data) | Message::Pong(data) => assert!(data.len() <= 125),
        Message::Close(Some(frame)) => {
            assert!(frame.reason.len() <= 123);
            assert!(matches!(frame.code, 1000..=1003 | 1007..=1014 | 3000..=4999));
        }
        Message::Close(None) => {}
    }
}

/// A masked client frame: `first` is the FIN/RSV/opcode byte.
pub(crate) fn encode(first: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let mut out = vec![first];
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len <= 0xffff {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, k)| b ^ k));
    out
}

/// Inputs up to this long are also fed one byte at a time.
const BYTE_AT_A_TIME_MAX: usize = 256;

/// Cut offsets to feed `input` by: every byte for short inputs, and three pseudo-random
/// sets derived from the input's hash (so a failure replays from the input alone).
pub(crate) fn cut_sets(input: &[u8]) -> Vec<Vec<usize>> {
    let mut sets = Vec::new();
    if input.len() <= BYTE_AT_A_TIME_MAX {
        sets.push((1..input.len()).collect());
    }
    if input.len() < 2 {
        return sets;
    }
    let mut state = input.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    }) | 1;
    for _ in 0..3 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let count = 1 + state % 6;
        let mut cuts: Vec<usize> = (0..count)
            .map(|i| 1 + (state.rotate_left(i as u32 * 11) % (input.len() as u64 - 1)) as usize)
            .collect();
        cuts.sort_unstable();
        cuts.dedup();
        sets.push(cuts);
    }
    sets
}

/// The pieces of `input` between ascending `cuts`.
pub(crate) fn pieces<'a>(input: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let mut from = 0;
    for &cut in cuts {
        out.push(&input[from..cut]);
        from = cut;
    }
    out.push(&input[from..]);
    out
}
