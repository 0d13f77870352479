//! Opt-in response compression: what Flask apps get from Flask-Compress.
//!
//! [`App::compress`] stores a [`Compression`] in the app's state; the app then calls
//! [`compression_plan`] with the request's head before the handler runs, and
//! [`compress_response`] on the handler's response. [`Compress`] does the same around any
//! [`Application`](carafe_serve::Application).
//!
//! The rules are documented on [`Compression`].

use std::future::Future;

use carafe_serve::{Application, Body, Request, Response};
use http::header::{
    ACCEPT_ENCODING, ACCEPT_RANGES, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE,
    CONTENT_TYPE, ETAG, VARY,
};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use http_body::Body as _;

use self::body::{empty_unsized, CompressedBody, Encoder};
use super::conditional::ETag;
use crate::app::App;
use crate::state::StateMap;

/// Compression settings, and what is compressed:
///
/// - The coding comes from `Accept-Encoding` ([`negotiate`]): brotli (`br`) or gzip,
///   whichever has the higher q-value, brotli on a tie; `*` stands for codings not
///   listed; `q=0` refuses. A request without `Accept-Encoding` gets no compression, and
///   one that refuses `identity` but accepts nothing carafe speaks gets identity anyway
///   (RFC 9110 §12.5.3 allows it, and it beats a `406`).
/// - Only text-like types are compressed: `text/*` (but not `text/event-stream`, whose
///   events must not wait in a compressor), JSON, JavaScript, XML and SVG, and only
///   bodies of at least [`Compression::min_size`] bytes when their size is known.
/// - Never compressed: responses that already have a `Content-Encoding`, a
///   `Content-Range`, or `Cache-Control: no-transform`; statuses other than `2xx`
///   except `206` (which slices the identity bytes), and `204`.
/// - Every response of a compressible type gets `Vary: Accept-Encoding`, compressed or
///   not, so caches keep the variants apart, and so does every `304`. A compressed
///   response loses its `Content-Length` (it is sent chunked) and `Accept-Ranges`, and
///   its `ETag` becomes weak (`W/"..."`): the bytes differ from the identity ones, but
///   `If-None-Match` (weak comparison) still revalidates, while `If-Range` (strong)
///   falls back to `200`.
/// - Bodies are compressed as they stream: each chunk the handler produces is compressed
///   and flushed at once, so a streamed response stays a stream.
/// - The answer to `HEAD` carries the headers a `GET` would get, without a body.
///
/// ```
/// use carafe::response::Compression;
///
/// let mut app = carafe::App::new();
/// app.compress(Compression::default().min_size(1024).gzip_level(9));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compression {
    /// Bodies of known size below this are sent as they are.
    min_size: u64,
    /// Whether `br` may be chosen.
    brotli: bool,
    /// Whether `gzip` may be chosen.
    gzip: bool,
    /// zlib level, 0–9.
    gzip_level: u32,
    /// brotli quality, 0–11.
    brotli_quality: u32,
}

impl Default for Compression {
    /// brotli (quality 4) and gzip (level 6), for bodies of 860 bytes or more (below
    /// that, a compressed body plus its headers seldom saves a TCP packet).
    fn default() -> Self {
        Compression {
            min_size: 860,
            brotli: true,
            gzip: true,
            gzip_level: 6,
            brotli_quality: 4,
        }
    }
}

impl Compression {
    /// The smallest body, in bytes, worth compressing (default 860).
    ///
    /// ```
    /// let settings = carafe::response::Compression::default().min_size(0);
    /// # let _ = settings;
    /// ```
    pub fn min_size(mut self, bytes: u64) -> Self {
        self.min_size = bytes;
        self
    }

    /// Whether brotli may be used (default `true`).
    ///
    /// ```
    /// let gzip_only = carafe::response::Compression::default().brotli(false);
    /// # let _ = gzip_only;
    /// ```
    pub fn brotli(mut self, yes: bool) -> Self {
        self.brotli = yes;
        self
    }

