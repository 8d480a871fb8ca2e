"""Generic JSON channel (``api``): agencies' own systems submit complaints directly."""

from channels.api.inbound import endpoints, openapi
from channels.core.spec import ChannelSpec, Enablement

SPEC = ChannelSpec(
    key="api", package=__name__, records=("api",), identity_kinds=("api", "msisdn", "email"),
    providers=("http-api",), labels={"api": "sistem instansi"},
    enabled_by=(Enablement("api", ("http_token",)),),
    endpoints=endpoints, openapi=openapi,
)

__all__ = ["SPEC", "endpoints"]
