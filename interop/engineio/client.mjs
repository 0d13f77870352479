// Drives the npm engine.io-client against a carafe Engine.IO server, one scenario per
// run: node client.mjs SCENARIO URL. Prints "ok SCENARIO" and exits 0 when the client
// saw what the scenario expects; otherwise prints why and exits 1. Spawned by
// crates/carafe-engineio/tests/interop.rs.

import { Socket } from "engine.io-client";

const [scenario, url] = process.argv.slice(2);
const LIMIT = 1_000_000; // the server's maxPayload in these scenarios

const transports = {
  polling: ["polling"],
  websocket: ["websocket"],
  upgrade: ["polling", "websocket"],
};

function fail(why) {
  console.log(`fail ${scenario}: ${why}`);
  process.exit(1);
}

function done(socket) {
  console.log(`ok ${scenario}`);
  if (socket) socket.close();
  process.exit(0);
}

setTimeout(() => fail("timed out"), 10_000);

function open(options) {
  return new Socket(url, { path: "/engine.io/", ...options });
}

// Messages can arrive several in one tick (one long-polling payload), so they are
// queued by one listener rather than awaited one `once` at a time.
function inbox(socket) {
  const queued = [];
  const waiting = [];
  socket.on("message", (data) => {
    const next = waiting.shift();
    if (next) next(data);
    else queued.push(data);
  });
  return () =>
    queued.length > 0
      ? Promise.resolve(queued.shift())
      : new Promise((resolve) => waiting.push(resolve));
}

function bytesOf(data) {
  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data);
}

// Messages both ways (text, binary, near the limit), over the given transports.
async function exchange(kind) {
  const socket = open({ transports: transports[kind], upgrade: kind === "upgrade" });
  const nextMessage = inbox(socket);
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  if (kind === "upgrade") {
    await new Promise((resolve) => socket.once("upgrade", resolve));
    if (socket.transport.name !== "websocket") fail(`still on ${socket.transport.name}`);
  }
  for (const text of ["hello", "héllo €", "x"]) {
    socket.send(text);
    const echo = await nextMessage();
    if (echo !== text) fail(`sent ${JSON.stringify(text)}, got ${JSON.stringify(echo)}`);
  }
  const binary = Buffer.from([0, 1, 2, 250, 255]);
  socket.send(binary);
  const back = bytesOf(await nextMessage());
  if (!back.equals(binary)) fail(`binary came back as ${back.toString("hex")}`);
  // The largest message the limit allows: one packet of maxPayload bytes on the wire.
  const large = "L".repeat(LIMIT - 1);
  socket.send(large);
  const echo = await nextMessage();
  if (echo !== large) fail(`large message came back with ${echo.length} characters`);
  // Many messages in a row arrive complete and in order.
  for (let n = 0; n < 50; n++) socket.send(`n${n}`);
  for (let n = 0; n < 50; n++) {
    const got = await nextMessage();
    if (got !== `n${n}`) fail(`expected n${n}, got ${got}`);
  }
  done(socket);
}

// A message over maxPayload: the server refuses it and the session ends.
async function overLimit(kind) {
  const socket = open({ transports: transports[kind], upgrade: false });
  await new Promise((resolve) => socket.once("open", resolve));
  socket.on("error", () => {});
  const closed = new Promise((resolve) => socket.once("close", resolve));
  socket.send("O".repeat(LIMIT + 10));
  const reason = await closed;
  console.log(`closed: ${reason}`);
  done();
}

// The client stops answering pings: the server's ping timeout ends the session.
async function noPong(kind) {
  const socket = open({ transports: transports[kind], upgrade: false });
  await new Promise((resolve) => socket.once("open", resolve));
  const send = socket._sendPacket.bind(socket);
  socket._sendPacket = (type, ...rest) => (type === "pong" ? undefined : send(type, ...rest));
  const reason = await new Promise((resolve) => socket.once("close", resolve));
  console.log(`closed: ${reason}`);
  done();
}

// A browser-like client from an origin the server does not allow gets no session.
async function disallowedOrigin(kind) {
  const socket = open({
    transports: transports[kind],
    extraHeaders: { origin: "http://evil.example" },
  });
  socket.once("open", () => fail("a session opened"));
  await new Promise((resolve) => socket.once("error", resolve));
  done();
}

const [name, kind] = scenario.split(":");
const scenarios = {
  exchange,
  "over-limit": overLimit,
  "no-pong": noPong,
  "disallowed-origin": disallowedOrigin,
};
if (!scenarios[name] || !transports[kind]) fail("unknown scenario");
scenarios[name](kind).catch((error) => fail(error?.message ?? String(error)));
