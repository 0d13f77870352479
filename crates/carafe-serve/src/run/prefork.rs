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
//!
//! The reloader (`reload.rs`) starts its children the same way, with one more inherited
//! descriptor: the write end of a socket pair named in `CARAFE_SERVE_READY_FD`, on which
//! the child says it is serving (`notify_ready`). Children ask the kernel for `SIGTERM`
//! when their parent dies, so a killed parent leaves no server behind.

// Adopting an inherited descriptor is the one place this crate needs `unsafe`.
#![allow(unsafe_code)]

use std::ffi::OsString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
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
/// The descriptor on which a reloader's child says it is ready.
const READY_VAR: &str = "CARAFE_SERVE_READY_FD";

/// Environment variables a child gets on top of its parent's.
pub(crate) type ChildEnv = Vec<(&'static str, OsString)>;

/// The inherited descriptor named by `var`, if our parent (checked by pid) set it.
fn inherited_fd(var: &str) -> Option<RawFd> {
    let parent = std::env::var(PARENT_VAR).ok()?;
    if parent != nix::unistd::getppid().as_raw().to_string() {
        return None;
    }
    std::env::var(var)
        .ok()?
        .parse::<RawFd>()
        .ok()
        .filter(|fd| *fd >= 0)
}

/// The listening socket inherited from a prefork parent, when this process is a worker.
pub(crate) fn inherited_listener() -> Result<Option<Listener>, Error> {
    static ADOPTED: AtomicBool = AtomicBool::new(false);
    let Some(fd) = inherited_fd(FD_VAR) else {
        return Ok(None);
    };
    if ADOPTED.swap(true, Ordering::SeqCst) {
        return Ok(None);
    }
    stop_with_parent();
    // SAFETY: our parent (checked by pid above) started this process with its listening
    // socket at descriptor `fd`, inherited across exec, and nothing in this process has
    // taken ownership of that descriptor: `ADOPTED` lets this happen once per process.
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

/// Asks the kernel to send this process `SIGTERM` when its parent dies (Linux), so that
/// killing the parent does not leave its workers serving.
fn stop_with_parent() {
    #[cfg(target_os = "linux")]
    {
        let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGTERM);
    }
}

/// Tells the reloader that started this process that it is serving: writes one byte to
/// the inherited ready descriptor and closes it. Does nothing in other processes.
pub(crate) fn notify_ready() {
    static NOTIFIED: AtomicBool = AtomicBool::new(false);
    let Some(fd) = inherited_fd(READY_VAR) else {
        return;
    };
    if NOTIFIED.swap(true, Ordering::SeqCst) {
        return;
    }
    // SAFETY: our parent (checked by pid) started this process with the write end of its
    // ready socket at descriptor `fd`, and `NOTIFIED` lets this happen once per process,
    // so nothing else owns the descriptor.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut ready = std::os::unix::net::UnixStream::from(owned);
    let _ = std::io::Write::write_all(&mut ready, b"1");
}

/// How to start a child server process: the program, its arguments, the listening
/// descriptor to inherit, and extra environment.
#[derive(Debug, Clone)]
pub(crate) struct Spawn {
    /// The program, found once at startup: after a rebuild `current_exe` would name a
    /// deleted file.
    pub(crate) exe: PathBuf,
    /// The arguments this process was started with.
    pub(crate) args: Vec<OsString>,
    /// The listening socket, inheritable.
    pub(crate) listener_fd: RawFd,
    /// More environment (the adhoc certificate's directory).
    pub(crate) env: ChildEnv,
}

impl Spawn {
    /// The plan for children of this process serving `listener`; makes the listening
    /// descriptor inheritable.
    pub(crate) fn new(listener: &Listener, env: ChildEnv) -> Result<Spawn, Error> {
        let socket = listener.socket();
        socket.set_cloexec(false).map_err(Error::Listen)?;
        Ok(Spawn {
            exe: std::env::current_exe().map_err(Error::Process)?,
            args: std::env::args_os().skip(1).collect(),
            listener_fd: socket.as_raw_fd(),
            env,
        })
    }

    /// Starts one child: worker `number`, with a ready descriptor if `ready` is given.
    pub(crate) fn start(&self, number: usize, ready: Option<RawFd>) -> Result<Child, Error> {
        let mut command = Command::new(&self.exe);
        command
            .args(&self.args)
            .env(FD_VAR, self.listener_fd.to_string())
            .env(PARENT_VAR, std::process::id().to_string())
            .env(WORKER_VAR, number.to_string())
            .envs(self.env.iter().map(|(key, value)| (*key, value)));
        if let Some(ready) = ready {
            command.env(READY_VAR, ready.to_string());
        }
        // Its own process group: a Ctrl-C in the terminal reaches the parent only, which
        // then stops the children once, gracefully.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        command.spawn().map_err(|source| {
            let message = format!("cannot start {}: {source}", self.exe.display());
            Error::Process(std::io::Error::new(source.kind(), message))
        })
    }

    /// The program's path, for messages.
    pub(crate) fn exe(&self) -> &Path {
        &self.exe
    }
}

/// Runs the parent: starts `processes` workers on `listener`, restarts the ones that
/// die, and stops them all on Ctrl-C or `SIGTERM`.
pub(crate) fn supervise(
    listener: &Listener,
    processes: usize,
    grace: Duration,
    env: ChildEnv,
) -> Result<(), Error> {
    let spawn = Spawn::new(listener, env)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Io)?;
    runtime.block_on(async {
        let mut workers = Vec::with_capacity(processes);
        for number in 0..processes {
            workers.push(Worker::start(&spawn, number)?);
        }
        supervise_loop(&mut workers, &spawn).await?;
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
    fn start(spawn: &Spawn, number: usize) -> Result<Self, Error> {
        let child = spawn.start(number, None)?;
        tracing::info!(target: "carafe::run", "worker {number} started (pid {})", child.id());
        Ok(Worker {
            number,
            child,
            started: Instant::now(),
        })
    }
}

/// Sends `signal` to a child process.
pub(crate) fn signal_child(child: &Child, signal: Signal) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = kill(Pid::from_raw(pid), signal);
    }
}

/// Restarts workers that exit until a stop signal arrives.
async fn supervise_loop(workers: &mut [Worker], spawn: &Spawn) -> Result<(), Error> {
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
            *worker = Worker::start(spawn, worker.number)?;
        }
    }
}

/// Sends `SIGTERM` to every worker and waits for them; `SIGKILL` after the grace period.
async fn stop_workers(workers: &mut [Worker], grace: Duration) {
    tracing::info!(target: "carafe::run", "stopping {} workers", workers.len());
    for worker in workers.iter() {
        signal_child(&worker.child, Signal::SIGTERM);
    }
    let deadline = Instant::now() + grace + Duration::from_secs(1);
    for worker in workers.iter_mut() {
        reap(&mut worker.child, deadline).await;
    }
}

/// Waits for a child that was sent `SIGTERM` to exit; `SIGKILL` at `deadline`.
pub(crate) async fn reap(child: &mut Child, deadline: Instant) {
    loop {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return,
            Ok(None) if Instant::now() >= deadline => {
                signal_child(child, Signal::SIGKILL);
                let _ = child.wait();
                return;
            }
            Ok(None) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}
