//! carafe's flagship example: a live auction.
//!
//! People sign up and log in (argon2 password hashes, the signed-cookie session), list
//! items with a photo (a multipart upload, checked by its bytes), and bid live: the item
//! page joins the Socket.IO room `item:<id>` on the `/item` namespace, a bid is a
//! Socket.IO event whose ack says accepted or why not, every viewer sees it at once, and
//! the server closes the auction on time and announces the winner to the room. Data
//! lives in SQLite under a data folder and survives restarts.
//!
//! | module | owns |
//! |---|---|
//! | [`accounts`] | sign-up, log-in, log-out, password hashing, the current user |
//! | [`items`] | the home page, listing an item, the item page |
//! | [`images`] | upload checks, image storage, serving with ETags |
//! | [`live`] | the `/item` namespace: watching, bidding, closing on time |
//! | [`bids`] | the auction's rules and money as text, without I/O |
//! | [`db`] | the SQLite schema and queries |
//! | [`demo`] | the demo items seeded into an empty database |
//!
//! [`build`] makes the [`App`] and its [`SocketIo`] from [`Options`]; `main.rs` parses
//! the command line and serves them with `sio.run(app)`.

pub mod accounts;
pub mod bids;
pub mod db;
pub mod demo;
pub mod images;
pub mod items;
pub mod live;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use carafe::extract::MultipartLimits;
use carafe::http::{HeaderMap, Method};
use carafe::response::send_from_directory;
use carafe::{get, post, App, Path as UrlPath, Response};
use carafe_socketio::SocketIo;

use crate::db::Db;
use crate::live::Live;

/// The example's own folder: templates, static files, and `node_modules` (where
/// `npm ci` puts `socket.io-client`).
pub const CRATE_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// How to build the auction.
#[derive(Debug, Clone)]
pub struct Options {
    /// The data folder: the SQLite file and the images.
    pub data: PathBuf,
    /// Whether to seed the demo items into an empty database.
    pub demo: bool,
    /// The origins allowed to open Socket.IO sessions (`cors_allowed_origins`).
    pub origins: Vec<String>,
}

/// What handlers share: the database, the data folder and the live side.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    db: Arc<Db>,
    data: PathBuf,
    live: Live,
}

impl AppState {
    /// The database.
    pub fn db(&self) -> &Db {
        &self.0.db
    }

    /// Where images are stored.
    pub fn images_dir(&self) -> PathBuf {
        images::images_dir(&self.0.data)
    }

    /// The live side: rooms, bids, closing.
    pub fn live(&self) -> &Live {
        &self.0.live
    }
}

/// Why the auction cannot start.
#[derive(Debug)]
pub enum StartError {
    /// The data folder could not be created.
    DataFolder(PathBuf, std::io::Error),
    /// The database could not be opened or seeded.
    Database(rusqlite::Error),
    /// The demo images could not be written.
    Demo(std::io::Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::DataFolder(path, error) => {
                write!(
                    f,
                    "cannot create the data folder {}: {error}",
                    path.display()
                )
            }
            StartError::Database(error) => write!(f, "database error: {error}"),
            StartError::Demo(error) => write!(f, "cannot write the demo images: {error}"),
        }
    }
}

impl std::error::Error for StartError {}

impl From<rusqlite::Error> for StartError {
    fn from(error: rusqlite::Error) -> Self {
        StartError::Database(error)
    }
}

/// Milliseconds since the Unix epoch, by the server's clock: the only clock bids and
/// closing go by.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

/// Builds the auction: opens (or creates) the data folder, seeds the demo once, and
/// returns the app and the Socket.IO server to serve together with `sio.run(app)`.
pub fn build(options: &Options) -> Result<(App, SocketIo), StartError> {
    let images = images::images_dir(&options.data);
    std::fs::create_dir_all(&images)
        .map_err(|error| StartError::DataFolder(images.clone(), error))?;
    let db = Arc::new(Db::open(&options.data.join("auction.sqlite3"))?);
    if options.demo {
        demo::seed_once(&db, &images)?;
    }
    let secret = session_secret(&db)?;
    let sio = SocketIo::builder()
        .cors_allowed_origins(options.origins.clone())
        .build();
    let live = Live::new(sio.clone(), db.clone());
    live.register();
    let state = AppState(Arc::new(Shared {
        db,
        data: options.data.clone(),
        live,
    }));
    Ok((app(state, &secret), sio))
}

/// The session secret: `CARAFE_SECRET_KEY` if set, else one made on first start and
/// kept in the database, so that sessions survive restarts.
fn session_secret(db: &Db) -> Result<String, StartError> {
    if let Ok(secret) = std::env::var("CARAFE_SECRET_KEY") {
        if !secret.is_empty() {
            return Ok(secret);
        }
    }
    if let Some(secret) = db.meta("secret_key")? {
        return Ok(secret);
    }
    let secret = images::random_hex(32);
    db.set_meta("secret_key", &secret)?;
    Ok(secret)
}

fn app(state: AppState, secret: &str) -> App {
    let mut app = App::new();
    app.secret_key(secret)
        .template_folder(Path::new(CRATE_DIR).join("templates"))
        .static_folder(Path::new(CRATE_DIR).join("static"))
        .max_content_length(
            usize::try_from(images::MAX_IMAGE_BYTES).unwrap_or(usize::MAX) + 64 * 1024,
        )
        .multipart_limits(
            MultipartLimits::default()
                .max_parts(16)
                .max_part_size(images::MAX_IMAGE_BYTES),
        );
    app.state(state);
    app.route("/", get(items::index))
        .route("/signup", get(accounts::signup_page).post(accounts::signup))
        .route("/login", get(accounts::login_page).post(accounts::login))
        .route("/logout", post(accounts::logout))
        .route("/items/new", get(items::new_page).post(items::create))
        .route("/items/<int:id>", get(items::show))
        .route("/images/<name>", get(images::serve))
        .route("/vendor/socket.io/<name>", get(socket_io_client));
    app
}

/// Where `npm ci --prefix examples/auction` puts the browser client.
pub fn socket_io_client_dir() -> PathBuf {
    Path::new(CRATE_DIR).join("node_modules/socket.io-client/dist")
}

/// `GET /vendor/socket.io/<name>`: the official `socket.io-client` build from npm.
async fn socket_io_client(
    UrlPath(name): UrlPath<String>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    send_from_directory(socket_io_client_dir(), &name)
        .respond(&method, &headers)
        .await
}
