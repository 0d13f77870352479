//! Streamed bodies: Flask's `Response(generator())` and `stream_with_context`.
//!
//! A [`Streaming`] response sends each item of a [`Stream`] as soon as it is produced, with
//! the chunked transfer coding (or by closing the connection, for HTTP/1.0 clients); the
//! server flushes every chunk, so a client sees progress as it happens.
//!
//! Flask needs `stream_with_context` because its generator runs after the view has
//! returned, when the request context is gone. In carafe the stream is a `'static` value:
//! the compiler makes you move into it what it needs from the request (a cloned
//! [`State`](crate::State), a user id taken from the session) before the handler returns,
//! so there is nothing to forget.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use carafe_serve::{Body, Response};
use futures_core::Stream;
use http::HeaderValue;

use super::{content_type, typed_response, IntoResponse};

/// The error type a fallible stream's errors convert into.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A response whose body is a stream of chunks (`String`, `&'static str`, `Vec<u8>` or
/// [`Bytes`]), sent as they come. `content-type` is `text/plain; charset=utf-8` unless
/// [`Streaming::content_type`] says otherwise.
///
/// ```
/// use carafe::{get, Streaming};
/// use futures_util::stream;
///
/// async fn count() -> Streaming {
///     Streaming::new(stream::iter((1..=3).map(|n| format!("line {n}\n"))))
/// }
/// # let _ = get(count);
/// ```
///
/// A stream that can fail: the error ends the response early (the client sees a
/// truncated chunked body, never a success) and is logged by the server.
///
/// ```
/// use carafe::Streaming;
/// use futures_util::stream;
///
/// let rows = stream::iter([Ok("id,name\n"), Err(std::io::Error::other("database gone"))]);
/// let response = Streaming::try_new(rows).content_type("text/csv; charset=utf-8");
/// # let _ = response;
/// ```
#[must_use = "a Streaming does nothing unless it is returned from a handler"]
pub struct Streaming {
    /// The chunks.
    body: Body,
    /// The `content-type` to send.
    content_type: HeaderValue,
}

impl std::fmt::Debug for Streaming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Streaming")
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

impl Streaming {
    /// Streams the chunks `stream` yields.
    ///
    /// ```
    /// let body = carafe::Streaming::new(futures_util::stream::iter(["a", "b"]));
    /// # let _ = body;
    /// ```
    pub fn new<S, T>(stream: S) -> Streaming
    where
        S: Stream<Item = T> + Send + 'static,
        T: Into<Bytes>,
    {
        Streaming::from_body(Body::from_stream(Chunks {
            inner: Box::pin(stream),
        }))
    }

    /// Streams the chunks of a fallible `stream`; an error ends the response.
    ///
    /// ```
    /// let body = carafe::Streaming::try_new(futures_util::stream::iter([Ok::<_, std::io::Error>("a")]));
    /// # let _ = body;
    /// ```
    pub fn try_new<S, T, E>(stream: S) -> Streaming
    where
        S: Stream<Item = Result<T, E>> + Send + 'static,
        T: Into<Bytes>,
        E: Into<BoxError> + 'static,
    {
        Streaming::from_body(Body::from_stream(TryChunks {
            inner: Box::pin(stream),
        }))
    }

    fn from_body(body: Body) -> Streaming {
        Streaming {
            body,
            content_type: content_type::TEXT_PLAIN,
        }
    }

    /// Sets the `content-type`. A value that is not a valid header value (a line break,
    /// say) is ignored and the default kept.
    ///
    /// ```
    /// let body = carafe::Streaming::new(futures_util::stream::iter(["<p>"])).content_type("text/html; charset=utf-8");
    /// # let _ = body;
    /// ```
    pub fn content_type(mut self, value: &str) -> Self {
        match HeaderValue::try_from(value) {
            Ok(value) => self.content_type = value,
            Err(_) => tracing::warn!(value, "Streaming::content_type: not a valid header value"),
        }
        self
    }
}

impl IntoResponse for Streaming {
    fn into_response(self) -> Response {
        typed_response(self.body, self.content_type)
    }
}

/// An infallible stream's items as body chunks.
struct Chunks<S> {
    inner: Pin<Box<S>>,
}

impl<S, T> Stream for Chunks<S>
where
    S: Stream<Item = T>,
    T: Into<Bytes>,
{
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner
            .as_mut()
            .poll_next(cx)
            .map(|item| item.map(|chunk| Ok(chunk.into())))
    }
}

/// A fallible stream's items as body chunks.
struct TryChunks<S> {
    inner: Pin<Box<S>>,
}

impl<S, T, E> Stream for TryChunks<S>
where
    S: Stream<Item = Result<T, E>>,
    T: Into<Bytes>,
{
    type Item = Result<Bytes, E>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner
            .as_mut()
            .poll_next(cx)
            .map(|item| item.map(|chunk| chunk.map(Into::into)))
    }
}
