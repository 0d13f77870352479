//! The `Range` request header (sans-IO): RFC 9110 §14.1.2 (byte ranges), §14.2 (`Range`).
//!
//! [`parse_range`] turns a `Range` value and the representation's length into what
//! [`send_file`](crate::response::send_file) must do: send everything, send one slice
//! (`206`), or refuse (`416`).
//!
//! Decisions, each allowed by RFC 9110 §14.2 ("a server MAY ignore the Range header
//! field"):
//!
//! - A value that does not parse, or whose unit is not `bytes`, is ignored: the whole
//!   representation is sent with `200`, as Werkzeug does.
//! - Several ranges are merged when they overlap or touch; if one slice remains it is sent
//!   with `206`, otherwise the whole representation is sent with `200`. carafe never
//!   answers `multipart/byteranges`: no browser or download tool needs it, and it is
//!   the classic amplification vector (many small overlapping ranges).
//! - More than [`MAX_RANGES`] ranges are ignored the same way.
//!
//! Numbers too large for `u64` saturate, so `bytes=99999999999999999999999-` is
//! unsatisfiable rather than malformed, and `bytes=0-99999999999999999999999` is the
//! whole file.

/// The most ranges one `Range` value may list before it is ignored.
pub const MAX_RANGES: usize = 64;

/// A slice of a representation: bytes `start..end` (end exclusive), never empty.
///
/// ```
/// use carafe::response::range::ByteRange;
///
/// let range = ByteRange { start: 0, end: 100 };
/// assert_eq!(range.len(), 100);
/// assert_eq!(range.content_range(1000), "bytes 0-99/1000");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// The first byte's offset.
    pub start: u64,
    /// One past the last byte's offset.
    pub end: u64,
}

impl ByteRange {
    /// How many bytes the range holds.
    ///
    /// ```
    /// # use carafe::response::range::ByteRange;
    /// assert_eq!(ByteRange { start: 10, end: 20 }.len(), 10);
    /// ```
    #[allow(clippy::len_without_is_empty)] // a ByteRange is never empty
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// The `Content-Range` value for this range of a representation of `complete` bytes
    /// (RFC 9110 §14.4).
    ///
    /// ```
    /// # use carafe::response::range::ByteRange;
    /// assert_eq!(ByteRange { start: 5, end: 6 }.content_range(6), "bytes 5-5/6");
    /// ```
    pub fn content_range(&self, complete: u64) -> String {
        format!("bytes {}-{}/{}", self.start, self.end - 1, complete)
    }
}

/// What a `Range` header asks of a representation of known length.
///
/// ```
/// use carafe::response::range::{parse_range, ByteRange, RangeRequest};
///
/// assert_eq!(parse_range(b"bytes=0-99", 1000), RangeRequest::Partial(ByteRange { start: 0, end: 100 }));
/// assert_eq!(parse_range(b"bytes=-100", 1000), RangeRequest::Partial(ByteRange { start: 900, end: 1000 }));
/// assert_eq!(parse_range(b"bytes=2000-", 1000), RangeRequest::Unsatisfiable);
/// assert_eq!(parse_range(b"lines=1-2", 1000), RangeRequest::Whole);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// Send the whole representation (`200`): no usable range was asked for.
    Whole,
    /// Send this slice (`206` with `Content-Range`).
    Partial(ByteRange),
    /// No range overlaps the representation (`416` with `Content-Range: bytes */len`).
    Unsatisfiable,
}

/// One `range-spec` as written, before the length is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeSpec {
    /// `first-` or `first-last` (`last` saturated; `None` when absent).
    FromTo(u64, Option<u64>),
    /// `-suffix`: the last `suffix` bytes.
    Suffix(u64),
}

/// Reads a `Range` value against a representation of `len` bytes.
///
/// The grammar (RFC 9110 §14.1.1, §14.2), with optional whitespace around commas and
/// empty list elements allowed (RFC 9110 §5.6.1):
///
/// ```text
/// Range = "bytes" "=" 1#( first-pos "-" [ last-pos ] / "-" suffix-length )
/// ```
///
/// ```
/// use carafe::response::range::{parse_range, ByteRange, RangeRequest};
///
/// // Overlapping ranges merge into one.
/// let merged = parse_range(b"bytes=0-10, 5-20", 100);
/// assert_eq!(merged, RangeRequest::Partial(ByteRange { start: 0, end: 21 }));
/// // Disjoint ranges: the whole file.
/// assert_eq!(parse_range(b"bytes=0-1,5-6", 100), RangeRequest::Whole);
/// ```
pub fn parse_range(value: &[u8], len: u64) -> RangeRequest {
    let Some(specs) = parse_specs(value) else {
        return RangeRequest::Whole;
    };
    let mut ranges: Vec<ByteRange> = specs
        .into_iter()
        .filter_map(|spec| resolve(spec, len))
        .collect();
    if ranges.is_empty() {
        return RangeRequest::Unsatisfiable;
    }
    ranges.sort_unstable_by_key(|range| range.start);
    let mut merged = ranges[0];
    for range in &ranges[1..] {
        // Touching ranges (`0-9,10-19`) merge too: together they are one slice.
        if range.start > merged.end {
            return RangeRequest::Whole;
        }
        merged.end = merged.end.max(range.end);
    }
    RangeRequest::Partial(merged)
}

