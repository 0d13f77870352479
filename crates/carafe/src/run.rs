//! `app.run()`: serving an [`App`] with the serving layer's `run_simple`.
//!
//! [`Run`] wraps [`carafe_serve::RunSimple`] with Flask's `app.run` options: host, port,
//! workers and processes, debug mode (which turns the reloader on unless told otherwise),
//! the reloader, and TLS, and makes errors carafe's [`Error`].

use std::path::PathBuf;

use carafe_serve::{Config, RunSimple, TlsConfig};

use crate::app::App;
use crate::error::Error;

/// The options of [`App::run`]; finish with [`Run::serve`].
///
/// ```no_run
/// use carafe::App;
///
/// fn main() -> Result<(), carafe::Error> {
///     let app = App::new();
///     app.run().host("127.0.0.1").port(8082).workers(4).serve()
/// }
/// ```
#[derive(Debug)]
#[must_use = "call .serve() to run the server"]
pub struct Run {
    inner: RunSimple<App>,
    /// The reloader; `None` follows the app's debug mode.
    reload: Option<bool>,
    /// What [`App::check`] found wrong, reported by [`Run::serve`] before binding.
    startup_error: Option<Error>,
}

impl Run {
    pub(crate) fn new(app: App) -> Self {
        let startup_error = app.check().err();
        Run {
            inner: carafe_serve::run_simple(app),
            reload: None,
            startup_error,
        }
    }

    /// Debug mode (Flask's `debug=True`): the app's [`App::debug`] is on, and so is the
    /// reloader unless [`reload(false)`](Self::reload) says otherwise. For development
    /// only.
    ///
    /// ```no_run
    /// carafe::App::new().run().debug(true).serve()?;
    /// # Ok::<(), carafe::Error>(())
    /// ```
    pub fn debug(mut self, on: bool) -> Self {
        self.inner.app_mut().set_debug(on);
        self
    }

    /// The debug reloader (default: on in debug mode): on a change to the package's
    /// sources the program is rebuilt with `cargo build`, and the new build replaces the
    /// running one on the same socket; a failed build leaves the old one serving. It
    /// watches `CARGO_MANIFEST_DIR`, which `cargo run` sets, or the directory given to
    /// [`watch`](Self::watch).
    ///
    /// ```no_run
    /// carafe::App::new().run().debug(true).reload(false).serve()?;
    /// # Ok::<(), carafe::Error>(())
    /// ```
    pub fn reload(mut self, on: bool) -> Self {
        self.reload = Some(on);
        self
    }

    /// The package directory the reloader watches.
    ///
    /// ```no_run
    /// carafe::App::new().run().reload(true).watch("/home/me/myapp").serve()?;
    /// # Ok::<(), carafe::Error>(())
    /// ```
    pub fn watch(self, dir: impl Into<PathBuf>) -> Self {
        self.map(|inner| inner.watch(dir))
    }

    /// Serves HTTPS with this certificate (see [`TlsConfig`]).
    ///
    /// ```no_run
    /// use carafe_serve::TlsConfig;
    ///
    /// carafe::App::new()
    ///     .run()
    ///     .tls(TlsConfig::from_pem_files("cert.pem", "key.pem"))
    ///     .serve()?;
    /// # Ok::<(), carafe::Error>(())
    /// ```
    pub fn tls(self, tls: TlsConfig) -> Self {
        self.map(|inner| inner.tls(tls))
    }

    /// Serves HTTPS with a self-signed development certificate for `localhost`,
    /// `127.0.0.1` and `::1` (`ssl_context="adhoc"`); the banner says where its PEM file
    /// is, for `curl --cacert`.
    ///
    /// ```no_run
    /// carafe::App::new().run().cert_adhoc().serve()?;
    /// # Ok::<(), carafe::Error>(())
    /// ```
    pub fn cert_adhoc(self) -> Self {
        self.tls(TlsConfig::adhoc())
    }

    fn map(self, change: impl FnOnce(RunSimple<App>) -> RunSimple<App>) -> Self {
        Run {
            inner: change(self.inner),
            ..self
        }
    }

    /// The interface to listen on: an IP address or a host name (`0.0.0.0` for every
    /// IPv4 interface). Default `127.0.0.1`.
    ///
    /// ```no_run
    /// carafe::App::new().run().host("0.0.0.0").serve()?;
    /// # Ok::<(), carafe::Error>(())
    /// ```
    pub fn host(self, host: impl Into<String>) -> Self {
        self.map(|inner| inner.host(host))
    }

    /// The port; 0 picks a free one. Default 5000, as Flask's.
    ///
    /// ```no_run
    /// carafe::App::new().run().port(8082).serve()?;
    /// # Ok::<(), carafe::Error>(())
    /// ```
    pub fn port(self, port: u16) -> Self {
        self.map(|inner| inner.port(port))
    }

    /// Worker threads (default: one per CPU core).
    ///
    /// ```no_run
    /// carafe::App::new().run().workers(2).serve()?;
    /// # Ok::<(), carafe::Error>(())
    /// ```
    pub fn workers(self, workers: usize) -> Self {
        self.map(|inner| inner.workers(workers))
    }

    /// Worker processes sharing the listening socket (default 1). Each is this program
    /// started again, so the app must be built the same way in every process.
    ///
    /// ```no_run
    /// carafe::App::new().run().processes(4).serve()?;
    /// # Ok::<(), carafe::Error>(())
    /// ```
    pub fn processes(self, processes: usize) -> Self {
        self.map(|inner| inner.processes(processes))
    }

    /// Turns the one-line-per-request access log on or off (default on).
    ///
    /// ```no_run
    /// carafe::App::new().run().access_log(false).serve()?;
    /// # Ok::<(), carafe::Error>(())
    /// ```
    pub fn access_log(self, on: bool) -> Self {
        self.map(|inner| inner.access_log(on))
    }

    /// Every server setting at once (limits, timeouts, backlog).
    ///
    /// ```no_run
    /// let mut config = carafe_serve::Config::default();
    /// config.max_connections = 50_000;
    /// carafe::App::new().run().config(config).serve()?;
    /// # Ok::<(), carafe::Error>(())
    /// ```
    pub fn config(self, config: Config) -> Self {
        self.map(|inner| inner.config(config))
    }

    /// Runs the server until Ctrl-C or `SIGTERM`, then finishes the requests in flight
    /// and returns. First fails, without binding, if [`App::check`] found the app unfit
    /// to serve (a handler needs state the app lacks, say).
    ///
    /// ```no_run
    /// carafe::App::new().run().serve()?;
    /// # Ok::<(), carafe::Error>(())
    /// ```
    pub fn serve(self) -> Result<(), Error> {
        let Run {
            mut inner,
            reload,
            startup_error,
        } = self;
        if let Some(error) = startup_error {
            return Err(error);
        }
        let debug = inner.app_mut().debug();
        inner
            .reload(reload.unwrap_or(debug))
            .serve()
            .map_err(Error::from)
    }
}
