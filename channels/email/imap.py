"""The complaints mailbox over IMAP: a poller ``Service`` (imapclient, run in a thread).

Reliability rests on three rules: fetch with ``BODY.PEEK[]`` so nothing is
marked read before it is stored; advance the UID checkpoint (per folder, tied to UIDVALIDITY)
only after intake has the batch in Redis (``allow_spool=False``: a poller that cannot store
backs off instead); flag and move to the processed folder only after that. One poller per
mailbox holds a lease in Redis; other gateway processes stand by and take over when it lapses. A crash anywhere
re-fetches at most one batch, which intake recognises by the content-based native id (the
same id the raw-MIME endpoint gives). A UIDVALIDITY change re-scans the folder; idempotency
keeps the re-scan from duplicating. IDLE wakes us for new mail; it is re-issued before the
server's timeout and a periodic catch-up covers servers whose IDLE is unreliable.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import ssl
import threading
import time
from collections import Counter
from typing import Any

from imapclient import DELETED, SEEN, IMAPClient
from imapclient.exceptions import LoginError

from channels.core.ingest import OK
from channels.core.lease import Lease
from channels.core.service import PollError, Service, ServiceContext
from channels.email.mime import build
from config.settings import Settings
from gateway import keys, metrics
from gateway.blobs import FileBlobStore
from gateway.logging import get_logger
from normalizer.models import InboundMessage

log = get_logger("channels.email.imap")

FETCH_BATCH = 20
OVERSIZE_HEADER_BYTES = 64 * 1024  # what is fetched of a mail over imap_max_message_bytes
QUARANTINE_MEMORY_S = 30 * 24 * 3600  # how long "this UID was quarantined already" is remembered
SOCKET_TIMEOUT_S = 60.0


LEASE_MS = 30_000
STANDBY_RETRY_S = 2.0
class ImapAuthError(PollError):
    error_kind = "auth"


class LeaseLost(RuntimeError):
    pass


def checkpoint_key(settings: Settings) -> str:
    return keys.state(f"imap:{settings.imap_user}@{settings.imap_host}:{settings.imap_folder}")


class ImapPoller(Service):
    name = "imap"
    channel = "email"

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx.redis)
        self.ctx = ctx
        self.settings = ctx.settings
        self.blobs = FileBlobStore(ctx.settings.blobs_path, ctx.settings.blob_max_bytes)
        self.folder = ctx.settings.imap_folder
        self.processed = ctx.settings.imap_processed_folder
        self.ckpt_key = checkpoint_key(ctx.settings)
        # several gateway processes may run with the same settings: one polls, the others stand by
        self.lease_key = self.ckpt_key + ":lease"
        self.lease = Lease(ctx.redis, self.lease_key, LEASE_MS)  # channels.core.lease
        self._halt = threading.Event()  # tells a thread blocked in IDLE to finish
        self._inflight: asyncio.Future[Any] | None = None
        self.backoff_initial_s = ctx.settings.imap_backoff_s
        self.state.update(connected=False, idle=False, last_uid=None, uidvalidity=None, folder=self.folder,
                          stored=0, duplicates=0, skipped=0, quarantined=0, last_poll=None)

    # ------------------------------------------------------------------ lifecycle
    async def stop(self) -> None:
        self._halt.set()
        await super().stop()

    async def _io(self, fn: Any, *args: Any) -> Any:
        """Run one blocking IMAP call in a thread. Shielded: on cancellation the call still finishes
        (``_halt`` makes an IDLE wait return within a second) before the connection is closed, so
        a LOGOUT never races a command in flight on the same socket."""
        self._inflight = asyncio.ensure_future(asyncio.to_thread(fn, *args))
        return await asyncio.shield(self._inflight)

    async def _settle(self) -> None:
        if self._inflight is not None and not self._inflight.done():
            self._halt.set()
            with contextlib.suppress(Exception):
                await asyncio.wait({self._inflight}, timeout=SOCKET_TIMEOUT_S)

    # ------------------------------------------------------------------ one poller per mailbox
    async def _acquire(self) -> bool:
        return await self.lease.hold()

    async def _renew(self) -> bool:
        return await self.lease.hold()

    async def _hold_lease(self) -> None:
        """Renew the lease while connected; losing it (Redis gone, another owner) ends this session."""
        while True:
            await asyncio.sleep(LEASE_MS / 3000)
            try:
                held = await self._renew()
            except Exception:
                held = False
            if not held:
                log.warning("imap.lease_lost", folder=self.folder)
                self._halt.set()
                raise LeaseLost("another poller owns the mailbox now, or Redis is unreachable")

    async def publish(self) -> None:
        if self.state.get("state") != "standby":  # the active poller's state is the one that counts
            await super().publish()

    async def run_once(self) -> None:
        if not await self._acquire():
            self.set_state("standby", connected=False)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=STANDBY_RETRY_S)
            return
        lease = asyncio.create_task(self._hold_lease())
        try:
            await self._session(lease)
        finally:
            lease.cancel()
            with contextlib.suppress(BaseException):
                await lease
            with contextlib.suppress(Exception):
                await self.lease.release()

    async def _session(self, lease: asyncio.Task[None]) -> None:
        if not self.stopping:
            self._halt.clear()
        client = await self._io(self._connect)
        self.set_state("connected", connected=True, idle=False)
        log.info("imap.connected", folder=self.folder, idle=client.has_capability("IDLE"))
        try:
            found = await self._catch_up(client, archive_leftovers=True)
            while not self.stopping:
                if lease.done():
                    lease.result()  # raises LeaseLost
                if not found:
                    # mail that arrived during a catch-up announced itself then, not in the next IDLE:
                    # so IDLE only after a catch-up that found nothing (the poll interval covers the rest)
                    await self._io(self._wait, client)
                    if self.stopping:
                        break
                found = await self._catch_up(client, archive_leftovers=False)
        finally:
            self.state.update(connected=False, idle=False)
            await self._settle()
            await asyncio.to_thread(self._logout, client)

    # ------------------------------------------------------------------ IMAP (sync, in a thread)
    def _ssl_context(self) -> ssl.SSLContext:
        cafile = str(self.settings.imap_ca_file) if self.settings.imap_ca_file else None
        return ssl.create_default_context(cafile=cafile)

    def _connect(self) -> IMAPClient:
        s = self.settings
        host = s.imap_host or ""
        if s.imap_tls == "tls":
            client = IMAPClient(host, port=s.imap_port or 993, ssl=True, ssl_context=self._ssl_context(),
                                timeout=SOCKET_TIMEOUT_S)
        else:
            client = IMAPClient(host, port=s.imap_port or 143, ssl=False, timeout=SOCKET_TIMEOUT_S)
            if s.imap_tls == "starttls":
                client.starttls(self._ssl_context())
        try:
            client.login(s.imap_user or "", Settings.secret(s.imap_password) or "")
        except LoginError as exc:
            self._logout(client)
            raise ImapAuthError("IMAP login refused") from exc
        if self.processed and not client.folder_exists(self.processed):
            with contextlib.suppress(IMAPClient.Error):  # another poller may have created it meanwhile
                client.create_folder(self.processed)
        return client

    @staticmethod
    def _logout(client: IMAPClient) -> None:
        with contextlib.suppress(Exception):
            client.logout()
        with contextlib.suppress(Exception):
            client.shutdown()

    def _wait(self, client: IMAPClient) -> None:
        """Until new mail, the poll interval, or stop; IDLE when the server has it, else NOOP polling."""
        cycle = min(self.settings.imap_idle_timeout_s, self.settings.imap_poll_interval_s)
        deadline = time.monotonic() + cycle
        if not client.has_capability("IDLE"):
            while time.monotonic() < deadline and not self._halt.wait(0.5):
                pass
            client.noop()
            return
        client.idle()
        self.state["idle"] = True
        try:
            # Wait for the socket to become readable rather than with idle_check(): idle_check parses
            # lines from a non-blocking socket and breaks on a response split across TCP segments.
            # Anything the server says ends the IDLE; idle_done() then reads it with the proper parser.
            sock = client.socket()
            while time.monotonic() < deadline and not self._halt.is_set():
                if getattr(sock, "pending", lambda: 0)():
                    break
                readable, _w, _x = select.select([sock], [], [], min(1.0, max(0.05, deadline - time.monotonic())))
                if readable:
                    break
        finally:
            self.state["idle"] = False
            client.idle_done()

    def _archive(self, client: IMAPClient, uids: list[int]) -> None:
        """Flag stored mail ``\\Seen`` and move it to the processed folder (COPY+EXPUNGE without MOVE)."""
        if not uids:
            return
        client.add_flags(uids, [SEEN], silent=True)
        if not self.processed:
            return
        if client.has_capability("MOVE"):
            client.move(uids, self.processed)
            return
        client.copy(uids, self.processed)
        client.add_flags(uids, [DELETED], silent=True)
        if client.has_capability("UIDPLUS"):
            client.uid_expunge(uids)
        else:
            client.expunge()

    # ------------------------------------------------------------------ catch-up (async)
    async def _checkpoint(self, uidvalidity: int) -> int:
        doc = await self.redis.hgetall(self.ckpt_key)
        if not doc:
            return 0
        stored_validity = int(doc.get(b"uidvalidity", b"0"))
        if stored_validity != uidvalidity:
            log.warning("imap.uidvalidity_changed", folder=self.folder, old=stored_validity, new=uidvalidity)
            metrics.count(self.channel, "uidvalidity_reset")
            return 0
        return int(doc.get(b"last_uid", b"0"))

    async def _catch_up(self, client: IMAPClient, *, archive_leftovers: bool) -> int:
        """Fetch, store, checkpoint and archive everything above the checkpoint; return how many."""
        t0 = time.perf_counter()
        selected = await self._io(client.select_folder, self.folder)
        uidvalidity = int(selected[b"UIDVALIDITY"])
        last = await self._checkpoint(uidvalidity)
        self.state.update(uidvalidity=uidvalidity, last_uid=last, last_poll=time.time())
        found = await self._io(client.search, ["UID", f"{last + 1}:*"])
        uids = sorted(u for u in found if u > last)  # "n:*" always returns the highest UID
        if archive_leftovers and last:
            # stored before a crash but not yet moved: archive only (the checkpoint proves they are stored)
            older = await self._io(client.search, ["UID", f"1:{last}"])
            await self._io(self._archive, client, sorted(u for u in older if u <= last))
        counts: Counter[str] = Counter()
        for start in range(0, len(uids), FETCH_BATCH):
            chunk = uids[start:start + FETCH_BATCH]
            await self._ingest(client, uidvalidity, chunk, counts)
        if uids:
            log_counts: dict[str, Any] = dict(counts)
            self.ctx.ingest.log(self.channel, status=OK, started=t0, method="FETCH", path=self.folder, **log_counts)
        return len(uids)

    def _fetch(self, client: IMAPClient, chunk: list[int]) -> tuple[dict[int, bytes], dict[int, tuple[bytes, int]]]:
        """The chunk's mail: whole when within ``imap_max_message_bytes`` (RFC822.SIZE asked first),
        else only the first ``OVERSIZE_HEADER_BYTES`` of the header section, with the size."""
        cap = self.settings.imap_max_message_bytes
        sizes = {uid: int(d.get(b"RFC822.SIZE") or 0) for uid, d in client.fetch(chunk, ["RFC822.SIZE"]).items()}
        small = [u for u in chunk if u in sizes and sizes[u] <= cap]
        large = [u for u in chunk if u in sizes and sizes[u] > cap]
        whole: dict[int, bytes] = {}
        if small:
            for uid, d in client.fetch(small, ["BODY.PEEK[]"]).items():
                if d.get(b"BODY[]") is not None:
                    whole[uid] = d[b"BODY[]"]
        heads: dict[int, tuple[bytes, int]] = {}
        if large:
            for uid, d in client.fetch(large, [f"BODY.PEEK[HEADER]<0.{OVERSIZE_HEADER_BYTES}>"]).items():
                head = next((v for k, v in d.items() if k.startswith(b"BODY[HEADER]")), None)
                heads[uid] = (head or b"", sizes[uid])
        return whole, heads

    async def _ingest(self, client: IMAPClient, uidvalidity: int, chunk: list[int], counts: Counter[str]) -> None:
        whole, heads = await self._io(self._fetch, client, chunk)
        messages: list[InboundMessage] = []
        present: list[int] = []
        for uid in chunk:
            raw = whole.get(uid)
            oversize = heads.get(uid)
            if raw is None and oversize is None:
                continue  # expunged meanwhile by someone else
            present.append(uid)
            source = {"imap": {"folder": self.folder, "uidvalidity": uidvalidity, "uid": uid}}
            if oversize is not None:
                raw = oversize[0]
                counts["oversize"] += 1
                metrics.count(self.channel, "oversize")
                log.warning("imap.oversize", uid=uid, size=oversize[1], limit=self.settings.imap_max_message_bytes)
            assert raw is not None
            try:
                result = await asyncio.to_thread(
                    build, raw, self.settings, self.blobs, provider="imap", source_meta=source,
                    oversize=(oversize[1], self.settings.imap_max_message_bytes) if oversize else None)
            except OSError:
                raise  # blob store unavailable: retry the batch later, do not skip
            except Exception as exc:  # a parser bug: keep the raw mail for admins, never loop on it
                log.exception("imap.parser_failure", uid=uid, error=type(exc).__name__)
                # once per mail: a batch retried after a storage failure must not quarantine it again
                once = f"{self.ckpt_key}:quarantined:{uidvalidity}:{uid}"
                if await self.redis.set(once, 1, nx=True, ex=QUARANTINE_MEMORY_S):
                    reason = f"{type(exc).__name__}: {exc} (folder {self.folder}, uid {uid})"
                    await self.ctx.ingest.quarantine(self.channel, reason, raw, "message/rfc822")
                    counts["quarantined"] += 1
                continue
            if result.skipped:
                counts[f"skipped_{result.skipped}"] += 1
                self.ctx.ingest.skipped(self.channel, {result.skipped: 1})
                self.state["skipped"] += 1
            if result.statuses:  # a bounce of our mail; Redis down ⇒ the batch is retried, no checkpoint
                counts.update(await self.ctx.ingest.statuses(self.channel, result.statuses))
            messages.extend(result.messages)
        if messages:
            accepted = await self.ctx.ingest.store(self.channel, messages, allow_spool=False)
            new = sum(1 for a in accepted if a.status == "new")
            dup = len(accepted) - new
            counts.update(stored=new, duplicates=dup)
            self.state["stored"] += new
            self.state["duplicates"] += dup
        # only now, with every message of the chunk in Redis: checkpoint, then flag + move
        await self.redis.hset(self.ckpt_key, mapping={"uidvalidity": uidvalidity, "last_uid": max(chunk)})
        self.state["last_uid"] = max(chunk)
        self.state["quarantined"] += counts["quarantined"]
        await self._io(self._archive, client, present)



