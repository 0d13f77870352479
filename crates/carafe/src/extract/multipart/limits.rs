//! [`MultipartLimits`]: how much of a `multipart/form-data` body carafe accepts, and
//! where uploads go once they are too big to keep in memory.

use std::path::PathBuf;

use crate::App;

/// Werkzeug's `max_form_parts`.
const DEFAULT_MAX_PARTS: usize = 1_000;
/// Werkzeug's `max_form_memory_size` (Flask's `MAX_FORM_MEMORY_SIZE`).
const DEFAULT_MAX_FIELD_SIZE: u64 = 500_000;
/// Werkzeug keeps uploads in memory up to 500 KiB.
const DEFAULT_SPOOL_THRESHOLD: usize = 500 * 1024;

/// The limits of [`Multipart`](super::Multipart) and [`MultipartForm`](super::MultipartForm),
/// kept in the app's state (one per app, see [`App::multipart_limits`]).
///
/// Every limit, when passed, answers `413 Content Too Large` with a message naming the
/// limit:
///
/// | limit | default | Flask / Werkzeug |
/// |---|---|---|
/// | [`max_total_size`](Self::max_total_size): the whole body | the app's `max_content_length` (2 MiB) | `MAX_CONTENT_LENGTH` |
/// | [`max_parts`](Self::max_parts): how many parts | 1,000 | `MAX_FORM_PARTS` |
/// | [`max_part_size`](Self::max_part_size): one part, file or not | no limit but the total | none |
/// | [`max_field_size`](Self::max_field_size): one text part (no filename) | 500,000 bytes | `MAX_FORM_MEMORY_SIZE` |
///
/// [`MultipartForm`](super::MultipartForm) keeps an upload in memory up to
/// [`spool_threshold`](Self::spool_threshold) bytes (500 KiB) and moves it to a temporary
/// file in [`spool_dir`](Self::spool_dir) (the system's temporary directory) beyond that.
///
/// ```
/// use carafe::extract::MultipartLimits;
///
/// let mut app = carafe::App::new();
/// app.max_content_length(64 * 1024 * 1024).multipart_limits(
///     MultipartLimits::default()
///         .max_parts(20)
///         .max_part_size(32 * 1024 * 1024)
///         .spool_threshold(1024 * 1024),
/// );
/// ```
#[derive(Debug, Clone)]
pub struct MultipartLimits {
    /// The whole body; `None` follows the app's `max_content_length`.
    total_size: Option<u64>,
    /// How many parts a body may have.
    parts: usize,
    /// The most bytes of any one part.
    part_size: u64,
    /// The most bytes of one text part.
    field_size: u64,
    /// Uploads bigger than this go to disk.
    spool_threshold: usize,
    /// Where spooled uploads go; `None` is the system's temporary directory.
    spool_dir: Option<PathBuf>,
}

impl Default for MultipartLimits {
    fn default() -> Self {
        MultipartLimits {
            total_size: None,
            parts: DEFAULT_MAX_PARTS,
            part_size: u64::MAX,
            field_size: DEFAULT_MAX_FIELD_SIZE,
            spool_threshold: DEFAULT_SPOOL_THRESHOLD,
            spool_dir: None,
        }
    }
}

impl MultipartLimits {
    /// The most bytes of the whole body. Without this call, the app's
    /// [`max_content_length`](crate::App::max_content_length) applies.
    ///
    /// ```
    /// let limits = carafe::extract::MultipartLimits::default().max_total_size(10 << 20);
    /// assert_eq!(limits.total_size(0), 10 << 20);
    /// ```
    pub fn max_total_size(mut self, bytes: u64) -> Self {
        self.total_size = Some(bytes);
        self
    }

    /// The most parts (fields and files) a body may have.
    ///
    /// ```
    /// let limits = carafe::extract::MultipartLimits::default().max_parts(10);
    /// assert_eq!(limits.parts(), 10);
    /// ```
    pub fn max_parts(mut self, parts: usize) -> Self {
        self.parts = parts;
        self
    }

    /// The most bytes of one part's content, file or not.
    ///
    /// ```
    /// let limits = carafe::extract::MultipartLimits::default().max_part_size(1 << 20);
    /// assert_eq!(limits.part_size(), 1 << 20);
    /// ```
    pub fn max_part_size(mut self, bytes: u64) -> Self {
        self.part_size = bytes;
        self
    }

    /// The most bytes of one text part (a part without a filename), which is always held
    /// in memory.
    ///
    /// ```
    /// let limits = carafe::extract::MultipartLimits::default().max_field_size(4096);
    /// assert_eq!(limits.field_size(), 4096);
    /// ```
    pub fn max_field_size(mut self, bytes: u64) -> Self {
        self.field_size = bytes;
        self
    }

    /// Uploads up to this many bytes stay in memory; bigger ones go to a temporary file.
    ///
    /// ```
    /// let limits = carafe::extract::MultipartLimits::default().spool_threshold(0);
    /// assert_eq!(limits.threshold(), 0);
    /// ```
    pub fn spool_threshold(mut self, bytes: usize) -> Self {
        self.spool_threshold = bytes;
        self
    }

    /// The directory of the temporary files of spooled uploads.
    ///
    /// ```
    /// let limits = carafe::extract::MultipartLimits::default().spool_dir("/var/tmp");
    /// assert_eq!(limits.dir(), std::path::Path::new("/var/tmp"));
    /// ```
    pub fn spool_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.spool_dir = Some(dir.into());
        self
    }

    /// The most bytes of the whole body, given the app's `max_content_length`.
    ///
    /// ```
    /// let limits = carafe::extract::MultipartLimits::default();
    /// assert_eq!(limits.total_size(2048), 2048);
    /// ```
    pub fn total_size(&self, max_content_length: usize) -> u64 {
        self.total_size.unwrap_or(max_content_length as u64)
    }

    /// The most parts.
    ///
    /// ```
    /// assert_eq!(carafe::extract::MultipartLimits::default().parts(), 1000);
    /// ```
    pub fn parts(&self) -> usize {
        self.parts
    }

    /// The most bytes of one part.
    ///
    /// ```
    /// assert_eq!(carafe::extract::MultipartLimits::default().part_size(), u64::MAX);
    /// ```
    pub fn part_size(&self) -> u64 {
        self.part_size
    }

    /// The most bytes of one text part.
    ///
    /// ```
    /// assert_eq!(carafe::extract::MultipartLimits::default().field_size(), 500_000);
    /// ```
    pub fn field_size(&self) -> u64 {
        self.field_size
    }

    /// The size above which uploads go to disk.
    ///
    /// ```
    /// assert_eq!(carafe::extract::MultipartLimits::default().threshold(), 500 * 1024);
    /// ```
    pub fn threshold(&self) -> usize {
        self.spool_threshold
    }

    /// The directory of spooled uploads.
    ///
    /// ```
    /// assert_eq!(carafe::extract::MultipartLimits::default().dir(), std::env::temp_dir());
    /// ```
    pub fn dir(&self) -> PathBuf {
        self.spool_dir.clone().unwrap_or_else(std::env::temp_dir)
    }
}

impl App {
    /// Sets the limits of multipart bodies (see [`MultipartLimits`]); the same as
    /// `app.state(limits)`.
    ///
    /// ```
    /// let mut app = carafe::App::new();
    /// app.multipart_limits(carafe::extract::MultipartLimits::default().max_parts(50));
    /// ```
    pub fn multipart_limits(&mut self, limits: MultipartLimits) -> &mut Self {
        self.state(limits)
    }
}
