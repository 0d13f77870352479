//! One Socket.IO v5 client connection over Engine.IO v4 over WebSocket, hand-written so
//! that the load client's cost per message is small and the same for every server.
//!
//! Owns: the HTTP upgrade (`GET /socket.io/?EIO=4&transport=websocket`), WebSocket
//! framing (masked text frames out, unmasked frames in, WebSocket pings answered), the
//! Engine.IO open packet and its pings (`2` answered with `3`), and the Socket.IO
//! CONNECT to `/`. Frames are parsed in place from one growable read buffer; reading
//! allocates nothing per message. Fragmented messages are refused (no server here
//! fragments small text messages).

use std::io;
use std::ops::Range;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The mask every outgoing frame uses (RFC 6455 §5.3 asks clients to mask; the key's
/// value is the client's business).
const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
/// The read buffer's first size; it doubles when a frame does not fit.
const FIRST_BUFFER: usize = 2048;

/// What [`Conn::next_message`] found.
pub enum Message {
    /// A Socket.IO EVENT on `/` (Engine.IO `4` + Socket.IO `2`); the range is the
    /// packet after `42` (an optional ack id, then the JSON array).
    Event(Range<usize>),
    /// A Socket.IO ACK on `/` (`43`): the ack id and the range of the JSON array.
    Ack(u64, Range<usize>),
    /// Anything else the caller may want to see (a Socket.IO packet of another type).
    Other(Range<usize>),
}

pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    out: Vec<u8>,
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

impl Conn {
    /// Connects, upgrades, reads the Engine.IO open packet and connects to `/`.
    pub async fn connect(addr: &str) -> io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let mut conn = Conn {
            stream,
            buf: vec![0; FIRST_BUFFER],
            start: 0,
            end: 0,
            out: Vec::with_capacity(256),
        };
        let request = format!(
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {addr}\r\n\
             Upgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        conn.stream.write_all(request.as_bytes()).await?;
        let head_end = loop {
            if let Some(i) = find(&conn.buf[..conn.end], b"\r\n\r\n") {
                break i + 4;
            }
            if conn.end == conn.buf.len() {
                return Err(bad("response head over 2 KiB"));
            }
            let n = conn.stream.read(&mut conn.buf[conn.end..]).await?;
            if n == 0 {
                return Err(bad("closed during the WebSocket handshake"));
            }
            conn.end += n;
        };
        if !conn.buf.starts_with(b"HTTP/1.1 101") {
            let line = String::from_utf8_lossy(&conn.buf[..head_end.min(80)]).into_owned();
            return Err(bad(format!("no 101 Switching Protocols: {line:?}")));
        }
        conn.start = head_end;
        // Engine.IO open packet: `0{"sid":...}`.
        let (opcode, range) = conn.next_frame().await?;
        if opcode != 1 || conn.buf.get(range.start) != Some(&b'0') {
            return Err(bad("the first Engine.IO packet is not OPEN"));
        }
        conn.send_text(b"40").await?;
        loop {
            match conn.next_message().await? {
                Message::Other(r) if conn.buf[r.clone()].starts_with(b"0") => break,
                Message::Other(r) if conn.buf[r.clone()].starts_with(b"4") => {
                    let text = String::from_utf8_lossy(&conn.buf[r]).into_owned();
                    return Err(bad(format!("CONNECT refused: {text}")));
                }
                _ => {}
            }
        }
        Ok(conn)
    }

    /// The bytes of a range returned by [`Conn::next_message`] (valid until the next read).
    pub fn bytes(&self, range: Range<usize>) -> &[u8] {
        &self.buf[range]
    }

    /// Sends one text frame.
    pub async fn send_text(&mut self, payload: &[u8]) -> io::Result<()> {
        self.out.clear();
        self.out.push(0x81);
        match payload.len() {
            n @ 0..=125 => self.out.push(0x80 | n as u8),
            n @ 126..=0xffff => {
                self.out.push(0x80 | 126);
                self.out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                self.out.push(0x80 | 127);
                self.out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        self.out.extend_from_slice(&MASK);
        self.out
            .extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i & 3]));
        self.stream.write_all(&self.out).await
    }

    /// Sends a Socket.IO EVENT on `/` with an ack id: `42<id>[...]`.
    pub async fn emit_with_ack(&mut self, id: u64, json_array: &str) -> io::Result<()> {
        let packet = format!("42{id}{json_array}");
        self.send_text(packet.as_bytes()).await
    }

    /// The next Socket.IO packet on `/`, answering Engine.IO and WebSocket pings on the
    /// way. Cancel-safe: bytes read are kept in the buffer.
    pub async fn next_message(&mut self) -> io::Result<Message> {
        loop {
            let (opcode, r) = self.next_frame().await?;
            match opcode {
                1 => {}
                0x8 => {
                    return Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "the server closed",
                    ))
                }
                0x9 => {
                    let payload = self.buf[r].to_vec();
                    self.send_control(0xA, &payload).await?;
                    continue;
                }
                _ => continue,
            }
            let p = &self.buf[r.clone()];
            match p.first() {
                Some(b'2') => {
                    self.send_text(b"3").await?;
                    continue;
                }
                Some(b'4') => {}
                Some(b'1') => {
                    return Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "Engine.IO CLOSE",
                    ))
                }
                _ => continue,
            }
            return Ok(match p.get(1) {
                Some(b'2') => Message::Event(r.start + 2..r.end),
                Some(b'3') => {
                    let digits = p[2..].iter().take_while(|b| b.is_ascii_digit()).count();
                    let id = std::str::from_utf8(&p[2..2 + digits])
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| bad("ACK without an id"))?;
                    Message::Ack(id, r.start + 2 + digits..r.end)
                }
                _ => Message::Other(r.start + 1..r.end),
            });
        }
    }

    async fn send_control(&mut self, opcode: u8, payload: &[u8]) -> io::Result<()> {
        let mut frame = vec![0x80 | opcode, 0x80 | payload.len().min(125) as u8];
        frame.extend_from_slice(&MASK);
        frame.extend(
            payload
                .iter()
                .take(125)
                .enumerate()
                .map(|(i, b)| b ^ MASK[i & 3]),
        );
        self.stream.write_all(&frame).await
    }

    /// The next complete frame: its opcode and the payload's range in the buffer.
    async fn next_frame(&mut self) -> io::Result<(u8, Range<usize>)> {
        loop {
            if let Some(frame) = self.parse_frame()? {
                return Ok(frame);
            }
            self.fill().await?;
        }
    }

    fn parse_frame(&mut self) -> io::Result<Option<(u8, Range<usize>)>> {
        let data = &self.buf[self.start..self.end];
        if data.len() < 2 {
            return Ok(None);
        }
        if data[0] & 0x80 == 0 || data[0] & 0x0f == 0 {
            return Err(bad("fragmented message (not supported by this client)"));
        }
        if data[1] & 0x80 != 0 {
            return Err(bad("masked frame from the server"));
        }
        let (len, head) = match data[1] & 0x7f {
            126 if data.len() >= 4 => (u16::from_be_bytes([data[2], data[3]]) as usize, 4),
            127 if data.len() >= 10 => {
                let mut n = [0u8; 8];
                n.copy_from_slice(&data[2..10]);
                (u64::from_be_bytes(n) as usize, 10)
            }
            126 | 127 => return Ok(None),
            n => (n as usize, 2),
        };
        if data.len() < head + len {
            // Make room for the whole frame now, so that `fill` can complete it.
            let need = head + len;
            if need > self.buf.len() - self.start {
                self.compact();
                if need > self.buf.len() {
                    self.buf.resize(need.next_power_of_two(), 0);
                }
            }
            return Ok(None);
        }
        let opcode = data[0] & 0x0f;
        let payload = self.start + head..self.start + head + len;
        self.start += head + len;
        Ok(Some((opcode, payload)))
    }

    fn compact(&mut self) {
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
    }

    async fn fill(&mut self) -> io::Result<()> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.buf.len() {
            self.compact();
            if self.end == self.buf.len() {
                let len = self.buf.len() * 2;
                self.buf.resize(len, 0);
            }
        }
        let n = self.stream.read(&mut self.buf[self.end..]).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the TCP connection",
            ));
        }
        self.end += n;
        Ok(())
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
