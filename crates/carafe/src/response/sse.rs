//! Server-sent events: the `text/event-stream` format of the HTML Living Standard
//! (§9.2, "Server-sent events"), which Flask apps produce by hand with a generator.
//!
//! An [`Sse`] response sends each [`Event`] of a stream as soon as it is produced, and a
//! comment line at an interval while the stream is quiet ([`KeepAlive`]) so that proxies
//! and load balancers do not close an idle connection. The response says
//! `cache-control: no-cache` and `x-accel-buffering: no` (nginx's switch to pass it
//! through unbuffered); carafe's server flushes every event, and compression leaves
//! `text/event-stream` alone.

use std::fmt::Write as _;
use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use carafe_serve::{Body, Response};
use futures_core::Stream;
use http::header::CACHE_CONTROL;
use http::HeaderValue;
use tokio::time::{Instant, Sleep};

use super::stream::BoxError;
use super::IntoResponse;

/// One event: `data`, and optionally an `event` type, an `id`, a `retry` delay and
/// comments.
///
/// ```
/// use carafe::response::Event;
/// use std::time::Duration;
///
/// let event = Event::default()
///     .event("update")
///     .id("42")
///     .retry(Duration::from_secs(3))
///     .data("line one\nline two");
/// assert_eq!(
///     event.to_string(),
///     "event: update\nid: 42\nretry: 3000\ndata: line one\ndata: line two\n\n"
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    /// `: ...` lines, first.
    comments: Vec<String>,
    /// `event: ...`.
    event: Option<String>,
    /// `id: ...`.
    id: Option<String>,
    /// `retry: ...`, in milliseconds.
    retry: Option<u128>,
    /// The data's lines, each sent as `data: ...`.
    data: Option<Vec<String>>,
}

impl Event {
    /// Appends `data`. Each of its lines (split at `\r\n`, `\r` or `\n`) becomes a
    /// `data:` line, and the browser joins them with `\n` again; calling it twice adds
    /// more lines.
    ///
    /// ```
    /// let event = carafe::response::Event::default().data("a\r\nb");
    /// assert_eq!(event.to_string(), "data: a\ndata: b\n\n");
    /// ```
    pub fn data(mut self, data: impl AsRef<str>) -> Self {
        let lines = self.data.get_or_insert_with(Vec::new);
        lines.extend(split_lines(data.as_ref()).map(str::to_owned));
        self
    }

    /// Appends `value` serialized as JSON, on one line.
    ///
    /// ```
    /// let event = carafe::response::Event::default().json_data(&serde_json::json!({"n": 1}))?;
    /// assert_eq!(event.to_string(), "data: {\"n\":1}\n\n");
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn json_data<T: serde::Serialize + ?Sized>(self, value: &T) -> serde_json::Result<Self> {
        Ok(self.data(serde_json::to_string(value)?))
    }

    /// Sets the event type (`event:`), which selects the browser's listener
    /// (`source.addEventListener("update", ...)`). A line break, which would start another
    /// field, is replaced by a space.
    ///
    /// ```
    /// let event = carafe::response::Event::default().event("a\nb");
    /// assert_eq!(event.to_string(), "event: a b\n\n");
    /// ```
    pub fn event(mut self, event: impl AsRef<str>) -> Self {
        self.event = Some(one_line(event.as_ref()));
        self
    }

    /// Sets the event id (`id:`), which the browser sends back as `Last-Event-ID` when it
    /// reconnects. Line breaks become spaces and NUL bytes are dropped (the browser would
    /// ignore an id holding one).
    ///
    /// ```
    /// let event = carafe::response::Event::default().id("7");
    /// assert_eq!(event.to_string(), "id: 7\n\n");
    /// ```
    pub fn id(mut self, id: impl AsRef<str>) -> Self {
        self.id = Some(one_line(id.as_ref()).replace('\0', ""));
        self
    }

    /// Sets how long the browser waits before reconnecting (`retry:`, in milliseconds).
    ///
    /// ```
    /// let event = carafe::response::Event::default().retry(std::time::Duration::from_millis(1500));
    /// assert_eq!(event.to_string(), "retry: 1500\n\n");
    /// ```
    pub fn retry(mut self, retry: std::time::Duration) -> Self {
        self.retry = Some(retry.as_millis());
        self
    }

    /// Adds a comment (`: ...`), which the browser ignores; each line of `text` becomes
    /// one comment line.
    ///
    /// ```
    /// let event = carafe::response::Event::default().comment("hi");
    /// assert_eq!(event.to_string(), ": hi\n\n");
    /// ```
    pub fn comment(mut self, text: impl AsRef<str>) -> Self {
        self.comments
            .extend(split_lines(text.as_ref()).map(str::to_owned));
        self
    }
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for comment in &self.comments {
            writeln!(f, ": {comment}")?;
        }
        if let Some(event) = &self.event {
            writeln!(f, "event: {event}")?;
        }
        if let Some(id) = &self.id {
            writeln!(f, "id: {id}")?;
        }
        if let Some(retry) = self.retry {
            writeln!(f, "retry: {retry}")?;
        }
        for line in self.data.iter().flatten() {
            writeln!(f, "data: {line}")?;
        }
        // The blank line dispatches the event.
        writeln!(f)
    }
}

