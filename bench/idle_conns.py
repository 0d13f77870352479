#!/usr/bin/env python3
"""Hold many idle keep-alive connections open against a local HTTP server.

Each connection sends one `GET /` request, reads the response, then stays open
and idle. When all are open the script prints one line

    READY {"opened": N, "failed": F, "connect_seconds": S}

to stdout, holds the connections for --hold seconds, prints

    DONE {"opened": N, "alive_after_hold": A, ...}

closes everything and exits. It is bounded: at most --conns connections, at
most --timeout seconds in all, and loopback addresses only.

usage: idle_conns.py --port PORT [--host 127.0.0.1] [--conns 10000] [--hold 5]
"""

import argparse
import asyncio
import ipaddress
import json
import resource
import sys
import time


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return soft
    for limit in ((max(want, hard), max(want, hard)), (min(want, hard), hard)):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, limit)
            return limit[0]
        except (ValueError, OSError):
            pass
    return soft


async def read_response(reader):
    """Reads one response with a Content-Length body (what `GET /` returns)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0]
    if not status.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"unexpected status {status!r}")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)


async def open_one(host, port, request, gate, conns, errors):
    async with gate:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
            writer.write(request)
            await asyncio.wait_for(read_response(reader), 10)
            conns.append((reader, writer))
        except Exception as e:  # noqa: BLE001 - counted and reported
            errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1


async def run(args):
    request = f"GET / HTTP/1.1\r\nHost: {args.host}:{args.port}\r\n\r\n".encode()
    gate = asyncio.Semaphore(args.concurrency)
    conns, errors = [], {}
    start = time.monotonic()
    await asyncio.gather(
        *(open_one(args.host, args.port, request, gate, conns, errors) for _ in range(args.conns))
    )
    connect_seconds = time.monotonic() - start
    ready = {
        "opened": len(conns),
        "failed": args.conns - len(conns),
        "errors": errors,
        "connect_seconds": round(connect_seconds, 2),
    }
    print("READY " + json.dumps(ready), flush=True)
    try:
        await asyncio.sleep(args.hold)
        # The transports keep reading while idle, so a connection the server
        # closed shows up as EOF on its reader.
        alive = sum(1 for reader, _ in conns if not reader.at_eof())
        print("DONE " + json.dumps({**ready, "alive_after_hold": alive, "hold_seconds": args.hold}), flush=True)
    finally:
        for _, writer in conns:
            writer.close()
        await asyncio.gather(*(w.wait_closed() for _, w in conns), return_exceptions=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--conns", type=int, default=10000)
    parser.add_argument("--hold", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=256, help="connects in flight at once")
    parser.add_argument("--timeout", type=float, default=120.0, help="hard limit for the whole run")
    args = parser.parse_args()
    if not ipaddress.ip_address(args.host).is_loopback:
        parser.error("only loopback addresses (127.0.0.0/8, ::1) are allowed")
    if not 0 < args.conns <= 60000:
        parser.error("--conns must be between 1 and 60000")
    limit = raise_nofile(args.conns + 256)
    if limit < args.conns + 16:
        print(f"warning: RLIMIT_NOFILE is {limit}, fewer than {args.conns} connections will open", file=sys.stderr)
    try:
        asyncio.run(asyncio.wait_for(run(args), args.timeout + args.hold))
    except asyncio.TimeoutError:
        print(f"idle_conns: gave up after {args.timeout + args.hold:.0f} s", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
