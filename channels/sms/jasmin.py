"""Jasmin HTTP MO callback: ``POST /channels/sms/jasmin`` (docs/channels.md, SMS).

Jasmin's deliverSmHttpThrower sends ``id, from, to, origin-connector, priority, coding,
validity, content, binary`` (form-encoded, or as a GET query). The text is decoded from
``binary`` (hex) + ``coding`` (SMPP data_coding) — ``content`` of a UCS-2 message is not
reliable. Jasmin counts a delivery only when the answer is 200 with the body ``ACK/Jasmin``,
so that body is produced only from intake results; on intake failure the wrapper's 503 makes
Jasmin retry. Jasmin normally reassembles long MOs itself; parts that still arrive separately
(SAR TLVs in ``tlv_params``, or a concatenation UDH at the start of ``binary``) are handed to the
dispatcher's reassembly like SMPP parts.
"""

from __future__ import annotations

import binascii
from typing import Any

import orjson
from aiohttp import web

from channels.core.inbound import BadRequest, ChannelRequest, Endpoint, ParseOutcome
from channels.core.ingest import Accepted
from channels.core.verify import QueryOrBasic
from channels.sms import decoding, message
from channels.sms.auth import form_params, raw_params, without_token

PATH = "/channels/sms/jasmin"
PROVIDER = "jasmin"


def _s(value: bytes | None) -> str:
    return value.decode("utf-8", "replace").strip() if value else ""


def _respond(_results: list[Accepted]) -> web.Response:
    return web.Response(text="ACK/Jasmin", content_type="text/plain")


def _sar(tlvs: bytes | None) -> decoding.Concat | None:
    if not tlvs:
        return None
    try:
        doc: Any = orjson.loads(tlvs)
    except orjson.JSONDecodeError:
        return None
    if isinstance(doc, list):  # [[tag, value], …] or [{"tag":…, "value":…}]
        flat: dict[str, Any] = {}
        for item in doc:
            if isinstance(item, dict) and "tag" in item:
                flat[str(item["tag"])] = item.get("value")
            elif isinstance(item, list | tuple) and len(item) == 2:
                flat[str(item[0])] = item[1]
        doc = flat
    if not isinstance(doc, dict):
        return None
    try:
        ref = int(doc["sar_msg_ref_num"])
        total = int(doc["sar_total_segments"])
        seq = int(doc["sar_segment_seqnum"])
    except (KeyError, TypeError, ValueError):
        return None
    return decoding.Concat(ref, total, seq) if total >= 1 and 1 <= seq <= total else None


async def parse(req: ChannelRequest) -> ParseOutcome:
    query = raw_params(req.request.rel_url.raw_query_string)
    fields = dict(query)
    if req.method == "POST":
        ctype = req.request.content_type
        if ctype not in ("application/x-www-form-urlencoded", "", "application/octet-stream", "text/plain"):
            raise BadRequest(f"expected a form-encoded body, got {ctype}")
        fields = {**query, **form_params(req.body)}
    msg_id, sender = _s(fields.get("id")), _s(fields.get("from"))
    if not msg_id:
        raise BadRequest("missing id")
    if not sender:
        raise BadRequest("missing from")
    coding_raw = _s(fields.get("coding"))
    try:
        coding = int(coding_raw) if coding_raw else 0
    except ValueError:
        raise BadRequest("coding is not a number") from None
    hexdata = _s(fields.get("binary"))
    if hexdata:
        try:
            data = binascii.unhexlify(hexdata)
        except (binascii.Error, ValueError):
            raise BadRequest("binary is not hex") from None
    else:
        data = fields.get("content", b"")
    codec = decoding.codec_for_data_coding(coding, req.settings.smpp_default_alphabet)
    concat = _sar(fields.get("tlv_params")) or _sar(fields.get("custom_tlvs"))
    if concat is None and decoding.looks_like_concat_udh(data):
        concat, data, _ok = decoding.split_udh(data)
    connector = _s(fields.get("origin-connector")) or None
    msg = message.build(
        provider=PROVIDER, native_id=f"jasmin:{msg_id}", sender=sender, recipient=_s(fields.get("to")), data=data,
        codec=codec, concat=concat, thread=connector,
        extra_meta={"origin_connector": connector, "data_coding": coding,
                    "priority": _s(fields.get("priority")) or None},
        raw=without_token(req.body.decode("latin-1") if req.method == "POST"
                          else req.request.rel_url.raw_query_string),
    )
    return ParseOutcome(messages=[msg], respond=_respond)


def endpoint() -> Endpoint:
    return Endpoint(channel="sms", path=PATH, methods=("GET", "POST"), parse=parse,
                    authenticate=QueryOrBasic("token", "sms_token"),
                    max_body=256 * 1024)
