//! Multipart uploads over real sockets, sent by `curl -F`: small files stay in memory,
//! big ones are spooled to a temporary file that exists while the handler runs and is gone
//! afterwards; every limit answers 413 naming itself; malformed bodies answer 400;
//! non-ASCII filenames survive and are sanitized by `secure_filename`.

mod support;

use std::path::PathBuf;

use carafe::extract::{Multipart, MultipartForm, MultipartLimits};
use carafe::{post, App, HttpError};
use support::curl::curl_at;
use support::start_server;

/// Describes every part: text fields by value, files by name, size and storage.
async fn describe(form: MultipartForm) -> String {
    let mut out = String::new();
    for (name, value) in form.fields() {
        out += &format!("field {name}={value}\n");
    }
    for (name, file) in form.files() {
        let storage = match file.path() {
            Some(path) => format!("disk {} exists={}", path.display(), path.exists()),
            None => "memory".to_owned(),
        };
        out += &format!(
            "file {name} {:?} safe={:?} type={:?} len={} {storage}\n",
            file.file_name().unwrap_or_default(),
            file.secure_file_name(),
            file.content_type().unwrap_or_default(),
            file.len(),
        );
    }
    out
}

/// Streams the parts, reporting names and sizes.
async fn stream(mut multipart: Multipart) -> Result<String, HttpError> {
    let mut out = String::new();
    while let Some(mut field) = multipart.next_field().await? {
        let name = field.name().unwrap_or_default().to_owned();
        let mut size = 0;
        while let Some(chunk) = field.chunk().await? {
            size += chunk.len();
        }
        out += &format!("{name}:{size}\n");
    }
    Ok(out)
}

/// A server whose uploads spool above 1,000 bytes into `spool`.
async fn server(spool: PathBuf) -> support::TestServer {
    let mut app = App::new();
    app.multipart_limits(
        MultipartLimits::default()
            .max_total_size(64 * 1024)
            .max_parts(4)
            .max_part_size(32 * 1024)
            .max_field_size(100)
            .spool_threshold(1_000)
            .spool_dir(spool),
    )
    .route("/upload", post(describe))
    .route("/stream", post(stream));
    start_server(app).await
}

/// A scratch directory with a file `name` of `size` bytes.
fn scratch_with(name: &str, size: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("scratch dir");
    let content: Vec<u8> = (0..size).map(|at| (at % 251) as u8).collect();
    std::fs::write(dir.path().join(name), content).expect("write the upload");
    dir
}

#[tokio::test]
async fn small_file_and_fields_stay_in_memory() {
    let spool = tempfile::tempdir().expect("spool dir");
    let server = server(spool.path().to_owned()).await;
    let scratch = scratch_with("small.txt", 10);
    let reply = curl_at(
        server.addr,
        "/upload",
        &[
            "-F",
            "title=Holiday",
            "-F",
            "doc=@small.txt;type=text/plain",
        ],
        scratch.path(),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.text(),
        "field title=Holiday\nfile doc \"small.txt\" safe=\"small.txt\" type=\"text/plain\" len=10 memory\n"
    );
}

#[tokio::test]
async fn big_file_is_spooled_to_disk_during_the_handler_and_removed_after() {
    let spool = tempfile::tempdir().expect("spool dir");
    let server = server(spool.path().to_owned()).await;
    let scratch = scratch_with("big.bin", 20_000);
    let reply = curl_at(
        server.addr,
        "/upload",
        &["-F", "blob=@big.bin"],
        scratch.path(),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.text().contains("len=20000 disk "), "{}", reply.text());
    assert!(reply.text().contains("exists=true"), "{}", reply.text());
    let text = reply.text();
    let spooled = text
        .split(" disk ")
        .nth(1)
        .and_then(|rest| rest.split(" exists=").next())
        .expect("the spool path");
    assert!(
        spooled.starts_with(&spool.path().display().to_string()),
        "{spooled}"
    );
    assert!(
        !std::path::Path::new(spooled).exists(),
        "deleted after the request"
    );
    let left = std::fs::read_dir(spool.path()).expect("spool dir").count();
    assert_eq!(left, 0, "no temporary file is left behind");
}

