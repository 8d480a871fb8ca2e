"""The aiohttp app, intake, health, CLI and embedded Redis of lapor-gateway."""

from gateway.version import __version__

__all__ = ["__version__"]
