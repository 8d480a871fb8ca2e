"""The aiohttp app, intake, health, CLI and embedded Redis of lapor-gateway."""

__version__ = "0.1.0"