#[tokio::test]
async fn non_ascii_filenames_are_kept_and_sanitized() {
    let spool = tempfile::tempdir().expect("spool dir");
    let server = server(spool.path().to_owned()).await;
    let scratch = scratch_with("cv.pdf", 3);
    let reply = curl_at(
        server.addr,
        "/upload",
        &[
            "-F",
            "cv=@cv.pdf;filename=r\u{e9}sum\u{e9} na\u{ef}ve \u{5199}\u{771f}.pdf",
        ],
        scratch.path(),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(
        reply.text().contains(
            "\"r\u{e9}sum\u{e9} na\u{ef}ve \u{5199}\u{771f}.pdf\" safe=\"resume_naive_.pdf\""
        ),
        "{}",
        reply.text()
    );
}

#[tokio::test]
async fn too_many_parts_is_413() {
    let spool = tempfile::tempdir().expect("spool dir");
    let server = server(spool.path().to_owned()).await;
    let scratch = tempfile::tempdir().expect("scratch dir");
    let mut args = Vec::new();
    for _ in 0..5 {
        args.extend(["-F", "x=1"]);
    }
    let reply = curl_at(server.addr, "/upload", &args, scratch.path()).await;
    assert_eq!(reply.status, 413);
    assert!(
        reply
            .text()
            .contains("more than 4 parts (MultipartLimits::max_parts)"),
        "{}",
        reply.text()
    );
}

#[tokio::test]
async fn a_part_too_big_is_413() {
    let spool = tempfile::tempdir().expect("spool dir");
    let server = server(spool.path().to_owned()).await;
    let scratch = scratch_with("big.bin", 40_000);
    let reply = curl_at(
        server.addr,
        "/upload",
        &["-F", "blob=@big.bin"],
        scratch.path(),
    )
    .await;
    assert_eq!(reply.status, 413);
    assert!(reply.text().contains("`blob`"), "{}", reply.text());
    assert!(
        reply.text().contains("MultipartLimits::max_part_size"),
        "{}",
        reply.text()
    );
    let left = std::fs::read_dir(spool.path()).expect("spool dir").count();
    assert_eq!(left, 0, "the partial spool file is removed");
}

#[tokio::test]
async fn a_text_field_too_big_is_413_but_a_file_that_size_is_not() {
    let spool = tempfile::tempdir().expect("spool dir");
    let server = server(spool.path().to_owned()).await;
    let scratch = scratch_with("note.txt", 500);
    let long = format!("note={}", "n".repeat(500));
    let reply = curl_at(server.addr, "/upload", &["-F", &long], scratch.path()).await;
    assert_eq!(reply.status, 413);
    assert!(reply.text().contains("`note`"), "{}", reply.text());
    assert!(
        reply.text().contains("MultipartLimits::max_field_size"),
        "{}",
        reply.text()
    );

    let reply = curl_at(
        server.addr,
        "/upload",
        &["-F", "note=@note.txt"],
        scratch.path(),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
}

#[tokio::test]
async fn a_body_too_big_is_413_whether_declared_or_chunked() {
    let spool = tempfile::tempdir().expect("spool dir");
    let server = server(spool.path().to_owned()).await;
    let scratch = scratch_with("a.bin", 30_000);
    std::fs::copy(scratch.path().join("a.bin"), scratch.path().join("b.bin")).expect("copy");
    std::fs::copy(scratch.path().join("a.bin"), scratch.path().join("c.bin")).expect("copy");
    let files = ["-F", "a=@a.bin", "-F", "b=@b.bin", "-F", "c=@c.bin"];
    let reply = curl_at(server.addr, "/upload", &files, scratch.path()).await;
    assert_eq!(reply.status, 413);
    assert!(
        reply.text().contains("MultipartLimits::max_total_size"),
        "{}",
        reply.text()
    );

    let mut chunked = vec!["-H", "transfer-encoding: chunked"];
    chunked.extend(files);
    let reply = curl_at(server.addr, "/stream", &chunked, scratch.path()).await;
    assert_eq!(reply.status, 413);
    assert!(
        reply.text().contains("MultipartLimits::max_total_size"),
        "{}",
        reply.text()
    );
}

#[tokio::test]
async fn streaming_reads_parts_one_by_one() {
    let spool = tempfile::tempdir().expect("spool dir");
    let server = server(spool.path().to_owned()).await;
    let scratch = scratch_with("f.bin", 25_000);
    let reply = curl_at(
        server.addr,
        "/stream",
        &[
            "-H",
            "transfer-encoding: chunked",
            "-F",
            "a=hello",
            "-F",
            "f=@f.bin",
        ],
        scratch.path(),
    )
    .await;
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (200, "a:5\nf:25000\n")
    );
}

#[tokio::test]
async fn malformed_multipart_is_400_and_other_types_415() {
    let spool = tempfile::tempdir().expect("spool dir");
    let server = server(spool.path().to_owned()).await;
    let scratch = tempfile::tempdir().expect("scratch dir");
    let cases = [
        (
            "multipart/form-data; boundary=XX",
            "garbage without a boundary",
        ),
        (
            "multipart/form-data; boundary=XX",
            "--XX\r\nno-colon\r\n\r\nx\r\n--XX--\r\n",
        ),
        (
            "multipart/form-data; boundary=XX",
            "--XX\r\ncontent-disposition: form-data; name=a\r\n\r\ncut",
        ),
        ("multipart/form-data", "--XX--\r\n"),
    ];
    for (content_type, body) in cases {
        let header = format!("content-type: {content_type}");
        let reply = curl_at(
            server.addr,
            "/upload",
            &["-H", &header, "--data-binary", body],
            scratch.path(),
        )
        .await;
        assert_eq!(reply.status, 400, "{body:?}: {}", reply.text());
    }
    let reply = curl_at(server.addr, "/upload", &["-d", "a=1"], scratch.path()).await;
    assert_eq!(reply.status, 415);
}

// The fuzz target's checks, replayed on its seed corpus and on generated bodies.

#[path = "../../../fuzz/oracle/multipart.rs"]
mod multipart_oracle;

/// The committed seeds of `fuzz/corpus/multipart_form`.
fn multipart_seeds() -> Vec<(String, Vec<u8>)> {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/multipart_form");
    let mut seeds: Vec<_> = std::fs::read_dir(&dir)
        .expect("fuzz/corpus/multipart_form")
        .map(|entry| {
            let path = entry.expect("a corpus entry").path();
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&path).expect("a seed"))
        })
        .collect();
    seeds.sort();
    seeds
}

