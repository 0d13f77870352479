//! send_file, send_from_directory and the static folder over real sockets, with curl:
//! `200`/`206`/`304`/`412`/`416`, `HEAD`, path traversal, a 50 MB file with bounded
//! memory; plus the `Range` parser's fuzz corpus and never-panics property.

mod support;

#[path = "../../../fuzz/oracle/range.rs"]
mod range_oracle;

use std::path::{Path as FsPath, PathBuf};

use carafe::response::{send_file, send_from_directory};
use carafe::{get, App, Path, Response};
use http::{HeaderMap, Method};

use support::curl::{curl, scratch_path};
use support::{request, start_server, TestServer};

/// The secret every traversal attempt aims at; no answer may contain it.
const SECRET: &str = "TOP-SECRET";

/// A temporary site: `static/` with files and escaping symlinks, and secrets beside it.
struct Site {
    root: PathBuf,
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

impl Site {
    fn new() -> Site {
        let root = scratch_path("site");
        let static_dir = root.join("static");
        std::fs::create_dir_all(static_dir.join("sub/dir")).expect("create the site");
        let write = |path: &str, bytes: &[u8]| {
            std::fs::write(root.join(path), bytes).expect("write a site file");
        };
        write("static/hello.txt", b"hello, static\n");
        write("static/data.bin", &pattern(1000));
        write("static/sub/dir/x.json", b"{\"x\": 1}");
        write("static/résumé.txt", b"cv");
        write("secret.txt", SECRET.as_bytes());
        write("Cargo.toml", format!("[package] # {SECRET}").as_bytes());
        std::os::unix::fs::symlink("../secret.txt", static_dir.join("escape")).expect("symlink");
        std::os::unix::fs::symlink("..", static_dir.join("dirlink")).expect("symlink");
        std::os::unix::fs::symlink("hello.txt", static_dir.join("inside")).expect("symlink");
        Site { root }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }
}

fn write_file(path: &FsPath, bytes: &[u8]) {
    std::fs::write(path, bytes).expect("write a site file");
}

/// `len` bytes that differ from offset to offset, so a wrong slice is visible.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|index| (index % 251) as u8).collect()
}

async fn serve(site: &Site) -> TestServer {
    let mut app = App::new();
    app.static_folder(site.path("static"));
    let report = site.path("static/data.bin");
    app.route(
        "/download",
        get(move |method: Method, headers: HeaderMap| {
            let report = report.clone();
            async move {
                send_file(report)
                    .as_attachment(true)
                    .download_name("Q3 résumé.bin")
                    .respond(&method, &headers)
                    .await
            }
        }),
    );
    let uploads = site.path("static/sub");
    app.route(
        "/uploads/<path:name>",
        get(
            move |Path(name): Path<String>, method: Method, headers: HeaderMap| {
                let uploads = uploads.clone();
                async move {
                    send_from_directory(uploads, &name)
                        .max_age(std::time::Duration::from_secs(60))
                        .respond(&method, &headers)
                        .await
                }
            },
        ),
    );
    start_server(app).await
}

fn url(server: &TestServer, path: &str) -> String {
    format!("http://{}{path}", server.addr)
}

#[tokio::test]
async fn a_static_file_comes_with_validators_and_its_type() {
    let site = Site::new();
    let server = serve(&site).await;
    let reply = curl(&[&url(&server, "/static/hello.txt")]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), "hello, static\n");
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(reply.header("content-length"), Some("14"));
    assert_eq!(reply.header("accept-ranges"), Some("bytes"));
    assert_eq!(reply.header("cache-control"), Some("no-cache"));
    assert_eq!(
        reply.header("content-disposition"),
        Some("inline; filename=\"hello.txt\"")
    );
    let etag = reply.header("etag").expect("an etag");
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong: {etag}"
    );
    let modified = reply.header("last-modified").expect("last-modified");
    assert!(httpdate::parse_http_date(modified).is_ok(), "{modified}");
    let nested = curl(&[&url(&server, "/static/sub/dir/x.json")]).await;
    assert_eq!(nested.status, 200);
    assert_eq!(
        nested.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    let linked = curl(&[&url(&server, "/static/inside")]).await;
    assert_eq!(
        (linked.status, linked.text().as_str()),
        (200, "hello, static\n")
    );
}

