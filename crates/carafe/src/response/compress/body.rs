//! The compressing body: gzip or brotli over another body, one flushed frame per frame
//! of the identity body, so that a stream stays a stream.

use std::io::{self, Write as _};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use carafe_serve::Body;
use http_body::{Frame, SizeHint};

use super::{Coding, Compression};

/// An empty stream of unknown length.
pub(super) fn empty_unsized(
) -> impl futures_core::Stream<Item = Result<Bytes, std::convert::Infallible>> {
    struct Empty;
    impl futures_core::Stream for Empty {
        type Item = Result<Bytes, std::convert::Infallible>;
        fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Poll::Ready(None)
        }
    }
    Empty
}

/// A streaming compressor writing into a buffer that is taken after each chunk.
pub(super) enum Encoder {
    Gzip(Box<flate2::write::GzEncoder<Vec<u8>>>),
    Brotli(Box<brotli::CompressorWriter<Vec<u8>>>),
}

impl Encoder {
    pub(super) fn new(coding: Coding, settings: &Compression) -> Encoder {
        match coding {
            Coding::Gzip => Encoder::Gzip(Box::new(flate2::write::GzEncoder::new(
                Vec::new(),
                flate2::Compression::new(settings.gzip_level),
            ))),
            // 4 KiB internal buffer, 2^22-byte window (brotli's default).
            Coding::Brotli => Encoder::Brotli(Box::new(brotli::CompressorWriter::new(
                Vec::new(),
                4096,
                settings.brotli_quality,
                22,
            ))),
        }
    }

    /// Compresses `data` and flushes, so the receiver can decode everything so far.
    pub(super) fn write_and_flush(&mut self, data: &[u8]) -> io::Result<Bytes> {
        match self {
            Encoder::Gzip(encoder) => {
                encoder.write_all(data)?;
                encoder.flush()?;
                Ok(Bytes::from(std::mem::take(encoder.get_mut())))
            }
            Encoder::Brotli(encoder) => {
                encoder.write_all(data)?;
                encoder.flush()?;
                Ok(Bytes::from(std::mem::take(encoder.get_mut())))
            }
        }
    }

    /// Ends the compressed stream.
    pub(super) fn finish(self) -> io::Result<Bytes> {
        match self {
            Encoder::Gzip(encoder) => encoder.finish().map(Bytes::from),
            Encoder::Brotli(encoder) => Ok(Bytes::from(encoder.into_inner())),
        }
    }
}

/// A body compressed chunk by chunk.
pub(super) struct CompressedBody {
    /// The identity body.
    inner: Body,
    /// `None` once the compressed stream has ended.
    encoder: Option<Encoder>,
}

impl CompressedBody {
    pub(super) fn new(inner: Body, encoder: Encoder) -> Self {
        CompressedBody {
            inner,
            encoder: Some(encoder),
        }
    }
}

impl http_body::Body for CompressedBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        loop {
            let Some(encoder) = this.encoder.as_mut() else {
                return Poll::Ready(None);
            };
            let frame = match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                Some(Ok(frame)) => frame,
                Some(Err(error)) => return Poll::Ready(Some(Err(error.into()))),
                None => {
                    let tail = this.encoder.take().map(Encoder::finish).transpose()?;
                    return Poll::Ready(tail.map(|tail| Ok(Frame::data(tail))));
                }
            };
            // Trailers are dropped, as the server does not send them.
            let Ok(data) = frame.into_data() else {
                continue;
            };
            let out = if this.inner.is_end_stream() {
                let mut out = encoder.write_and_flush(&data)?.to_vec();
                let tail = this.encoder.take().map(Encoder::finish).transpose()?;
                out.extend_from_slice(&tail.unwrap_or_default());
                Bytes::from(out)
            } else {
                encoder.write_and_flush(&data)?
            };
            if !out.is_empty() {
                return Poll::Ready(Some(Ok(Frame::data(out))));
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.encoder.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}
