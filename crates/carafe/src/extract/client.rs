//! The client's address and the URL it asked for, with an opt-in trusted-proxy rule:
//! [`ClientAddr`] (Flask's `request.remote_addr`), [`RequestUrl`] (`request.scheme`,
//! `host`, `script_root`, `url_root`, `url`, `is_secure`) and [`ProxyFix`] (Werkzeug's
//! `ProxyFix` middleware, kept in the app's state).
//!
//! Without [`ProxyFix`], the client is the connection's peer and the URL comes from the
//! request itself: `X-Forwarded-*` headers are ignored, since any client can send them.
//! Behind proxies, [`App::proxy_fix`] says how many of them to trust for each header:
//! with `x_for(n)`, the client is the `n`-th address from the right of
//! `X-Forwarded-For` (each trusted proxy appends the address it saw), never one further
//! left, which the client could have written. A header with fewer values than trusted,
//! or a value that does not parse, is ignored.

use std::net::{IpAddr, SocketAddr};

use carafe_serve::ConnInfo;
use http::uri::{Authority, Scheme};
use http::StatusCode;

use super::{FromRequestParts, RequestParts};
use crate::error::HttpError;
use crate::App;

/// How many proxies to trust for each `X-Forwarded-*` header (Werkzeug's `ProxyFix`).
///
/// A count of `0` ignores the header. Set exactly the number of proxies in front of the
/// app that set the header: trusting more lets clients choose their address.
///
/// | setting | header | changes |
/// |---|---|---|
/// | [`x_for`](Self::x_for) | `X-Forwarded-For` | [`ClientAddr`] |
/// | [`x_proto`](Self::x_proto) | `X-Forwarded-Proto` | [`RequestUrl::scheme`] |
/// | [`x_host`](Self::x_host) | `X-Forwarded-Host` | [`RequestUrl::host`] |
/// | [`x_port`](Self::x_port) | `X-Forwarded-Port` | the port in [`RequestUrl::host`] |
/// | [`x_prefix`](Self::x_prefix) | `X-Forwarded-Prefix` | [`RequestUrl::prefix`] |
///
/// ```
/// use carafe::extract::ProxyFix;
///
/// // One nginx in front, which sets X-Forwarded-For, -Proto, -Host and -Prefix.
/// let mut app = carafe::App::new();
/// app.proxy_fix(ProxyFix::new().x_for(1).x_proto(1).x_host(1).x_prefix(1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyFix {
    /// Trusted values of `X-Forwarded-For`.
    x_for: usize,
    /// Trusted values of `X-Forwarded-Proto`.
    x_proto: usize,
    /// Trusted values of `X-Forwarded-Host`.
    x_host: usize,
    /// Trusted values of `X-Forwarded-Port`.
    x_port: usize,
    /// Trusted values of `X-Forwarded-Prefix`.
    x_prefix: usize,
}

impl Default for ProxyFix {
    fn default() -> Self {
        ProxyFix::new()
    }
}

impl ProxyFix {
    /// Werkzeug's defaults: one proxy trusted for `X-Forwarded-For` and
    /// `X-Forwarded-Proto`, none for the others.
    ///
    /// ```
    /// let fix = carafe::extract::ProxyFix::new();
    /// assert_eq!(fix, carafe::extract::ProxyFix::new().x_for(1).x_proto(1));
    /// ```
    pub fn new() -> Self {
        ProxyFix {
            x_for: 1,
            x_proto: 1,
            x_host: 0,
            x_port: 0,
            x_prefix: 0,
        }
    }

    /// How many values of `X-Forwarded-For` to trust.
    ///
    /// ```
    /// let fix = carafe::extract::ProxyFix::new().x_for(2); // a CDN, then a load balancer
    /// # let _ = fix;
    /// ```
    pub fn x_for(mut self, proxies: usize) -> Self {
        self.x_for = proxies;
        self
    }

    /// How many values of `X-Forwarded-Proto` to trust.
    ///
    /// ```
    /// let fix = carafe::extract::ProxyFix::new().x_proto(0); // the proxy does not set it
    /// # let _ = fix;
    /// ```
    pub fn x_proto(mut self, proxies: usize) -> Self {
        self.x_proto = proxies;
        self
    }

