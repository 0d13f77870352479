//! Converters: what a `<converter:name>` placeholder of a rule accepts.
//!
//! These are Werkzeug's default converters (`werkzeug.routing.converters`) for whole path
//! segments, with their arguments. A converter only decides whether a segment matches;
//! turning the text into a typed value is the [`Path`](crate::Path) extractor's job.
//!
//! | converter | matches (Werkzeug's regex) | arguments |
//! |---|---|---|
//! | `string` (the default) | `[^/]+` | `minlength=1`, `maxlength`, `length` (characters, decoded) |
//! | `int` | `\d+`, up to `u64::MAX` | `fixed_digits`, `min`, `max`, `signed` (`-?\d+`, an `i64`) |
//! | `float` | `\d+\.\d+` | `min`, `max`, `signed` (`-?\d+\.\d+`) |
//! | `uuid` | `8-4-4-4-12` hex digits | none |
//! | `path` | `[^/].*`: the rest of the path, slashes included | none |
//! | `any(a, b, ...)` | one of the listed words | the words |
//!
//! Arguments are written as in Werkzeug, by keyword or in order:
//! `<int(min=1, max=10):page>`, `<int(4):year>` (`fixed_digits=4`),
//! `<int(signed=True):offset>`, `<float(min=0.5):x>`, `<string(length=2):country>`. A
//! bad argument (unknown name, wrong type, `min` above `max`) is an error when the rule is
//! registered; [`parse_arguments`] says which and why.
//!
//! Segments are matched as they arrive, still percent-encoded: `%31` is not a digit.

use std::fmt;

use percent_encoding::percent_decode_str;

/// A converter of a rule placeholder.
///
/// The declaration order is the match priority: at a position where several placeholders
/// compete, the more specific converter is tried first (after static text, which always
/// wins), and `path`, which swallows everything, comes last. The same converter with
/// different arguments is a different branch of the trie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Converter {
    /// `int`: decimal digits (with `signed`, an optional leading `-`).
    Int(IntArgs),
    /// `float`: digits, a dot, digits (with `signed`, an optional leading `-`).
    Float(FloatArgs),
    /// `uuid`: a UUID in its hyphenated text form.
    Uuid,
    /// `any(a, b, ...)`: one of the listed values, compared with the raw segment.
    Any(&'static [&'static str]),
    /// `string`: any segment whose decoded length fits the arguments.
    String(StringArgs),
    /// `path`: the rest of the path; it must be a rule's last placeholder.
    Path,
}

/// The arguments of `int(fixed_digits, min, max, signed)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) struct IntArgs {
    /// The exact number of characters, `0` for any (Werkzeug pads built URLs to it).
    pub(crate) fixed_digits: usize,
    /// The smallest value accepted.
    pub(crate) min: Option<i64>,
    /// The largest value accepted.
    pub(crate) max: Option<i64>,
    /// Negative values are accepted (and the value is an `i64`).
    pub(crate) signed: bool,
}

/// The arguments of `float(min, max, signed)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) struct FloatArgs {
    /// The smallest value accepted.
    pub(crate) min: Option<Bound>,
    /// The largest value accepted.
    pub(crate) max: Option<Bound>,
    /// Negative values are accepted.
    pub(crate) signed: bool,
}

/// A float bound, kept as its bits so that converters compare and hash.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Bound(u64);

impl Bound {
    /// The bound `value`.
    pub(crate) fn new(value: f64) -> Self {
        Bound(value.to_bits())
    }

    /// The bound's value.
    pub(crate) fn get(self) -> f64 {
        f64::from_bits(self.0)
    }
}

impl fmt::Debug for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.get())
    }
}

/// The arguments of `string(minlength, maxlength, length)`, in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct StringArgs {
    /// The fewest characters (at least 1).
    pub(crate) minlength: usize,
    /// The most characters.
    pub(crate) maxlength: Option<usize>,
    /// Exactly this many characters.
    pub(crate) length: Option<usize>,
}

impl StringArgs {
    /// Werkzeug's defaults: any non-empty segment.
    pub(crate) const DEFAULT: StringArgs = StringArgs {
        minlength: 1,
        maxlength: None,
        length: None,
    };
}

