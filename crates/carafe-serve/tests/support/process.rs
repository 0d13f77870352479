//! Helpers for the process-level tests: start the `serve_hello` example, read its banner,
//! find its workers, signal them, and make sure every process a test started is killed
//! (by pid) when the test ends, even if it fails.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// The path of an example binary built beside this test binary
/// (`target/<profile>/examples/<name>`; `cargo test` builds the examples).
pub fn example_binary(name: &str) -> PathBuf {
    let test_exe = std::env::current_exe().expect("current exe");
    let profile_dir = test_exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo test -p carafe-serve` (which builds the examples) or \
         `cargo build -p carafe-serve --example {name}` first",
        path.display()
    );
    path
}

/// A started `serve_hello` process; killed with its workers when dropped.
pub struct ServerProcess {
    /// The process we started.
    pub child: Child,
    /// Everything it (and its workers) wrote to standard error so far.
    stderr: Arc<Mutex<String>>,
}

impl ServerProcess {
    /// Starts `serve_hello` with `args`, with its standard error collected.
    pub fn start(args: &[&str]) -> ServerProcess {
        let mut child = Command::new(example_binary("serve_hello"))
            .args(args)
            .env_remove("CARAFE_SERVE_FD")
            .env_remove("CARAFE_SERVE_PARENT")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start serve_hello");
        let stderr = Arc::new(Mutex::new(String::new()));
        let pipe = child.stderr.take().expect("piped stderr");
        let sink = Arc::clone(&stderr);
        // Drains the pipe until every writer (the server and its workers) is gone, so no
        // process ever blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                let mut text = sink
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                text.push_str(&line);
                text.push('\n');
            }
        });
        ServerProcess { child, stderr }
    }

    /// The pid of the process we started.
    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).expect("pid fits in i32")
    }

    /// What the process and its workers wrote to standard error so far.
    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Waits for the banner line ` * Running on http://127.0.0.1:PORT` and returns PORT.
    pub async fn port(&self) -> u16 {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let text = self.stderr();
            let port = text
                .lines()
                .find_map(|line| line.strip_prefix(" * Running on http://127.0.0.1:"))
                .and_then(|port| port.trim().parse().ok());
            if let Some(port) = port {
                return port;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no banner within 10 s; stderr:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends `signal` to the process we started.
    pub fn signal(&self, signal: Signal) {
        kill(Pid::from_raw(self.pid()), signal).expect("signal the server");
    }

    /// Waits up to `wait` for the process to exit.
    pub async fn exit_within(&mut self, wait: Duration) -> Option<ExitStatus> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The live (not zombie) child processes of the process we started.
    pub fn workers(&self) -> Vec<i32> {
        children_of(self.pid())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let workers = self.workers();
        let _ = self.child.kill();
        let _ = self.child.wait();
        for pid in workers {
            // Only our own binary: the pid was a child of the server a moment ago.
            if is_serve_hello(pid) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
    }
}

/// The processes whose parent is `parent`, skipping zombies.
pub fn children_of(parent: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(
            |&pid| matches!(stat_of(pid), Some((state, ppid)) if ppid == parent && state != 'Z'),
        )
        .collect()
}

/// Whether `pid` is a live process (not a zombie).
pub fn is_alive(pid: i32) -> bool {
    matches!(stat_of(pid), Some((state, _)) if state != 'Z')
}

/// Whether `pid` runs the `serve_hello` example.
pub fn is_serve_hello(pid: i32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains("serve_hello"))
}

/// The state letter and parent pid from `/proc/<pid>/stat`.
fn stat_of(pid: i32) -> Option<(char, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid ...`; comm may contain spaces and parentheses.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ');
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}
