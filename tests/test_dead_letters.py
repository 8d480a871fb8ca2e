"""lapor:dead: error texts scrubbed when written, and a cap that never silently loses a complaint."""

from __future__ import annotations

import redis.asyncio as aioredis

from channels.core.hooks import Emit
from dispatcher import dead
from dispatcher.worker import DispatchWorker
from gateway import keys, metrics
from gateway.health_model import HealthModel
from tests.test_dispatcher import msg, put, run_until

LEAKY = ("NIK 3201234567890001 hp +6281234567890 mail budi@example.id via redis://:hunter2@10.0.0.5:6379 "
         "bot 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw")
CLEAR = ("3201234567890001", "6281234567890", "budi@example.id", "hunter2", "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw")


def leaky_enricher():
    async def enrich(_r: aioredis.Redis, emits: list[Emit]) -> None:
        if any(em.messages[0].meta.get("poison") for em in emits):
            raise ValueError(LEAKY)

    return enrich


async def test_dead_letter_error_is_scrubbed_when_written(r, settings, tmp_path):
    await put(r, tmp_path, [msg("bad", poison=True)])
    w = DispatchWorker(r, settings.model_copy(update={"claim_idle_ms": 100, "max_attempts": 2}),
                       enrichers=[leaky_enricher()])

    async def dead_one() -> bool:
        return await r.xlen(keys.DEAD_STREAM) == 1

    await run_until(w, dead_one)
    ((_eid, fields),) = await r.xrange(keys.DEAD_STREAM)  # what is stored, not what list_dead shows
    stored = fields[b"error"].decode()
    assert "ValueError" in stored and "<nik>" in stored and "<phone>" in stored and "<email>" in stored
    for secret in CLEAR:
        assert secret not in stored, secret


async def test_legacy_unscrubbed_error_is_scrubbed_when_listed(r):
    await r.xadd(keys.DEAD_STREAM, {"entry": "1-0", "id": "X", "msg": b"{}", "error": LEAKY, "channel": "sms",
                                    "attempts": "1", "at": "-"})
    (letter,) = await dead.list_dead(r)
    assert all(secret not in letter["error"] for secret in CLEAR)


async def test_full_dead_letter_store_holds_entries_pending_and_fails_health(r, settings, tmp_path):
    ids = await put(r, tmp_path, [msg(f"bad{i}", poison=True) for i in range(4)] + [msg("good")])
    s = settings.model_copy(update={"claim_idle_ms": 100, "max_attempts": 2, "dead_letter_max": 2})
    w = DispatchWorker(r, s, enrichers=[leaky_enricher()])
    held_before = await held(r)
    states: list[str] = []

    async def full_and_held() -> bool:
        if await r.xlen(keys.DEAD_STREAM) < 2 or await held(r) - held_before < 2:
            return False
        states.append((await HealthModel(s, r).report()).pipeline.state)  # worker alive meanwhile
        return True

    await run_until(w, full_and_held, timeout=20)
    assert await r.xlen(keys.DEAD_STREAM) == 2, "never trimmed, never over the cap"
    pending = await r.xpending(keys.INBOUND_STREAM, keys.DISPATCH_GROUP)
    assert pending["pending"] == 2, "the two that did not fit wait on the stream"
    assert states == ["failing"]
    # an admin fixes the normalizer and replays: the held entries take the freed room (and are
    # replayed in turn); every complaint reaches the core, none was dropped on the way
    w2 = DispatchWorker(r, s, enrichers=[])

    async def settled() -> bool:
        if await r.xlen(keys.DEAD_STREAM):
            await dead.replay_dead(r)
        return await r.llen("rq:queue:lapor-core") == len(ids)

    await run_until(w2, settled, timeout=30)
    assert await r.xlen(keys.DEAD_STREAM) == 0


async def held(r: aioredis.Redis) -> float:
    """lapor_dead_letters_held as summed in Redis across processes."""
    await metrics.flush(r)
    snap = await metrics.read_snapshot(r)
    return sum(snap.counters.get("lapor_dead_letters_held", {}).values())
