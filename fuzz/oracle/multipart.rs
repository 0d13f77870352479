//! The checks behind the `multipart_form` fuzz target, shared by path with carafe's
//! `tests/multipart.rs` (corpus replay and a never-panics property test).
//!
//! Input: a `content-type` value, a newline, then the body. The body goes through
//! `Multipart` and `MultipartForm` (carafe's own code path, with multer below) twice:
//! whole, and in pieces whose size comes from a hash of the input. Checked:
//! - nothing panics;
//! - a refusal is `400`, `413` or `415`, never a server error;
//! - an accepted form respects every limit, keeps files above the spool threshold on
//!   disk (and only those), and reads back what it counted;
//! - whole and in pieces, an accepted body gives the same form.
#![allow(dead_code)]

use std::sync::OnceLock;

use bytes::Bytes;
use carafe::extract::{Multipart, MultipartForm, MultipartLimits};
use carafe::Body;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue};

/// The limits the oracle reads under: small, so short inputs reach each of them.
pub(crate) const MAX_PARTS: usize = 8;
pub(crate) const MAX_PART: u64 = 512;
pub(crate) const MAX_FIELD: u64 = 128;
pub(crate) const SPOOL_ABOVE: usize = 64;

/// What the oracle saw: a summary of the form, or the status of the refusal.
pub(crate) type Outcome = Result<String, u16>;

/// Runs every check on `input`; panics on a violation, with the reason.
pub(crate) fn check(input: &[u8]) -> Outcome {
    let (headers, body) = split(input);
    let whole = run(&headers, Body::from(Bytes::copy_from_slice(body)));
    let piece = 1 + (hash(input) % 13) as usize;
    let chunks: Vec<Result<Bytes, std::io::Error>> = body
        .chunks(piece)
        .map(|chunk| Ok(Bytes::copy_from_slice(chunk)))
        .collect();
    let pieces = run(
        &headers,
        Body::from_stream(futures_util::stream::iter(chunks)),
    );
    if whole.is_ok() || pieces.is_ok() {
        assert_eq!(whole, pieces, "whole and in pieces of {piece} differ");
    }
    whole
}

/// The content type (the first line, if it is a valid header value) and the body.
fn split(input: &[u8]) -> (HeaderMap, &[u8]) {
    let mut headers = HeaderMap::new();
    let (line, body) = match input.iter().position(|byte| *byte == b'\n') {
        Some(at) => (&input[..at], &input[at + 1..]),
        None => (&b"multipart/form-data; boundary=XyZ"[..], input),
    };
    if let Ok(value) = HeaderValue::from_bytes(line) {
        headers.insert(CONTENT_TYPE, value);
    }
    (headers, body)
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
}

fn limits() -> MultipartLimits {
    MultipartLimits::default()
        .max_total_size(1 << 20)
        .max_parts(MAX_PARTS)
        .max_part_size(MAX_PART)
        .max_field_size(MAX_FIELD)
        .spool_threshold(SPOOL_ABOVE)
}

/// Reads one body and checks what came out.
fn run(headers: &HeaderMap, body: Body) -> Outcome {
    runtime().block_on(async {
        let read = async {
            let multipart = Multipart::new(headers, body, &limits())?;
            MultipartForm::read(multipart).await
        };
        match read.await {
            Ok(form) => Ok(summarize(&form).await),
            Err(error) => {
                let status = error.status().as_u16();
                assert!(
                    matches!(status, 400 | 413 | 415),
                    "refused with {status}: {}",
                    error.message()
                );
                Err(status)
            }
        }
    })
}

/// Checks an accepted form against the limits, and describes it.
async fn summarize(form: &MultipartForm) -> String {
    let parts = form.fields().len() + form.files().len();
    assert!(parts <= MAX_PARTS, "{parts} parts");
    let mut out = String::new();
    for (name, value) in form.fields() {
        assert!(
            value.len() as u64 <= MAX_FIELD,
            "field {name} of {}",
            value.len()
        );
        out += &format!("field {name:?}={value:?}\n");
    }
    for (name, file) in form.files() {
        assert!(file.len() <= MAX_PART, "file {name} of {}", file.len());
        let on_disk = file.path().is_some();
        assert_eq!(
            on_disk,
            file.len() as usize > SPOOL_ABOVE,
            "spooling of {}",
            file.len()
        );
        if let Some(path) = file.path() {
            assert!(path.exists(), "spooled file missing");
        }
        let data = file.bytes().await.expect("read back an upload");
        assert_eq!(data.len() as u64, file.len(), "length of {name}");
        out += &format!(
            "file {name:?} {:?} {:?} {}\n",
            file.file_name(),
            file.content_type(),
            hash(&data)
        );
    }
    out
}

/// FNV-1a, to cut and summarize reproducibly.
fn hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
