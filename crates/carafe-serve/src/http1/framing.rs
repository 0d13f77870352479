//! The framing rules of RFC 9112 (sans-IO): what the `Host`, `Content-Length`,
//! `Transfer-Encoding`, `Connection`, `Expect` and `Upgrade` fields of a request mean for
//! its body and its connection.
//!
//! [`FieldFacts`] gathers what these fields say while the header map is built, in one pass
//! (no lookups afterwards), and [`FieldFacts::decide`] applies the rules. Every ambiguity is
//! an error: lenient framing is how request smuggling works (RFC 9112 §11.2).

use http::header::{self, HeaderName};
use http::Version;

use super::parse::{Framing, ParseError};

/// What the framing-relevant fields of a request said.
#[derive(Debug, Default)]
pub(crate) struct FieldFacts {
    /// `Host` lines seen.
    hosts: u8,
    /// The (last) `Host` value was well-formed.
    host_valid: bool,
    /// The `Content-Length` all lines agreed on.
    content_length: Option<u64>,
    /// A `Transfer-Encoding` line was present.
    transfer_encoding: bool,
    /// Transfer codings listed, across all lines.
    codings: u16,
    /// How many of them were `chunked`.
    chunked: u16,
    /// The last coding was `chunked`.
    last_is_chunked: bool,
    /// `Connection` tokens.
    close: bool,
    keep_alive: bool,
    connection_upgrade: bool,
    /// An `Upgrade` field was present.
    upgrade: bool,
    /// `Expect: 100-continue` was present.
    expect_continue: bool,
    /// An `Expect` value other than `100-continue` was present.
    expect_other: bool,
}

/// What the rules decided.
#[derive(Debug)]
pub(crate) struct Decision {
    pub(crate) framing: Framing,
    pub(crate) keep_alive: bool,
    pub(crate) expect_continue: bool,
    pub(crate) upgrade: bool,
}

impl FieldFacts {
    /// Takes note of one field line.
    pub(crate) fn observe(&mut self, name: &HeaderName, value: &[u8]) -> Result<(), ParseError> {
        if *name == header::HOST {
            self.hosts = self.hosts.saturating_add(1);
            self.host_valid = valid_host(value);
        } else if *name == header::CONTENT_LENGTH {
            let length = parse_decimal(value).ok_or(ParseError::InvalidContentLength)?;
            if self
                .content_length
                .is_some_and(|previous| previous != length)
            {
                return Err(ParseError::ConflictingContentLength);
            }
            self.content_length = Some(length);
        } else if *name == header::TRANSFER_ENCODING {
            self.transfer_encoding = true;
            for coding in list_elements(value) {
                self.last_is_chunked = coding.eq_ignore_ascii_case(b"chunked");
                self.chunked = self.chunked.saturating_add(u16::from(self.last_is_chunked));
                self.codings = self.codings.saturating_add(1);
            }
        } else if *name == header::CONNECTION {
            for token in list_elements(value) {
                self.close |= token.eq_ignore_ascii_case(b"close");
                self.keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
                self.connection_upgrade |= token.eq_ignore_ascii_case(b"upgrade");
            }
        } else if *name == header::EXPECT {
            let continue_ = value.eq_ignore_ascii_case(b"100-continue");
            self.expect_continue |= continue_;
            self.expect_other |= !continue_;
        } else if *name == header::UPGRADE {
            self.upgrade = true;
        }
        Ok(())
    }

    /// Applies the rules to what was seen.
    pub(crate) fn decide(self, version: Version) -> Result<Decision, ParseError> {
        self.check_host(version)?;
        let framing = self.body_framing(version)?;
        if self.expect_other {
            return Err(ParseError::UnsupportedExpectation);
        }
        let http11 = version == Version::HTTP_11;
        let keep_alive = match http11 {
            true => !self.close,
            false => self.keep_alive && !self.close,
        };
        Ok(Decision {
            framing,
            keep_alive,
            expect_continue: http11 && self.expect_continue,
            upgrade: http11 && self.connection_upgrade && self.upgrade,
        })
    }

