//! Item images: uploads are raster images only (an SVG can carry script; the demo's
//! own SVG pictures are written by [`crate::demo`], never uploaded), checked by their first bytes (never by the name or the browser's
//! `Content-Type` alone), stored under a random name in the data folder's `images/`,
//! and served with ETags (`send_from_directory`: `304 Not Modified` when unchanged).

use std::path::{Path, PathBuf};
use std::time::Duration;

use carafe::extract::UploadedFile;
use carafe::http::{HeaderMap, Method};
use carafe::response::send_from_directory;
use carafe::{Path as UrlPath, Response, State};

use crate::AppState;

/// The largest image accepted: 5 MiB.
pub const MAX_IMAGE_BYTES: u64 = 5 * 1024 * 1024;

/// An image format the auction accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// GIF.
    Gif,
    /// WebP.
    Webp,
}

impl ImageKind {
    /// The file extension stored images get.
    pub fn extension(self) -> &'static str {
        match self {
            ImageKind::Png => "png",
            ImageKind::Jpeg => "jpg",
            ImageKind::Gif => "gif",
            ImageKind::Webp => "webp",
        }
    }
}

/// The raster format `bytes` start with, by their magic numbers.
pub fn sniff(bytes: &[u8]) -> Option<ImageKind> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageKind::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageKind::Jpeg)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(ImageKind::Gif)
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some(ImageKind::Webp)
    } else {
        None
    }
}

/// Why an upload is not an acceptable image; the message is flashed to the seller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageError {
    /// No file was chosen.
    Missing,
    /// Over [`MAX_IMAGE_BYTES`].
    TooLarge,
    /// Not PNG, JPEG, GIF or WebP.
    WrongType,
}

impl ImageError {
    /// A sentence for the seller.
    pub fn message(self) -> &'static str {
        match self {
            ImageError::Missing => "Choose a photo of the item.",
            ImageError::TooLarge => "The photo is too large: 5 MB at most.",
            ImageError::WrongType => "The photo must be a PNG, JPEG, GIF or WebP image.",
        }
    }
}

/// Checks an uploaded file: present, not too large, a raster image by its bytes.
pub async fn validate(file: Option<&UploadedFile>) -> Result<(ImageKind, Vec<u8>), ImageError> {
    let file = file
        .filter(|file| !file.is_empty())
        .ok_or(ImageError::Missing)?;
    if file.len() > MAX_IMAGE_BYTES {
        return Err(ImageError::TooLarge);
    }
    let claimed_image = file
        .content_type()
        .is_none_or(|claimed| claimed.starts_with("image/"));
    let bytes = file.bytes().await.map_err(|_| ImageError::Missing)?;
    match sniff(&bytes) {
        Some(kind) if claimed_image => Ok((kind, bytes.to_vec())),
        _ => Err(ImageError::WrongType),
    }
}

/// Writes an image under a new random name in `dir`; returns the name.
pub fn store(dir: &Path, kind: ImageKind, bytes: &[u8]) -> std::io::Result<String> {
    let name = format!("{}.{}", random_hex(16), kind.extension());
    let path = dir.join(&name);
    let partial = dir.join(format!(".{name}.part"));
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, &path)?;
    Ok(name)
}

/// `n` random bytes as hex.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    if getrandom::fill(&mut bytes).is_err() {
        // Names need to be unique, not secret: the clock and a counter do.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = nanos
            .to_le_bytes()
            .iter()
            .copied()
            .cycle()
            .take(n)
            .collect();
    }
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// `GET /images/<name>`: a stored image, with an ETag and an hour of caching (names
/// never change content).
pub async fn serve(
    State(state): State<AppState>,
    UrlPath(name): UrlPath<String>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    send_from_directory(state.images_dir(), &name)
        .max_age(Duration::from_secs(3600))
        .respond(&method, &headers)
        .await
}

/// The images folder under a data folder.
pub fn images_dir(data: &Path) -> PathBuf {
    data.join("images")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_reads_magic_numbers_only() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Some(ImageKind::Png));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(ImageKind::Jpeg));
        assert_eq!(sniff(b"GIF89a..."), Some(ImageKind::Gif));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(ImageKind::Webp));
        assert_eq!(sniff(b"<svg xmlns=..."), None);
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVE"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn stored_images_get_unique_names() {
        let dir = tempfile::tempdir().expect("temp dir");
        let one = store(dir.path(), ImageKind::Png, b"a").expect("stored");
        let two = store(dir.path(), ImageKind::Png, b"b").expect("stored");
        assert_ne!(one, two);
        assert!(one.ends_with(".png"));
        assert_eq!(std::fs::read(dir.path().join(two)).expect("read"), b"b");
    }
}
