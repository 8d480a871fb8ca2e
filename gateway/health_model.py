"""Health of each channel and of the pipeline: ``ok``, ``degraded``, ``failing``, ``silent``, ``disabled``.

Everything is read from Redis (metrics history, service states, pipeline numbers), so any
process — a gateway, the alert loop, ``lapor-gateway status`` — computes the same answer.
The clock is injectable: tests write a history in the past and choose "now".

Errors are classified so that only what needs a human is an alarm: authentication failures
(a wrong shared secret, an expired token) are ``failing`` with "needs new credentials"; a
poller that lost its server only for a moment is ``degraded`` (it retries by itself) and
``failing`` once it has been down longer than ``health_service_grace_s``; bad input is
``degraded``. "Silent" compares recent volume with what the channel's own history says is
normal for this hour of the week (or of the day, while less than two weeks are known).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import redis.asyncio as aioredis

from channels import registry
from config.settings import ChannelStatus, Settings
from gateway import metrics
from gateway.intake import REDIS_ERRORS
from gateway.presence import published_statuses, read_gateways
from gateway.services import read_states

STATES = ("ok", "degraded", "failing", "silent", "disabled")
SEVERITY = {"disabled": 0, "ok": 1, "degraded": 2, "silent": 3, "failing": 4}
ALARM_STATES = ("failing", "silent")



def cards() -> dict[str, tuple[str, ...]]:
    """A dashboard card per channel (its spec's key) and the metric channels that feed it (adapters
    count under the channel key, the dispatcher under the record's channel, e.g. facebook/instagram)."""
    return registry.cards()


def card_of_metric() -> dict[str, str]:
    return {m: card for card, ms in cards().items() for m in ms}

WINDOWS_MIN = (15, 30, 60, 120, 180, 360)  # candidate look-back windows for "silent"
MIN_EXPECTED = 5.0  # a window must expect this many messages before zero of them means something
MIN_ALARM_EVENTS = 3  # at least this many rejected requests before an error rate is an alarm


@dataclass
class Reason:
    en: str
    id: str


@dataclass
class ChannelHealth:
    channel: str
    state: str
    reason: str
    reason_id: str
    enabled: bool
    last_message_at: float | None = None
    volume_24h: list[int] = field(default_factory=list)  # per hour, oldest first, last = current hour
    recent: dict[str, int] = field(default_factory=dict)  # outcomes over the health window
    day: dict[str, int] = field(default_factory=dict)  # outcomes over 24 h
    services: list[dict[str, Any]] = field(default_factory=list)
    expected_per_hour: float | None = None
    history_days: float = 0.0


@dataclass
class PipelineHealth:
    state: str
    reason: str
    reason_id: str
    numbers: dict[str, Any] = field(default_factory=dict)


@dataclass
class HealthReport:
    generated_at: float
    status: str
    channels: list[ChannelHealth]
    pipeline: PipelineHealth

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def problems(self) -> list[str]:
        out = [f"{c.channel}: {c.state}: {c.reason}" for c in self.channels if c.state in ALARM_STATES]
        if self.pipeline.state == "failing":
            out.append(f"pipeline: failing: {self.pipeline.reason}")
        return out


def _worst(states: list[str]) -> str:
    return max(states, key=lambda s: SEVERITY[s]) if states else "ok"


def _ago(seconds: float) -> tuple[str, str]:
    m = int(seconds // 60)
    if m < 60:
        return f"{m} min", f"{m} menit"
    h = m / 60
    return f"{h:.0f} h", f"{h:.0f} jam"


class HealthModel:
    def __init__(self, settings: Settings, r: aioredis.Redis, *, core_redis: aioredis.Redis | None = None,
                 spool_pending: Callable[[], int] | None = None, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.redis = r
        self.core_redis = core_redis or r
        self.spool_pending = spool_pending or (lambda: 0)
        self.clock = clock
        self._published: list[ChannelStatus] | None = None

    # ------------------------------------------------------------------------------------ report
    async def report(self) -> HealthReport:
        now = self.clock()
        try:
            pipeline = await self._pipeline()
            services = await read_states(self.redis)
            gateways = await read_gateways(self.redis)
            pipeline.numbers["gateways_alive"] = len(gateways)
            self._published = published_statuses(gateways)
            channels = [await self._channel(card, enabled, reasons, services, now)
                        for card, (enabled, reasons) in self._cards().items()]
        except REDIS_ERRORS as exc:
            pipeline = PipelineHealth(
                "failing", f"Redis unreachable ({type(exc).__name__}); webhooks go to the local spool "
                f"({self.spool_pending()} waiting)",
                f"Redis tidak terjangkau ({type(exc).__name__}); webhook disimpan di spool lokal "
                f"({self.spool_pending()} menunggu)", {"redis_up": 0, "spool_pending": self.spool_pending()})
            channels = [ChannelHealth(card, "degraded", "health data unavailable: Redis down",
                                      "data kesehatan tidak tersedia: Redis mati", enabled) if enabled else
                        ChannelHealth(card, "disabled", "; ".join(reasons), "; ".join(reasons), enabled)
                        for card, (enabled, reasons) in self._cards().items()]
        status = _worst([c.state for c in channels] + [pipeline.state])
        return HealthReport(now, status, channels, pipeline)

    def _cards(self) -> dict[str, tuple[bool, list[str]]]:
        cards: dict[str, tuple[bool, list[str]]] = {}
        status_card = registry.status_cards()
        # what the running gateways publish (gateway.presence); this process's settings only when none runs
        statuses = self._published if self._published is not None else self.settings.channel_statuses()
        for st in statuses:
            card = status_card.get(st.name, st.name)
            enabled, reasons = cards.get(card, (False, []))
            cards[card] = (enabled or st.enabled, [*reasons, st.reason])
        return cards

    # ----------------------------------------------------------------------------------- pipeline
    async def _pipeline(self) -> PipelineHealth:
        from gateway.health import pipeline_numbers

        nums = await pipeline_numbers(self.redis, self.core_redis, self.settings.core_queue)
        nums["spool_pending"] = self.spool_pending()
        nums["redis_up"] = 1
        if not nums["workers_alive"]:
            return PipelineHealth("failing", "no dispatcher worker alive: messages wait in the stream",
                                  "tidak ada worker dispatcher: pesan menunggu di stream", nums)
        if nums["dead_letters"] >= self.settings.dead_letter_max:
            return PipelineHealth(
                "failing", f"dead-letter store full ({nums['dead_letters']}): failed messages are held on the stream",
                f"penyimpanan surat mati penuh ({nums['dead_letters']}): pesan gagal ditahan di stream", nums)
        problems: list[Reason] = []
        if nums["dead_letters"]:
            problems.append(Reason(f"{nums['dead_letters']} dead letter(s) to look at",
                                   f"{nums['dead_letters']} surat mati perlu diperiksa"))
        if nums["spool_pending"]:
            problems.append(Reason(f"{nums['spool_pending']} message(s) waiting in the local spool",
                                   f"{nums['spool_pending']} pesan menunggu di spool lokal"))
        if nums["stream_backlog"] > self.settings.health_backlog_degraded:
            problems.append(Reason(f"stream backlog {nums['stream_backlog']}",
                                   f"antrean stream {nums['stream_backlog']}"))
        if nums["outbound_dead"]:
            problems.append(Reason(f"{nums['outbound_dead']} acknowledgement(s) failed for good",
                                   f"{nums['outbound_dead']} balasan gagal terkirim"))
        if problems:
            return PipelineHealth("degraded", "; ".join(p.en for p in problems), "; ".join(p.id for p in problems),
                                  nums)
        return PipelineHealth("ok", "flowing", "lancar", nums)

    # ------------------------------------------------------------------------------------ channel
    async def _channel(self, card: str, enabled: bool, reasons: list[str], services: dict[str, dict[str, Any]],
                       now: float) -> ChannelHealth:
        sources = cards().get(card, (card,))
        window_s = self.settings.health_window_s
        recent: Counter[str] = Counter()
        minutes_by_source = {}
        for src in sources:
            series = await metrics.minute_series(self.redis, src, now - max(window_s, WINDOWS_MIN[-1] * 60), now + 1)
            minutes_by_source[src] = series
            for b in series[-max(1, int(window_s // 60)):]:
                recent.update(b)
        hour_now = int(now // 3600) * 3600
        hours = [hour_now - 3600 * i for i in range(23, -1, -1)]
        day: Counter[str] = Counter()
        vol24 = [0] * 24
        for src in sources:
            for i, b in enumerate(await metrics.hour_series(self.redis, src, hours)):
                day.update(b)
                vol24[i] += metrics.volume(b)
        last = None
        for src in sources:
            score = await self.redis.zscore(metrics.LAST_SEEN, src)
            if score is not None:
                last = max(last or 0.0, float(score))
        of_metric = card_of_metric()
        svc = [dict(s) for s in services.values()
               if of_metric.get(str(s.get("channel")), s.get("channel")) == card]
        h = ChannelHealth(card, "ok", "", "", enabled, last, vol24, dict(recent), dict(day), svc)
        if not enabled:
            h.state, h.reason = "disabled", "; ".join(r for r in reasons if r.startswith("disabled"))
            h.reason_id = h.reason.replace("disabled:", "nonaktif:").replace("not set", "belum diatur")
            return h
        findings: list[tuple[str, Reason]] = []
        findings += self._service_findings(svc, now)
        findings += self._rate_findings(recent)
        silent = await self._silence(sources, minutes_by_source, now, h)
        if silent is not None:
            findings.append(silent)
        if not findings:
            if h.expected_per_hour is None and h.history_days < 1:
                h.reason, h.reason_id = "ok (learning what is normal)", "normal (sedang mempelajari pola)"
            else:
                h.reason, h.reason_id = "ok", "normal"
            return h
        worst = _worst([s for s, _ in findings])
        chosen = [r for s, r in findings if s == worst]
        h.state = worst
        h.reason = "; ".join(r.en for r in chosen)
        h.reason_id = "; ".join(r.id for r in chosen)
        return h

    def _service_findings(self, svc: list[dict[str, Any]], now: float) -> list[tuple[str, Reason]]:
        out: list[tuple[str, Reason]] = []
        grace = self.settings.health_service_grace_s
        for s in svc:
            name, state, kind = s.get("name", "?"), s.get("state"), s.get("error_kind")
            err = str(s.get("last_error") or "")[:120]
            if state in ("backoff", "error", "failed") or (state == "starting" and s.get("last_error")):
                if kind == "auth":
                    out.append(("failing", Reason(f"{name}: needs new credentials ({err})",
                                                  f"{name}: perlu kredensial baru ({err})")))
                    continue
                down_for = now - float(s.get("since") or now)
                if kind == "invalid":
                    out.append(("degraded", Reason(f"{name}: bad input from the provider ({err})",
                                                   f"{name}: data tidak valid dari penyedia ({err})")))
                elif down_for >= grace:
                    en, id_ = _ago(down_for)
                    out.append(("failing", Reason(f"{name}: cannot reach its server for {en} ({err})",
                                                  f"{name}: server tidak terjangkau selama {id_} ({err})")))
                else:
                    out.append(("degraded", Reason(f"{name}: reconnecting after a network error ({err})",
                                                   f"{name}: menyambung ulang setelah gangguan jaringan ({err})")))
            elif state == "stopped":
                out.append(("degraded", Reason(f"{name}: stopped", f"{name}: berhenti")))
        return out

    def _rate_findings(self, recent: Counter[str]) -> list[tuple[str, Reason]]:
        out: list[tuple[str, Reason]] = []
        good = recent["received"]  # messages from requests that passed authentication
        minutes = int(self.settings.health_window_s // 60)
        auth, invalid, errors = recent["rejected_auth"], recent["rejected_invalid"], recent["error"]
        if auth >= MIN_ALARM_EVENTS and auth >= good:
            out.append(("failing", Reason(
                f"needs new credentials: {auth} request(s) refused for authentication in {minutes} min and "
                f"{recent['received']} accepted (check the shared secret / signature key with the provider)",
                f"perlu kredensial baru: {auth} permintaan ditolak (autentikasi) dalam {minutes} menit, "
                f"{recent['received']} diterima (periksa secret / kunci tanda tangan dengan penyedia)")))
        elif auth:
            out.append(("degraded", Reason(f"{auth} unauthenticated request(s) refused in {minutes} min",
                                           f"{auth} permintaan tanpa autentikasi ditolak dalam {minutes} menit")))
        if errors >= MIN_ALARM_EVENTS and errors >= recent["stored"]:
            out.append(("failing", Reason(f"{errors} message(s) could not be stored in {minutes} min (503)",
                                          f"{errors} pesan gagal disimpan dalam {minutes} menit (503)")))
        elif errors:
            out.append(("degraded", Reason(f"{errors} storage error(s) in {minutes} min",
                                           f"{errors} galat penyimpanan dalam {minutes} menit")))
        if invalid >= MIN_ALARM_EVENTS and invalid * 5 >= invalid + good:
            out.append(("degraded", Reason(f"{invalid} invalid request(s) in {minutes} min",
                                           f"{invalid} permintaan tidak valid dalam {minutes} menit")))
        if recent["quarantined"]:
            out.append(("degraded", Reason(f"{recent['quarantined']} request(s) quarantined (parser failure)",
                                           f"{recent['quarantined']} permintaan dikarantina (gagal diurai)")))
        if recent["spooled"]:
            out.append(("degraded", Reason(f"{recent['spooled']} message(s) spooled while Redis was down",
                                           f"{recent['spooled']} pesan masuk spool saat Redis mati")))
        return out

    # ------------------------------------------------------------------------------------- silent
    async def _expected_rates(self, sources: tuple[str, ...], hours: list[int], now: float,
                              h: ChannelHealth) -> dict[int, float | None]:
        """Normal messages per hour for each hour start, from the same hour of past weeks (or days)."""
        firsts = [await self.redis.hget(metrics.FIRST_SEEN, s) for s in sources]
        known = [float(f) for f in firsts if f is not None]
        if not known:
            return dict.fromkeys(hours)
        first = min(known)
        h.history_days = round((now - first) / 86400, 1)
        out: dict[int, float | None] = {}
        plan: dict[int, list[int]] = {}
        for hour in hours:
            weeks = [hour - k * 7 * 86400 for k in range(1, 5) if hour - k * 7 * 86400 >= first - 3600]
            days = [hour - k * 86400 for k in range(1, 8) if hour - k * 86400 >= first - 3600]
            past = weeks if len(weeks) >= 2 else days if len(days) >= 3 else []
            if past:
                plan[hour] = past
            else:
                out[hour] = None
        needed = sorted({p for past in plan.values() for p in past})
        vol: dict[int, int] = dict.fromkeys(needed, 0)
        for src in sources:  # one pipeline per source for every past hour needed
            for p, b in zip(needed, await metrics.hour_series(self.redis, src, needed), strict=True):
                vol[p] += metrics.volume(b)
        for hour, past in plan.items():
            out[hour] = sum(vol[p] for p in past) / len(past)
        return out

    async def _silence(self, sources: tuple[str, ...], minutes: dict[str, list[dict[str, int]]], now: float,
                       h: ChannelHealth) -> tuple[str, Reason] | None:
        start_max = now - WINDOWS_MIN[-1] * 60
        hours = sorted({int(t // 3600) * 3600 for t in range(int(start_max), int(now) + 1, 900)} |
                       {int(now // 3600) * 3600})
        rates = await self._expected_rates(sources, hours, now, h)
        h.expected_per_hour = rates.get(int(now // 3600) * 3600)
        for w in WINDOWS_MIN:
            start = now - w * 60
            expected = 0.0
            t = start
            unknown = False
            while t < now:
                hour = int(t // 3600) * 3600
                seg = min(now, hour + 3600) - t
                rate = rates.get(hour)
                if rate is None:
                    unknown = True
                    break
                expected += rate * seg / 3600
                t += seg
            if unknown:
                return None
            if expected < MIN_EXPECTED:
                continue
            per_hour = expected / (w / 60)
            observed = sum(metrics.volume(b) for src in sources for b in minutes[src][-w:])
            en, id_ = _ago(w * 60)
            if observed == 0 and per_hour >= self.settings.silent_floor_per_hour:
                return ("silent", Reason(f"no messages for {en}; normally about {per_hour:.0f}/h at this hour",
                                         f"tidak ada pesan selama {id_}; biasanya sekitar {per_hour:.0f}/jam "
                                         f"pada jam ini"))
            if expected >= 20 and observed * 10 <= expected:
                return ("degraded", Reason(f"only {observed} message(s) in {en}, normally about {expected:.0f}",
                                           f"hanya {observed} pesan dalam {id_}, biasanya sekitar {expected:.0f}"))
            return None
        return None
