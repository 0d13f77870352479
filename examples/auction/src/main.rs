//! The live auction: `cargo run --release -p auction -- --port 8082` (or `make run`).
//!
//! ```text
//! auction [--data DIR] [--no-demo] [--origin URL]... [--host H] [--port P] [flask run's flags]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use auction::{build, socket_io_client_dir, Options};
use carafe::cli::RunArgs;
use clap::Parser;

/// A live auction on carafe: accounts, items with photos, bids over Socket.IO.
#[derive(Debug, Parser)]
#[command(about, long_about = None)]
struct Args {
    /// The data folder: the SQLite database and the uploaded images.
    #[arg(
        long,
        env = "AUCTION_DATA",
        default_value = "auction-data",
        value_name = "DIR"
    )]
    data: PathBuf,

    /// Do not seed the demo items into an empty database.
    #[arg(long)]
    no_demo: bool,

    /// Another origin allowed to open Socket.IO sessions (besides http://localhost:PORT
    /// and http://127.0.0.1:PORT); repeat for several.
    #[arg(long = "origin", value_name = "URL")]
    origins: Vec<String>,

    #[command(flatten)]
    run: RunArgs,
}

/// The origins the seed app lists in `cors_allowed_origins`: this server, by name and by
/// address, plus any given with `--origin`.
fn origins(args: &Args) -> Vec<String> {
    let port = args.run.port;
    let mut origins = vec![
        format!("http://localhost:{port}"),
        format!("http://127.0.0.1:{port}"),
    ];
    if args.run.host != "127.0.0.1" && args.run.host != "0.0.0.0" {
        origins.push(format!("http://{}:{port}", args.run.host));
    }
    origins.extend(args.origins.iter().cloned());
    origins
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(message) = args.run.check() {
        eprintln!("error: {message}");
        return ExitCode::from(2);
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_target(false)
        .init();
    if !socket_io_client_dir().join("socket.io.min.js").exists() {
        tracing::warn!(
            "socket.io-client is missing: run `npm ci --prefix examples/auction` (make run does)"
        );
    }
    let options = Options {
        data: args.data.clone(),
        demo: !args.no_demo,
        origins: origins(&args),
    };
    let (app, sio) = match build(&options) {
        Ok(built) => built,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("data folder: {}", options.data.display());
    match args.run.apply(sio.run(app)).serve() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
