"""SMS 1708: Kannel and Jasmin callbacks, the SMPP bind, multipart reassembly, SMS replies."""

from __future__ import annotations

from typing import Any

from channels.base import Endpoint
from config.settings import Settings


def endpoints() -> list[Endpoint]:
    from channels.sms import jasmin, kannel

    return [kannel.endpoint(), jasmin.endpoint()]


def services(ctx: Any) -> list[Any]:
    from channels.sms.smpp import SmppService

    if not ctx.settings.smpp_host or not ctx.settings.smpp_system_id:
        return []
    return [SmppService(ctx)]


def senders(settings: Settings) -> dict[str, Any]:
    from channels.sms.send import SmsSender

    return {"sms": SmsSender(settings)}


def preprocessors(settings: Settings) -> list[Any]:
    from channels.sms.hooks import SmsPreprocessor

    return [SmsPreprocessor(settings)]
