"""The Cloud API's send payloads and error codes, as pure functions.

Payloads: free text (optionally quoting the citizen's message with ``context``), the
interactive location request (the completeness question), and the approved template for
messages outside the 24-hour window. A citizen with a visible number is addressed with ``to``
(their wa_id); one known only by a business-scoped user id with ``recipient``: a BSUID in
``to`` is accepted and silently dropped.

Errors: throttling codes (per number, per recipient, per account, per app) and HTTP 429 are
retried later; transient server codes are retried; 131047 (window closed) is answered with the
template when one is configured; everything else is permanent, with the reason that tells the
core why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from channels.core.outbound import PermanentReason, PermanentSendError, SendError, TransientSendError
from channels.whatsapp.notifications import numeric

MAX_TEXT = 4096
MAX_INTERACTIVE_BODY = 1024
MAX_TEMPLATE_PARAM = 1000
REENGAGEMENT = 131047  # more than 24 hours since the citizen's last message

# code -> seconds to wait when the answer has no Retry-After
THROTTLED: dict[int, float] = {
    130429: 2.0,  # throughput of the business number reached
    131056: 10.0,  # too many messages to this citizen (pair rate limit)
    131048: 60.0,  # spam rate limit
    80007: 60.0,  # WhatsApp Business Account rate limit
    4: 60.0,  # application request limit
    133016: 60.0,  # registration/deregistration rate limit
}
TRANSIENT = {1, 2, 131000, 131016, 131053, 133004}
PERMANENT: dict[int, PermanentReason] = {
    REENGAGEMENT: "window_closed",
    131026: "invalid_recipient",  # undeliverable: not on WhatsApp, old app, terms not accepted
    131021: "invalid_recipient",  # recipient is the sender
    131030: "invalid_recipient",  # not on the allowed list of a test number
    131049: "blocked",  # held back by Meta (ecosystem engagement)
    131050: "blocked",  # the citizen stopped marketing messages
    131051: "rejected",  # unsupported message type
    100: "rejected",  # invalid parameter
    190: "not_configured",  # access token expired or invalid
    10: "not_configured",  # permission denied
    200: "not_configured",
    131031: "not_configured",  # business account locked
    131042: "not_configured",  # payment problem
    133010: "not_configured",  # phone number not registered
    132000: "rejected", 132001: "rejected", 132005: "rejected", 132007: "rejected", 132012: "rejected",
}

_SPACES = re.compile(r"[ \t\r\n]+")


@dataclass(frozen=True)
class GraphError:
    status: int
    code: int | None
    title: str

    def describe(self) -> str:
        return f"HTTP {self.status}, code {self.code}: {self.title[:200]}"


def graph_error(status: int, doc: dict[str, Any]) -> GraphError | None:
    """The error of a Graph answer, or None for a success."""
    raw = doc.get("error")
    err: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if 200 <= status < 300 and not err:
        return None
    code = err.get("code")
    title = str(err.get("error_user_title") or err.get("message") or err.get("type") or "")
    return GraphError(status, code if isinstance(code, int) else None, title)


def send_error(err: GraphError, retry_after: float | None) -> SendError:
    """The typed error the outbound workers act on (retry later, or fail with a reason)."""
    what = err.describe()
    code = err.code
    if err.status == 429 or code in THROTTLED:
        wait = retry_after if retry_after is not None else THROTTLED.get(code or 0, 60.0)
        return TransientSendError(f"whatsapp rate limited ({what})", retry_after=wait, rate_limited=True)
    if err.status >= 500 or code in TRANSIENT:
        return TransientSendError(f"whatsapp API error ({what})", retry_after=retry_after)
    reason = PERMANENT.get(code or 0, "rejected")
    return PermanentSendError(f"whatsapp refused ({what})", code=reason)


def address(to: str) -> dict[str, str]:
    """``to`` for a wa_id (a phone number), ``recipient`` for a business-scoped user id."""
    return {"to": to} if numeric(to) else {"recipient": to}


def _base(to: str) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", **address(to)}


def text_message(to: str, text: str, *, quote: str | None = None) -> dict[str, Any]:
    body = {**_base(to), "type": "text", "text": {"body": text[:MAX_TEXT], "preview_url": False}}
    if quote:
        body["context"] = {"message_id": quote}
    return body


def location_request(to: str, text: str, *, quote: str | None = None) -> dict[str, Any]:
    """The completeness question: WhatsApp shows a "Send location" button under ``text``."""
    body = {**_base(to), "type": "interactive", "interactive": {
        "type": "location_request_message", "body": {"text": text[:MAX_INTERACTIVE_BODY]},
        "action": {"name": "send_location"}}}
    if quote:
        body["context"] = {"message_id": quote}
    return body


def template_param(text: str) -> str:
    """Template parameters may not hold line breaks, tabs or runs of spaces; and are bounded."""
    flat = _SPACES.sub(" ", text).strip()
    return flat if len(flat) <= MAX_TEMPLATE_PARAM else flat[:MAX_TEMPLATE_PARAM - 1].rstrip() + "…"


def template_message(to: str, name: str, language: str, reference: str, text: str) -> dict[str, Any]:
    """The approved template: body parameters are the reference, then the text."""
    params = [{"type": "text", "text": template_param(reference)}, {"type": "text", "text": template_param(text)}]
    return {**_base(to), "type": "template", "template": {
        "name": name, "language": {"code": language},
        "components": [{"type": "body", "parameters": params}]}}


def sent_id(doc: dict[str, Any]) -> str | None:
    """The wamid of the message the API accepted (``messages[0].id``)."""
    msgs = doc.get("messages")
    first = msgs[0] if isinstance(msgs, list) and msgs and isinstance(msgs[0], dict) else {}
    wamid = first.get("id")
    return wamid if isinstance(wamid, str) and wamid else None
