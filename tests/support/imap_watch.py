"""A TCP relay in front of an IMAP server that sees, from the server's side, who uses the mailbox.

pymap runs as its own process, so the tests cannot hook into it; this relay (127.0.0.1:<port>,
plain IMAP) reads the commands and tagged answers that pass through it. A connection becomes
active when the server answers ``OK`` to its ``SELECT``/``EXAMINE`` of the watched folder (only an
authenticated session can select) and stays active until the connection closes: one span per
such session in ``activity``, the client named by ``activity.who``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable

from tests.support.activity import Activity, Span

_LITERAL = re.compile(rb"\{(\d+)\+?\}$")
_COMMAND = re.compile(rb"^(\S+) (SELECT|EXAMINE|LOGIN) ?(.*)$", re.IGNORECASE)


def _lines(buf: bytearray) -> list[bytes]:
    """Complete protocol lines out of ``buf`` (literals skipped), leaving the rest in it."""
    out: list[bytes] = []
    while True:
        end = buf.find(b"\r\n")
        if end < 0:
            return out
        line = bytes(buf[:end])
        m = _LITERAL.search(line)
        if m:  # "... {n}\r\n" + n bytes, then the line goes on: keep only its first part
            n = int(m.group(1))
            if len(buf) < end + 2 + n:
                return out
            rest_end = buf.find(b"\r\n", end + 2 + n)
            if rest_end < 0:
                return out
            del buf[:rest_end + 2]
        else:
            del buf[:end + 2]
        out.append(line)


def _mailbox(arg: bytes) -> str:
    arg = arg.strip()
    if arg.startswith(b'"') and arg.endswith(b'"'):
        arg = arg[1:-1].replace(b'\\"', b'"').replace(b"\\\\", b"\\")
    return arg.decode(errors="replace")


class ImapWatch:
    def __init__(self, upstream_port: int, folder: str) -> None:
        self.upstream_port = upstream_port
        self.folder = folder
        self.port = 0
        self.activity = Activity()
        self.logins = 0  # LOGINs the server accepted
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.Task[None]] = set()

    async def start(self) -> ImapWatch:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for t in list(self._conns):
            t.cancel()
        if self._conns:
            await asyncio.wait(list(self._conns), timeout=2)

    async def _handle(self, cr: asyncio.StreamReader, cw: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        peer, sock = cw.get_extra_info("peername"), cw.get_extra_info("sockname")
        pending: dict[bytes, tuple[str, str]] = {}  # tag -> (command, mailbox)
        span: Span | None = None
        try:
            sr, sw = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            cw.close()
            self._conns.discard(task)
            return

        def from_client(line: bytes) -> None:
            m = _COMMAND.match(line)
            if m:
                pending[m.group(1)] = (m.group(2).upper().decode(), _mailbox(m.group(3)))

        def from_server(line: bytes) -> None:
            nonlocal span
            tag, _, rest = line.partition(b" ")
            if tag not in pending:
                return
            command, mailbox = pending.pop(tag)
            if not rest.upper().startswith(b"OK"):
                return
            if command == "LOGIN":
                self.logins += 1
            elif span is None and mailbox == self.folder:
                span = self.activity.begin(peer, sock)

        async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                       parse: Callable[[bytes], None]) -> None:
            buf = bytearray()
            try:
                while data := await reader.read(65536):
                    buf += data
                    for line in _lines(buf):
                        parse(line)
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                for w in (cw, sw):
                    with contextlib.suppress(Exception):
                        w.close()

        try:
            await asyncio.gather(pump(cr, sw, from_client), pump(sr, cw, from_server))
        finally:
            if span is not None:
                self.activity.end(span)
            self._conns.discard(task)
