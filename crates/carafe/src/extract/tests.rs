//! Extractor tests: the head extractors, the body extractors and their limits, `Query`,
//! and `Json`'s content-type and error answers.

use bytes::Bytes;
use carafe_serve::{Body, ConnInfo, Request};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, Method, StatusCode, Uri, Version};
use serde::Deserialize;

use super::{FromRequest, FromRequestParts, Query, RequestParts};
use crate::error::HttpError;
use crate::Json;

/// The parts and body of a request.
fn request(
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: impl Into<Body>,
) -> (RequestParts, Body) {
    let mut builder = http::Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let req = builder.body(body.into()).unwrap_or_default();
    let (head, body) = req.into_parts();
    (RequestParts::new(head), body)
}

async fn from_body<T: FromRequest>(
    headers: &[(&str, &str)],
    body: impl Into<Body>,
) -> Result<T, HttpError> {
    let (parts, body) = request(Method::POST, "/", headers, body);
    T::from_request(parts, body).await
}

fn status<T>(result: &Result<T, HttpError>) -> u16 {
    result
        .as_ref()
        .map_or_else(|error| error.status().as_u16(), |_| 200)
}

#[tokio::test]
async fn head_extractors_copy_the_request_head() {
    let (mut parts, _) = request(Method::PUT, "/a?b=c", &[("x-token", "t")], ());
    let headers = HeaderMap::from_request_parts(&mut parts)
        .await
        .unwrap_or_default();
    assert_eq!(headers["x-token"], "t");
    let method = Method::from_request_parts(&mut parts)
        .await
        .unwrap_or_default();
    assert_eq!(method, Method::PUT);
    let uri = Uri::from_request_parts(&mut parts)
        .await
        .unwrap_or_default();
    assert_eq!(uri, "/a?b=c");
    let version = Version::from_request_parts(&mut parts)
        .await
        .unwrap_or_default();
    assert_eq!(version, Version::HTTP_11);
}

#[tokio::test]
async fn conn_info_comes_from_the_server_or_answers_500() {
    let (mut parts, _) = request(Method::GET, "/", &[], ());
    let missing = ConnInfo::from_request_parts(&mut parts).await;
    assert_eq!(status(&missing), 500);
    let info = ConnInfo {
        peer_addr: ([127, 0, 0, 1], 40000).into(),
        local_addr: ([127, 0, 0, 1], 5000).into(),
        id: 7,
    };
    parts.extensions_mut().insert(info);
    assert_eq!(
        ConnInfo::from_request_parts(&mut parts).await.ok(),
        Some(info)
    );
}

#[tokio::test]
async fn query_deserializes_the_query_string() {
    #[derive(Debug, Deserialize, PartialEq)]
    struct Search {
        q: String,
        page: Option<u32>,
    }
    let query = |uri: &'static str| async move {
        let (mut parts, _) = request(Method::GET, uri, &[], ());
        Query::<Search>::from_request_parts(&mut parts)
            .await
            .map(|Query(search)| search)
    };
    assert_eq!(
        query("/?q=rust%20web&page=2").await.ok(),
        Some(Search {
            q: "rust web".into(),
            page: Some(2)
        })
    );
    assert_eq!(
        query("/?q=a+b").await.ok(),
        Some(Search {
            q: "a b".into(),
            page: None
        })
    );
    let missing = query("/").await;
    assert_eq!(status(&missing), 400);
    assert!(missing
        .err()
        .is_some_and(|error| error.message().contains("missing field `q`")));
    assert_eq!(status(&query("/?q=x&page=two").await), 400);
}

#[tokio::test]
async fn string_and_bytes_read_the_whole_body() {
    assert_eq!(
        from_body::<String>(&[], "héllo").await.ok(),
        Some("héllo".to_owned())
    );
    assert_eq!(
        from_body::<Bytes>(&[], vec![0u8, 255]).await.ok(),
        Some(Bytes::from_static(&[0, 255]))
    );
    let invalid = from_body::<String>(&[], vec![0xffu8, 0xfe]).await;
    assert_eq!(status(&invalid), 400);
    assert!(invalid
        .err()
        .is_some_and(|error| error.message().contains("not valid UTF-8")));
}