#[tokio::test]
async fn ranges_give_206_with_content_range() {
    let site = Site::new();
    let server = serve(&site).await;
    let data = pattern(1000);
    let cases: &[(&str, u64, u64)] = &[("0-99", 0, 100), ("-10", 990, 1000), ("900-", 900, 1000)];
    for &(range, start, end) in cases {
        let reply = curl(&["-r", range, &url(&server, "/static/data.bin")]).await;
        assert_eq!(reply.status, 206, "{range}");
        let expected = format!("bytes {start}-{}/1000", end - 1);
        assert_eq!(reply.header("content-range"), Some(expected.as_str()));
        assert_eq!(
            reply.header("content-length"),
            Some((end - start).to_string().as_str())
        );
        assert_eq!(reply.body, data[start as usize..end as usize], "{range}");
    }
    // Two disjoint ranges: the whole file, never multipart.
    let reply = curl(&["-r", "0-1,10-11", &url(&server, "/static/data.bin")]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, data);
}

#[tokio::test]
async fn an_unsatisfiable_range_gives_416() {
    let site = Site::new();
    let server = serve(&site).await;
    let reply = curl(&["-r", "5000-", &url(&server, "/static/data.bin")]).await;
    assert_eq!(reply.status, 416);
    assert_eq!(reply.header("content-range"), Some("bytes */1000"));
    assert!(reply.body.is_empty());
    // A malformed Range is ignored.
    let reply = curl(&["-H", "Range: bytes=9-1", &url(&server, "/static/data.bin")]).await;
    assert_eq!((reply.status, reply.body.len()), (200, 1000));
}

#[tokio::test]
async fn if_none_match_gives_304_and_wins_over_if_modified_since() {
    let site = Site::new();
    let server = serve(&site).await;
    let target = url(&server, "/static/hello.txt");
    let first = curl(&[&target]).await;
    let etag = first.header("etag").expect("an etag").to_owned();
    let modified = first
        .header("last-modified")
        .expect("last-modified")
        .to_owned();
    let again = curl(&["-H", &format!("If-None-Match: {etag}"), &target]).await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    assert_eq!(again.header("content-length"), None);
    let listed = curl(&["-H", &format!("If-None-Match: \"x\", W/{etag}"), &target]).await;
    assert_eq!(listed.status, 304);
    // A stale tag with a fresh date: the tag decides.
    // (Sent with -H: curl's own -z would also hide a body it thinks is not newer.)
    let since = format!("If-Modified-Since: {modified}");
    let stale = curl(&["-H", "If-None-Match: \"stale\"", "-H", &since, &target]).await;
    assert_eq!(stale.status, 200);
    assert_eq!(stale.text(), "hello, static\n");
}

#[tokio::test]
async fn if_modified_since_gives_304_only_when_not_modified() {
    let site = Site::new();
    let server = serve(&site).await;
    let target = url(&server, "/static/hello.txt");
    let modified = curl(&[&target])
        .await
        .header("last-modified")
        .expect("date")
        .to_owned();
    let fresh = curl(&["-z", &modified, &target]).await;
    assert_eq!(fresh.status, 304);
    let old = curl(&["-z", "Sat, 01 Jan 2000 00:00:00 GMT", &target]).await;
    assert_eq!(old.status, 200);
    assert_eq!(old.text(), "hello, static\n");
}

#[tokio::test]
async fn if_range_that_does_not_match_gives_the_whole_file() {
    let site = Site::new();
    let server = serve(&site).await;
    let target = url(&server, "/static/data.bin");
    let etag = curl(&[&target])
        .await
        .header("etag")
        .expect("etag")
        .to_owned();
    let matching = curl(&["-r", "0-9", "-H", &format!("If-Range: {etag}"), &target]).await;
    assert_eq!((matching.status, matching.body.len()), (206, 10));
    let other = curl(&["-r", "0-9", "-H", "If-Range: \"other\"", &target]).await;
    assert_eq!((other.status, other.body.len()), (200, 1000));
    let old_date = "If-Range: Sat, 01 Jan 2000 00:00:00 GMT";
    let dated = curl(&["-r", "0-9", "-H", old_date, &target]).await;
    assert_eq!((dated.status, dated.body.len()), (200, 1000));
    let failed = curl(&["-H", "If-Match: \"other\"", &target]).await;
    assert_eq!(failed.status, 412);
}

