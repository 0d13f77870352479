//! Response tests: each `IntoResponse` impl's status, headers and body.

use bytes::Bytes;
use carafe_serve::{Body, Response};
use http::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use http::{HeaderMap, HeaderValue, StatusCode};

use super::{Html, IntoResponse};
use crate::error::HttpError;

/// Status, content-type and body of a response.
async fn parts(response: Response) -> (u16, Option<String>, String) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .map(|value| value.to_str().unwrap_or("?").to_owned());
    let body = response
        .into_body()
        .to_bytes(usize::MAX)
        .await
        .unwrap_or_default();
    (
        status,
        content_type,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

fn text(status: u16, body: &str) -> (u16, Option<String>, String) {
    (
        status,
        Some("text/plain; charset=utf-8".to_owned()),
        body.to_owned(),
    )
}

#[tokio::test]
async fn text_answers_are_plain_utf8() {
    assert_eq!(parts("hi".into_response()).await, text(200, "hi"));
    assert_eq!(
        parts(String::from("hi").into_response()).await,
        text(200, "hi")
    );
    assert_eq!(
        parts(std::borrow::Cow::Borrowed("hi").into_response()).await,
        text(200, "hi")
    );
}

#[tokio::test]
async fn html_bytes_and_bare_bodies_have_their_types() {
    let html = (
        200,
        Some("text/html; charset=utf-8".to_owned()),
        "<p>x</p>".to_owned(),
    );
    assert_eq!(parts(Html("<p>x</p>").into_response()).await, html);
    assert_eq!(
        parts(Html(String::from("<p>x</p>")).into_response()).await,
        html
    );
    let octets = (
        200,
        Some("application/octet-stream".to_owned()),
        "ab".to_owned(),
    );
    assert_eq!(
        parts(Bytes::from_static(b"ab").into_response()).await,
        octets
    );
    assert_eq!(parts(b"ab".to_vec().into_response()).await, octets);
    assert_eq!(
        parts(Body::from("raw").into_response()).await,
        (200, None, "raw".to_owned())
    );
    assert_eq!(parts(().into_response()).await, (200, None, String::new()));
    assert_eq!(
        parts(StatusCode::NO_CONTENT.into_response()).await,
        (204, None, String::new())
    );
}

#[tokio::test]
async fn tuples_set_status_and_headers() {
    assert_eq!(
        parts((StatusCode::CREATED, "made").into_response()).await,
        text(201, "made")
    );

    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/csv"));
    let csv = (StatusCode::ACCEPTED, headers.clone(), "a,b").into_response();
    assert_eq!(
        parts(csv).await,
        (202, Some("text/csv".to_owned()), "a,b".to_owned())
    );
    let csv = (headers, "a,b").into_response();
    assert_eq!(
        parts(csv).await,
        (200, Some("text/csv".to_owned()), "a,b".to_owned())
    );

    let moved = (StatusCode::FOUND, [(LOCATION, "/new")], ()).into_response();
    assert_eq!(moved.status(), StatusCode::FOUND);
    assert_eq!(moved.headers()[LOCATION], "/new");
}

#[tokio::test]
async fn header_arrays_replace_the_bodys_headers_and_repeat_names() {
    let response = (
        [
            ("content-type", "text/markdown"),
            ("set-cookie", "a=1"),
            ("set-cookie", "b=2"),
        ],
        "# hi",
    )
        .into_response();
    let cookies: Vec<_> = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .cloned()
        .collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
    assert_eq!(
        parts(response).await,
        (200, Some("text/markdown".to_owned()), "# hi".to_owned())
    );
}

#[tokio::test]
async fn invalid_headers_answer_500() {
    let bad_name = ([("bad name", "x")], "body").into_response();
    assert_eq!(bad_name.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let bad_value = (StatusCode::CREATED, [("x-ok", "line\nbreak")], "body").into_response();
    assert_eq!(bad_value.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn results_answer_with_either_side() {
    let ok: Result<&str, HttpError> = Ok("fine");
    assert_eq!(parts(ok.into_response()).await, text(200, "fine"));
    let err: Result<&str, HttpError> = Err(HttpError::new(StatusCode::CONFLICT, "taken"));
    assert_eq!(parts(err.into_response()).await, text(409, "taken"));
    let err: Result<(), StatusCode> = Err(StatusCode::FORBIDDEN);
    assert_eq!(err.into_response().status(), StatusCode::FORBIDDEN);
}
