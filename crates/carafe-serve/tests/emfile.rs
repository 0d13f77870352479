//! The accept loop under descriptor exhaustion (`EMFILE`): it backs off instead of
//! spinning, and serves again once descriptors are free.
//!
//! The server runs in a child process (this test binary started again with
//! `CARAFE_EMFILE_CHILD` set), which lowers its own `RLIMIT_NOFILE` so that a few
//! connections exhaust it; the test opens more connections than that, measures the child's
//! CPU time from `/proc/<pid>/stat`, closes the connections, and checks the server answers.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use carafe_serve::{Request, Response};
use support::*;

/// Set in the child's environment: run the server instead of the test.
const CHILD_VAR: &str = "CARAFE_EMFILE_CHILD";
/// Connections the child can accept before it runs out of descriptors.
const SPARE_DESCRIPTORS: u64 = 6;
/// The unit of `utime` and `stime` in `/proc/<pid>/stat`: `USER_HZ`, which the kernel
/// fixes at 100 for user space on x86_64 and aarch64 whatever its internal tick rate.
const USER_HZ: u64 = 100;

async fn app(_req: Request) -> Response {
    answer(200, "still here")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_loop_survives_descriptor_exhaustion() {
    if std::env::var_os(CHILD_VAR).is_some() {
        return run_child_server().await;
    }
    let child = Command::new(std::env::current_exe().expect("current exe"))
        .args([
            "accept_loop_survives_descriptor_exhaustion",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_VAR, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the child server");
    let mut child = KillOnDrop(child);
    let stderr = child.0.stderr.take().expect("piped stderr");
    let (port, limit) = tokio::task::spawn_blocking(move || read_child_banner(stderr))
        .await
        .expect("banner reader")
        .expect("the child printed its port and limit");
    let pid = child.0.id();

    // More connections than the child has descriptors: it accepts a few, then `accept`
    // fails with EMFILE while the rest wait in the listen queue.
    let mut clients = Vec::new();
    for _ in 0..40 {
        clients.push(Client::connect(([127, 0, 0, 1], port).into()).await);
    }
    let exhausted = wait_until(Duration::from_secs(3), || open_descriptors(pid) >= limit).await;
    assert!(
        exhausted,
        "the child has {} of {limit} descriptors open",
        open_descriptors(pid)
    );
    let last = clients.last_mut().expect("40 clients");
    last.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
    let queued = last.read_response(false, Duration::from_millis(300)).await;
    assert!(
        queued.is_err(),
        "the last connection was served despite exhaustion: {queued:?}"
    );

    let before = cpu_ticks(pid);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let used = cpu_ticks(pid) - before;
    assert!(
        used * 1000 / USER_HZ < 250,
        "the exhausted server used {}0 ms of CPU in 1 s",
        used
    );

    // Free the descriptors: the server notices the closed connections, then accepts again.
    drop(clients);
    let mut served = false;
    for _ in 0..20 {
        let Ok(Ok(stream)) = tokio::time::timeout(
            Duration::from_secs(1),
            tokio::net::TcpStream::connect(("127.0.0.1", port)),
        )
        .await
        else {
            continue;
        };
        let mut client = Client::from_stream(stream);
        client.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
        if let Ok(resp) = client
            .read_response(false, Duration::from_millis(500))
            .await
        {
            assert_eq!((resp.status, resp.text().as_str()), (200, "still here"));
            served = true;
            break;
        }
    }
    assert!(
        served,
        "the server did not recover once descriptors were free"
    );
}

/// The child: serves on an ephemeral port with a descriptor limit a few above what it
/// uses, prints `PORT LIMIT` on stderr, and exits after 30 s at the latest.
async fn run_child_server() {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let mut config = quick_config();
    // Long deadlines, so that only closing a connection frees its descriptor.
    config.timeouts.header_read = Duration::from_secs(30);
    config.timeouts.idle = Duration::from_secs(30);
    let server = start_server(app, config).await;
    let limit = highest_descriptor() + 1 + SPARE_DESCRIPTORS;
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit");
    setrlimit(Resource::RLIMIT_NOFILE, limit, hard).expect("setrlimit");
    // Inherited descriptors leave gaps below the limit: fill every free slot, then free
    // exactly the spare ones.
    let mut fillers = Vec::new();
    while let Ok(file) = std::fs::File::open("/dev/null") {
        fillers.push(file);
    }
    let spare = usize::try_from(SPARE_DESCRIPTORS).expect("small");
    assert!(
        fillers.len() >= spare,
        "only {} free descriptors",
        fillers.len()
    );
    fillers.truncate(fillers.len() - spare);
    eprintln!("EMFILE_CHILD {} {limit}", server.addr.port());
    tokio::time::sleep(Duration::from_secs(30)).await;
}

/// Reads the child's stderr until its `EMFILE_CHILD PORT LIMIT` line.
fn read_child_banner(stderr: std::process::ChildStderr) -> Option<(u16, u64)> {
    for line in BufReader::new(stderr).lines() {
        let line = line.ok()?;
        if let Some(rest) = line.strip_prefix("EMFILE_CHILD ") {
            let (port, limit) = rest.split_once(' ')?;
            return Some((port.parse().ok()?, limit.parse().ok()?));
        }
    }
    None
}

/// The highest descriptor number this process has open.
fn highest_descriptor() -> u64 {
    std::fs::read_dir("/proc/self/fd")
        .expect("list /proc/self/fd")
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u64>().ok())
        .max()
        .unwrap_or(2)
}

/// How many descriptors process `pid` has open.
fn open_descriptors(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| dir.count() as u64)
        .unwrap_or(0)
}

/// User plus system CPU time of process `pid` (all threads), in `USER_HZ` ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read the child's stat");
    // Fields after `pid (comm) `: state is field 3, utime field 14, stime field 15.
    let after_comm = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = after_comm.split(' ').collect();
    let utime: u64 = fields[11].parse().expect("utime");
    let stime: u64 = fields[12].parse().expect("stime");
    utime + stime
}

/// Kills the child (by its pid, `Child::kill`) and reaps it when the test ends, however
/// it ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
