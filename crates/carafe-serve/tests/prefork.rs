//! Prefork (`run_simple(..).processes(N)`) as processes: the workers share the listening
//! socket and each serves requests, a killed worker is replaced while requests keep
//! succeeding, and `SIGTERM` to the parent stops every worker gracefully.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use support::process::{is_alive, ServerProcess};
use support::*;

/// One request on a fresh connection: the pid of the worker that answered.
async fn answering_pid(port: u16) -> Result<i32, String> {
    let connect = tokio::net::TcpStream::connect(("127.0.0.1", port));
    let stream = tokio::time::timeout(Duration::from_secs(2), connect)
        .await
        .map_err(|_| "connect timed out".to_owned())?
        .map_err(|error| format!("connect: {error}"))?;
    let mut client = Client::from_stream(stream);
    client
        .send(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        .await;
    let resp = client.read_response(false, Duration::from_secs(2)).await?;
    if resp.status != 200 {
        return Err(format!("status {}", resp.status));
    }
    resp.text()
        .parse()
        .map_err(|_| format!("not a pid: {:?}", resp.text()))
}

/// Starts `serve_hello` with two workers and waits until both run; returns it, its port
/// and the workers' pids.
async fn start_two_workers() -> (ServerProcess, u16, BTreeSet<i32>) {
    let server = ServerProcess::start(&["--port", "0", "--processes", "2"]);
    let port = server.port().await;
    let both = wait_until(Duration::from_secs(10), || server.workers().len() == 2).await;
    assert!(
        both,
        "workers: {:?}; stderr:\n{}",
        server.workers(),
        server.stderr()
    );
    let workers = server.workers().into_iter().collect();
    (server, port, workers)
}

/// Waits until the server has two workers, one of them not in `old`; returns that one.
async fn replacement(server: &ServerProcess, old: &BTreeSet<i32>) -> i32 {
    let mut found = None;
    let appeared = wait_until(Duration::from_secs(10), || {
        let workers = server.workers();
        found = workers.iter().copied().find(|pid| !old.contains(pid));
        found.is_some() && workers.len() == 2
    })
    .await;
    assert!(
        appeared,
        "no replacement worker; workers {:?}; stderr:\n{}",
        server.workers(),
        server.stderr()
    );
    found.expect("found with the condition")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_both_answer_requests() {
    let (server, port, workers) = start_two_workers().await;
    let mut answered = BTreeSet::new();
    for _ in 0..400 {
        let pid = answering_pid(port)
            .await
            .expect("a request to the prefork server");
        answered.insert(pid);
        if answered.len() == 2 {
            break;
        }
    }
    assert_eq!(
        answered, workers,
        "answers came from {answered:?}, workers are {workers:?}"
    );
    assert!(
        !answered.contains(&server.pid()),
        "the parent does not serve"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_worker_is_replaced_and_requests_keep_succeeding() {
    let (server, port, original) = start_two_workers().await;
    let mut alive: BTreeSet<i32> = original.clone();
    let mut seen = original.clone();
    for victim in original.iter().copied() {
        kill(Pid::from_raw(victim), Signal::SIGKILL).expect("kill a worker");
        alive.remove(&victim);
        for _ in 0..20 {
            let pid = answering_pid(port)
                .await
                .expect("requests keep succeeding after a worker died");
            assert_ne!(pid, victim, "a killed worker answered");
        }
        let new = replacement(&server, &seen).await;
        assert!(is_alive(new));
        seen.insert(new);
        alive.insert(new);
    }
    // Both original workers are gone: every answer now comes from a replacement.
    for _ in 0..20 {
        let pid = answering_pid(port).await.expect("replacements serve");
        assert!(
            !original.contains(&pid),
            "answer from a killed worker {pid}"
        );
        assert!(
            alive.contains(&pid),
            "answer from {pid}, workers are {alive:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_to_the_parent_stops_every_worker_gracefully() {
    let (mut server, port, workers) = start_two_workers().await;
    answering_pid(port)
        .await
        .expect("serving before the signal");
    server.signal(Signal::SIGTERM);
    let status = server.exit_within(Duration::from_secs(5)).await;
    let status = status.unwrap_or_else(|| {
        panic!(
            "parent still running 5 s after SIGTERM:\n{}",
            server.stderr()
        )
    });
    assert!(status.success(), "{status}; stderr:\n{}", server.stderr());
    for pid in workers {
        assert!(!is_alive(pid), "worker {pid} outlived the parent");
    }
    let refused = tokio::net::TcpStream::connect(("127.0.0.1", port)).await;
    assert!(refused.is_err(), "the port still accepts connections");
}
