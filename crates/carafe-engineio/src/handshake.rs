//! The handshake (protocol "Handshake"): the query parameters every request carries and
//! the `open` packet that answers a new session.

use std::time::Duration;

use crate::{Sid, Transport};

/// The Engine.IO query parameters of a request (`EIO`, `transport`, `sid`).
///
/// Values are taken as they are: the ones that matter (`4`, `polling`, `websocket`, a
/// base64url sid) never need percent-decoding, and anything encoded is simply unknown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Query<'a> {
    pub(crate) eio: Option<&'a str>,
    pub(crate) transport: Option<&'a str>,
    pub(crate) sid: Option<&'a str>,
}

impl<'a> Query<'a> {
    /// Reads the parameters from a query string; the first occurrence of each wins.
    pub(crate) fn parse(query: Option<&'a str>) -> Query<'a> {
        let mut parsed = Query::default();
        for pair in query.unwrap_or("").split('&') {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match name {
                "EIO" => &mut parsed.eio,
                "transport" => &mut parsed.transport,
                "sid" => &mut parsed.sid,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value);
            }
        }
        parsed
    }
}

/// The `open` packet: `0` and the handshake JSON.
pub(crate) fn open_packet(
    sid: Sid,
    upgrades: &[Transport],
    ping_interval: Duration,
    ping_timeout: Duration,
    max_payload: usize,
) -> String {
    let upgrades: Vec<String> = upgrades
        .iter()
        .map(|transport| format!("\"{}\"", transport.as_str()))
        .collect();
    // A sid is base64url and transport names are fixed words: nothing needs escaping.
    format!(
        "0{{\"sid\":\"{sid}\",\"upgrades\":[{}],\"pingInterval\":{},\"pingTimeout\":{},\"maxPayload\":{max_payload}}}",
        upgrades.join(","),
        ping_interval.as_millis(),
        ping_timeout.as_millis(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_found_in_any_order() {
        let query = Query::parse(Some("t=Nx&transport=polling&EIO=4&sid=abc&b64=1"));
        assert_eq!(query.eio, Some("4"));
        assert_eq!(query.transport, Some("polling"));
        assert_eq!(query.sid, Some("abc"));
        assert_eq!(Query::parse(None), Query::default());
        assert_eq!(Query::parse(Some("EIO")).eio, Some(""));
        assert_eq!(Query::parse(Some("EIO=4&EIO=3")).eio, Some("4"));
    }

    #[test]
    fn open_packet_carries_the_handshake_values() {
        let sid = Sid::parse("AAAAAAAAAAAAAAAAAAAAAA").expect("sid");
        let packet = open_packet(
            sid,
            &[Transport::WebSocket],
            Duration::from_millis(300),
            Duration::from_millis(200),
            1_000_000,
        );
        let json: serde_json::Value = serde_json::from_str(&packet[1..]).expect("json");
        assert!(packet.starts_with('0'));
        assert_eq!(
            json,
            serde_json::json!({
                "sid": "AAAAAAAAAAAAAAAAAAAAAA",
                "upgrades": ["websocket"],
                "pingInterval": 300,
                "pingTimeout": 200,
                "maxPayload": 1000000
            })
        );
        let none = open_packet(sid, &[], Duration::ZERO, Duration::ZERO, 1);
        assert!(none.contains("\"upgrades\":[]"));
    }
}
