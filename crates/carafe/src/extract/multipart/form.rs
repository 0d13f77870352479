//! [`MultipartForm`]: a whole `multipart/form-data` body, its text fields in memory and
//! its files in memory or, above the spool threshold, in temporary files.

use std::fmt;
use std::io;
use std::path::Path;

use bytes::{Bytes, BytesMut};
use carafe_serve::Body;
use http::StatusCode;
use serde::de::DeserializeOwned;
use tempfile::NamedTempFile;
use tokio::io::AsyncWriteExt;

use super::{secure_filename, Field, Multipart};
use crate::error::HttpError;
use crate::extract::{FromRequest, RequestParts};

/// A whole `multipart/form-data` body: Flask's `request.form` and `request.files` in one.
///
/// Text parts (those without a filename) are kept as strings; files are kept in memory
/// up to the [spool threshold](super::MultipartLimits::spool_threshold) and in a temporary
/// file beyond it, deleted when the [`UploadedFile`] is dropped. All of the app's
/// [`MultipartLimits`](super::MultipartLimits) apply. Parts without a name are skipped,
/// as Werkzeug does.
///
/// ```
/// use carafe::extract::{secure_filename, MultipartForm};
/// use carafe::HttpError;
///
/// async fn upload(form: MultipartForm) -> Result<String, HttpError> {
///     let title = form.get("title").unwrap_or("untitled");
///     let Some(photo) = form.file("photo") else {
///         return Err(HttpError::new(http::StatusCode::BAD_REQUEST, "no photo"));
///     };
///     let name = secure_filename(photo.file_name().unwrap_or_default());
///     let path = std::env::temp_dir().join(&name);
///     photo.save(&path).await.map_err(|error| {
///         HttpError::new(http::StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
///     })?;
///     Ok(format!("saved {title} as {name}, {} bytes", photo.len()))
/// }
/// # let _ = carafe::post(upload);
/// ```
#[derive(Debug, Default)]
pub struct MultipartForm {
    /// The text parts, in body order.
    fields: Vec<(String, String)>,
    /// The file parts, in body order.
    files: Vec<(String, UploadedFile)>,
}

impl MultipartForm {
    /// Reads every part of `multipart`.
    ///
    /// ```
    /// use carafe::extract::{Multipart, MultipartForm, MultipartLimits};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), carafe::HttpError> {
    /// let body = "--XX\r\ncontent-disposition: form-data; name=\"a\"\r\n\r\nhello\r\n--XX--\r\n";
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("content-type", "multipart/form-data; boundary=XX".parse().unwrap());
    /// let multipart = Multipart::new(&headers, body.into(), &MultipartLimits::default())?;
    /// let form = MultipartForm::read(multipart).await?;
    /// assert_eq!(form.get("a"), Some("hello"));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn read(mut multipart: Multipart) -> Result<Self, HttpError> {
        let threshold = multipart.limits().threshold();
        let dir = multipart.limits().dir();
        let mut form = MultipartForm::default();
        while let Some(field) = multipart.next_field().await? {
            let Some(name) = field.name().map(str::to_owned) else {
                continue;
            };
            if field.file_name().is_some() {
                let file = UploadedFile::read(field, threshold, &dir).await?;
                form.files.push((name, file));
            } else {
                form.fields.push((name, field.text().await?));
            }
        }
        Ok(form)
    }

    /// The first text field called `name`.
    ///
    /// ```
    /// # async fn f(form: carafe::extract::MultipartForm) {
    /// let title = form.get("title").unwrap_or("untitled");
    /// # }
    /// ```
    pub fn get(&self, name: &str) -> Option<&str> {
        let found = self.fields.iter().find(|(key, _)| key == name);
        found.map(|(_, value)| value.as_str())
    }

    /// Every text field called `name`, in body order (Werkzeug's `getlist`).
    ///
    /// ```
    /// # async fn f(form: carafe::extract::MultipartForm) {
    /// let tags: Vec<&str> = form.get_all("tag").collect();
    /// # }
    /// ```
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .iter()
            .filter(move |(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Every text field, in body order.
    ///
    /// ```
    /// # async fn f(form: carafe::extract::MultipartForm) {
    /// for (name, value) in form.fields() {
    ///     println!("{name} = {value}");
    /// }
    /// # }
    /// ```
    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// The first file called `name`.
    ///
    /// ```
    /// # async fn f(form: carafe::extract::MultipartForm) {
    /// let size = form.file("avatar").map(|file| file.len());
    /// # }
    /// ```
    pub fn file(&self, name: &str) -> Option<&UploadedFile> {
        let found = self.files.iter().find(|(key, _)| key == name);
        found.map(|(_, file)| file)
    }

    /// Every file called `name` (an `<input type=file multiple>`), in body order.
    ///
    /// ```
    /// # async fn f(form: carafe::extract::MultipartForm) {
    /// let total: u64 = form.files_named("photos").map(|file| file.len()).sum();
    /// # }
    /// ```
    pub fn files_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a UploadedFile> + 'a {
        self.files
            .iter()
            .filter(move |(key, _)| key == name)
            .map(|(_, file)| file)
    }

    /// Every file, with its field name, in body order.
    ///
    /// ```
    /// # async fn f(form: carafe::extract::MultipartForm) {
    /// let count = form.files().len();
    /// # }
    /// ```
    pub fn files(&self) -> &[(String, UploadedFile)] {
        &self.files
    }

    /// Removes and returns the first file called `name`, to keep it beyond the form.
    ///
    /// ```
    /// # async fn f(mut form: carafe::extract::MultipartForm) {
    /// let avatar: Option<carafe::extract::UploadedFile> = form.take_file("avatar");
    /// # }
    /// ```
    pub fn take_file(&mut self, name: &str) -> Option<UploadedFile> {
        let at = self.files.iter().position(|(key, _)| key == name)?;
        Some(self.files.remove(at).1)
    }

    /// The text fields deserialized into `T`, as [`Form<T>`](crate::extract::Form) does
    /// (repeated names fill a `Vec`); `400` naming the field that did not fit.
    ///
    /// ```
    /// use serde::Deserialize;
    ///
    /// #[derive(Deserialize)]
    /// struct Post { title: String, tags: Vec<String> }
    ///
    /// async fn create(form: carafe::extract::MultipartForm) -> Result<String, carafe::HttpError> {
    ///     let post: Post = form.deserialize()?;
    ///     Ok(format!("{} [{}]", post.title, post.tags.join(", ")))
    /// }
    /// # let _ = carafe::post(create);
    /// ```
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, HttpError> {
        crate::extract::form::decode(form_urlencoded_pairs(&self.fields).as_bytes())
    }
}