#[tokio::test]
async fn head_has_the_length_and_no_body() {
    let site = Site::new();
    let server = serve(&site).await;
    let reply = request(server.addr, "HEAD", "/static/data.bin", &[], b"").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-length"), Some("1000"));
    assert!(reply.header("etag").is_some());
    let curl_head = curl(&["-I", &url(&server, "/static/data.bin")]).await;
    assert_eq!(curl_head.header("content-length"), Some("1000"));
}

#[tokio::test]
async fn downloads_name_the_file_for_every_browser() {
    let site = Site::new();
    let server = serve(&site).await;
    let reply = curl(&[&url(&server, "/download")]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-disposition"),
        Some("attachment; filename=\"Q3 rsum.bin\"; filename*=UTF-8''Q3%20r%C3%A9sum%C3%A9.bin")
    );
    assert_eq!(
        reply.header("content-type"),
        Some("application/octet-stream")
    );
    let upload = curl(&[&url(&server, "/uploads/dir/x.json")]).await;
    assert_eq!(upload.status, 200);
    assert_eq!(upload.header("cache-control"), Some("public, max-age=60"));
    assert!(upload.header("expires").is_some());
    let unicode = curl(&[&url(&server, "/static/r%C3%A9sum%C3%A9.txt")]).await;
    assert_eq!((unicode.status, unicode.text().as_str()), (200, "cv"));
}

#[tokio::test]
async fn traversal_attempts_get_404_and_never_leak() {
    let site = Site::new();
    let server = serve(&site).await;
    let attempts = [
        "/static/../Cargo.toml",
        "/static/../secret.txt",
        "/static/%2e%2e/Cargo.toml",
        "/static/%2E%2E/secret.txt",
        "/static/..%2fCargo.toml",
        "/static/..%2FCargo.toml",
        "/static/..%5cCargo.toml",
        "/static/%2e%2e%5csecret.txt",
        "/static/sub/../../secret.txt",
        "/static/sub/%2e%2e/%2e%2e/secret.txt",
        "/static/.%2e/secret.txt",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/static/escape",
        "/static/dirlink/secret.txt",
        "/static/dirlink/Cargo.toml",
        "/static/secret.txt%00.txt",
        "/static/sub",
        "/static/",
        "/static/C:%5cWindows%5cwin.ini",
        "/uploads/../../secret.txt",
        "/uploads/%2e%2e/%2e%2e/secret.txt",
        "/uploads/..%2f..%2fsecret.txt",
    ];
    for target in attempts {
        let reply = request(server.addr, "GET", target, &[], b"").await;
        assert_eq!(reply.status, 404, "{target}");
        assert!(!reply.text().contains(SECRET), "{target} leaked");
        let via_curl = curl(&["--path-as-is", &url(&server, target)]).await;
        assert_eq!(via_curl.status, 404, "curl {target}");
        assert!(!via_curl.text().contains(SECRET), "curl {target} leaked");
    }
}

#[tokio::test]
async fn missing_files_and_folders_are_404() {
    let site = Site::new();
    let server = serve(&site).await;
    for target in ["/static/nope.txt", "/static/sub/dir", "/static/hello.txt/x"] {
        let reply = curl(&[&url(&server, target)]).await;
        assert_eq!(reply.status, 404, "{target}");
    }
}

#[tokio::test]
async fn send_file_answers_directly_without_a_server() {
    let site = Site::new();
    let path = site.path("static/hello.txt");
    let response: Response = send_file(&path)
        .conditional(false)
        .etag(false)
        .mimetype("text/x-custom")
        .respond(&Method::GET, &HeaderMap::new())
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/x-custom");
    assert!(response.headers().get("etag").is_none());
    assert!(response.headers().get("accept-ranges").is_none());
    write_file(&site.path("static/hello.txt"), b"changed");
}

