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

Failures follow the sender base's status table (``channels.core.send``); a 2xx whose text is not the
gateway's success answer is permanent. Rate limiting per destination is the outbound worker's job.
"""

from __future__ import annotations

import random
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson
import redis.asyncio as aioredis

from channels.core.outbound import OutboundMessage, PermanentSendError, SendResult, TransientSendError
from channels.core.send import HttpSender, error_for_status
from channels.sms.dlr import DLR_MASK, JASMIN_LEVEL, jasmin_dlr_url, kannel_dlr_url
from channels.sms.encoding import concat_udh, fits_gsm, text_parts
from config.settings import Settings
from gateway import redis_clients

_JASMIN_ID = re.compile(r'^Success "([^"]+)"')


def send_routes(settings: Settings) -> dict[str, bool]:
    """Which ways out are configured (an SMPP receiver bind cannot send)."""
    return {"kannel": bool(settings.kannel_sendsms_url), "jasmin": bool(settings.jasmin_send_url),
            "smpp": bool(settings.smpp_host) and settings.smpp_bind_mode == "transceiver"}


def can_send(settings: Settings) -> bool:
    return any(send_routes(settings).values())


class SmsSender(HttpSender):
    def __init__(self, settings: Settings) -> None:
        super().__init__(timeout_s=15)
        self.settings = settings
        self._redis: aioredis.Redis | None = None

    async def close(self) -> None:
        await super().close()
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    def _route(self, msg: OutboundMessage) -> str:
        configured = send_routes(self.settings)
        if msg.provider and configured.get(msg.provider):
            return msg.provider
        for name in ("smpp", "kannel", "jasmin"):  # arrived another way: any configured route
            if configured[name]:
                return name
        raise PermanentSendError(f"no SMS send route configured (provider {msg.provider})", code="not_configured")

    def _source(self, msg: OutboundMessage) -> str:
        recipient = msg.meta.get("recipient")
        return str(recipient) if recipient else self.settings.sms_shortcode

    async def __call__(self, msg: OutboundMessage) -> SendResult:
        route = self._route(msg)
        if route == "kannel":
            return await self._kannel(msg)
        if route == "jasmin":
            return await self._jasmin(msg)
        return await self._smpp(msg)

    # ------------------------------------------------------------------ Kannel
    async def _kannel(self, msg: OutboundMessage) -> SendResult:
        """One ``sendsms`` per part: a long text goes as its parts, each with its concatenation UDH
        and its own ``dlr-url`` (``o`` = our outbound id, ``p`` = the part), so the delivery of
        every part is reported. The UDH reference stays below 128: Kannel takes ``udh`` as bytes
        and aiohttp encodes the parameter as UTF-8, identical to Latin-1 below 0x80."""
        s = self.settings
        oid = str(msg.meta.get("outbound_id") or "")
        texts = text_parts(msg.text)
        ref = random.randrange(128)
        coding = "0" if fits_gsm(msg.text) else "2"
        for n, text in enumerate(texts, 1):
            params = {"username": s.kannel_username or "", "password": s.secret(s.kannel_password) or "",
                      "from": self._source(msg), "to": msg.address.lstrip("+"), "text": text,
                      "charset": "UTF-8", "coding": coding}
            if len(texts) > 1:
                params["udh"] = concat_udh(ref, len(texts), n).decode("latin-1")
            if msg.provider == "kannel" and msg.thread:
                params["smsc"] = msg.thread
            url = kannel_dlr_url(s, oid, n)
            if url:
                params.update({"dlr-mask": str(DLR_MASK), "dlr-url": url})
            await self._http_send(str(s.kannel_sendsms_url), params, ok=lambda st, body: st in (200, 202))
        return SendResult(parts=len(texts))  # Kannel answers without an id: its reports carry ours

    # ------------------------------------------------------------------ Jasmin
    async def _jasmin(self, msg: OutboundMessage) -> SendResult:
        s = self.settings
        params = {"username": s.jasmin_username or "", "password": s.secret(s.jasmin_password) or "",
                  "to": msg.address.lstrip("+"), "from": self._source(msg)}
        if fits_gsm(msg.text):
            params.update(coding="0", content=msg.text)
        else:
            params.update(coding="8", **{"hex-content": msg.text.encode("utf-16-be").hex()})
        url = jasmin_dlr_url(s, str(msg.meta.get("outbound_id") or ""))
        if url:  # Jasmin reports the whole message under the id of its answer; ``o`` names ours too
            params.update({"dlr": "yes", "dlr-url": url, "dlr-level": str(JASMIN_LEVEL), "dlr-method": "POST"})
        body = await self._http_send(str(s.jasmin_send_url), params,
                                     ok=lambda st, body: st == 200 and body.startswith("Success"))
        found = _JASMIN_ID.match(body)
        return SendResult(provider_message_ids=(found.group(1),) if found else (), parts=len(text_parts(msg.text)))

    async def _http_send(self, url: str, params: dict[str, str], ok: Callable[[int, str], bool]) -> str:
        """GET the SMS gateway; its answer text when ``ok`` says it was accepted, else the status table's error."""
        reply = await self.request("sms", "GET", url, params=params)
        body = reply.text().strip()
        if ok(reply.status, body):
            return body
        # an SMS gateway may answer 200 with a refusal in the text: that is permanent too
        raise error_for_status(reply.status, retry_after=reply.retry_after, detail=body[:200]) or \
            PermanentSendError(f"HTTP {reply.status}: {body[:200]}")

    # ------------------------------------------------------------------ SMPP via the bind
    async def _smpp(self, msg: OutboundMessage) -> SendResult:
        from channels.sms.smpp import OUTBOX, bind_is_up, result_key  # smpplib: only with an SMPP route

        if self._redis is None:
            self._redis = redis_clients.connect(self.settings, max_connections=16)  # any deployment
        r = self._redis
        async with self.recorded("sms", "submit_sm", f"smpp://{self.settings.smpp_host}:{self.settings.smpp_port}"
                                 ) as note:
            if not await bind_is_up(r):
                note.status = "no_bind"
                raise TransientSendError("no SMPP transceiver bind is up", retry_after=5)
            rid = uuid.uuid4().hex
            wait = self.settings.sms_reply_wait_s
            doc = {"rid": rid, "to": msg.address, "from": self._source(msg), "text": msg.text,
                   "deadline": time.time() + wait}
            await r.xadd(OUTBOX, {"m": orjson.dumps(doc)}, maxlen=100_000, approximate=True)
            res: Any = await r.blpop([result_key(rid)], timeout=wait + 1)
            if res is None:
                note.status = "timeout"
                raise TransientSendError("SMPP bind did not answer in time")
            result = res[1].decode()
            kind, _, why = result.partition(":")
            note.status = kind
            if kind == "ok":  # "ok:<JSON list of submit_sm_resp message ids>" (bare "ok" from older binds)
                ids = tuple(str(i) for i in orjson.loads(why)) if why else ()
                return SendResult(provider_message_ids=ids, parts=len(ids) or None)
            if kind == "perm":
                raise PermanentSendError(f"submit_sm refused: {why}")
            raise TransientSendError(f"submit_sm failed: {why}")
