"""CPU time of ``normalize()`` plus the contract check per ~280-character complaint (bench/complaints.py).

The messages are parsed by the generic JSON adapter and stamped once, outside the timed loop; a
round is what the dispatcher worker does per record — the contract dict (``record_json(msgs)``, or
``normalize(msgs).to_json_dict()`` in a checkout that predates it) then ``validate_record`` — over 200 of them,
timed with this process's CPU time; the figure is the best round (neighbours on a shared machine
only ever add time). ``--against DIR`` loads a second checkout's normalizer (e.g. main, unpacked
with ``git archive main | tar -x -C DIR``) into the same process and alternates the two round by
round, so both see the same machine state.

    .venv/bin/python -m bench.normalize_cpu [--records 1000] [--rounds 30] [--against /tmp/main]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ROUND = 200
_OWN = ("normalizer", "channels", "config", "bench")


def _load(root: Path, n: int) -> tuple[Callable[..., Any], list[Any]]:
    """The worker's per-record step and ``n`` stamped messages, imported from the checkout at ``root``."""
    for name in [m for m in sys.modules if m.split(".")[0] in _OWN]:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    try:
        from bench.complaints import api_body
        from channels.api.inbound import ComplaintIn, to_message
        from normalizer import normalize as module
        from normalizer.contract import validate_record
    finally:
        sys.path.remove(str(root))
    msgs = []
    for i in range(n):
        body = api_body("cpu", i)
        m = to_message(ComplaintIn.model_validate_json(body), body)
        m.stamp("01JD5Z8Q4G2X0000000000000A", datetime(2026, 11, 23, tzinfo=UTC))
        msgs.append(m)
    to_dict = getattr(module, "record_json", None) or (lambda ms: module.normalize(ms).to_json_dict())

    def step(ms: list[Any]) -> None:
        validate_record(to_dict(ms))

    for m in msgs[:ROUND]:  # warm-up: caches and lazy loads
        step([m])
    return step, msgs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--against", type=Path, help="another checkout to time in the same process, alternately")
    args = parser.parse_args()
    # the other checkout first: this one's modules stay in sys.modules (lazy imports resolve to them)
    runs = {"other": _load(args.against.resolve(), args.records)} if args.against else {}
    runs["this"] = _load(ROOT, args.records)
    best = dict.fromkeys(runs, float("inf"))
    for r in range(args.rounds):
        start = (r * ROUND) % max(1, args.records - ROUND + 1)
        for name, (step, msgs) in runs.items():
            chunk = msgs[start:start + ROUND]
            c0 = time.process_time()
            for m in chunk:
                step([m])
            best[name] = min(best[name], (time.process_time() - c0) / len(chunk) * 1e6)
    for name, value in best.items():
        where = args.against if name == "other" else ROOT
        print(f"{where}: {value:.0f} us CPU per record (best of {args.rounds} rounds of {ROUND})")
    if args.against:
        print(f"ratio this/other: {best['this'] / best['other']:.2f}")


if __name__ == "__main__":
    main()
