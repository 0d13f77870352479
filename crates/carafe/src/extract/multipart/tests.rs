use bytes::Bytes;
use carafe_serve::Body;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode};

use super::*;

const BOUNDARY: &str = "XyZ";

/// A multipart body of `(name, filename, content)` parts.
fn body(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, file_name, content) in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let disposition = match file_name {
            Some(file) => format!("form-data; name=\"{name}\"; filename=\"{file}\""),
            None => format!("form-data; name=\"{name}\""),
        };
        out.extend_from_slice(format!("content-disposition: {disposition}\r\n").as_bytes());
        if file_name.is_some() {
            out.extend_from_slice(b"content-type: application/octet-stream\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(content);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

fn headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    let value = format!("multipart/form-data; boundary={BOUNDARY}");
    headers.insert(CONTENT_TYPE, HeaderValue::from_str(&value).expect("valid"));
    headers
}

/// Reads `raw` into a form under `limits`, in pieces of 7 bytes to cross every boundary.
async fn read(raw: Vec<u8>, limits: &MultipartLimits) -> Result<MultipartForm, HttpError> {
    let chunks: Vec<Result<Bytes, std::io::Error>> = raw
        .chunks(7)
        .map(|chunk| Ok(Bytes::copy_from_slice(chunk)))
        .collect();
    let stream = futures_util::stream::iter(chunks);
    let multipart = Multipart::new(&headers(), Body::from_stream(stream), limits)?;
    MultipartForm::read(multipart).await
}

#[tokio::test]
async fn fields_and_files_are_collected_in_order() {
    let raw = body(&[
        ("title", None, b"Holiday"),
        ("tag", None, b"sea"),
        ("photo", Some("a.jpg"), b"\xff\xd8jpeg"),
        ("tag", None, b"sun"),
        ("empty", Some(""), b""),
    ]);
    let form = read(raw, &MultipartLimits::default()).await.expect("valid");
    assert_eq!(form.get("title"), Some("Holiday"));
    assert_eq!(form.get_all("tag").collect::<Vec<_>>(), ["sea", "sun"]);
    let photo = form.file("photo").expect("a photo");
    assert_eq!(photo.file_name(), Some("a.jpg"));
    assert_eq!(photo.content_type(), Some("application/octet-stream"));
    assert_eq!(
        photo.bytes().await.expect("in memory"),
        &b"\xff\xd8jpeg"[..]
    );
    assert!(photo.path().is_none());
    assert!(form.file("empty").expect("blank input").is_empty());
}

#[tokio::test]
async fn files_above_the_threshold_go_to_disk_and_are_deleted_on_drop() {
    let content = vec![b'x'; 10_000];
    let raw = body(&[
        ("big", Some("big.bin"), &content),
        ("small", Some("s"), b"abc"),
    ]);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let limits = MultipartLimits::default()
        .spool_threshold(1_000)
        .spool_dir(dir.path());
    let mut form = read(raw, &limits).await.expect("valid");
    assert!(form.file("small").and_then(UploadedFile::path).is_none());
    let big = form.take_file("big").expect("the big file");
    let path = big.path().expect("spooled").to_owned();
    assert!(path.starts_with(dir.path()));
    assert_eq!(std::fs::read(&path).expect("on disk"), content);
    assert_eq!(big.len(), 10_000);
    drop(big);
    assert!(!path.exists(), "the temporary file is removed on drop");
}

#[tokio::test]
async fn each_limit_answers_413_naming_itself() {
    let raw = body(&[("a", None, b"1"), ("b", None, b"2"), ("c", None, b"3")]);
    let error = read(raw, &MultipartLimits::default().max_parts(2))
        .await
        .expect_err("too many parts");
    assert_eq!(error.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(error.message().contains("max_parts"), "{error}");

    let raw = body(&[("f", Some("f"), &[0; 100])]);
    let error = read(raw, &MultipartLimits::default().max_part_size(50))
        .await
        .expect_err("part too big");
    assert!(error.message().contains("max_part_size"), "{error}");
    assert!(error.message().contains("`f`"), "{error}");

    let raw = body(&[("note", None, &[b'n'; 100]), ("f", Some("f"), &[0; 100])]);
    let error = read(raw.clone(), &MultipartLimits::default().max_field_size(50))
        .await
        .expect_err("field too big");
    assert!(error.message().contains("max_field_size"), "{error}");
    let raw_files_only = body(&[("f", Some("f"), &[0; 100])]);
    assert!(
        read(
            raw_files_only,
            &MultipartLimits::default().max_field_size(50)
        )
        .await
        .is_ok(),
        "the field limit does not apply to files"
    );

    let error = read(raw, &MultipartLimits::default().max_total_size(100))
        .await
        .expect_err("body too big");
    assert!(error.message().contains("max_total_size"), "{error}");
}

#[tokio::test]
async fn declared_length_over_the_total_is_refused_before_reading() {
    let mut headers = headers();
    headers.insert(CONTENT_LENGTH, HeaderValue::from_static("1000000"));
    let limits = MultipartLimits::default().max_total_size(1000);
    let error = Multipart::new(&headers, Body::empty(), &limits).expect_err("too long");
    assert_eq!(error.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn malformed_bodies_are_400() {
    let cases: [&[u8]; 5] = [
        b"",
        b"no boundary here",
        b"--XyZ\r\ncontent-disposition: form-data; name=\"a\"\r\n\r\nunterminated",
        b"--XyZ\r\nbad header line\r\n\r\nx\r\n--XyZ--\r\n",
        b"--XyZ\r\ncontent-disposition: form-data; name=\"a\"\r\n",
    ];
    for raw in cases {
        let error = read(raw.to_vec(), &MultipartLimits::default())
            .await
            .expect_err("malformed");
        assert_eq!(
            error.status(),
            StatusCode::BAD_REQUEST,
            "{:?}: {error}",
            String::from_utf8_lossy(raw)
        );
    }
}

#[tokio::test]
async fn wrong_content_types() {
    let mut plain = HeaderMap::new();
    plain.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    let limits = MultipartLimits::default();
    let error = Multipart::new(&plain, Body::empty(), &limits).expect_err("not multipart");
    assert_eq!(error.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let mut no_boundary = HeaderMap::new();
    no_boundary.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("multipart/form-data"),
    );
    let error = Multipart::new(&no_boundary, Body::empty(), &limits).expect_err("no boundary");
    assert_eq!(error.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn text_fields_must_be_utf8_and_deserialize_by_name() {
    let raw = body(&[("a", None, b"\xff")]);
    let error = read(raw, &MultipartLimits::default())
        .await
        .expect_err("not UTF-8");
    assert_eq!(error.status(), StatusCode::BAD_REQUEST);
    assert!(error.message().contains("`a`"), "{error}");

    #[derive(serde::Deserialize)]
    struct Post {
        #[allow(dead_code)]
        title: String,
        count: u32,
        tags: Vec<String>,
    }
    let raw = body(&[
        ("title", None, "caf\u{e9} & co=1".as_bytes()),
        ("count", None, b"2"),
        ("tags", None, b"a"),
        ("tags", None, b"b"),
    ]);
    let form = read(raw, &MultipartLimits::default()).await.expect("valid");
    let post: Post = form.deserialize().expect("fits");
    assert_eq!((post.count, post.tags.len()), (2, 2));
    let error = form
        .deserialize::<Vec<(String, u8)>>()
        .expect_err("title is no u8");
    assert_eq!(error.status(), StatusCode::BAD_REQUEST);
}
