//! `app.run()`: serving an [`App`] with the serving layer's `run_simple`.
//!
//! [`Run`] wraps [`carafe_serve::RunSimple`] so that the options Flask's `app.run` grows
//! later (debug mode, the reloader) have a place, and so that errors are carafe's
//! [`Error`].

use carafe_serve::{Config, RunSimple};

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
    /// What [`App::check`] found wrong, reported by [`Run::serve`] before binding.
    startup_error: Option<Error>,
}

impl Run {
    pub(crate) fn new(app: App) -> Self {
        let startup_error = app.check().err();
        Run {
            inner: carafe_serve::run_simple(app),
            startup_error,
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
        Run {
            inner: self.inner.host(host),
            startup_error: self.startup_error,
        }
    }

    /// The port; 0 picks a free one. Default 5000, as Flask's.
    ///
    /// ```no_run
    /// carafe::App::new().run().port(8082).serve()?;
    /// # Ok::<(), carafe::Error>(())
    /// ```
    pub fn port(self, port: u16) -> Self {
        Run {
            inner: self.inner.port(port),
            startup_error: self.startup_error,
        }
    }

    /// Worker threads (default: one per CPU core).
    ///
    /// ```no_run
    /// carafe::App::new().run().workers(2).serve()?;
    /// # Ok::<(), carafe::Error>(())
    /// ```
    pub fn workers(self, workers: usize) -> Self {
        Run {
            inner: self.inner.workers(workers),
            startup_error: self.startup_error,
        }
    }

    /// Worker processes sharing the listening socket (default 1). Each is this program
    /// started again, so the app must be built the same way in every process.
    ///
    /// ```no_run
    /// carafe::App::new().run().processes(4).serve()?;
    /// # Ok::<(), carafe::Error>(())
    /// ```
    pub fn processes(self, processes: usize) -> Self {
        Run {
            inner: self.inner.processes(processes),
            startup_error: self.startup_error,
        }
    }

    /// Turns the one-line-per-request access log on or off (default on).
    ///
    /// ```no_run
    /// carafe::App::new().run().access_log(false).serve()?;
    /// # Ok::<(), carafe::Error>(())
    /// ```
    pub fn access_log(self, on: bool) -> Self {
        Run {
            inner: self.inner.access_log(on),
            startup_error: self.startup_error,
        }
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
        Run {
            inner: self.inner.config(config),
            startup_error: self.startup_error,
        }
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
        if let Some(error) = self.startup_error {
            return Err(error);
        }
        self.inner.serve().map_err(Error::from)
    }
}
