//! `sio-load`: the load client of the Socket.IO benchmark (bench/sio/README.md).
//!
//! ```text
//! sio-load check --addr 127.0.0.1:3000
//! sio-load idle  --addr 127.0.0.1:3000 --conns 10000     # prints "ready {...}", holds until stdin closes
//! sio-load ack   --addr 127.0.0.1:3000 --conns 100 --seconds 5 [--server-pid PID]
//! sio-load bcast --addr 127.0.0.1:3000 --conns 1000 --seconds 5 --batch 20 --size 64 [--server-pid PID]
//! ```
//!
//! Every mode prints one JSON line at the end. `ack` and `bcast` report the CPU time this
//! client and (with `--server-pid`) the server used during the measured window, as a
//! share of one core, so that the harness can tell which side saturated. One thread
//! (tokio's current-thread runtime): pin it to a core with `taskset`.

mod conn;

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use conn::{Conn, Message};
use tokio::io::AsyncBufReadExt;
use tokio::sync::Notify;

struct Args {
    mode: String,
    addr: String,
    conns: usize,
    seconds: f64,
    batch: u64,
    size: usize,
    window: u64,
    concurrency: usize,
    server_pid: Option<u32>,
    hold: f64,
}

fn parse_args() -> Args {
    let mut args = std::env::args().skip(1);
    let mode = args
        .next()
        .unwrap_or_else(|| usage("a mode: check, idle, ack or bcast"));
    let mut parsed = Args {
        mode,
        addr: "127.0.0.1:3000".into(),
        conns: 100,
        seconds: 5.0,
        batch: 20,
        size: 64,
        window: 2,
        concurrency: 256,
        server_pid: None,
        hold: 300.0,
    };
    while let Some(arg) = args.next() {
        let value = args
            .next()
            .unwrap_or_else(|| usage(&format!("{arg} takes a value")));
        let number = |what: &str| -> f64 {
            value
                .parse()
                .unwrap_or_else(|_| usage(&format!("{what} takes a number, not {value:?}")))
        };
        match arg.as_str() {
            "--addr" => parsed.addr = value.clone(),
            "--conns" => parsed.conns = number("--conns") as usize,
            "--seconds" => parsed.seconds = number("--seconds"),
            "--batch" => parsed.batch = number("--batch") as u64,
            "--size" => parsed.size = number("--size") as usize,
            "--window" => parsed.window = number("--window") as u64,
            "--concurrency" => parsed.concurrency = number("--concurrency") as usize,
            "--server-pid" => parsed.server_pid = Some(number("--server-pid") as u32),
            "--hold" => parsed.hold = number("--hold"),
            other => usage(&format!("unknown option {other}")),
        }
    }
    if !parsed.addr.starts_with("127.") && !parsed.addr.starts_with("localhost:") {
        usage("--addr must be a loopback address (127.x.x.x:PORT)");
    }
    parsed
}

fn usage(why: &str) -> ! {
    eprintln!(
        "sio-load: {why}\nusage: sio-load check|idle|ack|bcast --addr 127.0.0.1:PORT [--conns N] \
               [--seconds S] [--batch N] [--size BYTES] [--window N] [--server-pid PID]"
    );
    std::process::exit(2)
}

fn fail(why: impl std::fmt::Display) -> ! {
    eprintln!("sio-load: {why}");
    std::process::exit(1)
}

/// User + system CPU seconds of a process, from `/proc/PID/stat`.
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0) // USER_HZ is 100 on Linux
}

/// CPU seconds of this client and of the server at one instant.
struct CpuMark {
    at: Instant,
    client: Option<f64>,
    server: Option<f64>,
}

impl CpuMark {
    fn now(server_pid: Option<u32>) -> CpuMark {
        CpuMark {
            at: Instant::now(),
            client: cpu_seconds("self"),
            server: server_pid.and_then(|pid| cpu_seconds(&pid.to_string())),
        }
    }

    /// `"client_cpu": x, "server_cpu": y` as shares of one core since `self`.
    fn json_since(&self, server_pid: Option<u32>) -> String {
        let end = CpuMark::now(server_pid);
        let wall = end.at.duration_since(self.at).as_secs_f64().max(1e-9);
        let share = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => format!("{:.3}", (b - a) / wall),
            _ => "null".into(),
        };
        format!(
            "\"client_cpu\": {}, \"server_cpu\": {}",
            share(self.client, end.client),
            share(self.server, end.server)
        )
    }
}