    /// How many values of `X-Forwarded-Host` to trust.
    ///
    /// ```
    /// let fix = carafe::extract::ProxyFix::new().x_host(1);
    /// # let _ = fix;
    /// ```
    pub fn x_host(mut self, proxies: usize) -> Self {
        self.x_host = proxies;
        self
    }

    /// How many values of `X-Forwarded-Port` to trust.
    ///
    /// ```
    /// let fix = carafe::extract::ProxyFix::new().x_port(1);
    /// # let _ = fix;
    /// ```
    pub fn x_port(mut self, proxies: usize) -> Self {
        self.x_port = proxies;
        self
    }

    /// How many values of `X-Forwarded-Prefix` to trust.
    ///
    /// ```
    /// let fix = carafe::extract::ProxyFix::new().x_prefix(1); // app mounted at /shop
    /// # let _ = fix;
    /// ```
    pub fn x_prefix(mut self, proxies: usize) -> Self {
        self.x_prefix = proxies;
        self
    }
}

impl App {
    /// Trusts `X-Forwarded-*` headers from this many proxies (see [`ProxyFix`]); the same
    /// as `app.state(fix)`. Without it, those headers are ignored.
    ///
    /// ```
    /// let mut app = carafe::App::new();
    /// app.proxy_fix(carafe::extract::ProxyFix::new().x_for(1).x_host(1));
    /// ```
    pub fn proxy_fix(&mut self, fix: ProxyFix) -> &mut Self {
        self.state(fix)
    }
}

/// The value `trusted` places from the right of the comma-separated values of every
/// `name` header, if there are that many and they are text.
fn trusted_value<'a>(parts: &'a RequestParts, name: &str, trusted: usize) -> Option<&'a str> {
    if trusted == 0 {
        return None;
    }
    let mut values = Vec::new();
    for header in parts.headers().get_all(name) {
        values.extend(header.to_str().ok()?.split(',').map(str::trim));
    }
    let at = values.len().checked_sub(trusted)?;
    values.get(at).copied()
}

/// The settings in force: the app's, or none.
fn proxy_fix(parts: &RequestParts) -> Option<ProxyFix> {
    parts.state::<ProxyFix>().copied()
}

/// The connection's addresses, from the request or from carafe-serve.
fn conn_info(parts: &RequestParts) -> Option<ConnInfo> {
    let info = parts.extensions().get::<ConnInfo>().copied();
    info.or_else(ConnInfo::current)
}

/// The client's IP address (Flask's `request.remote_addr`): the connection's peer, or,
/// under [`ProxyFix`], the trusted `X-Forwarded-For` value.
///
/// ```
/// use carafe::extract::ClientAddr;
///
/// async fn whoami(ClientAddr(ip): ClientAddr) -> String {
///     format!("you are {ip}")
/// }
/// # let _ = carafe::get(whoami);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// The client's address for `parts`; `None` when no proxy rule gives one and the
    /// request carries no [`ConnInfo`] (it was not served by carafe-serve).
    ///
    /// ```
    /// use carafe::extract::ClientAddr;
    /// use carafe::ConnInfo;
    ///
    /// let mut request = http::Request::new(());
    /// request.extensions_mut().insert(ConnInfo {
    ///     peer_addr: "10.0.0.7:5123".parse().unwrap(),
    ///     local_addr: "10.0.0.1:80".parse().unwrap(),
    ///     id: 1,
    ///     tls: false,
    /// });
    /// let parts = carafe::RequestParts::new(request.into_parts().0);
    /// assert_eq!(ClientAddr::from_parts(&parts), Some(ClientAddr("10.0.0.7".parse().unwrap())));
    /// ```
    pub fn from_parts(parts: &RequestParts) -> Option<Self> {
        let trusted = proxy_fix(parts).map_or(0, |fix| fix.x_for);
        let forwarded = trusted_value(parts, "x-forwarded-for", trusted).and_then(parse_ip);
        forwarded
            .or_else(|| conn_info(parts).map(|info| info.peer_addr.ip()))
            .map(ClientAddr)
    }
}

