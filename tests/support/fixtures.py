"""pytest fixtures: a real redis-server, settings, and the real gateway app on a loopback socket."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis
import redis.asyncio as aioredis
from aiohttp import web

from config.settings import Settings
from tests.support.redis_proc import RedisProc

# the secrets every test gateway runs with (the smoke suite uses its own)
# worker processes the tests start inherit this: their complaints go straight to the core, as in
# every test written before hold-and-ask; the hold-and-ask tests set LAPOR_COMPLETENESS_WAIT_S
os.environ.setdefault("LAPOR_COMPLETENESS_WAIT_S", "0")
TOKENS: dict[str, str] = {
    "http_token": "test-http-token",
    "sms_token": "test-sms-token",
    "admin_token": "test-admin-token-0123456789",
    "meta_app_secret": "test-meta-app-secret",
    "meta_verify_token": "test-meta-verify",
    "meta_page_token": "test-meta-page-token",
    "twitter_consumer_secret": "test-x-consumer-secret",
    "twitter_bearer_token": "test-x-bearer",
    "twitter_user_id": "2818371708",
    "telegram_bot_token": "123456:TEST-telegram-token",
    "telegram_secret": "test-telegram-secret",
    "email_token": "test-email-token",
    "whatsapp_app_secret": "test-whatsapp-app-secret",
    "whatsapp_verify_token": "test-whatsapp-verify",
    "whatsapp_token": "test-whatsapp-token",
    "whatsapp_phone_number_id": "106540352242922",
}
# Tests never leave loopback: with the tokens above a gateway would poll X and send acks to the
# real provider APIs; every provider base URL points at a closed loopback port unless a test
# passes its fake's URL, and the X poller is off unless a test turns it on.
OFFLINE: dict[str, str] = {
    "twitter_poll": "false",
    "twitter_api_url": "http://127.0.0.1:9",
    "telegram_api_url": "http://127.0.0.1:9",
    "meta_graph_url": "http://127.0.0.1:9/v21.0",
    "whatsapp_graph_url": "http://127.0.0.1:9/v21.0",
}


@pytest.fixture(scope="session")
def redis_proc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProc]:
    proc = RedisProc(tmp_path_factory.mktemp("redis")).start()
    yield proc
    proc.stop()


@pytest.fixture
def redis_url(redis_proc: RedisProc) -> str:
    if redis_proc.proc is None or redis_proc.proc.poll() is not None:
        redis_proc.start()  # a previous test stopped it
    redis_proc.client().flushall()
    return redis_proc.url


@pytest.fixture
def rsync(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
async def r(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def make_settings(redis_url: str, tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {**TOKENS, **OFFLINE}
        values.update(redis_url=redis_url, data_dir=tmp_path / "data", claim_idle_ms=300, max_attempts=3,
                      spool_flush_interval_s=0.1, ack_backoff_s=0.05,
                      alert_startup_grace_s=0, alert_hold_s=0,  # alerts at once; damping tests turn it on
                      completeness_wait_s=0)  # records go straight to the core; hold-and-ask tests turn it on
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


class GatewayUnderTest:
    """The real aiohttp app on 127.0.0.1:<free port>, plus in-loop workers on demand."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runner: web.AppRunner | None = None
        self.url = ""
        self.session: aiohttp.ClientSession | None = None
        self.tasks: list[asyncio.Task[Any]] = []
        self.workers: list[Any] = []
        self.app: web.Application | None = None

    async def start(self) -> GatewayUnderTest:
        from gateway.app import build_app

        assert self.settings.redis_url
        self.app = build_app(self.settings, self.settings.redis_url)
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        host, port = self.runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        self.session = aiohttp.ClientSession()
        return self

    @property
    def ctx(self) -> Any:
        from gateway.context import ctx_of

        assert self.app is not None
        return ctx_of(self.app)

    async def start_worker(self, senders: dict[str, Any] | None = None, preprocessors: list[Any] | None = None,
                           **overrides: Any) -> Any:
        from channels import registry
        from dispatcher.delivery import StatusEngine, status_queue
        from dispatcher.outbound import OutboundWorker
        from dispatcher.worker import DispatchWorker

        settings = self.settings.model_copy(update=overrides) if overrides else self.settings
        r = aioredis.Redis.from_url(settings.redis_url or "")
        pre = registry.preprocessors(settings) if preprocessors is None else preprocessors
        senders = senders if senders is not None else registry.senders(settings)
        dw = DispatchWorker(r, settings, preprocessors=pre, reply_channels=set(senders))
        engine = StatusEngine(r, status_queue(settings), settings.route_ttl_days * 86400,
                              outbox=bool(settings.core_redis_url) and settings.core_redis_url != settings.redis_url)
        ow = OutboundWorker(r, senders, dw.consumer,
                            max_attempts=settings.ack_max_attempts, backoff_s=settings.ack_backoff_s,
                            rate_per_minute=settings.ack_rate_per_minute, engine=engine)
        self.workers.append((dw, ow, r))
        self.tasks.append(asyncio.create_task(dw.run()))
        self.tasks.append(asyncio.create_task(ow.run()))
        return dw

    async def request(self, method: str, path: str, **kw: Any) -> tuple[int, bytes, Any]:
        assert self.session is not None
        async with self.session.request(method, self.url + path, **kw) as resp:
            return resp.status, await resp.read(), resp.headers

    async def post(self, path: str, **kw: Any) -> tuple[int, bytes, Any]:
        return await self.request("POST", path, **kw)

    async def get(self, path: str, **kw: Any) -> tuple[int, bytes, Any]:
        return await self.request("GET", path, **kw)

    async def stop(self) -> None:
        for dw, ow, _r in self.workers:
            dw.stop()
            ow.stop()
        for t in self.tasks:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError, Exception):
                await asyncio.wait_for(t, 5)
        for _dw, _ow, r in self.workers:
            await r.aclose()
        if self.session:
            await self.session.close()
        if self.runner:
            await self.runner.cleanup()


@pytest.fixture
async def gateway(settings: Settings) -> AsyncIterator[GatewayUnderTest]:
    gw = await GatewayUnderTest(settings).start()
    yield gw
    await gw.stop()


@pytest.fixture
async def make_gateway(make_settings: Callable[..., Settings]) -> AsyncIterator[Callable[..., Any]]:
    """For tests that need non-default settings: ``gw = await make_gateway(sms_token=None)``."""
    started: list[GatewayUnderTest] = []

    async def make(**overrides: Any) -> GatewayUnderTest:
        gw = await GatewayUnderTest(make_settings(**overrides)).start()
        started.append(gw)
        return gw

    yield make
    for gw in started:
        await gw.stop()
