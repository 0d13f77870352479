//! The chunked transfer coding decoder (sans-IO), RFC 9112 §7.1.
//!
//! ```text
//! chunked-body   = *chunk last-chunk trailer-section CRLF
//! chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//! chunk-size     = 1*HEXDIG
//! last-chunk     = 1*("0") [ chunk-ext ] CRLF
//! chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//! ```
//!
//! `httparse::parse_chunk_size` is too lenient for a server (it takes an empty size line as
//! zero, accepts trailing whitespace and any size up to `u64::MAX`), so the size line is
//! decoded here, one state per function, with a bound on its length. Extensions are
//! checked for stray control bytes and otherwise ignored, as the RFC allows.

use bytes::{Buf, Bytes, BytesMut};
use http::header::{HeaderMap, HeaderName, HeaderValue};

use super::parse::ParseError;

/// What the decoder produced from the buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk {
    /// Body bytes.
    Data(Bytes),
    /// The trailer fields after the last chunk (only when there are some).
    Trailers(HeaderMap),
    /// The body is complete.
    End,
}

/// Where the decoder is in the chunked body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading hex digits of a chunk size (`digits` so far).
    Size { size: u64, digits: u8 },
    /// Whitespace after the size: only legal before an extension (`BWS ";"`).
    SizeSpace { size: u64 },
    /// Inside the chunk extensions, up to CR.
    Extension { size: u64 },
    /// Expecting the LF that ends the size line.
    SizeLf { size: u64 },
    /// Inside chunk data with `remaining` bytes to go.
    Data { remaining: u64 },
    /// Expecting the CR after chunk data.
    DataCr,
    /// Expecting the LF after chunk data.
    DataLf,
    /// After the last chunk: the trailer section up to its empty line.
    Trailers,
    /// The body is complete.
    Done,
}

/// Decodes a chunked body incrementally from a byte buffer.
#[derive(Debug)]
pub struct ChunkedDecoder {
    state: State,
    /// Bytes consumed on the current size line (or trailer section), for the length limit.
    line_len: usize,
    /// The longest size line (and trailer section) accepted.
    max_line: usize,
}

impl ChunkedDecoder {
    /// A decoder that rejects size lines and trailer sections longer than `max_line` bytes.
    pub fn new(max_line: usize) -> Self {
        ChunkedDecoder {
            state: State::Size { size: 0, digits: 0 },
            line_len: 0,
            max_line,
        }
    }

