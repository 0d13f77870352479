//! The debug reloader, end to end: a scratch cargo package in a temporary directory that
//! depends on carafe-serve by path, built and started with `reload(true)` as `cargo run`
//! would start it. While a client sends request after request over loopback (a new
//! connection each), the test edits the source: the reloader rebuilds, the new answer
//! appears, and no request fails. Then a broken edit: the build fails, the compiler's
//! error is printed, and the old server goes on answering.
//!
//! The scratch package builds into `TARGET/reload-scratch` beside this test's own target
//! directory, with the workspace's `Cargo.lock`, offline: the first run compiles
//! carafe-serve's dependencies once; later runs reuse them.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use support::process::children_of;

const MAIN: &str = r#"
use carafe_serve::{run_simple, Body, Request, Response};

async fn app(_req: Request) -> Response {
    Response::new(Body::from("ANSWER"))
}

fn main() -> Result<(), carafe_serve::Error> {
    run_simple(app).port(0).access_log(false).reload(true).serve()
}
"#;

/// The scratch package: its directory and the target directory it builds into.
struct Scratch {
    dir: PathBuf,
    target: PathBuf,
}

impl Scratch {
    fn create() -> Scratch {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let serve = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = std::env::temp_dir().join(format!("carafe-reload-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("src")).expect("scratch dir");
        let manifest = format!(
            "[package]\nname = \"reload-scratch\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [dependencies]\ncarafe-serve = {{ path = {:?} }}\n\n[workspace]\n",
            serve.display().to_string()
        );
        std::fs::write(dir.join("Cargo.toml"), manifest).expect("manifest");
        std::fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock")).expect("lock file");
        let test_exe = std::env::current_exe().expect("current exe");
        // TARGET/PROFILE/deps/reload-HASH
        let target = test_exe
            .ancestors()
            .nth(3)
            .expect("the test's target directory")
            .join("reload-scratch");
        let scratch = Scratch { dir, target };
        scratch.write_main("v1");
        scratch
    }

    fn write_main(&self, answer: &str) {
        let source = MAIN.replace("ANSWER", answer);
        std::fs::write(self.dir.join("src/main.rs"), source).expect("write main.rs");
    }

    fn break_main(&self) {
        let source = MAIN.replace("ANSWER", "v3") + "\nfn broken( {\n";
        std::fs::write(self.dir.join("src/main.rs"), source).expect("write main.rs");
    }

    fn build(&self) {
        let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        command
            .args(["build", "--target-dir"])
            .arg(&self.target)
            .current_dir(&self.dir)
            .env("CARGO_NET_OFFLINE", "true");
        // The same environment as the reloader's own builds, which drop what `cargo run`
        // and `cargo test` set: build scripts that watch those variables (ring watches
        // `CARGO_PKG_NAME`) would otherwise run again on every build.
        for (name, _) in std::env::vars() {
            let from_cargo_test = name.starts_with("CARGO_PKG_")
                || name.starts_with("CARGO_BIN_EXE_")
                || [
                    "CARGO_MANIFEST_DIR",
                    "CARGO_MANIFEST_PATH",
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_CRATE_NAME",
                    "CARGO_TARGET_TMPDIR",
                ]
                .contains(&name.as_str());
            if from_cargo_test {
                command.env_remove(name);
            }
        }
        let status = command.status().expect("run cargo");
        assert!(status.success(), "the scratch package does not build");
    }

    fn binary(&self) -> PathBuf {
        self.target.join("debug/reload-scratch")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The reloader's parent process; it and its children are killed when dropped.
struct Reloader {
    child: Child,
    stderr: Arc<Mutex<String>>,
}

impl Reloader {
    fn start(scratch: &Scratch) -> Reloader {
        let mut child = Command::new(scratch.binary())
            // What `cargo run` sets; the reloader watches this directory.
            .env("CARGO_MANIFEST_DIR", &scratch.dir)
            .env("CARGO_NET_OFFLINE", "true")
            .env_remove("CARAFE_SERVE_FD")
            .env_remove("CARAFE_SERVE_PARENT")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the scratch server");
        let stderr = Arc::new(Mutex::new(String::new()));
        let pipe = child.stderr.take().expect("piped stderr");
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                let mut text = sink.lock().unwrap_or_else(|poison| poison.into_inner());
                text.push_str(&line);
                text.push('\n');
            }
        });
        Reloader { child, stderr }
    }

    fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone()
    }