/// The text fields re-encoded as `application/x-www-form-urlencoded`.
fn form_urlencoded_pairs(fields: &[(String, String)]) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    let mut encoded = String::new();
    for (name, value) in fields {
        if !encoded.is_empty() {
            encoded.push('&');
        }
        encoded.extend(utf8_percent_encode(name, NON_ALPHANUMERIC));
        encoded.push('=');
        encoded.extend(utf8_percent_encode(value, NON_ALPHANUMERIC));
    }
    encoded
}

/// The whole body, under the app's [`MultipartLimits`](super::MultipartLimits).
impl FromRequest for MultipartForm {
    async fn from_request(parts: RequestParts, body: Body) -> Result<Self, HttpError> {
        MultipartForm::read(Multipart::from_request(parts, body).await?).await
    }
}

/// An uploaded file (Werkzeug's `FileStorage`): in memory, or in a temporary file that
/// is deleted when this value is dropped.
///
/// ```
/// async fn avatar(form: carafe::extract::MultipartForm) -> String {
///     match form.file("avatar") {
///         Some(file) => format!(
///             "{:?} ({:?}), {} bytes, on disk: {}",
///             file.file_name(),
///             file.content_type(),
///             file.len(),
///             file.path().is_some()
///         ),
///         None => "no avatar".to_owned(),
///     }
/// }
/// # let _ = carafe::post(avatar);
/// ```
pub struct UploadedFile {
    /// The filename the client sent.
    file_name: Option<String>,
    /// The part's content type.
    content_type: Option<String>,
    /// The content's length.
    len: u64,
    /// The content.
    data: FileData,
}

/// Where an upload's content is.
enum FileData {
    /// Small uploads.
    Memory(Bytes),
    /// Uploads above the spool threshold; the file is removed on drop.
    Disk(NamedTempFile),
}

impl fmt::Debug for UploadedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadedFile")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("len", &self.len)
            .field("path", &self.path())
            .finish()
    }
}

impl UploadedFile {
    /// Reads a file part, spooling it to a temporary file in `dir` once it passes
    /// `threshold` bytes.
    async fn read(mut field: Field<'_>, threshold: usize, dir: &Path) -> Result<Self, HttpError> {
        let file_name = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(str::to_owned);
        let mut buffer = BytesMut::new();
        let mut spool: Option<(NamedTempFile, tokio::fs::File)> = None;
        let mut len = 0u64;
        while let Some(chunk) = field.chunk().await? {
            len += chunk.len() as u64;
            if let Some((_, file)) = &mut spool {
                file.write_all(&chunk).await.map_err(spool_failed)?;
                continue;
            }
            buffer.extend_from_slice(&chunk);
            if buffer.len() > threshold {
                let (temp, mut file) = create_spool_file(dir).await?;
                file.write_all(&buffer).await.map_err(spool_failed)?;
                buffer = BytesMut::new();
                spool = Some((temp, file));
            }
        }
        let data = match spool {
            Some((temp, mut file)) => {
                file.flush().await.map_err(spool_failed)?;
                FileData::Disk(temp)
            }
            None => FileData::Memory(buffer.freeze()),
        };
        Ok(UploadedFile {
            file_name,
            content_type,
            len,
            data,
        })
    }

