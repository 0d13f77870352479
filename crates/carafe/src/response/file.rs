//! Sending files: Flask's `send_file`, with Werkzeug's conditional and range handling.
//!
//! [`send_file`] starts a [`SendFile`] builder; [`SendFile::respond`] reads the file's
//! metadata, evaluates the request's preconditions ([`conditional`](super::conditional))
//! and `Range` ([`range`](super::range)), and answers `200`, `206`, `304`, `412` or `416`.
//! The body is read from disk in [`CHUNK_SIZE`] pieces while it is written to the client,
//! so a file of any size costs one chunk of memory per response.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use carafe_serve::{Body, Response};
use http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE,
    ETAG, EXPIRES, LAST_MODIFIED, RANGE,
};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use http_body::{Frame, SizeHint};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use tokio::io::{AsyncRead, AsyncSeekExt, ReadBuf};

use super::conditional::{self, Decision, ETag, Validators};
use super::range::{self, RangeRequest};
use super::static_files::resolve_in_directory;
use crate::error::HttpError;
use crate::extract::RequestParts;
use crate::response::IntoResponse;

/// How many bytes a file body reads from disk at a time: 64 KiB.
pub const CHUNK_SIZE: usize = 64 * 1024;

/// Starts a response that sends the file at `path` (Flask's `send_file`).
///
/// By default the answer is conditional (`ETag`, `Last-Modified`, `304`), honours
/// `Range` (`206`, `416`), guesses `Content-Type` from the extension, says
/// `Content-Disposition: inline` with the file's name, and `Cache-Control: no-cache`
/// (caches keep the file but revalidate it, which costs a `304`). `path` is trusted: for
/// a path that comes from the request, use
/// [`send_from_directory`](crate::response::send_from_directory).
///
/// The builder needs the request's method and headers to answer, so it ends with
/// [`respond`](SendFile::respond) (method and headers) or
/// [`respond_to`](SendFile::respond_to) (a [`RequestParts`]):
///
/// ```
/// use carafe::response::send_file;
/// use carafe::{get, Response};
/// use http::{HeaderMap, Method};
///
/// async fn report(method: Method, headers: HeaderMap) -> Response {
///     send_file("reports/q3.pdf")
///         .as_attachment(true)
///         .download_name("Q3 report.pdf")
///         .respond(&method, &headers)
///         .await
/// }
/// # let _ = get(report);
/// ```
pub fn send_file(path: impl Into<PathBuf>) -> SendFile {
    SendFile {
        path: path.into(),
        directory: None,
        as_attachment: false,
        download_name: None,
        mimetype: None,
        max_age: None,
        conditional: true,
        etag: true,
    }
}

/// A file response being configured; see [`send_file`].
#[derive(Debug, Clone)]
#[must_use = "a SendFile does nothing until `.respond(..)` or `.respond_to(..)` is awaited"]
pub struct SendFile {
    /// The file to send; relative to `directory` and untrusted when that is set.
    path: PathBuf,
    /// The folder an untrusted `path` must stay inside ([`send_from_directory`]).
    ///
    /// [`send_from_directory`]: crate::response::send_from_directory
    directory: Option<PathBuf>,
    /// `Content-Disposition: attachment` instead of `inline`.
    as_attachment: bool,
    /// The name the client sees; the file's own name when `None`.
    download_name: Option<String>,
    /// The `Content-Type`; guessed from the download name when `None`.
    mimetype: Option<String>,
    /// How long caches may keep the file without asking; `no-cache` when `None`.
    max_age: Option<Duration>,
    /// Whether preconditions and `Range` are honoured.
    conditional: bool,
    /// Whether an `ETag` is sent (and compared).
    etag: bool,
}

impl SendFile {
    /// A file chosen by the client inside `directory`, checked when answering.
    pub(crate) fn in_directory(directory: PathBuf, path: String) -> SendFile {
        SendFile {
            directory: Some(directory),
            ..send_file(path)
        }
    }

    /// Asks the browser to save the file instead of showing it
    /// (`Content-Disposition: attachment`).
    ///
    /// ```
    /// let file = carafe::response::send_file("a.csv").as_attachment(true);
    /// # let _ = file;
    /// ```
    pub fn as_attachment(mut self, yes: bool) -> Self {
        self.as_attachment = yes;
        self
    }

    /// The file name the client sees (Flask's `download_name`). Names that are not ASCII
    /// are sent as RFC 6266's `filename*=UTF-8''...`, with an ASCII `filename` fallback.
    ///
    /// ```
    /// let file = carafe::response::send_file("data/7f3a.bin").download_name("résumé.pdf");
    /// # let _ = file;
    /// ```
    pub fn download_name(mut self, name: impl Into<String>) -> Self {
        self.download_name = Some(name.into());
        self
    }

