"""Normalizer evaluation on the labelled dev set, and records/s on one core.

    .venv/bin/python bench/normalizer_eval.py            # print the figures
    .venv/bin/python bench/normalizer_eval.py --write    # also rewrite bench/RESULTS-normalizer.md

Metrics (per split: ``dev`` = pool used while writing the rules, ``heldout`` = never tuned on):
classification accuracy; topic top-1 accuracy (messages with a topic label); province and
regency precision (right / answered) and recall (right / labelled); PII masking recall (labelled
spans entirely masked) and false-mask rate (dates, amounts, RT/RW distractors touched by a mask).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from normalizer import pii  # noqa: E402
from normalizer.models import InboundMessage, Sender  # noqa: E402
from normalizer.normalize import NORMALIZER_VERSION, NormalizeContext, normalize  # noqa: E402

DEVSET = ROOT / "tests" / "data" / "devset.jsonl"
RESULTS = ROOT / "bench" / "RESULTS-normalizer.md"
TARGETS = {"classification": 0.85, "topic": 0.80, "province_precision": 0.95, "province_recall": 0.85,
           "pii_recall": 0.99}


def load(path: Path = DEVSET) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def message(text: str, channel: str = "sms", n: int = 0) -> InboundMessage:
    # a different sender per message, so caches of phone parsing do not flatter the figures
    sender = Sender(kind="msisdn", id=f"08{1200000000 + n * 7919:010d}"[:13]) if channel == "sms" \
        else Sender(kind="api", id=f"bench-{n}")
    msg = InboundMessage(channel="sms" if channel == "sms" else "api", provider="bench",
                         kind="sms" if channel == "sms" else "submission", native_id=f"b{n}", sender=sender, text=text)
    msg.stamp("01JD0000000000000000000000", datetime(2026, 11, 23, tzinfo=UTC))
    return msg


def _ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


def evaluate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Metrics over ``rows`` (computed from the real normalize(), nothing hard-coded)."""
    c: dict[str, int] = defaultdict(int)
    misses: list[str] = []
    for i, row in enumerate(rows):
        rec = normalize([message(row["text"], row["channel"], i)], NormalizeContext())
        c["n"] += 1
        c["cls_ok"] += rec.classification == row["classification"]
        if rec.classification != row["classification"]:
            misses.append(f"{row['id']} cls {rec.classification} != {row['classification']}")
        if row["topic"] is not None:
            c["topic_n"] += 1
            ok = bool(rec.topics) and rec.topics[0] == row["topic"]
            c["topic_ok"] += ok
            if not ok:
                misses.append(f"{row['id']} topic {rec.topics[:2]} != {row['topic']}")
        loc = rec.location
        for level, got in (("province", loc.province_code if loc else None),
                           ("regency", loc.regency_code if loc else None)):
            gold = row[level]
            c[f"{level}_gold"] += gold is not None
            c[f"{level}_pred"] += got is not None
            c[f"{level}_ok"] += got is not None and got == gold
            if got != gold:
                misses.append(f"{row['id']} {level} {got} != {gold}")
        spans = pii.find_pii(row["text"])
        for g in row["pii"]:
            c["pii_n"] += 1
            covered = any(s.start <= g["start"] and s.end >= g["end"] for s in spans)
            c["pii_ok"] += covered
            if not covered:
                misses.append(f"{row['id']} pii missed {row['text'][g['start']:g['end']]!r}")
        for d in row.get("non_pii", []):
            start = row["text"].find(d)
            c["non_pii_n"] += 1
            hit = any(s.start < start + len(d) and s.end > start for s in spans)
            c["false_mask"] += hit
            if hit:
                misses.append(f"{row['id']} false mask in {d!r}")
    return {
        "n": c["n"],
        "classification": _ratio(c["cls_ok"], c["n"]),
        "topic": _ratio(c["topic_ok"], c["topic_n"]),
        "province_precision": _ratio(c["province_ok"], c["province_pred"]),
        "province_recall": _ratio(c["province_ok"], c["province_gold"]),
        "regency_precision": _ratio(c["regency_ok"], c["regency_pred"]),
        "regency_recall": _ratio(c["regency_ok"], c["regency_gold"]),
        "pii_recall": _ratio(c["pii_ok"], c["pii_n"]),
        "pii_spans": c["pii_n"],
        "false_mask_rate": c["false_mask"] / c["non_pii_n"] if c["non_pii_n"] else 0.0,
        "distractors": c["non_pii_n"],
        "misses": misses,
    }


SMS = ("min tlg jln di depan SDN 2 rusak parah bnyk lubang udh 2 thn gk diperbaiki, di kec coblong kota bandung. "
       "hub 0812-3456-7890")
EMAIL = ("Yth. Admin LAPOR!\n\nDengan hormat, saya warga Kecamatan Cibinong, Kabupaten Bogor, ingin menyampaikan "
         "pengaduan terkait pelayanan di kantor kelurahan. Pada tanggal 12-05-2025 saya mengurus surat pengantar "
         "untuk pembuatan KTP elektronik anak saya, namun petugas meminta uang sebesar Rp 150.000 tanpa kuitansi. "
         "Ketika saya menanyakan dasar aturannya, petugas tersebut tidak bisa menjelaskan dan mengatakan bahwa itu "
         "sudah biasa. Hal ini juga dialami oleh beberapa tetangga saya di RT 03/RW 05. Saya berharap pungutan liar "
         "seperti ini segera ditindak tegas oleh pihak berwenang.\n\nSebagai informasi, NIK saya 3201014101900001 "
         "dan saya bisa dihubungi di 0857-1234-5678 atau budi.santoso@gmail.com. Mohon identitas saya dirahasiakan."
         "\n\nTerima kasih atas perhatiannya.\nHormat saya,\nBudi") * 2


