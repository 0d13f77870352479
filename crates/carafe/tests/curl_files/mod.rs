//! curl as the client of the response tests (`responses.rs`, `files.rs`,
//! `compression.rs`): each call runs the real `curl` binary against the test server and
//! returns the status, the headers of the last response and the body, read back from a
//! file so that binary bodies survive.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A response as curl received it.
#[derive(Debug)]
pub struct CurlReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl CurlReply {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A fresh scratch path under the system's temporary folder.
pub fn scratch_path(what: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("carafe-{what}-{}-{n}", std::process::id()))
}

/// Runs `curl -s -S -D - -o BODY args...` and parses what it printed.
pub async fn curl(args: &[&str]) -> CurlReply {
    let body_path = scratch_path("curl-body");
    let output = tokio::process::Command::new("curl")
        .args(["-s", "-S", "--max-time", "20", "-D", "-", "-o"])
        .arg(&body_path)
        .args(args)
        .output()
        .await
        .expect("curl is installed (apt-get install curl)");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let body = std::fs::read(&body_path).unwrap_or_default();
    let _ = std::fs::remove_file(&body_path);
    assert!(
        output.status.success() || !stdout.is_empty(),
        "curl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (status, headers) = last_head(&stdout);
    CurlReply {
        status,
        headers,
        body,
    }
}

/// The status and headers of the last head in curl's `-D -` output.
fn last_head(dump: &str) -> (u16, Vec<(String, String)>) {
    let head = dump
        .split("\r\n\r\n")
        .filter(|block| block.starts_with("HTTP/"))
        .last()
        .unwrap_or_else(|| panic!("no response head in {dump:?}"));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .expect("a status code");
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    (status, headers)
}
