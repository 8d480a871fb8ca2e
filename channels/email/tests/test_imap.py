"""IMAP poller against a real IMAP server (pymap, in-memory) on loopback, through the real gateway."""

from __future__ import annotations

import asyncio
import itertools
import ssl
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis.exceptions
from imapclient import SEEN

from channels.email.imap import checkpoint_key
from channels.email.tests.peers import (
    IMAP_PASSWORD,
    IMAP_USER,
    CuttingProxy,
    PymapServer,
    SmtpSink,
    self_signed_cert,
)
from tests.support.core import wait_for_records

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
_folders = itertools.count(1)


@pytest.fixture(scope="module")
def pymap_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PymapServer]:
    server = PymapServer(tmp_path_factory.mktemp("pymap")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tls_pymap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PymapServer, Path]]:
    d = tmp_path_factory.mktemp("pymap-tls")
    cert, key = self_signed_cert(d)
    server = PymapServer(d, cert=(cert, key)).start()
    yield server, cert
    server.stop()


class Mailbox:
    """Test-side access to one folder pair of the pymap account (a fresh pair per test)."""

    def __init__(self, server: PymapServer, cafile: Path | None = None) -> None:
        n = next(_folders)
        self.server = server
        self.cafile = cafile
        self.folder = f"Pengaduan{n}"
        self.done = f"Arsip{n}/Processed"
        self._run(lambda c: c.create_folder(self.folder))

    def _run(self, fn: Callable[[Any], Any]) -> Any:
        c = self.server.client(self.cafile)
        try:
            return fn(c)
        finally:
            c.logout()

    async def append(self, *names: str, raw: bytes | None = None) -> None:
        def go(c: Any) -> None:
            for name in names:
                c.append(self.folder, (FIXTURES / name).read_bytes().replace(b"\n", b"\r\n"))
            if raw is not None:
                c.append(self.folder, raw)
        await asyncio.to_thread(self._run, go)

    async def uids(self, folder: str) -> dict[int, tuple[bytes, ...]]:
        def go(c: Any) -> dict[int, tuple[bytes, ...]]:
            if not c.folder_exists(folder):
                return {}
            c.select_folder(folder, readonly=True)
            found = c.search("ALL")
            return {u: d[b"FLAGS"] for u, d in c.fetch(found, ["FLAGS"]).items()} if found else {}
        return await asyncio.to_thread(self._run, go)

    async def recreate(self) -> None:
        """Delete and create the folder again: the server gives it a new UIDVALIDITY."""
        def go(c: Any) -> None:
            c.delete_folder(self.folder)
            c.create_folder(self.folder)
        await asyncio.to_thread(self._run, go)

    def settings(self, port: int, **kw: Any) -> dict[str, Any]:
        base = dict(imap_host="127.0.0.1", imap_port=port, imap_user=IMAP_USER, imap_password=IMAP_PASSWORD,
                    imap_tls="none", imap_folder=self.folder, imap_processed_folder=self.done,
                    imap_poll_interval_s=30.0, imap_backoff_s=0.1)
        base.update(kw)
        return base


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if await check():
                return
        except redis.exceptions.ConnectionError:
            pass  # the test's own client after a Redis restart: it reconnects on the next call
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def stored(r: Any) -> list[dict[str, Any]]:
    return [orjson.loads(f[b"msg"]) for _e, f in await r.xrange("lapor:inbound")]


@pytest.fixture
def mailbox(pymap_server: PymapServer) -> Mailbox:
    return Mailbox(pymap_server)


async def test_appended_mail_is_ingested_once_flagged_and_moved(make_gateway, r, mailbox, pymap_server):
    await mailbox.append("citizen-plain.eml", "gmail-forward-id.eml", "auto-reply.eml", "malformed.eml")
    gw = await make_gateway(**mailbox.settings(pymap_server.port))
    await until(lambda: _count(r, 3), what="3 stored messages")
    await until(lambda: _empty(mailbox), what="inbox emptied")
    msgs = await stored(r)
    assert [m["provider"] for m in msgs] == ["imap"] * 3
    assert msgs[0]["sender"]["email"] == "budi.santoso@gmail.com"
    assert msgs[1]["sender"]["email"] == "rahmat.hidayat@gmail.com" and msgs[1]["flags"] == ["forwarded"]
    assert msgs[2]["flags"] == ["decode_error"]  # malformed MIME: stored and flagged, the poller goes on
    assert msgs[0]["meta"]["imap"]["folder"] == mailbox.folder and msgs[0]["meta"]["imap"]["uid"] >= 1
    archived = await mailbox.uids(mailbox.done)
    assert len(archived) == 4 and all(SEEN in flags for flags in archived.values())  # auto-reply archived too

    # new mail while the poller sits in IDLE (poll interval 30 s): IDLE wakes it
    t0 = time.monotonic()
    await mailbox.append("windows-1252.eml")
    await until(lambda: _count(r, 4), timeout=15, what="the mail appended during IDLE")
    assert time.monotonic() - t0 < 15
    await until(lambda: _empty(mailbox), what="inbox emptied again")

    await until(lambda: _published(r, stored=4), what="published poller state")
    state = orjson.loads(await r.get("lapor:state:service:imap"))
    assert state["connected"] is True and state["last_error"] is None and state["state"] == "connected"
    assert state["skipped"] == 1 and state["duplicates"] == 0 and state["uidvalidity"]
    ck = await r.hgetall(checkpoint_key(gw.settings))
    assert int(ck[b"last_uid"]) == state["last_uid"]
    assert await r.xlen("lapor:inbound") == 4