/// Orders converter arguments: a converter with arguments (it accepts less) is tried
/// before the same converter without, so `/<string(length=2):code>` and `/<name>` side
/// by side do what they say whatever their registration order.
macro_rules! restricted_first {
    ($args:ty, $default:expr, $($field:ident),+) => {
        impl PartialOrd for $args {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $args {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                let default = $default;
                (*self == default, $(self.$field),+).cmp(&(*other == default, $(other.$field),+))
            }
        }
    };
}

restricted_first!(IntArgs, IntArgs::default(), fixed_digits, min, max, signed);
restricted_first!(FloatArgs, FloatArgs::default(), min, max, signed);
restricted_first!(
    StringArgs,
    StringArgs::DEFAULT,
    minlength,
    maxlength,
    length
);

impl Converter {
    /// The converters a rule may name, for error messages.
    pub(crate) const NAMES: &'static str = "string, int, float, path, uuid, any(a, b, ...)";
    /// `string` without arguments.
    pub(crate) const STRING: Converter = Converter::String(StringArgs::DEFAULT);
    /// `int` without arguments.
    pub(crate) const INT: Converter = Converter::Int(IntArgs {
        fixed_digits: 0,
        min: None,
        max: None,
        signed: false,
    });
    /// `float` without arguments.
    pub(crate) const FLOAT: Converter = Converter::Float(FloatArgs {
        min: None,
        max: None,
        signed: false,
    });

    /// The converter called `name` in a rule, without arguments, if there is one.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        match name {
            "string" => Some(Converter::STRING),
            "int" => Some(Converter::INT),
            "float" => Some(Converter::FLOAT),
            "path" => Some(Converter::Path),
            "uuid" => Some(Converter::Uuid),
            _ => None,
        }
    }

    /// The converter's name, as rules write it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Converter::Int(_) => "int",
            Converter::Float(_) => "float",
            Converter::Uuid => "uuid",
            Converter::Any(_) => "any",
            Converter::String(_) => "string",
            Converter::Path => "path",
        }
    }

    /// Whether `text`, a raw path segment (or, for `path`, the raw rest of the path), is
    /// a value of this converter.
    #[inline]
    pub(crate) fn matches(self, text: &str) -> bool {
        match self {
            Converter::Int(args) => args.matches(text),
            Converter::Float(args) => args.matches(text),
            Converter::Uuid => is_uuid(text),
            Converter::Any(choices) => choices.contains(&text),
            Converter::String(args) => args.matches(text),
            Converter::Path => !text.is_empty() && !text.starts_with('/'),
        }
    }
}

impl IntArgs {
    /// Whether `text` is an integer these arguments accept.
    fn matches(self, text: &str) -> bool {
        if self == IntArgs::default() {
            return is_int(text);
        }
        if self.fixed_digits != 0 && text.len() != self.fixed_digits {
            return false;
        }
        let digits = match text.strip_prefix('-') {
            Some(digits) if self.signed => digits,
            _ => text,
        };
        if !is_digits(digits) {
            return false;
        }
        let value = if self.signed {
            match text.parse::<i64>() {
                Ok(value) => i128::from(value),
                Err(_) => return false,
            }
        } else {
            match text.parse::<u64>() {
                Ok(value) => i128::from(value),
                Err(_) => return false,
            }
        };
        self.min.is_none_or(|min| value >= i128::from(min))
            && self.max.is_none_or(|max| value <= i128::from(max))
    }
}

impl FloatArgs {
    /// Whether `text` is a number these arguments accept.
    fn matches(self, text: &str) -> bool {
        let unsigned = match text.strip_prefix('-') {
            Some(rest) if self.signed => rest,
            _ => text,
        };
        if !is_float(unsigned) {
            return false;
        }
        if self.min.is_none() && self.max.is_none() {
            return true;
        }
        let Ok(value) = text.parse::<f64>() else {
            return false;
        };
        self.min.is_none_or(|min| value >= min.get())
            && self.max.is_none_or(|max| value <= max.get())
    }
}

impl StringArgs {
    /// Whether the segment `text` has an accepted length, counted in decoded characters.
    fn matches(self, text: &str) -> bool {
        if self == StringArgs::DEFAULT {
            return !text.is_empty();
        }
        let count = if text.contains('%') {
            percent_decode_str(text).decode_utf8_lossy().chars().count()
        } else {
            text.chars().count()
        };
        match self.length {
            Some(length) => count == length,
            None => count >= self.minlength && self.maxlength.is_none_or(|max| count <= max),
        }
    }
}

