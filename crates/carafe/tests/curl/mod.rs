//! Runs the real `curl` against a test server: the request-data tests (forms, multipart,
//! cookies, client addresses) use it as their client.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::path::Path;

use tokio::process::Command;

/// What curl saw: the final response's status, headers and body.
#[derive(Debug)]
pub struct CurlReply {
    pub status: u16,
    /// Header lines of the final response, names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl CurlReply {
    /// Every value of header `name`.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .collect()
    }
}

/// Runs `curl -sS <args> http://addr<path>` with its output in `scratch`, and reads
/// what came back. Panics with a clear message when curl is missing or fails to connect.
pub async fn curl(addr: SocketAddr, path: &str, args: &[&str], scratch: &Path) -> CurlReply {
    let headers = scratch.join("curl-headers");
    let body = scratch.join("curl-body");
    let url = format!("http://{addr}{path}");
    let output = Command::new("curl")
        .arg("-sS")
        .arg("--max-time")
        .arg("20")
        .arg("-D")
        .arg(&headers)
        .arg("-o")
        .arg(&body)
        .arg("-w")
        .arg("%{http_code}")
        .args(args)
        .arg(&url)
        .current_dir(scratch)
        .output()
        .await
        .expect("run curl (install it: apt-get install curl)");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "curl {args:?} {url} failed: {stderr}"
    );
    let status = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("curl prints the status code");
    let raw_headers = std::fs::read_to_string(&headers).unwrap_or_default();
    // With `Expect: 100-continue`, curl records the interim response too: keep the last.
    let last = raw_headers
        .split("\r\n\r\n")
        .filter(|block| !block.trim().is_empty())
        .last()
        .unwrap_or_default();
    let headers = last
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let body = String::from_utf8_lossy(&std::fs::read(&body).unwrap_or_default()).into_owned();
    CurlReply {
        status,
        headers,
        body,
    }
}
