"""The client side of the Socket.IO interop contract (README.md in this folder) with the
PyPI `python-socketio` client, the client family Flask-SocketIO users know. Usage:

    python3 client.py URL TRANSPORT SCENARIO

TRANSPORT is `websocket`, `polling` or `upgrade` (polling upgraded to WebSocket; the
scenario fails if the upgrade never happens). Prints what it observes as JSON lines and
{"ok": SCENARIO} last, exit 0; on anything unexpected prints {"fail": WHY} and exits 1.
Spawned by crates/carafe-socketio/tests/interop_py.rs and interop/socketio/prove.
"""

import json
import os
import queue
import sys
import threading
import time

try:
    import socketio
except ImportError:
    print("python-socketio is missing: run `make interop-deps`", file=sys.stderr)
    sys.exit(2)

URL, TRANSPORT, SCENARIO = (sys.argv[1:4] + [None, None, None])[:3]
WAIT = 3.0  # the longest any single step may take, in seconds

TRANSPORTS = {
    "websocket": ["websocket"],
    "polling": ["polling"],
    "upgrade": ["polling", "websocket"],
}


def plain(value):
    """Bytes as {"$bytes": hex}, tuples as lists: what both sides print and compare."""
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": bytes(value).hex()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def emit_line(line):
    print(json.dumps(plain(line)), flush=True)


def observe(what, **data):
    emit_line({"observe": what, **data})


def fail(why):
    emit_line({"fail": why, "scenario": SCENARIO, "transport": TRANSPORT})
    print(f"{SCENARIO} over {TRANSPORT}: {why}", file=sys.stderr, flush=True)
    os._exit(1)


def check(condition, why):
    if not condition:
        fail(why)


def same(actual, expected, what):
    a = json.dumps(plain(actual), sort_keys=True)
    e = json.dumps(plain(expected), sort_keys=True)
    check(a == e, f"{what}: expected {e}, got {a}")


class Client:
    """One python-socketio client whose server events are queued by name."""

    def __init__(self, **connect):
        self.sio = socketio.Client(reconnection=False)
        self.queues = {}
        self.lock = threading.Lock()
        self.sio.on("*", self._record)
        self.connect = connect

    def _queue(self, event):
        with self.lock:
            return self.queues.setdefault(event, queue.Queue())

    def _record(self, event, *args):
        self._queue(event).put(args)

    def on(self, event, handler):
        self.sio.on(event, handler)

    def open(self, namespaces=("/",)):
        try:
            self.sio.connect(
                URL,
                transports=TRANSPORTS[TRANSPORT],
                namespaces=list(namespaces),
                wait_timeout=WAIT,
                retry=False,
                **self.connect,
            )
        except socketio.exceptions.ConnectionError as error:
            fail(f"could not connect: {error}")
        return self

    def next(self, event, timeout=WAIT):
        try:
            return self._queue(event).get(timeout=timeout)
        except queue.Empty:
            fail(f'no "{event}" event within {timeout} s')

    def call(self, event, data=None, namespace="/"):
        try:
            return self.sio.call(event, data, namespace=namespace, timeout=WAIT)
        except socketio.exceptions.TimeoutError:
            fail(f'no ack for "{event}" within {WAIT} s')

    def welcome(self, namespace="/"):
        (data,) = self.next("welcome")
        same(data["id"], self.sio.get_sid(namespace), "the welcome names the socket id")
        same(data["nsp"], namespace, "the welcome names the namespace")
        return data

    def report(self, key):
        seen = self.call("report", key)
        observe("report", key=key, seen=seen)
        return seen

    def upgraded(self):
        if TRANSPORT != "upgrade":
            return
        deadline = time.monotonic() + WAIT
        while self.sio.transport() != "websocket" and time.monotonic() < deadline:
            time.sleep(0.05)
        same(self.sio.transport(), "websocket", "the session's transport after the upgrade")
        observe("upgraded", transport=self.sio.transport())

    def close(self):
        self.sio.disconnect()


def connect_auth():
    """The auth payload reaches the server; the server sees the client leave."""
    auth = {"token": "t1", "user": "ana", "n": 7}
    a = Client(auth=auth).open()
    hello = a.welcome()
    observe("welcome", **hello)
    same(hello["auth"], auth, "the server got the auth payload")
    a.upgraded()
    sid = a.sio.get_sid("/")
    a.close()
    b = Client(auth={"user": "bo"}).open()
    b.welcome()
    seen = b.report(sid)
    for _ in range(20):
        if seen["disconnects"]:
            break
        time.sleep(0.05)
        seen = b.report(sid)
    # python-socketio queues DISCONNECT and closes the Engine.IO session right after it:
    # Node sees the transport close first.
    check(
        seen["disconnects"] in (["client namespace disconnect"], ["transport close"]),
        f"the server's disconnect reason: {seen['disconnects']}",
    )
    b.close()


