"""Dispatcher preprocessor: a citizen's reply to our acknowledgement becomes a ``follow_up``.

The SMTP sender stores ``our Message-ID → record id`` before sending; a mail whose
``In-Reply-To`` or ``References`` names one of those ids is linked to that record
(``NormalizeContext.in_reply_to``) and flagged ``follow_up``. Anything else passes unchanged.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from channels.core.hooks import Decision, Emit, Preprocessor
from gateway import keys
from normalizer.models import InboundMessage
from normalizer.normalize import NormalizeContext


def thread_key(message_id: str) -> str:
    return keys.email_ack_message_id(message_id)


class EmailThreads(Preprocessor):
    def applies(self, msg: InboundMessage) -> bool:
        return msg.channel == "email" and bool(msg.meta.get("in_reply_to") or msg.meta.get("references"))

    async def prepare(self, r: aioredis.Redis, msg: InboundMessage) -> Decision:
        ids = [msg.meta.get("in_reply_to"), *reversed(msg.meta.get("references") or [])]
        candidates = list(dict.fromkeys(i for i in ids if isinstance(i, str) and i))[:20]
        if candidates:
            for rid in await r.mget([thread_key(c) for c in candidates]):
                if rid:
                    record_id = str(keys.text(rid))
                    return Decision(emit=[Emit([msg], NormalizeContext(in_reply_to=record_id,
                                                                       extra_flags=["follow_up"]))])
        return Decision.single(msg)



def preprocessors(settings: Any) -> list[Any]:
    return [EmailThreads()]
