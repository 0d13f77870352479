//! TLS: HTTPS with rustls under the HTTP/1.1 connection (Werkzeug's `ssl_context`).
//!
//! A [`TlsConfig`] says where the certificate comes from: PEM files, a ready
//! `rustls::ServerConfig`, or [`TlsConfig::adhoc`], a self-signed development certificate
//! made with rcgen for `localhost`, `127.0.0.1` and `::1`. Unlike Werkzeug's adhoc
//! certificate it names those hosts, so a client told to trust it
//! (`curl --cacert PATH https://localhost:5000/`) verifies it instead of skipping
//! verification. The certificate is written to a private temporary directory, whose path
//! the banner prints, and worker processes (prefork, the reloader's children) load that
//! same certificate rather than making their own.
//!
//! Each accepted connection does its handshake in its own task, bounded by the header
//! read deadline, never in the accept loop: a slow or silent client costs one task, not
//! the listener. ALPN offers `http/1.1`. A client that speaks plain HTTP to the TLS port
//! gets a plain `400` saying to use `https://`, then the connection closes.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::error::{BoxError, Error};
use crate::gateway::Application;
use crate::http1::Io;
use crate::registry::ConnGuard;
use crate::server::Shared;

/// The environment variable naming the directory of an adhoc certificate made by a parent
/// process, so that its workers serve the same certificate.
pub(crate) const ADHOC_DIR_VAR: &str = "CARAFE_SERVE_ADHOC_DIR";
/// The hosts the adhoc certificate is valid for.
const ADHOC_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];
/// The first byte of a TLS handshake record (RFC 8446 §5.1, `ContentType.handshake`).
const HANDSHAKE_RECORD: u8 = 0x16;

/// Where a server's TLS certificate and key come from; give it to
/// [`RunSimple::tls`](crate::RunSimple::tls) or [`TcpServer::tls`](crate::TcpServer::tls).
///
/// ```no_run
/// use carafe_serve::{run_simple, Body, Request, Response, TlsConfig};
///
/// fn main() -> Result<(), carafe_serve::Error> {
///     run_simple(|_req: Request| async { Response::new(Body::from("secure")) })
///         .tls(TlsConfig::from_pem_files("cert.pem", "key.pem"))
///         .port(8443)
///         .serve()
/// }
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    source: Source,
}

#[derive(Clone)]
enum Source {
    /// A self-signed certificate made at startup.
    Adhoc,
    /// A certificate chain and a private key in PEM files.
    PemFiles { cert: PathBuf, key: PathBuf },
    /// A configuration built by the caller.
    Rustls(Arc<ServerConfig>),
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.source {
            Source::Adhoc => f.write_str("TlsConfig::adhoc()"),
            Source::PemFiles { cert, key } => f
                .debug_struct("TlsConfig")
                .field("cert", cert)
                .field("key", key)
                .finish(),
            Source::Rustls(_) => f.write_str("TlsConfig::from_rustls(..)"),
        }
    }
}

impl TlsConfig {
    /// A self-signed development certificate for `localhost`, `127.0.0.1` and `::1`,
    /// made when the server starts (`ssl_context="adhoc"` in Werkzeug). The banner prints
    /// where its PEM file is, for `curl --cacert`; it is removed when the server stops.
    ///
    /// ```no_run
    /// use carafe_serve::{run_simple, Body, Request, Response, TlsConfig};
    ///
    /// run_simple(|_req: Request| async { Response::new(Body::from("hi")) })
    ///     .tls(TlsConfig::adhoc())
    ///     .serve()?;
    /// # Ok::<(), carafe_serve::Error>(())
    /// ```
    pub fn adhoc() -> Self {
        TlsConfig {
            source: Source::Adhoc,
        }
    }

    /// A certificate chain (leaf first) and its private key (PKCS#8, PKCS#1 or SEC1), each
    /// in a PEM file. The files are read when the server starts; an unreadable file is a
    /// startup error naming it.
    ///
    /// ```
    /// let tls = carafe_serve::TlsConfig::from_pem_files("/etc/ssl/site.pem", "/etc/ssl/site.key");
    /// # let _ = tls;
    /// ```
    pub fn from_pem_files(cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        TlsConfig {
            source: Source::PemFiles {
                cert: cert.into(),
                key: key.into(),
            },
        }
    }

