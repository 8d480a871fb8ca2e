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
from collections.abc import Callable
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
FLAPS_KEY = keys.ALERT_FLAPS_PREFIX
FLAPPING_KEY = keys.ALERT_FLAPPING
FLAPPING = "flapping"

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
        return self.state not in ALARM_STATES and self.state != FLAPPING

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
    """stdlib smtplib in a thread: ``smtps://user:pass@host:465`` or ``smtp://user:pass@host:587``.

    Credentials never cross the network in clear: with a user in the URL, ``smtp://`` always
    upgrades with STARTTLS (and fails if the server does not offer it). Only a loopback server
    may be used without TLS, and only when the URL says ``?insecure=1`` (tests, a local relay).
    """

    name = "email"

    def __init__(self, smtp_url: str, sender: str, to: str, timeout_s: float) -> None:
        u = urlsplit(smtp_url)
        if u.scheme not in ("smtp", "smtps"):
            raise ValueError("LAPOR_SMTP_URL must start with smtp:// or smtps://")
        self.tls = u.scheme == "smtps"
        q = parse_qs(u.query)
        flag = lambda name: q.get(name, ["0"])[0].lower() in ("1", "true", "yes")  # noqa: E731
        self.host = u.hostname or "localhost"
        self.port = u.port or (465 if self.tls else 25)
        self.user = unquote(u.username) if u.username else None
        self.password = unquote(u.password) if u.password else None
        insecure = flag("insecure")
        if insecure and not _is_loopback(self.host):
            raise ValueError("LAPOR_SMTP_URL: insecure=1 is only allowed for a loopback SMTP server")
        self.starttls = not self.tls and (flag("starttls") or (self.user is not None and not insecure))
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


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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


@dataclass
class Damping:
    """When a state change becomes an alert (see the module docstring); zeros alert at once."""

    startup_grace_s: float = 0.0
    hold_s: float = 0.0
    flap_window_s: float = 1800.0
    flap_threshold: int = 4

    @classmethod
    def from_settings(cls, s: Settings) -> Damping:
        return cls(s.alert_startup_grace_s, s.alert_hold_s, s.alert_flap_window_s, s.alert_flap_threshold)


class AlertWatcher:
    """Evaluates health periodically and sends one alert per alarming transition, damped:

    - nothing during ``startup_grace_s`` after this watcher started (workers are still coming up);
    - a new state must be seen continuously for ``hold_s`` before it counts;
    - ``flap_threshold`` transitions of one component within ``flap_window_s`` send one "flapping"
      alert, then silence for that component until it has held one state for a whole window,
      when one alert gives the state it settled in. Transition times live in Redis, so every
      gateway process agrees on what is flapping.
    """

    def __init__(self, model: HealthModel, r: aioredis.Redis, sinks: list[Sink], interval_s: float = 30.0,
                 damping: Damping | None = None, clock: Callable[[], float] = time.time) -> None:
        self.model, self.redis, self.sinks, self.interval_s = model, r, sinks, interval_s
        self.damping, self.clock = damping or Damping(), clock
        self.started_at = clock()
        self._swap = r.register_script(_SWAP)
        self._outage: dict[str, str] = {}  # alarms this process sent while Redis was down
        self._seen: dict[str, tuple[str, float]] = {}  # component -> (state observed, since)
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
        now = self.clock()
        metrics.CHANNEL_STATE.clear()
        for c in report.channels:
            metrics.CHANNEL_STATE.labels(c.channel, c.state).set(1)
        metrics.CHANNEL_STATE.labels("pipeline", report.pipeline.state).set(1)
        comps = [(c.channel, c.state, c.reason, c.reason_id) for c in report.channels]
        comps.append(("pipeline", report.pipeline.state, report.pipeline.reason, report.pipeline.reason_id))
        sent: list[Alert] = []
        in_grace = now - self.started_at < self.damping.startup_grace_s
        for name, state, reason, reason_id in comps:
            seen = self._seen.get(name)
            if seen is None or seen[0] != state:
                self._seen[name] = seen = (state, now)
            if in_grace or now - seen[1] < self.damping.hold_s:
                continue  # not yet: starting up, or the state has not held long enough
            alert = await self._settled(name, state, reason, reason_id, now)
            if alert is not None:
                await self._send(alert)
                sent.append(alert)
        return sent

    async def _settled(self, name: str, state: str, reason: str, reason_id: str, now: float) -> Alert | None:
        """The alert (if any) for a component whose state has held: transition, flapping, or settled."""
        previous = await self._transition(name, state)
        try:
            if previous is not None:
                return await self._on_transition(name, previous, state, reason, reason_id, now)
            return await self._maybe_settled(name, state, reason, reason_id, now)
        except REDIS_ERRORS:  # no shared flap record: plain transitions only
            if previous is not None and (state in ALARM_STATES or previous in ALARM_STATES):
                return Alert(name, previous, state, reason, reason_id, now)
            return None

    async def _on_transition(self, name: str, previous: str, state: str, reason: str, reason_id: str,
                             now: float) -> Alert | None:
        key = FLAPS_KEY + name
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(key, {f"{now}:{state}": now})
            pipe.zremrangebyscore(key, 0, now - self.damping.flap_window_s)
            pipe.zcard(key)
            pipe.expire(key, int(self.damping.flap_window_s * 2) + 60)
            _a, _b, transitions, _c = await pipe.execute()
        if await self.redis.hexists(FLAPPING_KEY, name):
            return None  # already said once
        if previous and int(transitions) >= self.damping.flap_threshold:
            if await self.redis.hsetnx(FLAPPING_KEY, name, now):
                return Alert(name, previous, FLAPPING, f"flapping: {int(transitions)} state changes in "
                             f"{self.damping.flap_window_s / 60:.0f} min, now {state} ({reason}); "
                             "no more alerts until it holds one state",
                             f"tidak stabil: {int(transitions)} perubahan status dalam "
                             f"{self.damping.flap_window_s / 60:.0f} menit, kini {state} ({reason_id})", now)
            return None
        if state in ALARM_STATES or previous in ALARM_STATES:
            return Alert(name, previous, state, reason, reason_id, now)
        return None

    async def _maybe_settled(self, name: str, state: str, reason: str, reason_id: str,
                             now: float) -> Alert | None:
        """A flapping component that held one state for a whole window: say where it settled, once."""
        since = await self.redis.hget(FLAPPING_KEY, name)
        if since is None:
            return None
        newest = await self.redis.zrevrange(FLAPS_KEY + name, 0, 0, withscores=True)
        last_change = float(newest[0][1]) if newest else float(since)
        if now - last_change < self.damping.flap_window_s:
            return None
        if not await self.redis.hdel(FLAPPING_KEY, name):
            return None  # another process said it
        return Alert(name, FLAPPING, state, f"stable again: {reason}", f"stabil kembali: {reason_id}", now)

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
        return keys.text(old)

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