/// Serves a 50 MB file to curl in a child process (so that no other test shares its
/// memory) and checks that the child's peak resident memory grew by far less than the
/// file: the file is streamed from disk, never read whole.
#[test]
fn a_50_mb_file_is_served_with_bounded_memory() {
    let exe = std::env::current_exe().expect("the test binary");
    let output = std::process::Command::new(exe)
        .args([
            "--exact",
            "fifty_mb_child",
            "--include-ignored",
            "--nocapture",
        ])
        .env("CARAFE_FIFTY_MB_CHILD", "1")
        .output()
        .expect("run the child test");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("peak growth"),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The child half of `a_50_mb_file_is_served_with_bounded_memory`.
#[test]
#[ignore = "run by a_50_mb_file_is_served_with_bounded_memory in its own process"]
#[allow(clippy::print_stdout)] // the report line the parent reads
fn fifty_mb_child() {
    if std::env::var_os("CARAFE_FIFTY_MB_CHILD").is_none() {
        return;
    }
    const SIZE: usize = 50 * 1024 * 1024;
    let site = Site::new();
    let big = site.path("static/big.bin");
    let chunk = pattern(1024 * 1024);
    let mut file = std::fs::File::create(&big).expect("create big.bin");
    for _ in 0..SIZE / chunk.len() {
        std::io::Write::write_all(&mut file, &chunk).expect("write big.bin");
    }
    drop((file, chunk));
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let server = serve(&site).await;
        let before = peak_rss_kib();
        let out = scratch_path("big-download");
        let status = tokio::process::Command::new("curl")
            .args(["-s", "-S", "-o"])
            .arg(&out)
            .args(["-w", "%{http_code} %{size_download}"])
            .arg(url(&server, "/static/big.bin"))
            .output()
            .await
            .expect("curl");
        // Measured before the check below, which reads both files.
        let growth = peak_rss_kib().saturating_sub(before);
        let summary = String::from_utf8_lossy(&status.stdout).into_owned();
        assert_eq!(summary, format!("200 {SIZE}"));
        let same = files_equal(&out, &big);
        let _ = std::fs::remove_file(&out);
        assert!(same, "the download differs from big.bin");
        // The parent reads this line; it also shows the measurement under --nocapture.
        println!("peak growth {growth} KiB while serving {} KiB", SIZE / 1024);
        assert!(growth < 16 * 1024, "peak RSS grew by {growth} KiB");
    });
}

/// Whether two files hold the same bytes, compared a megabyte at a time.
fn files_equal(a: &FsPath, b: &FsPath) -> bool {
    use std::io::Read;
    let open = |path: &FsPath| std::fs::File::open(path).expect("open for comparison");
    let (mut a, mut b) = (open(a), open(b));
    let (mut buf_a, mut buf_b) = (vec![0; 1 << 20], vec![0; 1 << 20]);
    loop {
        let read_a = a.read(&mut buf_a).expect("read");
        if read_a == 0 {
            return b.read(&mut buf_b).expect("read") == 0;
        }
        if b.read_exact(&mut buf_b[..read_a]).is_err() || buf_a[..read_a] != buf_b[..read_a] {
            return false;
        }
    }
}

/// The process's peak resident set (`VmHWM`), in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn the_range_fuzz_corpus_passes_the_oracle() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/range");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/corpus/range") {
        let path = entry.expect("a corpus entry").path();
        let input = std::fs::read(&path).expect("a corpus file");
        let _ = range_oracle::check(&input);
        seen += 1;
    }
    assert!(seen >= 10, "only {seen} seeds in {dir:?}");
}

mod never_panics {
    use proptest::prelude::*;

    use super::range_oracle;

    /// Near-valid `Range` values: the grammar's pieces in any order.
    fn range_value() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("bytes=".to_owned()),
            Just(",".to_owned()),
            Just("-".to_owned()),
            Just(" ".to_owned()),
            "[0-9]{1,3}",
            "[0-9]{18,22}",
            "[ -~]{0,3}",
        ];
        prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #[test]
        fn range_parser_never_panics(len in 0u64..2000, value in range_value()) {
            let _ = range_oracle::check(format!("{len}\n{value}").as_bytes());
        }

        #[test]
        fn range_parser_never_panics_on_bytes(input in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = range_oracle::check(&input);
        }
    }
}
