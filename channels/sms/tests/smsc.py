"""An SMSC simulator on loopback, built only from smpplib's PDU classes (not from our code).

It accepts binds (checking system_id/password), answers enquire_link, records every
``submit_sm`` and answers it (status configurable), and sends ``deliver_sm`` PDUs on demand,
returning the ``deliver_sm_resp`` status our bind answered with. ``activity`` has one span per
accepted bind (bind to close), with the client named by ``activity.who`` when a test sets it.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from typing import Any

from smpplib import consts, smpp

from tests.support.activity import Activity, Span


class _Seq:
    def __init__(self) -> None:
        self.sequence = 0

    def next_sequence(self) -> int:
        self.sequence += 1
        return self.sequence


class Smsc:
    def __init__(self, system_id: str = "lapor", password: str = "secret") -> None:
        self.system_id = system_id
        self.password = password
        self.seq = _Seq()
        self.port = 0
        self.server: asyncio.AbstractServer | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.bound = asyncio.Event()
        self.binds: list[dict[str, Any]] = []
        self.submits: list[Any] = []
        self.submit_status: list[int] = []  # statuses to answer with, in order; then 0
        self.enquire_links = 0
        self.unbinds = 0
        self.submitted = asyncio.Condition()
        self._resps: dict[int, asyncio.Future[Any]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.activity = Activity()  # observation: one span per bound session, bind to close

    async def start(self) -> Smsc:
        self.server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        await self.drop()
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await self.server.wait_closed()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2)
        for t in list(self._tasks):
            t.cancel()

    async def drop(self) -> None:
        """Cut the connection (network failure) without an unbind."""
        self.bound.clear()
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    async def wait_bound(self, timeout: float = 15) -> None:
        await asyncio.wait_for(self.bound.wait(), timeout)

    # ------------------------------------------------------------------ wire
    def _send(self, pdu: Any) -> None:
        assert self.writer is not None, "no ESME connected"
        self.writer.write(pdu.generate())

    def _resp(self, command: str, req: Any, status: int = 0, **fields: Any) -> None:
        pdu = smpp.make_pdu(command, client=self.seq, status=status, **fields)
        pdu.sequence = req.sequence
        self._send(pdu)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        span: Span | None = None
        try:
            while True:
                head = await reader.readexactly(4)
                (length,) = struct.unpack(">L", head)
                raw = head + await reader.readexactly(length - 4)
                pdu = smpp.parse_pdu(raw, client=self.seq, allow_unknown_opt_params=True)
                await self._on_pdu(pdu)
                if span is None and pdu.command.startswith("bind_") and self.binds[-1]["ok"]:
                    span = self.activity.begin(writer.get_extra_info("peername"), writer.get_extra_info("sockname"))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            if span is not None:
                self.activity.end(span)
            if self.writer is writer:
                self.writer = None
                self.bound.clear()
            writer.close()
            if task is not None:
                self._tasks.discard(task)

    async def _on_pdu(self, pdu: Any) -> None:
        cmd = pdu.command
        if cmd in ("bind_receiver", "bind_transceiver", "bind_transmitter"):
            ok = pdu.system_id == self.system_id.encode() and pdu.password == self.password.encode()
            self.binds.append({"command": cmd, "system_id": pdu.system_id, "ok": ok})
            self._resp(cmd + "_resp", pdu, status=0 if ok else consts.SMPP_ESME_RINVPASWD, system_id="SIMSC")
            if ok:
                self.bound.set()
        elif cmd == "enquire_link":
            self.enquire_links += 1
            self._resp("enquire_link_resp", pdu)
        elif cmd == "submit_sm":
            status = self.submit_status.pop(0) if self.submit_status else 0
            if status == 0:
                self.submits.append(pdu)
            self._resp("submit_sm_resp", pdu, status=status, message_id=f"sim-{len(self.submits)}")
            async with self.submitted:
                self.submitted.notify_all()
        elif cmd == "unbind":
            self.unbinds += 1
            self._resp("unbind_resp", pdu)
        elif cmd in ("deliver_sm_resp", "data_sm_resp", "enquire_link_resp", "generic_nack"):
            fut = self._resps.pop(pdu.sequence, None)
            if fut is not None and not fut.done():
                fut.set_result(pdu)

    # ------------------------------------------------------------------ test API
    async def deliver(self, timeout: float = 15, command: str = "deliver_sm", **fields: Any) -> int:
        """Send one deliver_sm (or data_sm); return the response's command_status."""
        base: dict[str, Any] = dict(service_type="", source_addr_ton=1, source_addr_npi=1,
                                    source_addr="6281234567890", dest_addr_ton=0, dest_addr_npi=0,
                                    destination_addr="1708", esm_class=0, protocol_id=0, priority_flag=0,
                                    registered_delivery=0, replace_if_present_flag=0, data_coding=0,
                                    sm_default_msg_id=0)
        if command == "data_sm":
            for name in ("protocol_id", "priority_flag", "replace_if_present_flag", "sm_default_msg_id"):
                base.pop(name)
        base.update(fields)
        pdu = smpp.make_pdu(command, client=self.seq, **base)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._resps[pdu.sequence] = fut
        self._send(pdu)
        resp = await asyncio.wait_for(fut, timeout)
        return int(resp.status)

    async def wait_submits(self, n: int, timeout: float = 20) -> list[Any]:
        async with self.submitted:
            await asyncio.wait_for(self.submitted.wait_for(lambda: len(self.submits) >= n), timeout)
        return self.submits
