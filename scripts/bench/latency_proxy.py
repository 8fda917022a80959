#!/usr/bin/env python3
"""A loopback HTTP/1.1 proxy that puts a network's distance between a client and the emulator:
every request is held N ms before it is forwarded (one round trip to a region N ms away).
Used by scripts/bench.sh --latency; standard library only.

  latency_proxy.py --upstream HOST:PORT --delay-ms N --port-file FILE --events FILE

`Expect: 100-continue` is answered at once with `100 Continue`, as S3 does (the body then
follows without waiting for a round trip; the request as a whole is still delayed). Client
connections are kept open as S3 keeps them (the emulator closes each after one answer; the
proxy opens a new one upstream instead), so connection reuse is what s3doctor makes of it. Each new
client connection and each request is appended to --events as one JSON line (time, connection
number, method, path, service), so the caller can count connections (on HTTPS each is a TLS
handshake) and requests per run. The port it listens on is written to --port-file.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import json
import time

HOP_BY_HOP = {b"expect"}

async def read_head(reader: asyncio.StreamReader) -> bytes | None:
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None

def header(head: bytes, name: bytes) -> bytes | None:
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == name:
            return v.strip()
    return None

async def read_chunked(reader: asyncio.StreamReader) -> bytes:
    """A chunked body, kept chunked (it is forwarded as it came)."""
    out = bytearray()
    while True:
        size_line = await reader.readuntil(b"\r\n")
        out += size_line
        size = int(size_line.split(b";")[0].strip(), 16)
        if size == 0:
            # trailers, then the empty line
            while True:
                line = await reader.readuntil(b"\r\n")
                out += line
                if line == b"\r\n":
                    return bytes(out)
        out += await reader.readexactly(size + 2)

async def read_body(reader: asyncio.StreamReader, head: bytes, to_eof: bool) -> bytes:
    if (header(head, b"transfer-encoding") or b"").lower().endswith(b"chunked"):
        return await read_chunked(reader)
    length = header(head, b"content-length")
    if length is not None:
        return await reader.readexactly(int(length))
    return await reader.read() if to_eof else b""

def service_of(head: bytes, body: bytes) -> str:
    """STS and IAM post form queries to `/`; everything else here is S3."""
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    method, path = (line.split(" ") + ["", ""])[:2]
    if method == "POST" and path.split("?")[0] == "/":
        text = body.decode("latin-1", "replace")
        if "Action=GetCallerIdentity" in text or "Action=AssumeRole" in text:
            return "sts"
        return "iam"
    return "s3"

def keep_alive(response: bytes) -> bytes:
    """The emulator (Werkzeug) closes every connection after one answer; S3 keeps them open.
    The client sees S3's habit: no `Connection: close`, and a length on every body."""
    head, _, body = response.partition(b"\r\n\r\n")
    lines = [l for l in head.split(b"\r\n") if l.split(b":")[0].strip().lower() != b"connection"]
    framed = header(head, b"content-length") is not None or header(head, b"transfer-encoding") is not None
    if not framed and body:
        lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


class Proxy:
    def __init__(self, upstream: str, delay_s: float, events) -> None:
        host, _, port = upstream.rpartition(":")
        self.up_host, self.up_port = host or "127.0.0.1", int(port)
        self.delay_s = delay_s
        self.events = events
        self.numbers = itertools.count(1)

    def event(self, **fields) -> None:
        fields["t"] = round(time.time(), 6)
        self.events.write(json.dumps(fields) + "\n")
        self.events.flush()

    async def serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        conn = next(self.numbers)
        self.event(kind="connection", conn=conn)
        up: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while True:
                head = await read_head(client_r)
                if head is None:
                    return
                received = time.monotonic()
                if (header(head, b"expect") or b"").lower() == b"100-continue":
                    client_w.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                    await client_w.drain()
                body = await read_body(client_r, head, to_eof=False)
                lines = head.split(b"\r\n")
                request_line = lines[0].decode("latin-1")
                kept = [l for l in lines[1:] if l.split(b":")[0].strip().lower() not in HOP_BY_HOP]
                forward = b"\r\n".join([lines[0], *kept])  # ends with the blank line
                method = request_line.split(" ")[0]
                self.event(
                    kind="request",
                    conn=conn,
                    method=method,
                    path=request_line.split(" ")[1] if " " in request_line else "",
                    service=service_of(head, body),
                )
                # One round trip: the request reaches the far side after the delay.
                await asyncio.sleep(max(0.0, self.delay_s - (time.monotonic() - received)))
                for attempt in range(2):
                    if up is None:
                        up = await asyncio.open_connection(self.up_host, self.up_port)
                    try:
                        up[1].write(forward + body)
                        await up[1].drain()
                        response = await self.read_response(up[0], method)
                        break
                    except (ConnectionError, asyncio.IncompleteReadError):
                        up[1].close()
                        up = None
                        if attempt == 1:
                            return
                closes = (header(response.split(b"\r\n\r\n", 1)[0], b"connection") or b"").lower() == b"close"
                client_w.write(keep_alive(response))
                await client_w.drain()
                if closes:
                    up[1].close()
                    up = None
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            if up is not None:
                up[1].close()
            client_w.close()

    async def read_response(self, reader: asyncio.StreamReader, method: str) -> bytes:
        while True:
            head = await read_head(reader)
            if head is None:
                raise ConnectionError("upstream closed")
            status = head.split(b" ", 2)[1]
            if status == b"100":
                continue  # the client had its 100 Continue from us already
            break
        if method == "HEAD" or status in (b"204", b"304"):
            return head
        to_eof = header(head, b"content-length") is None and header(head, b"transfer-encoding") is None
        body = await read_body(reader, head, to_eof=to_eof)
        return head + body

async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="HOST:PORT of the emulator")
    parser.add_argument("--delay-ms", type=float, default=50.0)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--events", required=True)
    args = parser.parse_args()
    with open(args.events, "a", buffering=1) as events:
        proxy = Proxy(args.upstream, args.delay_ms / 1000.0, events)
        server = await asyncio.start_server(proxy.serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        with open(args.port_file + ".tmp", "w") as f:
            f.write(f"{port}\n")

        os.replace(args.port_file + ".tmp", args.port_file)
        async with server:
            await server.serve_forever()

if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