#[tokio::test]
async fn bodies_over_the_limit_get_413() {
    let (parts, body) = request(Method::POST, "/", &[], "x".repeat(11));
    let parts = RequestParts::routed(parts.into_head(), Vec::new(), limited(10));
    assert_eq!(status(&String::from_request(parts, body).await), 413);

    // A content-length over the limit is refused before reading.
    let (parts, body) = request(Method::POST, "/", &[("content-length", "11")], "");
    let parts = RequestParts::routed(parts.into_head(), Vec::new(), limited(10));
    assert_eq!(status(&Bytes::from_request(parts, body).await), 413);

    let (parts, body) = request(Method::POST, "/", &[], "x".repeat(10));
    let parts = RequestParts::routed(parts.into_head(), Vec::new(), limited(10));
    assert_eq!(status(&String::from_request(parts, body).await), 200);
}

#[tokio::test]
async fn body_and_request_are_handed_over_unread() {
    let body = from_body::<Body>(&[], "stream me").await;
    let bytes = match body {
        Ok(body) => body.to_bytes(usize::MAX).await.ok(),
        Err(_) => None,
    };
    assert_eq!(bytes.as_deref(), Some(&b"stream me"[..]));

    let (parts, body) = request(
        Method::POST,
        "/upload?x=1",
        &[(CONTENT_LENGTH.as_str(), "2")],
        "hi",
    );
    let req = Request::from_request(parts, body).await.ok();
    assert_eq!(
        req.as_ref().map(|req| req.uri().to_string()),
        Some("/upload?x=1".to_owned())
    );
    assert_eq!(
        req.as_ref().map(|req| req.method().clone()),
        Some(Method::POST)
    );
}

#[tokio::test]
async fn parts_extractors_work_as_the_last_argument() {
    let (parts, body) = request(Method::DELETE, "/", &[], "ignored");
    assert_eq!(
        Method::from_request(parts, body).await.ok(),
        Some(Method::DELETE)
    );
}

#[derive(Debug, Deserialize, PartialEq)]
struct Item {
    name: String,
    price: f64,
}

#[tokio::test]
async fn json_reads_a_json_body() {
    let json = [(CONTENT_TYPE.as_str(), "application/json")];
    let item = from_body::<Json<Item>>(&json, r#"{"name":"tea","price":2.5}"#).await;
    assert_eq!(
        item.ok(),
        Some(Json(Item {
            name: "tea".into(),
            price: 2.5
        }))
    );
}

#[tokio::test]
async fn json_without_a_json_content_type_gets_415() {
    let body = r#"{"name":"tea","price":2.5}"#;
    for headers in [
        &[][..],
        &[("content-type", "text/plain")],
        &[("content-type", "application/x-www-form-urlencoded")],
    ] {
        let refused = from_body::<Json<Item>>(headers, body).await;
        assert_eq!(status(&refused), 415, "{headers:?}");
    }
}

#[tokio::test]
async fn json_that_does_not_fit_gets_400_naming_the_field() {
    let json = [("content-type", "application/json; charset=utf-8")];
    let refused = from_body::<Json<Item>>(&json, r#"{"name":"tea","price":"cheap"}"#).await;
    assert_eq!(status(&refused), 400);
    let message = refused
        .err()
        .map(|error| error.message().to_owned())
        .unwrap_or_default();
    assert!(
        message.contains("at `price`") && message.contains("line 1 column"),
        "{message}"
    );

    let refused = from_body::<Json<Item>>(&json, r#"{"name":"tea"}"#).await;
    let message = refused
        .err()
        .map(|error| error.message().to_owned())
        .unwrap_or_default();
    assert!(message.contains("missing field `price`"), "{message}");

    let refused = from_body::<Json<Item>>(&json, "{not json").await;
    assert_eq!(status(&refused), 400);
}

#[tokio::test]
async fn json_over_the_limit_gets_413() {
    let (parts, body) = request(
        Method::POST,
        "/",
        &[("content-type", "application/json")],
        "[1,2,3]",
    );
    let parts = RequestParts::routed(parts.into_head(), Vec::new(), limited(3));
    let refused = Json::<Vec<u8>>::from_request(parts, body).await;
    assert_eq!(status(&refused), 413);
    assert_eq!(
        refused.err().map(|error| error.status()),
        Some(StatusCode::PAYLOAD_TOO_LARGE)
    );
}

/// The shared part of an app whose body limit is `bytes`.
fn limited(bytes: usize) -> std::sync::Arc<crate::state::AppShared> {
    let mut shared = crate::state::AppShared::new();
    shared.config.max_content_length = bytes;
    std::sync::Arc::new(shared)
}
