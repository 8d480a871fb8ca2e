"""``GET/POST /channels/meta/webhook``: Meta's handshake, the signature, and the batch split.

The signature is checked over the raw body bytes, in constant time, before anything is parsed
(docs/channels.md, Meta). A delivery may carry many entries and events: they become one intake batch,
and one bad event is skipped and counted without failing the others.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

import orjson

from channels.core.inbound import (
    BadRequest,
    ChannelRequest,
    DeliveryReport,
    Endpoint,
    ParseOutcome,
    json_object,
)
from channels.core.verify import Signature, hmac_hex, hub_handshake
from channels.meta.events import EntryContext, InvalidEvent, MetaChannel, from_change, from_messaging, when
from channels.meta.receipts import receipt_reports
from config.settings import Settings
from gateway.logging import get_logger
from normalizer.models import InboundMessage

log = get_logger("channels.meta")

PATH = "/channels/meta/webhook"
CHANNEL = "meta"  # health / channel log / metrics key
MAX_BODY = 8 * 1024 * 1024  # Meta batches up to 1000 updates; a few KB each at most
_OBJECTS: dict[str, MetaChannel] = {"page": "facebook", "instagram": "instagram"}


SIGNATURE_HEADER = "X-Hub-Signature-256"


def sign(body: bytes, secret: str) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends for ``body``."""
    return hmac_hex(secret, body)


async def handshake(req: ChannelRequest) -> ParseOutcome:
    """Subscription check (``GET``): echo ``hub.challenge`` when mode and verify token are right."""
    return hub_handshake(req, Settings.secret(req.settings.meta_verify_token))


def split(doc: dict[str, Any], body: bytes,
          statuses: list[DeliveryReport] | None = None) -> tuple[list[InboundMessage], Counter[str]]:
    """Every citizen event of a delivery, and the count of the rest by reason; ``delivery``/``read``
    receipts of our messages go to ``statuses`` when given (else they are skipped like before)."""
    skipped: Counter[str] = Counter()
    obj = doc.get("object")
    channel = _OBJECTS.get(obj) if isinstance(obj, str) else None
    if channel is None:
        skipped["unsupported_object"] += 1
        return [], skipped
    entries = doc["entry"]
    events = sum(len(e.get("messaging") or []) + len(e.get("changes") or []) for e in entries
                 if isinstance(e, dict) and isinstance(e.get("messaging") or [], list)
                 and isinstance(e.get("changes") or [], list))
    whole = body.decode("utf-8", "replace") if events == 1 else None
    body_sha = hashlib.sha256(body).hexdigest()
    messages: list[InboundMessage] = []
    for ei, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str | int):
            skipped["invalid"] += 1
            log.warning("meta.invalid_entry", entry=ei)
            continue
        account = str(entry["id"])
        etime = when(entry.get("time"))
        for key, parse in (("messaging", from_messaging), ("changes", from_change)):
            items = entry.get(key) or []
            if not isinstance(items, list):
                skipped["invalid"] += 1
                continue
            for ev in items:
                raw = whole or _event_raw(doc["object"], entry, key, ev)
                ctx = EntryContext(channel=channel, account_id=account, time=etime, raw=raw)
                if statuses is not None and key == "messaging" and isinstance(ev, dict):
                    reports = receipt_reports(channel, ev)
                    if reports is not None:
                        statuses.extend(reports)
                        continue
                try:
                    if not isinstance(ev, dict):
                        raise InvalidEvent(f"{key} item is not an object")
                    result = parse(ctx, ev)
                except (InvalidEvent, ValueError, TypeError) as exc:  # pydantic errors are ValueErrors
                    skipped["invalid"] += 1
                    log.warning("meta.invalid_event", entry=ei, kind=key, error=type(exc).__name__,
                                reason=str(exc)[:120] if isinstance(exc, InvalidEvent) else None)
                    continue
                if isinstance(result, str):
                    skipped[result] += 1
                else:
                    result.meta["body_sha256"] = body_sha
                    messages.append(result)
        standby = entry.get("standby")
        if standby:  # handover protocol: another app owns the thread
            skipped["standby"] += len(standby) if isinstance(standby, list) else 1
    return messages, skipped


def _event_raw(obj: str, entry: dict[str, Any], key: str, ev: Any) -> str:
    """One event of a batch with its envelope (the whole body stays identified by ``body_sha256``)."""
    return orjson.dumps({"object": obj, "entry": [{"id": entry.get("id"), "time": entry.get("time"),
                                                   key: [ev]}]}).decode()


async def parse(req: ChannelRequest) -> ParseOutcome:
    doc = json_object(req.body)
    if not isinstance(doc.get("object"), str) or not isinstance(doc.get("entry"), list):
        raise BadRequest("expected {\"object\": ..., \"entry\": [...]}")
    statuses: list[DeliveryReport] = []
    messages, skipped = split(doc, req.body, statuses)
    return ParseOutcome(messages=messages, skipped=skipped, statuses=statuses)


def endpoints() -> list[Endpoint]:
    return [Endpoint(channel=CHANNEL, path=PATH, methods=("GET",), parse=handshake),
            Endpoint(channel=CHANNEL, path=PATH, methods=("POST",), parse=parse, max_body=MAX_BODY,
                     authenticate=Signature(SIGNATURE_HEADER, "meta_app_secret"))]
