"""CPU time of ``normalize()`` alone per ~280-character complaint (bench/complaints.py payloads).

The messages are parsed by the generic JSON adapter and stamped once, outside the timed loop;
the loop is ``normalize(msgs)`` then ``to_json_dict()`` (what the dispatcher worker does), timed
with process CPU time so that neighbours' load on a shared machine moves the figure less.

    .venv/bin/python -m bench.normalize_cpu [--records 4000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from bench.complaints import api_body
from channels.api.inbound import ComplaintIn, to_message
from normalizer.normalize import normalize


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    msgs = []
    for i in range(args.records):
        body = api_body("cpu", i)
        m = to_message(ComplaintIn.model_validate_json(body), body)
        m.stamp("01JD5Z8Q4G2X0000000000000A", datetime(2026, 11, 23, tzinfo=UTC))
        msgs.append(m)
    for m in msgs[:200]:  # warm-up: caches and lazy loads
        normalize([m]).to_json_dict()
    best = float("inf")
    for r in range(args.rounds):
        c0 = time.process_time()
        for m in msgs:
            normalize([m]).to_json_dict()
        per = (time.process_time() - c0) / len(msgs) * 1e6
        best = min(best, per)
        print(f"round {r + 1}: {per:.0f} us CPU per record")
    print(f"best of {args.rounds}: {best:.0f} us CPU per record ({args.records} records)")


if __name__ == "__main__":
    main()
