"""A raw HTTP/1.1 client: sends header bytes exactly as given (non-ASCII, non-UTF-8, huge),
which ``aiohttp``'s client would normalise or refuse."""

from __future__ import annotations

import asyncio
import contextlib


async def raw_request(port: int, method: str, target: bytes, headers: list[tuple[bytes, bytes]],
                      body: bytes = b"", timeout: float = 30) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        head = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close",
                b"Content-Length: " + str(len(body)).encode()]
        head += [name + b": " + value for name, value in headers]
        writer.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()
    status_line, _, rest = data.partition(b"\r\n")
    _headers, _, payload = rest.partition(b"\r\n\r\n")
    return int(status_line.split()[1]), payload


def exchange(port: int, data: bytes, timeout: float = 30) -> bytes:
    """Send ``data`` while reading, as a careful client does: a server that answers early (a 4xx
    for an over-long request line) and closes may reset the connection before we finish writing;
    whatever it answered before that is returned (blocking; run it in a thread from async code)."""
    import select
    import socket
    import time

    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setblocking(False)
    got, sent, deadline = bytearray(), 0, time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            want_write = [sock] if sent < len(data) else []
            readable, writable, _ = select.select([sock], want_write, [], 0.5)
            try:
                if readable:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    got += chunk
                if writable:
                    sent += sock.send(data[sent:sent + 65536])
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:  # reset: keep what was answered
                break
    finally:
        sock.close()
    return bytes(got)