/// Lines as the event-stream parser splits them: at CRLF, CR or LF. An empty text is
/// one empty line, so `data("")` still sends an (empty) event.
fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let text = rest?;
        match text.find(['\r', '\n']) {
            Some(at) => {
                let skip = if text[at..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&text[at + skip..]);
                Some(&text[..at])
            }
            None => {
                rest = None;
                Some(text)
            }
        }
    })
}

fn one_line(text: &str) -> String {
    split_lines(text).collect::<Vec<_>>().join(" ")
}

/// Comments sent while the event stream is quiet, so that idle connections stay open.
///
/// ```
/// use carafe::response::KeepAlive;
/// use std::time::Duration;
///
/// let keep_alive = KeepAlive::default().interval(Duration::from_secs(10)).text("ping");
/// # let _ = keep_alive;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeepAlive {
    /// How long the stream may be quiet before a comment is sent.
    interval: Duration,
    /// The comment line, encoded.
    comment: String,
}

impl Default for KeepAlive {
    /// Every 15 seconds, an empty comment (`:` and a blank line).
    fn default() -> Self {
        KeepAlive {
            interval: Duration::from_secs(15),
            comment: ":\n\n".to_owned(),
        }
    }
}

impl KeepAlive {
    /// How long the stream may be quiet before a comment is sent (at least 1 ms).
    ///
    /// ```
    /// let keep_alive = carafe::response::KeepAlive::default().interval(std::time::Duration::from_secs(5));
    /// # let _ = keep_alive;
    /// ```
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval.max(Duration::from_millis(1));
        self
    }

    /// The comment's text.
    ///
    /// ```
    /// let keep_alive = carafe::response::KeepAlive::default().text("still here");
    /// # let _ = keep_alive;
    /// ```
    pub fn text(mut self, text: &str) -> Self {
        let mut comment = String::new();
        for line in split_lines(text) {
            // Writing to a String cannot fail.
            let _ = writeln!(comment, ": {line}");
        }
        comment.push('\n');
        self.comment = comment;
        self
    }
}

/// The boxed stream of events an [`Sse`] sends.
type EventStream = Pin<Box<dyn Stream<Item = Result<Event, BoxError>> + Send>>;

/// A server-sent events response (`text/event-stream`).
///
/// ```
/// use std::time::Duration;
/// use carafe::get;
/// use carafe::response::{Event, KeepAlive, Sse};
/// use futures_util::{stream, StreamExt};
///
/// async fn ticks() -> Sse {
///     let events = stream::iter(1..=3).map(|n| Event::default().event("tick").data(n.to_string()));
///     Sse::new(events).keep_alive(KeepAlive::default().interval(Duration::from_secs(10)))
/// }
/// # let _ = get(ticks);
/// ```
#[must_use = "an Sse does nothing unless it is returned from a handler"]
pub struct Sse {
    /// The events.
    events: EventStream,
    /// The keep-alive comments, if any.
    keep_alive: Option<KeepAlive>,
}

impl std::fmt::Debug for Sse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sse")
            .field("keep_alive", &self.keep_alive)
            .finish_non_exhaustive()
    }
}

impl Sse {
    /// Sends the events of `stream`; the response ends when the stream does.
    ///
    /// ```
    /// let sse = carafe::response::Sse::new(futures_util::stream::empty());
    /// # let _ = sse;
    /// ```
    pub fn new<S>(stream: S) -> Sse
    where
        S: Stream<Item = Event> + Send + 'static,
    {
        Sse {
            events: Box::pin(TryEvents {
                inner: Box::pin(stream),
            }),
            keep_alive: None,
        }
    }

    /// Sends the events of a fallible `stream`; an error ends the response.
    ///
    /// ```
    /// use carafe::response::{Event, Sse};
    /// let sse = Sse::try_new(futures_util::stream::iter([Ok::<_, std::io::Error>(Event::default().data("x"))]));
    /// # let _ = sse;
    /// ```
    pub fn try_new<S, E>(stream: S) -> Sse
    where
        S: Stream<Item = Result<Event, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        Sse {
            events: Box::pin(ErrInto {
                inner: Box::pin(stream),
            }),
            keep_alive: None,
        }
    }

    /// Sends keep-alive comments while the stream is quiet.
    ///
    /// ```
    /// use carafe::response::{KeepAlive, Sse};
    /// let sse = Sse::new(futures_util::stream::empty()).keep_alive(KeepAlive::default());
    /// # let _ = sse;
    /// ```
    pub fn keep_alive(mut self, keep_alive: KeepAlive) -> Self {
        self.keep_alive = Some(keep_alive);
        self
    }
}

