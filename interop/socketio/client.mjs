// The client side of the Socket.IO interop contract (README.md in this folder) with the
// npm `socket.io-client` 4.x. Usage:
//
//   node client.mjs URL TRANSPORT SCENARIO
//
// TRANSPORT is `websocket` (WebSocket only), `polling` (long-polling only) or `upgrade`
// (the default: polling, then upgraded to WebSocket; the scenario fails if the upgrade
// never happens). Prints what it observes as JSON lines and {"ok": SCENARIO} last, exit
// 0; on anything unexpected prints {"fail": WHY} and exits 1. Spawned by
// crates/carafe-socketio/tests/interop_js.rs and interop/socketio/prove.

import { io } from "socket.io-client";

const [url, transport, scenario] = process.argv.slice(2);
const WAIT = 3000; // the longest any single step may take

const transports = {
  websocket: { transports: ["websocket"] },
  polling: { transports: ["polling"] },
  upgrade: { transports: ["polling", "websocket"], upgrade: true },
};

function print(line) {
  console.log(JSON.stringify(line, (_key, value) => {
    // Buffers are printed as {"$bytes": hex} so both sides can compare them.
    if (value?.type === "Buffer" && Array.isArray(value.data)) {
      return { $bytes: Buffer.from(value.data).toString("hex") };
    }
    return value;
  }));
}

function observe(what, data = {}) {
  print({ observe: what, ...data });
}

function fail(why) {
  print({ fail: why, scenario, transport });
  console.error(`${scenario} over ${transport}: ${why}`);
  process.exit(1);
}

function check(condition, why) {
  if (!condition) fail(why);
}

function same(actual, expected, what) {
  const a = JSON.stringify(normalize(actual));
  const e = JSON.stringify(normalize(expected));
  check(a === e, `${what}: expected ${e}, got ${a}`);
}

// Buffers and ArrayBuffers compare by content, objects whatever their key order.
function normalize(value) {
  if (value instanceof ArrayBuffer) return { $bytes: Buffer.from(value).toString("hex") };
  if (Buffer.isBuffer(value)) return { $bytes: value.toString("hex") };
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === "object") {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries.map(([k, v]) => [k, normalize(v)]));
  }
  return value;
}

setTimeout(() => fail("timed out"), 20_000).unref();

function withTimeout(promise, what, ms = WAIT) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Every socket records the events it gets, so none is missed between two awaits.
function track(socket) {
  const queues = new Map();
  const waiting = new Map();
  socket.onAny((event, ...args) => {
    const next = waiting.get(event)?.shift();
    if (next) next(args);
    else {
      if (!queues.has(event)) queues.set(event, []);
      queues.get(event).push(args);
    }
  });
  socket.next = (event, ms = WAIT) => {
    const queued = queues.get(event);
    if (queued?.length) return Promise.resolve(queued.shift());
    const arrived = new Promise((resolve) => {
      if (!waiting.has(event)) waiting.set(event, []);
      waiting.get(event).push(resolve);
    });
    return withTimeout(arrived, `"${event}" event`, ms);
  };
  socket.pending = (event) => queues.get(event)?.length ?? 0;
  return socket;
}

// A socket on `nsp`; `manager` reuses an existing connection (several namespaces on one
// Manager), otherwise each call opens its own.
function open(nsp, options = {}, manager = undefined) {
  if (manager) return track(manager.socket(nsp, options));
  return track(io(url + nsp, { forceNew: true, reconnection: false, ...transports[transport], ...options }));
}

async function connected(socket) {
  if (socket.connected) return socket;
  const result = new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  await withTimeout(result, `connection to ${socket.nsp}`);
  return socket;
}

async function request(socket, event, ...args) {
  return withTimeout(socket.emitWithAck(event, ...args), `ack for "${event}"`);
}

async function welcome(socket) {
  const [data] = await socket.next("welcome");
  same(data.id, socket.id, "the welcome names the socket id");
  same(data.nsp, socket.nsp, "the welcome names the namespace");
  return data;
}

