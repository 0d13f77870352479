//! `multipart/form-data` bodies for the test client (RFC 7578).

use bytes::{BufMut, Bytes, BytesMut};

/// A multipart form: text fields and files, in order.
///
/// ```
/// use carafe::testing::MultipartForm;
///
/// let form = MultipartForm::new()
///     .text("title", "holiday")
///     .file("photo", "beach.jpg", "image/jpeg", vec![0xff, 0xd8, 0xff]);
/// # let _ = form;
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct MultipartForm {
    parts: Vec<Part>,
}

/// One part of a form.
#[derive(Debug, Clone)]
struct Part {
    name: String,
    filename: Option<String>,
    content_type: Option<String>,
    data: Bytes,
}

impl MultipartForm {
    /// An empty form.
    ///
    /// ```
    /// let form = carafe::testing::MultipartForm::new();
    /// # let _ = form;
    /// ```
    pub fn new() -> Self {
        MultipartForm::default()
    }

    /// Adds a text field.
    ///
    /// ```
    /// let form = carafe::testing::MultipartForm::new().text("name", "ann");
    /// # let _ = form;
    /// ```
    pub fn text(mut self, name: &str, value: &str) -> Self {
        self.parts.push(Part {
            name: name.to_owned(),
            filename: None,
            content_type: None,
            data: Bytes::copy_from_slice(value.as_bytes()),
        });
        self
    }

    /// Adds a file with its file name and content type.
    ///
    /// ```
    /// let form = carafe::testing::MultipartForm::new()
    ///     .file("doc", "notes.txt", "text/plain", "hello");
    /// # let _ = form;
    /// ```
    pub fn file(
        mut self,
        name: &str,
        filename: &str,
        content_type: &str,
        data: impl Into<Bytes>,
    ) -> Self {
        self.parts.push(Part {
            name: name.to_owned(),
            filename: Some(filename.to_owned()),
            content_type: Some(content_type.to_owned()),
            data: data.into(),
        });
        self
    }

    /// The `content-type` (with the boundary) and the body.
    pub(crate) fn encode(&self) -> (String, Bytes) {
        let boundary = self.boundary();
        let mut body = BytesMut::new();
        for part in &self.parts {
            body.put_slice(format!("--{boundary}\r\n").as_bytes());
            let mut disposition = format!("form-data; name=\"{}\"", quote(&part.name));
            if let Some(filename) = &part.filename {
                disposition.push_str(&format!("; filename=\"{}\"", quote(filename)));
            }
            body.put_slice(format!("content-disposition: {disposition}\r\n").as_bytes());
            if let Some(content_type) = &part.content_type {
                body.put_slice(format!("content-type: {content_type}\r\n").as_bytes());
            }
            body.put_slice(b"\r\n");
            body.put_slice(&part.data);
            body.put_slice(b"\r\n");
        }
        body.put_slice(format!("--{boundary}--\r\n").as_bytes());
        (
            format!("multipart/form-data; boundary={boundary}"),
            body.freeze(),
        )
    }

    /// A boundary that occurs in no part.
    fn boundary(&self) -> String {
        let mut counter = 0u32;
        loop {
            let boundary = format!("carafe-test-boundary-{counter}");
            let clashes = self.parts.iter().any(|part| {
                part.data
                    .windows(boundary.len())
                    .any(|window| window == boundary.as_bytes())
            });
            if !clashes {
                return boundary;
            }
            counter += 1;
        }
    }
}

/// `text` for a quoted parameter: `"` and line breaks percent-encoded, as browsers do
/// (the HTML standard's multipart encoding).
fn quote(text: &str) -> String {
    text.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_framed_by_the_boundary() {
        let (content_type, body) = MultipartForm::new()
            .text("a", "1")
            .file("f", "x\".txt", "text/plain", "carafe-test-boundary-0")
            .encode();
        assert_eq!(
            content_type,
            "multipart/form-data; boundary=carafe-test-boundary-1"
        );
        let text = String::from_utf8_lossy(&body);
        assert!(text.starts_with("--carafe-test-boundary-1\r\ncontent-disposition: form-data; name=\"a\"\r\n\r\n1\r\n"), "{text}");
        assert!(text.contains("filename=\"x%22.txt\"\r\ncontent-type: text/plain\r\n\r\ncarafe-test-boundary-0\r\n"), "{text}");
        assert!(text.ends_with("--carafe-test-boundary-1--\r\n"));
    }
}
