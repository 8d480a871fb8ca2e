"""Hostile mail through the real IMAP peer (pymap): a pathological or oversize mail is handled once,
the checkpoint moves past it and the next mail is ingested; an oversize mail is never fetched whole."""

from __future__ import annotations

from typing import Any

import pytest

from channels.email.mime import MAX_MIME_STRUCTURES
from channels.email.tests.pathological import MAILS, nested
from channels.email.tests.peers import CuttingProxy, PymapServer
from channels.email.tests.test_imap import (  # noqa: F401  (pymap_server: the module's pymap fixture)
    FIXTURES,
    Mailbox,
    break_parser_on_one_mail,
    checkpoint_key,
    pymap_server,
    stored,
    until,
)

MB = 1024 * 1024
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@pytest.fixture
def mailbox(pymap_server: PymapServer) -> Mailbox:  # noqa: F811
    return Mailbox(pymap_server)


async def _highest_uid(mailbox: Mailbox, folder: str) -> int:
    return max(await mailbox.uids(folder))


async def _checkpoint_at(r: Any, gw: Any, uid: int) -> bool:
    ck = await r.hgetall(checkpoint_key(gw.settings))
    return bool(ck) and int(ck[b"last_uid"]) >= uid


@pytest.mark.parametrize("name", ["separator lines", "forward Date: 1 + spaces", "forward blocks repeated",
                                  "deeply nested multiparts"])
async def test_pathological_mail_then_a_normal_one(make_gateway, r, mailbox, pymap_server, name):  # noqa: F811
    # pymap parses what is appended and is itself slow on deep nesting: that mail is kept smaller here
    # (test_pathological proves our parser linear at 1 MB for it)
    make = (lambda _n: nested(4 * MAX_MIME_STRUCTURES)) if name == "deeply nested multiparts" else MAILS[name]
    hostile = make(MB).replace(b"<patho@example.id>", f"<patho-{name.replace(' ', '-')}@x.id>".encode())
    await mailbox.append(raw=hostile)
    await mailbox.append("citizen-plain.eml")
    last = await _highest_uid(mailbox, mailbox.folder)
    gw = await make_gateway(**mailbox.settings(pymap_server.port))
    await until(lambda: _count(r, 2), timeout=60, what="the hostile mail and the normal one")
    await until(lambda: _checkpoint_at(r, gw, last), what="checkpoint past both")
    await until(lambda: _empty(mailbox), what="both archived")
    hostile_msg, normal = await stored(r)
    assert normal["sender"]["email"] == "budi.santoso@gmail.com" and normal["flags"] == []
    assert hostile_msg["sender"]["email"] in ("budi.santoso@gmail.com", "siti@example.id", "a@example.id")
    if name == "deeply nested multiparts":
        assert "decode_error" in hostile_msg["flags"] and hostile_msg["meta"]["mime_limited"]
    assert await r.xlen("lapor:quarantine") == 0


async def test_oversize_mail_is_a_flagged_stub_not_fetched_whole(make_gateway, r, mailbox, pymap_server):  # noqa: F811
    cap = 256 * 1024
    big = (b"From: Ani <ani@example.id>\r\nTo: pengaduan@lapor.go.id\r\nSubject: Foto jalan rusak\r\n"
           b"Message-ID: <big-1@example.id>\r\nDate: Mon, 1 Dec 2025 10:00:00 +0700\r\n"
           b"Content-Type: text/plain\r\n\r\n" + b"x" * 76 + b"\r\n") * 1 + (b"y" * 76 + b"\r\n") * (MB // 78)
    await mailbox.append(raw=big)
    await mailbox.append("citizen-plain.eml")
    last = await _highest_uid(mailbox, mailbox.folder)
    proxy = await CuttingProxy(pymap_server.port).start()
    try:
        gw = await make_gateway(**mailbox.settings(proxy.port, imap_max_message_bytes=cap))
        await until(lambda: _count(r, 2), what="the stub and the normal mail")
        await until(lambda: _checkpoint_at(r, gw, last), what="checkpoint past both")
        await until(lambda: _empty(mailbox), what="both archived")
        assert proxy.server_bytes < cap  # the 1 MB mail never crossed the wire
        assert b"RFC822.SIZE" in bytes(proxy.client_bytes)
    finally:
        await proxy.stop()
    stub, normal = await stored(r)
    assert stub["flags"] == ["truncated"] and stub["sender"]["email"] == "ani@example.id"
    assert stub["meta"]["oversize"]["size"] > MB and stub["meta"]["oversize"]["limit"] == cap
    assert stub["title"] == "Foto jalan rusak" and stub["meta"]["imap"]["folder"] == mailbox.folder
    assert normal["sender"]["email"] == "budi.santoso@gmail.com"
    archived = await mailbox.uids(mailbox.done)
    assert len(archived) == 2  # the oversize mail is kept, in the processed folder, for an admin


async def test_oversize_stub_reaches_the_core_valid(make_gateway, rsync, mailbox, pymap_server):  # noqa: F811
    import asyncio

    from tests.support.core import wait_for_records

    big = (b"From: Ani <ani@example.id>\r\nTo: pengaduan@lapor.go.id\r\nSubject: Foto jalan rusak\r\n"
           b"Message-ID: <big-2@example.id>\r\n\r\n" + b"z" * 200_000)
    await mailbox.append(raw=big)
    gw = await make_gateway(**mailbox.settings(pymap_server.port, imap_max_message_bytes=64 * 1024))
    await gw.start_worker(senders={})
    (rec,) = await asyncio.to_thread(wait_for_records, rsync, 1, 15.0)  # validates against the contract
    assert "truncated" in rec["flags"] and rec["reporter"]["email"] == "ani@example.id"


def test_fixtures_exist() -> None:
    assert (FIXTURES / "citizen-plain.eml").exists() and nested(2)


async def _count(r: Any, n: int) -> bool:
    return int(await r.xlen("lapor:inbound")) >= n


async def _empty(mailbox: Mailbox) -> bool:
    return not await mailbox.uids(mailbox.folder)


async def test_a_failing_mail_is_quarantined_once_when_its_batch_is_retried(
        make_gateway, r, mailbox, pymap_server, monkeypatch):  # noqa: F811
    break_parser_on_one_mail(monkeypatch)
    await mailbox.append("no-message-id.eml", "citizen-plain.eml")
    gw = await make_gateway(**mailbox.settings(pymap_server.port))
    real_accept = gw.ctx.intake.accept
    failures: list[int] = []

    async def accept_failing_once(*a: Any, **kw: Any) -> Any:
        if not failures:
            failures.append(1)
            raise ConnectionError("Redis went away")  # the whole batch is fetched and parsed again
        return await real_accept(*a, **kw)

    monkeypatch.setattr(gw.ctx.intake, "accept", accept_failing_once)
    await until(lambda: _count(r, 1), what="the good mail, after the retry")
    await until(lambda: _empty(mailbox), what="both archived")
    assert failures == [1]
    (_id, q), = await r.xrange("lapor:quarantine")
    assert b"parser bug" in q[b"reason"] and b"uid " in q[b"reason"]
    assert await r.xlen("lapor:inbound") == 1
