"""Alerts to admins when a channel (or the pipeline) turns ``failing``/``silent`` and when it recovers.

Once per transition, whichever gateway process sees it first: the last state of each component
lives in a Redis hash and a Lua script swaps it atomically, so only the process whose swap
changed the state sends. While Redis itself is down the swap cannot run; then each process
remembers locally what it told the admins and sends the recovery itself when Redis is back.
Sinks: a webhook URL (JSON), email through ``LAPOR_SMTP_URL`` and a Telegram admin chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import aiohttp
import orjson
import redis.asyncio as aioredis

from config.settings import Settings
from gateway import keys, metrics
from gateway.health_model import ALARM_STATES, HealthModel, HealthReport
from gateway.intake import REDIS_ERRORS
from gateway.logging import get_logger

log = get_logger("gateway.alerts")

STATE_KEY = keys.ALERT_STATE  # hash component -> last state seen
LOG_KEY = keys.ALERT_LOG  # list of sent alerts, newest first
LOG_SIZE = 100

# returns the previous state ("" when none) if the state changed, nil when it is the same
_SWAP = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old == ARGV[2] then return false end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if old then return old end
return ''
"""


@dataclass
class Alert:
    component: str
    previous: str
    state: str
    reason: str
    reason_id: str
    at: float

    @property
    def recovered(self) -> bool:
        return self.state not in ALARM_STATES

    def text(self) -> str:
        head = "PULIH / RECOVERED" if self.recovered else self.state.upper()
        prev = self.previous or "?"
        return (f"[LAPOR! gateway] {head}: {self.component} {prev} → {self.state}\n"
                f"{self.reason_id}\n{self.reason}")

    def to_dict(self) -> dict[str, Any]:
        return {"component": self.component, "previous": self.previous, "state": self.state,
                "reason": self.reason, "reason_id": self.reason_id, "at": self.at, "recovered": self.recovered,
                "text": self.text()}


class Sink(Protocol):
    name: str

    async def send(self, alert: Alert) -> None: ...


class WebhookSink:
    name = "webhook"

    def __init__(self, url: str, timeout_s: float) -> None:
        self.url, self.timeout = url, aiohttp.ClientTimeout(total=timeout_s)

    async def send(self, alert: Alert) -> None:
        async with aiohttp.ClientSession(timeout=self.timeout) as s, \
                s.post(self.url, json=alert.to_dict()) as resp:
            if resp.status >= 300:
                raise RuntimeError(f"webhook answered {resp.status}")


class TelegramSink:
    """Bot API ``sendMessage`` to the admin chat."""

    name = "telegram"

    def __init__(self, api_url: str, token: str, chat_id: str, timeout_s: float) -> None:
        self.url = f"{api_url.rstrip('/')}/bot{token}/sendMessage"
        self.chat_id, self.timeout = chat_id, aiohttp.ClientTimeout(total=timeout_s)

    async def send(self, alert: Alert) -> None:
        async with aiohttp.ClientSession(timeout=self.timeout) as s, \
                s.post(self.url, json={"chat_id": self.chat_id, "text": alert.text()[:4096],
                                       "disable_web_page_preview": True}) as resp:
            doc = await resp.json(content_type=None)
            if resp.status != 200 or not doc.get("ok"):
                raise RuntimeError(f"telegram answered {resp.status}: {doc.get('description', '')}"[:200])


