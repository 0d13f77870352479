//! Conditional requests (sans-IO): entity tags and the precondition headers, RFC 9110 §8.8
//! (validators) and §13 (`If-Match`, `If-None-Match`, `If-Modified-Since`,
//! `If-Unmodified-Since`, `If-Range`).
//!
//! [`evaluate`] applies RFC 9110 §13.2.2's order to a request's method and headers and a
//! representation's validators, and says whether to answer `304`, `412`, or send the
//! representation, and whether a `Range` may be honoured. A malformed precondition header
//! is ignored, as if it were absent.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::{IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE, IF_UNMODIFIED_SINCE};
use http::{HeaderMap, HeaderValue, Method};

/// An entity tag (RFC 9110 §8.8.3): an opaque validator, strong or weak.
///
/// ```
/// use carafe::response::conditional::ETag;
///
/// let tag = ETag::parse(b"W/\"v1\"").unwrap();
/// assert!(tag.is_weak());
/// assert_eq!(tag.tag(), b"v1");
/// assert_eq!(tag.to_string(), "W/\"v1\"");
/// assert!(tag.weak_eq(&ETag::strong("v1").unwrap()));
/// assert!(!tag.strong_eq(&ETag::strong("v1").unwrap()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ETag {
    /// `W/` in front.
    weak: bool,
    /// The opaque tag, without its quotes: visible ASCII and obs-text bytes.
    tag: Vec<u8>,
}

impl ETag {
    /// A strong tag; `None` when `tag` holds a byte an entity tag may not (`"`, controls,
    /// space, DEL).
    ///
    /// ```
    /// # use carafe::response::conditional::ETag;
    /// assert_eq!(ETag::strong("abc").unwrap().to_string(), "\"abc\"");
    /// assert!(ETag::strong("a\"b").is_none());
    /// ```
    pub fn strong(tag: impl Into<String>) -> Option<ETag> {
        let tag = tag.into().into_bytes();
        tag.iter()
            .copied()
            .all(is_etagc)
            .then_some(ETag { weak: false, tag })
    }

    /// The same tag, weak (`W/"..."`).
    ///
    /// ```
    /// # use carafe::response::conditional::ETag;
    /// assert_eq!(ETag::strong("abc").unwrap().into_weak().to_string(), "W/\"abc\"");
    /// ```
    pub fn into_weak(self) -> ETag {
        ETag { weak: true, ..self }
    }

    /// Parses one entity tag, such as an `ETag` response header's value.
    ///
    /// ```
    /// # use carafe::response::conditional::ETag;
    /// assert_eq!(ETag::parse(b"\"x\"").unwrap().tag(), b"x");
    /// assert!(ETag::parse(b"x").is_none());
    /// ```
    pub fn parse(value: &[u8]) -> Option<ETag> {
        match scan_etag(value.trim_ascii())? {
            (etag, []) => Some(etag),
            _ => None,
        }
    }

    /// Whether the tag is weak.
    ///
    /// ```
    /// # use carafe::response::conditional::ETag;
    /// assert!(!ETag::strong("a").unwrap().is_weak());
    /// ```
    pub fn is_weak(&self) -> bool {
        self.weak
    }

    /// The opaque tag, without quotes or `W/`.
    ///
    /// ```
    /// # use carafe::response::conditional::ETag;
    /// assert_eq!(ETag::strong("a").unwrap().tag(), b"a");
    /// ```
    pub fn tag(&self) -> &[u8] {
        &self.tag
    }

    /// Strong comparison (RFC 9110 §8.8.3.2): both strong and the same tag.
    ///
    /// ```
    /// # use carafe::response::conditional::ETag;
    /// let a = ETag::strong("a").unwrap();
    /// assert!(a.strong_eq(&a));
    /// assert!(!a.strong_eq(&a.clone().into_weak()));
    /// ```
    pub fn strong_eq(&self, other: &ETag) -> bool {
        !self.weak && !other.weak && self.tag == other.tag
    }

    /// Weak comparison: the same tag, strong or weak.
    ///
    /// ```
    /// # use carafe::response::conditional::ETag;
    /// let a = ETag::strong("a").unwrap();
    /// assert!(a.weak_eq(&a.clone().into_weak()));
    /// ```
    pub fn weak_eq(&self, other: &ETag) -> bool {
        self.tag == other.tag
    }

