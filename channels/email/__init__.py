"""Email channel: raw MIME intake, the IMAP poller, agency forwards, SMTP acknowledgements."""

from __future__ import annotations

from channels.email.handler import endpoints
from channels.email.imap import services

__all__ = ["endpoints", "services"]
