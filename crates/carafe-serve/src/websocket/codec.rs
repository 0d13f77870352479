//! The frame codec behind [`WebSocket`](super::WebSocket): tokio-tungstenite, chosen by
//! measurement (see ARCHITECTURE.md, "WebSocket"). Everything that names the codec lives
//! in this file, so swapping it touches nothing else.

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::{frame, Role, WebSocketConfig as Tuning};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::WebSocketStream;

use super::{CloseFrame, Message, Utf8Bytes, WebSocketConfig, WebSocketError};
use crate::upgrade::Upgraded;

/// The codec's validated text type, wrapped by [`Utf8Bytes`].
pub(super) type Utf8 = tokio_tungstenite::tungstenite::Utf8Bytes;

/// The receiving half of a connection.
pub(super) type Reader = SplitStream<WebSocketStream<Upgraded>>;
/// The sending half of a connection.
pub(super) type Writer = SplitSink<WebSocketStream<Upgraded>, WsMessage>;

/// Starts speaking WebSocket frames, as the server, on an upgraded connection.
pub(super) async fn start(upgraded: Upgraded, config: &WebSocketConfig) -> (Reader, Writer) {
    let stream = WebSocketStream::from_raw_socket(upgraded, Role::Server, Some(tuning(config)));
    let (writer, reader) = stream.await.split();
    (reader, writer)
}

/// The next message, `None` once the connection is closed.
pub(super) async fn read(reader: &mut Reader) -> Option<Result<Message, WebSocketError>> {
    loop {
        match reader.next().await? {
            Ok(message) => match from_codec(message) {
                Some(message) => return Some(Ok(message)),
                None => continue,
            },
            Err(error) => return convert_error(error).map(Err),
        }
    }
}

/// Writes one message and flushes it.
pub(super) async fn write(writer: &mut Writer, message: Message) -> Result<(), WebSocketError> {
    writer.send(to_codec(message)).await.map_err(error_on_send)
}

/// Flushes automatic answers (pongs, the close reply) the reader has queued.
pub(super) async fn flush(writer: &mut Writer) -> Result<(), WebSocketError> {
    writer.flush().await.map_err(error_on_send)
}

fn tuning(config: &WebSocketConfig) -> Tuning {
    let mut tuning = Tuning::default();
    tuning.read_buffer_size = config.read_buffer_size;
    tuning.write_buffer_size = config.write_buffer_size;
    // tungstenite panics unless the bound is above the buffer size.
    tuning.max_write_buffer_size = config
        .max_write_buffer_size
        .max(config.write_buffer_size.saturating_add(1));
    tuning.max_message_size = Some(config.max_message_size);
    tuning.max_frame_size = Some(config.max_frame_size);
    tuning
}

fn to_codec(message: Message) -> WsMessage {
    match message {
        Message::Text(text) => WsMessage::Text(text.0),
        Message::Binary(data) => WsMessage::Binary(data),
        Message::Ping(data) => WsMessage::Ping(data),
        Message::Pong(data) => WsMessage::Pong(data),
        Message::Close(frame) => WsMessage::Close(frame.map(|frame| frame::CloseFrame {
            code: frame.code.into(),
            reason: frame.reason.0,
        })),
    }
}

fn from_codec(message: WsMessage) -> Option<Message> {
    Some(match message {
        WsMessage::Text(text) => Message::Text(Utf8Bytes(text)),
        WsMessage::Binary(data) => Message::Binary(data),
        WsMessage::Ping(data) => Message::Ping(data),
        WsMessage::Pong(data) => Message::Pong(data),
        WsMessage::Close(frame) => Message::Close(frame.map(|frame| CloseFrame {
            code: frame.code.into(),
            reason: Utf8Bytes(frame.reason),
        })),
        // Raw frames are never produced by reading.
        WsMessage::Frame(_) => return None,
    })
}

/// A read error as ours; `None` when it only means the connection is closed.
fn convert_error(error: WsError) -> Option<WebSocketError> {
    Some(match error {
        WsError::ConnectionClosed | WsError::AlreadyClosed => return None,
        WsError::Io(error) => WebSocketError::Io(error),
        WsError::Capacity(CapacityError::MessageTooLong { size, max_size }) => {
            WebSocketError::MessageTooBig {
                size,
                max: max_size,
            }
        }
        WsError::Utf8(_) => WebSocketError::InvalidUtf8,
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => return None,
        WsError::WriteBufferFull(_) => WebSocketError::WriteBufferFull,
        other => WebSocketError::Protocol(other.to_string()),
    })
}

fn error_on_send(error: WsError) -> WebSocketError {
    match error {
        WsError::ConnectionClosed
        | WsError::AlreadyClosed
        | WsError::Protocol(ProtocolError::SendAfterClosing) => WebSocketError::Closed,
        other => convert_error(other).unwrap_or(WebSocketError::Closed),
    }
}
