//! Unit tests of the session handle and its saving, without a server.

use std::time::Duration;

use http::header::{SET_COOKIE, VARY};
use http::StatusCode;

use super::cookie::SigningKey;
use super::*;
use crate::response::IntoResponse;
use crate::state::AppShared;

/// Request parts of an app with `config`, carrying `cookie` if any.
fn parts(config: crate::Config, cookie: Option<&str>) -> RequestParts {
    let mut request = http::Request::builder().uri("/");
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let (head, ()) = request.body(()).unwrap_or_default().into_parts();
    let mut shared = AppShared::new();
    shared.config = config;
    RequestParts::routed(head, Vec::new(), Arc::new(shared))
}

fn keyed(secret: &str) -> crate::Config {
    crate::Config {
        secret_key: Some(secret.to_owned()),
        ..crate::Config::default()
    }
}

/// The `Set-Cookie` headers after saving `session` into an empty response.
fn saved(session: &Session) -> (StatusCode, Vec<String>, Option<String>) {
    let mut response = ().into_response();
    save::save_session(session, &mut response);
    let cookies = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|value| value.to_str().unwrap_or_default().to_owned())
        .collect();
    let vary = response
        .headers()
        .get(VARY)
        .map(|value| value.to_str().unwrap_or_default().to_owned());
    (response.status(), cookies, vary)
}

/// The value of `name=value; ...`.
fn cookie_value(set_cookie: &str) -> &str {
    let pair = set_cookie.split(';').next().unwrap_or_default();
    pair.split_once('=').map_or("", |(_, value)| value)
}

#[test]
fn untouched_session_saves_nothing() {
    let session = Session::of(&mut parts(keyed("k"), Some("session=garbage")));
    assert_eq!(saved(&session), (StatusCode::OK, vec![], None));
}

#[test]
fn read_only_session_varies_on_cookie_without_setting_one() {
    let session = Session::of(&mut parts(keyed("k"), None));
    assert!(!session.contains("user"));
    let (_, cookies, vary) = saved(&session);
    assert!(cookies.is_empty());
    assert_eq!(vary.as_deref(), Some("Cookie"));
}

#[test]
fn saved_cookie_reads_back_on_the_next_request() {
    let session = Session::of(&mut parts(keyed("k"), None));
    session.insert("user", "ada");
    let (_, cookies, _) = saved(&session);
    assert_eq!(cookies.len(), 1);
    let next = format!("session={}", cookie_value(&cookies[0]));
    let again = Session::of(&mut parts(keyed("k"), Some(&next)));
    assert_eq!(again.get::<String>("user").as_deref(), Some("ada"));
    assert!(!again.modified());
}

#[test]
fn extractors_of_one_request_share_the_session() {
    let mut parts = parts(keyed("k"), None);
    let first = Session::of(&mut parts);
    first.insert("a", 1);
    assert_eq!(Session::of(&mut parts).get::<u8>("a"), Some(1));
}

#[test]
fn tampered_cookie_gives_an_empty_session() {
    let good = cookie::encode(
        &Map::from_iter([("admin".to_owned(), Value::Bool(false))]),
        &SigningKey::derive(b"k"),
        unix_now(),
    );
    let tampered = good.replacen('e', "f", 1);
    let session = Session::of(&mut parts(keyed("k"), Some(&format!("session={tampered}"))));
    assert!(session.is_empty());
}

#[test]
fn fallback_key_reads_and_current_key_signs() {
    let old = cookie::encode(
        &Map::from_iter([("user".to_owned(), Value::from("ada"))]),
        &SigningKey::derive(b"old"),
        unix_now(),
    );
    let mut config = keyed("new");
    config.secret_key_fallbacks = vec!["old".to_owned()];
    let session = Session::of(&mut parts(config, Some(&format!("session={old}"))));
    assert_eq!(session.get::<String>("user").as_deref(), Some("ada"));
    session.insert("seen", true);
    let (_, cookies, _) = saved(&session);
    let value = cookie_value(&cookies[0]);
    let new_key = [SigningKey::derive(b"new")];
    assert!(cookie::decode(value, &new_key, unix_now(), 60).is_ok());
    let old_key = [SigningKey::derive(b"old")];
    assert!(cookie::decode(value, &old_key, unix_now(), 60).is_err());
}

