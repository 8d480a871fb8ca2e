"""Kannel MO callback: ``GET/POST /channels/sms/kannel`` (docs/channels.md, SMS).

``get-url``: ``?token=…&kid=%I&from=%p&to=%P&smsc=%i&ts=%T&coding=%c&charset=%C&udh=%u&bin=%b``
where ``bin`` and ``udh`` are raw bytes, URL-encoded — so the query string is parsed here
byte-exactly instead of through aiohttp's str-decoding ``request.query``. ``post-url``: the
message bytes are the body, the facts come as ``X-Kannel-*`` headers (``X-Kannel-UDH`` in hex),
``kid`` stays in the URL. Success is 202 (Kannel accepts 200 or 202), only after intake.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from channels.core.inbound import BadRequest, ChannelRequest, Endpoint, ParseOutcome
from channels.core.ingest import Accepted
from channels.core.verify import QueryOrBasic
from channels.sms import decoding, message
from channels.sms.auth import form_params, raw_params, without_token

PATH = "/channels/sms/kannel"
PROVIDER = "kannel"


def _s(value: bytes | None) -> str:
    return value.decode("utf-8", "replace").strip() if value else ""


def _int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def _time(ts: str) -> datetime | None:
    """``%T`` (unix epoch) or ``%t``/``X-Kannel-Time`` (``YYYY-MM-DD[+ ]HH:MM[:SS]``, GMT)."""
    ts = ts.strip().replace("+", " ")
    if not ts:
        return None
    if ts.isdigit():
        try:
            return datetime.fromtimestamp(int(ts), UTC)
        except (OverflowError, OSError, ValueError):
            return None
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(ts, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _fields(req: ChannelRequest, query: dict[str, bytes]) -> dict[str, Any]:
    """The MO's facts from either the get-url query or the post-url body + headers."""
    h = req.headers
    if req.method == "POST" and ("X-Kannel-From" in h or "from" not in query):
        if "X-Kannel-From" not in h and req.request.content_type == "application/x-www-form-urlencoded":
            query = {**form_params(req.body), **query}
        else:
            try:
                udh = bytes.fromhex(h.get("X-Kannel-UDH", "").strip())
            except ValueError:
                raise BadRequest("X-Kannel-UDH is not hex") from None
            charset = h.get("X-Kannel-Charset") or req.request.charset or ""
            return {"kid": _s(query.get("kid")), "from": h.get("X-Kannel-From", ""), "to": h.get("X-Kannel-To", ""),
                    "smsc": h.get("X-Kannel-SMSC", ""), "ts": h.get("X-Kannel-Time", ""),
                    "coding": h.get("X-Kannel-Coding", ""), "charset": charset, "udh": udh, "bin": req.body}
    if "bin" in query:
        data = query["bin"]
    elif "text" in query:
        data = query["text"]
    else:
        data = b""
    return {"kid": _s(query.get("kid")), "from": _s(query.get("from")), "to": _s(query.get("to")),
            "smsc": _s(query.get("smsc")), "ts": _s(query.get("ts") or query.get("time")),
            "coding": _s(query.get("coding")), "charset": _s(query.get("charset")),
            "udh": query.get("udh", b""), "bin": data}


def _respond(results: list[Accepted]) -> web.Response:
    status = "duplicate" if results and results[0].duplicate else "accepted"
    return web.json_response({"status": status, "id": results[0].record_id if results else None}, status=202)


async def parse(req: ChannelRequest) -> ParseOutcome:
    query = raw_params(req.request.rel_url.raw_query_string)
    f = _fields(req, query)
    sender = f["from"].strip()
    if not sender:
        raise BadRequest("missing sender (from / X-Kannel-From)")
    concat = None
    udh: bytes = f["udh"]
    if udh:
        concat, _rest, ok = decoding.split_udh(udh)
        if not ok:
            raise BadRequest("malformed UDH")
    codec = decoding.codec_for_kannel(_int(f["coding"]) if f["coding"] else None, f["charset"] or None)
    data: bytes = f["bin"]
    kid = f["kid"]
    if not kid:  # no %I configured: a content hash keeps smsbox retries idempotent
        digest = hashlib.sha256(b"\0".join([sender.encode(), f["to"].encode(), f["ts"].encode(), udh, data]))
        kid = "h-" + digest.hexdigest()[:32]
    msg = message.build(
        provider=PROVIDER, native_id=f"kannel:{kid}", sender=sender, recipient=f["to"], data=data, codec=codec,
        sent_at=_time(f["ts"]), concat=concat, thread=f["smsc"] or None,
        extra_meta={"smsc": f["smsc"] or None, "kannel_coding": f["coding"] or None,
                    "charset": f["charset"] or None},
        raw=without_token(req.request.rel_url.raw_query_string) if req.method == "GET"
        else without_token(req.body.decode("latin-1")) if "X-Kannel-From" not in req.headers
        else req.body.decode("latin-1"),
    )
    return ParseOutcome(messages=[msg], respond=_respond)


def endpoint() -> Endpoint:
    return Endpoint(channel="sms", path=PATH, methods=("GET", "POST"), parse=parse,
                    authenticate=QueryOrBasic("token", "sms_token"),
                    max_body=64 * 1024)
