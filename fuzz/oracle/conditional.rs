//! Checks for carafe's other header parsers: entity tags and tag lists
//! (`carafe::response::conditional`) and `Accept-Encoding` negotiation
//! (`carafe::response::negotiate`).
//!
//! Included by path from `fuzz_targets/conditional.rs` and from carafe's
//! `tests/compression.rs` (corpus replay and the never-panics property). Like
//! `oracle/range.rs`, it stays out of `oracle/mod.rs`, which carafe-serve's tests include.
//!
//! The whole input is fed to every parser: a parsed tag or tag list must survive being
//! written out and parsed again, `If-Range` must agree with tag parsing, and the coding
//! chosen must be one the settings allow and the header does not refuse outright.

use carafe::response::conditional::{if_range_matches, ETag, TagList, Validators};
use carafe::response::{negotiate, Coding, Compression};

/// Runs every parser on `input`; panics on a violation.
pub(crate) fn check(input: &[u8]) {
    check_tags(input);
    check_negotiation(input);
}

fn check_tags(input: &[u8]) {
    if let Some(tag) = ETag::parse(input) {
        let written = tag.to_header_value();
        assert_eq!(
            ETag::parse(written.as_bytes()).as_ref(),
            Some(&tag),
            "{input:?}"
        );
        let validators = Validators {
            etag: Some(tag.clone()),
            last_modified: None,
        };
        // If-Range uses the strong comparison: a tag matches itself only when strong.
        assert_eq!(
            if_range_matches(input, &validators),
            !tag.is_weak(),
            "{input:?}"
        );
    }
    if let Some(TagList::Tags(tags)) = TagList::parse(input) {
        let written: Vec<String> = tags.iter().map(ToString::to_string).collect();
        let again = TagList::parse(written.join(", ").as_bytes());
        if tags
            .iter()
            .all(|tag| std::str::from_utf8(tag.tag()).is_ok())
        {
            assert_eq!(again, Some(TagList::Tags(tags.clone())), "{input:?}");
        }
        for tag in &tags {
            assert!(TagList::Tags(tags.clone()).matches_weak(tag));
        }
    }
}

fn check_negotiation(input: &[u8]) {
    let all = Compression::default();
    let chosen = negotiate(input, &all);
    let gzip_only = negotiate(input, &Compression::default().brotli(false));
    assert_ne!(gzip_only, Some(Coding::Brotli), "{input:?}");
    let brotli_only = negotiate(input, &Compression::default().gzip(false));
    assert_ne!(brotli_only, Some(Coding::Gzip), "{input:?}");
    assert_eq!(negotiate(input, &all.brotli(false).gzip(false)), None);
    // Allowing more codings never turns compression off.
    if gzip_only.is_some() || brotli_only.is_some() {
        assert!(chosen.is_some(), "{input:?}");
    }
    // Nothing is chosen unless the header names it or a wildcard.
    if let Some(coding) = chosen {
        let text = String::from_utf8_lossy(input).to_ascii_lowercase();
        let named = match coding {
            Coding::Brotli => text.contains("br"),
            Coding::Gzip => text.contains("gzip"),
        };
        assert!(named || text.contains('*'), "{input:?} chose {coding:?}");
    }
}
