//! `run_simple`: one call that builds and runs a server, like Werkzeug's.
//!
//! It resolves the host, binds and activates the socket (a clear message when the port is
//! taken), prints the banner (`* Running on http://127.0.0.1:8082`), starts a tokio runtime
//! with the asked number of worker threads, logs one line per request, and drains on
//! Ctrl-C or `SIGTERM`. With `processes(N)` it becomes a prefork server instead: see
//! the `prefork` module. With `tls(..)` it speaks HTTPS (`crate::tls`), and with
//! `reload(true)` the process becomes the debug reloader's parent: see the `reload` module.

mod log;
pub(crate) mod prefork;
mod rebuild;
mod reload;

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use crate::config::Config;
use crate::error::Error;
use crate::gateway::Application;
use crate::server::{ShutdownHandle, TcpServer};
use crate::tcp::Listener;
use crate::tls::{Loaded, TlsConfig};

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
        tls: None,
        reload: false,
        watch: None,
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
    tls: Option<TlsConfig>,
    reload: bool,
    watch: Option<PathBuf>,
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

    /// The application, to adjust before serving (a framework's `Run` sets its debug
    /// flag here).
    ///
    /// ```
    /// use carafe_serve::{run_simple, Body, Request, Response};
    ///
    /// let mut run = run_simple(|_req: Request| async { Response::new(Body::empty()) });
    /// let _app = run.app_mut();
    /// ```
    pub fn app_mut(&mut self) -> &mut A {
        &mut self.app
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

    /// Speaks HTTPS with this certificate ([`TlsConfig::adhoc`] for development). The
    /// banner then says `https://`, and for an adhoc certificate where its PEM file is.
    ///
    /// ```no_run
    /// use carafe_serve::{run_simple, Body, Request, Response, TlsConfig};
    ///
    /// run_simple(|_req: Request| async { Response::new(Body::from("hi")) })
    ///     .tls(TlsConfig::adhoc())
    ///     .port(8443)
    ///     .serve()?;
    /// # Ok::<(), carafe_serve::Error>(())
    /// ```
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Turns the debug reloader on: on a change to the package's sources the program is
    /// rebuilt with `cargo build` and the new build replaces the running one without
    /// closing the listening socket; a build that fails leaves the old one serving. It
    /// watches `CARGO_MANIFEST_DIR` (set by `cargo run`) unless [`watch`](Self::watch)
    /// names a directory; without either it warns and serves without reloading. The
    /// app runs in one process (`processes` is ignored).
    ///
    /// ```no_run
    /// use carafe_serve::{run_simple, Body, Request, Response};
    ///
    /// run_simple(|_req: Request| async { Response::new(Body::from("edit me")) })
    ///     .reload(true)
    ///     .serve()?;
    /// # Ok::<(), carafe_serve::Error>(())
    /// ```
    pub fn reload(mut self, on: bool) -> Self {
        self.reload = on;
        self
    }

    /// The package directory the reloader watches (default: `CARGO_MANIFEST_DIR`).
    ///
    /// ```no_run
    /// # use carafe_serve::{run_simple, Body, Request, Response};
    /// run_simple(|_req: Request| async { Response::new(Body::empty()) })
    ///     .reload(true)
    ///     .watch("/home/me/myapp")
    ///     .serve()?;
    /// # Ok::<(), carafe_serve::Error>(())
    /// ```
    pub fn watch(mut self, dir: impl Into<PathBuf>) -> Self {
        self.watch = Some(dir.into());
        self
    }

    /// Runs the server until Ctrl-C or `SIGTERM`, then drains and returns.
    pub fn serve(self) -> Result<(), Error> {
        log::install_default_subscriber();
        raise_open_file_limit();
        if let Some(listener) = prefork::inherited_listener()? {
            let tls = self.tls.as_ref().map(TlsConfig::load).transpose()?;
            return self.serve_on(listener, tls);
        }
        let tls = self.tls.as_ref().map(TlsConfig::load).transpose()?;
        let addr = resolve(&self.host, self.port)?;
        let listener = Listener::bind(addr, self.config.backlog, self.config.reuse_port)?;
        listener.activate()?;
        let reload = self.reload_plan();
        if self.banner {
            let banner = Banner {
                host: &self.host,
                addr: listener.local_addr(),
                processes: if reload.is_some() { 1 } else { self.processes },
                tls: tls.as_ref(),
                reload: reload.as_ref(),
            };
            banner.print();
        }
        let child_env = tls
            .as_ref()
            .and_then(Loaded::child_env)
            .into_iter()
            .collect();
        let grace = self.config.timeouts.shutdown_grace;
        if let Some(plan) = reload {
            return reload::supervise(&listener, plan, child_env, grace);
        }
        if self.processes > 1 {
            return prefork::supervise(&listener, self.processes, grace, child_env);
        }
        self.serve_on(listener, tls)
    }

    /// The reloader's plan when it is on and can run; a warning when it cannot.
    fn reload_plan(&self) -> Option<reload::Plan> {
        if !self.reload {
            return None;
        }
        match reload::Plan::for_this_process(self.watch.as_deref()) {
            Ok(plan) => Some(plan),
            Err(reason) => {
                tracing::warn!(target: "carafe::run", "serving without the reloader: {reason}");
                None
            }
        }
    }

    /// Runs the accept loop on `listener` in a new runtime, with signal handling.
    fn serve_on(self, listener: Listener, tls: Option<Loaded>) -> Result<(), Error> {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.enable_all();
        if let Some(workers) = self.workers {
            builder.worker_threads(workers);
        }
        let runtime = builder.build().map_err(Error::Io)?;
        let mut server = TcpServer::from_listener(listener, self.config);
        server.set_tls(tls);
        let handle = server.shutdown_handle();
        let app = self.app;
        let served = runtime.block_on(async move {
            tokio::spawn(stop_on_signal(handle));
            // A reloader waits for this before it stops the previous build.
            prefork::notify_ready();
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

/// What the startup banner tells.
struct Banner<'a> {
    host: &'a str,
    addr: SocketAddr,
    processes: usize,
    tls: Option<&'a Loaded>,
    reload: Option<&'a reload::Plan>,
}

impl Banner<'_> {
    fn print(&self) {
        let url_host = |ip: std::net::IpAddr| match ip {
            std::net::IpAddr::V6(v6) => format!("[{v6}]"),
            std::net::IpAddr::V4(v4) => v4.to_string(),
        };
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        if self.processes > 1 {
            eprintln!(" * Serving with {} worker processes", self.processes);
        }
        let port = self.addr.port();
        if self.addr.ip().is_unspecified() {
            let loopback = if self.addr.is_ipv6() {
                "[::1]"
            } else {
                "127.0.0.1"
            };
            eprintln!(" * Running on all addresses ({})", self.host);
            eprintln!(" * Running on {scheme}://{loopback}:{port}");
        } else {
            eprintln!(
                " * Running on {scheme}://{}:{port}",
                url_host(self.addr.ip())
            );
        }
        if let Some(adhoc) = self.tls.and_then(|tls| tls.adhoc.as_ref()) {
            let cert = adhoc.cert_path();
            eprintln!(
                " * Adhoc certificate for localhost, 127.0.0.1 and ::1: {}",
                cert.display()
            );
            eprintln!(
                "   (curl --cacert {} https://localhost:{port}/)",
                cert.display()
            );
        }
        if let Some(plan) = self.reload {
            eprintln!(
                " * Restarting with cargo build (watching {})",
                plan.watch.display()
            );
        }
        eprintln!("Press CTRL+C to quit");
    }
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
