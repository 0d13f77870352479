//! `multipart/form-data` bodies (RFC 7578): [`Multipart`] streams the parts one by one
//! with `multer`; [`MultipartForm`] collects them, keeping text fields in memory and
//! spooling big uploads to temporary files (Flask's `request.form` and `request.files`).
//!
//! Both enforce the app's [`MultipartLimits`] while they read: a body, a part or a text
//! field too big, or too many parts, answers `413` with a message naming the limit; a
//! malformed body (no boundary, a broken part head, a body that ends early) answers
//! `400`; a request that is not `multipart/form-data` answers `415`.
//! [`secure_filename`] makes a client's filename safe to save under.

mod filename;
mod form;
mod limits;

use bytes::{Bytes, BytesMut};
use carafe_serve::Body;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, StatusCode};

use super::{FromRequest, RequestParts};
use crate::error::HttpError;

pub use self::filename::secure_filename;
pub use self::form::{MultipartForm, UploadedFile};
pub use self::limits::MultipartLimits;

/// A `multipart/form-data` body, read part by part as it arrives.
///
/// Use it for big uploads you want to stream somewhere yourself; for an ordinary form,
/// [`MultipartForm`] is simpler. Each [`Field`] must be read (or dropped) before the next:
/// the borrow checker sees to it. The body's limits ([`MultipartLimits`]) hold while you
/// read, and every method answers with the [`HttpError`] to return, so `?` is all a
/// handler needs.
///
/// ```
/// use carafe::extract::Multipart;
/// use carafe::HttpError;
///
/// async fn upload(mut multipart: Multipart) -> Result<String, HttpError> {
///     let mut report = String::new();
///     while let Some(mut field) = multipart.next_field().await? {
///         let name = field.name().unwrap_or_default().to_owned();
///         let mut size = 0;
///         while let Some(chunk) = field.chunk().await? {
///             size += chunk.len();
///         }
///         report += &format!("{name}: {size} bytes\n");
///     }
///     Ok(report)
/// }
/// # let _ = carafe::post(upload);
/// ```
pub struct Multipart {
    /// The parser.
    inner: multer::Multipart<'static>,
    /// The limits in force.
    limits: MultipartLimits,
    /// The whole body's limit, resolved against the app's `max_content_length`.
    total_size: u64,
    /// How many parts `next_field` has given out.
    parts: usize,
}

impl std::fmt::Debug for Multipart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Multipart")
            .field("limits", &self.limits)
            .field("parts", &self.parts)
            .finish_non_exhaustive()
    }
}

impl Multipart {
    /// Starts reading `body` as the request with these `headers` describes it, under
    /// `limits` (whose total falls back on the default `max_content_length`).
    ///
    /// The extractor calls it with the app's limits; call it yourself to read a multipart
    /// body from elsewhere.
    ///
    /// ```
    /// use carafe::extract::{Multipart, MultipartLimits};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), carafe::HttpError> {
    /// let body = "--XX\r\ncontent-disposition: form-data; name=\"a\"\r\n\r\nhello\r\n--XX--\r\n";
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("content-type", "multipart/form-data; boundary=XX".parse().unwrap());
    /// let limits = MultipartLimits::default();
    /// let mut multipart = Multipart::new(&headers, carafe::Body::from(body), &limits)?;
    /// let field = multipart.next_field().await?.expect("one field");
    /// assert_eq!(field.name(), Some("a"));
    /// assert_eq!(field.text().await?, "hello");
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(
        headers: &HeaderMap,
        body: Body,
        limits: &MultipartLimits,
    ) -> Result<Self, HttpError> {
        let total = limits.total_size(super::DEFAULT_MAX_CONTENT_LENGTH);
        Multipart::with_total(headers, body, limits.clone(), total)
    }

    /// [`Multipart::new`] with the whole body's limit already resolved.
    fn with_total(
        headers: &HeaderMap,
        body: Body,
        limits: MultipartLimits,
        total_size: u64,
    ) -> Result<Self, HttpError> {
        let boundary = boundary(headers)?;
        let declared = headers
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        if declared.is_some_and(|length| length > total_size) {
            return Err(total_too_large(total_size));
        }
        let size_limit = multer::SizeLimit::new()
            .whole_stream(total_size)
            .per_field(limits.part_size());
        let constraints = multer::Constraints::new().size_limit(size_limit);
        let stream = futures_util::stream::unfold(body, |mut body| async move {
            body.chunk().await.map(|chunk| (chunk, body))
        });
        Ok(Multipart {
            inner: multer::Multipart::with_constraints(stream, boundary, constraints),
            limits,
            total_size,
            parts: 0,
        })
    }

