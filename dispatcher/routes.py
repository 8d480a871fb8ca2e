"""Routes kept per record: how to reach the citizen of a complaint months later.

Written in the same atomic commit that hands the record to the core (``DispatchWorker._commit``),
so a record in the core always has its route. Kept ``LAPOR_ROUTE_TTL_DAYS``. The citizen's
last message time per ``<channel>:<address>`` is kept beside it for the Meta/WhatsApp windows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import redis.asyncio as aioredis

from dispatcher import outbound_keys as ok


@dataclass(frozen=True)
class Route:
    record_id: str
    channel: str  # the record's channel (sms, twitter, facebook, …)
    reply_to: dict[str, Any] | None  # the record's reply_to: channel, address, thread, private
    message_ids: list[str]  # the citizen's native message id(s)
    provider: str | None
    recipient: str | None  # our number/account it arrived on (SMS shortcode, page)
    identity: str | None
    identity_kind: str | None
    confidential: bool
    anonymous: bool
    received_at: str | None

    def to_json(self) -> bytes:
        return orjson.dumps(self.__dict__)

    @classmethod
    def from_json(cls, raw: bytes | str) -> Route:
        doc = orjson.loads(raw)
        return cls(**{k: doc.get(k) for k in cls.__dataclass_fields__})


def route_of(record: dict[str, Any]) -> Route:
    source = record.get("source") or {}
    reporter = record.get("reporter") or {}
    return Route(record_id=record["id"], channel=record["channel"], reply_to=record.get("reply_to"),
                 message_ids=list(source.get("message_ids") or []), provider=source.get("provider"),
                 recipient=source.get("recipient"), identity=reporter.get("identity"),
                 identity_kind=reporter.get("identity_kind"), confidential=bool(record.get("confidential")),
                 anonymous=bool(record.get("anonymous")), received_at=record.get("received_at"))


def _unix(ts: str | None) -> float | None:
    if not ts:
        return None
    try:
        return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def route_json(record: dict[str, Any]) -> bytes:
    """``route_of(record).to_json()``, built straight from the record (no dataclass per record)."""
    source = record.get("source") or {}
    reporter = record.get("reporter") or {}
    return orjson.dumps({
        "record_id": record["id"], "channel": record["channel"], "reply_to": record.get("reply_to"),
        "message_ids": list(source.get("message_ids") or []), "provider": source.get("provider"),
        "recipient": source.get("recipient"), "identity": reporter.get("identity"),
        "identity_kind": reporter.get("identity_kind"), "confidential": bool(record.get("confidential")),
        "anonymous": bool(record.get("anonymous")), "received_at": record.get("received_at")})


def write_route(record: dict[str, Any], ttl_s: int, pipe: Any) -> None:
    """Queue on ``pipe`` (inside the core commit): the record's route and last-seen time."""
    # plain SET … EX: a fraction of redis-py's ``set()`` keyword handling, once per record
    pipe.execute_command("SET", ok.route(record["id"]), route_json(record), "EX", ttl_s)
    reply_to = record.get("reply_to")
    if reply_to:
        seen = _unix(record.get("received_at"))
        if seen is not None:
            pipe.execute_command("SET", ok.last_seen(reply_to["channel"], reply_to["address"]), int(seen), "EX", ttl_s)


async def read_route(r: aioredis.Redis, record_id: str) -> Route | None:
    raw = await r.get(ok.route(record_id))
    return None if raw is None else Route.from_json(raw)


async def last_seen(r: aioredis.Redis, channel: str, address: str) -> float | None:
    raw = await r.get(ok.last_seen(channel, address))
    return None if raw is None else float(raw)
