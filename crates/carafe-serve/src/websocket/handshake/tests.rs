use super::*;

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_static(name),
            HeaderValue::from_str(value).expect("test header"),
        );
    }
    map
}

fn good() -> Vec<(&'static str, &'static str)> {
    vec![
        ("upgrade", "websocket"),
        ("connection", "Upgrade"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ]
}

fn check(pairs: &[(&'static str, &str)]) -> Result<HeaderValue, HandshakeError> {
    check_request(&Method::GET, Version::HTTP_11, &headers(pairs))
}

#[test]
fn rfc_6455_sample_key_gets_the_sample_accept_value() {
    // RFC 6455 §1.3's worked example.
    assert_eq!(
        check(&good()).expect("valid"),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
}

#[test]
fn tokens_match_in_any_case_and_inside_lists() {
    let mut pairs = good();
    pairs[0] = ("upgrade", "h2c, WebSocket");
    pairs[1] = ("connection", "keep-alive, UPGRADE");
    assert!(check(&pairs).is_ok());
    assert!(asks_for_websocket(&headers(&pairs)));
}

#[test]
fn each_broken_part_gets_its_own_error() {
    let cases: &[(usize, (&'static str, &str), HandshakeError)] = &[
        (0, ("upgrade", "h2c"), HandshakeError::NoUpgradeWebSocket),
        (
            1,
            ("connection", "keep-alive"),
            HandshakeError::NoConnectionUpgrade,
        ),
        (
            2,
            ("sec-websocket-version", "8"),
            HandshakeError::UnsupportedVersion(Some("8".into())),
        ),
        (
            3,
            ("sec-websocket-key", "c2hvcnQ="),
            HandshakeError::InvalidKey,
        ),
        (
            3,
            ("sec-websocket-key", "not base64 at all!!!!!!!"),
            HandshakeError::InvalidKey,
        ),
    ];
    for (index, replacement, expected) in cases {
        let mut pairs = good();
        pairs[*index] = *replacement;
        assert_eq!(check(&pairs).as_ref(), Err(expected), "{replacement:?}");
    }
}

#[test]
fn missing_or_repeated_headers_are_refused() {
    let mut pairs = good();
    pairs.remove(3);
    assert_eq!(check(&pairs), Err(HandshakeError::MissingKey));
    let mut pairs = good();
    pairs.push(("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="));
    assert_eq!(check(&pairs), Err(HandshakeError::MissingKey));
    let mut pairs = good();
    pairs.remove(2);
    assert_eq!(check(&pairs), Err(HandshakeError::UnsupportedVersion(None)));
}

#[test]
fn method_and_http_version_are_checked_first() {
    let map = headers(&good());
    assert_eq!(
        check_request(&Method::POST, Version::HTTP_11, &map),
        Err(HandshakeError::MethodNotGet(Method::POST))
    );
    assert_eq!(
        check_request(&Method::GET, Version::HTTP_10, &map),
        Err(HandshakeError::HttpVersionTooOld)
    );
}

#[test]
fn errors_map_to_400_except_the_version_which_gets_426() {
    let all = [
        HandshakeError::MethodNotGet(Method::PUT),
        HandshakeError::HttpVersionTooOld,
        HandshakeError::NoUpgradeWebSocket,
        HandshakeError::NoConnectionUpgrade,
        HandshakeError::MissingKey,
        HandshakeError::InvalidKey,
        HandshakeError::NotUpgradable,
    ];
    for error in all {
        let response = error.into_response();
        assert_eq!(response.status(), 400);
        assert!(response.headers().get("sec-websocket-version").is_none());
    }
    let response = HandshakeError::UnsupportedVersion(None).into_response();
    assert_eq!(response.status(), 426);
    assert_eq!(response.headers()["sec-websocket-version"], "13");
}

proptest::proptest! {
    #[test]
    fn check_request_never_panics(
        upgrade in "\\PC{0,40}",
        connection in "\\PC{0,40}",
        version in "\\PC{0,8}",
        key in "\\PC{0,40}",
    ) {
        let mut map = HeaderMap::new();
        for (name, value) in [
            (UPGRADE, upgrade),
            (CONNECTION, connection),
            (SEC_WEBSOCKET_VERSION, version),
            (SEC_WEBSOCKET_KEY, key),
        ] {
            if let Ok(value) = HeaderValue::from_str(&value) {
                map.insert(name, value);
            }
        }
        let _ = check_request(&Method::GET, Version::HTTP_11, &map);
        let _ = asks_for_websocket(&map);
    }
}
