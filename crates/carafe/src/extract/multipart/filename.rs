//! [`secure_filename`]: Werkzeug's `secure_filename`, for saving uploads under the name
//! the client gave.

use unicode_normalization::UnicodeNormalization;

/// Names Windows reserves in every directory (`CON`, `NUL`, `COM1`, ...).
const WINDOWS_DEVICES: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// A version of a client's filename that is safe to join to a directory and save under,
/// as Werkzeug's `secure_filename` makes it.
///
/// Accented letters lose their accents (Unicode NFKD), other non-ASCII characters are
/// dropped, path separators and runs of whitespace become one `_`, every character but
/// ASCII letters, digits, `_`, `.` and `-` is removed, and leading and trailing dots and
/// underscores go. Unlike Werkzeug, the Windows device names (`CON`, `NUL`, `COM1`...) get
/// a `_` in front on every system, so a name is safe wherever the files end up.
///
/// The result may be empty (a name of only non-ASCII characters, `..`): choose a name of
/// your own then.
///
/// ```
/// use carafe::extract::secure_filename;
///
/// assert_eq!(secure_filename("My cool movie.mov"), "My_cool_movie.mov");
/// assert_eq!(secure_filename("../../../etc/passwd"), "etc_passwd");
/// assert_eq!(secure_filename("i contain cool \u{fc}ml\u{e4}uts.txt"), "i_contain_cool_umlauts.txt");
/// assert_eq!(secure_filename("C:\\Windows\\win.ini"), "C_Windows_win.ini");
/// assert_eq!(secure_filename("nul.txt"), "_nul.txt");
/// assert_eq!(secure_filename("写真.jpg"), "jpg");
/// assert_eq!(secure_filename(".."), "");
/// ```
pub fn secure_filename(name: &str) -> String {
    let ascii: String = name.nfkd().filter(char::is_ascii).collect();
    let spaced = ascii.replace(['/', '\\'], " ");
    let joined = spaced.split_whitespace().collect::<Vec<_>>().join("_");
    let kept: String = joined
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        .collect();
    let trimmed = kept.trim_matches(|c| c == '.' || c == '_');
    let stem = trimmed.split('.').next().unwrap_or_default();
    if WINDOWS_DEVICES
        .iter()
        .any(|device| device.eq_ignore_ascii_case(stem))
    {
        format!("_{trimmed}")
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Werkzeug's own `test_secure_filename` cases, plus the separators and devices.
    #[test]
    fn matches_werkzeug() {
        let cases = [
            ("My cool movie.mov", "My_cool_movie.mov"),
            ("../../../etc/passwd", "etc_passwd"),
            (
                "i contain cool \u{fc}ml\u{e4}uts.txt",
                "i_contain_cool_umlauts.txt",
            ),
            ("__filename__", "filename"),
            ("foo$&^*)bar", "foobar"),
            ("a\tb\nc", "a_b_c"),
            ("..\\..\\boot.ini", "boot.ini"),
            ("com1", "_com1"),
            ("LPT9.log", "_LPT9.log"),
            ("console.log", "console.log"),
            ("", ""),
            ("\0evil\u{202e}txt.exe", "eviltxt.exe"),
        ];
        for (input, expected) in cases {
            assert_eq!(secure_filename(input), expected, "{input:?}");
        }
    }

    #[test]
    fn output_never_escapes_the_directory() {
        for input in [
            "..",
            "/",
            "./../x",
            ".hidden",
            "a/../../b",
            "\\\\server\\share",
        ] {
            let safe = secure_filename(input);
            assert!(!safe.contains('/') && !safe.contains('\\'), "{input:?}");
            assert!(!safe.starts_with('.'), "{input:?} gave {safe:?}");
        }
    }
}