/// Opens `n` connections, at most `concurrency` handshakes at a time.
async fn open_many(addr: &str, n: usize, concurrency: usize) -> (Vec<Conn>, usize, Option<String>) {
    let mut conns = Vec::with_capacity(n);
    let mut failed = 0;
    let mut first_error = None;
    let mut pending = tokio::task::JoinSet::new();
    let mut started = 0;
    while conns.len() + failed < n {
        while started < n && pending.len() < concurrency {
            let addr = addr.to_string();
            pending.spawn_local(async move {
                tokio::time::timeout(Duration::from_secs(20), Conn::connect(&addr))
                    .await
                    .unwrap_or_else(|_| Err(std::io::Error::other("handshake took over 20 s")))
            });
            started += 1;
        }
        match pending.join_next().await {
            Some(Ok(Ok(conn))) => conns.push(conn),
            Some(Ok(Err(e))) => {
                failed += 1;
                first_error.get_or_insert(e.to_string());
            }
            Some(Err(e)) => {
                failed += 1;
                first_error.get_or_insert(e.to_string());
            }
            None => break,
        }
    }
    (conns, failed, first_error)
}

/// Waits for the ack with `id`, counting `tick` events on the way.
async fn wait_ack(conn: &mut Conn, id: u64) -> std::io::Result<Vec<u8>> {
    loop {
        if let Message::Ack(got, r) = conn.next_message().await? {
            if got == id {
                return Ok(conn.bytes(r).to_vec());
            }
        }
    }
}

fn is_tick(conn: &Conn, r: std::ops::Range<usize>) -> bool {
    conn.bytes(r).starts_with(b"[\"tick\"")
}

// ---------------------------------------------------------------------------------
// check: the contract, against any server

