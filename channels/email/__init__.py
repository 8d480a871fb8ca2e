"""Email channel: raw MIME intake, the IMAP poller, agency forwards, SMTP acknowledgements."""

from __future__ import annotations

from channels.email.handler import endpoints
from channels.email.imap import services
from channels.email.send import senders
from channels.email.threads import preprocessors

__all__ = ["endpoints", "preprocessors", "senders", "services"]
