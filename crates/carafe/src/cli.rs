//! The command line: `flask run`'s options for a carafe program, and `flask routes`.
//!
//! [`run`] parses the program's arguments with clap and serves the app, so that every
//! carafe program takes the same options:
//!
//! ```text
//! hello --host 0.0.0.0 --port 8082 --workers 4 --processes 2 --no-access-log
//! hello --debug                       # debug mode and the reloader
//! hello --cert adhoc                  # HTTPS with a development certificate
//! hello --cert site.pem --key site.key
//! hello routes                        # the URL map
//! ```
//!
//! Each option can also come from the environment, as `FLASK_RUN_HOST` does for Flask:
//! `CARAFE_RUN_HOST`, `CARAFE_RUN_PORT`, `CARAFE_RUN_WORKERS`, `CARAFE_RUN_PROCESSES`,
//! `CARAFE_RUN_NO_ACCESS_LOG`, `CARAFE_RUN_RELOAD`, `CARAFE_RUN_WATCH`, `CARAFE_RUN_CERT`,
//! `CARAFE_RUN_KEY`, and `CARAFE_DEBUG` (as `FLASK_DEBUG`); flags take `true` or `false`.
//! An argument wins over the environment.

use std::io::Write as _;
use std::path::PathBuf;

use clap::builder::RangedU64ValueParser;
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use crate::app::App;
use crate::error::Error;
use crate::routing::Router;
use crate::run::Run;

/// Serves `app` with the options on the command line, or runs its subcommand (see the
/// [module docs](self)).
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
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Routes(routes)) => {
            let table = routes.table(app.router());
            // A closed pipe (`hello routes | head`) is no error worth a message.
            let _ = std::io::stdout().lock().write_all(table.as_bytes());
            Ok(())
        }
        None => {
            if let Err(message) = cli.run.check() {
                Cli::command()
                    .error(clap::error::ErrorKind::ArgumentConflict, message)
                    .exit();
            }
            cli.run.apply(app.run()).serve()
        }
    }
}

/// The whole command line: the run options, or a subcommand.
#[derive(Debug, Parser)]
#[command(
    about = "Serves the app over HTTP, as `flask run` does",
    long_about = None,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Lists the app's routes, as `flask routes` does.
    Routes(RoutesArgs),
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

    /// Debug mode (development only): `App::debug` is on, and so is the reloader.
    #[arg(long, env = "CARAFE_DEBUG")]
    pub debug: bool,

    /// Rebuild and restart on source changes, on the same socket [default: on with --debug].
    #[arg(long, env = "CARAFE_RUN_RELOAD", overrides_with = "no_reload")]
    pub reload: bool,

    /// Do not reload, even with --debug.
    #[arg(long, overrides_with = "reload")]
    pub no_reload: bool,

    /// The package directory the reloader watches [default: CARGO_MANIFEST_DIR, set by cargo run].
    #[arg(long, env = "CARAFE_RUN_WATCH", value_name = "DIR")]
    pub watch: Option<PathBuf>,

    /// Serve HTTPS: `adhoc` for a development certificate, or a PEM certificate file.
    #[arg(long, env = "CARAFE_RUN_CERT", value_name = "adhoc|FILE")]
    pub cert: Option<String>,

    /// The certificate's PEM private key [default: the --cert file, if it holds both].
    #[arg(long, env = "CARAFE_RUN_KEY", value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
}

impl RunArgs {
    /// Checks what clap cannot: `--key` makes no sense with `--cert adhoc`.
    ///
    /// ```
    /// use carafe::cli::RunArgs;
    /// use clap::Parser;
    ///
    /// let args = RunArgs::try_parse_from(["hello", "--cert", "adhoc", "--key", "k.pem"])?;
    /// assert!(args.check().is_err());
    /// # Ok::<(), clap::Error>(())
    /// ```
    pub fn check(&self) -> Result<(), String> {
        match (self.cert.as_deref(), &self.key) {
            (Some("adhoc"), Some(_)) => {
                Err("--key goes with --cert FILE; --cert adhoc makes its own key".to_owned())
            }
            _ => Ok(()),
        }
    }