/// The specs of a well-formed `bytes` range set, or `None` to ignore the header.
fn parse_specs(value: &[u8]) -> Option<Vec<RangeSpec>> {
    let value = value.trim_ascii();
    let (unit, set) = split_once(value, b'=')?;
    if !unit.eq_ignore_ascii_case(b"bytes") {
        return None;
    }
    let mut specs = Vec::new();
    for element in set.split(|&byte| byte == b',') {
        let element = element.trim_ascii();
        if element.is_empty() {
            continue;
        }
        if specs.len() == MAX_RANGES {
            return None;
        }
        specs.push(parse_spec(element)?);
    }
    // `1#` needs at least one non-empty element.
    (!specs.is_empty()).then_some(specs)
}

fn parse_spec(element: &[u8]) -> Option<RangeSpec> {
    let (first, last) = split_once(element, b'-')?;
    if first.is_empty() {
        return Some(RangeSpec::Suffix(parse_digits(last)?));
    }
    let first = parse_digits(first)?;
    if last.is_empty() {
        return Some(RangeSpec::FromTo(first, None));
    }
    let last = parse_digits(last)?;
    // "A byte-range-spec is invalid if the last-pos value is present and less than the
    // first-pos" (RFC 9110 §14.1.1).
    (last >= first).then_some(RangeSpec::FromTo(first, Some(last)))
}

/// The bytes of `spec` that exist in a representation of `len` bytes, if any.
fn resolve(spec: RangeSpec, len: u64) -> Option<ByteRange> {
    let range = match spec {
        RangeSpec::FromTo(first, last) => {
            let end = last.map_or(len, |last| last.saturating_add(1).min(len));
            ByteRange { start: first, end }
        }
        // "If the selected representation is shorter than the specified suffix-length,
        // the entire representation is used" (RFC 9110 §14.1.3).
        RangeSpec::Suffix(suffix) => ByteRange {
            start: len.saturating_sub(suffix),
            end: len,
        },
    };
    (range.start < range.end).then_some(range)
}

/// `1*DIGIT` as a saturating `u64`.
fn parse_digits(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = digits.iter().fold(0u64, |value, &digit| {
        value
            .saturating_mul(10)
            .saturating_add(u64::from(digit - b'0'))
    });
    Some(value)
}

fn split_once(bytes: &[u8], separator: u8) -> Option<(&[u8], &[u8])> {
    let at = bytes.iter().position(|&byte| byte == separator)?;
    Some((&bytes[..at], &bytes[at + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partial(start: u64, end: u64) -> RangeRequest {
        RangeRequest::Partial(ByteRange { start, end })
    }

    #[test]
    fn ranges_against_a_thousand_bytes() {
        use RangeRequest::{Unsatisfiable, Whole};
        let table: &[(&str, RangeRequest)] = &[
            ("bytes=0-99", partial(0, 100)),
            ("bytes=0-0", partial(0, 1)),
            ("bytes=999-999", partial(999, 1000)),
            ("bytes=500-", partial(500, 1000)),
            ("bytes=-1", partial(999, 1000)),
            ("bytes=-5000", partial(0, 1000)),
            ("bytes=0-5000", partial(0, 1000)),
            ("bytes=0-99999999999999999999999", partial(0, 1000)),
            ("BYTES=0-9", partial(0, 10)),
            (" bytes=0-9 ", partial(0, 10)),
            ("bytes=0-9,", partial(0, 10)),
            ("bytes=,0-9", partial(0, 10)),
            ("bytes= 0-9 , 10-19", partial(0, 20)),
            ("bytes=0-9,5-7", partial(0, 10)),
            ("bytes=100-199,0-99", partial(0, 200)),
            ("bytes=0-9,-10", Whole),
            ("bytes=0-1,3-4", Whole),
            ("bytes=1000-", Unsatisfiable),
            ("bytes=1000-2000", Unsatisfiable),
            ("bytes=99999999999999999999999-", Unsatisfiable),
            ("bytes=-0", Unsatisfiable),
            ("bytes=1000-,2000-", Unsatisfiable),
            ("bytes=1000-,0-0", partial(0, 1)),
            ("bytes=5-3", Whole),
            ("bytes=", Whole),
            ("bytes=,", Whole),
            ("bytes=-", Whole),
            ("bytes=--1", Whole),
            ("bytes=1--2", Whole),
            ("bytes=+1-2", Whole),
            ("bytes=0x1-2", Whole),
            ("bytes=1 -2", Whole),
            ("bytes=１-2", Whole),
            ("bytes 0-9", Whole),
            ("bytes=0-9;q=1", Whole),
            ("items=0-9", Whole),
            ("", Whole),
            ("=", Whole),
            ("bytes==0-9", Whole),
        ];
        for (value, expected) in table {
            assert_eq!(parse_range(value.as_bytes(), 1000), *expected, "{value:?}");
        }
    }

    #[test]
    fn an_empty_representation_satisfies_no_range() {
        assert_eq!(parse_range(b"bytes=0-", 0), RangeRequest::Unsatisfiable);
        assert_eq!(parse_range(b"bytes=-10", 0), RangeRequest::Unsatisfiable);
        assert_eq!(parse_range(b"bytes=x", 0), RangeRequest::Whole);
    }

    #[test]
    fn too_many_ranges_are_ignored() {
        let many = (0..=MAX_RANGES)
            .map(|index| format!("{index}-{index}"))
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(
            parse_range(format!("bytes={many}").as_bytes(), 1000),
            RangeRequest::Whole
        );
        let allowed = (0..MAX_RANGES)
            .map(|index| format!("{index}-{index}"))
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(
            parse_range(format!("bytes={allowed}").as_bytes(), 1000),
            partial(0, MAX_RANGES as u64)
        );
    }

    #[test]
    fn content_range_is_inclusive() {
        assert_eq!(
            ByteRange { start: 0, end: 100 }.content_range(1000),
            "bytes 0-99/1000"
        );
    }
}
