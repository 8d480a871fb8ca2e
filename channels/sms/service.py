"""The SMS channel's long-running service: the SMPP bind, when an SMSC is configured."""

from __future__ import annotations

from typing import Any

from channels.core.service import Service


def services(ctx: Any) -> list[Service]:
    if not ctx.settings.smpp_host or not ctx.settings.smpp_system_id:
        return []
    from channels.sms.smpp import SmppService  # smpplib only where an SMSC is configured

    return [SmppService(ctx)]
