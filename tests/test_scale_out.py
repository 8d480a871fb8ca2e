"""Many processes on one Redis: two ``serve`` (HTTP + services) and two ``worker`` processes, one
of each killed with SIGKILL under load.

Both ``serve`` processes run all four single-active services against loopback fakes in this
process: the SMPP bind (an SMSC simulator), the IMAP poller (pymap behind a relay that watches
the sessions), the X mentions poller (fake X API) and Telegram long polling (fake Bot API, which
ends a long poll with 409 when a second one comes, as Telegram does). The first process takes
every lease before the second starts, so the kill of that one process makes all four services
move. What is proved, from the fakes' side (each client connection resolved to its process
through /proc, not from the lease in Redis alone):

- every request answered 2xx (and every retry of an unanswered one) reaches the core queue once;
- per service, at no moment were two processes active (no overlapping bound SMPP sessions,
  selected IMAP sessions, long polls; X calls from one process, then only from the other);
- the survivor took each service over within the lease's TTL plus its stand-by retry and a
  margin after the kill;
- messages fed through each service before the kill, and while nobody held it, reach the core
  queue once each.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import orjson
import pytest

from bench.complaints import api_body
from channels.email.imap import LEASE_MS as IMAP_LEASE_MS
from channels.email.imap import STANDBY_RETRY_S as IMAP_STANDBY_S
from channels.email.imap import checkpoint_key
from channels.email.tests.peers import IMAP_PASSWORD, IMAP_USER, PymapServer
from channels.sms.smpp import BIND_LEASE_KEY, BIND_LEASE_MS
from channels.sms.tests.smsc import Smsc
from channels.telegram.polling import LEADER_KEY
from channels.telegram.tests.fake_bot_api import FakeBotApi
from channels.twitter.poller import LEASE_KEY as X_LEASE_KEY
from channels.twitter.tests.fakex import FakeX
from tests.support.activity import Activity
from tests.support.core import core_job_ids, wait_for_records
from tests.support.fixtures import TOKENS
from tests.support.imap_watch import ImapWatch
from tests.support.procs import Proc, cli, gateway_env, wait_ready
from tests.support.redis_proc import RedisProc, free_port
from tests.support.sockets import SocketOwners

AUTH = {"Authorization": "Bearer test-http-token", "Content-Type": "application/json"}
FOLDER, DONE = "Pengaduan", "Pengaduan-selesai"
X_INTERVAL_S, TG_TIMEOUT_S = 0.5, 2
RATE = 150  # offered HTTP requests per second, both serve processes together
MARGIN_S = 10.0  # on top of a lease's TTL and the stand-by retry: scheduling on a busy 2-core machine
OUR_X_ID = TOKENS["twitter_user_id"]


@dataclass
class Single:
    """One single-active service as the test sees it."""

    name: str
    activity: Activity  # the fake's own record of who was active when
    lease_key: str
    ttl_s: float  # the lease's TTL (channels.core.lease) as that service sets it
    retry_s: float  # how often a stand-by process tries the lease (its wait + the service backoff)
    feed: Callable[[str, int], Awaitable[None]]  # one message carrying the marker
    # the markers of the messages fed while the first process held it / after the kill
    markers: tuple[list[str], list[str]] = field(default_factory=lambda: ([], []))


def mail(marker: str, i: int) -> bytes:
    m = EmailMessage()
    m["From"] = f"Warga Uji {i} <warga.uji{i}@contoh.id>"
    m["To"] = IMAP_USER
    m["Subject"] = f"Jalan berlubang {marker}"
    m["Message-ID"] = f"<{marker.lower()}@contoh.id>"
    m["Date"] = "Sat, 22 Nov 2025 09:12:30 +0700"
    m.set_content(f"Selamat pagi, jalan di depan pasar desa rusak parah sejak bulan lalu, kode {marker}. "
                  "Mohon segera diperbaiki.\n")
    return m.as_bytes().replace(b"\n", b"\r\n")


def mention(marker: str, i: int) -> dict[str, Any]:
    tid = str(1999000000000000000 + i)
    return {"id": tid, "author_id": str(3200000000000000 + i), "created_at": "2026-01-01T00:00:00.000Z",
            "text": f"@LAPOR1708 lampu jalan mati sejak seminggu, kode {marker}",
            "entities": {"mentions": [{"start": 0, "end": 10, "username": "LAPOR1708", "id": OUR_X_ID}]}}


def telegram_update(marker: str, i: int) -> dict[str, Any]:
    chat = 4100000000 + i
    return {"update_id": 770000000 + i,
            "message": {"message_id": 10 + i, "date": int(time.time()),
                        "text": f"Sampah menumpuk di pasar, kode {marker}",
                        "from": {"id": chat, "is_bot": False, "first_name": "Uji"},
                        "chat": {"id": chat, "type": "private", "first_name": "Uji"}}}


def lease_pid(raw: Any) -> int | None:
    """The pid in a lease token (``<pid>-<random>``, channels.core.lease)."""
    return int(bytes(raw).decode().split("-")[0]) if raw else None


@pytest.mark.slow
@pytest.mark.timeout(240)
async def test_two_serve_and_two_workers_one_of_each_killed(tmp_path: Path) -> None:
    t_start = time.monotonic()
    rp = RedisProc(tmp_path / "redis", aof=True).start()
    r = rp.client()
    smsc = await Smsc().start()
    pymap = await asyncio.to_thread(lambda: PymapServer(tmp_path).start())
    imap = await ImapWatch(pymap.port, FOLDER).start()
    fakex = await FakeX().start()
    bot = await FakeBotApi(token=TOKENS["telegram_bot_token"]).start()
    mailbox = await asyncio.to_thread(pymap.client)
    await asyncio.to_thread(mailbox.create_folder, FOLDER)

    serves: list[Proc] = []
    owners = SocketOwners(lambda: [s.pid for s in serves])
    for fake in (smsc, imap, fakex, bot):
        fake.activity.who = owners

    n_sms = itertools.count()

    async def feed_sms(marker: str, i: int) -> None:
        await smsc.wait_bound(60)
        status = await smsc.deliver(short_message=f"Lampu jalan mati, kode {marker}".encode(),
                                    source_addr=f"62813{next(n_sms):08d}")
        assert status == 0, f"deliver_sm answered {status}"

    async def feed_mail(marker: str, i: int) -> None:
        await asyncio.to_thread(mailbox.append, FOLDER, mail(marker, i))

    async def feed_mention(marker: str, i: int) -> None:
        fakex.add([mention(marker, i)])

    async def feed_update(marker: str, i: int) -> None:
        bot.push(telegram_update(marker, i))

    services = [
        Single("smpp", smsc.activity, BIND_LEASE_KEY, BIND_LEASE_MS / 1000, 2.0 + 1.0, feed_sms),
        Single("imap", imap.activity, checkpoint_key(SimpleNamespace(  # type: ignore[arg-type]
            imap_user=IMAP_USER, imap_host="127.0.0.1", imap_folder=FOLDER)) + ":lease",
            IMAP_LEASE_MS / 1000, IMAP_STANDBY_S + 0.2, feed_mail),
        Single("x", fakex.activity, X_LEASE_KEY, X_INTERVAL_S * 3 + 30, X_INTERVAL_S, feed_mention),
        Single("telegram", bot.activity, LEADER_KEY, TG_TIMEOUT_S + 30, 5.0, feed_update),
    ]
    env = {"LAPOR_SMPP_HOST": "127.0.0.1", "LAPOR_SMPP_PORT": str(smsc.port), "LAPOR_SMPP_SYSTEM_ID": "lapor",
           "LAPOR_SMPP_PASSWORD": "secret",
           "LAPOR_IMAP_HOST": "127.0.0.1", "LAPOR_IMAP_PORT": str(imap.port), "LAPOR_IMAP_USER": IMAP_USER,
           "LAPOR_IMAP_PASSWORD": IMAP_PASSWORD, "LAPOR_IMAP_TLS": "none", "LAPOR_IMAP_FOLDER": FOLDER,
           "LAPOR_IMAP_PROCESSED_FOLDER": DONE, "LAPOR_IMAP_BACKOFF_S": "0.2", "LAPOR_IMAP_POLL_INTERVAL_S": "2",
           "LAPOR_TWITTER_API_URL": fakex.url, "LAPOR_TWITTER_POLL": "true",
           "LAPOR_TWITTER_POLL_INTERVAL_S": str(X_INTERVAL_S), "LAPOR_TWITTER_BACKFILL_S": "0",
           "LAPOR_TELEGRAM_API_URL": bot.url, "LAPOR_TELEGRAM_POLLING": "on",
           "LAPOR_TELEGRAM_POLL_TIMEOUT_S": str(TG_TIMEOUT_S),
           "LAPOR_ACK_ENABLED": "false", "LAPOR_LOG_LEVEL": "warning"}
    ports = [free_port(), free_port()]
    workers: list[Proc] = []
    ok: dict[str, str] = {}
    try:
        # the first serve process takes every lease (workers start alongside it) ...
        serves.append(Proc(cli("serve", "--workers", "0"), gateway_env(rp.url, tmp_path / "data0", ports[0], **env),
                           tmp_path / "serve0.log"))
        workers += [Proc(cli("worker"), gateway_env(rp.url, tmp_path / f"wdata{i}", free_port(), **env),
                         tmp_path / f"worker{i}.log") for i in range(2)]
        await asyncio.to_thread(wait_ready, ports[0], 60, serves[0])
        first = serves[0].pid
        deadline = time.monotonic() + 30
        while not all(any(s.who == first for s in svc.activity.spans) for svc in services):
            assert time.monotonic() < deadline, {svc.name: len(svc.activity.spans) for svc in services}
            await asyncio.sleep(0.1)
        # ... then the second one starts and stands by for all four
        serves.append(Proc(cli("serve", "--workers", "0"), gateway_env(rp.url, tmp_path / "data1", ports[1], **env),
                           tmp_path / "serve1.log"))
        await asyncio.to_thread(wait_ready, ports[1], 60, serves[1])
        second = serves[1].pid
        started_s = time.monotonic() - t_start
        await asyncio.sleep(1)
        assert {svc.name: lease_pid(r.get(svc.lease_key)) for svc in services} == \
            {svc.name: first for svc in services}, "the first process holds every lease"

        ids = itertools.count(1)
        for svc in services:  # messages fed while the first process is active
            for _ in range(3):
                marker = f"ZQ{svc.name.upper()}A{next(ids)}"
                await svc.feed(marker, next(ids))
                svc.markers[0].append(marker)

        killed_at = 0.0
        taken: dict[str, float] = {}  # service -> seconds from the kill to the survivor's first activity
        load_until = [time.monotonic() + 60]
        retried = 0

        async def post(session: aiohttp.ClientSession, i: int, sem: asyncio.Semaphore) -> None:
            nonlocal retried
            async with sem:
                for attempt in range(4):  # a provider retries an unanswered request (same id) elsewhere
                    port = ports[i % 2] if not killed_at and attempt == 0 else ports[1]
                    try:
                        async with session.post(f"http://127.0.0.1:{port}/channels/http/complaints",
                                                data=api_body("so", i), headers=AUTH,
                                                timeout=aiohttp.ClientTimeout(total=10)) as resp:
                            if resp.status in (200, 202):
                                ok[f"api:so-{i}"] = (await resp.json())["id"]
                                return
                    except (TimeoutError, aiohttp.ClientError):
                        pass
                    retried += 1
                    await asyncio.sleep(0.2)

        async def load() -> None:
            sem = asyncio.Semaphore(64)
            async with aiohttp.ClientSession() as session:
                tasks: set[asyncio.Task[None]] = set()
                t0 = time.monotonic()
                for i in itertools.count():
                    if time.monotonic() >= load_until[0]:
                        break
                    await asyncio.sleep(max(0.0, t0 + i / RATE - time.monotonic()))
                    t = asyncio.create_task(post(session, i, sem))
                    tasks.add(t)
                    t.add_done_callback(tasks.discard)
                if tasks:
                    await asyncio.wait(tasks)

        loader = asyncio.create_task(load())
        await asyncio.sleep(4)  # under load: kill the first serve process (all four leases) and a worker
        assert len(ok) > 100, f"only {len(ok)} requests answered before the kill"
        left = {svc.name: int(r.pttl(svc.lease_key)) / 1000 for svc in services}  # of the dead holder's leases
        killed_at = time.monotonic()
        await asyncio.gather(asyncio.to_thread(serves[0].kill9), asyncio.to_thread(workers[0].kill9))
        ok_at_kill = len(ok)
        for svc in services:  # messages fed while nobody holds the service (SMS: once rebound)
            if svc.name != "smpp":
                marker = f"ZQ{svc.name.upper()}B{next(ids)}"
                await svc.feed(marker, next(ids))
                svc.markers[1].append(marker)
        deadline = killed_at + max(svc.ttl_s + svc.retry_s for svc in services) + MARGIN_S + 5
        while len(taken) < len(services) and time.monotonic() < deadline:
            for svc in services:
                at = svc.activity.first_by(second, after=killed_at)
                if svc.name not in taken and at is not None:
                    taken[svc.name] = at - killed_at
                    if svc.name == "smpp":
                        for _ in range(2):
                            marker = f"ZQSMPPB{next(ids)}"
                            await svc.feed(marker, 0)
                            svc.markers[1].append(marker)
            await asyncio.sleep(0.05)
        for svc in services:  # and a few more once the survivor is active
            if svc.name != "smpp" and svc.name in taken:
                for _ in range(2):
                    marker = f"ZQ{svc.name.upper()}B{next(ids)}"
                    await svc.feed(marker, next(ids))
                    svc.markers[1].append(marker)
        load_until[0] = min(load_until[0], time.monotonic() + 1)
        await loader
        load_s = time.monotonic() - (killed_at - 4)

        assert set(taken) == {svc.name for svc in services}, f"not taken over: {taken}"
        fed = [m for svc in services for phase in svc.markers for m in phase]
        records = await asyncio.to_thread(wait_for_records, r, len(ok) + len(fed), 90)
        await asyncio.sleep(1.5)  # would anything still arrive twice?
        assert r.llen("rq:queue:lapor-core") == len(records), "records still arriving after the wait"

        # every 2xx exactly once, nothing in the core twice
        by_key = {x["idempotency_key"]: x["id"] for x in records}
        missing = [k for k in ok if by_key.get(k) != ok[k]]
        assert not missing, f"{len(missing)} acknowledged requests not in the core queue"
        job_ids = core_job_ids(r)
        assert len(job_ids) == len(set(job_ids)), "a record reached the core twice"
        keys = [x["idempotency_key"] for x in records]
        assert len(keys) == len(set(keys)), "one message became two records"
        dumps = [(x["channel"], orjson.dumps(x).decode()) for x in records]
        report = []
        for svc, channel in zip(services, ("sms", "email", "twitter", "telegram"), strict=True):
            # the messages fed through the service: each in the core once, from the right channel
            for marker in svc.markers[0] + svc.markers[1]:
                hits = [ch for ch, d in dumps if marker in d]
                assert hits == [channel], f"{svc.name}: {marker} reached the core {len(hits)} times ({hits})"
            # from the fake's side: one process at a time, the first until the kill, then the survivor
            spans = svc.activity.spans
            assert not svc.activity.overlapping(), f"{svc.name}: two sessions active at once"
            assert all(s.who in (first, second) for s in spans), f"{svc.name}: unresolved clients"
            runs = [who for who, _a, _b in svc.activity.runs()]
            assert runs == [first, second], f"{svc.name}: active processes in turn {runs}"
            last_first = max(s.end or float("inf") for s in spans if s.who == first)
            assert last_first <= killed_at + TG_TIMEOUT_S + 1, f"{svc.name}: the dead process active after the kill"
            bound = svc.ttl_s + svc.retry_s + MARGIN_S
            assert taken[svc.name] <= bound, f"{svc.name}: taken over after {taken[svc.name]:.1f} s > {bound:.1f} s"
            # and not before the dead holder's lease lapsed (a live but slow holder would still work)
            assert taken[svc.name] >= left[svc.name] - 0.5, f"{svc.name}: taken before the lease lapsed"
            assert lease_pid(r.get(svc.lease_key)) == second
            report.append(f"{svc.name} {taken[svc.name]:.1f} s (lease left at the kill {left[svc.name]:.1f} s, "
                          f"TTL {svc.ttl_s:.1f} s)")
        assert bot.conflicts == 0, f"{bot.conflicts} getUpdates answered 409: two pollers at once"
        print(f"\n{len(ok)} acknowledged ({ok_at_kill} before the kill, {retried} retries), all in the core once; "
              f"{len(fed)} fed messages once each; load {load_s:.0f} s at {RATE}/s; taken over after: "
              + ", ".join(report) + f"; start-up {started_s:.0f} s, total {time.monotonic() - t_start:.0f} s")
    finally:
        t_stop = time.monotonic()
        await asyncio.gather(*(asyncio.to_thread(p.terminate) for p in [*serves, *workers]))
        print(f"stopped in {time.monotonic() - t_stop:.1f} s")
        for stop in (imap.stop, smsc.stop, fakex.stop, bot.stop):
            await stop()
        await asyncio.to_thread(mailbox.logout)
        await asyncio.to_thread(pymap.stop)
        rp.stop()


# ---------------------------------------------------------------------- the evidence can fail
# The observers above would see two active processes: two clients at once here (this process,
# two connections) are caught by each of them.

async def test_smsc_sees_two_binds_at_once() -> None:
    from smpplib.client import Client

    smsc = await Smsc().start()
    smsc.activity.who = SocketOwners(lambda: [os.getpid()])
    clients = [Client("127.0.0.1", smsc.port, timeout=5, allow_unknown_opt_params=True) for _ in range(2)]
    try:
        for c in clients:
            await asyncio.to_thread(c.connect)
            await asyncio.to_thread(c.bind_transceiver, system_id="lapor", password="secret")
        assert len(smsc.activity.active()) == 2 and len(smsc.activity.overlapping()) == 1
        assert {s.who for s in smsc.activity.spans} == {os.getpid()}
    finally:
        for c in clients:
            await asyncio.to_thread(c.disconnect)
        await smsc.stop()
    assert not smsc.activity.active()


async def test_imap_watch_sees_two_sessions_selecting_the_folder(tmp_path: Path) -> None:
    pymap = await asyncio.to_thread(lambda: PymapServer(tmp_path).start())
    watch = await ImapWatch(pymap.port, FOLDER).start()
    watch.activity.who = SocketOwners(lambda: [os.getpid()])

    def session() -> Any:
        from imapclient import IMAPClient

        c = IMAPClient("127.0.0.1", port=watch.port, ssl=False, timeout=10)
        c.login(IMAP_USER, IMAP_PASSWORD)
        return c

    try:
        setup = await asyncio.to_thread(pymap.client)
        await asyncio.to_thread(setup.create_folder, FOLDER)
        await asyncio.to_thread(setup.append, FOLDER, mail("ZQIMAPW1", 1))
        await asyncio.to_thread(setup.logout)
        a, b = await asyncio.to_thread(session), await asyncio.to_thread(session)
        await asyncio.to_thread(a.select_folder, "INBOX")  # another folder: not the mailbox we watch
        assert not watch.activity.spans and watch.logins == 2
        await asyncio.to_thread(a.select_folder, FOLDER)
        await asyncio.to_thread(a.fetch, [1], ["BODY.PEEK[]"])  # a literal in the answer does not confuse it
        await asyncio.to_thread(b.select_folder, FOLDER)
        assert len(watch.activity.active()) == 2 and len(watch.activity.overlapping()) == 1
        assert {s.who for s in watch.activity.spans} == {os.getpid()}
        for c in (a, b):
            await asyncio.to_thread(c.logout)
        deadline = time.monotonic() + 5
        while watch.activity.active() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert not watch.activity.active()
    finally:
        await watch.stop()
        await asyncio.to_thread(pymap.stop)


async def test_bot_api_ends_the_first_of_two_long_polls_with_409() -> None:
    bot = await FakeBotApi(token=TOKENS["telegram_bot_token"]).start()
    bot.activity.who = SocketOwners(lambda: [os.getpid()])
    url = f"{bot.url}/bot{TOKENS['telegram_bot_token']}/getUpdates"
    try:
        async with aiohttp.ClientSession() as a, aiohttp.ClientSession() as b:
            first = asyncio.create_task(a.post(url, json={"timeout": 5}))
            while not bot.activity.active():
                await asyncio.sleep(0.01)
            second = await b.post(url, json={"timeout": 0})
            resp = await first
            assert resp.status == 409 and "terminated by other getUpdates" in (await resp.json())["description"]
            assert second.status == 200
        assert bot.conflicts == 1 and len(bot.activity.overlapping()) == 1
        assert {s.who for s in bot.activity.spans} == {os.getpid()}
    finally:
        await bot.stop()