impl IntoResponse for Sse {
    fn into_response(self) -> Response {
        let keep_alive = self.keep_alive.map(|keep_alive| Pinger {
            sleep: Box::pin(tokio::time::sleep(keep_alive.interval)),
            comment: Bytes::from(keep_alive.comment),
            interval: keep_alive.interval,
        });
        let body = Body::from_stream(EventBody {
            events: self.events,
            keep_alive,
        });
        let mut response = Response::new(body);
        let headers = response.headers_mut();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
        response
    }
}

/// The keep-alive timer.
struct Pinger {
    /// Fires when the stream has been quiet for `interval`.
    sleep: Pin<Box<Sleep>>,
    /// The encoded comment.
    comment: Bytes,
    /// The quiet time allowed.
    interval: Duration,
}

/// Events encoded as body chunks, with keep-alive comments in the gaps.
struct EventBody {
    events: EventStream,
    keep_alive: Option<Pinger>,
}

impl Stream for EventBody {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Poll::Ready(item) = this.events.as_mut().poll_next(cx) {
            if let Some(pinger) = &mut this.keep_alive {
                let next = Instant::now() + pinger.interval;
                pinger.sleep.as_mut().reset(next);
            }
            let chunk = item.map(|event| event.map(|event| Bytes::from(event.to_string())));
            return Poll::Ready(chunk);
        }
        let Some(pinger) = &mut this.keep_alive else {
            return Poll::Pending;
        };
        if pinger.sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let next = Instant::now() + pinger.interval;
        pinger.sleep.as_mut().reset(next);
        Poll::Ready(Some(Ok(pinger.comment.clone())))
    }
}

/// An infallible event stream as a fallible one.
struct TryEvents<S> {
    inner: Pin<Box<S>>,
}

impl<S: Stream<Item = Event>> Stream for TryEvents<S> {
    type Item = Result<Event, BoxError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx).map(|item| item.map(Ok))
    }
}

/// A fallible event stream with its errors boxed.
struct ErrInto<S> {
    inner: Pin<Box<S>>,
}

impl<S, E> Stream for ErrInto<S>
where
    S: Stream<Item = Result<Event, E>>,
    E: Into<BoxError>,
{
    type Item = Result<Event, BoxError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner
            .as_mut()
            .poll_next(cx)
            .map(|item| item.map(|event| event.map_err(Into::into)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_lines_split_at_every_line_ending() {
        let event = Event::default().data("a\nb\r\nc\rd\n");
        assert_eq!(
            event.to_string(),
            "data: a\ndata: b\ndata: c\ndata: d\ndata: \n\n"
        );
        assert_eq!(Event::default().data("").to_string(), "data: \n\n");
        assert_eq!(
            Event::default().data(" lead").to_string(),
            "data:  lead\n\n"
        );
    }

    #[test]
    fn fields_cannot_inject_other_fields() {
        let event = Event::default()
            .event("x\r\ndata: injected")
            .id("1\nretry: 0\0")
            .comment("c\nevent: y");
        assert_eq!(
            event.to_string(),
            ": c\n: event: y\nevent: x data: injected\nid: 1 retry: 0\n\n"
        );
    }

    /// The body's next chunk as text, or `None` at its end.
    async fn next_chunk(body: &mut Body) -> Option<String> {
        let chunk = body.chunk().await?.ok()?;
        Some(String::from_utf8_lossy(&chunk).into_owned())
    }

    #[tokio::test(start_paused = true)]
    async fn keep_alive_comments_fill_only_the_quiet_gaps() {
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel::<Event>();
        let events = EventsFrom(receiver);
        let keep_alive = KeepAlive::default().interval(Duration::from_secs(10));
        let mut body = Sse::new(events)
            .keep_alive(keep_alive)
            .into_response()
            .into_body();
        let start = Instant::now();
        assert_eq!(next_chunk(&mut body).await.as_deref(), Some(":\n\n"));
        assert_eq!(start.elapsed(), Duration::from_secs(10));
        tokio::time::advance(Duration::from_secs(7)).await;
        let _ = sender.send(Event::default().data("x"));
        assert_eq!(next_chunk(&mut body).await.as_deref(), Some("data: x\n\n"));
        // The event restarted the timer: the next comment comes 10 s after it, not 3 s.
        let event_at = Instant::now();
        assert_eq!(next_chunk(&mut body).await.as_deref(), Some(":\n\n"));
        assert_eq!(event_at.elapsed(), Duration::from_secs(10));
        drop(sender);
        assert_eq!(next_chunk(&mut body).await, None);
    }

    /// A channel's events as a stream.
    struct EventsFrom(tokio::sync::mpsc::UnboundedReceiver<Event>);

    impl Stream for EventsFrom {
        type Item = Event;

        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
            self.0.poll_recv(cx)
        }
    }

    #[test]
    fn keep_alive_text_is_a_comment() {
        assert_eq!(KeepAlive::default().text("a\nb").comment, ": a\n: b\n\n");
        assert_eq!(KeepAlive::default().comment, ":\n\n");
    }
}
