//! The server side of the Socket.IO interop contract (`interop/socketio/README.md`) on
//! carafe-socketio, served on 127.0.0.1:0, and the runner for the client scripts
//! (`interop/socketio/client.mjs`, `client.py`) that `interop_js.rs` and `interop_py.rs`
//! share. The Node reference server (`interop/socketio/reference-server.mjs`) implements
//! the same contract, and the scripts pass against it (`interop/socketio/prove`).
#![allow(dead_code, unreachable_pub)]

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use carafe_socketio::{ConnectError, ConnectionStateRecovery, Error, Event, Socket, SocketIo};
use serde::Serialize;
use serde_json::{json, Value};

pub use carafe_socketio::packet::Spread;
/// Any argument, binary included (the contract's `echo` sends it back unchanged).
pub use carafe_socketio::Value as Dyn;

/// The longest a whole client script may run.
const SCRIPT_PATIENCE: Duration = Duration::from_secs(40);
/// The longest a server-side record may take to appear.
const PATIENCE: Duration = Duration::from_secs(5);

/// What the server recorded for one key (a socket id, or `refused:<user>`), in the shape
/// the `report` event answers with.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub connects: u64,
    pub events: BTreeMap<String, u64>,
    pub ack_timeouts: u64,
    pub disconnects: Vec<String>,
    pub refused: Vec<String>,
    /// Not part of the `report` answer: what the connect handler got.
    #[serde(skip)]
    pub auth: Value,
    #[serde(skip)]
    pub namespace: String,
}