    /// RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code to any
    /// HTTP/1.1 request message that lacks a Host header field and to any request message
    /// that contains more than one Host header field line or a Host header field with an
    /// invalid field value."
    fn check_host(&self, version: Version) -> Result<(), ParseError> {
        match self.hosts {
            0 if version == Version::HTTP_11 => Err(ParseError::MissingHost),
            0 => Ok(()),
            1 if self.host_valid => Ok(()),
            1 => Err(ParseError::InvalidHost),
            _ => Err(ParseError::DuplicateHost),
        }
    }

    /// RFC 9112 §6.3: the rules that decide a request's body length.
    fn body_framing(&self, version: Version) -> Result<Framing, ParseError> {
        match (self.transfer_encoding, self.content_length) {
            // "If a message is received with both a Transfer-Encoding and a Content-Length
            // header field, the Transfer-Encoding overrides the Content-Length. Such a
            // message might indicate an attempt to perform request smuggling" — we refuse it.
            (true, Some(_)) => Err(ParseError::ContentLengthAndTransferEncoding),
            // §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
            (true, None) if version != Version::HTTP_11 => {
                Err(ParseError::TransferEncodingInHttp10)
            }
            // §6.1: chunked must be the final coding, applied once; we decode no other.
            (true, None) => match (self.last_is_chunked, self.chunked, self.codings) {
                (true, 1, 1) => Ok(Framing::Chunked),
                (true, 1, _) => Err(ParseError::UnsupportedTransferCoding),
                _ => Err(ParseError::TransferEncodingNotChunked),
            },
            (false, Some(0)) | (false, None) => Ok(Framing::Empty),
            (false, Some(length)) => Ok(Framing::Length(length)),
        }
    }
}

/// The non-empty elements of a comma-separated list (RFC 9110 §5.6.1), trimmed.
fn list_elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(<[u8]>::trim_ascii)
        .filter(|element| !element.is_empty())
}

/// `1*DIGIT` that fits in a `u64`: no sign, no spaces, no hex, no list.
pub(crate) fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &b| {
        let digit = (b as char).to_digit(10)?;
        acc.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// `Host = uri-host [ ":" port ]` (RFC 9110 §7.2), or empty: a reg-name or IPv4 address
/// of unreserved, sub-delim and pct-encoded characters, or a bracketed IP literal; then
/// optionally a colon and decimal digits. No userinfo, no path.
fn valid_host(host: &[u8]) -> bool {
    let (name, port) = match host.first() {
        None => return true,
        Some(b'[') => match host.iter().position(|&b| b == b']') {
            Some(end) => {
                let literal = &host[1..end];
                let ok = !literal.is_empty()
                    && literal
                        .iter()
                        .all(|b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.'));
                if !ok {
                    return false;
                }
                (&host[..=end], &host[end + 1..])
            }
            None => return false,
        },
        Some(_) => match host.iter().position(|&b| b == b':') {
            Some(colon) => (&host[..colon], &host[colon..]),
            None => (host, &host[host.len()..]),
        },
    };
    let name_ok =
        name.first() == Some(&b'[') || (!name.is_empty() && name.iter().all(reg_name_byte));
    let port_ok = match port.split_first() {
        None => true,
        Some((b':', digits)) => digits.iter().all(u8::is_ascii_digit),
        Some(_) => false,
    };
    name_ok && port_ok
}

fn reg_name_byte(b: &u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'%'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_validated() {
        for good in [
            "",
            "a",
            "example.com",
            "example.com:8080",
            "127.0.0.1:80",
            "[::1]",
            "[::1]:8080",
            "a-b.c_d~e",
        ] {
            assert!(valid_host(good.as_bytes()), "{good}");
        }
        for bad in [
            "a b", "user@a", "a/b", "a:80:90", "a:x", "[::1", "[]", "[zz]", ":80", "a?b", "a#b",
        ] {
            assert!(!valid_host(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn decimals_are_strict() {
        assert_eq!(parse_decimal(b"0"), Some(0));
        assert_eq!(parse_decimal(b"18446744073709551615"), Some(u64::MAX));
        for bad in [
            &b""[..],
            b"+1",
            b"-1",
            b"0x1",
            b" 1",
            b"1 ",
            b"1,1",
            b"18446744073709551616",
        ] {
            assert_eq!(
                parse_decimal(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