    /// Whether gzip may be used (default `true`).
    ///
    /// ```
    /// let brotli_only = carafe::response::Compression::default().gzip(false);
    /// # let _ = brotli_only;
    /// ```
    pub fn gzip(mut self, yes: bool) -> Self {
        self.gzip = yes;
        self
    }

    /// gzip's level, 0 (fastest) to 9 (smallest); default 6.
    ///
    /// ```
    /// let settings = carafe::response::Compression::default().gzip_level(9);
    /// # let _ = settings;
    /// ```
    pub fn gzip_level(mut self, level: u32) -> Self {
        self.gzip_level = level.min(9);
        self
    }

    /// brotli's quality, 0 (fastest) to 11 (smallest); default 4, as fast as gzip's 6
    /// and smaller.
    ///
    /// ```
    /// let settings = carafe::response::Compression::default().brotli_quality(5);
    /// # let _ = settings;
    /// ```
    pub fn brotli_quality(mut self, quality: u32) -> Self {
        self.brotli_quality = quality.min(11);
        self
    }
}

impl App {
    /// Compresses text-like responses with brotli or gzip, as the client accepts
    /// (Flask-Compress). Off by default.
    ///
    /// ```
    /// let mut app = carafe::App::new();
    /// app.compress(carafe::response::Compression::default());
    /// ```
    pub fn compress(&mut self, settings: Compression) -> &mut Self {
        self.state(settings).take_full_path()
    }
}

/// A content coding carafe can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// `br` (RFC 7932).
    Brotli,
    /// `gzip` (RFC 1952).
    Gzip,
}

impl Coding {
    /// The token for `Content-Encoding`.
    ///
    /// ```
    /// assert_eq!(carafe::response::Coding::Brotli.as_str(), "br");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gzip",
        }
    }
}

/// Picks the coding for an `Accept-Encoding` value (all of the request's
/// `Accept-Encoding` lines, joined with commas), or `None` for identity.
///
/// ```
/// use carafe::response::{negotiate, Coding, Compression};
///
/// let all = Compression::default();
/// assert_eq!(negotiate(b"gzip, deflate, br", &all), Some(Coding::Brotli));
/// assert_eq!(negotiate(b"br;q=0.5, gzip", &all), Some(Coding::Gzip));
/// assert_eq!(negotiate(b"*;q=0.1", &all), Some(Coding::Brotli));
/// assert_eq!(negotiate(b"br;q=0, gzip;q=0", &all), None);
/// assert_eq!(negotiate(b"identity", &all), None);
/// ```
pub fn negotiate(accept_encoding: &[u8], settings: &Compression) -> Option<Coding> {
    let mut brotli = None;
    let mut gzip = None;
    let mut identity = None;
    let mut any = None;
    for element in accept_encoding.split(|&byte| byte == b',') {
        let mut parts = element.split(|&byte| byte == b';');
        let coding = parts.next().unwrap_or_default().trim_ascii();
        let Some(q) = parse_q(parts) else {
            continue;
        };
        let slot = match coding.to_ascii_lowercase().as_slice() {
            b"br" => &mut brotli,
            b"gzip" | b"x-gzip" => &mut gzip,
            b"identity" => &mut identity,
            b"*" => &mut any,
            _ => continue,
        };
        // The first mention of a coding counts.
        slot.get_or_insert(q);
    }
    let weight = |explicit: Option<u16>, allowed: bool| match allowed {
        true => explicit.or(any).unwrap_or(0),
        false => 0,
    };
    let brotli = weight(brotli, settings.brotli);
    let gzip = weight(gzip, settings.gzip);
    let (coding, best) = if brotli >= gzip {
        (Coding::Brotli, brotli)
    } else {
        (Coding::Gzip, gzip)
    };
    let identity_wins = identity.is_some_and(|identity| identity > best);
    (best > 0 && !identity_wins).then_some(coding)
}