class EmailSink:
    """stdlib smtplib in a thread: ``smtp://user:pass@host:port`` (``?starttls=1``) or ``smtps://``."""

    name = "email"

    def __init__(self, smtp_url: str, sender: str, to: str, timeout_s: float) -> None:
        u = urlsplit(smtp_url)
        if u.scheme not in ("smtp", "smtps"):
            raise ValueError("LAPOR_SMTP_URL must start with smtp:// or smtps://")
        self.tls = u.scheme == "smtps"
        q = parse_qs(u.query)
        self.starttls = q.get("starttls", ["0"])[0].lower() in ("1", "true", "yes")
        self.host = u.hostname or "localhost"
        self.port = u.port or (465 if self.tls else 25)
        self.user = unquote(u.username) if u.username else None
        self.password = unquote(u.password) if u.password else None
        self.sender, self.to, self.timeout = sender, [a.strip() for a in to.split(",") if a.strip()], timeout_s

    def _send_sync(self, alert: Alert) -> None:
        msg = EmailMessage()
        msg["From"], msg["To"] = self.sender, ", ".join(self.to)
        msg["Subject"] = alert.text().splitlines()[0]
        msg.set_content(alert.text())
        cls = smtplib.SMTP_SSL if self.tls else smtplib.SMTP
        with cls(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(msg)

    async def send(self, alert: Alert) -> None:
        await asyncio.to_thread(self._send_sync, alert)


def sinks_from(settings: Settings) -> list[Sink]:
    out: list[Sink] = []
    t = settings.alert_timeout_s
    if settings.alert_webhook_url:
        out.append(WebhookSink(settings.alert_webhook_url, t))
    smtp = settings.secret(settings.smtp_url)
    if smtp and settings.alert_email_to:
        out.append(EmailSink(smtp, settings.smtp_from, settings.alert_email_to, t))
    token = settings.secret(settings.telegram_bot_token)
    if token and settings.alert_telegram_chat_id:
        out.append(TelegramSink(settings.telegram_api_url, token, settings.alert_telegram_chat_id, t))
    return out


class AlertWatcher:
    """Evaluates health periodically and sends one alert per alarming transition."""

    def __init__(self, model: HealthModel, r: aioredis.Redis, sinks: list[Sink], interval_s: float = 30.0) -> None:
        self.model, self.redis, self.sinks, self.interval_s = model, r, sinks, interval_s
        self._swap = r.register_script(_SWAP)
        self._outage: dict[str, str] = {}  # alarms this process sent while Redis was down
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.last_report: HealthReport | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="alert-watcher")

    async def stop(self) -> None:
        self._stopping.set()  # a client library may turn the cancellation into another error: stop anyway
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.evaluate()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("alerts.evaluate_failed", error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval_s)

    async def evaluate(self) -> list[Alert]:
        """One round: compute health, swap states, send what changed. Returns the alerts sent."""
        report = await self.model.report()
        self.last_report = report
        metrics.CHANNEL_STATE.clear()
        for c in report.channels:
            metrics.CHANNEL_STATE.labels(c.channel, c.state).set(1)
        metrics.CHANNEL_STATE.labels("pipeline", report.pipeline.state).set(1)
        comps = [(c.channel, c.state, c.reason, c.reason_id) for c in report.channels]
        comps.append(("pipeline", report.pipeline.state, report.pipeline.reason, report.pipeline.reason_id))
        sent: list[Alert] = []
        for name, state, reason, reason_id in comps:
            previous = await self._transition(name, state)
            if previous is None:
                continue
            if state in ALARM_STATES or previous in ALARM_STATES:
                alert = Alert(name, previous, state, reason, reason_id, report.generated_at)
                await self._send(alert)
                sent.append(alert)
        return sent

    async def _transition(self, name: str, state: str) -> str | None:
        try:
            old = await self._swap(keys=[STATE_KEY], args=[name, state])
        except REDIS_ERRORS:
            prev = self._outage.get(name)
            if prev == state or (prev is None and state not in ALARM_STATES):
                return None
            self._outage[name] = state
            return prev or ""
        if name in self._outage:  # Redis is back (maybe empty): finish what this process announced alone
            local = self._outage.pop(name)
            return local if local != state else None
        if old is None:
            return None
        return old.decode() if isinstance(old, bytes) else str(old)

    async def _send(self, alert: Alert) -> None:
        results: dict[str, str] = {}
        for sink in self.sinks:
            try:
                await sink.send(alert)
                results[sink.name] = "sent"
            except Exception as exc:
                results[sink.name] = f"failed: {type(exc).__name__}"
                log.warning("alerts.sink_failed", sink=sink.name, error=type(exc).__name__)
        log.info("alerts.sent", component=alert.component, previous=alert.previous, state=alert.state,
                 sinks=results)
        doc = dict(alert.to_dict(), sinks=results, sent_at=time.time())
        with contextlib.suppress(*REDIS_ERRORS):
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.lpush(LOG_KEY, orjson.dumps(doc))
                pipe.ltrim(LOG_KEY, 0, LOG_SIZE - 1)
                await pipe.execute()


async def recent_alerts(r: aioredis.Redis, limit: int = 20) -> list[dict[str, Any]]:
    return [orjson.loads(x) for x in await r.lrange(LOG_KEY, 0, limit - 1)]
