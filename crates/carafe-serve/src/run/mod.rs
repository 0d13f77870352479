//! `run_simple`: one call that builds and runs a server, like Werkzeug's.
//!
//! It resolves the host, binds and activates the socket (a clear message when the port is
//! taken), prints the banner (`* Running on http://127.0.0.1:8082`), starts a tokio runtime
//! with the asked number of worker threads, logs one line per request, and drains on
//! Ctrl-C or `SIGTERM`. With `processes(N)` it becomes a prefork server instead: see
//! the `prefork` module.

mod log;
pub(crate) mod prefork;

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use crate::config::Config;
use crate::error::Error;
use crate::gateway::Application;
use crate::server::{ShutdownHandle, TcpServer};
use crate::tcp::Listener;

/// Starts building a server for `app`; finish with [`RunSimple::serve`].
///
/// ```no_run
/// use carafe_serve::{run_simple, Body, Request, Response};
///
/// fn main() -> Result<(), carafe_serve::Error> {
///     run_simple(|_req: Request| async { Response::new(Body::from("Hello, World!")) })
///         .host("127.0.0.1")
///         .port(8082)
///         .serve()
/// }
/// ```
pub fn run_simple<A: Application>(app: A) -> RunSimple<A> {
    RunSimple {
        app,
        host: "127.0.0.1".to_owned(),
        port: 5000,
        workers: None,
        processes: 1,
        config: Config::default(),
        banner: true,
    }
}

/// The options of [`run_simple`].
#[derive(Debug)]
#[must_use = "call .serve() to run the server"]
pub struct RunSimple<A> {
    app: A,
    host: String,
    port: u16,
    workers: Option<usize>,
    processes: usize,
    config: Config,
    banner: bool,
}

impl<A: Application> RunSimple<A> {
    /// The interface to listen on: an IP address or a name (`0.0.0.0` for every IPv4
    /// interface, `::` for IPv6). Default `127.0.0.1`.
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }

    /// The port; 0 picks a free one (the banner shows it). Default 5000, as Flask's.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Worker threads of the runtime (default: one per core).
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = Some(workers.max(1));
        self
    }

    /// Worker processes sharing the socket (default 1: no prefork).
    pub fn processes(mut self, processes: usize) -> Self {
        self.processes = processes.max(1);
        self
    }

    /// Every server setting at once.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Turns the per-request log line on or off (default on).
    pub fn access_log(mut self, on: bool) -> Self {
        self.config.access_log = on;
        self
    }

    /// Turns the startup banner on or off (default on).
    pub fn banner(mut self, on: bool) -> Self {
        self.banner = on;
        self
    }

    /// Runs the server until Ctrl-C or `SIGTERM`, then drains and returns.
    pub fn serve(self) -> Result<(), Error> {
        log::install_default_subscriber();
        raise_open_file_limit();
        if let Some(listener) = prefork::inherited_listener()? {
            return self.serve_on(listener);
        }
        let addr = resolve(&self.host, self.port)?;
        let listener = Listener::bind(addr, self.config.backlog, self.config.reuse_port)?;
        listener.activate()?;
        if self.banner {
            print_banner(&self.host, listener.local_addr(), self.processes);
        }
        if self.processes > 1 {
            return prefork::supervise(
                &listener,
                self.processes,
                self.config.timeouts.shutdown_grace,
            );
        }
        self.serve_on(listener)
    }

    /// Runs the accept loop on `listener` in a new runtime, with signal handling.
    fn serve_on(self, listener: Listener) -> Result<(), Error> {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.enable_all();
        if let Some(workers) = self.workers {
            builder.worker_threads(workers);
        }
        let runtime = builder.build().map_err(Error::Io)?;
        let server = TcpServer::from_listener(listener, self.config);
        let handle = server.shutdown_handle();
        let app = self.app;
        let served = runtime.block_on(async move {
            tokio::spawn(stop_on_signal(handle));
            server.serve_forever(app).await
        });
        // Tasks still running (upgraded connections past the grace) stop here.
        runtime.shutdown_timeout(Duration::from_millis(100));
        served
    }
}

/// Resolves `host:port` to the first address, with a clear error.
fn resolve(host: &str, port: u16) -> Result<SocketAddr, Error> {
    let unspecified: SocketAddr = ([0, 0, 0, 0], port).into();
    let bind_error = |source| Error::Bind {
        addr: unspecified,
        source,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (host, port)
        .to_socket_addrs()
        .map_err(bind_error)?
        .next()
        .ok_or_else(|| {
            bind_error(std::io::Error::other(format!(
                "cannot resolve host {host:?}"
            )))
        })
}

fn print_banner(host: &str, addr: SocketAddr, processes: usize) {
    let url_host = |ip: std::net::IpAddr| match ip {
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        std::net::IpAddr::V4(v4) => v4.to_string(),
    };
    if processes > 1 {
        eprintln!(" * Serving with {processes} worker processes");
    }
    if addr.ip().is_unspecified() {
        let loopback = if addr.is_ipv6() { "[::1]" } else { "127.0.0.1" };
        eprintln!(" * Running on all addresses ({host})");
        eprintln!(" * Running on http://{loopback}:{}", addr.port());
    } else {
        eprintln!(
            " * Running on http://{}:{}",
            url_host(addr.ip()),
            addr.port()
        );
    }
    eprintln!("Press CTRL+C to quit");
}

/// Waits for Ctrl-C or `SIGTERM` and begins a graceful shutdown; a second signal exits
/// at once.
async fn stop_on_signal(handle: ShutdownHandle) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::warn!(target: "carafe::run", "cannot install signal handlers");
        return;
    };
    tokio::select! {
        _ = term.recv() => {},
        _ = int.recv() => {},
    }
    tracing::info!(target: "carafe::run", "shutting down: finishing requests in flight (again to force)");
    handle.shutdown();
    tokio::select! {
        _ = term.recv() => {},
        _ = int.recv() => {},
    }
    tracing::warn!(target: "carafe::run", "forced shutdown");
    std::process::exit(130);
}

/// Raises the soft open-file limit to the hard limit, as Go's runtime does: each
/// connection is a descriptor, and the usual soft limit of 1024 is far below what a
/// server can hold.
fn raise_open_file_limit() {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        if soft < hard {
            let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
        }
    }
}
