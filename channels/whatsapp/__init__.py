"""WhatsApp through Meta's Cloud API (channel key ``whatsapp``).

Citizens' messages arrive as signed webhook notifications and become records (channel and
identity kind ``whatsapp``, provider ``whatsapp-cloud``); statuses of what we sent go to the
delivery path; media are fetched into the blob store by a dispatcher hook; replies (the
acknowledgement, the completeness question, the core's messages) go out through the Cloud API
with the 24-hour window and the approved template outside it.
"""

from __future__ import annotations

from channels.core.spec import ChannelSpec, Enablement
from channels.whatsapp.hooks import preprocessors
from channels.whatsapp.inbound import endpoints
from channels.whatsapp.send import senders

__all__ = ["SPEC", "endpoints", "preprocessors", "senders"]

SPEC = ChannelSpec(
    key="whatsapp", package=__name__, records=("whatsapp",), identity_kinds=("whatsapp",),
    providers=("whatsapp-cloud",), labels={"whatsapp": "WhatsApp"},
    enabled_by=(Enablement("whatsapp", ("whatsapp_app_secret", "whatsapp_verify_token", "whatsapp_token")),),
    endpoints=endpoints, senders=senders, preprocessors=preprocessors,
)
