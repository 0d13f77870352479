//! `Path<T>` tests: single values, tuples, structs, maps, typed converters, decoding, and
//! which mistakes are the client's (400) and which the program's (500).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::Path;
use crate::error::HttpError;
use crate::extract::{routed_parts, FromRequestParts};

async fn extract<T: serde::de::DeserializeOwned>(rule: &str, uri: &str) -> Result<T, HttpError> {
    let mut parts = routed_parts(rule, uri);
    assert!(
        !parts.params().is_empty() || !rule.contains('<'),
        "{uri} does not match {rule}"
    );
    Path::<T>::from_request_parts(&mut parts)
        .await
        .map(|Path(value)| value)
}

fn refusal<T>(result: Result<T, HttpError>) -> (u16, String) {
    match result {
        Ok(_) => (200, String::new()),
        Err(error) => (error.status().as_u16(), error.message().to_owned()),
    }
}

#[tokio::test]
async fn single_values_take_the_type_asked_for() {
    assert_eq!(extract::<u64>("/<int:id>", "/42").await.ok(), Some(42));
    assert_eq!(extract::<i64>("/<int:id>", "/42").await.ok(), Some(42));
    assert_eq!(
        extract::<String>("/<int:id>", "/0042").await.ok(),
        Some("0042".to_owned())
    );
    assert_eq!(extract::<f64>("/<float:x>", "/2.5").await.ok(), Some(2.5));
    assert_eq!(extract::<u32>("/<id>", "/7").await.ok(), Some(7));
    assert_eq!(extract::<bool>("/<flag>", "/true").await.ok(), Some(true));
    assert_eq!(extract::<char>("/<c>", "/x").await.ok(), Some('x'));
    assert_eq!(
        extract::<Option<u8>>("/<n>", "/3").await.ok(),
        Some(Some(3))
    );
    assert_eq!(
        extract::<serde_json::Value>("/<int:id>", "/5").await.ok(),
        Some(serde_json::json!(5))
    );
    assert_eq!(
        extract::<serde_json::Value>("/<float:x>", "/0.5")
            .await
            .ok(),
        Some(serde_json::json!(0.5))
    );
    assert_eq!(
        extract::<serde_json::Value>("/<s>", "/5").await.ok(),
        Some(serde_json::json!("5"))
    );
}

#[tokio::test]
async fn text_is_percent_decoded() {
    assert_eq!(
        extract::<String>("/<name>", "/J%C3%B6rg").await.ok(),
        Some("Jörg".to_owned())
    );
    assert_eq!(
        extract::<String>("/<path:p>", "/a%20b/c").await.ok(),
        Some("a b/c".to_owned())
    );
    let (status, message) = refusal(extract::<String>("/<name>", "/%FF").await);
    assert_eq!(status, 400);
    assert!(message.contains("`name` is not valid UTF-8"), "{message}");
}

#[tokio::test]
async fn tuples_structs_and_maps_take_every_parameter() {
    #[derive(Debug, Deserialize, PartialEq)]
    struct Post {
        user: String,
        id: u32,
    }
    #[derive(Debug, Deserialize, PartialEq)]
    struct Id(u64);

    let rule = "/users/<user>/posts/<int:id>";
    let uri = "/users/ann/posts/9";
    assert_eq!(
        extract::<(String, u32)>(rule, uri).await.ok(),
        Some(("ann".to_owned(), 9))
    );
    assert_eq!(
        extract::<Post>(rule, uri).await.ok(),
        Some(Post {
            user: "ann".into(),
            id: 9
        })
    );
    let map: BTreeMap<String, String> = [
        ("id".to_owned(), "9".to_owned()),
        ("user".to_owned(), "ann".to_owned()),
    ]
    .into();
    assert_eq!(
        extract::<BTreeMap<String, String>>(rule, uri).await.ok(),
        Some(map)
    );
    assert_eq!(
        extract::<Vec<String>>(rule, uri).await.ok(),
        Some(vec!["ann".to_owned(), "9".to_owned()])
    );
    assert_eq!(extract::<Id>("/<int:id>", "/3").await.ok(), Some(Id(3)));
    assert_eq!(extract::<(u64,)>("/<int:id>", "/3").await.ok(), Some((3,)));
}

#[tokio::test]
async fn enums_and_uuids_come_from_text() {
    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Color {
        Red,
        Blue,
    }
    assert_eq!(
        extract::<Color>("/<color>", "/blue").await.ok(),
        Some(Color::Blue)
    );
    assert_eq!(refusal(extract::<Color>("/<color>", "/green").await).0, 400);
    let uuid = "a8098c1a-f86e-11da-bd1a-00112444be1e";
    assert_eq!(
        extract::<String>("/<uuid:u>", &format!("/{uuid}"))
            .await
            .ok(),
        Some(uuid.to_owned())
    );
    let _ = Color::Red;
}

#[tokio::test]
async fn values_that_do_not_parse_are_the_clients_fault() {
    let (status, message) = refusal(extract::<u32>("/<id>", "/abc").await);
    assert_eq!(status, 400);
    assert_eq!(message, "path parameter `id`: cannot parse `abc` as u32");
    let (status, message) = refusal(extract::<u8>("/<int:n>", "/300").await);
    assert_eq!(status, 400);
    assert!(message.contains("cannot parse `300` as u8"), "{message}");
    assert_eq!(
        refusal(extract::<i64>("/<int:n>", "/9223372036854775808").await).0,
        400
    );
}

#[tokio::test]
async fn types_that_do_not_fit_the_rule_are_the_programs_fault() {
    #[derive(Debug, Deserialize)]
    struct Wrong {
        #[allow(dead_code)]
        missing: String,
    }
    let rule = "/<a>/<b>";
    let cases = [
        (
            refusal(extract::<u32>(rule, "/1/2").await),
            "a single value needs a rule with 1 placeholder",
        ),
        (
            refusal(extract::<(u32, u32, u32)>(rule, "/1/2").await),
            "a tuple of 3 needs a rule with 3",
        ),
        (
            refusal(extract::<Wrong>(rule, "/1/2").await),
            "the rule has no placeholder `missing`",
        ),
        (
            refusal(extract::<(Vec<u8>, u8)>(rule, "/1/2").await),
            "cannot be deserialized into a sequence",
        ),
        (
            refusal(extract::<u32>("/", "/").await),
            "a single value needs a rule with 1 placeholder",
        ),
    ];
    for ((status, message), expected) in cases {
        assert_eq!(status, 500, "{message}");
        assert!(message.contains(expected), "{message:?} lacks {expected:?}");
    }
}