async def test_same_mail_via_mta_and_imap_is_one_record(make_gateway, r, mailbox, pymap_server):
    gw = await make_gateway(**mailbox.settings(pymap_server.port))
    raw = (FIXTURES / "citizen-plain.eml").read_bytes()
    status, _b, _h = await gw.post("/channels/email/inbound", data=raw,
                                   headers={"Authorization": "Bearer test-email-token",
                                            "Content-Type": "message/rfc822"})
    assert status == 202
    await mailbox.append("citizen-plain.eml")
    await until(lambda: _empty(mailbox), what="the IMAP copy archived")
    assert await r.xlen("lapor:inbound") == 1
    await until(lambda: _published(r, duplicates=1), what="the duplicate counted in the published state")


@pytest.mark.parametrize("cut", [b"BODY[] {", b"UID MOVE"], ids=["during fetch", "after store, before move"])
async def test_dropped_connection_loses_and_doubles_nothing(make_gateway, r, mailbox, pymap_server, cut):
    names = ["citizen-plain.eml", "gmail-forward-en.eml", "outlook-forward-en.eml", "windows-1252.eml",
             "html-only.eml"]
    await mailbox.append(*names)
    proxy = await CuttingProxy(pymap_server.port).start()
    proxy.cut_on(cut, from_server=cut.startswith(b"BODY"))
    try:
        await make_gateway(**mailbox.settings(proxy.port))
        await until(lambda: _empty(mailbox), what="inbox emptied after the reconnect")
        await asyncio.sleep(0.5)
        assert proxy.cuts == 1 and proxy.connections >= 2
        msgs = await stored(r)
        assert len(msgs) == 5, [m["native_id"] for m in msgs]
        assert len({m["native_id"] for m in msgs}) == 5
        assert len(await mailbox.uids(mailbox.done)) == 5
    finally:
        await proxy.stop()


async def test_uidvalidity_change_rescans_without_duplicates(make_gateway, r, mailbox, pymap_server):
    await mailbox.append("citizen-plain.eml", "gmail-forward-id.eml", "windows-1252.eml")
    gw = await make_gateway(**mailbox.settings(pymap_server.port, imap_processed_folder=""))  # leave mail in place
    await until(lambda: _count(r, 3), what="first three")
    ck1 = await r.hgetall(checkpoint_key(gw.settings))
    await gw.stop()

    # the mailbox is restored on a new server: new UIDVALIDITY, UIDs start again from the bottom
    await mailbox.recreate()
    await mailbox.append("thunderbird-forward-id.eml")  # new mail gets the lowest UID
    await mailbox.append("citizen-plain.eml", "gmail-forward-id.eml", "windows-1252.eml")
    gw2 = await make_gateway(**mailbox.settings(pymap_server.port, imap_processed_folder=""))
    await until(lambda: _count(r, 4), what="the new mail under the new UIDVALIDITY")
    await until(lambda: _checkpoint_moved(r, gw2, ck1), what="checkpoint under the new UIDVALIDITY")
    await asyncio.sleep(0.5)
    msgs = await stored(r)
    assert len(msgs) == 4
    assert msgs[3]["sender"]["email"] == "nur.hasanah@gmail.com"
    await until(lambda: _published(r, duplicates=3), what="three duplicates in the published state")


async def test_wrong_password_shows_in_health_and_stores_nothing(make_gateway, r, mailbox, pymap_server):
    await mailbox.append("citizen-plain.eml")
    await make_gateway(**mailbox.settings(pymap_server.port, imap_password="falsch"))

    async def auth_error() -> bool:
        raw = await r.get("lapor:state:service:imap")
        return bool(raw) and orjson.loads(raw).get("error_kind") == "auth"

    await until(auth_error, what="auth error in the published state")
    assert await r.xlen("lapor:inbound") == 0
    assert len(await mailbox.uids(mailbox.folder)) == 1