    /// A rustls configuration of your own (client certificates, other protocols). Set its
    /// `alpn_protocols` to `[b"http/1.1"]` if you want ALPN.
    ///
    /// ```no_run
    /// # fn config() -> rustls::ServerConfig { unimplemented!() }
    /// let tls = carafe_serve::TlsConfig::from_rustls(std::sync::Arc::new(config()));
    /// # let _ = tls;
    /// ```
    pub fn from_rustls(config: Arc<ServerConfig>) -> Self {
        TlsConfig {
            source: Source::Rustls(config),
        }
    }

    /// Makes or reads the certificate and builds the acceptor.
    pub(crate) fn load(&self) -> Result<Loaded, Error> {
        match &self.source {
            Source::Rustls(config) => Ok(Loaded {
                acceptor: TlsAcceptor::from(Arc::clone(config)),
                adhoc: None,
            }),
            Source::PemFiles { cert, key } => Ok(Loaded {
                acceptor: acceptor_from_files(cert, key)?,
                adhoc: None,
            }),
            Source::Adhoc => {
                let adhoc = AdhocCert::inherited().map_or_else(AdhocCert::create, Ok)?;
                let acceptor = acceptor_from_files(&adhoc.cert_path(), &adhoc.key_path())?;
                Ok(Loaded {
                    acceptor,
                    adhoc: Some(adhoc),
                })
            }
        }
    }
}

/// A loaded TLS configuration: the acceptor, and the adhoc certificate's files if any.
pub(crate) struct Loaded {
    /// Does the handshakes.
    pub(crate) acceptor: TlsAcceptor,
    /// The adhoc certificate, removed when this is dropped by the process that made it.
    pub(crate) adhoc: Option<AdhocCert>,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("adhoc", &self.adhoc)
            .finish_non_exhaustive()
    }
}

impl Loaded {
    /// The environment a worker process needs to serve the same certificate.
    pub(crate) fn child_env(&self) -> Option<(&'static str, std::ffi::OsString)> {
        self.adhoc
            .as_ref()
            .map(|adhoc| (ADHOC_DIR_VAR, adhoc.dir.clone().into_os_string()))
    }
}

/// The adhoc certificate's directory (`cert.pem`, `key.pem`).
#[derive(Debug)]
pub(crate) struct AdhocCert {
    dir: PathBuf,
    /// This process made the directory and removes it on drop.
    owner: bool,
}

impl AdhocCert {
    /// The certificate a parent process made, when this process is its worker.
    fn inherited() -> Option<AdhocCert> {
        let dir = PathBuf::from(std::env::var_os(ADHOC_DIR_VAR)?);
        let adhoc = AdhocCert { dir, owner: false };
        (adhoc.cert_path().is_file() && adhoc.key_path().is_file()).then_some(adhoc)
    }

    /// Makes a certificate and writes it to a new private directory.
    fn create() -> Result<AdhocCert, Error> {
        // One directory per certificate: a process may run several servers.
        static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let number = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("carafe-adhoc-{}-{number}", std::process::id());
        let dir = std::env::temp_dir().join(name);
        let tls_error = |context: String| {
            move |source: std::io::Error| Error::Tls {
                context,
                source: source.into(),
            }
        };
        let (cert_pem, key_pem) = generate_adhoc().map_err(|source| Error::Tls {
            context: "cannot generate the adhoc certificate".to_owned(),
            source,
        })?;
        // A directory left by an earlier process with the same pid is stale.
        let _ = std::fs::remove_dir_all(&dir);
        let adhoc = AdhocCert { dir, owner: true };
        write_private(&adhoc.dir, None)
            .map_err(tls_error(format!("cannot create {}", adhoc.dir.display())))?;
        let cert_path = adhoc.cert_path();
        write_private(&cert_path, Some(cert_pem.as_bytes()))
            .map_err(tls_error(format!("cannot write {}", cert_path.display())))?;
        let key_path = adhoc.key_path();
        write_private(&key_path, Some(key_pem.as_bytes()))
            .map_err(tls_error(format!("cannot write {}", key_path.display())))?;
        Ok(adhoc)
    }

    /// The certificate's PEM file: what a client passes to `curl --cacert`.
    pub(crate) fn cert_path(&self) -> PathBuf {
        self.dir.join("cert.pem")
    }

    fn key_path(&self) -> PathBuf {
        self.dir.join("key.pem")
    }
}

