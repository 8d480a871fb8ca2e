"""Delivery reports for the SMS we send: Kannel DLR and Jasmin receipt callbacks.

We put a ``dlr-url`` on every send that names our own outbound id (``o``) and, for Kannel,
the part (``p``) and ``type=%d``, plus the SMS token, so a report needs no lookup table and is
authenticated like an MO. ``GET/POST /channels/sms/kannel/dlr``: ``type`` 1 delivered, 2
failed at the phone, 4 queued at the SMSC (= sent), 8 delivered to the SMSC (= sent), 16
failed at the SMSC. ``POST /channels/sms/jasmin/dlr``: ``id`` (the message id of the
``/send`` answer), ``message_status`` (``ESME_ROK`` at SMSC level = sent, any other
``ESME_*`` = failed; ``DELIVRD`` delivered; ``EXPIRED``/``UNDELIV``/``REJECTD``/``DELETED``
failed; ``ACCEPTD``/``ENROUTE``/``UNKNOWN`` say nothing new), answered ``ACK/Jasmin`` (else
Jasmin retries). The wrapper records the reports before answering; Redis down ⇒ 503 and the
gateway retries. A report is never a complaint: nothing is spooled.
"""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlencode

from aiohttp import web

from channels.core.inbound import BadRequest, ChannelRequest, DeliveryReport, Endpoint, ParseOutcome
from channels.core.ingest import Accepted
from channels.core.verify import QueryOrBasic
from channels.sms.auth import form_params, raw_params
from config.settings import Settings

KANNEL_PATH = "/channels/sms/kannel/dlr"
JASMIN_PATH = "/channels/sms/jasmin/dlr"
DLR_MASK = 31  # every Kannel report: delivered, failed, queued at SMSC, sent to SMSC, SMSC failure
JASMIN_LEVEL = 3  # SMSC and terminal level

KANNEL_TYPES: dict[int, tuple[str, str | None]] = {1: ("delivered", None), 2: ("failed", "undeliverable"),
                                                   4: ("sent", None), 8: ("sent", None), 16: ("failed", "rejected")}
JASMIN_FINAL: dict[str, tuple[str, str | None]] = {
    "DELIVRD": ("delivered", None), "EXPIRED": ("failed", "expired"), "UNDELIV": ("failed", "undeliverable"),
    "REJECTD": ("failed", "rejected"), "DELETED": ("failed", "undeliverable"),
}


def public_base(settings: Settings) -> str:
    """Where providers reach us: ``LAPOR_PUBLIC_URL``, else this process's own address."""
    return (settings.public_url or f"http://{settings.http_host}:{settings.http_port}").rstrip("/")


def kannel_dlr_url(settings: Settings, outbound_id: str, part: int) -> str | None:
    """The ``dlr-url`` of one ``sendsms`` (Kannel substitutes ``%d``); None when reports cannot
    be authenticated (no SMS token) or the message has no outbound id."""
    token = Settings.secret(settings.sms_token)
    if not token or not outbound_id:
        return None
    query = urlencode({"o": outbound_id, "p": part, "token": token})
    return f"{public_base(settings)}{KANNEL_PATH}?{query}&type=%d"


def jasmin_dlr_url(settings: Settings, outbound_id: str) -> str | None:
    token = Settings.secret(settings.sms_token)
    if not token or not outbound_id:
        return None
    return f"{public_base(settings)}{JASMIN_PATH}?{urlencode({'o': outbound_id, 'token': token})}"


def _s(value: bytes | None) -> str:
    return value.decode("utf-8", "replace").strip() if value else ""


def _fields(req: ChannelRequest) -> dict[str, bytes]:
    fields = raw_params(req.request.rel_url.raw_query_string)
    if req.method == "POST" and req.body:
        fields = {**form_params(req.body), **fields}  # our own o/p/token in the URL win
    return fields


async def parse_kannel(req: ChannelRequest) -> ParseOutcome:
    f = _fields(req)
    oid = _s(f.get("o"))
    if not oid:
        raise BadRequest("missing o (outbound id)")
    try:
        dlr_type = int(_s(f.get("type")))
        part = int(_s(f.get("p")) or "1")
    except ValueError:
        raise BadRequest("type and p must be numbers") from None
    if dlr_type not in KANNEL_TYPES:
        return ParseOutcome(skipped=Counter({"dlr_type": 1}), respond=_ok)
    status, code = KANNEL_TYPES[dlr_type]
    rep = DeliveryReport(channel="sms", status=status, outbound_id=oid, part=part, error_code=code,
                         error_detail=f"Kannel DLR type {dlr_type}" if code else None)
    return ParseOutcome(statuses=[rep], respond=_ok)


def _jasmin_status(message_status: str) -> tuple[str, str | None] | None:
    if message_status in JASMIN_FINAL:
        return JASMIN_FINAL[message_status]
    if message_status == "ESME_ROK":
        return "sent", None
    if message_status.startswith("ESME_"):
        return "failed", "rejected"
    return None  # ACCEPTD, ENROUTE, UNKNOWN: nothing new


async def parse_jasmin(req: ChannelRequest) -> ParseOutcome:
    f = _fields(req)
    msg_id, message_status = _s(f.get("id")), _s(f.get("message_status"))
    if not msg_id or not message_status:
        raise BadRequest("missing id or message_status")
    found = _jasmin_status(message_status)
    if found is None:
        return ParseOutcome(skipped=Counter({"dlr_interim": 1}), respond=_ack)
    status, code = found
    oid = _s(f.get("o")) or None
    rep = DeliveryReport(channel="sms", status=status, provider_id=None if oid else msg_id, outbound_id=oid,
                         error_code=code, error_detail=f"Jasmin {message_status}"[:100] if code else None)
    return ParseOutcome(statuses=[rep], respond=_ack)


def _ok(_results: list[Accepted]) -> web.Response:
    return web.Response(text="ok", content_type="text/plain")


def _ack(_results: list[Accepted]) -> web.Response:
    return web.Response(text="ACK/Jasmin", content_type="text/plain")


def endpoints() -> list[Endpoint]:
    auth = QueryOrBasic("token", "sms_token")
    return [Endpoint(channel="sms", path=KANNEL_PATH, methods=("GET", "POST"), parse=parse_kannel,
                     authenticate=auth, max_body=16 * 1024),
            Endpoint(channel="sms", path=JASMIN_PATH, methods=("POST",), parse=parse_jasmin,
                     authenticate=auth, max_body=16 * 1024)]