/// A converter's arguments that Werkzeug would refuse, or that make no sense.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ArgumentError(pub(crate) String);

/// One argument's value, as Werkzeug's rule parser reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Literal {
    /// `None`.
    None,
    /// `True` or `False`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A number with a dot or an exponent.
    Float(f64),
}

/// Parses `name(arguments)` for `int`, `float` and `string` (`any` is parsed by the rule):
/// positional arguments first, in the converter's order, then `key=value` ones.
pub(crate) fn parse_arguments(name: &str, arguments: &str) -> Result<Converter, ArgumentError> {
    let order: &[&str] = match name {
        "int" => &["fixed_digits", "min", "max", "signed"],
        "float" => &["min", "max", "signed"],
        "string" => &["minlength", "maxlength", "length"],
        "path" | "uuid" => {
            return Err(ArgumentError(format!("`{name}` takes no arguments")));
        }
        _ => return Err(ArgumentError(format!("`{name}` is not a converter"))),
    };
    let mut given: Vec<(&str, Literal)> = Vec::new();
    let mut keywords = false;
    for (index, argument) in arguments.split(',').map(str::trim).enumerate() {
        if argument.is_empty() {
            if arguments.trim().is_empty() {
                break;
            }
            return Err(ArgumentError("an argument is empty".to_owned()));
        }
        let (key, value) = match argument.split_once('=') {
            Some((key, value)) => {
                keywords = true;
                (key.trim(), value.trim())
            }
            None => {
                if keywords {
                    return Err(ArgumentError(format!(
                        "the positional argument `{argument}` comes after a keyword argument"
                    )));
                }
                let Some(key) = order.get(index) else {
                    return Err(ArgumentError(format!(
                        "`{name}` takes at most {} arguments ({})",
                        order.len(),
                        order.join(", ")
                    )));
                };
                (*key, argument)
            }
        };
        if !order.contains(&key) {
            return Err(ArgumentError(format!(
                "`{name}` has no argument `{key}`; it takes {}",
                order.join(", ")
            )));
        }
        if given.iter().any(|(known, _)| *known == key) {
            return Err(ArgumentError(format!("`{key}` is given twice")));
        }
        given.push((key, literal(value)?));
    }
    let get = |key: &str| {
        given
            .iter()
            .find(|(known, _)| *known == key)
            .map(|(_, value)| *value)
    };
    match name {
        "int" => int_args(get("fixed_digits"), get("min"), get("max"), get("signed")),
        "float" => float_args(get("min"), get("max"), get("signed")),
        _ => string_args(get("minlength"), get("maxlength"), get("length")),
    }
}

/// Reads one argument's value: `None`, `True`, `False`, an integer or a number.
fn literal(text: &str) -> Result<Literal, ArgumentError> {
    match text {
        "None" => return Ok(Literal::None),
        "True" => return Ok(Literal::Bool(true)),
        "False" => return Ok(Literal::Bool(false)),
        _ => {}
    }
    if let Ok(value) = text.parse::<i64>() {
        return Ok(Literal::Int(value));
    }
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(Literal::Float(value)),
        _ => Err(ArgumentError(format!(
            "`{text}` is not a value: write an integer, a number, True, False or None"
        ))),
    }
}

/// An optional integer argument.
fn int_value(key: &str, value: Option<Literal>) -> Result<Option<i64>, ArgumentError> {
    match value {
        None | Some(Literal::None) => Ok(None),
        Some(Literal::Int(value)) => Ok(Some(value)),
        Some(other) => Err(ArgumentError(format!(
            "`{key}` must be an integer, not {other:?}"
        ))),
    }
}

/// An optional count argument: an integer, at least 0.
fn count_value(key: &str, value: Option<Literal>) -> Result<Option<usize>, ArgumentError> {
    match int_value(key, value)? {
        None => Ok(None),
        Some(value) => usize::try_from(value)
            .map(Some)
            .map_err(|_| ArgumentError(format!("`{key}` cannot be negative"))),
    }
}

/// A boolean argument, `False` when absent.
fn bool_value(key: &str, value: Option<Literal>) -> Result<bool, ArgumentError> {
    match value {
        None => Ok(false),
        Some(Literal::Bool(value)) => Ok(value),
        Some(other) => Err(ArgumentError(format!(
            "`{key}` must be True or False, not {other:?}"
        ))),
    }
}