/// An address as proxies write it: `192.0.2.1`, `2001:db8::1`, `[2001:db8::1]:443`,
/// `192.0.2.1:80`.
fn parse_ip(value: &str) -> Option<IpAddr> {
    let value = value.trim();
    value
        .parse::<IpAddr>()
        .ok()
        .or_else(|| value.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
}

/// `500` when the app is not served by carafe-serve and no proxy rule names the client.
impl FromRequestParts for ClientAddr {
    async fn from_request_parts(parts: &mut RequestParts) -> Result<Self, HttpError> {
        ClientAddr::from_parts(parts).ok_or_else(|| {
            HttpError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "no client address for the request: the app is not served by carafe-serve",
            )
        })
    }
}

/// The URL the client asked for, as it sees it: scheme, host, the prefix the app is
/// mounted under, path and query; under [`ProxyFix`], from the trusted `X-Forwarded-*`
/// headers.
///
/// The scheme is `https` when the request's extensions hold [`Scheme::HTTPS`] (the TLS
/// layer puts it there) or a trusted `X-Forwarded-Proto` says so. The host is the
/// trusted `X-Forwarded-Host`, else the `Host` header, else the server's address.
///
/// ```
/// use carafe::extract::RequestUrl;
///
/// async fn whereami(url: RequestUrl) -> String {
///     format!("root {} (secure: {}), here {}", url.url_root(), url.is_secure(), url.url())
/// }
/// # let _ = carafe::get(whereami);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestUrl {
    /// `http` or `https`.
    scheme: Scheme,
    /// `host` or `host:port`.
    host: String,
    /// Where the app is mounted: empty, or `/shop` (no trailing slash).
    prefix: String,
    /// The request target's path and query.
    path_and_query: String,
}

impl RequestUrl {
    /// The URL of the request described by `parts`.
    ///
    /// ```
    /// let (head, ()) = http::Request::get("/items?page=2")
    ///     .header("host", "example.com")
    ///     .body(())
    ///     .unwrap()
    ///     .into_parts();
    /// let url = carafe::extract::RequestUrl::from_parts(&carafe::RequestParts::new(head));
    /// assert_eq!(url.url(), "http://example.com/items?page=2");
    /// ```
    pub fn from_parts(parts: &RequestParts) -> Self {
        let fix = proxy_fix(parts);
        let trusted = |name, count: fn(&ProxyFix) -> usize| {
            trusted_value(parts, name, fix.as_ref().map_or(0, count))
        };
        let forwarded_scheme = trusted("x-forwarded-proto", |fix| fix.x_proto).and_then(|value| {
            match value.to_ascii_lowercase().as_str() {
                "http" => Some(Scheme::HTTP),
                "https" => Some(Scheme::HTTPS),
                _ => None,
            }
        });
        let scheme = forwarded_scheme.unwrap_or_else(|| own_scheme(parts));
        let forwarded_host = trusted("x-forwarded-host", |fix| fix.x_host).and_then(valid_host);
        let host = forwarded_host.unwrap_or_else(|| own_host(parts));
        let port = trusted("x-forwarded-port", |fix| fix.x_port)
            .and_then(|value| value.parse::<u16>().ok());
        let host = match port {
            Some(port) => with_port(&host, port),
            None => host,
        };
        let prefix = trusted("x-forwarded-prefix", |fix| fix.x_prefix)
            .filter(|value| value.starts_with('/') && value.bytes().all(is_path_octet))
            .map(|value| value.trim_end_matches('/').to_owned())
            .unwrap_or_default();
        let path_and_query = parts
            .uri()
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |target| target.as_str().to_owned());
        RequestUrl {
            scheme,
            host,
            prefix,
            path_and_query,
        }
    }

    /// `http` or `https` (Flask's `request.scheme`).
    ///
    /// ```
    /// # let url = carafe::extract::RequestUrl::from_parts(&carafe::RequestParts::new(http::Request::new(()).into_parts().0));
    /// assert_eq!(url.scheme(), "http");
    /// ```
    pub fn scheme(&self) -> &str {
        self.scheme.as_str()
    }

    /// Whether the client used HTTPS (Flask's `request.is_secure`): what a session
    /// cookie's `Secure` follows.
    ///
    /// ```
    /// # let url = carafe::extract::RequestUrl::from_parts(&carafe::RequestParts::new(http::Request::new(()).into_parts().0));
    /// assert!(!url.is_secure());
    /// ```
    pub fn is_secure(&self) -> bool {
        self.scheme == Scheme::HTTPS
    }

    /// The host, with the port when it is not the default (Flask's `request.host`).
    ///
    /// ```
    /// # let url = carafe::extract::RequestUrl::from_parts(&carafe::RequestParts::new(http::Request::new(()).into_parts().0));
    /// assert_eq!(url.host(), "localhost");
    /// ```
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The path the app is mounted under, without a trailing slash: empty unless a
    /// trusted `X-Forwarded-Prefix` gives one (Flask's `request.script_root`).
    ///
    /// ```
    /// # let url = carafe::extract::RequestUrl::from_parts(&carafe::RequestParts::new(http::Request::new(()).into_parts().0));
    /// assert_eq!(url.prefix(), "");
    /// ```
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `scheme://host/` (Flask's `request.host_url`).
    ///
    /// ```
    /// # let url = carafe::extract::RequestUrl::from_parts(&carafe::RequestParts::new(http::Request::new(()).into_parts().0));
    /// assert_eq!(url.host_url(), "http://localhost/");
    /// ```
    pub fn host_url(&self) -> String {
        format!("{}://{}/", self.scheme, self.host)
    }

    /// `scheme://host/prefix/`: the app's root, where external URLs start (Flask's
    /// `request.url_root`).
    ///
    /// ```
    /// # let url = carafe::extract::RequestUrl::from_parts(&carafe::RequestParts::new(http::Request::new(()).into_parts().0));
    /// assert_eq!(url.url_root(), "http://localhost/");
    /// ```
    pub fn url_root(&self) -> String {
        format!("{}://{}{}/", self.scheme, self.host, self.prefix)
    }

    /// The whole URL, query included (Flask's `request.url`).
    ///
    /// ```
    /// # let url = carafe::extract::RequestUrl::from_parts(&carafe::RequestParts::new(http::Request::new(()).into_parts().0));
    /// assert_eq!(url.url(), "http://localhost/");
    /// ```
    pub fn url(&self) -> String {
        format!(
            "{}://{}{}{}",
            self.scheme, self.host, self.prefix, self.path_and_query
        )
    }
}

