"""SMS 1708: Kannel and Jasmin callbacks, the SMPP bind, multipart reassembly, SMS replies."""

from __future__ import annotations

from typing import Any

from channels.core.spec import ChannelSpec, Enablement
from channels.sms.inbound import endpoints
from channels.sms.service import services
from config.settings import Settings


def senders(settings: Settings) -> dict[str, Any]:
    """No send route (Kannel ``sendsms``, Jasmin ``/send`` or an SMPP transceiver): no SMS sender, so
    nothing waits for an SMS that cannot go out."""
    from channels.sms.send import SmsSender, can_send

    return {"sms": SmsSender(settings)} if can_send(settings) else {}


def preprocessors(settings: Settings) -> list[Any]:
    from channels.sms.hooks import SmsPreprocessor

    return [SmsPreprocessor(settings)]


SPEC = ChannelSpec(
    key="sms", package=__name__, records=("sms",), identity_kinds=("msisdn",),
    providers=("kannel", "jasmin", "smpp"), labels={"sms": "SMS 1708"},
    enabled_by=(Enablement("sms", ("sms_token",)),),
    endpoints=endpoints, services=services, senders=senders, preprocessors=preprocessors,
)

__all__ = ["SPEC", "endpoints", "preprocessors", "senders", "services"]
