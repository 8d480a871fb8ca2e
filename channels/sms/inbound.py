"""The SMS channel's HTTP endpoints: the Kannel and Jasmin MO callbacks and delivery reports."""

from __future__ import annotations

from channels.core.inbound import Endpoint
from channels.sms import dlr, jasmin, kannel


def endpoints() -> list[Endpoint]:
    return [kannel.endpoint(), jasmin.endpoint(), *dlr.endpoints()]
