"""SMS replies (acknowledgements with the reference, help texts), by the way the SMS came in.

- ``kannel``: Kannel ``sendsms`` (GET, ``username``/``password``, ``from`` = our shortcode,
  ``to``, ``text``, ``smsc`` = the smsc-id it arrived on, ``coding`` 0 or 2 with
  ``charset=UTF-8``; Kannel splits long texts itself). Success: 202 ``0: Accepted for delivery``
  or 200 ``Sent.``.
- ``jasmin``: Jasmin HTTP API ``/send`` (``username``, ``password``, ``to``, ``from``, ``coding``,
  ``content``, or ``hex-content`` UTF-16BE for coding 8; Jasmin splits long content).
  Success: 200 ``Success "<msgid>"``.
- ``smpp``: the bind lives in the ``serve`` process, senders in worker processes: the reply goes
  onto ``lapor:smpp:outbox``; the bind submits it (GSM-7 or UCS-2, split, ``encoding.py``) and
  answers on a per-request list. No answer in ``sms_reply_wait_s`` ⇒ transient failure, so the
  outbound worker's retry/backoff still applies; the bind drops requests whose sender gave up.

Failures map to ``TransientSendError`` (network, 5xx, throttling) or ``PermanentSendError``
(4xx, not configured). Rate limiting per destination is the outbound worker's job.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import aiohttp
import orjson
import redis.asyncio as aioredis

from channels.sms.encoding import fits_gsm
from channels.sms.smpp import OUTBOX, bind_is_up, result_key
from config.settings import Settings
from dispatcher.outbound import OutboundMessage, PermanentSendError, TransientSendError
from gateway.logging import get_logger

log = get_logger("channels.sms.outbound")


class SmsSender:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._session: aiohttp.ClientSession | None = None
        self._redis: aioredis.Redis | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _route(self, msg: OutboundMessage) -> str:
        s = self.settings
        configured = {"kannel": bool(s.kannel_sendsms_url), "jasmin": bool(s.jasmin_send_url),
                      "smpp": bool(s.smpp_host) and s.smpp_bind_mode == "transceiver"}  # receivers cannot send
        if msg.provider and configured.get(msg.provider):
            return msg.provider
        for name in ("smpp", "kannel", "jasmin"):  # arrived another way: any configured route
            if configured[name]:
                return name
        raise PermanentSendError(f"no SMS send route configured (provider {msg.provider})")

    def _source(self, msg: OutboundMessage) -> str:
        recipient = msg.meta.get("recipient")
        return str(recipient) if recipient else self.settings.sms_shortcode

    async def __call__(self, msg: OutboundMessage) -> None:
        route = self._route(msg)
        if route == "kannel":
            await self._kannel(msg)
        elif route == "jasmin":
            await self._jasmin(msg)
        else:
            await self._smpp(msg)

    # ------------------------------------------------------------------ Kannel
    async def _kannel(self, msg: OutboundMessage) -> None:
        s = self.settings
        params = {"username": s.kannel_username or "", "password": s.secret(s.kannel_password) or "",
                  "from": self._source(msg), "to": msg.address.lstrip("+"), "text": msg.text,
                  "charset": "UTF-8", "coding": "0" if fits_gsm(msg.text) else "2"}
        if msg.provider == "kannel" and msg.thread:
            params["smsc"] = msg.thread
        await self._http_send(str(s.kannel_sendsms_url), params, ok=lambda st, body: st in (200, 202))

    # ------------------------------------------------------------------ Jasmin
    async def _jasmin(self, msg: OutboundMessage) -> None:
        s = self.settings
        params = {"username": s.jasmin_username or "", "password": s.secret(s.jasmin_password) or "",
                  "to": msg.address.lstrip("+"), "from": self._source(msg)}
        if fits_gsm(msg.text):
            params.update(coding="0", content=msg.text)
        else:
            params.update(coding="8", **{"hex-content": msg.text.encode("utf-16-be").hex()})
        await self._http_send(str(s.jasmin_send_url), params,
                              ok=lambda st, body: st == 200 and body.startswith("Success"))

    async def _http_send(self, url: str, params: dict[str, str], ok: object) -> None:
        try:
            async with self._http().get(url, params=params) as resp:
                body = (await resp.text(errors="replace")).strip()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransientSendError(f"{type(exc).__name__}") from None
        if callable(ok) and ok(status, body):
            return
        reason = f"HTTP {status}: {body[:200]}"
        if status in (429,) or status >= 500:
            raise TransientSendError(reason)
        raise PermanentSendError(reason)

    # ------------------------------------------------------------------ SMPP via the bind
    async def _smpp(self, msg: OutboundMessage) -> None:
        if self._redis is None:
            from gateway import redis_clients  # external Redis, Sentinel's primary or serve's embedded one

            self._redis = redis_clients.connect(self.settings, max_connections=16)
        r = self._redis
        if not await bind_is_up(r):
            raise TransientSendError("no SMPP transceiver bind is up", retry_after=5)
        rid = uuid.uuid4().hex
        wait = self.settings.sms_reply_wait_s
        doc = {"rid": rid, "to": msg.address, "from": self._source(msg), "text": msg.text,
               "deadline": time.time() + wait}
        await r.xadd(OUTBOX, {"m": orjson.dumps(doc)}, maxlen=100_000, approximate=True)
        res: Any = await r.blpop([result_key(rid)], timeout=wait + 1)
        if res is None:
            raise TransientSendError("SMPP bind did not answer in time")
        result = res[1].decode()
        if result == "ok":
            return
        kind, _, why = result.partition(":")
        if kind == "perm":
            raise PermanentSendError(f"submit_sm refused: {why}")
        raise TransientSendError(f"submit_sm failed: {why}")