    /// The next part, or `None` after the last one. Skips what is left of the previous
    /// part.
    ///
    /// ```
    /// async fn names(mut multipart: carafe::extract::Multipart) -> Result<String, carafe::HttpError> {
    ///     let mut names = Vec::new();
    ///     while let Some(field) = multipart.next_field().await? {
    ///         names.push(field.name().unwrap_or("?").to_owned());
    ///     }
    ///     Ok(names.join(", "))
    /// }
    /// # let _ = carafe::post(names);
    /// ```
    pub async fn next_field(&mut self) -> Result<Option<Field<'_>>, HttpError> {
        let total = self.total_size;
        let next = self.inner.next_field().await;
        let Some(inner) = next.map_err(|error| rejection(error, total))? else {
            return Ok(None);
        };
        self.parts += 1;
        if self.parts > self.limits.parts() {
            return Err(HttpError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the multipart body has more than {} parts (MultipartLimits::max_parts)",
                    self.limits.parts()
                ),
            ));
        }
        // Text parts are held in memory whole: they get the smaller limit.
        let text_limit = (inner.file_name().is_none()).then(|| self.limits.field_size());
        Ok(Some(Field {
            inner,
            text_limit,
            read: 0,
            total,
            _multipart: std::marker::PhantomData,
        }))
    }

    /// The limits this body is read under.
    ///
    /// ```
    /// async fn upload(multipart: carafe::extract::Multipart) -> String {
    ///     format!("at most {} parts", multipart.limits().parts())
    /// }
    /// # let _ = carafe::post(upload);
    /// ```
    pub fn limits(&self) -> &MultipartLimits {
        &self.limits
    }
}

/// The body as a stream of parts, under the app's [`MultipartLimits`]; `415` if the
/// request is not `multipart/form-data`, `400` without a boundary, `413` if its
/// `content-length` is over the total limit.
impl FromRequest for Multipart {
    async fn from_request(parts: RequestParts, body: Body) -> Result<Self, HttpError> {
        let limits = parts
            .state::<MultipartLimits>()
            .cloned()
            .unwrap_or_default();
        let total = limits.total_size(parts.max_content_length());
        Multipart::with_total(parts.headers(), body, limits, total)
    }
}

/// One part of a [`Multipart`] body: a text field or a file.
///
/// ```
/// async fn first_file(mut multipart: carafe::extract::Multipart) -> Result<String, carafe::HttpError> {
///     while let Some(field) = multipart.next_field().await? {
///         if let Some(file_name) = field.file_name() {
///             let file_name = carafe::extract::secure_filename(file_name);
///             let content_type = field.content_type().unwrap_or("application/octet-stream").to_owned();
///             let data = field.bytes().await?;
///             return Ok(format!("{file_name} ({content_type}): {} bytes", data.len()));
///         }
///     }
///     Ok("no file".to_owned())
/// }
/// # let _ = carafe::post(first_file);
/// ```
pub struct Field<'a> {
    /// The parser's part.
    inner: multer::Field<'static>,
    /// The limit of a text part; `None` for a file (the part limit applies, in multer).
    text_limit: Option<u64>,
    /// Bytes of content read so far.
    read: u64,
    /// The whole body's limit, for error messages.
    total: u64,
    /// A field borrows its body: the next one comes once this one is gone.
    _multipart: std::marker::PhantomData<&'a mut Multipart>,
}

impl std::fmt::Debug for Field<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Field")
            .field("name", &self.name())
            .field("file_name", &self.file_name())
            .field("content_type", &self.content_type())
            .finish_non_exhaustive()
    }
}

