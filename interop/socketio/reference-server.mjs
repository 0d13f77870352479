// The Socket.IO interop contract (see README.md in this folder) implemented with the npm
// `socket.io` 4.8 server: the reference the client scripts are proven against before
// they are pointed at carafe. Usage:
//
//   node reference-server.mjs [--recovery]
//
// Listens on 127.0.0.1 at a free port and prints {"listening": PORT} as its first line.
// `--recovery` turns on connection state recovery (the `recovery` scenario needs it).
// Runs until killed.

import { createServer } from "node:http";
import { Server } from "socket.io";

const recovery = process.argv.includes("--recovery");
const httpServer = createServer();
const io = new Server(httpServer, {
  pingInterval: 2000,
  pingTimeout: 1000,
  ...(recovery
    ? { connectionStateRecovery: { maxDisconnectionDuration: 30_000, skipMiddlewares: true } }
    : {}),
});

// What the server saw, by socket id (and `refused:<auth.user>` for connections the
// middleware refused), answered to the `report` event.
const reports = new Map();

function report(key) {
  if (!reports.has(key)) {
    reports.set(key, { connects: 0, events: {}, ackTimeouts: 0, disconnects: [], refused: [] });
  }
  return reports.get(key);
}

function rooms(socket) {
  return [...socket.rooms].filter((room) => room !== socket.id).sort();
}

// The last argument, when it is the ack callback.
function ackOf(args) {
  return typeof args[args.length - 1] === "function" ? args.pop() : () => {};
}

function contract(nsp) {
  nsp.on("connection", (socket) => {
    const seen = report(socket.id);
    seen.connects += 1;
    socket.onAny((event) => {
      if (event !== "report") seen.events[event] = (seen.events[event] ?? 0) + 1;
    });
    socket.on("disconnect", (reason) => seen.disconnects.push(reason));
    socket.emit("welcome", {
      id: socket.id,
      nsp: nsp.name,
      auth: socket.handshake.auth,
      recovered: socket.recovered,
    });

    socket.on("echo", (...args) => ackOf(args)(...args));
    socket.on("emit-back", (...args) => {
      ackOf(args);
      socket.emit("echo-back", ...args);
    });
    socket.on("whoami", (...args) => ackOf(args)({ id: socket.id, nsp: nsp.name }));
    socket.on("ask", async (payload, ack) => {
      try {
        ack(await socket.timeout(3000).emitWithAck("question", payload));
      } catch (error) {
        ack({ error: error.message });
      }
    });
    socket.on("ask-unanswered", (ms, ack) => {
      socket.timeout(ms).emit("question-unanswered", "no answer expected", (error) => {
        if (error) seen.ackTimeouts += 1;
        ack(error ? "timeout" : "answered");
      });
    });
    socket.on("never-ack", () => {});
    socket.on("join", (room, ack) => {
      socket.join(room);
      ack(rooms(socket));
    });
    socket.on("leave", (room, ack) => {
      socket.leave(room);
      ack(rooms(socket));
    });
    socket.on("tell", ({ room, except, msg }, ack) => {
      const to = except ? socket.to(room).except(except) : socket.to(room);
      to.emit("told", msg);
      nsp.emit("sync", msg);
      ack("told");
    });
    socket.on("shout", (msg, ack) => {
      socket.broadcast.emit("shouted", msg);
      nsp.emit("sync", msg);
      ack("shouted");
    });
    socket.on("announce", (msg, ack) => {
      nsp.emit("announced", msg);
      nsp.emit("sync", msg);
      ack("announced");
    });
    socket.on("disconnect-me", () => socket.disconnect());
    socket.on("report", (key, ack) => ack(reports.get(key) ?? null));
  });
}

contract(io.of("/"));
contract(io.of("/admin"));
const secret = io.of("/private");
secret.use((socket, next) => {
  const auth = socket.handshake.auth ?? {};
  if (auth.token === "let-me-in") return next();
  report(`refused:${auth.user}`).refused.push(secret.name);
  const error = new Error("not authorized");
  error.data = { reason: "bad token" };
  next(error);
});
contract(secret);

httpServer.listen(0, "127.0.0.1", () => {
  console.log(JSON.stringify({ listening: httpServer.address().port }));
});
