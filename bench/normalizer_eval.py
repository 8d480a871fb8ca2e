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

from normalizer import classify, markers, pii, reporter, topics  # noqa: E402
from normalizer.models import InboundMessage, Sender  # noqa: E402
from normalizer.normalize import NORMALIZER_VERSION, NormalizeContext, normalize  # noqa: E402
from normalizer.text import expand, place_tokens, tidy  # noqa: E402

DEVSET = ROOT / "tests" / "data" / "devset.jsonl"
BLINDSET = ROOT / "tests" / "data" / "blindset.jsonl"
MASKSET = ROOT / "tests" / "data" / "maskset.jsonl"
CLASSES = ("complaint", "aspiration", "information_request")
RESULTS = ROOT / "bench" / "RESULTS-normalizer.md"
TARGETS = {"classification": 0.85, "topic": 0.80, "province_precision": 0.95, "province_recall": 0.85,
           "pii_recall": 0.99}


def load(path: Path = DEVSET) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def message(text: str, channel: str = "sms", n: int = 0, display_name: str | None = None) -> InboundMessage:
    # a different sender per message, so caches of phone parsing do not flatter the figures
    sender = Sender(kind="msisdn", id=f"08{1200000000 + n * 7919:010d}"[:13], display_name=display_name) \
        if channel == "sms" else Sender(kind="api", id=f"bench-{n}", display_name=display_name)
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
        rec = normalize([message(row["text"], row.get("channel", "sms"), i)], NormalizeContext())
        c["n"] += 1
        c["cls_ok"] += rec.classification == row["classification"]
        c["n_" + row["classification"]] += 1
        c["ok_" + row["classification"]] += rec.classification == row["classification"]
        rule_cls, rule_topics = rules_only(row["text"])
        c["rule_cls_ok"] += rule_cls == row["classification"]
        c["rule_ok_" + row["classification"]] += rule_cls == row["classification"]
        if row["topic"] is not None:
            c["rule_topic_ok"] += bool(rule_topics) and rule_topics[0] == row["topic"]
        gold_missing = not row["has_place"] if "has_place" in row else row["regency"] is None
        asked = rec.completeness is not None and "location" in rec.completeness.missing
        c["loc_missing_gold"] += gold_missing
        c["loc_missing_pred"] += asked
        c["loc_missing_ok"] += gold_missing and asked
        if asked != gold_missing:
            misses.append(f"{row['id']} location missing {asked} != {gold_missing}")
        if rec.classification != row["classification"]:
            misses.append(f"{row['id']} cls {rec.classification} != {row['classification']}")
        if row["topic"] is not None:
            c["topic_n"] += 1
            ok = bool(rec.topics) and rec.topics[0] == row["topic"]
            c["topic_ok"] += ok
            if not ok:
                misses.append(f"{row['id']} topic {rec.topics[:2]} != {row['topic']}")
        loc = rec.location
        for level, got in () if "province" not in row else (("province", loc.province_code if loc else None),
                           ("regency", loc.regency_code if loc else None)):
            gold = row[level]
            c[f"{level}_gold"] += gold is not None
            c[f"{level}_pred"] += got is not None
            c[f"{level}_ok"] += got is not None and got == gold
            if got != gold:
                misses.append(f"{row['id']} {level} {got} != {gold}")
        spans = pii.mask_spans(row["text"])
        for g in row.get("pii", []):
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
        "rules_classification": _ratio(c["rule_cls_ok"], c["n"]),
        **{f"cls_{k}": _ratio(c["ok_" + k], c["n_" + k]) for k in CLASSES},
        **{f"rules_cls_{k}": _ratio(c["rule_ok_" + k], c["n_" + k]) for k in CLASSES},
        **{f"n_{k}": c["n_" + k] for k in CLASSES},
        "rules_topic": _ratio(c["rule_topic_ok"], c["topic_n"]),
        "topic_n": c["topic_n"],
        "location_ask_precision": _ratio(c["loc_missing_ok"], c["loc_missing_pred"]),
        "location_ask_recall": _ratio(c["loc_missing_ok"], c["loc_missing_gold"]),
        "location_missing_n": c["loc_missing_gold"],
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


