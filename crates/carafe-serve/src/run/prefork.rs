//! Prefork: several worker processes serving one listening socket.
//!
//! Werkzeug's `ForkingMixIn` forks per request; carafe prefork forks once per worker, as
//! gunicorn and nginx do. The parent binds the socket once, then starts N workers. Each
//! worker is the same program started again (`fork` + `exec` of the current executable
//! with the same arguments), with the listening socket inherited as a file descriptor
//! named in `CARAFE_SERVE_FD`, so it runs its own runtime and accept loop on the shared
//! queue. The kernel hands each connection to one of the waiting workers.
//!
//! Re-executing instead of forking the running process keeps the workers free of the
//! parent's threads and locks (forking a multi-threaded process is only safe up to
//! `exec`). The parent supervises: it restarts a worker that dies (pausing if workers die
//! at once after starting, so a crash loop does not spin), and on Ctrl-C or `SIGTERM` it
//! forwards `SIGTERM` to every worker, waits for them to drain, and exits.

// Adopting an inherited descriptor is the one place this crate needs `unsafe`.
#![allow(unsafe_code)]

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::error::Error;
use crate::tcp::Listener;

/// The environment variable naming the inherited listening descriptor.
const FD_VAR: &str = "CARAFE_SERVE_FD";
/// The parent's pid: a worker adopts the descriptor only if its parent set it, so a
/// grandchild that inherited the environment never adopts a stray descriptor.
const PARENT_VAR: &str = "CARAFE_SERVE_PARENT";
/// The worker's number, for its logs.
const WORKER_VAR: &str = "CARAFE_SERVE_WORKER";

/// The listening socket inherited from a prefork parent, when this process is a worker.
pub(crate) fn inherited_listener() -> Result<Option<Listener>, Error> {
    let (Ok(fd), Ok(parent)) = (std::env::var(FD_VAR), std::env::var(PARENT_VAR)) else {
        return Ok(None);
    };
    let parent_pid = nix::unistd::getppid().as_raw().to_string();
    let Ok(fd) = fd.parse::<i32>() else {
        return Ok(None);
    };
    if parent != parent_pid || fd < 0 {
        return Ok(None);
    }
    // SAFETY: our parent (checked by pid above) started this process with its listening
    // socket at descriptor `fd`, inherited across exec, and nothing in this process has
    // taken ownership of that descriptor: this function runs once, at server start.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let socket = socket2::Socket::from(owned);
    let listening = socket.is_listener().unwrap_or(false);
    let stream = socket.r#type().is_ok_and(|ty| ty == socket2::Type::STREAM);
    if !listening || !stream {
        let source = std::io::Error::other(format!("{FD_VAR}={fd} is not a listening socket"));
        return Err(Error::Listen(source));
    }
    // Workers started by this worker must not inherit the socket.
    socket.set_cloexec(true).map_err(Error::Listen)?;
    Listener::from_std(socket.into()).map(Some)
}

/// Runs the parent: starts `processes` workers on `listener`, restarts the ones that
/// die, and stops them all on Ctrl-C or `SIGTERM`.
pub(crate) fn supervise(
    listener: &Listener,
    processes: usize,
    grace: Duration,
) -> Result<(), Error> {
    let socket = listener.socket();
    socket.set_cloexec(false).map_err(Error::Listen)?;
    let fd = socket.as_raw_fd();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Io)?;
    runtime.block_on(async {
        let mut workers = Vec::with_capacity(processes);
        for number in 0..processes {
            workers.push(Worker::start(fd, number)?);
        }
        supervise_loop(&mut workers, fd).await?;
        stop_workers(&mut workers, grace).await;
        Ok(())
    })
}

/// One worker process and when it started.
#[derive(Debug)]
struct Worker {
    number: usize,
    child: Child,
    started: Instant,
}

impl Worker {
    fn start(fd: i32, number: usize) -> Result<Self, Error> {
        let exe = std::env::current_exe().map_err(Error::Process)?;
        let mut command = Command::new(exe);
        command
            .args(std::env::args_os().skip(1))
            .env(FD_VAR, fd.to_string())
            .env(PARENT_VAR, std::process::id().to_string())
            .env(WORKER_VAR, number.to_string());
        // Its own process group: a Ctrl-C in the terminal reaches the parent only, which
        // then stops the workers once, gracefully.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().map_err(Error::Process)?;
        tracing::info!(target: "carafe::run", "worker {number} started (pid {})", child.id());
        Ok(Worker {
            number,
            child,
            started: Instant::now(),
        })
    }

    fn signal(&self, signal: Signal) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = kill(Pid::from_raw(pid), signal);
        }
    }
}

/// Restarts workers that exit until a stop signal arrives.
async fn supervise_loop(workers: &mut [Worker], fd: i32) -> Result<(), Error> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).map_err(Error::Process)?;
    let mut int = signal(SignalKind::interrupt()).map_err(Error::Process)?;
    let mut child = signal(SignalKind::child()).map_err(Error::Process)?;
    loop {
        tokio::select! {
            _ = term.recv() => return Ok(()),
            _ = int.recv() => return Ok(()),
            _ = child.recv() => {},
            // Exits can coalesce into one SIGCHLD; a periodic look catches any missed.
            () = tokio::time::sleep(Duration::from_secs(1)) => {},
        }
        for worker in workers.iter_mut() {
            let Ok(Some(status)) = worker.child.try_wait() else {
                continue;
            };
            tracing::warn!(target: "carafe::run", "worker {} exited ({status}); restarting", worker.number);
            if worker.started.elapsed() < Duration::from_secs(1) {
                // It died at once: do not spin if it keeps doing so.
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            *worker = Worker::start(fd, worker.number)?;
        }
    }
}

/// Sends `SIGTERM` to every worker and waits for them; `SIGKILL` after the grace period.
async fn stop_workers(workers: &mut [Worker], grace: Duration) {
    tracing::info!(target: "carafe::run", "stopping {} workers", workers.len());
    for worker in workers.iter() {
        worker.signal(Signal::SIGTERM);
    }
    let deadline = Instant::now() + grace + Duration::from_secs(1);
    for worker in workers.iter_mut() {
        loop {
            match worker.child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() >= deadline => {
                    worker.signal(Signal::SIGKILL);
                    let _ = worker.child.wait();
                    break;
                }
                Ok(None) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }
}