/// Declares a module of three tests, one per transport (`websocket`, `polling`,
/// `upgrade`), that start a contract server with `$options`, run `$scenario` with
/// `$client`, and then `$check(&server, &observed).await` what the server recorded.
/// A trailing `#[ignore = "..."]` applies to all three.
macro_rules! scenario {
    ($client:expr, $name:ident, $scenario:literal, $options:expr, $check:path $(, #[$attr:meta])? $(,)?) => {
        mod $name {
            use super::*;

            async fn one(transport: &str) {
                let server = interop::start($options).await;
                let observed = interop::run($client, &server, transport, $scenario).await;
                $check(&server, &observed).await;
            }

            $(#[$attr])?
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn over_websocket() {
                one("websocket").await;
            }

            $(#[$attr])?
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn over_polling() {
                one("polling").await;
            }

            $(#[$attr])?
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn after_an_upgrade() {
                one("upgrade").await;
            }
        }
    };
}

/// Every report, by key.
#[derive(Debug, Default, Clone)]
pub struct Records(Arc<Mutex<HashMap<String, Report>>>);

impl Records {
    fn update(&self, key: &str, change: impl FnOnce(&mut Report)) {
        let mut reports = self.0.lock().unwrap_or_else(|p| p.into_inner());
        change(reports.entry(key.to_owned()).or_default());
    }

    /// A copy of the report for `key`.
    pub fn get(&self, key: &str) -> Option<Report> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }

    /// Every report.
    pub fn all(&self) -> HashMap<String, Report> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The reports of the sockets that connected to `namespace`.
    pub fn on(&self, namespace: &str) -> Vec<Report> {
        let all = self.all();
        all.into_values()
            .filter(|r| r.namespace == namespace)
            .collect()
    }

    /// The report of the one socket that connected to `namespace`.
    pub fn only(&self, namespace: &str) -> Report {
        let mut on = self.on(namespace);
        assert_eq!(on.len(), 1, "one socket on {namespace}: {:?}", self.all());
        on.remove(0)
    }

    /// The sum of every socket's count of `event`.
    pub fn count(&self, event: &str) -> u64 {
        self.all()
            .values()
            .filter_map(|r| r.events.get(event))
            .sum()
    }

    /// Waits until `check` holds for the report of `key` (handlers run in tasks of their
    /// own), failing the test after a few seconds.
    pub async fn wait_for(&self, key: &str, what: &str, check: impl Fn(&Report) -> bool) -> Report {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            if let Some(report) = self.get(key).filter(|report| check(report)) {
                return report;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "server side, {key}: {what}; the report is {:?}",
                self.get(key)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The rooms of `socket`, sorted, its own id room left out.
fn rooms(socket: &Socket) -> Vec<String> {
    let mut rooms: Vec<String> = socket
        .rooms()
        .iter()
        .filter(|room| room.as_ref() != socket.id())
        .map(|room| room.to_string())
        .collect();
    rooms.sort();
    rooms
}

/// Every argument of an event, binary included.
fn args_of(event: &Event) -> Result<Vec<Dyn>, Error> {
    event.args().all().map_err(Error::Payload)
}

/// Registers the contract's handlers on namespace `name`.
fn contract(sio: &SocketIo, name: &str, records: &Records) {
    let ns = sio.namespace(name);
    let rec = records.clone();
    let nsp = name.to_owned();
    ns.on_connect(move |socket: Socket, auth: Value| {
        let rec = rec.clone();
        let nsp = nsp.clone();
        async move {
            rec.update(socket.id(), |report| {
                report.connects += 1;
                report.auth = auth.clone();
                report.namespace = nsp.clone();
            });
            let welcome = json!({
                "id": socket.id(),
                "nsp": nsp,
                "auth": auth,
                "recovered": socket.recovered(),
            });
            socket.emit("welcome", &welcome)
        }
    });
    let rec = records.clone();
    ns.on_disconnect(move |socket: Socket, reason| {
        let rec = rec.clone();
        async move {
            rec.update(socket.id(), |report| {
                report.disconnects.push(reason.as_str().to_owned())
            });
        }
    });

    // Every handler counts its event first, as the reference's `onAny` does.
    let on = |event: &'static str, handler: fn(Ctx, Socket, Event) -> BoxResult| {
        let ctx = Ctx {
            sio: sio.clone(),
            records: records.clone(),
        };
        ns.on(event, move |socket: Socket, event: Event| {
            if event.name() != "report" {
                ctx.records.update(socket.id(), |report| {
                    *report.events.entry(event.name().to_owned()).or_default() += 1
                });
            }
            handler(ctx.clone(), socket, event)
        });
    };
    on("echo", |_, _, mut event| {
        Box::pin(async move {
            let args = args_of(&event)?;
            event.ack(&Spread(args))
        })
    });
    on("emit-back", |_, socket, event| {
        Box::pin(async move { socket.emit("echo-back", &Spread(args_of(&event)?)) })
    });
    on("whoami", |_, socket, mut event| {
        Box::pin(async move { event.ack(&json!({"id": socket.id(), "nsp": socket.namespace()})) })
    });
    on("ask", |_, socket, mut event| {
        Box::pin(async move {
            let payload: Dyn = event.args().get(0).transpose()?.unwrap_or(Dyn::Null);
            let asked = socket
                .emit_with_ack_timeout("question", &payload, Duration::from_secs(3))
                .await;
            match asked {
                Ok(answer) => {
                    let first: Dyn = answer.get(0).transpose()?.unwrap_or(Dyn::Null);
                    event.ack(&first)
                }
                Err(err) => event.ack(&json!({"error": err.to_string()})),
            }
        })
    });
    on("ask-unanswered", |ctx, socket, mut event| {
        Box::pin(async move {
            let ms: u64 = event.data()?;
            let asked = socket
                .emit_with_ack_timeout(
                    "question-unanswered",
                    "no answer expected",
                    Duration::from_millis(ms),
                )
                .await;
            match asked {
                Err(Error::AckTimeout) => {
                    ctx.records
                        .update(socket.id(), |report| report.ack_timeouts += 1);
                    event.ack("timeout")
                }
                _ => event.ack("answered"),
            }
        })
    });
    on("never-ack", |_, _, _| Box::pin(async { Ok(()) }));
    on("join", |_, socket, mut event| {
        Box::pin(async move {
            let room: String = event.data()?;
            socket.join(room);
            event.ack(&rooms(&socket))
        })
    });
    on("leave", |_, socket, mut event| {
        Box::pin(async move {
            let room: String = event.data()?;
            socket.leave(&room);
            event.ack(&rooms(&socket))
        })
    });
    on("tell", |ctx, socket, mut event| {
        Box::pin(async move {
            #[derive(serde::Deserialize)]
            struct Tell {
                room: String,
                except: Option<String>,
                msg: Value,
            }
            let tell: Tell = event.data()?;
            let mut to = socket.to(tell.room);
            if let Some(except) = tell.except {
                to = to.except(except);
            }
            to.emit("told", &tell.msg).await?;
            ctx.sio
                .of(socket.namespace())
                .emit("sync", &tell.msg)
                .await?;
            event.ack("told")
        })
    });
    on("shout", |ctx, socket, mut event| {
        Box::pin(async move {
            let msg: Value = event.data()?;
            socket.broadcast().emit("shouted", &msg).await?;
            ctx.sio.of(socket.namespace()).emit("sync", &msg).await?;
            event.ack("shouted")
        })
    });
    on("announce", |ctx, socket, mut event| {
        Box::pin(async move {
            let msg: Value = event.data()?;
            let everyone = ctx.sio.of(socket.namespace());
            everyone.emit("announced", &msg).await?;
            everyone.emit("sync", &msg).await?;
            event.ack("announced")
        })
    });
    on("disconnect-me", |_, socket, _| {
        Box::pin(async move {
            socket.disconnect();
            Ok(())
        })
    });
    on("report", |ctx, _, mut event| {
        Box::pin(async move {
            let key: String = event.data()?;
            event.ack(&ctx.records.get(&key))
        })
    });
}

type BoxResult = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), Error>> + Send>>;

/// What every contract handler may use.
#[derive(Clone)]
struct Ctx {
    sio: SocketIo,
    records: Records,
}

/// The server options a scenario needs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Connection state recovery on (the `recovery` scenario).
    pub recovery: bool,
}

/// The contract on a fresh `SocketIo`: `/`, `/admin`, and `/private` behind middleware.
pub fn contract_server(options: Options) -> (SocketIo, Records) {
    let mut builder = SocketIo::builder();
    if options.recovery {
        builder = builder.connection_state_recovery(ConnectionStateRecovery::default());
    }
    let sio = builder.build();
    let records = Records::default();
    contract(&sio, "/", &records);
    contract(&sio, "/admin", &records);
    let rec = records.clone();
    sio.namespace("/private")
        .use_middleware(move |_socket: Socket, auth: Value| {
            let rec = rec.clone();
            async move {
                if auth["token"] == "let-me-in" {
                    return Ok(());
                }
                let user = auth["user"].as_str().unwrap_or("null").to_owned();
                rec.update(&format!("refused:{user}"), |report| {
                    report.refused.push("/private".to_owned())
                });
                Err(ConnectError::new("not authorized").with_data(json!({"reason": "bad token"})))
            }
        });
    contract(&sio, "/private", &records);
    (sio, records)
}

/// A contract server listening on 127.0.0.1.
pub struct Server {
    pub addr: SocketAddr,
    pub sio: SocketIo,
    pub records: Records,
}

/// Starts the contract server on 127.0.0.1:0.
pub async fn start(options: Options) -> Server {
    let (sio, records) = contract_server(options);
    let addr = serve(&sio).await;
    Server { addr, sio, records }
}

/// Serves `sio` (its Engine.IO endpoint, `/socket.io/`) on 127.0.0.1:0.
async fn serve(sio: &SocketIo) -> SocketAddr {
    let mut config = carafe_serve::Config::default();
    config.access_log = false;
    let mut server = carafe_serve::TcpServer::bind("127.0.0.1:0".parse().expect("literal"), config)
        .expect("bind 127.0.0.1:0");
    server.activate().expect("listen");
    let addr = server.local_addr();
    tokio::spawn(server.serve_forever(sio.engine()));
    addr
}

/// The socket id in an observation (`welcome`, `client-disconnect`).
pub fn id_of(value: &Value) -> String {
    value["id"].as_str().expect("a socket id").to_owned()
}

/// What a client script printed: its observations, in order.
#[derive(Debug)]
pub struct Observed {
    pub lines: Vec<Value>,
}

impl Observed {
    /// The observations named `what`.
    pub fn all(&self, what: &str) -> Vec<&Value> {
        self.lines
            .iter()
            .filter(|line| line["observe"] == what)
            .collect()
    }

    /// The first observation named `what`; fails the test if there is none.
    pub fn one(&self, what: &str) -> &Value {
        self.all(what)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no {what:?} observation in {:#?}", self.lines))
    }
}

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../interop")
}

/// Which client runs a scenario.
#[derive(Debug, Clone, Copy)]
pub enum Client {
    /// npm `socket.io-client` 4.x through `interop/socketio/client.mjs`.
    Js,
    /// PyPI `python-socketio` through `interop/socketio/client.py`.
    Py,
}

/// Runs `scenario` over `transport` with `client` against `server`; fails the test,
/// with everything the script printed, unless it ends with `{"ok": scenario}`.
pub async fn run(client: Client, server: &Server, transport: &str, scenario: &str) -> Observed {
    let dir = interop_dir();
    let mut command = match client {
        Client::Js => {
            assert!(
                dir.join("node_modules/socket.io-client").is_dir(),
                "the npm socket.io-client is missing from {}: run `make interop-deps`",
                dir.display()
            );
            let mut command = tokio::process::Command::new("node");
            command.arg(dir.join("socketio/client.mjs"));
            command
        }
        Client::Py => {
            let probe = std::process::Command::new("python3")
                .args(["-c", "import socketio, websocket, requests"])
                .output()
                .expect("python3 runs (see `make interop-deps`)");
            assert!(
                probe.status.success(),
                "the PyPI python-socketio client is missing: run `make interop-deps`\n{}",
                String::from_utf8_lossy(&probe.stderr)
            );
            let mut command = tokio::process::Command::new("python3");
            command.arg(dir.join("socketio/client.py"));
            command
        }
    };
    command
        .arg(format!("http://{}", server.addr))
        .arg(transport)
        .arg(scenario)
        .kill_on_drop(true);
    let output = tokio::time::timeout(SCRIPT_PATIENCE, command.output())
        .await
        .unwrap_or_else(|_| {
            panic!("{scenario} over {transport}: the client ran over {SCRIPT_PATIENCE:?}")
        })
        .expect("the client starts (node / python3 installed? see `make interop-deps`)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<Value> = stdout
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let ok = lines
        .last()
        .is_some_and(|last| last["ok"] == scenario && last["transport"] == transport);
    assert!(
        output.status.success() && ok,
        "{client:?} client, {scenario} over {transport} against carafe failed:\n{stdout}\n{stderr}"
    );
    Observed { lines }
}