/// Never refuses a request.
impl FromRequestParts for RequestUrl {
    async fn from_request_parts(parts: &mut RequestParts) -> Result<Self, HttpError> {
        Ok(RequestUrl::from_parts(parts))
    }
}

/// The scheme the request arrived with: what the TLS layer or an absolute-form target
/// says, else `http`.
fn own_scheme(parts: &RequestParts) -> Scheme {
    if conn_info(parts).is_some_and(|conn| conn.tls) {
        return Scheme::HTTPS;
    }
    let marked = parts.extensions().get::<Scheme>().cloned();
    marked
        .or_else(|| parts.uri().scheme().cloned())
        .filter(|scheme| *scheme == Scheme::HTTPS)
        .unwrap_or(Scheme::HTTP)
}

/// The host the request named: its target's authority, its `Host` header, the address
/// it arrived on, or `localhost`.
fn own_host(parts: &RequestParts) -> String {
    if let Some(authority) = parts.uri().authority() {
        return authority.as_str().to_owned();
    }
    let header = parts
        .headers()
        .get(http::header::HOST)
        .and_then(|value| value.to_str().ok())
        .and_then(valid_host);
    header
        .or_else(|| conn_info(parts).map(|info| info.local_addr.to_string()))
        .unwrap_or_else(|| "localhost".to_owned())
}

/// `value` if it is a host with an optional port, and nothing else.
fn valid_host(value: &str) -> Option<String> {
    let authority = value.parse::<Authority>().ok()?;
    (!authority.as_str().contains('@') && !authority.host().is_empty())
        .then(|| authority.as_str().to_owned())
}

/// `host` with its port replaced by (or set to) `port`.
fn with_port(host: &str, port: u16) -> String {
    let bare = match host.parse::<Authority>() {
        Ok(authority) => authority.host().to_owned(),
        Err(_) => host.to_owned(),
    };
    format!("{bare}:{port}")
}