async fn check(args: &Args) {
    let (mut conns, failed, error) = open_many(&args.addr, 2, 2).await;
    if failed > 0 {
        fail(format!("connect: {}", error.unwrap_or_default()));
    }
    let arg = r#"{"n":1,"s":"hé"}"#;
    let mut a = conns.remove(0);
    let mut b = conns.remove(0);
    a.emit_with_ack(7, &format!(r#"["ack",{arg}]"#))
        .await
        .unwrap_or_else(|e| fail(e));
    let answer = tokio::time::timeout(Duration::from_secs(5), wait_ack(&mut a, 7))
        .await
        .unwrap_or_else(|_| fail("no ack for `ack` within 5 s"))
        .unwrap_or_else(|e| fail(e));
    let expected: serde_json::Value = serde_json::from_str(&format!("[{arg}]")).unwrap_or_default();
    let got: serde_json::Value =
        serde_json::from_slice(&answer).unwrap_or_else(|e| fail(format!("ack is not JSON: {e}")));
    if got != expected {
        fail(format!("`ack` acked {got}, expected {expected}"));
    }
    a.emit_with_ack(8, r#"["bcast",{"count":3,"size":10}]"#)
        .await
        .unwrap_or_else(|e| fail(e));
    let tick = serde_json::json!(["tick", "xxxxxxxxxx"]);
    let mut acked = false;
    let mut ticks = [0u32; 2];
    let deadline = Instant::now() + Duration::from_secs(5);
    for (i, conn) in [&mut a, &mut b].into_iter().enumerate() {
        while ticks[i] < 3 || (i == 0 && !acked) {
            let msg = tokio::time::timeout_at(deadline.into(), conn.next_message())
                .await
                .unwrap_or_else(|_| {
                    fail(format!(
                        "connection {i}: {} ticks, ack {acked} after 5 s",
                        ticks[i]
                    ))
                })
                .unwrap_or_else(|e| fail(e));
            match msg {
                Message::Event(r) => {
                    let value: serde_json::Value =
                        serde_json::from_slice(conn.bytes(r)).unwrap_or_default();
                    if value != tick {
                        fail(format!("connection {i} got {value}, expected {tick}"));
                    }
                    ticks[i] += 1;
                }
                Message::Ack(8, _) => acked = true,
                _ => {}
            }
        }
    }
    println!(
        "{{\"check\": \"ok\", \"ack\": {got}, \"ticks\": [{}, {}]}}",
        ticks[0], ticks[1]
    );
}

// ---------------------------------------------------------------------------------
// idle: hold connections

async fn idle(args: &Args) {
    let started = Instant::now();
    let (conns, failed, error) = open_many(&args.addr, args.conns, args.concurrency).await;
    let opened = conns.len();
    let alive = Rc::new(Cell::new(opened));
    // Every connection keeps reading, answering pings, until it dies or we stop.
    let mut tasks = tokio::task::JoinSet::new();
    for mut conn in conns {
        let alive = alive.clone();
        tasks.spawn_local(async move {
            while conn.next_message().await.is_ok() {}
            alive.set(alive.get() - 1);
        });
    }
    println!(
        "ready {{\"opened\": {opened}, \"failed\": {failed}, \"connect_seconds\": {:.2}, \"first_error\": {}}}",
        started.elapsed().as_secs_f64(),
        serde_json::Value::from(error)
    );
    // Hold until the driver closes our stdin, or --hold seconds.
    let mut line = String::new();
    let mut stdin = tokio::io::BufReader::new(tokio::io::stdin());
    let _ = tokio::time::timeout(
        Duration::from_secs_f64(args.hold),
        stdin.read_line(&mut line),
    )
    .await;
    println!(
        "{{\"opened\": {opened}, \"alive_at_end\": {}}}",
        alive.get()
    );
    tasks.abort_all();
}

// ---------------------------------------------------------------------------------
// ack: round trips

async fn ack(args: &Args) {
    let (conns, failed, error) = open_many(&args.addr, args.conns, args.concurrency).await;
    if failed > 0 {
        fail(format!(
            "{failed} of {} connections failed: {}",
            args.conns,
            error.unwrap_or_default()
        ));
    }
    let mark = CpuMark::now(args.server_pid);
    let until = Instant::now() + Duration::from_secs_f64(args.seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for mut conn in conns {
        tasks.spawn_local(async move {
            let mut trips = 0u64;
            let mut error = None;
            while Instant::now() < until {
                let id = trips + 1;
                let sent = conn
                    .emit_with_ack(id, &format!(r#"["ack",{{"i":{id}}}]"#))
                    .await;
                let answer = match sent {
                    Ok(()) => {
                        tokio::time::timeout(Duration::from_secs(10), wait_ack(&mut conn, id)).await
                    }
                    Err(e) => Ok(Err(e)),
                };
                match answer {
                    Ok(Ok(_)) => trips += 1,
                    Ok(Err(e)) => {
                        error = Some(e.to_string());
                        break;
                    }
                    Err(_) => {
                        error = Some("no ack within 10 s".into());
                        break;
                    }
                }
            }
            (trips, error)
        });
    }
    let mut trips = 0;
    let mut errors = 0;
    let mut first_error = None;
    while let Some(done) = tasks.join_next().await {
        if let Ok((n, error)) = done {
            trips += n;
            if let Some(e) = error {
                errors += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    let seconds = mark.at.elapsed().as_secs_f64();
    println!(
        "{{\"acks\": {trips}, \"seconds\": {seconds:.3}, \"rate\": {:.1}, \"errors\": {errors}, \
         \"first_error\": {}, {}}}",
        trips as f64 / seconds,
        serde_json::Value::from(first_error),
        mark.json_since(args.server_pid)
    );
}

// ---------------------------------------------------------------------------------
// bcast: fan-out

/// Shared between the receiving tasks and the driver (one thread: Cells are enough).
struct FanOut {
    /// Ticks received by all connections.
    delivered: Cell<u64>,
    /// `done[b % RING]`: connections that have received every tick of batch b.
    done: Vec<Cell<usize>>,
    notify: Notify,
}

const RING: usize = 64;

impl FanOut {
    /// One connection got its `count`-th tick.
    fn got_tick(&self, count: u64, batch: u64) {
        self.delivered.set(self.delivered.get() + 1);
        if count % batch == 0 {
            let slot = &self.done[(count / batch) as usize % RING];
            slot.set(slot.get() + 1);
            self.notify.notify_one();
        }
    }
}

async fn bcast(args: &Args) {
    let (conns, failed, error) = open_many(&args.addr, args.conns, args.concurrency).await;
    if failed > 0 {
        fail(format!(
            "{failed} of {} connections failed: {}",
            args.conns,
            error.unwrap_or_default()
        ));
    }
    let n = conns.len();
    let batch = args.batch.max(1);
    let window = args.window.clamp(1, RING as u64 / 2);
    let fan = Rc::new(FanOut {
        delivered: Cell::new(0),
        done: (0..RING).map(|_| Cell::new(0)).collect(),
        notify: Notify::new(),
    });
    let mut conns = conns.into_iter();
    let mut driver = conns.next().unwrap_or_else(|| fail("no connection"));
    let mut receivers = tokio::task::JoinSet::new();
    for mut conn in conns {
        let fan = fan.clone();
        receivers.spawn_local(async move {
            let mut count = 0u64;
            loop {
                match conn.next_message().await {
                    Ok(Message::Event(r)) if is_tick(&conn, r.clone()) => {
                        count += 1;
                        fan.got_tick(count, batch);
                    }
                    Ok(_) => {}
                    Err(e) => return Some(e.to_string()),
                }
            }
        });
    }
    let mark = CpuMark::now(args.server_pid);
    let until = mark.at + Duration::from_secs_f64(args.seconds);
    let request = format!(r#"["bcast",{{"count":{batch},"size":{}}}]"#, args.size);
    let mut sent = 0u64; // batches requested
    let mut acked = 0u64;
    let mut complete = 0u64; // batches every connection has received in full
    let mut own = 0u64; // the driver's own ticks
    let mut at_deadline = None;
    let drain_limit = Duration::from_secs(10);
    let result: Result<(), String> = loop {
        // Batches every connection has received in full, in order.
        loop {
            let slot = &fan.done[(complete + 1) as usize % RING];
            if complete < sent && slot.get() == n {
                slot.set(0);
                complete += 1;
            } else {
                break;
            }
        }
        let now = Instant::now();
        if now < until {
            while sent < complete + window {
                sent += 1;
                if let Err(e) = driver.emit_with_ack(sent, &request).await {
                    fail(format!("driver connection: {e}"));
                }
            }
        } else {
            if at_deadline.is_none() {
                at_deadline = Some((fan.delivered.get(), mark.json_since(args.server_pid), now));
            }
            if complete == sent {
                break Ok(());
            }
            if now > until + drain_limit {
                break Err(format!(
                    "{} of {sent} batches still incomplete 10 s after the end",
                    sent - complete
                ));
            }
        }
        let wake = tokio::time::sleep_until(
            (if now < until {
                until
            } else {
                until + drain_limit
            })
            .into(),
        );
        tokio::select! {
            msg = driver.next_message() => match msg {
                Ok(Message::Event(r)) if is_tick(&driver, r.clone()) => {
                    own += 1;
                    fan.got_tick(own, batch);
                }
                Ok(Message::Ack(_, _)) => acked += 1,
                Ok(_) => {}
                Err(e) => break Err(format!("driver connection: {e}")),
            },
            _ = fan.notify.notified() => {}
            _ = wake => {}
        }
    };
    let (delivered, cpu, end) = at_deadline.unwrap_or_else(|| {
        (
            fan.delivered.get(),
            mark.json_since(args.server_pid),
            Instant::now(),
        )
    });
    let seconds = end.duration_since(mark.at).as_secs_f64();
    receivers.abort_all();
    let expected = sent * batch * n as u64;
    println!(
        "{{\"delivered\": {delivered}, \"seconds\": {seconds:.3}, \"rate\": {:.1}, \"connections\": {n}, \
         \"batches\": {sent}, \"acked\": {acked}, \"delivered_total\": {}, \"expected_total\": {expected}, \
         \"error\": {}, {cpu}}}",
        delivered as f64 / seconds,
        fan.delivered.get(),
        serde_json::Value::from(result.err()),
    );
}

fn main() {
    let args = parse_args();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(format!("tokio runtime: {e}")));
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        match args.mode.as_str() {
            "check" => check(&args).await,
            "idle" => idle(&args).await,
            "ack" => ack(&args).await,
            "bcast" => bcast(&args).await,
            other => usage(&format!("unknown mode {other}")),
        }
    });
}
