"""``POST /channels/email/inbound`` — one raw RFC 5322 message piped by an MTA.

Bearer ``LAPOR_EMAIL_TOKEN``, ``Content-Type: message/rfc822``. Attachments go to the blob
store while parsing (content-addressed writes are idempotent, so a retried delivery costs
nothing); the MTA gets its 2xx only after intake stored the message. A mail that is not a
complaint (auto-reply, bounce, list, our own acknowledgement) is answered 200 ``skipped``.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from aiohttp import web

from channels.core.inbound import (
    BadRequest,
    ChannelRequest,
    Endpoint,
    ParseOutcome,
    UnsupportedMediaType,
    record_respond,
)
from channels.core.verify import Bearer
from channels.email.mime import build
from gateway.blobs import FileBlobStore

PATH = "/channels/email/inbound"
_TYPES = {"message/rfc822", "application/octet-stream", "text/plain", ""}


async def parse(req: ChannelRequest) -> ParseOutcome:
    if req.request.content_type not in _TYPES:
        raise UnsupportedMediaType(f"expected message/rfc822, got {req.request.content_type}")
    if not req.body.strip():
        raise BadRequest("empty message")
    blobs = FileBlobStore(req.settings.blobs_path, req.settings.blob_max_bytes)
    try:
        result = await asyncio.to_thread(build, req.body, req.settings, blobs, provider="http-mime")
    except OSError:  # the blob store cannot write (disk full, unmounted): the MTA must retry later
        return ParseOutcome(response=web.json_response({"error": "attachment storage unavailable, retry"},
                                                       status=503, headers={"Retry-After": "60"}))
    if result.skipped is not None:
        reason = result.skipped
        # a bounce of our mail: its failed statuses are recorded before the MTA hears 200
        return ParseOutcome(skipped=Counter({reason: 1}), statuses=result.statuses,
                            respond=lambda _r: web.json_response({"status": "skipped", "reason": reason}))
    return ParseOutcome(messages=result.messages, respond=record_respond)


def endpoints() -> list[Endpoint]:
    return [Endpoint(channel="email", path=PATH, methods=("POST",), parse=parse, max_body="email_max_body_bytes",
                     authenticate=Bearer("email_token"))]