/// The q-value among an element's parameters, in thousandths: 1000 when absent, `None`
/// when malformed (the element is then ignored).
fn parse_q<'a>(params: impl Iterator<Item = &'a [u8]>) -> Option<u16> {
    let mut q = 1000;
    for param in params {
        let param = param.trim_ascii();
        let Some(value) = param
            .strip_prefix(b"q=")
            .or_else(|| param.strip_prefix(b"Q="))
        else {
            continue;
        };
        q = parse_qvalue(value.trim_ascii())?;
    }
    Some(q)
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )` (RFC 9110 §12.4.2).
fn parse_qvalue(value: &[u8]) -> Option<u16> {
    let (whole, fraction) = match value.iter().position(|&byte| byte == b'.') {
        Some(at) => (&value[..at], &value[at + 1..]),
        None => (value, &b""[..]),
    };
    if fraction.len() > 3 || !fraction.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let thousandths = fraction
        .iter()
        .chain(std::iter::repeat(&b'0'))
        .take(3)
        .fold(0u16, |sum, &digit| sum * 10 + u16::from(digit - b'0'));
    match whole {
        b"0" => Some(thousandths),
        b"1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// What [`compress_response`] needs to know about the request, taken before the handler
/// consumes it.
/// Made by [`compression_plan`]; see [`compress_response`] for an example.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompressionPlan {
    /// The app's settings.
    settings: Compression,
    /// The negotiated coding; `None` still adds `Vary`.
    coding: Option<Coding>,
    /// The request was `HEAD`.
    head: bool,
}

/// The compression plan for a request: `None` when the app does not compress (no
/// [`Compression`] in its state).
///
/// The app calls it in `dispatch_request` before the handler, and hands the result to
/// [`compress_response`] after the response finishers ran.
///
/// ```
/// use carafe::response::{compression_plan, Compression};
/// use carafe::StateMap;
/// use http::{HeaderMap, Method};
///
/// let mut state = StateMap::default();
/// assert!(compression_plan(&state, &Method::GET, &HeaderMap::new()).is_none());
/// state.insert(Compression::default());
/// assert!(compression_plan(&state, &Method::GET, &HeaderMap::new()).is_some());
/// ```
pub fn compression_plan(
    state: &StateMap,
    method: &Method,
    headers: &HeaderMap,
) -> Option<CompressionPlan> {
    let settings = *state.get::<Compression>()?;
    Some(plan_with(settings, method, headers))
}

fn plan_with(settings: Compression, method: &Method, headers: &HeaderMap) -> CompressionPlan {
    let mut accepted = Vec::new();
    for value in headers.get_all(ACCEPT_ENCODING) {
        accepted.extend_from_slice(value.as_bytes());
        accepted.push(b',');
    }
    let coding = match headers.contains_key(ACCEPT_ENCODING) {
        true => negotiate(&accepted, &settings),
        false => None,
    };
    CompressionPlan {
        settings,
        coding,
        head: method == Method::HEAD,
    }
}

/// Compresses `response` as `plan` says (see [`Compression`] for the rules).
///
/// ```
/// use carafe::response::{compress_response, compression_plan, Compression};
/// use carafe::{IntoResponse, StateMap};
/// use http::{HeaderMap, Method};
///
/// let mut state = StateMap::default();
/// state.insert(Compression::default());
/// let mut headers = HeaderMap::new();
/// headers.insert("accept-encoding", "gzip".parse().unwrap());
/// let plan = compression_plan(&state, &Method::GET, &headers);
/// let response = compress_response(plan, "x".repeat(2000).into_response());
/// assert_eq!(response.headers()["content-encoding"], "gzip");
/// assert_eq!(response.headers()["vary"], "accept-encoding");
/// ```
pub fn compress_response(plan: Option<CompressionPlan>, mut response: Response) -> Response {
    let Some(plan) = plan else {
        return response;
    };
    // A 304 has no content-type to judge by, but must carry the `Vary` its 200 would
    // (RFC 9110 §15.4.5).
    if response.status() == StatusCode::NOT_MODIFIED {
        add_vary(response.headers_mut());
        return response;
    }
    if !is_compressible_type(response.headers()) {
        return response;
    }
    add_vary(response.headers_mut());
    let Some(coding) = plan.coding else {
        return response;
    };
    if !may_transform(&response) || is_small(&response, plan.settings.min_size) {
        return response;
    }
    let headers = response.headers_mut();
    headers.insert(CONTENT_ENCODING, HeaderValue::from_static(coding.as_str()));
    headers.remove(CONTENT_LENGTH);
    headers.remove(ACCEPT_RANGES);
    weaken_etag(headers);
    let body = std::mem::take(response.body_mut());
    *response.body_mut() = match plan.head {
        // No body, and no length: a HEAD answer may leave the length out.
        true => Body::from_stream(empty_unsized()),
        false => Body::new(CompressedBody::new(
            body,
            Encoder::new(coding, &plan.settings),
        )),
    };
    response
}

