//! The debug reloader: Werkzeug's `run_with_reloader`, made right for a compiled program.
//!
//! Werkzeug's reloader restarts the whole Python process on a change, closing the
//! listening socket in between, so requests sent during the restart are refused, and a
//! syntax error kills the server. Here the parent process binds the socket once and keeps
//! it for its whole life. It serves nothing itself: it runs the app as a child process
//! that inherits the listening descriptor (the prefork machinery), and watches the
//! package's sources with `notify`. On a change (debounced) it runs `cargo build` for the
//! same binary (`rebuild.rs`). Only if the build succeeds does it start a new child on the
//! same socket and wait until that child says it is serving (one byte on an inherited
//! socket pair); then it sends the old child `SIGTERM`, which drains its requests in
//! flight and exits. For a moment both children accept from the one queue, which is
//! harmless, so no connection is refused during a reload. A failed build prints the
//! compiler's errors (cargo writes to the terminal) and the old child keeps serving.
//!
//! The watched directory is the package's (`CARGO_MANIFEST_DIR`, which `cargo run` sets,
//! or `RunSimple::watch`); `target/`, hidden files and directories, `Cargo.lock` and
//! editors' backup files are ignored.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, SystemTime};

use notify::{EventKind, RecursiveMode, Watcher as _};
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

use super::prefork::{self, ChildEnv, Spawn};
use super::rebuild::Rebuild;
use crate::error::Error;
use crate::tcp::Listener;

/// Changes closer together than this make one rebuild (an editor saving several files).
const DEBOUNCE: Duration = Duration::from_millis(200);
/// How long a new child may take to start serving.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// What the reloader needs to know before it starts.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// The package directory to watch.
    pub(crate) watch: PathBuf,
    /// How to rebuild the program.
    pub(crate) rebuild: Rebuild,
}

impl Plan {
    /// The plan for this process, watching `watch` or else `CARGO_MANIFEST_DIR`; an error
    /// says why the reloader cannot run.
    pub(crate) fn for_this_process(watch: Option<&Path>) -> Result<Plan, String> {
        let watch = match watch {
            Some(dir) => dir.to_owned(),
            None => std::env::var_os("CARGO_MANIFEST_DIR")
                .map(PathBuf::from)
                .ok_or_else(|| {
                    "the reloader needs the package's directory: start the program with \
                     `cargo run`, or name the directory to watch (--watch DIR)"
                        .to_owned()
                })?,
        };
        if !watch.is_dir() {
            return Err(format!(
                "the reloader cannot watch {}: not a directory",
                watch.display()
            ));
        }
        let exe = std::env::current_exe().map_err(|error| error.to_string())?;
        let rebuild = Rebuild::for_exe(&exe, &watch)?;
        Ok(Plan { watch, rebuild })
    }
}

/// Runs the reloader's parent until Ctrl-C or `SIGTERM`: starts the app as a child on
/// `listener`, rebuilds and replaces it on every source change, stops it at the end.
pub(crate) fn supervise(
    listener: &Listener,
    plan: Plan,
    env: ChildEnv,
    grace: Duration,
) -> Result<(), Error> {
    let spawn = Spawn::new(listener, env)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Io)?;
    let reloader = Reloader {
        spawn,
        plan,
        grace,
        generation: 0,
    };
    runtime.block_on(reloader.run())
}

/// The parent's state.
#[derive(Debug)]
struct Reloader {
    /// How children start.
    spawn: Spawn,
    /// What to watch and how to rebuild.
    plan: Plan,
    /// How long an old child may take to drain.
    grace: Duration,
    /// Children started so far (each child's number, for its logs).
    generation: usize,
}

