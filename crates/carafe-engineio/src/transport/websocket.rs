//! WebSocket transport (stub until `carafe_serve::websocket` lands).

use carafe_serve::{Request, Response};

use crate::engine::EngineIo;
use crate::{Error, Socket};

pub(crate) fn is_upgrade_request(req: &Request) -> bool {
    req.headers()
        .get(http::header::UPGRADE)
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"websocket"))
}

pub(crate) fn handshake(_engine: &EngineIo, _req: Request) -> Result<Response, Error> {
    Err(Error::UnknownTransport)
}

pub(crate) fn upgrade(_socket: Socket, _req: Request) -> Result<Response, Error> {
    Err(Error::UnknownTransport)
}
