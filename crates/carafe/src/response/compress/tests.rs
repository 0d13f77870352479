//! Compression tests: negotiation, the rules, and the streaming encoders.

use std::io::Read;

use bytes::Bytes;
use carafe_serve::{Body, Response};
use http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, ETAG, VARY};
use http::{HeaderMap, HeaderValue, Method, StatusCode};

use super::*;
use crate::IntoResponse;

#[test]
fn negotiation_follows_q_values() {
    let all = Compression::default();
    let table: &[(&str, Option<Coding>)] = &[
        ("gzip", Some(Coding::Gzip)),
        ("x-gzip", Some(Coding::Gzip)),
        ("GZIP", Some(Coding::Gzip)),
        ("br", Some(Coding::Brotli)),
        ("gzip, br", Some(Coding::Brotli)),
        ("gzip;q=1.0, br;q=0.999", Some(Coding::Gzip)),
        ("gzip;q=0.5, br;q=0.5", Some(Coding::Brotli)),
        ("br;q=0, gzip", Some(Coding::Gzip)),
        ("*", Some(Coding::Brotli)),
        ("*;q=0", None),
        ("*;q=0.5, br;q=0", Some(Coding::Gzip)),
        ("gzip;q=0.5, identity", None),
        ("gzip, identity;q=0", Some(Coding::Gzip)),
        ("identity;q=0", None),
        ("", None),
        ("deflate", None),
        ("gzip;q=2", None),
        ("gzip;q=1.5", None),
        ("gzip;q=0.1234", None),
        ("gzip;q=", None),
        ("gzip;q=abc", None),
        ("gzip;Q=0.5", Some(Coding::Gzip)),
        ("gzip ; q=0.5 ; foo=bar", Some(Coding::Gzip)),
        ("gzip;q=0", None),
        ("gzip;q=0.000", None),
        ("gzip;q=0.001", Some(Coding::Gzip)),
        ("gzip, gzip;q=0", Some(Coding::Gzip)),
        (",,,", None),
    ];
    for (value, expected) in table {
        assert_eq!(negotiate(value.as_bytes(), &all), *expected, "{value:?}");
    }
    let gzip_only = Compression::default().brotli(false);
    assert_eq!(negotiate(b"br, gzip;q=0.1", &gzip_only), Some(Coding::Gzip));
    assert_eq!(negotiate(b"br", &gzip_only), None);
}

fn plan_for(method: Method, accept: Option<&str>) -> Option<CompressionPlan> {
    let mut state = StateMap::default();
    state.insert(Compression::default());
    let mut headers = HeaderMap::new();
    if let Some(accept) = accept {
        headers.insert(
            ACCEPT_ENCODING,
            HeaderValue::from_str(accept).expect("valid in this test"),
        );
    }
    compression_plan(&state, &method, &headers)
}

fn text(len: usize) -> Response {
    "a".repeat(len).into_response()
}

#[test]
fn no_settings_means_no_plan() {
    let state = StateMap::default();
    assert_eq!(
        compression_plan(&state, &Method::GET, &HeaderMap::new()),
        None
    );
}

#[test]
fn which_responses_are_compressed() {
    let gzip = || plan_for(Method::GET, Some("gzip"));
    let encoded = |response: &Response| response.headers().get(CONTENT_ENCODING).cloned();
    let big = compress_response(gzip(), text(2000));
    assert_eq!(encoded(&big).expect("valid in this test"), "gzip");
    assert_eq!(big.headers()[VARY], "accept-encoding");
    let small = compress_response(gzip(), text(100));
    assert_eq!(encoded(&small), None);
    assert_eq!(small.headers()[VARY], "accept-encoding");
    let binary = compress_response(gzip(), Bytes::from(vec![0; 5000]).into_response());
    assert_eq!(encoded(&binary), None);
    assert_eq!(binary.headers().get(VARY), None);
    let mut already = text(5000);
    already
        .headers_mut()
        .insert(CONTENT_ENCODING, HeaderValue::from_static("br"));
    assert_eq!(
        encoded(&compress_response(gzip(), already)).expect("valid in this test"),
        "br"
    );
    let partial = (StatusCode::PARTIAL_CONTENT, "a".repeat(5000)).into_response();
    assert_eq!(encoded(&compress_response(gzip(), partial)), None);
    let error = (StatusCode::NOT_FOUND, "a".repeat(5000)).into_response();
    assert_eq!(encoded(&compress_response(gzip(), error)), None);
    let mut no_transform = text(5000);
    no_transform.headers_mut().insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("public, no-transform"),
    );
    assert_eq!(encoded(&compress_response(gzip(), no_transform)), None);
    let mut events = text(5000);
    events
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    assert_eq!(encoded(&compress_response(gzip(), events)), None);
    let identity = compress_response(plan_for(Method::GET, None), text(5000));
    assert_eq!(encoded(&identity), None);
    assert_eq!(identity.headers()[VARY], "accept-encoding");
}