async def test_idle_is_reissued_before_the_timeout(make_gateway, r, mailbox, pymap_server):
    proxy = await CuttingProxy(pymap_server.port).start()
    try:
        await make_gateway(**mailbox.settings(proxy.port, imap_idle_timeout_s=0.5))
        async def reissued() -> bool:
            return bytes(proxy.client_bytes).count(b" IDLE\r\n") >= 4

        await until(reissued, timeout=15, what="IDLE re-issued every 0.5 s")
        idles = bytes(proxy.client_bytes).count(b" IDLE\r\n")
        assert bytes(proxy.client_bytes).count(b"DONE\r\n") >= idles - 1
        await mailbox.append("citizen-plain.eml")
        await until(lambda: _count(r, 1), what="mail after several IDLE cycles")
        assert proxy.connections == 1  # re-issued on the same connection, no reconnects
    finally:
        await proxy.stop()


async def test_polls_when_the_server_has_no_idle(make_gateway, r, mailbox, pymap_server):
    proxy = await CuttingProxy(pymap_server.port).start()
    proxy.hide_capability = b" IDLE"
    try:
        await make_gateway(**mailbox.settings(proxy.port, imap_poll_interval_s=0.5))
        await asyncio.sleep(0.5)
        await mailbox.append("citizen-plain.eml", "windows-1252.eml")
        await until(lambda: _count(r, 2), what="mail found by polling")
        assert b" IDLE\r\n" not in bytes(proxy.client_bytes)
        assert b" NOOP\r\n" in bytes(proxy.client_bytes)
    finally:
        await proxy.stop()


async def test_redis_down_keeps_mail_on_the_server_and_the_checkpoint_still(make_gateway, r, mailbox, pymap_server,
                                                                            redis_proc):
    gw = await make_gateway(**mailbox.settings(pymap_server.port, imap_poll_interval_s=0.5))
    await mailbox.append("citizen-plain.eml")
    await until(lambda: _count(r, 1), what="first mail")
    await until(lambda: _empty(mailbox), what="first mail archived")
    ck_before = await r.hgetall(checkpoint_key(gw.settings))
    redis_proc.stop()
    try:
        await mailbox.append("gmail-forward-en.eml", "windows-1252.eml")
        await asyncio.sleep(2.5)  # several polls fail to store: the poller backs off
        waiting = await mailbox.uids(mailbox.folder)
        assert len(waiting) == 2 and not any(SEEN in f for f in waiting.values())  # BODY.PEEK[]: not even read
        assert gw.ctx.intake.stats.spooled == 0  # a poller never spools: the mail waits on the server
    finally:
        redis_proc.start()
    await until(lambda: _count(r, 2), what="mail after Redis is back", timeout=30)
    assert ck_before  # (Redis restarted empty: the re-scan is deduplicated by nothing but the restart)
    await until(lambda: _empty(mailbox), what="archived after Redis is back", timeout=30)
    msgs = await stored(r)
    assert sorted(m["sender"]["email"] for m in msgs) == ["andre.hutapea@telkom.net", "siti.aminah88@yahoo.co.id"]


async def test_mailbox_to_core_and_acknowledgement(make_gateway, rsync, r, mailbox, pymap_server):
    sink = SmtpSink().start()
    try:
        gw = await make_gateway(**mailbox.settings(pymap_server.port), smtp_url=sink.url)
        await gw.start_worker()
        await mailbox.append("thunderbird-forward-id.eml", "bounce.eml")
        (rec,) = await asyncio.to_thread(wait_for_records, rsync, 1, 15.0)
        assert rec["channel"] == "email" and rec["source"]["provider"] == "imap"
        assert rec["reporter"]["email"] == "nur.hasanah@gmail.com"
        assert rec["forwarded_by"]["organization"] == "disdik.semarangkota.go.id"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not sink.received:
            await asyncio.sleep(0.05)
        assert [to for _f, to, _d in sink.received] == [["nur.hasanah@gmail.com"]]
        await until(lambda: _empty(mailbox), what="both archived", timeout=10)  # well under the 30 s poll
        await asyncio.sleep(0.3)
        assert len(sink.received) == 1  # the bounce is archived, never answered
    finally:
        sink.stop()


async def test_starttls_with_a_private_ca(make_gateway, r, tls_pymap):
    server, cert = tls_pymap
    box = Mailbox(server, cert)
    await box.append("citizen-plain.eml")
    await make_gateway(**box.settings(server.port, imap_tls="starttls", imap_ca_file=cert))
    await until(lambda: _count(r, 1), what="mail over STARTTLS")
    await until(lambda: _empty(box), what="archived over STARTTLS")


