//! Converters: what a `<converter:name>` placeholder of a rule accepts.
//!
//! These are Werkzeug's default converters (`werkzeug.routing.converters`) for whole path
//! segments. A converter only decides whether a segment matches; turning the text into a
//! typed value is the [`Path`](crate::Path) extractor's job.
//!
//! | converter | matches (Werkzeug's regex) | value |
//! |---|---|---|
//! | `string` (the default) | `[^/]+` | text, percent-decoded |
//! | `int` | `\d+`, up to `u64::MAX` | unsigned integer |
//! | `float` | `\d+\.\d+` | floating point number |
//! | `uuid` | `8-4-4-4-12` hex digits | text |
//! | `path` | `[^/].*`: the rest of the path, slashes included | text, percent-decoded |
//! | `any(a, b, ...)` | one of the listed words | text |
//!
//! Segments are matched as they arrive, still percent-encoded: `%31` is not a digit.

/// A converter of a rule placeholder.
///
/// The declaration order is the match priority: at a position where several placeholders
/// compete, the more specific converter is tried first (after static text, which always
/// wins), and `path`, which swallows everything, comes last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Converter {
    /// `int`: non-negative decimal digits that fit a `u64`.
    Int,
    /// `float`: digits, a dot, digits.
    Float,
    /// `uuid`: a UUID in its hyphenated text form.
    Uuid,
    /// `any(a, b, ...)`: one of the listed values, compared with the raw segment.
    Any(&'static [&'static str]),
    /// `string`: any non-empty segment.
    String,
    /// `path`: the rest of the path; it must be a rule's last placeholder.
    Path,
}

impl Converter {
    /// The converters a rule may name, for error messages.
    pub(crate) const NAMES: &'static str = "string, int, float, path, uuid, any(a, b, ...)";

    /// The converter called `name` in a rule, if there is one.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        match name {
            "string" => Some(Converter::String),
            "int" => Some(Converter::Int),
            "float" => Some(Converter::Float),
            "path" => Some(Converter::Path),
            "uuid" => Some(Converter::Uuid),
            _ => None,
        }
    }

    /// The converter's name, as rules write it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Converter::Int => "int",
            Converter::Float => "float",
            Converter::Uuid => "uuid",
            Converter::Any(_) => "any",
            Converter::String => "string",
            Converter::Path => "path",
        }
    }

    /// Whether `text`, a raw path segment (or, for `path`, the raw rest of the path), is
    /// a value of this converter.
    pub(crate) fn matches(self, text: &str) -> bool {
        match self {
            Converter::Int => is_int(text),
            Converter::Float => is_float(text),
            Converter::Uuid => is_uuid(text),
            Converter::Any(choices) => choices.contains(&text),
            Converter::String => !text.is_empty(),
            Converter::Path => !text.is_empty() && !text.starts_with('/'),
        }
    }
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit())
}

fn is_int(text: &str) -> bool {
    // Twenty digits can still overflow; parsing settles it without allocating.
    is_digits(text) && text.parse::<u64>().is_ok()
}

fn is_float(text: &str) -> bool {
    text.split_once('.')
        .is_some_and(|(whole, fraction)| is_digits(whole) && is_digits(fraction))
}

fn is_uuid(text: &str) -> bool {
    const GROUPS: [usize; 5] = [8, 4, 4, 4, 12];
    let mut groups = text.split('-');
    let well_formed = GROUPS.iter().all(|&len| {
        groups
            .next()
            .is_some_and(|group| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
    });
    well_formed && groups.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::Converter::{self, *};

    #[test]
    fn each_converter_accepts_and_rejects_what_werkzeug_does() {
        let cases: &[(Converter, &str, bool)] = &[
            (Int, "0", true),
            (Int, "0042", true),
            (Int, "18446744073709551615", true),
            (Int, "18446744073709551616", false),
            (Int, "-1", false),
            (Int, "+1", false),
            (Int, "1.5", false),
            (Int, "", false),
            (Int, "١", false),
            (Float, "1.5", true),
            (Float, "0.0", true),
            (Float, "1.", false),
            (Float, ".5", false),
            (Float, "1", false),
            (Float, "-1.5", false),
            (Float, "1.5.2", false),
            (Float, "1e5", false),
            (Uuid, "a8098c1a-f86e-11da-bd1a-00112444be1e", true),
            (Uuid, "A8098C1A-F86E-11DA-BD1A-00112444BE1E", true),
            (Uuid, "a8098c1af86e11dabd1a00112444be1e", false),
            (Uuid, "a8098c1a-f86e-11da-bd1a-00112444be1e-", false),
            (Uuid, "g8098c1a-f86e-11da-bd1a-00112444be1e", false),
            (String, "anything here", true),
            (String, "%2F", true),
            (String, "", false),
            (Path, "a/b/c", true),
            (Path, "a/", true),
            (Path, "/a", false),
            (Path, "", false),
        ];
        for &(converter, text, expected) in cases {
            assert_eq!(
                converter.matches(text),
                expected,
                "{converter:?} on {text:?}"
            );
        }
    }

    #[test]
    fn any_accepts_only_its_choices() {
        let any = Any(&["about", "help"]);
        assert!(any.matches("about"));
        assert!(any.matches("help"));
        assert!(!any.matches("abou"));
        assert!(!any.matches(""));
    }

    #[test]
    fn every_listed_name_is_a_converter() {
        for name in Converter::NAMES.split(", ").take(5) {
            assert!(Converter::from_name(name).is_some(), "{name}");
        }
        assert_eq!(Converter::from_name("any"), None);
    }

    #[test]
    fn priority_puts_specific_converters_before_string_and_path() {
        let mut all = vec![Path, String, Any(&["a"]), Uuid, Float, Int];
        all.sort();
        assert_eq!(all, vec![Int, Float, Uuid, Any(&["a"]), String, Path]);
    }
}