def rules_only(text: str) -> tuple[str, list[str]]:
    """The 0.2.0 decision (rules alone) for the same text, for the before/after columns."""
    body = markers.extract(tidy(text)).body
    wds = expand([t for t in place_tokens(body) if t != ","])
    return classify.rule_classify(body, wds), topics.classify_topics(body, topics.active(), wds)


def evaluate_masking(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Reporter name/address masking on maskset.jsonl: recall over the strings that must be masked
    (each occurrence in order), false-mask rate over the strings that must stay (officials, places)."""
    c: dict[str, int] = defaultdict(int)
    misses: list[str] = []
    for row in rows:
        spans = pii.mask_spans(row["text"], [row["display_name"]] if row["display_name"] else [])
        pos: dict[str, int] = {}
        for want in row["mask"]:
            start = row["text"].find(want, pos.get(want, 0))
            pos[want] = start + 1
            covered = any(sp.start <= start and sp.end >= start + len(want) for sp in spans)
            kind = "address" if any(ch.isdigit() for ch in want) else "name"
            c[f"{kind}_n"] += 1
            c[f"{kind}_ok"] += covered
            if not covered:
                misses.append(f"{row['id']} not masked {want!r}")
        for keep in row["keep"]:
            start = row["text"].find(keep)
            hit = any(sp.start < start + len(keep) and sp.end > start for sp in spans)
            c["keep_n"] += 1
            c["keep_hit"] += hit
            if hit:
                misses.append(f"{row['id']} false mask {keep!r}")
    other = [r for path in (BLINDSET, DEVSET, ROOT / "tests" / "data" / "trainset.jsonl") for r in load(path)]
    other_masks = sum(len(reporter.find_reporter(r["text"])) for r in other)
    return {"messages": len(rows), "other_n": len(other), "other_masks": other_masks,
            "name_recall": _ratio(c["name_ok"], c["name_n"]), "names": c["name_n"],
            "address_recall": _ratio(c["address_ok"], c["address_n"]), "addresses": c["address_n"],
            "false_mask_rate": c["keep_hit"] / c["keep_n"] if c["keep_n"] else 0.0, "keep": c["keep_n"],
            "misses": misses}


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


def _fmt(v: Any) -> str:
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def report(results: dict[str, dict[str, Any]], cv: dict[str, Any] | None, masking: dict[str, Any],
           rates: dict[str, tuple[float, float]], before_us: dict[str, float], cmd: str) -> str:
    lines = [
        "# Normalizer: quality on labelled sets, and cost",
        "",
        f"Normalizer {NORMALIZER_VERSION}. Machine: {os.cpu_count()} cores"
        f" ({platform.processor() or platform.machine()}), Python {platform.python_version()},"
        f" one process (one core), shared with other engineers' test runs. Command: `{cmd}`",
        "",
        "Sets (all written for this project; no real citizen messages were available offline):",
        "",
        "- `train-cv`: `tests/data/trainset.jsonl` (`make_trainset.py`: 201 hand-written cores × 5 styled variants),"
        " grouped 5-fold cross-validation (every variant of a core in the same fold; the devset `dev` split is in"
        " every training part). `bench/train_classifier.py --cv`.",
        "- `dev (trained on)`: `tests/data/devset.jsonl` split `dev` — the 0.2.0 rules were tuned on it and the"
        " model is trained on it: not a measure, shown for completeness.",
        "- `heldout`: devset split `heldout` (150, templated from cores never tuned on).",
        "- `blind 0.2.0`: devset split `blind` (45 hand-written, evaluated once for 0.2.0).",
        "- `blind`: `tests/data/blindset.jsonl` — 112 whole messages written in the style of published LAPOR!"
        " reports (formal letters to a named agency, chronologies, tweets, chat), by a different method from the"
        " training set (whole messages, no templates or styling), committed before the model was trained and"
        " evaluated once, with no change afterwards. Read this column as the most realistic figure.",
        "",
        "`rules` = the 0.2.0 decision (cue rules alone) on the same rows; the other figures are 0.3.0 (linear model"
        " over words, word pairs, word-edge character n-grams and the rule cues; topics: rule ranking with the"
        " model's pick first).",
        "",
        "| metric | target | " + ("train-cv | " if cv else "") + " | ".join(results) + " |",
        "|---|---|" + ("---|" if cv else "") + "---|" * len(results),
    ]
    rows_spec: list[tuple[str, str, str]] = [
        ("n", "messages", ""), ("classification", "classification accuracy", "≥ 0.90"),
        ("rules_classification", "classification, rules (0.2.0)", ""),
    ]
    for k in CLASSES:
        rows_spec += [(f"cls_{k}", f"· {k} (n)", ""), (f"rules_cls_{k}", f"· {k}, rules", "")]
    rows_spec += [("topic", "topic top-1 accuracy", "≥ 0.85"), ("rules_topic", "topic top-1, rules (0.2.0)", ""),
                  ("topic_n", "messages with a topic label", ""),
                  ("location_ask_precision", "location question precision (asked ⇒ truly missing)", ""),
                  ("location_ask_recall", "location question recall (truly missing ⇒ asked)", ""),
                  ("location_missing_n", "messages truly missing a place", ""),
                  ("province_precision", "province precision", ""), ("province_recall", "province recall", ""),
                  ("regency_precision", "regency precision", ""), ("regency_recall", "regency recall", ""),
                  ("pii_recall", "PII masking recall (NIK, phone, …)", ""),
                  ("false_mask_rate", "false-mask rate (dates, Rp, RT/RW)", "")]
    for key, label, target in rows_spec:
        vals = []
        if cv:
            if key == "classification":
                vals.append(_fmt(cv["classification"]))
            elif key.startswith("cls_"):
                acc, n = cv["per_class"][key[4:]]
                vals.append(f"{acc:.3f} ({n})")
            elif key in ("topic", "n", "topic_n"):
                vals.append(_fmt(cv[key]))
            else:
                vals.append("")
        for r in results.values():
            v = r.get(key, "")
            if key.startswith("cls_"):
                v = f"{v:.3f} ({r['n_' + key[4:]]})"
            elif key in ("province_precision", "province_recall", "regency_precision", "regency_recall",
                         "pii_recall", "false_mask_rate") and not r.get("has_regions", True):
                v = ""
            vals.append(_fmt(v))
        lines.append(f"| {label} | {target} | " + " | ".join(vals) + " |")
    lines += [
        "",
        "Caveats: every set here was written by people working on this project, the blind set by the same"
        " engineer who wrote the training cores (a different method, but not a different author), so expect"
        " lower figures on real 1708/@LAPOR1708 traffic; the 0.2.0 rules scored 0.893 on this blind set but 0.74"
        " on 136 messages by someone else, so it is easier than that set. Rows are at most ~40 words: long"
        " emails are judged on their first 60 and last 20 words, which no labelled row exercises. The blind"
        " set's location questions asked in vain (7) name a place only through knowledge of a landmark"
        " (\"RSUD dr. Soetomo\", \"Polsek Cibinong\", \"Stasiun Manggarai\", \"Pasar Cibitung\"), a bare"
        " ambiguous city (\"Kupang\"), or a city after a street name without a cue (\"Jl. Pemuda Semarang\")."
        " The second topic-model row (`train-cv` 0.833) is the model alone; shipped topics are the rule"
        " ranking with the model's pick first.",
        "",
        "Location question = `completeness.missing` contains `location` (no regency/city and no lat/lon). Gold:"
        " devset rows without a regency label; blind rows marked `has_place: false` (a reader cannot tell the"
        " regency/city). Measured on every row; the flow asks only for complaints.",
        "",
        f"## Reporter name and address masking (`tests/data/maskset.jsonl`, {masking['messages']} messages)",
        "",
        "| metric | value |", "|---|---|",
        f"| reporter names masked (recall) | {masking['name_recall']:.3f} ({masking['names']} names) |",
        f"| home-address parts masked (recall) | {masking['address_recall']:.3f} ({masking['addresses']} parts) |",
        f"| false masks (officials, places, complained-about streets) | {masking['false_mask_rate']:.3f}"
        f" ({masking['keep']} strings that must stay) |",
        f"| name/address masks in the {masking['other_n']:,} messages of the other sets (none has a reporter name"
        f" or home address labelled; each mask found was inspected) | {masking['other_masks']} |",
        "",
        "Misses: " + ("; ".join(masking["misses"]) or "none"),
        "",
        "History, for honesty: the first evaluation of this set (masker as first written) masked 19 of 24 names"
        " (0.792) and 7 of 9 address parts (0.778) with no false mask. The misses (lower-case SMS name"
        " \"saya joko dari\", \"Nama:\"/\"Alamat:\" form lines, an honorific before the name, a 3-letter display"
        " name) were then fixed, so the figures above are on a set the masker was corrected against; the count"
        " on the other sets is the check that the fixes did not start masking ordinary words.",
        "",
        "## Cost per record",
        "",
        "Full `normalize()` (record model included), one process, varied texts of that size; CPU time of this"
        " process (the machine was busy with other engineers' runs, so wall clock is noisier).",
        "",
        "| message size | 0.2.0 µs/record (CPU) | 0.3.0 µs/record (CPU) | 0.3.0 records/s (wall) |",
        "|---|---|---|---|",
    ]
    for k, (wall, cpu) in rates.items():
        before = before_us.get(k.split(" ")[0])
        lines.append(f"| {k} | {before:,.0f} | {1e6 / cpu:,.0f} | {wall:,.0f} |" if before else
                     f"| {k} | | {1e6 / cpu:,.0f} | {wall:,.0f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--misses", action="store_true")
    ap.add_argument("--cv", action="store_true", help="also run the grouped cross-validation (about a minute)")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--before-sms-us", type=float, default=0.0, help="0.2.0 CPU µs/record, SMS-sized")
    ap.add_argument("--before-email-us", type=float, default=0.0, help="0.2.0 CPU µs/record, email-sized")
    args = ap.parse_args()
    rows = load()
    results = {"dev (trained on)": evaluate([r for r in rows if r["split"] == "dev"]),
               "heldout": evaluate([r for r in rows if r["split"] == "heldout"]),
               "blind 0.2.0": evaluate([r for r in rows if r["split"] == "blind"]),
               "blind": {**evaluate(load(BLINDSET)), "has_regions": False}}
    masking = evaluate_masking(load(MASKSET))
    cv = None
    if args.cv:
        sys.path.insert(0, str(ROOT / "bench"))
        import train_classifier

        cv = train_classifier.cross_validate(train_classifier.load(), train_classifier.load_dev_split())
    for name, res in [*results.items(), ("masking", masking), ("train-cv", cv or {})]:
        print(name, {k: (round(v, 3) if isinstance(v, float) else v) for k, v in res.items() if k != "misses"})
        if args.misses:
            print("\n".join("  " + m for m in res.get("misses", [])))
    rates = {f"SMS-sized ({len(SMS)} chars)": throughput(SMS, args.seconds),
             f"email-sized ({len(EMAIL)} chars)": throughput(EMAIL, args.seconds)}
    for k, (wall, cpu) in rates.items():
        print(f"{k}: {wall:,.0f} records/s wall clock, {1e6 / cpu:,.0f} µs per record (CPU)")
    if args.write:
        before = {"SMS-sized": args.before_sms_us, "email-sized": args.before_email_us}
        RESULTS.write_text(report(results, cv, masking, rates, before,
                                  "python bench/normalizer_eval.py --cv --write --before-sms-us N"
                                  " --before-email-us N"), encoding="utf-8")


if __name__ == "__main__":
    main()
