"""Generic JSON channel (``api``): agencies' own systems submit complaints directly."""

from channels.http.handler import endpoints

__all__ = ["endpoints"]