// What the server recorded for `key` (a socket id, or `refused:<auth.user>`).
async function serverReport(socket, key) {
  const seen = await request(socket, "report", key);
  observe("report", { key, seen });
  return seen;
}

// For the `upgrade` mode: the session must end up on WebSocket.
async function upgraded(socket) {
  if (transport !== "upgrade") return;
  const engine = socket.io.engine;
  if (engine.transport.name !== "websocket") {
    await withTimeout(new Promise((resolve) => engine.once("upgrade", resolve)), "upgrade");
  }
  observe("upgraded", { transport: engine.transport.name });
}

function close(...sockets) {
  for (const socket of sockets) socket.io.engine?.close();
}

const scenarios = {
  // auth reaches the server; a server disconnect reaches the client with its reason.
  async "connect-auth"() {
    const auth = { token: "t1", user: "ana", n: 7 };
    const a = await connected(open("/", { auth }));
    const hello = await welcome(a);
    observe("welcome", hello);
    same(hello.auth, auth, "the server got the auth payload");
    same(hello.recovered, false, "a first connection is not recovered");
    await upgraded(a);
    const dropped = new Promise((resolve) => a.once("disconnect", resolve));
    a.emit("disconnect-me");
    const reason = await withTimeout(dropped, "server disconnect");
    observe("server-disconnect", { reason });
    same(reason, "io server disconnect", "the client's reason for a server disconnect");
    close(a);
  },

  // socket.disconnect() (which also closes the connection, its last socket): the server
  // gets DISCONNECT before the transport closes and reports "client namespace disconnect".
  async "client-disconnect"() {
    const a = await connected(open("/", { auth: { user: "leaver" } }));
    await welcome(a);
    await upgraded(a);
    const id = a.id;
    const gone = new Promise((resolve) => a.once("disconnect", resolve));
    a.disconnect();
    observe("client-disconnect", { id, reason: await gone });
    const b = await connected(open("/", { auth: { user: "witness" } }));
    await welcome(b);
    let seen = await serverReport(b, id);
    for (let i = 0; i < 20 && seen.disconnects.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      seen = await serverReport(b, id);
    }
    same(seen.disconnects, ["client namespace disconnect"], "the server's disconnect reason");
    close(b);
  },

  // Acks both ways: the client's events acked by the server, the server's acked by the client.
  async acks() {
    const a = await connected(open("/"));
    await welcome(a);
    same(await request(a, "echo", "hello"), "hello", "one argument acked");
    const several = await withTimeout(
      new Promise((resolve) => a.emit("echo", "x", 1, { y: [true, null] }, (...args) => resolve(args))),
      "ack with several arguments",
    );
    same(several, ["x", 1, { y: [true, null] }], "several arguments acked");
    same(await request(a, "echo"), undefined, "an ack without arguments");
    a.on("question", (payload, ack) => {
      observe("question", { payload });
      ack({ answer: payload.n * 2 });
    });
    same(await request(a, "ask", { n: 21 }), { answer: 42 }, "the client's ack reached the server");
    await upgraded(a);
    for (let i = 0; i < 20; i++) same(await request(a, "echo", i), i, "acks in a row");
    close(a);
  },

  // Events sent in a row are handled in order: the server's answers come back in order.
  async order() {
    const a = await connected(open("/"));
    await welcome(a);
    await upgraded(a);
    for (let n = 0; n < 30; n++) a.emit("emit-back", n);
    const got = [];
    for (let n = 0; n < 30; n++) got.push((await a.next("echo-back"))[0]);
    observe("order", { got });
    same(got, [...Array(30).keys()], "echo-back order");
    close(a);
  },

  // Binary both ways: in events, in acks, nested, several attachments.
  async binary() {
    const a = await connected(open("/"));
    await welcome(a);
    const one = Buffer.from([0, 1, 2, 253, 254, 255]);
    const two = Buffer.from("deux");
    same(await request(a, "echo", one), one, "a buffer acked back");
    const nested = { name: "file", parts: [one, { inner: two }], empty: Buffer.alloc(0) };
    same(await request(a, "echo", nested), nested, "nested buffers acked back");
    a.emit("emit-back", "text", one, nested);
    const back = await a.next("echo-back");
    same(back, ["text", one, nested], "buffers in a server event");
    a.on("question", (payload, ack) => ack(Buffer.concat([payload, two])));
    same(await request(a, "ask", one), Buffer.concat([one, two]), "buffers in the client's ack");
    await upgraded(a);
    const large = Buffer.alloc(200_000, 7);
    same(await request(a, "echo", large), large, "a 200 kB buffer");
    observe("binary", { ok: true });
    close(a);
  },

  // Several namespaces on one connection (one Manager): one Engine.IO session, and each
  // namespace answers for itself; leaving one leaves the others connected.
  async namespaces() {
    const main = await connected(open("/"));
    const manager = main.io;
    const admin = await connected(open("/admin", {}, manager));
    const secret = await connected(open("/private", { auth: { token: "let-me-in" } }, manager));
    for (const socket of [main, admin, secret]) {
      await welcome(socket);
      same(await request(socket, "whoami"), { id: socket.id, nsp: socket.nsp }, `whoami on ${socket.nsp}`);
    }
    check(new Set([main.id, admin.id, secret.id]).size === 3, "each namespace has its own socket id");
    const sessions = new Set([main.io.engine.id, admin.io.engine.id, secret.io.engine.id]);
    check(sessions.size === 1, "one Engine.IO session for every namespace");
    observe("namespaces", { sockets: [main.id, admin.id, secret.id], session: main.io.engine.id });
    const adminId = admin.id;
    admin.disconnect();
    same(await request(main, "echo", "still"), "still", "/ after leaving /admin");
    same(await request(secret, "echo", "here"), "here", "/private after leaving /admin");
    same(main.io.engine.id, [...sessions][0], "the session survives leaving a namespace");
    let seen = await serverReport(main, adminId);
    for (let i = 0; i < 20 && seen.disconnects.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      seen = await serverReport(main, adminId);
    }
    same(seen.disconnects, ["client namespace disconnect"], "the server's reason for leaving /admin");
    await upgraded(main);
    close(main);
  },

  // Middleware refuses a bad token with {message, data}; an unknown namespace is refused;
  // the connection's other namespaces are unaffected; the right token gets in.
  async "auth-refused"() {
    const main = await connected(open("/"));
    await welcome(main);
    const user = `eve-${process.pid}`;
    const secret = open("/private", { auth: { token: "wrong", user } }, main.io);
    const error = await withTimeout(
      new Promise((resolve, reject) => {
        secret.once("connect_error", resolve);
        secret.once("connect", () => reject(new Error("a bad token was let in")));
      }),
      "connect_error",
    );
    observe("connect_error", { message: error.message, data: error.data });
    same(error.message, "not authorized", "the refusal's message");
    same(error.data, { reason: "bad token" }, "the refusal's data");
    check(!secret.connected, "the refused socket is not connected");
    same(await request(main, "echo", "fine"), "fine", "/ after a refusal on /private");
    const nowhere = open("/nowhere", {}, main.io);
    const unknown = await withTimeout(
      new Promise((resolve, reject) => {
        nowhere.once("connect_error", resolve);
        nowhere.once("connect", () => reject(new Error("a namespace nobody declared connected")));
      }),
      "connect_error for an unknown namespace",
    );
    observe("unknown-namespace", { message: unknown.message });
    same(unknown.message, "Invalid namespace", "the refusal of an unknown namespace");
    const seen = await serverReport(main, `refused:${user}`);
    same(seen.refused, ["/private"], "the middleware refused once");
    // As the client docs advise: fix the auth and connect again.
    secret.auth = { token: "let-me-in", user: "ann" };
    secret.connect();
    const admitted = await connected(secret);
    same((await welcome(admitted)).auth, { token: "let-me-in", user: "ann" }, "the admitted auth");
    await upgraded(main);
    close(main);
  },

  // Rooms: to(room), to(room).except(room), leave; the sender is never included.
  async rooms() {
    const [a, b, c] = await Promise.all(["a", "b", "c"].map((user) => connected(open("/", { auth: { user } }))));
    for (const s of [a, b, c]) await welcome(s);
    same(await request(a, "join", "red"), ["red"], "a's rooms");
    await request(b, "join", "red");
    same(await request(b, "join", "blue"), ["blue", "red"], "b's rooms");
    same(await request(c, "join", "blue"), ["blue"], "c's rooms");
    const told = { a: [], b: [], c: [] };
    for (const [name, s] of Object.entries({ a, b, c })) s.on("told", (msg) => told[name].push(msg));
    async function tell(from, what) {
      same(await request(from, "tell", what), "told", "tell acked");
      for (const s of [a, b, c]) same((await s.next("sync"))[0], what.msg, "sync");
    }
    await tell(c, { room: "red", msg: "m1" });
    same(told, { a: ["m1"], b: ["m1"], c: [] }, "to(red) from c");
    await tell(c, { room: "red", except: "blue", msg: "m2" });
    same(told, { a: ["m1", "m2"], b: ["m1"], c: [] }, "to(red).except(blue) from c");
    same(await request(a, "leave", "red"), [], "a's rooms after leaving red");
    await tell(c, { room: "red", msg: "m3" });
    same(told, { a: ["m1", "m2"], b: ["m1", "m3"], c: [] }, "to(red) after a left");
    await tell(b, { room: "red", msg: "m4" });
    same(told, { a: ["m1", "m2"], b: ["m1", "m3"], c: [] }, "to(red) from b, its only member");
    observe("told", told);
    await Promise.all([a, b, c].map(upgraded));
    close(a, b, c);
  },

  // Broadcast: socket.broadcast reaches everyone else in the namespace and nobody in
  // another namespace; a namespace-wide emit reaches the sender too.
  async broadcast() {
    const [a, b, c] = await Promise.all(["a", "b", "c"].map((user) => connected(open("/", { auth: { user } }))));
    const d = await connected(open("/admin", {}, a.io));
    for (const s of [a, b, c, d]) await welcome(s);
    const got = { a: [], b: [], c: [], d: [] };
    for (const [name, s] of Object.entries({ a, b, c, d })) {
      s.on("shouted", (msg) => got[name].push(`shouted:${msg}`));
      s.on("announced", (msg) => got[name].push(`announced:${msg}`));
    }
    same(await request(a, "shout", "s1"), "shouted", "shout acked");
    for (const s of [a, b, c]) same((await s.next("sync"))[0], "s1", "sync");
    same(await request(b, "announce", "n1"), "announced", "announce acked");
    for (const s of [a, b, c]) same((await s.next("sync"))[0], "n1", "sync");
    same(await request(d, "echo", "d"), "d", "/admin still answers");
    same(got, {
      a: ["announced:n1"],
      b: ["shouted:s1", "announced:n1"],
      c: ["shouted:s1", "announced:n1"],
      d: [],
    }, "who got what");
    observe("broadcast", got);
    await Promise.all([a, b, c].map(upgraded));
    close(a, b, c);
  },

  // The server's emit_with_ack times out when the client never acks.
  async "server-ack-timeout"() {
    const a = await connected(open("/"));
    await welcome(a);
    let asked = 0;
    a.on("question-unanswered", (text, ack) => {
      asked += 1;
      check(typeof ack === "function", "the server asked for an ack");
    });
    same(await request(a, "ask-unanswered", 300), "timeout", "the server's verdict");
    same(asked, 1, "the question arrived once");
    const seen = await serverReport(a, a.id);
    same(seen.ackTimeouts, 1, "the server counted one ack timeout");
    same(await request(a, "echo", "after"), "after", "the socket works after the timeout");
    await upgraded(a);
    close(a);
  },

  // The client's socket.timeout(ms).emit times out on a handler that never acks.
  async "client-ack-timeout"() {
    const a = await connected(open("/"));
    await welcome(a);
    const started = Date.now();
    const error = await withTimeout(
      new Promise((resolve) => a.timeout(300).emit("never-ack", "x", (err) => resolve(err))),
      "client-side timeout",
    );
    observe("client-timeout", { message: error?.message, ms: Date.now() - started });
    same(error?.message, "operation has timed out", "the client's timeout error");
    same(await request(a, "echo", "after"), "after", "the socket works after the timeout");
    const seen = await serverReport(a, a.id);
    same(seen.events["never-ack"], 1, "the server got the event once");
    await upgraded(a);
    close(a);
  },

  // ackTimeout + retries: every emit carries an ack id; each is acked exactly once; a
  // handler that never acks costs the retries and then an error, and the client goes on.
  async retries() {
    const a = await connected(open("/", { ackTimeout: 300, retries: 2 }));
    await welcome(a);
    const acks = new Map();
    a.io.on("packet", (packet) => {
      if ((packet.type === 3 || packet.type === 6) && packet.nsp === "/") {
        acks.set(packet.id, (acks.get(packet.id) ?? 0) + 1);
      }
    });
    const answer = (event, ...args) =>
      withTimeout(
        new Promise((resolve) => a.emit(event, ...args, (err, ...values) => resolve([err?.message ?? null, ...values]))),
        `"${event}" under retries`,
        5000,
      );
    a.emit("echo", "r1");
    const r2 = answer("echo", "r2");
    const lost = answer("never-ack", "n1");
    const r3 = answer("echo", "r3");
    same(await r2, [null, "r2"], "r2");
    same(await lost, ["operation has timed out"], "the unacked event's error after its retries");
    same(await r3, [null, "r3"], "r3, queued behind the unacked event");
    same([...acks.values()], [1, 1, 1], "each of the three echoes acked exactly once");
    observe("acks", { ids: Object.fromEntries(acks) });
    const seen = await serverReport(a, a.id);
    same(seen.events, { echo: 3, "never-ack": 3 }, "what the server received (one try plus two retries)");
    await upgraded(a);
    close(a);
  },

  // Connection state recovery: after the transport drops, the client gets back its id,
  // its rooms and the packet it missed.
  async recovery() {
    const a = await connected(open("/", {
      auth: { user: "a" },
      reconnection: true,
      reconnectionDelay: 1000,
      randomizationFactor: 0,
    }));
    const b = await connected(open("/", { auth: { user: "b" } }));
    same((await welcome(a)).recovered, false, "first connection");
    await welcome(b);
    await request(a, "join", "keep");
    await upgraded(a);
    const id = a.id;
    const dropped = new Promise((resolve) => a.once("disconnect", resolve));
    a.io.engine.close();
    observe("dropped", { reason: await withTimeout(dropped, "disconnect") });
    same(await request(b, "tell", { room: "keep", msg: "missed" }), "told", "told while a was away");
    await withTimeout(new Promise((resolve) => a.once("connect", resolve)), "reconnection", 5000);
    observe("reconnected", { recovered: a.recovered, sameId: a.id === id });
    check(a.recovered === true, "the connection state was recovered");
    same(a.id, id, "the recovered socket keeps its id");
    same((await a.next("told"))[0], "missed", "the missed packet");
    same(await request(b, "tell", { room: "keep", msg: "after" }), "told", "told after recovery");
    same((await a.next("told"))[0], "after", "the room survived");
    const seen = await serverReport(b, id);
    // The client closed its transport: Node reports "transport close" for polling and
    // "transport error" for a WebSocket closed under it.
    check(
      ["transport close", "transport error"].includes(seen.disconnects.join()),
      `the server's reason for the drop: ${JSON.stringify(seen.disconnects)}`,
    );
    await upgraded(a);
    close(a, b);
  },
};

if (!transports[transport]) fail(`unknown transport ${transport} (websocket, polling or upgrade)`);
if (!scenarios[scenario]) fail(`unknown scenario ${scenario} (${Object.keys(scenarios).join(", ")})`);
scenarios[scenario]()
  .then(() => {
    print({ ok: scenario, transport });
    process.exit(0);
  })
  .catch((error) => fail(error?.message ?? String(error)));
