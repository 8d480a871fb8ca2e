"""Email channel: raw MIME intake, the IMAP poller, agency forwards, SMTP acknowledgements."""

from __future__ import annotations

from channels.email.handler import endpoints
from channels.email.hooks import preprocessors
from channels.email.imap import services
from channels.email.send import senders

__all__ = ["endpoints", "preprocessors", "senders", "services"]
