//! Where to cut an input into the pieces a socket might deliver.
//!
//! The cuts are derived from the input itself (a hash seeds a small generator), so a
//! failure found by the fuzzer replays exactly from the saved input alone, and a corpus
//! file is tested with the same cuts in `cargo test` as under the fuzzer.

/// Inputs up to this long are also fed one byte at a time.
const BYTE_AT_A_TIME_MAX: usize = 512;

/// How many pseudo-random ways of cutting each input are tried.
const RANDOM_CUT_SETS: usize = 4;

/// The most cuts in one pseudo-random cut set.
const MAX_CUTS: u64 = 8;

/// Sets of cut offsets (ascending, each in `1..input.len()`) to feed `input` by.
pub(crate) fn cut_sets(input: &[u8]) -> Vec<Vec<usize>> {
    let mut sets = Vec::with_capacity(RANDOM_CUT_SETS + 1);
    if input.len() <= BYTE_AT_A_TIME_MAX {
        sets.push((1..input.len()).collect());
    }
    if input.len() < 2 {
        return sets;
    }
    let mut state = fnv1a(input) | 1;
    let span = input.len() as u64 - 1;
    for _ in 0..RANDOM_CUT_SETS {
        let count = 1 + next(&mut state) % MAX_CUTS;
        // `% span` is below `input.len() - 1`, so every cut is in `1..input.len()`.
        let mut cuts: Vec<usize> = (0..count)
            .map(|_| 1 + (next(&mut state) % span) as usize)
            .collect();
        cuts.sort_unstable();
        cuts.dedup();
        sets.push(cuts);
    }
    sets
}

/// The pieces of `input` between `cuts`; a cut behind the previous one or past the end is
/// moved to it, so any list of offsets (a property test's, say) is safe.
pub(crate) fn pieces<'a>(input: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut pieces = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for &cut in cuts {
        let cut = cut.clamp(start, input.len());
        pieces.push(&input[start..cut]);
        start = cut;
    }
    pieces.push(&input[start..]);
    pieces
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// xorshift64: plenty for choosing cut points.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}
