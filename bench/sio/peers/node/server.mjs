// Node socket.io 4.8 peer for the Socket.IO benchmark (bench/sio/README.md).
//
// The contract every server in bench/sio keeps: namespace "/"; event "ack" acks its
// arguments back; event "bcast" with {count, size} broadcasts `count` "tick" events
// carrying a string of `size` bytes to every connected socket, then acks; WebSocket
// transport only; `--host H --port P`; prints "listening on H:P" when ready.
import { createServer } from "node:http";
import { Server } from "socket.io";

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const host = option("--host", "127.0.0.1");
const port = Number(option("--port", "3000"));

const http = createServer();
const io = new Server(http, { transports: ["websocket"] });

io.on("connection", (socket) => {
  socket.on("ack", (...args) => {
    const ack = args.pop();
    if (typeof ack === "function") ack(...args);
  });
  socket.on("bcast", (request, ack) => {
    const count = Number(request?.count) || 0;
    const payload = "x".repeat(Number(request?.size) || 0);
    for (let i = 0; i < count; i++) io.emit("tick", payload);
    if (typeof ack === "function") ack(count);
  });
});

http.listen(port, host, () => console.log(`listening on ${host}:${port}`));
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