impl Reloader {
    async fn run(mut self) -> Result<(), Error> {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).map_err(Error::Process)?;
        let mut int = signal(SignalKind::interrupt()).map_err(Error::Process)?;
        let (tx, mut changes) = mpsc::unbounded_channel();
        let mut watcher = SourceWatcher::new(&self.plan.watch, tx)?;
        let mut current = self.start_reported().await;
        loop {
            tokio::select! {
                _ = term.recv() => break,
                _ = int.recv() => break,
                Some(change) = changes.recv() => {
                    let first = watcher.settle(change, &mut changes).await;
                    self.reload(&mut current, &first).await;
                }
                () = tokio::time::sleep(Duration::from_secs(1)) => check_exited(&mut current),
            }
        }
        if let Some(mut child) = current {
            prefork::signal_child(&child, nix::sys::signal::Signal::SIGTERM);
            let deadline = std::time::Instant::now() + self.grace + Duration::from_secs(1);
            prefork::reap(&mut child, deadline).await;
        }
        Ok(())
    }

    /// Rebuilds after a change to `changed`, and swaps the child if the build succeeded.
    async fn reload(&mut self, current: &mut Option<Child>, changed: &Path) {
        let shown = changed.strip_prefix(&self.plan.watch).unwrap_or(changed);
        eprintln!(" * Detected change in {:?}, rebuilding", shown.display());
        let before = modified(self.spawn.exe());
        if let Err(message) = self.build().await {
            eprintln!(" * {message}; still serving the previous build");
            return;
        }
        if current.is_some() && modified(self.spawn.exe()) == before {
            eprintln!(" * The binary did not change; nothing to reload");
            return;
        }
        let Some(new) = self.start_reported().await else {
            return;
        };
        if let Some(old) = current.replace(new) {
            self.retire(old);
        }
    }

    /// Runs the build; `Err` says what went wrong (cargo has printed the details).
    async fn build(&self) -> Result<(), String> {
        let mut command = self.plan.rebuild.command();
        let shown = self.plan.rebuild.display();
        let status = tokio::task::spawn_blocking(move || command.status())
            .await
            .map_err(|error| format!("`{shown}` did not run: {error}"))?
            .map_err(|error| format!("cannot run `{shown}`: {error}"))?;
        match status.success() {
            true => Ok(()),
            false => Err(format!("`{shown}` failed ({status})")),
        }
    }

    /// Starts a child and waits until it serves; reports a failure and returns `None`.
    async fn start_reported(&mut self) -> Option<Child> {
        match self.start_ready().await {
            Ok(child) => {
                tracing::info!(target: "carafe::run", "serving from pid {}", child.id());
                Some(child)
            }
            Err(message) => {
                eprintln!(" * The new build did not start serving: {message}");
                eprintln!(" * Waiting for a change to try again");
                None
            }
        }
    }

    /// Starts a child with a ready socket and waits for its byte.
    async fn start_ready(&mut self) -> Result<Child, String> {
        let (ours, theirs) = std::os::unix::net::UnixStream::pair()
            .map_err(|error| format!("cannot make the ready socket: {error}"))?;
        let theirs = socket2::Socket::from(OwnedFd::from(theirs));
        theirs
            .set_cloexec(false)
            .map_err(|error| format!("cannot pass the ready socket: {error}"))?;
        self.generation += 1;
        let mut child = self
            .spawn
            .start(self.generation, Some(theirs.as_raw_fd()))
            .map_err(|error| error.to_string())?;
        // Only the child holds the write end now: its exit ends our read.
        drop(theirs);
        match wait_ready(ours).await {
            Ok(()) => Ok(child),
            Err(message) => {
                prefork::signal_child(&child, nix::sys::signal::Signal::SIGKILL);
                let status = child.wait().map(|status| format!(" ({status})"));
                Err(format!("{message}{}", status.unwrap_or_default()))
            }
        }
    }

    /// Sends an old child `SIGTERM` and reaps it in the background once it has drained.
    fn retire(&self, mut old: Child) {
        prefork::signal_child(&old, nix::sys::signal::Signal::SIGTERM);
        let deadline = std::time::Instant::now() + self.grace + Duration::from_secs(1);
        tokio::spawn(async move { prefork::reap(&mut old, deadline).await });
    }
}

/// Waits for the child's ready byte on `ours`.
async fn wait_ready(ours: std::os::unix::net::UnixStream) -> Result<(), String> {
    let io_error = |error: std::io::Error| format!("cannot read the ready socket: {error}");
    ours.set_nonblocking(true).map_err(io_error)?;
    let mut ours = tokio::net::UnixStream::from_std(ours).map_err(io_error)?;
    let mut byte = [0u8; 1];
    match tokio::time::timeout(READY_TIMEOUT, ours.read(&mut byte)).await {
        Ok(Ok(1)) => Ok(()),
        Ok(Ok(_)) => Err("it exited before serving".to_owned()),
        Ok(Err(error)) => Err(io_error(error)),
        Err(_) => Err(format!("it was not serving after {READY_TIMEOUT:?}")),
    }
}

