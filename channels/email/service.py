"""The email channel's long-running service: the IMAP poller, when a mailbox is configured."""

from __future__ import annotations

from typing import Any

from channels.core.service import Service
from config.settings import Settings


def imap_configured(settings: Settings) -> bool:
    return bool(settings.imap_host and settings.imap_user and Settings.secret(settings.imap_password))


def services(ctx: Any) -> list[Service]:
    if not imap_configured(ctx.settings):
        return []
    from channels.email.imap import ImapPoller  # imapclient only where a mailbox is configured

    return [ImapPoller(ctx)]
