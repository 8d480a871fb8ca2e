"""Per-channel send pacing (``LAPOR_OUTBOUND_RATES``): one ``aiolimiter`` bucket per channel.

Providers cap how fast an account may send (an SMS gateway's throughput, X's DM limits, an SMTP
relay's policy); pacing here makes messages wait instead of being refused and retried. It is
per worker process: with N workers the channel sees at most N times the rate.
"""

from __future__ import annotations

from aiolimiter import AsyncLimiter

from config.settings import Settings


class ChannelPace:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._limiters: dict[str, AsyncLimiter | None] = {}

    def limiter(self, channel: str) -> AsyncLimiter | None:
        if channel not in self._limiters:
            rate = self.settings.outbound_rate(channel)
            # a fractional rate (0.5/s) is one send per 1/rate seconds
            self._limiters[channel] = None if rate is None else (
                AsyncLimiter(rate, 1.0) if rate >= 1 else AsyncLimiter(1, 1.0 / rate))
        return self._limiters[channel]

    async def wait(self, channel: str) -> None:
        """Return when one more send on ``channel`` fits the rate."""
        limiter = self.limiter(channel)
        if limiter is not None:
            await limiter.acquire()
