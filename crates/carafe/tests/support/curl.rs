//! curl as a test client: each call runs the real `curl` binary against a test server
//! and returns the status, the headers of the last response (after an interim `100
//! Continue` or redirects) and the body, read back from a file so that binary bodies
//! survive.
//!
//! [`curl`] takes curl's arguments with the URL among them; [`curl_at`] builds the URL
//! from an address and a path and runs in a scratch folder, for arguments that name files
//! there (a cookie jar, `-F file=@name`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A response as curl received it.
#[derive(Debug)]
pub struct CurlReply {
    pub status: u16,
    /// The last response's header lines, names as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl CurlReply {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_all(name).into_iter().next()
    }

    /// Every value of header `name` (case-insensitive), in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
            .collect()
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
    run(args, None).await
}

/// Runs `curl -s -S args... http://addr<path>` in the folder `scratch`.
pub async fn curl_at(addr: SocketAddr, path: &str, args: &[&str], scratch: &Path) -> CurlReply {
    let url = format!("http://{addr}{path}");
    let mut all = args.to_vec();
    all.push(&url);
    run(&all, Some(scratch)).await
}

async fn run(args: &[&str], folder: Option<&Path>) -> CurlReply {
    let body_path = scratch_path("curl-body");
    let mut command = tokio::process::Command::new("curl");
    command
        .args(["-s", "-S", "--max-time", "20", "-D", "-", "-o"])
        .arg(&body_path)
        .args(args);
    if let Some(folder) = folder {
        command.current_dir(folder);
    }
    let output = command
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
