//! The load client for the WebSocket benchmark: a minimal hand-written client (one
//! pre-encoded masked frame, a header parser) so that its own cost is the same for every
//! server and small next to theirs.
//!
//! ```text
//! ws-load echo --addr 127.0.0.1:9100 --conns 64 --size 32 --seconds 5
//! ws-load echo --addr 127.0.0.1:9100 --conns 4 --size 32 --trips 2500   # a fixed count
//! ws-load idle --addr 127.0.0.1:9100 --conns 2000      # prints "ready", holds until stdin closes
//! ```
//!
//! `echo` prints one JSON line: round trips, seconds, round trips per second and MiB/s of
//! payload echoed (counted once, not both ways).

use std::io::Write as _;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

struct Args {
    mode: String,
    addr: String,
    conns: usize,
    size: usize,
    seconds: f64,
    /// Round trips per connection; when set, `echo` stops after them instead of `seconds`.
    trips: Option<u64>,
}

fn parse_args() -> Args {
    let mut args = std::env::args().skip(1);
    let mode = args.next().expect("mode: echo or idle");
    let mut parsed = Args {
        mode,
        addr: "127.0.0.1:9100".into(),
        conns: 64,
        size: 32,
        seconds: 5.0,
        trips: None,
    };
    while let Some(arg) = args.next() {
        let value = args.next().expect("every option takes a value");
        match arg.as_str() {
            "--addr" => parsed.addr = value,
            "--conns" => parsed.conns = value.parse().expect("--conns N"),
            "--size" => parsed.size = value.parse().expect("--size BYTES"),
            "--seconds" => parsed.seconds = value.parse().expect("--seconds S"),
            "--trips" => parsed.trips = Some(value.parse().expect("--trips N")),
            other => panic!("unknown option {other}"),
        }
    }
    parsed
}

/// A masked binary frame carrying `size` bytes (RFC 6455 §5.2).
fn masked_frame(size: usize) -> Vec<u8> {
    const MASK: [u8; 4] = [0x12, 0x34, 0x56, 0x78];
    let mut frame = vec![0x82];
    match size {
        0..=125 => frame.push(0x80 | size as u8),
        126..=0xffff => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(size as u16).to_be_bytes());
        }
        _ => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(size as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&MASK);
    frame.extend((0..size).map(|i| (i as u8) ^ MASK[i % 4]));
    frame
}

type Conn = BufReader<TcpStream>;

async fn open(addr: &str) -> std::io::Result<Conn> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut conn = BufReader::with_capacity(64 * 1024, stream);
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    conn.get_mut().write_all(request.as_bytes()).await?;
    let mut line = String::new();
    conn.read_line(&mut line).await?;
    if !line.starts_with("HTTP/1.1 101") {
        return Err(std::io::Error::other(format!("no 101: {line:?}")));
    }
    while line != "\r\n" {
        line.clear();
        if conn.read_line(&mut line).await? == 0 {
            return Err(std::io::Error::other("closed during the handshake"));
        }
    }
    Ok(conn)
}

/// Reads one unmasked server frame and returns its payload length.
async fn read_frame(conn: &mut Conn, payload: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut head = [0u8; 2];
    conn.read_exact(&mut head).await?;
    let len = match head[1] & 0x7f {
        126 => conn.read_u16().await? as usize,
        127 => conn.read_u64().await? as usize,
        len => len as usize,
    };
    payload.resize(len, 0);
    conn.read_exact(payload).await?;
    if head[0] & 0x0f == 0x8 {
        return Err(std::io::Error::other("the server closed"));
    }
    Ok(len)
}

async fn echo_loop(
    addr: String,
    frame: std::sync::Arc<Vec<u8>>,
    until: Instant,
    limit: u64,
) -> u64 {
    let Ok(mut conn) = open(&addr).await else {
        return 0;
    };
    let mut payload = Vec::new();
    let mut trips = 0;
    while trips < limit && Instant::now() < until {
        if conn.get_mut().write_all(&frame).await.is_err()
            || read_frame(&mut conn, &mut payload).await.is_err()
        {
            break;
        }
        trips += 1;
    }
    trips
}

async fn echo(args: &Args) {
    let frame = std::sync::Arc::new(masked_frame(args.size));
    let started = Instant::now();
    let (until, limit) = match args.trips {
        // A fixed count (for instruction counts under callgrind): no clock limit.
        Some(trips) => (started + Duration::from_secs(3600), trips),
        None => (started + Duration::from_secs_f64(args.seconds), u64::MAX),
    };
    let tasks: Vec<_> = (0..args.conns)
        .map(|_| tokio::spawn(echo_loop(args.addr.clone(), frame.clone(), until, limit)))
        .collect();
    let mut trips = 0;
    for task in tasks {
        trips += task.await.unwrap_or(0);
    }
    let seconds = started.elapsed().as_secs_f64();
    let rate = trips as f64 / seconds;
    let mib = rate * args.size as f64 / (1024.0 * 1024.0);
    println!(
        "{{\"round_trips\": {trips}, \"seconds\": {seconds:.3}, \"rtps\": {rate:.1}, \"mib_s\": {mib:.2}}}"
    );
}

async fn idle(args: &Args) {
    let frame = masked_frame(32);
    let mut conns = Vec::with_capacity(args.conns);
    let mut payload = Vec::new();
    for _ in 0..args.conns {
        let mut conn = open(&args.addr).await.expect("open an idle connection");
        // One echo, so that every buffer the server keeps has been allocated.
        conn.get_mut().write_all(&frame).await.expect("write");
        read_frame(&mut conn, &mut payload).await.expect("echo");
        conns.push(conn);
    }
    println!("ready {}", conns.len());
    let _ = std::io::stdout().flush();
    // Hold until the driver closes our stdin (or 60 s pass).
    let mut line = String::new();
    let stdin = tokio::io::stdin();
    let mut stdin = BufReader::new(stdin);
    let _ = tokio::time::timeout(Duration::from_secs(60), stdin.read_line(&mut line)).await;
    drop(conns);
}

fn main() {
    let args = parse_args();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    match args.mode.as_str() {
        "echo" => runtime.block_on(echo(&args)),
        "idle" => runtime.block_on(idle(&args)),
        other => panic!("unknown mode {other}: echo or idle"),
    }
}
