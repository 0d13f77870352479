//! The command line: `flask run`'s options for a carafe program.
//!
//! [`run`] parses the program's arguments with clap and serves the app, so that every
//! carafe program takes the same options:
//!
//! ```text
//! hello --host 0.0.0.0 --port 8082 --workers 4 --processes 2 --no-access-log
//! ```
//!
//! Each option can also come from the environment, as `FLASK_RUN_HOST` does for Flask:
//! `CARAFE_RUN_HOST`, `CARAFE_RUN_PORT`, `CARAFE_RUN_WORKERS`, `CARAFE_RUN_PROCESSES` and
//! `CARAFE_RUN_NO_ACCESS_LOG` (`true` or `false`). An argument wins over the environment.

use clap::builder::RangedU64ValueParser;
use clap::Parser;

use crate::app::App;
use crate::error::Error;
use crate::run::Run;

/// Serves `app` with the options on the command line (see the [module docs](self)).
///
/// On `--help` it prints the options and exits; on a bad option it prints what is wrong
/// and exits with status 2, as clap does.
///
/// ```no_run
/// use carafe::{get, App};
///
/// fn main() -> Result<(), carafe::Error> {
///     let mut app = App::new();
///     app.route("/", get(|| async { "Hello, World!" }));
///     carafe::cli::run(app)
/// }
/// ```
pub fn run(app: App) -> Result<(), Error> {
    RunArgs::parse().apply(app.run()).serve()
}

/// The options of [`run`], for programs that parse their own command line with clap
/// (`#[command(flatten)]`).
///
/// ```
/// use carafe::cli::RunArgs;
/// use clap::Parser;
///
/// let args = RunArgs::try_parse_from(["hello", "--port", "8082", "--no-access-log"])?;
/// assert_eq!(args.host, "127.0.0.1");
/// assert_eq!(args.port, 8082);
/// assert!(args.no_access_log);
/// # Ok::<(), clap::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Parser)]
#[command(about = "Serves the app over HTTP, as `flask run` does", long_about = None)]
#[non_exhaustive]
pub struct RunArgs {
    /// The interface to bind to: an address or a host name; 0.0.0.0 for every interface.
    #[arg(long, env = "CARAFE_RUN_HOST", default_value = "127.0.0.1")]
    pub host: String,

    /// The port to bind to; 0 picks a free one.
    #[arg(long, env = "CARAFE_RUN_PORT", default_value_t = 5000)]
    pub port: u16,

    /// Worker threads [default: one per CPU core].
    #[arg(long, env = "CARAFE_RUN_WORKERS", value_parser = RangedU64ValueParser::<usize>::new().range(1..))]
    pub workers: Option<usize>,

    /// Worker processes sharing the listening socket.
    #[arg(long, env = "CARAFE_RUN_PROCESSES", default_value_t = 1, value_parser = RangedU64ValueParser::<usize>::new().range(1..))]
    pub processes: usize,

    /// Do not log a line per request.
    #[arg(long, env = "CARAFE_RUN_NO_ACCESS_LOG")]
    pub no_access_log: bool,
}

impl RunArgs {
    /// Applies the options to a [`Run`].
    ///
    /// ```no_run
    /// use carafe::cli::RunArgs;
    /// use clap::Parser;
    ///
    /// let app = carafe::App::new();
    /// RunArgs::parse().apply(app.run()).serve()?;
    /// # Ok::<(), carafe::Error>(())
    /// ```
    pub fn apply(&self, run: Run) -> Run {
        let run = run
            .host(self.host.clone())
            .port(self.port)
            .processes(self.processes)
            .access_log(!self.no_access_log);
        match self.workers {
            Some(workers) => run.workers(workers),
            None => run,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<RunArgs, clap::Error> {
        RunArgs::try_parse_from(std::iter::once("carafe").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_are_flasks() {
        let args = parse(&[]).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(args.host, "127.0.0.1");
        assert_eq!(args.port, 5000);
        assert_eq!(args.workers, None);
        assert_eq!(args.processes, 1);
        assert!(!args.no_access_log);
    }

    #[test]
    fn every_option_is_read() {
        let args = parse(&[
            "--host",
            "0.0.0.0",
            "--port",
            "8082",
            "--workers",
            "3",
            "--processes",
            "2",
            "--no-access-log",
        ])
        .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(args.host, "0.0.0.0");
        assert_eq!(args.port, 8082);
        assert_eq!(args.workers, Some(3));
        assert_eq!(args.processes, 2);
        assert!(args.no_access_log);
    }

    #[test]
    fn bad_values_are_refused() {
        for bad in [
            &["--port", "70000"][..],
            &["--workers", "0"],
            &["--processes", "0"],
            &["--bogus"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