    /// Waits until the standard error contains `needle`.
    fn wait_for_output(&self, needle: &str, within: Duration) {
        let deadline = Instant::now() + within;
        while !self.stderr().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "no {needle:?} within {within:?}; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn port(&self) -> u16 {
        self.wait_for_output(" * Running on http://127.0.0.1:", Duration::from_secs(20));
        let text = self.stderr();
        text.lines()
            .find_map(|line| line.strip_prefix(" * Running on http://127.0.0.1:"))
            .and_then(|port| port.trim().parse().ok())
            .expect("a port in the banner")
    }

    fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).expect("pid fits")
    }
}

impl Drop for Reloader {
    fn drop(&mut self) {
        let children = children_of(self.pid());
        let _ = self.child.kill();
        let _ = self.child.wait();
        for pid in children {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
}

/// One request on a new connection; the body, or what went wrong.
fn get(port: u16) -> Result<String, String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|error| error.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|error| error.to_string())?;
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .map_err(|error| error.to_string())?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|error| error.to_string())?;
    match answer.split_once("\r\n\r\n") {
        Some((head, body)) if head.starts_with("HTTP/1.1 200 ") => Ok(body.to_owned()),
        _ => Err(format!("unexpected answer {answer:?}")),
    }
}

/// Sends requests in a loop until stopped; collects the answers and the failures.
struct Load {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<Result<String, String>>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(port: u16) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (flag, sink) = (Arc::clone(&stop), Arc::clone(&seen));
        let thread = std::thread::spawn(move || {
            // Bounded: at most ten minutes of requests, one every 5 ms.
            let end = Instant::now() + Duration::from_secs(600);
            while !flag.load(Ordering::Relaxed) && Instant::now() < end {
                let answer = get(port);
                sink.lock()
                    .unwrap_or_else(|poison| poison.into_inner())
                    .push(answer);
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        Load {
            stop,
            seen,
            thread: Some(thread),
        }
    }

    fn last(&self) -> Option<Result<String, String>> {
        let seen = self
            .seen
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        seen.last().cloned()
    }

    fn wait_for_answer(&self, answer: &str, within: Duration, reloader: &Reloader) {
        let deadline = Instant::now() + within;
        while self.last() != Some(Ok(answer.to_owned())) {
            assert!(
                Instant::now() < deadline,
                "never answered {answer:?}; last {:?}; stderr:\n{}",
                self.last(),
                reloader.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn finish(mut self) -> Vec<Result<String, String>> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.join().expect("load thread");
        }
        let seen = self
            .seen
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        seen.clone()
    }
}

#[test]
fn a_source_change_reloads_without_refusing_a_connection_and_a_broken_build_keeps_serving() {
    let scratch = Scratch::create();
    scratch.build();
    let reloader = Reloader::start(&scratch);
    let port = reloader.port();
    reloader.wait_for_output(" * Restarting with cargo build", Duration::from_secs(5));
    assert_eq!(get(port), Ok("v1".to_owned()), "{}", reloader.stderr());
    let first_child = children_of(reloader.pid());
    assert_eq!(first_child.len(), 1, "one child serves: {first_child:?}");

    let load = Load::start(port);
    std::thread::sleep(Duration::from_millis(200));
    scratch.write_main("v2");
    load.wait_for_answer("v2", Duration::from_secs(300), &reloader);
    // The old child drains and exits; one child is left.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let children = children_of(reloader.pid());
        if children.len() == 1 && children != first_child {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the old child did not exit: {children:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    scratch.break_main();
    reloader.wait_for_output("still serving the previous build", Duration::from_secs(300));
    std::thread::sleep(Duration::from_millis(300));
    let seen = load.finish();

    eprintln!("{} requests during the test", seen.len());
    let failures: Vec<&String> = seen
        .iter()
        .filter_map(|answer| answer.as_ref().err())
        .collect();
    assert!(
        failures.is_empty(),
        "failed requests during the reload: {failures:?}"
    );
    let answers: Vec<&str> = seen.iter().filter_map(|a| a.as_deref().ok()).collect();
    assert!(
        answers.contains(&"v1") && answers.contains(&"v2"),
        "{answers:?}"
    );
    assert!(!answers.contains(&"v3"), "the broken build must not serve");
    assert_eq!(answers.last(), Some(&"v2"), "the old build still answers");
    let stderr = reloader.stderr();
    assert!(
        stderr.contains("error"),
        "the compiler's error is shown:\n{stderr}"
    );
    assert!(stderr.contains("Detected change in"), "{stderr}");
}