fn is_compressible_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence == "text/event-stream" {
        return false;
    }
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(
            essence.as_str(),
            "application/json"
                | "application/javascript"
                | "application/x-javascript"
                | "application/ecmascript"
                | "application/xml"
                | "application/wasm"
                | "image/svg+xml"
        )
}

/// Whether the response may get a content coding.
fn may_transform(response: &Response) -> bool {
    let status = response.status();
    let headers = response.headers();
    let no_transform = headers.get_all(CACHE_CONTROL).iter().any(|value| {
        value
            .to_str()
            .is_ok_and(|text| text.to_ascii_lowercase().contains("no-transform"))
    });
    status.is_success()
        && status != StatusCode::PARTIAL_CONTENT
        && status != StatusCode::NO_CONTENT
        && !headers.contains_key(CONTENT_ENCODING)
        && !headers.contains_key(CONTENT_RANGE)
        && !no_transform
}

/// Whether the body is known to be below `min_size`: by its exact size, or for an empty
/// `HEAD` body by the `Content-Length` the handler set.
fn is_small(response: &Response, min_size: u64) -> bool {
    let declared = response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    let size = match response.body().size_hint().exact() {
        Some(0) => declared.or(Some(0)),
        exact => exact.or(declared),
    };
    size.is_some_and(|size| size < min_size)
}

fn add_vary(headers: &mut HeaderMap) {
    let present = headers.get_all(VARY).iter().any(|value| {
        value.to_str().is_ok_and(|text| {
            text.split(',').any(|token| {
                let token = token.trim();
                token == "*" || token.eq_ignore_ascii_case("accept-encoding")
            })
        })
    });
    if !present {
        headers.append(VARY, HeaderValue::from_static("accept-encoding"));
    }
}

fn weaken_etag(headers: &mut HeaderMap) {
    let weak = headers
        .get(ETAG)
        .and_then(|value| ETag::parse(value.as_bytes()))
        .map(ETag::into_weak);
    match weak {
        Some(weak) => {
            headers.insert(ETAG, weak.to_header_value());
        }
        // A tag we cannot read cannot be made weak; it must not stay strong.
        None => {
            headers.remove(ETAG);
        }
    }
}

/// Compresses the responses of any [`Application`], by the rules of [`Compression`]:
/// for an app served without [`App`], or to compress what a whole app answers
/// (including its error pages) from outside.
///
/// ```no_run
/// use carafe::response::{Compress, Compression};
///
/// let mut app = carafe::App::new();
/// app.route("/", carafe::get(|| async { "hello ".repeat(500) }));
/// let compressed = Compress::new(app, Compression::default());
/// # let _ = compressed;
/// ```
#[derive(Debug, Clone)]
pub struct Compress<A> {
    /// The wrapped application.
    app: A,
    /// The settings.
    settings: Compression,
}

impl<A: Application> Compress<A> {
    /// Wraps `app`.
    ///
    /// ```
    /// let compressed = carafe::response::Compress::new(carafe::App::new(), Default::default());
    /// # let _ = compressed;
    /// ```
    pub fn new(app: A, settings: Compression) -> Self {
        Compress { app, settings }
    }
}

impl<A: Application> Application for Compress<A> {
    fn call(&self, req: Request) -> impl Future<Output = Response> + Send {
        let plan = plan_with(self.settings, req.method(), req.headers());
        let answer = self.app.call(req);
        async move { compress_response(Some(plan), answer.await) }
    }
}

mod body;
#[cfg(test)]
mod tests;
