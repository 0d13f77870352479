//! The segment trie that routing searches.
//!
//! Each node stands for a position in the path. Its children are keyed by static text
//! (scanned when they are few, hashed when they are many) and by converter (kept in
//! priority order), so a lookup walks one path segment per level instead of trying every
//! rule in turn. At each
//! level static text is tried first, then the converters in [`Converter`]'s order, and
//! the search backtracks when a branch leads nowhere: `/a/5/y` still reaches
//! `/a/<name>/y` after `/a/<int:id>/x` fails. The trie is a tree, so a search visits each
//! node at most once.
//!
//! A search does not allocate unless a placeholder matches (its capture is pushed onto
//! the caller's vector) or a segment is percent-encoded and must be decoded to compare
//! it with static text.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use percent_encoding::percent_decode_str;

use super::converter::Converter;
use super::params::Capture;
use super::rule::Segment;

/// A node of the trie.
#[derive(Debug, Default)]
pub(crate) struct Node {
    /// Children reached by static text.
    statics: Statics,
    /// Children reached by a placeholder, sorted by converter priority.
    params: Vec<(Converter, Node)>,
    /// The routes whose rules end here, in registration order.
    routes: Vec<usize>,
}

impl Node {
    /// The routes ending at the node for `segments`, creating the nodes on the way.
    pub(crate) fn endpoint(&mut self, segments: &[Segment]) -> &mut Vec<usize> {
        let Some((first, rest)) = segments.split_first() else {
            return &mut self.routes;
        };
        let child = match first {
            Segment::Static(text) => self.static_child_mut(text),
            Segment::Param(param) => self.param_child_mut(param.converter),
        };
        child.endpoint(rest)
    }

    fn static_child_mut(&mut self, text: &str) -> &mut Node {
        self.statics.get_or_insert(text)
    }

    fn param_child_mut(&mut self, converter: Converter) -> &mut Node {
        let index = match self.params.binary_search_by(|(key, _)| key.cmp(&converter)) {
            Ok(index) => index,
            Err(index) => {
                self.params.insert(index, (converter, Node::default()));
                index
            }
        };
        &mut self.params[index].1
    }

    /// Walks `path` (which starts with `/`), calling `found` with the routes of each
    /// matching endpoint and the captures that led there, best match first, until `found`
    /// returns `true`. Then `captures` holds that match's captures, and this returns
    /// `true`; otherwise `captures` is left empty.
    pub(crate) fn search<'t, F>(
        &'t self,
        path: &str,
        captures: &mut Vec<Capture>,
        found: &mut F,
    ) -> bool
    where
        F: FnMut(&'t [usize], &[Capture]) -> bool,
    {
        let mut at_end = |node: &'t Node, captures: &[Capture]| {
            !node.routes.is_empty() && found(&node.routes, captures)
        };
        path.starts_with('/') && self.walk(path, 1, captures, &mut at_end)
    }

    /// Whether `path` followed by a slash reaches a rule: the node `path` leads to has an
    /// empty static child (a trailing slash) with routes. For Werkzeug's strict-slash
    /// redirect; allocates nothing unless a placeholder matches.
    pub(crate) fn reaches_with_slash(&self, path: &str, captures: &mut Vec<Capture>) -> bool {
        let mut at_end = |node: &Node, _: &[Capture]| {
            node.statics
                .get("")
                .is_some_and(|child| !child.routes.is_empty())
        };
        path.starts_with('/') && self.walk(path, 1, captures, &mut at_end)
    }

    /// Matches the segment starting at `start` against this node's children.
    fn walk<'t, F>(
        &'t self,
        path: &str,
        start: usize,
        captures: &mut Vec<Capture>,
        found: &mut F,
    ) -> bool
    where
        F: FnMut(&'t Node, &[Capture]) -> bool,
    {
        let end = path[start..]
            .find('/')
            .map_or(path.len(), |offset| start + offset);
        if let Some(child) = self.static_child(&path[start..end]) {
            if child.descend(path, end, captures, found) {
                return true;
            }
        }
        for (converter, child) in &self.params {
            let range = match converter {
                Converter::Path => start..path.len(),
                _ => start..end,
            };
            if !converter.matches(&path[range.clone()]) {
                continue;
            }
            let next = range.end;
            captures.push(Capture::unnamed(*converter, range));
            if child.descend(path, next, captures, found) {
                return true;
            }
            captures.pop();
        }
        false
    }

    /// Goes on after a segment that ends at `end`: to this node's routes at the end of the
    /// path, or to the next segment.
    fn descend<'t, F>(
        &'t self,
        path: &str,
        end: usize,
        captures: &mut Vec<Capture>,
        found: &mut F,
    ) -> bool
    where
        F: FnMut(&'t Node, &[Capture]) -> bool,
    {
        if end == path.len() {
            found(self, captures)
        } else {
            self.walk(path, end + 1, captures, found)
        }
    }

    /// The static child for a raw segment, comparing percent-decoded text.
    fn static_child(&self, segment: &str) -> Option<&Node> {
        if self.statics.is_empty() {
            return None;
        }
        if let Some(child) = self.statics.get(segment) {
            return Some(child);
        }
        if !segment.contains('%') {
            return None;
        }
        let decoded = percent_decode_str(segment).decode_utf8().ok()?;
        self.statics.get(&decoded)
    }
}

