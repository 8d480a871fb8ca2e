"""The email channel's long-running service: the IMAP poller, when a mailbox is configured."""

from __future__ import annotations

from typing import Any

from channels.core.service import Service
from channels.email.imap import ImapPoller, imap_configured


def services(ctx: Any) -> list[Service]:
    return [ImapPoller(ctx)] if imap_configured(ctx.settings) else []