#[test]
fn cookie_older_than_the_lifetime_is_ignored() {
    let mut config = keyed("k");
    config.permanent_session_lifetime = Duration::from_secs(60);
    let old = cookie::encode(
        &Map::from_iter([("user".to_owned(), Value::from("ada"))]),
        &SigningKey::derive(b"k"),
        unix_now() - 61,
    );
    let session = Session::of(&mut parts(config, Some(&format!("session={old}"))));
    assert!(session.is_empty());
}

#[test]
fn emptied_session_deletes_the_cookie() {
    let value = cookie::encode(
        &Map::from_iter([("user".to_owned(), Value::from("ada"))]),
        &SigningKey::derive(b"k"),
        unix_now(),
    );
    let session = Session::of(&mut parts(keyed("k"), Some(&format!("session={value}"))));
    session.clear();
    let (_, cookies, _) = saved(&session);
    assert_eq!(cookies.len(), 1);
    assert!(cookies[0].starts_with("session=; Expires=Thu, 01 Jan 1970"));
}

#[test]
fn permanent_session_is_refreshed_with_max_age() {
    let mut config = keyed("k");
    config.permanent_session_lifetime = Duration::from_secs(120);
    let session = Session::of(&mut parts(config.clone(), None));
    session.set_permanent(true);
    let (_, cookies, _) = saved(&session);
    assert!(cookies[0].contains("; Max-Age=120;"), "{}", cookies[0]);
    let next = format!("session={}", cookie_value(&cookies[0]));
    let again = Session::of(&mut parts(config, Some(&next)));
    assert!(again.permanent());
    assert!(!again.modified());
    let (_, refreshed, _) = saved(&again);
    assert_eq!(refreshed.len(), 1, "a permanent session is refreshed");
}

#[test]
fn changed_session_without_secret_key_is_a_500() {
    let session = Session::of(&mut parts(crate::Config::default(), None));
    session.insert("user", "ada");
    let (status, cookies, _) = saved(&session);
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(cookies.is_empty());
}

#[test]
fn secure_follows_config_then_scheme_then_trusted_proxy() {
    let mut config = crate::Config::default();
    assert!(!request_is_secure(&parts(config.clone(), None)));
    config.session_cookie_secure = Some(true);
    assert!(request_is_secure(&parts(config.clone(), None)));

    let (head, ()) = http::Request::builder()
        .uri("https://example.com/")
        .body(())
        .unwrap_or_default()
        .into_parts();
    assert!(request_is_secure(&RequestParts::new(head)));

    let forwarded = |trust: bool| {
        let (head, ()) = http::Request::builder()
            .header("x-forwarded-proto", "https")
            .body(())
            .unwrap_or_default()
            .into_parts();
        let mut shared = AppShared::new();
        shared.state.insert(SessionProxySettings {
            trust_forwarded_proto: trust,
        });
        request_is_secure(&RequestParts::routed(head, Vec::new(), Arc::new(shared)))
    };
    assert!(!forwarded(false));
    assert!(forwarded(true));
}

/// Run under `valgrind --tool=callgrind` with `PROBE_N` = 0 and 2000 to count the
/// instructions one request spends on a session: `PROBE_KIND=read` (decode a cookie) or
/// `write` (decode, change, encode and save), against `parts` (the test's own request).
#[test]
#[ignore]
fn instruction_probe() {
    let n: usize = std::env::var("PROBE_N")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let kind = std::env::var("PROBE_KIND").unwrap_or_default();
    let write = kind == "write";
    let config = keyed("k");
    let first = Session::of(&mut parts(config.clone(), None));
    first.insert("user", "ada");
    let (_, cookies, _) = saved(&first);
    let cookie = format!("session={}", cookie_value(&cookies[0]));
    for _ in 0..n {
        let mut parts = parts(config.clone(), Some(&cookie));
        if kind == "parts" {
            std::hint::black_box(&mut parts);
            continue;
        }
        let session = Session::of(&mut parts);
        assert!(session.contains("user"));
        if write {
            session.insert("n", 1);
            std::hint::black_box(saved(&session));
        }
    }
}