/// The static children of a node: a list, plus a hash index once the list is long enough
/// that scanning it costs more than hashing the segment once.
#[derive(Debug, Default)]
struct Statics {
    /// The children, in insertion order.
    children: Vec<(Box<str>, Node)>,
    /// Positions in `children` by text, when there are [`INDEX_FROM`] children or more.
    index: Option<HashMap<Box<str>, usize, BuildHasherDefault<Fnv1a>>>,
    /// The position of the empty segment (`/` itself, a trailing slash), kept apart:
    /// comparing with an empty `Box<str>`, whose pointer is dangling, makes glibc's
    /// AVX-512 `memcmp` take a fault-suppression assist that costs ~40 ns (measured).
    empty: Option<usize>,
}

/// How many static children make a hash lookup cheaper than a scan.
const INDEX_FROM: usize = 8;

impl Statics {
    fn is_empty(&self) -> bool {
        self.children.is_empty()
    }

    fn position(&self, text: &str) -> Option<usize> {
        if text.is_empty() {
            return self.empty;
        }
        match &self.index {
            Some(index) => index.get(text).copied(),
            None => self
                .children
                .iter()
                .position(|(key, _)| !key.is_empty() && **key == *text),
        }
    }

    fn get(&self, text: &str) -> Option<&Node> {
        let position = self.position(text)?;
        Some(&self.children[position].1)
    }

    fn get_or_insert(&mut self, text: &str) -> &mut Node {
        let position = match self.position(text) {
            Some(position) => position,
            None => {
                self.children.push((text.into(), Node::default()));
                if text.is_empty() {
                    self.empty = Some(self.children.len() - 1);
                }
                self.reindex();
                self.children.len() - 1
            }
        };
        &mut self.children[position].1
    }

    /// Indexes the child pushed last, building the index when the list gets long enough.
    fn reindex(&mut self) {
        let last = self.children.len() - 1;
        match &mut self.index {
            Some(index) => {
                index.insert(self.children[last].0.clone(), last);
            }
            None if self.children.len() >= INDEX_FROM => {
                let keys = self
                    .children
                    .iter()
                    .enumerate()
                    .map(|(at, (key, _))| (key.clone(), at));
                self.index = Some(keys.collect());
            }
            None => {}
        }
    }
}

/// FNV-1a, a hash of a few cycles per byte for short keys such as path segments.
///
/// It has no per-process seed, and needs none: the tables hold the program's own rules
/// and never grow at run time, so requests cannot make their entries collide; a lookup
/// that collides only costs an extra comparison.
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv1a {
    fn finish(&self) -> u64 {
        // FNV's high bits barely change between short keys, and the table probes with
        // them: mix them in (MurmurHash3's finalizer).
        let mut hash = self.0;
        hash ^= hash >> 33;
        hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
        hash ^ (hash >> 33)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}