    /// Whether the reloader runs: `--reload`/`--no-reload`, else debug mode.
    ///
    /// ```
    /// use carafe::cli::RunArgs;
    /// use clap::Parser;
    ///
    /// assert!(RunArgs::try_parse_from(["hello", "--debug"])?.reloads());
    /// assert!(!RunArgs::try_parse_from(["hello", "--debug", "--no-reload"])?.reloads());
    /// assert!(RunArgs::try_parse_from(["hello", "--reload"])?.reloads());
    /// # Ok::<(), clap::Error>(())
    /// ```
    pub fn reloads(&self) -> bool {
        match (self.reload, self.no_reload) {
            (_, true) => false,
            (true, _) => true,
            _ => self.debug,
        }
    }

    /// Applies the options to a [`Run`]. With `--cert adhoc` a `--key` is ignored (see
    /// [`check`](Self::check)).
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
        let mut run = run
            .host(self.host.clone())
            .port(self.port)
            .processes(self.processes)
            .access_log(!self.no_access_log)
            .debug(self.debug)
            .reload(self.reloads());
        if let Some(workers) = self.workers {
            run = run.workers(workers);
        }
        if let Some(dir) = &self.watch {
            run = run.watch(dir.clone());
        }
        match (self.cert.as_deref(), &self.key) {
            (Some("adhoc"), _) => run.cert_adhoc(),
            (Some(cert), key) => {
                let key = key.clone().unwrap_or_else(|| PathBuf::from(cert));
                run.tls(carafe_serve::TlsConfig::from_pem_files(cert, key))
            }
            (None, _) => run,
        }
    }
}

/// The options of the `routes` subcommand (`flask routes`).
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
struct RoutesArgs {
    /// The order of the rows.
    #[arg(long, short, value_enum, default_value_t = SortBy::Endpoint)]
    sort: SortBy,
    /// Show HEAD and OPTIONS too.
    #[arg(long)]
    all_methods: bool,
}

/// How `routes` sorts its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SortBy {
    /// By endpoint name.
    Endpoint,
    /// By the methods' list.
    Methods,
    /// By rule.
    Rule,
    /// In matching (registration) order.
    Match,
}

impl RoutesArgs {
    /// The URL map as a table: `Endpoint`, `Methods`, `Rule`.
    fn table(&self, router: &Router) -> String {
        let mut rows: Vec<[String; 3]> = router
            .rules()
            .map(|info| {
                let methods = info
                    .methods()
                    .filter(|method| self.all_methods || !matches!(*method, "HEAD" | "OPTIONS"))
                    .collect::<Vec<_>>()
                    .join(", ");
                [info.endpoint().to_owned(), methods, info.rule().to_owned()]
            })
            .collect();
        match self.sort {
            SortBy::Endpoint => rows.sort_by(|a, b| a[0].cmp(&b[0])),
            SortBy::Methods => rows.sort_by(|a, b| a[1].cmp(&b[1])),
            SortBy::Rule => rows.sort_by(|a, b| a[2].cmp(&b[2])),
            SortBy::Match => {}
        }
        let header = ["Endpoint", "Methods", "Rule"].map(str::to_owned);
        let widths = [0, 1, 2].map(|column| {
            let cells = rows.iter().chain([&header]).map(|row| row[column].len());
            cells.max().unwrap_or(0)
        });
        let rule = widths.map(|width| "-".repeat(width));
        let mut table = String::new();
        for row in [&header, &rule].into_iter().chain(rows.iter()) {
            let line = format!(
                "{:w0$}  {:w1$}  {}",
                row[0],
                row[1],
                row[2],
                w0 = widths[0],
                w1 = widths[1]
            );
            table.push_str(line.trim_end());
            table.push('\n');
        }
        table
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