/// Notices a child that exited by itself (a crash): reported once, then forgotten.
fn check_exited(current: &mut Option<Child>) {
    let Some(child) = current else {
        return;
    };
    if let Ok(Some(status)) = child.try_wait() {
        eprintln!(" * The server exited ({status}); waiting for a change to restart it");
        *current = None;
    }
}

/// When a file was last written; `None` if it cannot be read.
fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path)
        .and_then(|meta| meta.modified())
        .ok()
}

/// A changed path, and whether it is a new directory (to be watched too).
#[derive(Debug)]
struct Change {
    path: PathBuf,
    new_dir: bool,
}

/// Watches the package's directories, one non-recursive watch each, so that `target/`
/// and hidden directories (`.git`) cost no watches at all.
struct SourceWatcher {
    root: PathBuf,
    watcher: notify::RecommendedWatcher,
}

impl std::fmt::Debug for SourceWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceWatcher")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl SourceWatcher {
    fn new(root: &Path, tx: mpsc::UnboundedSender<Change>) -> Result<SourceWatcher, Error> {
        let filter_root = root.to_owned();
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else {
                return;
            };
            if matches!(event.kind, EventKind::Access(_)) {
                return;
            }
            let new_dir = matches!(
                event.kind,
                EventKind::Create(notify::event::CreateKind::Folder)
            );
            for path in event.paths {
                if !is_ignored(&filter_root, &path) {
                    let _ = tx.send(Change { path, new_dir });
                }
            }
        })
        .map_err(|error| watch_error(root, error))?;
        let mut watcher = SourceWatcher {
            root: root.to_owned(),
            watcher,
        };
        watcher.watch_tree(root)?;
        Ok(watcher)
    }

    /// Watches `dir` and every directory under it that is not ignored.
    fn watch_tree(&mut self, dir: &Path) -> Result<(), Error> {
        self.watcher
            .watch(dir, RecursiveMode::NonRecursive)
            .map_err(|error| watch_error(dir, error))?;
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(());
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let is_dir = entry.file_type().is_ok_and(|kind| kind.is_dir());
            if is_dir && !is_ignored(&self.root, &path) {
                self.watch_tree(&path)?;
            }
        }
        Ok(())
    }

    /// Collects changes until none has come for [`DEBOUNCE`]; returns the first path.
    async fn settle(
        &mut self,
        first: Change,
        changes: &mut mpsc::UnboundedReceiver<Change>,
    ) -> PathBuf {
        let mut change = first;
        let first_path = change.path.clone();
        loop {
            if change.new_dir {
                // A directory created after startup (a new module folder) is watched too.
                let _ = self.watch_tree(&change.path);
            }
            match tokio::time::timeout(DEBOUNCE, changes.recv()).await {
                Ok(Some(next)) => change = next,
                Ok(None) | Err(_) => return first_path,
            }
        }
    }
}

fn watch_error(dir: &Path, error: notify::Error) -> Error {
    let message = format!("the reloader cannot watch {}: {error}", dir.display());
    Error::Process(std::io::Error::other(message))
}

/// Whether a change to `path` (under `root`) is no reason to rebuild: build output,
/// hidden files (`.git`, editors' swap files), `Cargo.lock` (cargo itself writes it) and
/// backup files.
fn is_ignored(root: &Path, path: &Path) -> bool {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let ignored_part = relative.components().any(|part| {
        let part = part.as_os_str().to_string_lossy();
        part == "target" || part.starts_with('.')
    });
    let name = relative
        .file_name()
        .map(|name| name.to_string_lossy())
        .unwrap_or_default();
    ignored_part || name == "Cargo.lock" || name.ends_with('~') || name == "4913"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_output_hidden_and_backup_files_are_ignored() {
        let root = Path::new("/src/app");
        for ignored in [
            "/src/app/target/debug/app",
            "/src/app/.git/index",
            "/src/app/src/.main.rs.swp",
            "/src/app/src/main.rs~",
            "/src/app/Cargo.lock",
        ] {
            assert!(is_ignored(root, Path::new(ignored)), "{ignored}");
        }
        for watched in [
            "/src/app/src/main.rs",
            "/src/app/Cargo.toml",
            "/src/app/templates/index.html",
        ] {
            assert!(!is_ignored(root, Path::new(watched)), "{watched}");
        }
    }
}