    /// The `Content-Type` (Flask's `mimetype`), instead of the one guessed from the
    /// extension.
    ///
    /// ```
    /// let file = carafe::response::send_file("feed").mimetype("application/atom+xml");
    /// # let _ = file;
    /// ```
    pub fn mimetype(mut self, mimetype: impl Into<String>) -> Self {
        self.mimetype = Some(mimetype.into());
        self
    }

    /// Lets caches keep the file for `max_age` without revalidating
    /// (`Cache-Control: public, max-age=N` and `Expires`). Without it the answer says
    /// `Cache-Control: no-cache`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let file = carafe::response::send_file("logo.png").max_age(Duration::from_secs(3600));
    /// # let _ = file;
    /// ```
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// Whether to honour `If-None-Match`, `If-Modified-Since`, `If-Match`,
    /// `If-Unmodified-Since`, `Range` and `If-Range` (default `true`).
    ///
    /// ```
    /// let file = carafe::response::send_file("a.txt").conditional(false);
    /// # let _ = file;
    /// ```
    pub fn conditional(mut self, yes: bool) -> Self {
        self.conditional = yes;
        self
    }

    /// Whether to send an `ETag` (default `true`): a strong tag made of the file's size
    /// and modification time.
    ///
    /// ```
    /// let file = carafe::response::send_file("a.txt").etag(false);
    /// # let _ = file;
    /// ```
    pub fn etag(mut self, yes: bool) -> Self {
        self.etag = yes;
        self
    }

    /// Answers the request whose head `parts` holds.
    ///
    /// ```
    /// use carafe::response::send_file;
    /// use carafe::{RequestParts, Response};
    ///
    /// async fn answer(parts: &RequestParts) -> Response {
    ///     send_file("index.html").respond_to(parts).await
    /// }
    /// ```
    pub async fn respond_to(self, parts: &RequestParts) -> Response {
        self.respond(parts.method(), parts.headers()).await
    }

    /// Answers a request with this `method` and these `headers`: `200`, `206`, `304`,
    /// `412`, `416`, or `404` when the file does not exist or is a directory.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use carafe::response::send_file;
    ///
    /// let response = send_file("no/such/file").respond(&http::Method::GET, &http::HeaderMap::new()).await;
    /// assert_eq!(response.status(), 404);
    /// # }
    /// ```
    pub async fn respond(self, method: &Method, headers: &HeaderMap) -> Response {
        match self.try_respond(method, headers).await {
            Ok(response) => response,
            Err(error) => error.into_response(),
        }
    }

    async fn try_respond(
        self,
        method: &Method,
        headers: &HeaderMap,
    ) -> Result<Response, HttpError> {
        let (path, mut file, metadata) = self.open().await?;
        let len = metadata.len();
        let validators = Validators {
            etag: self
                .etag
                .then(|| file_etag(len, metadata.modified().ok()))
                .flatten(),
            last_modified: metadata.modified().ok(),
        };
        let mut response = Response::new(Body::empty());
        self.cache_headers(&validators, response.headers_mut());
        let honor_range = match self.conditional {
            true => match conditional::evaluate(method, headers, &validators) {
                Decision::Send { honor_range } => honor_range,
                Decision::NotModified => {
                    return Ok(with_status(response, StatusCode::NOT_MODIFIED))
                }
                Decision::PreconditionFailed => {
                    return Ok(with_status(response, StatusCode::PRECONDITION_FAILED))
                }
            },
            false => false,
        };
        self.entity_headers(response.headers_mut());
        // RFC 9110 §14.2: "GET is the only method for which range handling is defined."
        let range = headers
            .get(RANGE)
            .filter(|_| honor_range && method == Method::GET);
        let wanted = range.map_or(RangeRequest::Whole, |value| {
            range::parse_range(value.as_bytes(), len)
        });
        let (start, end) = match wanted {
            RangeRequest::Whole => (0, len),
            RangeRequest::Partial(slice) => {
                *response.status_mut() = StatusCode::PARTIAL_CONTENT;
                insert(
                    response.headers_mut(),
                    CONTENT_RANGE,
                    &slice.content_range(len),
                );
                (slice.start, slice.end)
            }
            RangeRequest::Unsatisfiable => return Ok(unsatisfiable(response, len)),
        };
        let headers = response.headers_mut();
        headers.insert(CONTENT_LENGTH, HeaderValue::from(end - start));
        if method != Method::HEAD && end > start {
            if start > 0 {
                file.seek(io::SeekFrom::Start(start))
                    .await
                    .map_err(|error| open_error(&path, &error))?;
            }
            *response.body_mut() = Body::new(FileBody::new(file, end - start));
        }
        Ok(response)
    }