    /// The tag as a header value.
    ///
    /// ```
    /// # use carafe::response::conditional::ETag;
    /// assert_eq!(ETag::strong("a").unwrap().to_header_value(), "\"a\"");
    /// ```
    pub fn to_header_value(&self) -> HeaderValue {
        let mut bytes = Vec::with_capacity(self.tag.len() + 4);
        if self.weak {
            bytes.extend_from_slice(b"W/");
        }
        bytes.push(b'"');
        bytes.extend_from_slice(&self.tag);
        bytes.push(b'"');
        // The constructors admit only visible ASCII and obs-text, which header values allow.
        HeaderValue::from_bytes(&bytes).unwrap_or_else(|_| HeaderValue::from_static("\"\""))
    }
}

impl std::fmt::Display for ETag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let weak = if self.weak { "W/" } else { "" };
        write!(f, "{weak}\"{}\"", String::from_utf8_lossy(&self.tag))
    }
}

/// `etagc = %x21 / %x23-7E / obs-text` (RFC 9110 §8.8.3).
fn is_etagc(byte: u8) -> bool {
    byte == 0x21 || (0x23..=0x7e).contains(&byte) || byte >= 0x80
}

/// One entity tag at the start of `input`, and what follows it.
fn scan_etag(input: &[u8]) -> Option<(ETag, &[u8])> {
    let (weak, rest) = match input.strip_prefix(b"W/") {
        Some(rest) => (true, rest),
        None => (false, input),
    };
    let rest = rest.strip_prefix(b"\"")?;
    let end = rest.iter().position(|&byte| byte == b'"')?;
    let tag = &rest[..end];
    if !tag.iter().copied().all(is_etagc) {
        return None;
    }
    let tag = tag.to_vec();
    Some((ETag { weak, tag }, &rest[end + 1..]))
}

/// The value of `If-Match` or `If-None-Match` (RFC 9110 §13.1.1–2).
///
/// ```
/// use carafe::response::conditional::{ETag, TagList};
///
/// let list = TagList::parse(b"\"a\", W/\"b\"").unwrap();
/// assert!(list.matches_weak(&ETag::strong("b").unwrap()));
/// assert!(!list.matches_strong(&ETag::strong("b").unwrap()));
/// assert_eq!(TagList::parse(b"*"), Some(TagList::Any));
/// assert_eq!(TagList::parse(b"\"a\" junk"), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagList {
    /// `*`: any current representation.
    Any,
    /// These tags.
    Tags(Vec<ETag>),
}

impl TagList {
    /// Parses `"*" / #entity-tag`; `None` when malformed (the header is then ignored).
    ///
    /// ```
    /// # use carafe::response::conditional::TagList;
    /// assert!(TagList::parse(b"\"a,b\"").is_some());
    /// ```
    pub fn parse(value: &[u8]) -> Option<TagList> {
        let mut rest = value.trim_ascii();
        if rest == b"*" {
            return Some(TagList::Any);
        }
        let mut tags = Vec::new();
        loop {
            rest = skip_list_separators(rest);
            if rest.is_empty() {
                break;
            }
            let (tag, after) = scan_etag(rest)?;
            tags.push(tag);
            let after = after.trim_ascii_start();
            if !(after.is_empty() || after.starts_with(b",")) {
                return None;
            }
            rest = after;
        }
        (!tags.is_empty()).then_some(TagList::Tags(tags))
    }

    /// Whether `etag` matches by weak comparison (the `If-None-Match` rule).
    ///
    /// ```
    /// # use carafe::response::conditional::{ETag, TagList};
    /// assert!(TagList::Any.matches_weak(&ETag::strong("x").unwrap()));
    /// ```
    pub fn matches_weak(&self, etag: &ETag) -> bool {
        match self {
            TagList::Any => true,
            TagList::Tags(tags) => tags.iter().any(|tag| tag.weak_eq(etag)),
        }
    }

    /// Whether `etag` matches by strong comparison (the `If-Match` rule).
    ///
    /// ```
    /// # use carafe::response::conditional::{ETag, TagList};
    /// assert!(TagList::Any.matches_strong(&ETag::strong("x").unwrap()));
    /// ```
    pub fn matches_strong(&self, etag: &ETag) -> bool {
        match self {
            TagList::Any => true,
            TagList::Tags(tags) => tags.iter().any(|tag| tag.strong_eq(etag)),
        }
    }
}

fn skip_list_separators(mut input: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | b',', rest @ ..] = input {
        input = rest;
    }
    input
}

/// What a representation offers to compare against: its entity tag and modification time.
///
/// ```
/// use carafe::response::conditional::{ETag, Validators};
///
/// let validators = Validators { etag: ETag::strong("v1"), last_modified: None };
/// # let _ = validators;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// The `ETag` the response carries.
    pub etag: Option<ETag>,
    /// The `Last-Modified` the response carries.
    pub last_modified: Option<SystemTime>,
}

