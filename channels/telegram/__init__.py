"""Telegram bot channel: webhook or long polling, a short conversation, sendMessage acks."""

from channels.telegram.hooks import preprocessors
from channels.telegram.polling import services
from channels.telegram.send import senders
from channels.telegram.webhook import endpoints

__all__ = ["endpoints", "preprocessors", "senders", "services"]
