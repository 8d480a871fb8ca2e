"""Pathological mails for the linear-time tests: each construction that once made a parser quadratic.

``MAILS[name](n)`` is a raw message of about ``n`` bytes built from one hostile pattern.
"""

from __future__ import annotations

from collections.abc import Callable

HEAD = (b"From: Budi Santoso <budi.santoso@gmail.com>\r\nTo: pengaduan@lapor.go.id\r\n"
        b"Subject: Fwd: laporan\r\nDate: Mon, 1 Dec 2025 10:00:00 +0700\r\n")
FORWARD = b"---------- Forwarded message ---------\r\n"


def plain(body: bytes, subject: bytes = b"Fwd: laporan", message_id: bytes = b"<patho@example.id>") -> bytes:
    head = HEAD.replace(b"Fwd: laporan", subject)
    return head + b"Message-ID: " + message_id + b"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body


def nested(levels: int) -> bytes:
    opening = b"".join(b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1)
                       for i in range(levels))
    core = b"--b%d\r\nContent-Type: text/plain\r\n\r\nJalan rusak\r\n--b%d--\r\n" % (levels, levels)
    closing = b"".join(b"--b%d--\r\n" % i for i in reversed(range(levels)))
    return (HEAD + b"Message-ID: <nested@example.id>\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=b0\r\n\r\n" + opening + core + closing)


def _fill(unit: bytes, n: int) -> bytes:
    return unit * max(1, n // len(unit))


MAILS: dict[str, Callable[[int], bytes]] = {
    "separator lines": lambda n: plain(_fill(b"__________\r\n", n)),
    "forward Date: 1 + spaces": lambda n: plain(FORWARD + b"From: Siti <siti@example.id>\r\nDate: 1"
                                                + b" " * n + b"x\r\n\r\nisi laporan"),
    "forward date of many times": lambda n: plain(FORWARD + b"From: Siti <siti@example.id>\r\nDate: "
                                                  + _fill(b"1.10 at ", n) + b"x\r\n\r\nisi"),
    "run of spaces": lambda n: plain(b"a" + b" " * n + b"b"),
    "run of tabs": lambda n: plain(b"a" + b"\t" * n + b"b"),
    "run of quote markers": lambda n: plain(b">" * n),
    "quoted lines": lambda n: plain(_fill(b"> x\r\n", n)),
    "run of dashes": lambda n: plain(b"-" * n),
    "dash and space line": lambda n: plain(b"-" * (n // 2) + b" " * (n // 2) + b"x"),
    "signature delimiters": lambda n: plain(_fill(b"--\r\n", n)),
    "forward markers repeated": lambda n: plain(_fill(FORWARD, n)),
    "forward blocks repeated": lambda n: plain(_fill(FORWARD + b"From: A <a@example.id>\r\n\r\n", n)),
    "Apple forward markers": lambda n: plain(_fill(b"Begin forwarded message:\r\n\r\n", n)),
    "attribution-like lines": lambda n: plain(_fill(b"On " + b"a" * 150 + b"\r\n", n)),
    "huge single line": lambda n: plain(b"x" * n),
    "reply prefix + spaces in Subject": lambda n: plain(b"isi", subject=b"Re" + b" " * n + b"x"),
    "encoded words in Subject": lambda n: plain(b"isi", subject=_fill(b"=?a?q?x ", n)),
    "huge Content-Type": lambda n: HEAD + b"Content-Type: text/plain; " + _fill(b"a=b; ", n) + b"\r\n\r\nisi",
    "deeply nested multiparts": lambda n: nested(n // 80),
}
