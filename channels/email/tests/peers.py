"""Real protocol peers on loopback for the email tests: pymap (IMAP, in-memory) and a TCP proxy
that can cut a connection at a chosen moment (to prove nothing is lost or doubled)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from imapclient import IMAPClient

IMAP_USER = "pengaduan@lapor.go.id"
IMAP_PASSWORD = "rahasia-imap"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PymapServer:
    """``pymap dict`` (in-memory backend) as a subprocess on 127.0.0.1."""

    def __init__(self, log_dir: Path, cert: tuple[Path, Path] | None = None) -> None:
        self.port = free_port()
        self.log_path = log_dir / "pymap.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.tls_args = ["--cert", str(cert[0]), "--key", str(cert[1])] if cert else ["--no-tls"]

    def start(self) -> PymapServer:
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from pymap.main import main; main()", "--host", "127.0.0.1",
             "--port", str(self.port), *self.tls_args,
             "dict", "--demo-user", IMAP_USER, "--demo-password", IMAP_PASSWORD],
            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pymap exited: {self.log_path.read_text()[-2000:]}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return self
            time.sleep(0.1)
        raise RuntimeError("pymap did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def client(self, cafile: Path | None = None) -> IMAPClient:
        c = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        if cafile is not None:
            c.starttls(ssl.create_default_context(cafile=str(cafile)))
        c.login(IMAP_USER, IMAP_PASSWORD)
        return c


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 made with the openssl command line (the test's private CA)."""
    cert, key = directory / "imap-cert.pem", directory / "imap-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


class CuttingProxy:
    """TCP proxy 127.0.0.1:<port> → upstream; ``cut_on(pattern)`` drops the next connection whose
    server→client (``from_server=True``) or client→server bytes contain ``pattern``, once."""

    def __init__(self, upstream_port: int, tls: ssl.SSLContext | None = None) -> None:
        self.upstream_port = upstream_port
        self.tls = tls  # terminate TLS here (implicit TLS, as on port 993) in front of a plain server
        self.port = 0
        self.server: asyncio.base_events.Server | None = None
        self._cut: tuple[bytes, bool] | None = None
        self.cuts = 0
        self.connections = 0
        self._writers: list[asyncio.StreamWriter] = []
        self.client_bytes = bytearray()  # everything the client sent (to count commands)
        self.server_bytes = 0  # how many bytes the server sent (to prove a mail was not fetched whole)
        self.hide_capability: bytes | None = None  # e.g. b" IDLE": the client never sees it

    def cut_on(self, pattern: bytes, *, from_server: bool = True) -> None:
        self._cut = (pattern, from_server)

    async def start(self) -> CuttingProxy:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.tls)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self.server:
            self.server.close()
        for w in self._writers:
            w.close()

    async def _handle(self, cr: asyncio.StreamReader, cw: asyncio.StreamWriter) -> None:
        self.connections += 1
        sr, sw = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        self._writers += [cw, sw]
        done = asyncio.Event()

        async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, from_server: bool,
                       on_cut: Callable[[], None]) -> None:
            try:
                while not done.is_set():
                    data = await reader.read(65536)
                    if not data:
                        break
                    if from_server:
                        self.server_bytes += len(data)
                    if not from_server:
                        self.client_bytes += data
                    elif self.hide_capability:
                        data = data.replace(self.hide_capability, b"")
                    cut = self._cut
                    if cut is not None and cut[1] == from_server and cut[0] in data:
                        self._cut = None
                        self.cuts += 1
                        writer.write(data[: max(1, data.index(cut[0]) + len(cut[0]) // 2)])  # half of it
                        await writer.drain()
                        on_cut()
                        break
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                done.set()
                for w in (cw, sw):
                    with contextlib.suppress(Exception):
                        w.close()

        def abort() -> None:
            for w in (cw, sw):
                with contextlib.suppress(Exception):
                    w.transport.abort()

        await asyncio.gather(pump(sr, cw, True, abort), pump(cr, sw, False, abort))


class SmtpSink:
    """aiosmtpd on 127.0.0.1 with AUTH (user ``lapor``): records every accepted mail.

    ``refuse[address] = [codes…]`` answers RCPT for that address with those codes in turn
    (e.g. ``[451]`` then accept), to exercise retries and permanent failures."""

    USER, PASSWORD = "lapor", "smtp-rahasia"

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.port = free_port()
        self.received: list[tuple[str, list[str], bytes]] = []
        self.refuse: dict[str, list[int]] = {}
        self.auth_ok = 0

        sink = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                codes = sink.refuse.get(address.lower())
                if codes:
                    code = codes.pop(0)
                    return f"{code} {'5.1.1 no such user' if code >= 500 else '4.7.1 try again later'}"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                sink.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
                return "250 Message accepted for delivery"

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (getattr(auth_data, "login", b"") == sink.USER.encode()
                  and getattr(auth_data, "password", b"") == sink.PASSWORD.encode())
            sink.auth_ok += int(ok)
            return AuthResult(success=ok)

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, authenticator=authenticator,
                                     auth_require_tls=False, auth_required=True)

    @property
    def url(self) -> str:
        return f"smtp://{self.USER}:{self.PASSWORD}@127.0.0.1:{self.port}"

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