async def test_implicit_tls(make_gateway, r, mailbox, pymap_server, tmp_path):
    cert, key = self_signed_cert(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(str(cert), str(key))
    proxy = await CuttingProxy(pymap_server.port, tls=server_ctx).start()
    try:
        await mailbox.append("citizen-plain.eml")
        await make_gateway(**mailbox.settings(proxy.port, imap_tls="tls", imap_ca_file=cert))
        await until(lambda: _count(r, 1), what="mail over implicit TLS")
        await until(lambda: _empty(mailbox), what="archived over implicit TLS")
    finally:
        await proxy.stop()


async def test_starttls_refuses_an_unknown_certificate(make_gateway, r, tls_pymap):
    server, cert = tls_pymap
    box = Mailbox(server, cert)
    await box.append("citizen-plain.eml")
    await make_gateway(**box.settings(server.port, imap_tls="starttls"))  # system CAs only

    async def cert_error() -> bool:
        raw = await r.get("lapor:state:service:imap")
        return bool(raw) and "CERTIFICATE_VERIFY_FAILED" in (orjson.loads(raw).get("last_error") or "")

    await until(cert_error, what="certificate error in the published state")
    assert await r.xlen("lapor:inbound") == 0


async def test_copy_and_expunge_when_the_server_has_no_move(make_gateway, r, mailbox, pymap_server):
    proxy = await CuttingProxy(pymap_server.port).start()
    proxy.hide_capability = b" MOVE"
    try:
        await mailbox.append("citizen-plain.eml", "windows-1252.eml")
        await make_gateway(**mailbox.settings(proxy.port))
        await until(lambda: _empty(mailbox), what="archived by COPY + UID EXPUNGE")
        sent = bytes(proxy.client_bytes)
        assert b" UID MOVE " not in sent and b" UID COPY " in sent and b" UID EXPUNGE " in sent
        archived = await mailbox.uids(mailbox.done)
        assert len(archived) == 2 and all(SEEN in f for f in archived.values())
        assert await r.xlen("lapor:inbound") == 2
    finally:
        await proxy.stop()


def break_parser_on_one_mail(monkeypatch: Any) -> None:
    """The IMAP poller's parser raises for the "Jembatan gantung" mail (no-message-id.eml) only."""
    import channels.email.imap as imap_mod

    real_build = imap_mod.build

    def flaky_build(raw: bytes, *a: Any, **kw: Any) -> Any:
        if b"Jembatan gantung" in raw:
            raise RuntimeError("parser bug")
        return real_build(raw, *a, **kw)

    monkeypatch.setattr(imap_mod, "build", flaky_build)


async def test_a_parser_bug_quarantines_the_mail_and_the_poller_goes_on(make_gateway, r, mailbox, pymap_server,
                                                                         monkeypatch):
    break_parser_on_one_mail(monkeypatch)
    await mailbox.append("no-message-id.eml", "citizen-plain.eml")
    await make_gateway(**mailbox.settings(pymap_server.port))
    await until(lambda: _count(r, 1), what="the good mail")
    await until(lambda: _empty(mailbox), what="both archived")
    (_id, q), = await r.xrange("lapor:quarantine")
    assert q[b"channel"] == b"email" and b"parser bug" in q[b"reason"] and b"Jembatan gantung" in q[b"body"]
    assert await r.xlen("lapor:inbound") == 1


async def test_two_gateways_one_active_poller(make_gateway, r, mailbox, pymap_server):
    names = ["citizen-plain.eml", "gmail-forward-en.eml", "outlook-forward-id.eml", "windows-1252.eml"]
    gw1 = await make_gateway(**mailbox.settings(pymap_server.port))
    await make_gateway(**mailbox.settings(pymap_server.port))
    await mailbox.append(*names)
    await until(lambda: _empty(mailbox), what="archived")
    await asyncio.sleep(0.5)
    assert await r.xlen("lapor:inbound") == 4
    await until(lambda: _published(r, stored=4, duplicates=0, state="connected"), what="the active poller's state")
    # the active one stops: the standby takes over once the lease is released
    await gw1.stop()
    await mailbox.append("thunderbird-forward-en.eml")
    await until(lambda: _count(r, 5), timeout=30, what="mail taken by the standby poller")


async def _count(r: Any, n: int) -> bool:
    return int(await r.xlen("lapor:inbound")) >= n


async def _empty(mailbox: Mailbox) -> bool:
    return not await mailbox.uids(mailbox.folder)


async def _checkpoint_moved(r: Any, gw: Any, old: dict[bytes, bytes]) -> bool:
    ck = await r.hgetall(checkpoint_key(gw.settings))
    return bool(ck) and ck.get(b"uidvalidity") != old.get(b"uidvalidity")


async def _published(r: Any, **want: Any) -> bool:
    raw = await r.get("lapor:state:service:imap")
    if not raw:
        return False
    doc = orjson.loads(raw)
    return all(doc.get(k) == v for k, v in want.items())