    /// Opens the file (checking an untrusted path first): its real path, the open file,
    /// and its metadata; `404` unless it is a regular file.
    async fn open(&self) -> Result<(PathBuf, tokio::fs::File, std::fs::Metadata), HttpError> {
        let path = match &self.directory {
            Some(directory) => {
                let untrusted = self.path.to_str().unwrap_or_default();
                resolve_in_directory(directory, untrusted).await?
            }
            None => self.path.clone(),
        };
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(|error| open_error(&path, &error))?;
        let metadata = file
            .metadata()
            .await
            .map_err(|error| open_error(&path, &error))?;
        if !metadata.is_file() {
            return Err(HttpError::new(StatusCode::NOT_FOUND, "not found"));
        }
        Ok((path, file, metadata))
    }

    /// `ETag`, `Last-Modified`, `Cache-Control`, `Expires`: what a `304` repeats too.
    fn cache_headers(&self, validators: &Validators, headers: &mut HeaderMap) {
        if let Some(etag) = &validators.etag {
            headers.insert(ETAG, etag.to_header_value());
        }
        if let Some(modified) = validators.last_modified {
            insert(headers, LAST_MODIFIED, &httpdate::fmt_http_date(modified));
        }
        match self.max_age {
            Some(max_age) => {
                let seconds = max_age.as_secs();
                let value = if seconds > 0 {
                    format!("public, max-age={seconds}")
                } else {
                    "max-age=0".to_owned()
                };
                insert(headers, CACHE_CONTROL, &value);
                if let Some(expires) = SystemTime::now().checked_add(max_age) {
                    insert(headers, EXPIRES, &httpdate::fmt_http_date(expires));
                }
            }
            None => {
                headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            }
        }
    }

    /// `Content-Type`, `Content-Disposition`, `Accept-Ranges`.
    fn entity_headers(&self, headers: &mut HeaderMap) {
        let name = self.download_name.clone().or_else(|| {
            let name = self.path.file_name()?;
            Some(name.to_string_lossy().into_owned())
        });
        let mimetype = match &self.mimetype {
            Some(mimetype) => mimetype.clone(),
            None => guess_mimetype(Path::new(name.as_deref().unwrap_or_default())),
        };
        if let Ok(value) = HeaderValue::try_from(mimetype) {
            headers.insert(CONTENT_TYPE, value);
        }
        if let Some(name) = name {
            let disposition = content_disposition(self.as_attachment, &name);
            if let Ok(value) = HeaderValue::try_from(disposition) {
                headers.insert(CONTENT_DISPOSITION, value);
            }
        }
        if self.conditional {
            headers.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        }
    }
}

/// The answer to an error opening or reading the file.
fn open_error(path: &Path, error: &io::Error) -> HttpError {
    match error.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory | io::ErrorKind::IsADirectory => {
            HttpError::new(StatusCode::NOT_FOUND, "not found")
        }
        io::ErrorKind::PermissionDenied => HttpError::new(StatusCode::FORBIDDEN, "forbidden"),
        _ => {
            tracing::error!(path = %path.display(), %error, "send_file could not read the file");
            HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
        }
    }
}

fn with_status(mut response: Response, status: StatusCode) -> Response {
    *response.status_mut() = status;
    response
}

/// `416` with `Content-Range: bytes */len` (RFC 9110 §15.5.17).
fn unsatisfiable(mut response: Response, len: u64) -> Response {
    *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
    let headers = response.headers_mut();
    headers.remove(CONTENT_TYPE);
    headers.remove(CONTENT_DISPOSITION);
    insert(headers, CONTENT_RANGE, &format!("bytes */{len}"));
    response
}

fn insert(headers: &mut HeaderMap, name: http::HeaderName, value: &str) {
    // Every value built here is ASCII without controls.
    if let Ok(value) = HeaderValue::try_from(value) {
        headers.insert(name, value);
    }
}

/// A strong tag from the size and the modification time in nanoseconds: it changes when
/// the file is rewritten, as nginx's and Werkzeug's do.
pub(crate) fn file_etag(len: u64, modified: Option<SystemTime>) -> Option<ETag> {
    let nanos = modified?
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_nanos();
    ETag::strong(format!("{len:x}-{nanos:x}"))
}

