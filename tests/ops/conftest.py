"""Fixtures of the operations tests: a clean metric buffer, a self-signed certificate, loopback aliases."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway import metrics


@pytest.fixture(autouse=True)
def _clean_metric_buffer() -> Iterator[None]:
    metrics._buf = metrics._Buffer()
    yield
    metrics._buf = metrics._Buffer()


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for localhost / 127.0.0.1 (openssl)."""
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class _PlainMailbox:
    """An SMTP server without STARTTLS that would accept AUTH in clear and records every attempt."""

    def __init__(self) -> None:
        self.messages: list[object] = []
        self.auth_attempts: list[object] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(envelope)
        return "250 OK"

    def authenticate(self, server: object, session: object, envelope: object, mechanism: str,
                     auth_data: object) -> object:
        from aiosmtpd.smtp import AuthResult

        self.auth_attempts.append(auth_data)
        return AuthResult(success=True)


@pytest.fixture
def smtp_plain() -> Iterator[tuple[str, _PlainMailbox]]:
    from aiosmtpd.controller import Controller

    from tests.support.redis_proc import free_port

    box = _PlainMailbox()
    port = free_port()
    ctl = Controller(box, hostname="127.0.0.1", port=port, authenticator=box.authenticate,
                     auth_require_tls=False)
    ctl.start()
    yield f"smtp://127.0.0.1:{port}", box
    ctl.stop()