impl Field<'_> {
    /// The part's `name` (the form control's name).
    ///
    /// ```
    /// # async fn f(field: carafe::extract::Field<'_>) {
    /// let name: Option<&str> = field.name();
    /// # }
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.inner.name()
    }

    /// The `filename` the client sent, unsanitized: pass it through [`secure_filename`]
    /// before using it as a path. A part with a filename (even an empty one) is a file.
    ///
    /// ```
    /// # async fn f(field: carafe::extract::Field<'_>) {
    /// let is_file = field.file_name().is_some();
    /// # }
    /// ```
    pub fn file_name(&self) -> Option<&str> {
        self.inner.file_name()
    }

    /// The part's `content-type`, as sent.
    ///
    /// ```
    /// # async fn f(field: carafe::extract::Field<'_>) {
    /// let is_png = field.content_type() == Some("image/png");
    /// # }
    /// ```
    pub fn content_type(&self) -> Option<&str> {
        self.inner.content_type().map(|mime| mime.as_ref())
    }

    /// The part's headers.
    ///
    /// ```
    /// # async fn f(field: carafe::extract::Field<'_>) {
    /// let disposition = field.headers().get("content-disposition");
    /// # }
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        self.inner.headers()
    }

    /// The next piece of the part's content, or `None` at its end.
    ///
    /// ```
    /// # async fn f(mut field: carafe::extract::Field<'_>) -> Result<(), carafe::HttpError> {
    /// while let Some(chunk) = field.chunk().await? {
    ///     println!("{} bytes", chunk.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, HttpError> {
        let chunk = self.inner.chunk().await;
        let chunk = chunk.map_err(|error| rejection(error, self.total))?;
        if let Some(chunk) = &chunk {
            self.read += chunk.len() as u64;
            if let Some(limit) = self.text_limit.filter(|limit| self.read > *limit) {
                return Err(HttpError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "the text field `{}` is larger than the limit of {limit} bytes \
                         (MultipartLimits::max_field_size)",
                        self.name().unwrap_or_default()
                    ),
                ));
            }
        }
        Ok(chunk)
    }

    /// The part's whole content.
    ///
    /// ```
    /// # async fn f(field: carafe::extract::Field<'_>) -> Result<(), carafe::HttpError> {
    /// let data: bytes::Bytes = field.bytes().await?;
    /// # Ok(()) }
    /// ```
    pub async fn bytes(mut self) -> Result<Bytes, HttpError> {
        let mut data = BytesMut::new();
        while let Some(chunk) = self.chunk().await? {
            data.extend_from_slice(&chunk);
        }
        Ok(data.freeze())
    }

    /// The part's whole content as text; `400` if it is not UTF-8.
    ///
    /// ```
    /// # async fn f(field: carafe::extract::Field<'_>) -> Result<(), carafe::HttpError> {
    /// let text: String = field.text().await?;
    /// # Ok(()) }
    /// ```
    pub async fn text(self) -> Result<String, HttpError> {
        let name = self.name().unwrap_or_default().to_owned();
        let data = self.bytes().await?;
        String::from_utf8(data.into()).map_err(|_| {
            HttpError::new(
                StatusCode::BAD_REQUEST,
                format!("the multipart field `{name}` is not valid UTF-8"),
            )
        })
    }
}

/// The boundary from a `multipart/form-data` content type; `415` for another type.
fn boundary(headers: &HeaderMap) -> Result<String, HttpError> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if !is_multipart(content_type) {
        return Err(HttpError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected a request body with `Content-Type: multipart/form-data; boundary=...`",
        ));
    }
    multer::parse_boundary(content_type).map_err(|_| {
        HttpError::new(
            StatusCode::BAD_REQUEST,
            "the multipart content type has no valid `boundary` parameter",
        )
    })
}

/// Whether a content type is `multipart/form-data`, with any parameters.
pub(crate) fn is_multipart(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("multipart/form-data")
}

/// The answer for a body over the total limit.
fn total_too_large(limit: u64) -> HttpError {
    HttpError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "the multipart body is larger than the limit of {limit} bytes \
             (MultipartLimits::max_total_size, by default the app's max_content_length)"
        ),
    )
}

/// The one place where a parser error becomes an answer: limits are `413`, a body that
/// cannot be read keeps the server's status, anything else is a malformed body, `400`.
fn rejection(error: multer::Error, total: u64) -> HttpError {
    match error {
        multer::Error::StreamSizeExceeded { .. } => total_too_large(total),
        multer::Error::FieldSizeExceeded { limit, field_name } => HttpError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the multipart part `{}` is larger than the limit of {limit} bytes \
                 (MultipartLimits::max_part_size)",
                field_name.unwrap_or_default()
            ),
        ),
        multer::Error::StreamReadFailed(source) => {
            match source.downcast_ref::<carafe_serve::Error>() {
                Some(carafe_serve::Error::BodyTooLarge { limit }) => HttpError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the request body is larger than the server's limit of {limit} bytes"),
                ),
                Some(other) => HttpError::new(
                    other.status().unwrap_or(StatusCode::BAD_REQUEST),
                    format!("failed to read the request body: {other}"),
                ),
                None => HttpError::new(
                    StatusCode::BAD_REQUEST,
                    format!("failed to read the request body: {source}"),
                ),
            }
        }
        other => HttpError::new(
            StatusCode::BAD_REQUEST,
            format!("malformed multipart body: {other}"),
        ),
    }
}

#[cfg(test)]
mod tests;