/// An optional number argument.
fn float_value(key: &str, value: Option<Literal>) -> Result<Option<f64>, ArgumentError> {
    match value {
        None | Some(Literal::None) => Ok(None),
        Some(Literal::Int(value)) => Ok(Some(value as f64)),
        Some(Literal::Float(value)) => Ok(Some(value)),
        Some(other) => Err(ArgumentError(format!(
            "`{key}` must be a number, not {other:?}"
        ))),
    }
}

fn int_args(
    fixed_digits: Option<Literal>,
    min: Option<Literal>,
    max: Option<Literal>,
    signed: Option<Literal>,
) -> Result<Converter, ArgumentError> {
    let args = IntArgs {
        fixed_digits: count_value("fixed_digits", fixed_digits)?.unwrap_or(0),
        min: int_value("min", min)?,
        max: int_value("max", max)?,
        signed: bool_value("signed", signed)?,
    };
    if let (Some(min), Some(max)) = (args.min, args.max) {
        if min > max {
            return Err(ArgumentError(format!(
                "`min` ({min}) is above `max` ({max}): nothing would match"
            )));
        }
    }
    if !args.signed && args.max.is_some_and(|max| max < 0) {
        return Err(ArgumentError(
            "`max` is negative but `signed` is False: nothing would match; add signed=True"
                .to_owned(),
        ));
    }
    Ok(Converter::Int(args))
}

fn float_args(
    min: Option<Literal>,
    max: Option<Literal>,
    signed: Option<Literal>,
) -> Result<Converter, ArgumentError> {
    let min = float_value("min", min)?;
    let max = float_value("max", max)?;
    let signed = bool_value("signed", signed)?;
    if let (Some(min), Some(max)) = (min, max) {
        if min > max {
            return Err(ArgumentError(format!(
                "`min` ({min}) is above `max` ({max}): nothing would match"
            )));
        }
    }
    if !signed && max.is_some_and(|max| max < 0.0) {
        return Err(ArgumentError(
            "`max` is negative but `signed` is False: nothing would match; add signed=True"
                .to_owned(),
        ));
    }
    Ok(Converter::Float(FloatArgs {
        min: min.map(Bound::new),
        max: max.map(Bound::new),
        signed,
    }))
}

