//! The values a request's path gave a rule's placeholders.
//!
//! Routing records each match as a byte range of the request's path, so a route with
//! placeholders costs one small vector and no copies; the text is percent-decoded only
//! when it is read.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use percent_encoding::percent_decode_str;

use super::converter::Converter;

/// One placeholder's match: where in the path, and by which converter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Capture {
    /// The placeholder's name; empty while the search that found it is still running.
    pub(crate) name: &'static str,
    /// The converter that matched.
    pub(crate) converter: Converter,
    /// The raw (percent-encoded) text's position in the path.
    pub(crate) range: Range<usize>,
}

impl Capture {
    /// A capture whose name is filled in once the route is known.
    pub(crate) fn unnamed(converter: Converter, range: Range<usize>) -> Self {
        Capture {
            name: "",
            converter,
            range,
        }
    }
}

/// The path parameters of a matched rule: `id = "42"` for `/items/<int:id>` and
/// `/items/42` (Flask's `request.view_args`).
///
/// Values are percent-decoded. Most handlers use the [`Path`](crate::Path) extractor
/// instead, which also converts them to typed values.
///
/// ```
/// use carafe::{get, Router};
/// use http::Method;
///
/// let mut router = Router::new();
/// router.route("/users/<name>/posts/<int:id>", get(|| async { "a post" }));
/// let found = router.at(&Method::GET, "/users/J%C3%B6rg/posts/7").unwrap();
/// let params = found.params();
/// assert_eq!(params.get("name").as_deref(), Some("Jörg"));
/// assert_eq!(params.get("id").as_deref(), Some("7"));
/// assert_eq!(params.len(), 2);
/// ```
#[derive(Clone, Copy)]
pub struct Params<'a> {
    /// The request's path, which the captures index.
    path: &'a str,
    /// The captures, in rule order.
    captures: &'a [Capture],
}

impl<'a> Params<'a> {
    pub(crate) fn new(path: &'a str, captures: &'a [Capture]) -> Self {
        Params { path, captures }
    }

    /// The decoded value of the parameter called `name`; bytes that are not UTF-8 after
    /// decoding become `U+FFFD`.
    ///
    /// ```
    /// # let mut router = carafe::Router::new();
    /// # router.route("/files/<path:file>", carafe::get(|| async { "" }));
    /// let found = router.at(&http::Method::GET, "/files/a/b%20c.txt").unwrap();
    /// assert_eq!(found.params().get("file").as_deref(), Some("a/b c.txt"));
    /// assert_eq!(found.params().get("other"), None);
    /// ```
    pub fn get(&self, name: &str) -> Option<Cow<'a, str>> {
        let capture = self.captures.iter().find(|capture| capture.name == name)?;
        Some(percent_decode_str(self.raw(capture)).decode_utf8_lossy())
    }

    /// The parameters' names and decoded values, in rule order.
    ///
    /// ```
    /// # let mut router = carafe::Router::new();
    /// # router.route("/<a>/<b>", carafe::get(|| async { "" }));
    /// let found = router.at(&http::Method::GET, "/x/y").unwrap();
    /// let pairs: Vec<_> = found.params().iter().collect();
    /// assert_eq!(pairs, [("a", "x".into()), ("b", "y".into())]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, Cow<'a, str>)> + 'a {
        let Params { path, captures } = *self;
        captures.iter().map(move |capture| {
            let raw = path.get(capture.range.clone()).unwrap_or_default();
            (capture.name, percent_decode_str(raw).decode_utf8_lossy())
        })
    }

    /// The number of parameters.
    ///
    /// ```
    /// # let mut router = carafe::Router::new();
    /// # router.route("/", carafe::get(|| async { "" }));
    /// assert_eq!(router.at(&http::Method::GET, "/").unwrap().params().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.captures.len()
    }

    /// Whether the rule had no placeholders.
    ///
    /// ```
    /// # let mut router = carafe::Router::new();
    /// # router.route("/", carafe::get(|| async { "" }));
    /// assert!(router.at(&http::Method::GET, "/").unwrap().params().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.captures.is_empty()
    }

    /// Each parameter's name, converter and raw (still percent-encoded) text.
    pub(crate) fn raw_entries(
        &self,
    ) -> impl ExactSizeIterator<Item = (&'static str, Converter, &'a str)> + 'a {
        let Params { path, captures } = *self;
        captures.iter().map(move |capture| {
            (
                capture.name,
                capture.converter,
                path.get(capture.range.clone()).unwrap_or_default(),
            )
        })
    }

    fn raw(&self, capture: &Capture) -> &'a str {
        // Captures are ranges of this very path, so `get` only fails if a caller paired
        // them with another path; an empty value is the harmless answer then.
        self.path.get(capture.range.clone()).unwrap_or_default()
    }
}

impl fmt::Debug for Params<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}
