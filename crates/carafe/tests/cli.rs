//! The command line of a real carafe program: the `hello` example started with flags and
//! environment variables, answering over loopback (curl for HTTPS), and its `routes`
//! subcommand.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The `hello` example beside this test binary (`cargo test -p carafe` builds it).
fn hello() -> PathBuf {
    let test_exe = std::env::current_exe().expect("current exe");
    let profile = test_exe.ancestors().nth(2).expect("target/<profile>");
    let path = profile.join("examples/hello");
    assert!(
        path.exists(),
        "{} is missing: run `cargo test -p carafe` (which builds the examples) or \
         `cargo build -p carafe --example hello`",
        path.display()
    );
    path
}

/// `hello` with none of the variables that would change its options, and none that
/// `cargo test` sets for this test (the reloader would watch `CARGO_MANIFEST_DIR`).
fn command(args: &[&str]) -> Command {
    let mut command = Command::new(hello());
    command.args(args).env_remove("CARGO_MANIFEST_DIR");
    for (name, _) in std::env::vars() {
        if name.starts_with("CARAFE_") {
            command.env_remove(name);
        }
    }
    command
}

fn run_to_end(command: &mut Command) -> Output {
    command.stdin(Stdio::null()).output().expect("run hello")
}

/// A running `hello`; killed when dropped (its reloader child, if any, gets `SIGTERM`
/// from the kernel when its parent dies).
struct Server {
    child: Child,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    fn start(mut command: Command) -> Server {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start hello");
        let stderr = Arc::new(Mutex::new(String::new()));
        let pipe = child.stderr.take().expect("piped");
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                let mut text = sink.lock().unwrap_or_else(|poison| poison.into_inner());
                text.push_str(&line);
                text.push('\n');
            }
        });
        Server { child, stderr }
    }

    fn stderr(&self) -> String {
        let text = self
            .stderr
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        text.clone()
    }

    /// Waits for ` * Running on SCHEME://127.0.0.1:PORT` and returns PORT.
    fn port(&self, scheme: &str) -> u16 {
        let prefix = format!(" * Running on {scheme}://127.0.0.1:");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = self.stderr();
            let port = text
                .lines()
                .find_map(|line| line.strip_prefix(&prefix))
                .and_then(|port| port.trim().parse().ok());
            if let Some(port) = port {
                return port;
            }
            assert!(Instant::now() < deadline, "no {prefix:?} banner:\n{text}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    /// `SIGTERM` first, so the server removes what it made (an adhoc certificate), then
    /// `SIGKILL` if it has not stopped within a few seconds.
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET path` on a new connection; the body of a 200 answer.
fn get(port: u16, path: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut stream = loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(stream) => break stream,
            Err(error) => {
                assert!(Instant::now() < deadline, "cannot connect: {error}");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head");
    assert!(head.starts_with("HTTP/1.1 200 "), "{answer}");
    body.to_owned()
}

#[test]
fn routes_prints_the_url_map_like_flask_routes() {
    let output = run_to_end(&mut command(&["routes"]));
    assert!(output.status.success());
    let table = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines[0], "Endpoint  Methods  Rule", "{table}");
    assert!(lines[1].starts_with("--------  -------  ---"), "{table}");
    // Sorted by endpoint, as Flask sorts by default.
    assert_eq!(
        &lines[2..],
        [
            "echo      POST     /echo",
            "index     GET      /",
            "item      GET      /items/<int:id>",
            "json      GET      /json",
        ],
        "{table}"
    );
    let output = run_to_end(&mut command(&[
        "routes",
        "--sort",
        "match",
        "--all-methods",
    ]));
    let table = String::from_utf8_lossy(&output.stdout);
    let rules: Vec<&str> = table.lines().skip(2).collect();
    assert_eq!(rules[0], "index     GET, HEAD, OPTIONS  /", "{table}");
    assert_eq!(rules[2], "echo      OPTIONS, POST       /echo", "{table}");
}

#[test]
fn flags_set_the_port_and_turn_the_access_log_off() {
    let server = Server::start(command(&[
        "--port",
        "0",
        "--workers",
        "1",
        "--no-access-log",
    ]));
    let port = server.port("http");
    assert_eq!(get(port, "/"), "Hello, World!");
    assert_eq!(get(port, "/items/7"), "item 7");
    std::thread::sleep(Duration::from_millis(200));
    assert!(!server.stderr().contains("\"GET /"), "{}", server.stderr());
}

#[test]
fn environment_variables_stand_in_for_flags() {
    let mut env_command = command(&[]);
    env_command
        .env("CARAFE_RUN_HOST", "127.0.0.1")
        .env("CARAFE_RUN_PORT", "0");
    let server = Server::start(env_command);
    let port = server.port("http");
    assert_eq!(get(port, "/"), "Hello, World!");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !server.stderr().contains("\"GET / HTTP/1.1\" 200") {
        assert!(
            Instant::now() < deadline,
            "no access line:\n{}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(server);

    let mut quiet = command(&[]);
    quiet
        .env("CARAFE_RUN_PORT", "0")
        .env("CARAFE_RUN_NO_ACCESS_LOG", "true");
    let server = Server::start(quiet);
    let port = server.port("http");
    assert_eq!(get(port, "/"), "Hello, World!");
    std::thread::sleep(Duration::from_millis(200));
    assert!(!server.stderr().contains("\"GET /"), "{}", server.stderr());
}

#[test]
fn cert_adhoc_serves_https_that_curl_verifies() {
    let server = Server::start(command(&["--port", "0", "--cert", "adhoc"]));
    let port = server.port("https");
    let text = server.stderr();
    let cert = text
        .lines()
        .find_map(|line| {
            line.split_once("::1: ")
                .map(|(_, path)| path.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no certificate path in the banner:\n{text}"));
    let output = Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--max-time",
            "10",
            "--cacert",
            &cert,
        ])
        .arg(format!("https://localhost:{port}/json"))
        .output()
        .expect("curl is installed");
    let body = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(body, r#"{"message":"Hello, World!"}"#);
    drop(server);
    assert!(
        !PathBuf::from(&cert).exists(),
        "{cert} is left behind after a stop"
    );
}

#[test]
fn debug_turns_the_reloader_on_and_no_reload_turns_it_off() {
    // Without CARGO_MANIFEST_DIR or --watch the reloader cannot know what to rebuild: it
    // says so and the app is served all the same.
    let server = Server::start(command(&["--port", "0", "--debug"]));
    let port = server.port("http");
    assert_eq!(get(port, "/"), "Hello, World!");
    assert!(
        server.stderr().contains("serving without the reloader"),
        "{}",
        server.stderr()
    );
    drop(server);

    let server = Server::start(command(&["--port", "0", "--debug", "--no-reload"]));
    let port = server.port("http");
    assert_eq!(get(port, "/"), "Hello, World!");
    let text = server.stderr();
    assert!(
        !text.contains("reloader") && !text.contains("Restarting"),
        "{text}"
    );
    drop(server);

    // With a directory to watch, the reloader runs and its child serves.
    let watched = std::env::temp_dir().join(format!("carafe-cli-watch-{}", std::process::id()));
    std::fs::create_dir_all(&watched).expect("watch dir");
    let mut debug_env = command(&["--port", "0", "--watch"]);
    debug_env.arg(&watched).env("CARAFE_DEBUG", "true");
    let server = Server::start(debug_env);
    let port = server.port("http");
    assert_eq!(get(port, "/"), "Hello, World!");
    let text = server.stderr();
    assert!(
        text.contains(" * Restarting with cargo build (watching"),
        "{text}"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&watched);
}

#[test]
fn bad_options_exit_with_status_2_and_a_reason() {
    for (args, reason) in [
        (
            &["--cert", "adhoc", "--key", "key.pem"][..],
            "--key goes with --cert FILE",
        ),
        (&["--key", "key.pem"], "--cert"),
        (&["--port", "70000"], "70000"),
        (&["--bogus"], "--bogus"),
    ] {
        let output = run_to_end(&mut command(args));
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(reason), "{args:?}: {stderr}");
    }
}

#[test]
fn a_missing_certificate_file_is_a_startup_error_naming_it() {
    let output = run_to_end(&mut command(&[
        "--port",
        "0",
        "--cert",
        "/nonexistent/site.pem",
    ]));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/nonexistent/site.pem"), "{stderr}");
}