    /// Whether the whole body, trailers included, has been decoded.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decodes the next piece of the body from the front of `buf`.
    ///
    /// `Ok(None)` means more bytes are needed. After [`Chunk::End`] the decoder consumes
    /// nothing more: any bytes left in `buf` belong to the next request.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Chunk>, ParseError> {
        loop {
            match self.state {
                State::Data { remaining } => return Ok(self.data(buf, remaining)),
                State::Trailers => return self.trailers(buf),
                State::Done => return Ok(Some(Chunk::End)),
                _ => {}
            }
            let Some(&byte) = buf.first() else {
                return Ok(None);
            };
            buf.advance(1);
            self.line_len += 1;
            if self.line_len > self.max_line {
                return Err(ParseError::ChunkLineTooLong);
            }
            self.state = self.step(byte)?;
        }
    }

    /// One byte of the size line or of the CRLF after data.
    fn step(&mut self, byte: u8) -> Result<State, ParseError> {
        match self.state {
            State::Size { size, digits } => size_digit(size, digits, byte),
            State::SizeSpace { size } => match byte {
                b' ' | b'\t' => Ok(State::SizeSpace { size }),
                b';' => Ok(State::Extension { size }),
                _ => Err(ParseError::ChunkSize),
            },
            State::Extension { size } => match byte {
                b'\r' => Ok(State::SizeLf { size }),
                b'\t' | b' '..=b'~' | 0x80..=0xff => Ok(State::Extension { size }),
                _ => Err(ParseError::ChunkExtension),
            },
            State::SizeLf { size } => match byte {
                b'\n' => Ok(self.end_size_line(size)),
                _ => Err(ParseError::ChunkSize),
            },
            State::DataCr if byte == b'\r' => Ok(State::DataLf),
            State::DataLf if byte == b'\n' => {
                self.line_len = 0;
                Ok(State::Size { size: 0, digits: 0 })
            }
            State::DataCr | State::DataLf => Err(ParseError::ChunkDataEnd),
            State::Data { .. } | State::Trailers | State::Done => {
                unreachable!("decode handles data, trailers and done before stepping")
            }
        }
    }

    fn end_size_line(&mut self, size: u64) -> State {
        self.line_len = 0;
        match size {
            0 => State::Trailers,
            remaining => State::Data { remaining },
        }
    }

    fn data(&mut self, buf: &mut BytesMut, remaining: u64) -> Option<Chunk> {
        if buf.is_empty() {
            return None;
        }
        let take = usize::try_from(remaining)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let left = remaining - take as u64;
        self.state = if left == 0 {
            State::DataCr
        } else {
            State::Data { remaining: left }
        };
        Some(Chunk::Data(buf.split_to(take).freeze()))
    }

    fn trailers(&mut self, buf: &mut BytesMut) -> Result<Option<Chunk>, ParseError> {
        let mut fields = [httparse::EMPTY_HEADER; 32];
        match httparse::parse_headers(buf, &mut fields) {
            Ok(httparse::Status::Complete((len, fields))) => {
                if len > self.max_line {
                    return Err(ParseError::ChunkLineTooLong);
                }
                let trailers = trailer_map(fields)?;
                buf.advance(len);
                self.state = State::Done;
                Ok(Some(match trailers.is_empty() {
                    true => Chunk::End,
                    false => Chunk::Trailers(trailers),
                }))
            }
            Ok(httparse::Status::Partial) if buf.len() > self.max_line => {
                Err(ParseError::ChunkLineTooLong)
            }
            Ok(httparse::Status::Partial) => Ok(None),
            Err(_) => Err(ParseError::Trailer),
        }
    }
}

fn size_digit(size: u64, digits: u8, byte: u8) -> Result<State, ParseError> {
    let value = match byte {
        b'0'..=b'9' => byte - b'0',
        b'a'..=b'f' => byte - b'a' + 10,
        b'A'..=b'F' => byte - b'A' + 10,
        // At least one digit must come before anything else.
        _ if digits == 0 => return Err(ParseError::ChunkSize),
        b'\r' => return Ok(State::SizeLf { size }),
        b';' => return Ok(State::Extension { size }),
        b' ' | b'\t' => return Ok(State::SizeSpace { size }),
        _ => return Err(ParseError::ChunkSize),
    };
    if size > (u64::MAX >> 4) {
        return Err(ParseError::ChunkSizeOverflow);
    }
    Ok(State::Size {
        size: (size << 4) | u64::from(value),
        digits: digits.saturating_add(1),
    })
}

