"""Email channel: raw MIME intake, the IMAP poller, agency forwards, SMTP acknowledgements."""

from __future__ import annotations

from channels.core.spec import ChannelSpec, Enablement
from channels.email.hooks import preprocessors
from channels.email.inbound import endpoints
from channels.email.send import senders
from channels.email.service import services

SPEC = ChannelSpec(
    key="email", package=__name__, records=("email",), identity_kinds=("email",),
    providers=("mta", "imap"), labels={"email": "email"},
    enabled_by=(Enablement("email", ("email_token",)),
                Enablement("imap", ("imap_host", "imap_user", "imap_password"))),
    endpoints=endpoints, services=services, senders=senders, preprocessors=preprocessors,
)

__all__ = ["SPEC", "endpoints", "preprocessors", "senders", "services"]