#[test]
fn vary_is_added_once() {
    let mut response = text(2000);
    response
        .headers_mut()
        .insert(VARY, HeaderValue::from_static("Cookie, Accept-Encoding"));
    let response = compress_response(plan_for(Method::GET, Some("gzip")), response);
    assert_eq!(response.headers().get_all(VARY).iter().count(), 1);
}

#[test]
fn compressed_etags_become_weak() {
    let mut response = text(2000);
    response
        .headers_mut()
        .insert(ETAG, HeaderValue::from_static("\"abc\""));
    response
        .headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from_static("2000"));
    let response = compress_response(plan_for(Method::GET, Some("br")), response);
    assert_eq!(response.headers()[ETAG], "W/\"abc\"");
    assert_eq!(response.headers().get(CONTENT_LENGTH), None);
}

#[tokio::test]
async fn head_answers_have_the_headers_and_no_body() {
    let mut response = Response::new(Body::empty());
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/css"));
    response
        .headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from_static("5000"));
    let response = compress_response(plan_for(Method::HEAD, Some("gzip")), response);
    assert_eq!(response.headers()[CONTENT_ENCODING], "gzip");
    assert_eq!(response.headers().get(CONTENT_LENGTH), None);
    let body = response
        .into_body()
        .to_bytes(usize::MAX)
        .await
        .expect("valid in this test");
    assert!(body.is_empty());
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid in this test");
    out
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(bytes, 4096)
        .read_to_end(&mut out)
        .expect("valid in this test");
    out
}

#[tokio::test]
async fn streamed_bodies_decode_chunk_by_chunk() {
    let chunks: Vec<String> = (0..50)
        .map(|n| format!("line {n} {}\n", "x".repeat(40)))
        .collect();
    let expected = chunks.concat();
    for (accept, decode) in [("gzip", gunzip as fn(&[u8]) -> Vec<u8>), ("br", unbrotli)] {
        let stream = futures_util::stream::iter(chunks.clone());
        let response = crate::Streaming::new(stream).into_response();
        let response = compress_response(plan_for(Method::GET, Some(accept)), response);
        let mut body = response.into_body();
        let mut seen = Vec::new();
        let mut frames = 0;
        while let Some(chunk) = body.chunk().await {
            seen.extend_from_slice(&chunk.expect("valid in this test"));
            frames += 1;
        }
        // One compressed frame per chunk (each flushed), plus the end of the stream.
        assert!(frames >= chunks.len(), "{accept}: {frames} frames");
        assert_eq!(
            String::from_utf8(decode(&seen)).expect("valid in this test"),
            expected,
            "{accept}"
        );
    }
}

#[tokio::test]
async fn a_flushed_prefix_decodes_before_the_stream_ends() {
    let mut encoder = Encoder::new(Coding::Gzip, &Compression::default());
    let first = encoder
        .write_and_flush(b"hello ")
        .expect("valid in this test");
    let mut decoder = flate2::write::GzDecoder::new(Vec::new());
    std::io::Write::write_all(&mut decoder, &first).expect("valid in this test");
    std::io::Write::flush(&mut decoder).expect("valid in this test");
    assert_eq!(decoder.get_ref().as_slice(), b"hello ");
}

#[test]
fn qvalues_parse_strictly() {
    assert_eq!(parse_qvalue(b"1"), Some(1000));
    assert_eq!(parse_qvalue(b"1.000"), Some(1000));
    assert_eq!(parse_qvalue(b"0.5"), Some(500));
    assert_eq!(parse_qvalue(b"0."), Some(0));
    assert_eq!(parse_qvalue(b"1.001"), None);
    assert_eq!(parse_qvalue(b".5"), None);
    assert_eq!(parse_qvalue(b"0.5000"), None);
    assert_eq!(parse_qvalue(b"-0"), None);
}
