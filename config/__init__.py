"""Settings and shipped default rule files."""

from config.settings import ChannelStatus, Settings, load_settings

__all__ = ["ChannelStatus", "Settings", "load_settings"]
