"""``GET/POST /channels/whatsapp/webhook``: the subscription handshake and signed notifications.

The signature (``X-Hub-Signature-256``, HMAC-SHA256 of the raw body with the app secret) is
checked by the endpoint wrapper before anything is parsed: absent 401, wrong 403, nothing stored.
A signed notification is always answered 200 once its messages are stored, including the parts
we cannot use (statuses go to the delivery path, the rest is counted): Meta retries failing
deliveries for days and disables webhooks that keep failing.
"""

from __future__ import annotations

from channels.core.inbound import BadRequest, ChannelRequest, Endpoint, ParseOutcome, json_object
from channels.core.verify import Signature, hmac_hex, hub_handshake
from channels.whatsapp.notifications import CHANNEL, parse_notification
from config.settings import Settings

PATH = "/channels/whatsapp/webhook"
SIGNATURE_HEADER = "X-Hub-Signature-256"
MAX_BODY = 1024 * 1024  # a notification carries at most a few dozen small messages


def sign(body: bytes, secret: str) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends for ``body``."""
    return hmac_hex(secret, body)


async def handshake(req: ChannelRequest) -> ParseOutcome:
    """Subscription check (``GET``): echo ``hub.challenge`` when mode and verify token are right."""
    return hub_handshake(req, Settings.secret(req.settings.whatsapp_verify_token))


async def parse(req: ChannelRequest) -> ParseOutcome:
    doc = json_object(req.body)
    if not isinstance(doc.get("object"), str) or not isinstance(doc.get("entry"), list):
        raise BadRequest("expected {\"object\": ..., \"entry\": [...]}")
    parsed = parse_notification(doc, req.body)
    return ParseOutcome(messages=parsed.messages, skipped=parsed.skipped, statuses=parsed.statuses)


def endpoints() -> list[Endpoint]:
    return [Endpoint(channel=CHANNEL, path=PATH, methods=("GET",), parse=handshake),
            Endpoint(channel=CHANNEL, path=PATH, methods=("POST",), parse=parse, max_body=MAX_BODY,
                     authenticate=Signature(SIGNATURE_HEADER, "whatsapp_app_secret"))]