#[test]
fn multipart_fuzz_corpus_passes_the_oracle_with_the_expected_answers() {
    let seeds = multipart_seeds();
    assert!(seeds.len() >= 20, "{} seeds", seeds.len());
    for (name, input) in seeds {
        let outcome = multipart_oracle::check(&input);
        let expected = match name.split('_').next() {
            Some("valid") => None,
            Some("limit") => Some(413),
            Some("bad") if name == "bad_not_multipart" => Some(415),
            Some("bad") => Some(400),
            _ => panic!(
                "seed {name} has no expected answer: start its name with valid_, limit_ or bad_"
            ),
        };
        match expected {
            None => assert!(outcome.is_ok(), "{name}: {outcome:?}"),
            Some(status) => assert_eq!(outcome, Err(status), "{name}"),
        }
    }
}

/// A near-valid multipart body: parts with random names, filenames and contents, then
/// maybe cut short and maybe with one byte changed.
fn near_valid_multipart() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    let part = (
        "[a-z\"]{0,4}",
        proptest::option::of("[ -~\u{e9}\u{5199}]{0,6}"),
        proptest::collection::vec(any::<u8>(), 0..160),
    );
    (
        proptest::collection::vec(part, 0..10),
        any::<bool>(),
        any::<(u16, u8, bool)>(),
    )
        .prop_map(|(parts, end, (at, byte, mutate))| {
            let mut body = b"multipart/form-data; boundary=XyZ\n".to_vec();
            for (name, file_name, content) in parts {
                body.extend_from_slice(b"--XyZ\r\ncontent-disposition: form-data; name=\"");
                body.extend_from_slice(name.as_bytes());
                body.push(b'"');
                if let Some(file_name) = file_name {
                    body.extend_from_slice(format!("; filename=\"{file_name}\"").as_bytes());
                }
                body.extend_from_slice(b"\r\n\r\n");
                body.extend_from_slice(&content);
                body.extend_from_slice(b"\r\n");
            }
            if end {
                body.extend_from_slice(b"--XyZ--\r\n");
            }
            if mutate && !body.is_empty() {
                let at = usize::from(at) % body.len();
                if byte % 2 == 0 {
                    body.truncate(at);
                } else {
                    body[at] = byte;
                }
            }
            body
        })
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    #[test]
    fn multipart_parser_never_panics(input in near_valid_multipart()) {
        let _ = multipart_oracle::check(&input);
    }

    #[test]
    fn multipart_parser_never_panics_on_any_bytes(input in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
        let _ = multipart_oracle::check(&input);
    }
}