/// The MIME type for a file name's extension; text types say `charset=utf-8` as
/// Werkzeug's do. Unknown extensions are `application/octet-stream`.
///
/// ```
/// use carafe::response::guess_mimetype;
/// use std::path::Path;
///
/// assert_eq!(guess_mimetype(Path::new("a.html")), "text/html; charset=utf-8");
/// assert_eq!(guess_mimetype(Path::new("a.png")), "image/png");
/// assert_eq!(guess_mimetype(Path::new("a.unknown-ext")), "application/octet-stream");
/// ```
pub fn guess_mimetype(path: &Path) -> String {
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let essence = mime.essence_str();
    let wants_charset = mime.type_() == mime_guess::mime::TEXT
        || matches!(
            essence,
            "application/javascript" | "application/xml" | "application/json"
        );
    if wants_charset && mime.get_param(mime_guess::mime::CHARSET).is_none() {
        format!("{essence}; charset=utf-8")
    } else {
        mime.to_string()
    }
}

/// RFC 5987's `attr-char`: what `filename*` keeps as is.
const ATTR_CHAR_ESCAPES: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// The `Content-Disposition` value (RFC 6266): `inline` or `attachment`, the name as a
/// quoted string, and for names that are not ASCII, `filename*` (RFC 8187) with an ASCII
/// fallback.
///
/// ```
/// use carafe::response::content_disposition;
///
/// assert_eq!(content_disposition(true, "a b.txt"), "attachment; filename=\"a b.txt\"");
/// assert_eq!(
///     content_disposition(false, "résumé.pdf"),
///     "inline; filename=\"rsum.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"
/// );
/// ```
pub fn content_disposition(as_attachment: bool, name: &str) -> String {
    let kind = if as_attachment {
        "attachment"
    } else {
        "inline"
    };
    // Line breaks and other controls would end the header; quotes and backslashes would
    // end or escape the quoted string.
    let fallback: String = name
        .chars()
        .filter(|c| c.is_ascii() && !c.is_ascii_control())
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            _ => vec![c],
        })
        .collect();
    let fallback = if fallback.is_empty() {
        "download".to_owned()
    } else {
        fallback
    };
    if name.is_ascii() && !name.chars().any(|c| c.is_ascii_control()) {
        return format!("{kind}; filename=\"{fallback}\"");
    }
    let encoded = utf8_percent_encode(name, ATTR_CHAR_ESCAPES);
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// A file read from its current position, `remaining` bytes, one chunk per frame.
struct FileBody {
    /// The open file, positioned at the first byte to send.
    file: tokio::fs::File,
    /// Bytes still to send.
    remaining: u64,
    /// The read buffer, reused for every chunk.
    buf: Vec<u8>,
}

impl FileBody {
    fn new(file: tokio::fs::File, remaining: u64) -> Self {
        let capacity = usize::try_from(remaining)
            .unwrap_or(CHUNK_SIZE)
            .min(CHUNK_SIZE);
        FileBody {
            file,
            remaining,
            buf: vec![0; capacity],
        }
    }
}

impl http_body::Body for FileBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        if this.remaining == 0 {
            return Poll::Ready(None);
        }
        let want = usize::try_from(this.remaining)
            .unwrap_or(usize::MAX)
            .min(this.buf.len());
        let mut read = ReadBuf::new(&mut this.buf[..want]);
        ready!(Pin::new(&mut this.file).poll_read(cx, &mut read))?;
        let filled = read.filled();
        if filled.is_empty() {
            // The file shrank after its length was sent: the response cannot be completed.
            return Poll::Ready(Some(Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file became shorter while it was sent",
            ))));
        }
        this.remaining -= filled.len() as u64;
        Poll::Ready(Some(Ok(Frame::data(Bytes::copy_from_slice(filled)))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disposition_escapes_quotes_and_drops_controls() {
        assert_eq!(
            content_disposition(true, "a\"b\\c.txt"),
            "attachment; filename=\"a\\\"b\\\\c.txt\""
        );
        let header = content_disposition(true, "a\r\nSet-Cookie: x.txt");
        assert!(!header.contains('\r') && !header.contains('\n'));
        assert!(HeaderValue::try_from(header).is_ok());
        assert_eq!(
            content_disposition(false, "日本.txt"),
            "inline; filename=\".txt\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt"
        );
        assert_eq!(
            content_disposition(false, "日本"),
            "inline; filename=\"download\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC"
        );
    }

    #[test]
    fn etags_change_with_size_and_time() {
        let time = UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789);
        let a = file_etag(10, Some(time));
        assert_eq!(a, file_etag(10, Some(time)));
        assert_ne!(a, file_etag(11, Some(time)));
        assert_ne!(a, file_etag(10, Some(time + Duration::from_nanos(1))));
        assert!(a.is_some_and(|tag| !tag.is_weak()));
        assert_eq!(file_etag(10, None), None);
    }
}