/// Bytes allowed in a forwarded prefix: visible ASCII.
fn is_path_octet(byte: u8) -> bool {
    byte.is_ascii_graphic()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(headers: &[(&str, &str)], fix: Option<ProxyFix>) -> RequestParts {
        let mut request = http::Request::get("/shop/cart?x=1");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut request = request.body(()).unwrap_or_default();
        request.extensions_mut().insert(ConnInfo {
            peer_addr: SocketAddr::from(([10, 0, 0, 1], 40000)),
            local_addr: SocketAddr::from(([10, 0, 0, 2], 8080)),
            id: 1,
            tls: false,
        });
        let mut shared = crate::state::AppShared::new();
        if let Some(fix) = fix {
            shared.state.insert(fix);
        }
        let (head, ()) = request.into_parts();
        RequestParts::routed(head, Vec::new(), std::sync::Arc::new(shared))
    }

    fn client(headers: &[(&str, &str)], fix: Option<ProxyFix>) -> String {
        let addr = ClientAddr::from_parts(&parts(headers, fix));
        addr.map(|ClientAddr(ip)| ip.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn without_proxy_fix_forwarded_headers_are_ignored() {
        let headers = [
            ("x-forwarded-for", "1.1.1.1"),
            ("x-forwarded-proto", "https"),
        ];
        assert_eq!(client(&headers, None), "10.0.0.1");
        let url = RequestUrl::from_parts(&parts(&headers, None));
        assert_eq!(url.scheme(), "http");
        assert_eq!(url.host(), "10.0.0.2:8080");
    }

    #[test]
    fn x_for_takes_exactly_the_trusted_hop() {
        let one = Some(ProxyFix::new().x_for(1));
        let two = Some(ProxyFix::new().x_for(2));
        let spoofed = [("x-forwarded-for", "6.6.6.6, 2.2.2.2, 3.3.3.3")];
        assert_eq!(client(&spoofed, one), "3.3.3.3");
        assert_eq!(client(&spoofed, two), "2.2.2.2");
        // Values from several headers count as one list, in order.
        let split = [
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "2.2.2.2"),
        ];
        assert_eq!(client(&split, one), "2.2.2.2");
        // Fewer values than trusted proxies: the peer.
        assert_eq!(client(&[("x-forwarded-for", "2.2.2.2")], two), "10.0.0.1");
        // Malformed: the peer.
        assert_eq!(client(&[("x-forwarded-for", "unknown")], one), "10.0.0.1");
        assert_eq!(client(&[("x-forwarded-for", "")], one), "10.0.0.1");
        assert_eq!(
            client(&[("x-forwarded-for", "[2001:db8::1]:443")], one),
            "2001:db8::1"
        );
        assert_eq!(
            client(&[("x-forwarded-for", "192.0.2.1:80")], one),
            "192.0.2.1"
        );
        assert_eq!(client(&[], one), "10.0.0.1");
    }

    #[test]
    fn proto_host_port_and_prefix_build_the_url() {
        let fix = Some(ProxyFix::new().x_proto(1).x_host(1).x_port(1).x_prefix(1));
        let headers = [
            ("host", "internal:8080"),
            ("x-forwarded-proto", "http, HTTPS"),
            ("x-forwarded-host", "evil.test, shop.example.com"),
            ("x-forwarded-port", "8443"),
            ("x-forwarded-prefix", "/shop/"),
        ];
        let url = RequestUrl::from_parts(&parts(&headers, fix));
        assert_eq!(url.scheme(), "https");
        assert!(url.is_secure());
        assert_eq!(url.host(), "shop.example.com:8443");
        assert_eq!(url.prefix(), "/shop");
        assert_eq!(url.url_root(), "https://shop.example.com:8443/shop/");
        assert_eq!(url.host_url(), "https://shop.example.com:8443/");
        assert_eq!(
            url.url(),
            "https://shop.example.com:8443/shop/shop/cart?x=1"
        );
    }

    #[test]
    fn invalid_forwarded_values_are_ignored() {
        let fix = Some(ProxyFix::new().x_proto(1).x_host(1).x_port(1).x_prefix(1));
        let headers = [
            ("host", "app.test"),
            ("x-forwarded-proto", "gopher"),
            ("x-forwarded-host", "user@evil.test"),
            ("x-forwarded-port", "99999"),
            ("x-forwarded-prefix", "no-slash"),
        ];
        let url = RequestUrl::from_parts(&parts(&headers, fix));
        assert_eq!(url.url_root(), "http://app.test/");
    }

    #[test]
    fn tls_marker_makes_https() {
        let mut parts = parts(&[("host", "a.test")], None);
        parts.extensions_mut().insert(Scheme::HTTPS);
        assert_eq!(RequestUrl::from_parts(&parts).url_root(), "https://a.test/");
    }
}