def throughput(text: str, seconds: float = 3.0) -> tuple[float, float]:
    """(records per wall-clock second, records per CPU second of this process) for ``text``-sized messages.

    The CPU-time figure is what one core delivers when the machine is shared (other engineers' tests
    run on the same 2 cores); the wall-clock figure is what this run saw.
    """
    msgs = [message(text + f" {i}", "sms", i) for i in range(500)]
    normalize(msgs[:1])  # warm
    done, start, cpu0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        for m in msgs:
            normalize([m])
        done += len(msgs)
    return done / (time.perf_counter() - start), done / (time.process_time() - cpu0)


def report(results: dict[str, dict[str, Any]], rates: dict[str, tuple[float, float]], cmd: str) -> str:
    lines = [
        "# Normalizer: dev-set quality and throughput",
        "",
        f"Normalizer {NORMALIZER_VERSION}. Machine: {os.cpu_count()} cores"
        f" ({platform.processor() or platform.machine()}), Python {platform.python_version()},"
        f" one process (one core). Command: `{cmd}`",
        "",
        "Dev set: `tests/data/devset.jsonl`, made by `tests/data/make_devset.py` (hand-written sentence cores +"
        " templated openers/places/personal data/distractors + spelling styles; labels exact by construction;"
        " not real citizen messages). `dev` = cores used while writing the rules; `heldout` = separate cores never"
        " tuned on; `hand-written only` = the 68 messages written whole by hand (harder: typos, several places,"
        " regional languages), two thirds of them in `dev`, one third in `heldout`;"
        " `blind` = 45 messages written by hand after the rules"
        " were frozen and evaluated once, with no rule change afterwards. The templated rows make the set easier"
        " than real traffic: read the `blind` column as the most realistic figure.",
        "",
        "| metric | target | " + " | ".join(results) + " |",
        "|---|---|" + "---|" * len(results),
    ]
    for key, label in [("n", "messages"), ("classification", "classification accuracy"),
                       ("topic", "topic top-1 accuracy"), ("province_precision", "province precision"),
                       ("province_recall", "province recall"), ("regency_precision", "regency precision"),
                       ("regency_recall", "regency recall"), ("pii_recall", "PII masking recall"),
                       ("pii_spans", "PII spans"), ("false_mask_rate", "false-mask rate (distractors)"),
                       ("distractors", "distractors (dates, Rp, RT/RW)")]:
        target = f"≥ {TARGETS[key]:.2f}" if key in TARGETS else ""
        vals = [f"{r[key]:.3f}" if isinstance(r[key], float) else str(r[key]) for r in results.values()]
        lines.append(f"| {label} | {target} | " + " | ".join(vals) + " |")
    lines += ["", "Caveats: the set and the rules were written by the same person, so these figures are optimistic;"
              " expect lower numbers on real 1708/@LAPOR1708 traffic. The held-out rows were never used to write"
              " rules, but their miss list was printed once early on, next to the dev misses that drove the fixes."
              " Only 7 hand-written PII spans exist; the PII figures rest mostly on templated spans (all Indonesian"
              " phone forms, NIK/KK, emails, accounts with a cue, plates)."]
    lines += ["", "Throughput: full `normalize()` (record model included), one process, varied texts of that size.",
              "", "| message size | records/s (wall clock) | records/s per CPU second |", "|---|---|---|"]
    for k, (wall, cpu) in rates.items():
        lines.append(f"| {k} | {wall:,.0f} | {cpu:,.0f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--misses", action="store_true")
    ap.add_argument("--seconds", type=float, default=3.0)
    args = ap.parse_args()
    rows = load()
    results = {"dev": evaluate([r for r in rows if r["split"] == "dev"]),
               "heldout": evaluate([r for r in rows if r["split"] == "heldout"]),
               "hand-written only": evaluate([r for r in rows if r["style"] == "hand" and r["split"] != "blind"]),
               "blind": evaluate([r for r in rows if r["split"] == "blind"]),
               "all": evaluate(rows)}
    for name, res in results.items():
        print(name, {k: (round(v, 3) if isinstance(v, float) else v) for k, v in res.items() if k != "misses"})
        if args.misses:
            print("\n".join("  " + m for m in res["misses"]))
    rates = {f"SMS-sized ({len(SMS)} chars)": throughput(SMS, args.seconds),
             f"email-sized ({len(EMAIL)} chars)": throughput(EMAIL, args.seconds)}
    for k, (wall, cpu) in rates.items():
        print(f"{k}: {wall:,.0f} records/s wall clock, {cpu:,.0f} records per CPU second")
    if args.write:
        RESULTS.write_text(report(results, rates, "python bench/normalizer_eval.py --write"), encoding="utf-8")


if __name__ == "__main__":
    main()