    /// An in-memory upload, to build forms in tests.
    ///
    /// ```
    /// let file = carafe::extract::UploadedFile::from_bytes("a.txt", "text/plain", "hello");
    /// assert_eq!(file.len(), 5);
    /// ```
    pub fn from_bytes(
        file_name: impl Into<String>,
        content_type: impl Into<String>,
        data: impl Into<Bytes>,
    ) -> Self {
        let data: Bytes = data.into();
        UploadedFile {
            file_name: Some(file_name.into()),
            content_type: Some(content_type.into()),
            len: data.len() as u64,
            data: FileData::Memory(data),
        }
    }

    /// The filename the client sent, unsanitized: see
    /// [`secure_file_name`](Self::secure_file_name).
    ///
    /// ```
    /// let file = carafe::extract::UploadedFile::from_bytes("../a b.txt", "text/plain", "");
    /// assert_eq!(file.file_name(), Some("../a b.txt"));
    /// ```
    pub fn file_name(&self) -> Option<&str> {
        self.file_name.as_deref()
    }

    /// The filename passed through [`secure_filename`]: safe to save under.
    ///
    /// ```
    /// let file = carafe::extract::UploadedFile::from_bytes("../a b.txt", "text/plain", "");
    /// assert_eq!(file.secure_file_name(), "a_b.txt");
    /// ```
    pub fn secure_file_name(&self) -> String {
        secure_filename(self.file_name().unwrap_or_default())
    }

    /// The part's content type, as the client sent it.
    ///
    /// ```
    /// let file = carafe::extract::UploadedFile::from_bytes("a.png", "image/png", "");
    /// assert_eq!(file.content_type(), Some("image/png"));
    /// ```
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The content's length in bytes.
    ///
    /// ```
    /// let file = carafe::extract::UploadedFile::from_bytes("a.txt", "text/plain", "abc");
    /// assert_eq!(file.len(), 3);
    /// ```
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty (an `<input type=file>` left blank sends one).
    ///
    /// ```
    /// let file = carafe::extract::UploadedFile::from_bytes("", "application/octet-stream", "");
    /// assert!(file.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The temporary file holding the content, when it was spooled to disk; it is deleted
    /// when this value is dropped.
    ///
    /// ```
    /// let file = carafe::extract::UploadedFile::from_bytes("a.txt", "text/plain", "abc");
    /// assert!(file.path().is_none());
    /// ```
    pub fn path(&self) -> Option<&Path> {
        match &self.data {
            FileData::Memory(_) => None,
            FileData::Disk(temp) => Some(temp.path()),
        }
    }

    /// The whole content, read from disk if it was spooled.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let file = carafe::extract::UploadedFile::from_bytes("a.txt", "text/plain", "abc");
    /// assert_eq!(file.bytes().await?, "abc");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn bytes(&self) -> io::Result<Bytes> {
        match &self.data {
            FileData::Memory(data) => Ok(data.clone()),
            FileData::Disk(temp) => tokio::fs::read(temp.path()).await.map(Bytes::from),
        }
    }

    /// Writes the content to `path` (Werkzeug's `FileStorage.save`), replacing a file
    /// there. Build `path` from [`secure_file_name`](Self::secure_file_name), never from the
    /// raw filename.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let file = carafe::extract::UploadedFile::from_bytes("notes.txt", "text/plain", "abc");
    /// let path = std::env::temp_dir().join(file.secure_file_name());
    /// file.save(&path).await?;
    /// assert_eq!(std::fs::read(&path)?, b"abc");
    /// # std::fs::remove_file(path)
    /// # }
    /// ```
    pub async fn save(&self, path: impl AsRef<Path>) -> io::Result<()> {
        match &self.data {
            FileData::Memory(data) => tokio::fs::write(path, data).await,
            FileData::Disk(temp) => tokio::fs::copy(temp.path(), path).await.map(drop),
        }
    }
}

/// Creates a temporary file in `dir` for an upload, off the async threads.
async fn create_spool_file(dir: &Path) -> Result<(NamedTempFile, tokio::fs::File), HttpError> {
    let dir = dir.to_owned();
    let created = tokio::task::spawn_blocking(move || {
        let temp = tempfile::Builder::new()
            .prefix("carafe-upload-")
            .tempfile_in(dir)?;
        let handle = temp.as_file().try_clone()?;
        Ok::<_, io::Error>((temp, handle))
    })
    .await
    .map_err(|error| spool_failed(io::Error::other(error)))?;
    let (temp, handle) = created.map_err(spool_failed)?;
    Ok((temp, tokio::fs::File::from_std(handle)))
}

/// A spool file could not be written: the server's fault, so `500`. The cause (a full
/// disk, a missing directory) is logged, not sent.
fn spool_failed(error: io::Error) -> HttpError {
    tracing::error!(target: "carafe::app", "failed to write an upload to a temporary file: {error}");
    HttpError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "failed to store an upload",
    )
}