fn string_args(
    minlength: Option<Literal>,
    maxlength: Option<Literal>,
    length: Option<Literal>,
) -> Result<Converter, ArgumentError> {
    let minlength = count_value("minlength", minlength)?.unwrap_or(1);
    let maxlength = count_value("maxlength", maxlength)?;
    let length = count_value("length", length)?;
    if minlength == 0 || length == Some(0) || maxlength == Some(0) {
        return Err(ArgumentError(
            "a length of 0 never matches: a placeholder is a non-empty path segment".to_owned(),
        ));
    }
    if maxlength.is_some_and(|max| max < minlength) {
        return Err(ArgumentError(format!(
            "`maxlength` is below `minlength` ({minlength}): nothing would match"
        )));
    }
    Ok(Converter::String(StringArgs {
        minlength,
        maxlength,
        length,
    }))
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
    use super::Converter::{self, Any, Path, Uuid};
    use super::*;

    const INT: Converter = Converter::INT;
    const FLOAT: Converter = Converter::FLOAT;
    const STRING: Converter = Converter::STRING;

    #[test]
    fn each_converter_accepts_and_rejects_what_werkzeug_does() {
        let cases: &[(Converter, &str, bool)] = &[
            (INT, "0", true),
            (INT, "0042", true),
            (INT, "18446744073709551615", true),
            (INT, "18446744073709551616", false),
            (INT, "-1", false),
            (INT, "+1", false),
            (INT, "1.5", false),
            (INT, "", false),
            (INT, "١", false),
            (FLOAT, "1.5", true),
            (FLOAT, "0.0", true),
            (FLOAT, "1.", false),
            (FLOAT, ".5", false),
            (FLOAT, "1", false),
            (FLOAT, "-1.5", false),
            (FLOAT, "1.5.2", false),
            (FLOAT, "1e5", false),
            (Uuid, "a8098c1a-f86e-11da-bd1a-00112444be1e", true),
            (Uuid, "A8098C1A-F86E-11DA-BD1A-00112444BE1E", true),
            (Uuid, "a8098c1af86e11dabd1a00112444be1e", false),
            (Uuid, "a8098c1a-f86e-11da-bd1a-00112444be1e-", false),
            (Uuid, "g8098c1a-f86e-11da-bd1a-00112444be1e", false),
            (STRING, "anything here", true),
            (STRING, "%2F", true),
            (STRING, "", false),
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
        let mut all = vec![Path, STRING, Any(&["a"]), Uuid, FLOAT, INT];
        all.sort();
        assert_eq!(all, vec![INT, FLOAT, Uuid, Any(&["a"]), STRING, Path]);
        let two = converter("string", "length=2");
        let small = converter("int", "max=5");
        assert!(two < STRING && small < INT && INT < two);
    }

    fn converter(name: &str, arguments: &str) -> Converter {
        parse_arguments(name, arguments).unwrap_or_else(|error| panic!("{error:?}"))
    }

    #[test]
    fn int_arguments_work_as_werkzeugs() {
        let range = converter("int", "min=1, max=10");
        assert!(range.matches("1") && range.matches("10") && range.matches("007"));
        assert!(!range.matches("0") && !range.matches("11") && !range.matches("-1"));
        let year = converter("int", "4");
        assert!(year.matches("2024") && year.matches("0042"));
        assert!(!year.matches("42") && !year.matches("20245"));
        let signed = converter("int", "signed=True");
        assert!(signed.matches("-5") && signed.matches("5"));
        assert!(!signed.matches("-") && !signed.matches("--5") && !signed.matches("+5"));
        assert!(!signed.matches("9223372036854775808"));
        let negative = converter("int", "min=-10, max=-1, signed=True");
        assert!(negative.matches("-10") && !negative.matches("0"));
        assert!(!INT.matches("-5"));
    }

    #[test]
    fn float_and_string_arguments_work_as_werkzeugs() {
        let float = converter("float", "min=0.5, max=2");
        assert!(float.matches("0.5") && float.matches("2.0"));
        assert!(!float.matches("0.4") && !float.matches("2.1") && !float.matches("1"));
        let signed = converter("float", "signed=True");
        assert!(signed.matches("-1.5") && !FLOAT.matches("-1.5"));
        let two = converter("string", "length=2");
        assert!(two.matches("fr") && two.matches("%C3%A9t") && !two.matches("fra"));
        let bounded = converter("string", "minlength=2, maxlength=3");
        assert!(bounded.matches("ab") && bounded.matches("abc"));
        assert!(!bounded.matches("a") && !bounded.matches("abcd"));
    }

    #[test]
    fn bad_arguments_are_refused_with_the_reason() {
        let cases = [
            ("int", "min=5, max=1", "above `max`"),
            ("int", "lo=1", "no argument `lo`"),
            ("int", "min=one", "not a value"),
            ("int", "min=1.5", "must be an integer"),
            ("int", "signed=1", "True or False"),
            ("int", "1, 2, 3, True, 5", "at most 4"),
            ("int", "min=1, 4", "after a keyword"),
            ("int", "min=1, min=2", "twice"),
            ("int", "max=-1", "signed=True"),
            ("int", "fixed_digits=-1", "negative"),
            ("float", "min=3, max=2.5", "above `max`"),
            ("string", "length=0", "never matches"),
            ("string", "minlength=3, maxlength=2", "below `minlength`"),
            ("path", "1", "no arguments"),
            ("int", "1,,2", "empty"),
        ];
        for (name, arguments, expected) in cases {
            let error = parse_arguments(name, arguments).err();
            let message = error.map(|error| error.0).unwrap_or_default();
            assert!(message.contains(expected), "{name}({arguments}): {message}");
        }
    }

    #[test]
    fn empty_arguments_are_the_defaults() {
        assert_eq!(converter("int", ""), INT);
        assert_eq!(converter("string", " "), STRING);
    }

    proptest::proptest! {
        #[test]
        fn argument_parsing_and_matching_never_panic(
            name in "int|float|string|path|uuid|x",
            arguments in "[ -~]{0,40}",
            segment in "[ -~]{0,24}",
        ) {
            if let Ok(converter) = parse_arguments(&name, &arguments) {
                let _ = converter.matches(&segment);
            }
        }
    }
}
