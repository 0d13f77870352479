//! Checks for `carafe::response::range::parse_range` (the `Range` header).
//!
//! Included by path from `fuzz_targets/range.rs` and from carafe's `tests/files.rs`
//! (corpus replay and the never-panics property test). It is not part of `oracle/mod.rs`,
//! which carafe-serve's tests include and which must not depend on `carafe`.
//!
//! The input's first line is the representation's length in decimal (or empty for 1000);
//! the rest is the header value. The answer must match an independent reading of RFC 9110
//! §14.1–14.2 over `&str` and `u128`, and a partial answer must lie inside the
//! representation.

use carafe::response::range::{parse_range, ByteRange, RangeRequest, MAX_RANGES};

/// Splits a fuzz input into (length, header value).
pub(crate) fn split_input(input: &[u8]) -> (u64, &[u8]) {
    let Some(at) = input.iter().position(|&byte| byte == b'\n') else {
        return (1000, input);
    };
    let len = std::str::from_utf8(&input[..at])
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(1000);
    (len, &input[at + 1..])
}

/// Parses the input and checks the answer; panics on a violation.
pub(crate) fn check(input: &[u8]) -> RangeRequest {
    let (len, value) = split_input(input);
    let answer = parse_range(value, len);
    if let RangeRequest::Partial(range) = answer {
        assert!(range.start < range.end, "empty range {range:?}");
        assert!(range.end <= len, "range {range:?} past the end {len}");
    }
    let expected = reference(value, len);
    assert_eq!(
        answer,
        expected,
        "value {:?}, len {len}",
        String::from_utf8_lossy(value)
    );
    answer
}

/// The same decision, written independently.
fn reference(value: &[u8], len: u64) -> RangeRequest {
    let Ok(text) = std::str::from_utf8(value) else {
        return RangeRequest::Whole;
    };
    let text = text.trim_matches(|c: char| c.is_ascii_whitespace());
    let Some((unit, set)) = text.split_once('=') else {
        return RangeRequest::Whole;
    };
    if !unit.eq_ignore_ascii_case("bytes") {
        return RangeRequest::Whole;
    }
    let elements: Vec<&str> = set
        .split(',')
        .map(|element| element.trim_matches(|c: char| c.is_ascii_whitespace()))
        .filter(|element| !element.is_empty())
        .collect();
    if elements.is_empty() || elements.len() > MAX_RANGES {
        return RangeRequest::Whole;
    }
    let len = u128::from(len);
    let mut intervals = Vec::new();
    for element in elements {
        let Some((first, last)) = element.split_once('-') else {
            return RangeRequest::Whole;
        };
        let number = |digits: &str| -> Option<u128> {
            if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
                return None;
            }
            // Saturate as the parser does (at u64::MAX).
            Some(
                digits
                    .parse::<u128>()
                    .unwrap_or(u128::MAX)
                    .min(u128::from(u64::MAX)),
            )
        };
        let (start, end) = if first.is_empty() {
            let Some(suffix) = number(last) else {
                return RangeRequest::Whole;
            };
            (len.saturating_sub(suffix), len)
        } else {
            let Some(start) = number(first) else {
                return RangeRequest::Whole;
            };
            let end = if last.is_empty() {
                len
            } else {
                let Some(last) = number(last) else {
                    return RangeRequest::Whole;
                };
                if last < start {
                    return RangeRequest::Whole;
                }
                (last + 1).min(len)
            };
            (start, end)
        };
        if start < end {
            intervals.push((start, end));
        }
    }
    intervals.sort();
    let Some(&(start, mut end)) = intervals.first() else {
        return RangeRequest::Unsatisfiable;
    };
    for &(next_start, next_end) in &intervals[1..] {
        if next_start > end {
            return RangeRequest::Whole;
        }
        end = end.max(next_end);
    }
    // Both fit in u64: they are at most `len`.
    RangeRequest::Partial(ByteRange {
        start: start as u64,
        end: end as u64,
    })
}