fn trailer_map(fields: &[httparse::Header<'_>]) -> Result<HeaderMap, ParseError> {
    let mut trailers = HeaderMap::new();
    for field in fields {
        let name =
            HeaderName::from_bytes(field.name.as_bytes()).map_err(|_| ParseError::Trailer)?;
        let value = HeaderValue::from_bytes(field.value).map_err(|_| ParseError::Trailer)?;
        trailers.append(name, value);
    }
    Ok(trailers)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes a whole body, returning the data and whether trailers were seen.
    fn decode_all(input: &[u8]) -> Result<(Vec<u8>, Option<HeaderMap>, usize), ParseError> {
        let mut buf = BytesMut::from(input);
        let mut decoder = ChunkedDecoder::new(4096);
        let mut data = Vec::new();
        let mut trailers = None;
        loop {
            match decoder.decode(&mut buf)? {
                Some(Chunk::Data(bytes)) => data.extend_from_slice(&bytes),
                Some(Chunk::Trailers(map)) => trailers = Some(map),
                Some(Chunk::End) => return Ok((data, trailers, buf.len())),
                None => return Err(ParseError::ChunkDataEnd),
            }
        }
    }

    #[test]
    fn valid_bodies_decode() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"0\r\n\r\n", b""),
            (b"5\r\nhello\r\n0\r\n\r\n", b"hello"),
            (b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", b"hello world"),
            (b"A\r\n0123456789\r\n0\r\n\r\n", b"0123456789"),
            (b"a\r\n0123456789\r\n0000\r\n\r\n", b"0123456789"),
            (b"5;name=value\r\nhello\r\n0\r\n\r\n", b"hello"),
            (
                b"5 ; name=\"quoted; value\"\r\nhello\r\n0;last\r\n\r\n",
                b"hello",
            ),
            (b"005\r\nhello\r\n0\r\n\r\n", b"hello"),
        ];
        for (input, expected) in cases {
            let (data, trailers, rest) = decode_all(input).expect("valid chunked body");
            assert_eq!(&data[..], *expected, "{:?}", String::from_utf8_lossy(input));
            assert!(trailers.is_none());
            assert_eq!(rest, 0);
        }
    }

    #[test]
    fn trailers_are_delivered() {
        let (data, trailers, _) =
            decode_all(b"3\r\nabc\r\n0\r\nExpires: never\r\nX-Sum: 1\r\n\r\n").expect("valid");
        assert_eq!(data, b"abc");
        let trailers = trailers.expect("trailers");
        assert_eq!(trailers["expires"], "never");
        assert_eq!(trailers["x-sum"], "1");
    }

    #[test]
    fn bytes_after_the_body_are_left_for_the_next_request() {
        let (_, _, rest) = decode_all(b"1\r\na\r\n0\r\n\r\nGET / HTTP/1.1\r\n").expect("valid");
        assert_eq!(rest, b"GET / HTTP/1.1\r\n".len());
    }

    #[test]
    fn invalid_bodies_are_rejected() {
        let cases: &[(&[u8], ParseError)] = &[
            (b"\r\nhello\r\n0\r\n\r\n", ParseError::ChunkSize),
            (b"5 \r\nhello\r\n0\r\n\r\n", ParseError::ChunkSize),
            (b" 5\r\nhello\r\n0\r\n\r\n", ParseError::ChunkSize),
            (b"+5\r\nhello\r\n0\r\n\r\n", ParseError::ChunkSize),
            (b"-5\r\nhello\r\n0\r\n\r\n", ParseError::ChunkSize),
            (b"0x5\r\nhello\r\n0\r\n\r\n", ParseError::ChunkSize),
            (b"g\r\n", ParseError::ChunkSize),
            (b"5\nhello\r\n0\r\n\r\n", ParseError::ChunkSize),
            (b"5\r\nhelloX\r\n0\r\n\r\n", ParseError::ChunkDataEnd),
            (b"5\r\nhello\n0\r\n\r\n", ParseError::ChunkDataEnd),
            (b"10000000000000000\r\n", ParseError::ChunkSizeOverflow),
            (b"ffffffffffffffffff\r\n", ParseError::ChunkSizeOverflow),
            (
                b"5;a\x00b\r\nhello\r\n0\r\n\r\n",
                ParseError::ChunkExtension,
            ),
            (b"5;a\nb\r\nhello\r\n0\r\n\r\n", ParseError::ChunkExtension),
            (b"0\r\nBad Trailer\r\n\r\n", ParseError::Trailer),
        ];
        for (input, expected) in cases {
            let got = decode_all(input).map(|_| ());
            assert_eq!(got, Err(*expected), "{:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn long_size_lines_are_rejected() {
        let mut input = b"5;".to_vec();
        input.extend(std::iter::repeat_n(b'x', 5000));
        let mut decoder = ChunkedDecoder::new(4096);
        let got = decoder.decode(&mut BytesMut::from(&input[..]));
        assert_eq!(got, Err(ParseError::ChunkLineTooLong));
    }

    #[test]
    fn decoding_byte_by_byte_matches_decoding_at_once() {
        let input = b"5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nX-A: b\r\n\r\n";
        let mut decoder = ChunkedDecoder::new(4096);
        let mut buf = BytesMut::new();
        let mut data = Vec::new();
        let mut ended = false;
        for &byte in input.iter() {
            buf.extend_from_slice(&[byte]);
            while let Some(chunk) = decoder.decode(&mut buf).expect("valid") {
                match chunk {
                    Chunk::Data(bytes) => data.extend_from_slice(&bytes),
                    Chunk::Trailers(_) => {}
                    Chunk::End => {
                        ended = true;
                        break;
                    }
                }
            }
        }
        assert!(ended);
        assert_eq!(data, b"hello world");
    }
}