impl Drop for AdhocCert {
    fn drop(&mut self) {
        if self.owner {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Creates a directory (`contents: None`) or a file readable by this user only.
fn write_private(path: &Path, contents: Option<&[u8]>) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let Some(contents) = contents else {
        return std::fs::DirBuilder::new().mode(0o700).create(path);
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    std::io::Write::write_all(&mut file, contents)
}

/// A self-signed certificate for [`ADHOC_HOSTS`], as PEM (certificate, private key).
fn generate_adhoc() -> Result<(String, String), BoxError> {
    let hosts: Vec<String> = ADHOC_HOSTS.iter().map(|&host| host.to_owned()).collect();
    let mut params = rcgen::CertificateParams::new(hosts)?;
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        "carafe development certificate (localhost)",
    );
    let key = rcgen::KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Reads a PEM certificate chain and key into an acceptor that offers ALPN `http/1.1`.
fn acceptor_from_files(cert: &Path, key: &Path) -> Result<TlsAcceptor, Error> {
    let file_error = |path: &Path| {
        let context = format!("cannot read the TLS file {}", path.display());
        move |source: rustls::pki_types::pem::Error| Error::Tls {
            context,
            source: source.into(),
        }
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(file_error(cert))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(file_error(cert))?;
    if chain.is_empty() {
        return Err(Error::Tls {
            context: format!("cannot read the TLS file {}", cert.display()),
            source: "it holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
        });
    }
    let private_key = PrivateKeyDer::from_pem_file(key).map_err(|error| match error {
        rustls::pki_types::pem::Error::NoItemsFound => Error::Tls {
            context: format!("cannot read the TLS file {}", key.display()),
            source: "it holds no PEM private key (-----BEGIN PRIVATE KEY-----)".into(),
        },
        other => file_error(key)(other),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| {
            builder
                .with_no_client_auth()
                .with_single_cert(chain, private_key)
        })
        .map_err(|source| Error::Tls {
            context: format!(
                "cannot use the certificate {} with the key {}",
                cert.display(),
                key.display()
            ),
            source: source.into(),
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

impl Io for TlsStream<TcpStream> {
    const BUFFERS_WRITES: bool = true;

    fn readable(&self) -> impl std::future::Future<Output = std::io::Result<()>> + Send {
        // Only called after a read found nothing decoded inside rustls, so waiting on the
        // socket misses nothing.
        self.get_ref().0.readable()
    }
}

/// Serves one accepted TCP connection over TLS: the handshake (bounded by the header
/// read deadline), then the HTTP/1.1 connection over the TLS stream.
pub(crate) async fn serve_connection<A: Application>(
    acceptor: TlsAcceptor,
    stream: TcpStream,
    guard: ConnGuard,
    app: Arc<A>,
    shared: Arc<Shared>,
) {
    let deadline = Instant::now() + shared.config.timeouts.header_read;
    let handshake = tokio::time::timeout_at(deadline, handshake(acceptor, stream)).await;
    let stream = match handshake {
        Ok(Some(stream)) => stream,
        Ok(None) => return,
        Err(_) => {
            tracing::debug!(target: "carafe::tls", peer = %guard.stats.peer_addr, "TLS handshake timed out");
            return;
        }
    };
    crate::http1::serve_connection(stream, guard, app, shared).await;
}

/// Runs the server side of the handshake; `None` if it failed (logged at debug level: a
/// client that gives up is no server error).
async fn handshake(acceptor: TlsAcceptor, mut stream: TcpStream) -> Option<TlsStream<TcpStream>> {
    let mut first = [0u8; 1];
    match stream.peek(&mut first).await {
        Ok(1..) if first[0] == HANDSHAKE_RECORD => {}
        Ok(1..) => {
            refuse_plain_http(&mut stream).await;
            return None;
        }
        Ok(0) | Err(_) => return None,
    }
    match acceptor.accept(stream).await {
        Ok(stream) => Some(stream),
        Err(error) => {
            tracing::debug!(target: "carafe::tls", "TLS handshake failed: {error}");
            None
        }
    }
}

/// Answers a plain-HTTP request on the TLS port with a `400` that says what to do, and
/// closes after reading what the client sent, so it sees the answer rather than a reset.
async fn refuse_plain_http(stream: &mut TcpStream) {
    const BODY: &str = "This server speaks HTTPS: use an https:// URL.\n";
    let answer = format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{BODY}",
        BODY.len()
    );
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut discard = [0u8; 4096];
    // Read the request head first, as far as it has arrived.
    let _ = tokio::time::timeout(Duration::from_millis(50), stream.read(&mut discard)).await;
    if stream.write_all(answer.as_bytes()).await.is_err() {
        return;
    }
    let _ = stream.shutdown().await;
    let mut left = 64 * 1024usize;
    while left > 0 {
        match tokio::time::timeout_at(deadline, stream.read(&mut discard)).await {
            Ok(Ok(read)) if read > 0 => left = left.saturating_sub(read),
            _ => return,
        }
    }
}
