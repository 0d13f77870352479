//! The ceiling: a tokio server that does not parse HTTP.
//!
//! It counts complete request heads (`\r\n\r\n`) in what it reads and writes
//! that many copies of one canned `200 OK` plaintext response in a single
//! write. Whatever the path or method, every request gets the plaintext
//! response. No real server can beat it on the same kernel and client, so a
//! server's throughput over canned's is the share of the ceiling it reaches.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use memchr::memmem;
use peer_common::{listen_addr, PLAINTEXT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TERMINATOR: &[u8] = b"\r\n\r\n";
const READ_BUF: usize = 16 * 1024;

/// Counts request-head terminators in a byte stream that arrives in pieces.
///
/// Occurrences do not overlap, as if the whole stream had been searched at
/// once, and a terminator split across reads is counted once, when its last
/// byte arrives.
#[derive(Debug, Default)]
struct HeadCounter {
    /// How many bytes of `TERMINATOR` the stream currently ends with (0..=3).
    matched: usize,
}

impl HeadCounter {
    fn feed(&mut self, data: &[u8]) -> usize {
        let mut count = 0;
        let mut i = 0;
        // Finish a terminator begun in an earlier read. On a mismatch the
        // byte is left for the search below: no proper suffix of a partial
        // terminator can restart a match there (see the tests).
        while self.matched > 0 && i < data.len() {
            if data[i] == TERMINATOR[self.matched] {
                self.matched += 1;
                i += 1;
                if self.matched == TERMINATOR.len() {
                    count += 1;
                    self.matched = 0;
                }
            } else {
                self.matched = 0;
            }
        }
        if i < data.len() {
            let rest = &data[i..];
            let mut end = 0;
            for at in memmem::find_iter(rest, TERMINATOR) {
                count += 1;
                end = at + TERMINATOR.len();
            }
            let tail = &rest[end..];
            self.matched = (1..TERMINATOR.len())
                .rev()
                .find(|&k| tail.ends_with(&TERMINATOR[..k]))
                .unwrap_or(0);
        }
        count
    }
}

thread_local! {
    /// The canned response, rebuilt by each worker thread when the second
    /// changes so that its `Date` header stays current.
    static RESPONSE: RefCell<(u64, Vec<u8>)> = const { RefCell::new((u64::MAX, Vec::new())) };
}

/// Fills `out` with `n` copies of the canned response.
fn canned(out: &mut Vec<u8>, n: usize) {
    let now = SystemTime::now();
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    RESPONSE.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.0 != secs {
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: text/plain\r\nDate: {}\r\n\r\n{}",
                PLAINTEXT.len(),
                httpdate::fmt_http_date(now),
                PLAINTEXT,
            );
            *cell = (secs, response.into_bytes());
        }
        out.clear();
        out.reserve(cell.1.len() * n);
        for _ in 0..n {
            out.extend_from_slice(&cell.1);
        }
    });
}

async fn serve(mut stream: TcpStream) -> std::io::Result<()> {
    let mut buf = vec![0u8; READ_BUF];
    let mut out = Vec::new();
    let mut heads = HeadCounter::default();
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        let requests = heads.feed(&buf[..n]);
        if requests > 0 {
            canned(&mut out, requests);
            stream.write_all(&out).await?;
        }
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind(listen_addr()).await?;
    eprintln!("canned listening on {}", listener.local_addr()?);
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(conn) => conn,
            Err(err) => {
                eprintln!("accept: {err}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve(stream));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(stream: &[u8]) -> usize {
        memmem::find_iter(stream, TERMINATOR).count()
    }

    /// Every way of cutting the stream into two or three reads counts the
    /// same as searching it whole.
    #[test]
    fn split_reads_count_like_one_read() {
        let streams: [&[u8]; 5] = [
            b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\n\r\n",
            b"\r\n\r\n\r\n\r\n\r\n",
            b"\r\r\n\r\r\n\r\n\n\r\n\r\r\n\r\n",
            b"x\r\n\rx\r\n\r\n\r",
            b"",
        ];
        for s in streams {
            for a in 0..=s.len() {
                for b in a..=s.len() {
                    let mut c = HeadCounter::default();
                    let got = c.feed(&s[..a]) + c.feed(&s[a..b]) + c.feed(&s[b..]);
                    assert_eq!(got, whole(s), "{:?} cut at {a},{b}", String::from_utf8_lossy(s));
                }
            }
        }
    }

    #[test]
    fn byte_at_a_time() {
        let s = b"GET / HTTP/1.1\r\n\r\nGET /json HTTP/1.1\r\nA: b\r\n\r\n";
        let mut c = HeadCounter::default();
        let got: usize = s.iter().map(|b| c.feed(std::slice::from_ref(b))).sum();
        assert_eq!(got, 2);
    }

    #[test]
    fn response_copies() {
        let mut out = Vec::new();
        canned(&mut out, 3);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches("HTTP/1.1 200 OK\r\n").count(), 3);
        assert!(text.contains("Content-Length: 13\r\n") && text.contains("Date: "));
        assert!(text.ends_with("\r\n\r\nHello, World!"));
    }
}
