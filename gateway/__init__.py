"""The aiohttp app, intake, health, CLI and embedded Redis of lapor-gateway."""

from config.version import __version__

__all__ = ["__version__"]
