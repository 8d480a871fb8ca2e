"""SMPP 3.4 receiver/transceiver bind to the operator's SMSC (docs/channels.md, SMS).

Own asyncio session on smpplib's PDU classes rather than smpplib's blocking ``Client`` in a
thread: the ack rule needs ``deliver_sm_resp`` to wait for an *async* intake call, and the
bind must also submit replies taken from Redis and answer enquire_links while deliveries are
being stored. One event loop does all of it without a thread bridge, lets many deliver_sm be
in flight at once (SMPP windowing: responses may come in any order), so intake group-commits
them, and a hung SMSC cannot block a thread forever. smpplib still does every byte of PDU
encoding and decoding.

Rules: ``deliver_sm_resp`` status 0 only after ``intake.accept`` returned (Redis, or the fsync'd
spool when ``smpp_use_spool``); when intake cannot take it, ``ESME_RX_T_APPN`` (0x64) so the SMSC
redelivers later. Delivery receipts (``esm_class & 0x3C``) are never complaints: they become
delivery reports of the messages we submitted (``registered_delivery=1``; ``receipts.py``).
deliver_sm has no message id: we mint a ULID at receipt and suppress SMSC redeliveries with a
short-window hash of (source, destination, concatenation info, bytes).
Reconnects with backoff come from ``Service``; the bind state is published for health.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import socket
import time
from typing import Any

import orjson
from smpplib.command import Command
from ulid import ULID

from channels.core.ingest import OK, REDIS_ERRORS, UNAVAILABLE, UPSTREAM_ERROR, IntakeUnavailable
from channels.core.service import PollError, Service, ServiceContext
from channels.sms import decoding, message, pdu, receipts
from channels.sms.encoding import split
from channels.sms.redelivery import RedeliveryFilter
from gateway import keys
from gateway.logging import get_logger
from gateway.redis_clients import ensure_group
from normalizer.models import InboundMessage

log = get_logger("channels.sms.smpp")

PROVIDER = "smpp"
OUTBOX = keys.SMPP_OUTBOX
OUTBOX_GROUP = "smpp-binds"
RESP_TIMEOUT_S = 10.0
RECEIPT_MASK = 0x3C
UDHI = 0x40
# submit_sm_resp statuses that will never succeed for this message
PERMANENT = {0x01, 0x02, 0x0A, 0x0B, 0x0C, 0x33, 0x40, 0x42, 0x43, 0x44, 0x45, 0x48, 0x49, 0x50, 0x51}
AUTH_FAILURES = {0x0D, 0x0E, 0x0F}  # bind failed, invalid password, invalid system_id


def result_key(rid: str) -> str:
    return keys.smpp_result(rid)


class BindError(PollError):
    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason, "auth" if status in AUTH_FAILURES else "transient")
        self.status = status


class SessionClosed(Exception):
    pass


def _payload(p: Command) -> bytes:
    """``message_payload`` when present (an SMSC sends one or the other), else ``short_message``."""
    return bytes(p.message_payload or getattr(p, "short_message", None) or b"")


def deliver_to_message(p: Command, raw: bytes, native_id: str, default_alphabet: str) -> InboundMessage:
    """A deliver_sm (not a receipt) → InboundMessage; multipart by UDH or SAR TLVs."""
    payload = _payload(p)
    esm = p.esm_class or 0
    concat: decoding.Concat | None = None
    flags: list[Any] = []
    if esm & UDHI:
        concat, payload, ok = decoding.split_udh(payload)
        if not ok:
            flags.append("decode_error")
    if concat is None and p.sar_total_segments:
        total, seq = int(p.sar_total_segments), int(p.sar_segment_seqnum or 0)
        if 1 <= seq <= total:
            concat = decoding.Concat(int(p.sar_msg_ref_num or 0), total, seq)
    dc = p.data_coding or 0
    return message.build(
        provider=PROVIDER, native_id=native_id, sender=pdu.text(p.source_addr),
        recipient=pdu.text(p.destination_addr), data=payload,
        codec=decoding.codec_for_data_coding(dc, default_alphabet), concat=concat,
        ton=p.source_addr_ton, flags=flags,
        extra_meta={"data_coding": dc, "esm_class": esm, "source_addr_ton": p.source_addr_ton,
                    "source_addr_npi": p.source_addr_npi, "service_type": pdu.text(p.service_type) or None},
        raw=raw.hex(),
    )


def redelivery_digest(p: Command) -> str:
    payload = _payload(p)
    parts = [pdu.text(p.source_addr), pdu.text(p.destination_addr), str(p.esm_class or 0),
             str(p.data_coding or 0), f"{p.sar_msg_ref_num}/{p.sar_total_segments}/{p.sar_segment_seqnum}"]
    return hashlib.sha256("|".join(parts).encode() + b"|" + payload).hexdigest()[:32]


class SmppService(Service):
    name = "smpp"
    channel = "sms"

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx.redis)
        self.ctx = ctx
        self.settings = ctx.settings
        self.seq = pdu.Sequence()
        self.consumer = f"{socket.gethostname()}-{os.getpid()}"
        self._writer: asyncio.StreamWriter | None = None
        self._write_lock = asyncio.Lock()
        self._pending: dict[int, asyncio.Future[Command]] = {}
        self._inflight: set[asyncio.Task[None]] = set()
        self._limit = asyncio.Semaphore(500)
        self._seen = RedeliveryFilter(ctx.redis, ctx.settings.smpp_redelivery_window_s)
        self._session_over = asyncio.Event()
        self.stats = {"delivered": 0, "receipts": 0, "refused": 0, "duplicates": 0, "submitted": 0}
        self.state.update(mode=self.settings.smpp_bind_mode, host=self.settings.smpp_host,
                          port=self.settings.smpp_port, stats=self.stats)

    # ------------------------------------------------------------------ session
    async def run_once(self) -> None:
        s = self.settings
        self.set_state("connecting")
        reader, writer = await asyncio.wait_for(asyncio.open_connection(s.smpp_host, s.smpp_port), 10)
        self._writer = writer
        self._session_over = asyncio.Event()
        tasks: list[asyncio.Task[Any]] = []
        try:
            await self._bind(reader)
            if self.stopping:
                return
            self.set_state("bound", last_error=None, error_kind=None, bound_at=time.time())
            log.info("smpp.bound", mode=s.smpp_bind_mode)
            with contextlib.suppress(*REDIS_ERRORS):
                await self.publish()  # health sees the bind now, not at the next 2 s tick
            tasks = [asyncio.create_task(self._read_loop(reader), name="smpp-read"),
                     asyncio.create_task(self._enquire_loop(), name="smpp-enquire")]
            if s.smpp_bind_mode == "transceiver":
                tasks.append(asyncio.create_task(self._outbox_loop(), name="smpp-outbox"))
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                exc = t.exception()
                if exc is not None:
                    raise exc
            raise SessionClosed("session ended")
        finally:
            # No wait_for/suppress(CancelledError) here: on 3.11 they can swallow the cancellation
            # that stop() sends. The outbox loop stops by itself within its 0.5 s block (cancelling
            # a blocking Redis read would leave a half-read connection in the shared pool).
            self._session_over.set()
            for t in tasks:
                if t.get_name() != "smpp-outbox":
                    t.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=3)
            for t in tasks:
                t.cancel()
            if self._inflight:
                await asyncio.wait(list(self._inflight), timeout=5)
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(SessionClosed("connection lost"))
            self._pending.clear()
            if self.stopping and not writer.is_closing():
                # orderly shutdown: tell the SMSC; close() still flushes the buffered PDU
                writer.write(pdu.make("unbind", self.seq).generate())
            self._writer = None
            writer.close()
            if self.state.get("state") == "bound":
                self.set_state("disconnected")

    async def close(self) -> None:
        if self._writer is not None:  # normally already closed by run_once's cleanup
            self._writer.close()

    async def _bind(self, reader: asyncio.StreamReader) -> None:
        s = self.settings
        command = "bind_transceiver" if s.smpp_bind_mode == "transceiver" else "bind_receiver"
        req = pdu.make(command, self.seq, system_id=s.smpp_system_id or "",
                       password=s.secret(s.smpp_password) or "", system_type=s.smpp_system_type or "",
                       addr_ton=0, addr_npi=0, address_range="")
        await self._send(req)
        while True:
            raw = await asyncio.wait_for(pdu.read_raw(reader), RESP_TIMEOUT_S)
            resp = pdu.decode(raw)
            if resp.command == f"{command}_resp" and resp.sequence == req.sequence:
                break
            if resp.command == "generic_nack":
                raise BindError(f"bind refused (generic_nack 0x{resp.status:x})", int(resp.status))
        if resp.status != pdu.ESME_ROK:
            raise BindError(f"bind refused with status 0x{resp.status:x}", int(resp.status))

    async def _send(self, p: Command) -> None:
        if self._writer is None:
            raise SessionClosed("not connected")
        data = p.generate()
        async with self._write_lock:
            self._writer.write(data)
            await self._writer.drain()

    async def _request(self, p: Command) -> Command:
        fut: asyncio.Future[Command] = asyncio.get_running_loop().create_future()
        self._pending[p.sequence] = fut
        try:
            await self._send(p)
            return await asyncio.wait_for(fut, RESP_TIMEOUT_S)
        finally:
            self._pending.pop(p.sequence, None)

    async def _enquire_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.smpp_enquire_link_s)
            try:
                await self._request(pdu.make("enquire_link", self.seq))
            except TimeoutError:
                raise SessionClosed("enquire_link unanswered") from None
            self.state["last_enquire_link"] = time.time()

    async def _read_loop(self, reader: asyncio.StreamReader) -> None:
        while True:
            try:
                raw = await pdu.read_raw(reader)
            except asyncio.IncompleteReadError:
                raise SessionClosed("SMSC closed the connection") from None
            _len, command_id, _status, sequence = pdu.header(raw)
            try:
                p = pdu.decode(raw)
            except Exception as exc:
                log.warning("smpp.undecodable_pdu", command_id=hex(command_id), error=type(exc).__name__)
                if command_id & 0x80000000:
                    continue
                nack = pdu.make("generic_nack", self.seq, status=pdu.ESME_RINVCMDID)
                nack.sequence = sequence
                await self._send(nack)
                continue
            if p.command in ("deliver_sm", "data_sm"):  # some SMSCs deliver MOs as data_sm
                await self._limit.acquire()
                task = asyncio.create_task(self._on_deliver(p, raw))
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)
                task.add_done_callback(lambda _t: self._limit.release())
            elif p.command == "enquire_link":
                await self._send(pdu.response("enquire_link_resp", p))
            elif p.command == "unbind":
                await self._send(pdu.response("unbind_resp", p))
                raise SessionClosed("SMSC unbound")
            elif p.command in ("submit_sm_resp", "enquire_link_resp", "generic_nack", "unbind_resp"):
                fut = self._pending.get(sequence)
                if fut is not None and not fut.done():
                    fut.set_result(p)
            elif not p.is_response():
                nack = pdu.make("generic_nack", self.seq, status=pdu.ESME_RINVCMDID)
                nack.sequence = sequence
                await self._send(nack)

    # ------------------------------------------------------------------ inbound
    async def _on_deliver(self, p: Command, raw: bytes) -> None:
        t0 = time.perf_counter()
        status = pdu.ESME_ROK
        outcome = "stored"
        error: str | None = None
        try:
            if (p.esm_class or 0) & RECEIPT_MASK:
                self.stats["receipts"] += 1
                status, outcome = await self._receipt(p)
            else:
                status, outcome = await self._store(p, raw)
        except Exception as exc:  # a bug must not kill the session; the SMSC will redeliver
            log.exception("smpp.deliver_failed", error=type(exc).__name__)
            status, outcome, error = pdu.ESME_RX_T_APPN, "error", type(exc).__name__
        with contextlib.suppress(Exception):
            await self._send(pdu.response(f"{p.command}_resp", p, status=status))
        log_status = OK if status == pdu.ESME_ROK else UNAVAILABLE if outcome == "refused" else UPSTREAM_ERROR
        self.ctx.ingest.log("sms", status=log_status, started=t0, method="deliver_sm", path="smpp",
                            error=error, command_status=status, **{outcome: 1})

    async def _receipt(self, p: Command) -> tuple[int, str]:
        """A delivery receipt → a delivery report for the message we submitted.

        Answered 0 once recorded; Redis down ⇒ 0x64 so the SMSC sends the receipt again. An id
        we do not know yet (the receipt overtook the worker that records ``sent``) is tried
        again a few times in the background; after that it is counted as unknown.
        """
        found = receipts.parse_receipt(p, _payload(p))
        if found is None:
            self.ctx.ingest.skipped("sms", {"receipt_unreadable": 1})
            return pdu.ESME_ROK, "receipt"
        msg_id, stat, err = found
        if receipts.report_of(msg_id, stat, err) is None:
            self.ctx.ingest.skipped("sms", {"receipt_interim": 1})
            return pdu.ESME_ROK, "receipt"
        try:
            known = await self._report_receipt(msg_id, stat, err)
        except IntakeUnavailable:
            return pdu.ESME_RX_T_APPN, "refused"
        if not known:
            task = asyncio.create_task(self._retry_receipt(msg_id, stat, err))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
        return pdu.ESME_ROK, "receipt"

    async def _report_receipt(self, msg_id: str, stat: str, err: str | None, *, last: bool = True) -> bool:
        """Report under each form of the id until one is ours; True when one was."""
        forms = receipts.id_forms(msg_id)
        for n, form in enumerate(forms):
            rep = receipts.report_of(form, stat, err)
            assert rep is not None
            if n == len(forms) - 1 and last:
                counts = await self.ctx.ingest.statuses("sms", [rep])
            else:  # probe quietly: only the last form (or a hit) is counted
                counts = await self.ctx.ingest.statuses("sms", [rep]) if await self._known(form) else \
                    {"status_unknown": 1}
            if not counts.get("status_unknown"):
                return True
        return False

    async def _known(self, provider_id: str) -> bool:
        return bool(await self.redis.exists(keys.outbound_provider("sms", provider_id)))

    async def _retry_receipt(self, msg_id: str, stat: str, err: str | None) -> None:
        for delay in (0.5, 2.0, 5.0):
            await asyncio.sleep(delay)
            with contextlib.suppress(IntakeUnavailable):
                if any([await self._known(f) for f in receipts.id_forms(msg_id)]):
                    await self._report_receipt(msg_id, stat, err)
                    return

    async def _native_id(self, p: Command) -> str:
        """A fresh ULID, or the one minted for the same PDU seen within the window."""
        return await self._seen.native_id(redelivery_digest(p), f"smpp:{ULID()}")

    async def _store(self, p: Command, raw: bytes) -> tuple[int, str]:
        native_id = await self._native_id(p)
        msg = deliver_to_message(p, raw, native_id, self.settings.smpp_default_alphabet)
        try:
            res = await self.ctx.ingest.store("sms", [msg], allow_spool=self.settings.smpp_use_spool)
        except IntakeUnavailable:
            self.stats["refused"] += 1
            return pdu.ESME_RX_T_APPN, "refused"
        st = res[0].status
        if st == "duplicate":
            self.stats["duplicates"] += 1
        else:
            self.stats["delivered"] += 1
        return pdu.ESME_ROK, {"new": "stored", "duplicate": "duplicates", "spooled": "spooled"}[st]

    # ------------------------------------------------------------------ outbound (replies)
    async def _outbox_loop(self) -> None:
        backlog = True  # first our own pending entries (a previous session of this process)
        group_ready = False
        while not self._session_over.is_set():
            try:
                if not group_ready:
                    await ensure_group(self.redis, OUTBOX, OUTBOX_GROUP)
                    group_ready = True
                resp: Any = await self.redis.xreadgroup(OUTBOX_GROUP, self.consumer, {OUTBOX: "0" if backlog else ">"},
                                                   count=20, block=None if backlog else 500)
            except REDIS_ERRORS:
                await asyncio.sleep(1)
                continue
            entries = [e for _s, es in resp for e in es] if resp else []
            if backlog and not entries:
                backlog = False
                continue
            for eid, fields in entries:
                if self._session_over.is_set():
                    return
                try:
                    await self._submit_entry(eid, fields)
                except REDIS_ERRORS:
                    await asyncio.sleep(1)  # stays pending: picked up again as backlog
                    backlog = True

    async def _submit_entry(self, eid: bytes, fields: dict[bytes, bytes] | None) -> None:
        try:
            doc = orjson.loads((fields or {}).get(b"m", b"{}"))
            rid = str(doc["rid"])
        except Exception:
            await self.redis.xack(OUTBOX, OUTBOX_GROUP, eid)
            return
        if time.time() > float(doc.get("deadline", 0)):
            await self.redis.xack(OUTBOX, OUTBOX_GROUP, eid)  # the sender gave up and will retry
            return
        result, ids = await self.submit_ids(str(doc["to"]), str(doc.get("from") or self.settings.sms_shortcode),
                                            str(doc["text"]))
        if result == "ok":  # the submit_sm_resp message ids go back to the sender (one per part)
            result = "ok:" + orjson.dumps(ids).decode()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lpush(result_key(rid), result)
            pipe.expire(result_key(rid), 120)
            pipe.xack(OUTBOX, OUTBOX_GROUP, eid)
            await pipe.execute()

    async def submit(self, to: str, source: str, text: str) -> str:
        """Send one (possibly concatenated) SMS; "ok", "temp:<why>" or "perm:<why>"."""
        return (await self.submit_ids(to, source, text))[0]

    async def submit_ids(self, to: str, source: str, text: str) -> tuple[str, list[str]]:
        """As :meth:`submit`, with the ``message_id`` of each part's ``submit_sm_resp`` (receipts name it)."""
        ids: list[str] = []
        enc = split(text, ref=int.from_bytes(os.urandom(1), "big"))
        src_ton, src_npi = (3, 0) if source.isdigit() and len(source) <= 8 else (1, 1)
        for part in enc.parts:
            req = pdu.make("submit_sm", self.seq, service_type="", source_addr_ton=src_ton,
                           source_addr_npi=src_npi, source_addr=source, dest_addr_ton=1, dest_addr_npi=1,
                           destination_addr=to.lstrip("+"), esm_class=enc.esm_class, protocol_id=0,
                           priority_flag=0, registered_delivery=1, replace_if_present_flag=0,
                           data_coding=enc.data_coding, sm_default_msg_id=0, short_message=part)
            try:
                resp = await self._request(req)
            except (TimeoutError, SessionClosed, OSError) as exc:
                return f"temp:{type(exc).__name__}", ids
            if resp.command == "generic_nack" or resp.status != pdu.ESME_ROK:
                kind = "perm" if resp.status in PERMANENT else "temp"
                return f"{kind}:status 0x{resp.status:x}", ids
            ids.append(pdu.text(getattr(resp, "message_id", None)))
        self.stats["submitted"] += 1
        return "ok", ids


async def bind_is_up(r: Any) -> bool:
    raw = await r.get(keys.state("service:smpp"))
    if not raw:
        return False
    doc = orjson.loads(raw)
    return doc.get("state") == "bound" and doc.get("mode") == "transceiver"
