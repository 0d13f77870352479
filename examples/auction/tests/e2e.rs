//! End to end: the built `auction` server on a free loopback port with a temporary data
//! folder, driven by headless Chromium (`e2e/auction.spec.mjs`, playwright-core on
//! `/usr/bin/chromium`), then stopped and started again on the same folder.
//!
//! Needs `make e2e-deps` (Chromium from apt, the npm packages in
//! `examples/auction/node_modules`). Screenshots go to `target/e2e-artifacts/`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const CRATE_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// Fails with the command that installs what is missing.
fn require_e2e_deps() {
    let node_modules = Path::new(CRATE_DIR).join("node_modules");
    let missing: Vec<String> = [
        Path::new("/usr/bin/chromium").to_path_buf(),
        node_modules.join("playwright-core/package.json"),
        node_modules.join("socket.io-client/dist/socket.io.min.js"),
    ]
    .into_iter()
    .filter(|path| !path.exists())
    .map(|path| path.display().to_string())
    .collect();
    assert!(
        missing.is_empty(),
        "missing {}: run `make e2e-deps` (apt Chromium, npm ci --prefix examples/auction)",
        missing.join(", ")
    );
}

/// Where screenshots go: the workspace's `target/e2e-artifacts/`.
fn artifacts_dir() -> PathBuf {
    Path::new(CRATE_DIR).join("../../target/e2e-artifacts")
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

/// The running server; stopped (SIGTERM, then waited for) on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(data: &Path, port: u16, demo: bool) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_auction"));
        command
            .arg("--data")
            .arg(data)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--no-access-log", "--no-reload"])
            .env("RUST_LOG", "warn")
            .env_remove("CARAFE_SECRET_KEY")
            .stdout(Stdio::null());
        if !demo {
            command.arg("--no-demo");
        }
        let child = command.spawn().expect("start the auction server");
        let server = Server { child, port };
        server.wait_ready();
        server
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the server did not listen on port {} in time", self.port);
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops the server as Ctrl-C would and waits for it to exit.
    fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate();
        }
    }
}

/// Runs a phase of the Chromium script; its stdout's last line is JSON.
fn browser_phase(args: &[&str]) -> serde_json::Value {
    let script = Path::new(CRATE_DIR).join("e2e/auction.spec.mjs");
    let output: Output = Command::new("node")
        .arg(script)
        .args(args)
        .current_dir(CRATE_DIR)
        .output()
        .expect("run node (is Node.js installed?)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the browser phase {args:?} failed:\n{stderr}\n{stdout}"
    );
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|error| panic!("not JSON ({error}): {stdout}"))
}

/// `GET path` with `Connection: close`; the whole answer as text.
fn http_get(port: u16, path: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    answer
}

#[test]
fn two_browsers_bid_live_and_a_restart_loses_nothing() {
    require_e2e_deps();
    let data = tempfile::tempdir().expect("temp data dir");
    let artifacts = artifacts_dir();
    let artifacts = artifacts.to_string_lossy();
    let port = free_port();

    let server = Server::start(data.path(), port, false);
    let outcome = browser_phase(&["auction", &server.base(), &artifacts]);
    eprintln!("auction phase: {outcome}");
    let timings = outcome["timings"].as_array().expect("timings");
    assert_eq!(timings.len(), 3);
    for timing in timings {
        let spread = timing["ackToOtherPageMs"].as_f64().expect("a number");
        assert!(spread < 100.0, "the other page lagged the ack: {timing}");
    }
    server.stop();

    let server = Server::start(data.path(), port, false);
    let state = outcome.to_string();
    let after = browser_phase(&["restart", &server.base(), &artifacts, &state]);
    assert_eq!(after["restartedRows"], 3);
    server.stop();
}

#[test]
fn demo_items_are_seeded_once_and_survive_a_restart() {
    let data = tempfile::tempdir().expect("temp data dir");
    let port = free_port();
    let server = Server::start(data.path(), port, true);
    let home = http_get(port, "/");
    assert!(home.starts_with("HTTP/1.1 200"), "{home}");
    let links = home.matches("href=\"/items/").count();
    assert_eq!(links, 4, "four demo items on the home page");
    server.stop();

    let server = Server::start(data.path(), port, true);
    let home = http_get(port, "/");
    assert_eq!(
        home.matches("href=\"/items/").count(),
        4,
        "not seeded twice"
    );
    let item = http_get(port, "/items/1");
    assert!(
        item.contains("demo-bidder"),
        "the demo bid survives: {item}"
    );
    server.stop();

    let empty = tempfile::tempdir().expect("temp data dir");
    let server = Server::start(empty.path(), free_port(), false);
    let home = http_get(server.port, "/");
    assert!(
        home.contains("Nothing for sale yet"),
        "--no-demo seeds nothing"
    );
    server.stop();
}