def events():
    """Events both ways, with binary and several arguments."""
    a = Client().open()
    a.welcome()
    blob = bytes([0, 1, 2, 253, 254, 255])
    nested = {"name": "file", "parts": [blob, {"inner": b"deux"}], "n": 1}
    a.sio.emit("emit-back", ("text", blob, nested))
    same(list(a.next("echo-back")), ["text", blob, nested], "a server event with buffers")
    a.upgraded()
    a.sio.emit("emit-back", "after upgrade")
    same(a.next("echo-back"), ("after upgrade",), "an event after the upgrade")
    a.close()


def order():
    """Events sent in a row are handled in order: their answers come back in order."""
    a = Client().open()
    a.welcome()
    a.upgraded()
    # At most 10: python-engineio refuses a polling payload of more than 16 packets
    # (Payload.max_decode_packets) and servers batch whatever is queued into one payload.
    for n in range(10):
        a.sio.emit("emit-back", n)
    got = [a.next("echo-back")[0] for _ in range(10)]
    observe("order", got=got)
    same(got, list(range(10)), "echo-back order")
    a.close()


def acks():
    """Acks both ways: the client's calls, and the server's emit acked by a handler."""
    a = Client().open()
    a.welcome()
    same(a.call("echo", "hello"), "hello", "one argument acked")
    same(a.call("echo", ("x", 1, {"y": [True, None]})), ["x", 1, {"y": [True, None]}], "several arguments")
    blob = bytes(range(256))
    same(a.call("echo", blob), blob, "a binary ack")
    questions = []

    def question(payload):
        questions.append(payload)
        return {"answer": payload["n"] * 2}

    a.on("question", question)
    same(a.call("ask", {"n": 21}), {"answer": 42}, "the client's ack reached the server")
    same(questions, [{"n": 21}], "the server's question")
    a.upgraded()
    for n in range(10):
        same(a.call("echo", n), n, "acks in a row")
    a.close()


def rooms():
    """Rooms: join, to(room), to(room).except(room), leave."""
    a, b, c = (Client(auth={"user": name}).open() for name in "abc")
    for client in (a, b, c):
        client.welcome()
    same(a.call("join", "red"), ["red"], "a's rooms")
    b.call("join", "red")
    same(b.call("join", "blue"), ["blue", "red"], "b's rooms")
    same(c.call("join", "blue"), ["blue"], "c's rooms")
    clients = {"a": a, "b": b, "c": c}

    def tell(sender, what):
        same(sender.call("tell", what), "told", "tell acked")
        got = {}
        for name, client in clients.items():
            same(client.next("sync"), (what["msg"],), "sync")
            got[name] = []
            while not client._queue("told").empty():
                got[name].extend(client.next("told"))
        return got

    same(tell(c, {"room": "red", "msg": "m1"}), {"a": ["m1"], "b": ["m1"], "c": []}, "to(red) from c")
    same(
        tell(c, {"room": "red", "except": "blue", "msg": "m2"}),
        {"a": ["m2"], "b": [], "c": []},
        "to(red).except(blue) from c",
    )
    same(a.call("leave", "red"), [], "a's rooms after leaving red")
    same(tell(c, {"room": "red", "msg": "m3"}), {"a": [], "b": ["m3"], "c": []}, "to(red) after a left")
    for client in (a, b, c):
        client.upgraded()
        client.close()


SCENARIOS = {
    "connect-auth": connect_auth,
    "events": events,
    "order": order,
    "acks": acks,
    "rooms": rooms,
}

if __name__ == "__main__":
    if TRANSPORT not in TRANSPORTS:
        fail(f"unknown transport {TRANSPORT} (websocket, polling or upgrade)")
    if SCENARIO not in SCENARIOS:
        fail(f"unknown scenario {SCENARIO} ({', '.join(SCENARIOS)})")
    watchdog = threading.Timer(20, lambda: fail("timed out"))
    watchdog.daemon = True
    watchdog.start()
    try:
        SCENARIOS[SCENARIO]()
    except Exception as error:  # anything unexpected is a failed scenario, said plainly
        fail(f"{type(error).__name__}: {error}")
    emit_line({"ok": SCENARIO, "transport": TRANSPORT})
    os._exit(0)
