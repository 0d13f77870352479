//! The pages errors are answered with when no error handler takes them.
//!
//! In production an HTTP error answers with its status and message, and any other error
//! with a plain `500 Internal Server Error` and a log line with its chain: never the
//! error's text, which may hold internals. In debug mode ([`Config::debug`]), a client
//! on a loopback address gets an HTML page instead, with the error chain, the request
//! (method, URL, headers) and the backtrace, everything HTML-escaped; any other client
//! still gets the production page, as Werkzeug's debugger only trusts the local machine
//! by default.
//!
//! [`Config::debug`]: crate::Config::debug

use std::fmt::Write as _;
use std::net::SocketAddr;

use carafe_serve::{Body, Response};
use http::StatusCode;

use crate::app::RequestView;
use crate::error::{Error, HttpError};
use crate::response::{content_type, typed_response};

/// Whether a client at `peer` may see the debug page: only in debug mode, and only from a
/// loopback address (`127.0.0.0/8`, `::1`, or IPv4-mapped `::ffff:127.x.y.z`). Without
/// a known address, never.
///
/// ```
/// use carafe::debug_page_allowed;
///
/// assert!(debug_page_allowed(true, Some("127.0.0.1:5000".parse().unwrap())));
/// assert!(debug_page_allowed(true, Some("[::1]:5000".parse().unwrap())));
/// assert!(!debug_page_allowed(true, Some("192.168.1.20:5000".parse().unwrap())));
/// assert!(!debug_page_allowed(false, Some("127.0.0.1:5000".parse().unwrap())));
/// assert!(!debug_page_allowed(true, None));
/// ```
pub fn debug_page_allowed(debug: bool, peer: Option<SocketAddr>) -> bool {
    debug && peer.is_some_and(|peer| peer.ip().to_canonical().is_loopback())
}

/// The answer to `error`: the debug page when `view` (debug mode) allows it, else the
/// plain page.
pub(crate) fn render(error: &Error, view: Option<&RequestView>) -> Response {
    match view {
        Some(view) if debug_page_allowed(true, view.peer) => {
            if error.http_error().is_none() {
                error.log();
            }
            let mut response =
                typed_response(Body::from(debug_page(error, view)), content_type::TEXT_HTML);
            *response.status_mut() = error.status();
            if let Some(http) = error.http_error() {
                response.headers_mut().extend(http.headers().clone());
            }
            response
        }
        _ => plain(error),
    }
}

/// The production answer, from a borrowed error.
fn plain(error: &Error) -> Response {
    match error.http_error() {
        Some(http) => http.clone().into_plain_response(),
        None => {
            error.log();
            HttpError::from(StatusCode::INTERNAL_SERVER_ERROR).into_plain_response()
        }
    }
}

/// The debug page's HTML.
fn debug_page(error: &Error, view: &RequestView) -> String {
    let status = error.status();
    let mut page = String::with_capacity(4096);
    let title = escape(&status.to_string());
    let _ = write!(
        page,
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{title} // carafe debug</title>\
         <style>body{{font-family:sans-serif;margin:2em}}pre{{background:#f4f4f4;padding:1em;\
         overflow:auto}}th{{text-align:left;padding-right:1em}}</style></head><body>\n\
         <h1>{title}</h1>\n<p>This page is shown because the app runs in debug mode and you \
         connect from this machine. Never run debug mode in production.</p>\n<h2>Error</h2>\n<ol>"
    );
    for cause in error.chain() {
        let _ = write!(page, "<li><pre>{}</pre></li>", escape(&cause.to_string()));
    }
    let _ = write!(
        page,
        "</ol>\n<h2>Request</h2>\n<p><code>{} {}</code></p>\n<table>",
        escape(view.method.as_str()),
        escape(&view.uri.to_string())
    );
    for (name, value) in &view.headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        let _ = write!(
            page,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(name.as_str()),
            escape(&value)
        );
    }
    page.push_str("</table>\n<h2>Backtrace</h2>\n");
    match error.backtrace() {
        Some(backtrace) => {
            let _ = write!(page, "<pre>{}</pre>", escape(&backtrace.to_string()));
        }
        None => page.push_str("<p>No backtrace: HTTP errors have none.</p>"),
    }
    page.push_str("\n</body></html>\n");
    page
}

/// `text` with `&`, `<`, `>`, `"` and `'` escaped for HTML text and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#x27;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;"
        );
    }

    #[test]
    fn ipv4_mapped_loopback_counts_as_loopback() {
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:80"
            .parse()
            .unwrap_or(([0; 4], 0).into());
        assert!(debug_page_allowed(true, Some(mapped)));
        let public: SocketAddr = "[2001:db8::1]:80".parse().unwrap_or(([0; 4], 0).into());
        assert!(!debug_page_allowed(true, Some(public)));
    }

    #[test]
    fn debug_page_escapes_the_error_and_the_request() {
        let error = Error::msg("<script>alert(1)</script>");
        let mut headers = http::HeaderMap::new();
        headers.insert("x-evil", http::HeaderValue::from_static("<b>"));
        let view = RequestView {
            method: http::Method::GET,
            uri: http::Uri::from_static("/a?b=%3Cc%3E"),
            headers,
            peer: Some(([127, 0, 0, 1], 1).into()),
        };
        let page = debug_page(&error, &view);
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("&lt;b&gt;"));
    }
}
