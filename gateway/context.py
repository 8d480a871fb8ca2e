"""The objects a running gateway process shares between its routes and background tasks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web

from config.settings import Settings
from gateway.channel_log import ChannelLog
from gateway.ingest import GatewayIngest
from gateway.intake import Intake


@dataclass
class GatewayContext:
    settings: Settings
    redis: aioredis.Redis
    intake: Intake
    channel_log: ChannelLog
    # name -> state dict, published by pollers/binds for health (connected, last error, …)
    pollers: dict[str, dict[str, Any]] = field(default_factory=dict)
    background: list[Any] = field(default_factory=list)
    # what channels use to hand over messages (``channels.core.ingest.Ingest``)
    ingest: GatewayIngest = field(init=False)

    def __post_init__(self) -> None:
        self.ingest = GatewayIngest(self.intake, self.channel_log, self.redis)


CTX_KEY: web.AppKey[GatewayContext] = web.AppKey("lapor_ctx", GatewayContext)


def ctx_of(app: web.Application) -> GatewayContext:
    return app[CTX_KEY]
