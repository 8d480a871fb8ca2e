"""``POST /channels/telegram/webhook``: verify the secret token, parse, let intake store.

Telegram sends ``X-Telegram-Bot-Api-Secret-Token`` (set with ``setWebhook(secret_token=…)``) on
every call; it is checked before the body is read (missing 401, wrong 403, nothing stored).
Updates that are not complaints (channel posts, group chats, stickers) are answered 200 and
counted as skipped, so Telegram does not retry them for a day.
"""

from __future__ import annotations

from channels.core.inbound import BadRequest, ChannelRequest, Endpoint, ParseOutcome, UnsupportedMediaType, json_object
from channels.core.verify import SecretHeader
from channels.telegram.updates import NotAnUpdate, parse_update

PATH = "/channels/telegram/webhook"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def parse(req: ChannelRequest) -> ParseOutcome:
    ctype = req.request.content_type
    if ctype not in ("application/json", "application/octet-stream", ""):
        raise UnsupportedMediaType(f"expected application/json, got {ctype}")
    data = json_object(req.body)
    try:
        parsed = parse_update(data, allow_groups=req.settings.telegram_allow_groups,
                              raw=req.body.decode("utf-8", "replace"))
    except NotAnUpdate as exc:
        raise BadRequest(str(exc)) from None
    return ParseOutcome(messages=parsed.messages, skipped=parsed.skipped)


def endpoints() -> list[Endpoint]:
    return [Endpoint(channel="telegram", path=PATH, methods=("POST",), parse=parse,
                     authenticate=SecretHeader(HEADER, "telegram_secret"))]