/// What [`evaluate`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send the representation. `honor_range` is `false` when `If-Range` did not match,
    /// so a `Range` must be ignored and the whole representation sent.
    Send {
        /// Whether a `Range` header may be applied.
        honor_range: bool,
    },
    /// `304 Not Modified` (a `GET` or `HEAD` whose cached copy is current).
    NotModified,
    /// `412 Precondition Failed`.
    PreconditionFailed,
}

/// Evaluates the request's preconditions in RFC 9110 §13.2.2's order: `If-Match`, then
/// `If-Unmodified-Since` (only without `If-Match`), then `If-None-Match`, then
/// `If-Modified-Since` (only without `If-None-Match`, and only for `GET`/`HEAD`), then
/// `If-Range`.
///
/// ```
/// use carafe::response::conditional::{evaluate, Decision, ETag, Validators};
/// use http::{HeaderMap, Method};
///
/// let validators = Validators { etag: ETag::strong("v1"), last_modified: None };
/// let mut headers = HeaderMap::new();
/// headers.insert("if-none-match", "\"v0\", \"v1\"".parse().unwrap());
/// assert_eq!(evaluate(&Method::GET, &headers, &validators), Decision::NotModified);
/// ```
pub fn evaluate(method: &Method, headers: &HeaderMap, validators: &Validators) -> Decision {
    let safe = method == Method::GET || method == Method::HEAD;
    let if_match = headers
        .get(IF_MATCH)
        .and_then(|value| TagList::parse(value.as_bytes()));
    if let Some(list) = if_match {
        let matched = validators
            .etag
            .as_ref()
            .is_some_and(|etag| list.matches_strong(etag));
        if !matched {
            return Decision::PreconditionFailed;
        }
    } else if let Some(since) = header_date(headers.get(IF_UNMODIFIED_SINCE)) {
        if modified_after(validators.last_modified, since) == Some(true) {
            return Decision::PreconditionFailed;
        }
    }
    let if_none_match = headers
        .get(IF_NONE_MATCH)
        .and_then(|value| TagList::parse(value.as_bytes()));
    if let Some(list) = if_none_match {
        let matched = validators
            .etag
            .as_ref()
            .is_some_and(|etag| list.matches_weak(etag));
        if matched {
            return if safe {
                Decision::NotModified
            } else {
                Decision::PreconditionFailed
            };
        }
    } else if let Some(since) = header_date(headers.get(IF_MODIFIED_SINCE)).filter(|_| safe) {
        if modified_after(validators.last_modified, since) == Some(false) {
            return Decision::NotModified;
        }
    }
    let honor_range = match headers.get(IF_RANGE) {
        Some(value) => if_range_matches(value.as_bytes(), validators),
        None => true,
    };
    Decision::Send { honor_range }
}

/// Whether an `If-Range` value names the current representation (RFC 9110 §13.1.5): an
/// entity tag by strong comparison, or exactly the `Last-Modified` date.
///
/// ```
/// use carafe::response::conditional::{if_range_matches, ETag, Validators};
///
/// let validators = Validators { etag: ETag::strong("v1"), last_modified: None };
/// assert!(if_range_matches(b"\"v1\"", &validators));
/// assert!(!if_range_matches(b"W/\"v1\"", &validators));
/// assert!(!if_range_matches(b"Tue, 15 Nov 1994 08:12:31 GMT", &validators));
/// ```
pub fn if_range_matches(value: &[u8], validators: &Validators) -> bool {
    let value = value.trim_ascii();
    // "A valid entity-tag can be distinguished from a valid HTTP-date by examining the
    // first three characters for a DQUOTE."
    if value.iter().take(3).any(|&byte| byte == b'"') {
        let etag = ETag::parse(value);
        return match (etag, &validators.etag) {
            (Some(asked), Some(current)) => asked.strong_eq(current),
            _ => false,
        };
    }
    let date = std::str::from_utf8(value)
        .ok()
        .and_then(|text| httpdate::parse_http_date(text).ok());
    match (date, validators.last_modified) {
        (Some(date), Some(modified)) => whole_seconds(modified) == whole_seconds(date),
        _ => false,
    }
}

fn header_date(value: Option<&HeaderValue>) -> Option<SystemTime> {
    let text = value?.to_str().ok()?;
    httpdate::parse_http_date(text.trim()).ok()
}

/// Whether `modified` is later than `since`, at the one-second resolution of HTTP dates;
/// `None` when the modification time is unknown.
fn modified_after(modified: Option<SystemTime>, since: SystemTime) -> Option<bool> {
    Some(whole_seconds(modified?) > whole_seconds(since))
}

/// Seconds since the epoch; times before it count as the epoch.
pub(crate) fn whole_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

#[cfg(test)]
mod tests;
