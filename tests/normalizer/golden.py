"""Golden records: thousands of varied inputs and a hash of the record ``normalize()`` made for each.

Speed work on the normalizer must not change what it produces. The inputs are the labelled sets
(tests/data/*.jsonl), the load-test complaints (bench/complaints.py) and the texts of the channel
fixtures, each sent in a deterministic mix of shapes (channel, display name, subject, place
pin, agency forward, attachments, several parts, context flags) so every branch of
``normalize()`` is reached. ``tests/data/normalizer-golden.json`` holds one short hash per case of
the record as the core receives it, minus ``language`` (its detector is swapped separately).

    .venv/bin/python -m tests.normalizer.golden --write   # only when a change is meant to alter records
"""

from __future__ import annotations

import argparse
import email
import email.policy
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.complaints import NAMES, PLACES, complaint_text
from normalizer.context import NormalizeContext
from normalizer.models import Attachment, ForwardedBy, GeoPoint, InboundMessage, ReplyTo, Sender
from normalizer.normalize import GATEWAY_VERSION

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "data" / "normalizer-golden.json"
DATASETS = ("trainset", "blindset", "devset", "maskset")
COMPLAINTS = 1000
EXCLUDED = ("language",)  # replaced by an equivalent detector on another branch
_TEXT_KEYS = {"text", "body", "caption", "message", "title", "subject", "full_text"}
_RID = "01JD5Z8Q4G2X0000000000000A"
_AT = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
_CHANNELS = ("sms", "twitter", "telegram", "email", "api", "whatsapp", "facebook", "instagram")
_FORWARDERS = ("dinkes@bogorkab.go.id", "humas@surabaya.go.id", "pengaduan@jabarprov.go.id", "admin@kemenkes.go.id")


def _fixture_strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _TEXT_KEYS and isinstance(value, str) and value.strip():
                yield value
            else:
                yield from _fixture_strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _fixture_strings(value)


def _fixture_texts() -> list[str]:
    texts: list[str] = []
    for path in sorted((ROOT / "channels").glob("*/fixtures/*")):
        if path.suffix == ".json":
            texts.extend(_fixture_strings(json.loads(path.read_text(encoding="utf-8"))))
        elif path.suffix == ".eml":
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for part in msg.walk():
                if part.get_content_type() in ("text/plain", "text/html"):
                    try:
                        texts.append(str(part.get_content()))
                    except (LookupError, ValueError):
                        continue
        elif path.suffix == ".form":
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
    return list(dict.fromkeys(texts))


def texts() -> list[tuple[str, str]]:
    """(case id, text) of every input, in a fixed order."""
    out: list[tuple[str, str]] = []
    for name in DATASETS:
        path = ROOT / "tests" / "data" / f"{name}.jsonl"
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out.append((f"{name}:{row['id']}", row["text"]))
    out.extend((f"complaint:{i}", complaint_text(i)) for i in range(COMPLAINTS))
    out.extend((f"fixture:{i}", t) for i, t in enumerate(_fixture_texts()))
    return out


def _sender(channel: str, i: int, name: str | None) -> Sender:
    if channel in ("sms", "whatsapp"):
        phone = ("0812", "+62813", "62857", "0021", "08777")[i % 5] + f"{i * 7919 % 10**7:07d}"
        return Sender(kind="msisdn" if channel == "sms" else "whatsapp", id=phone, display_name=name,
                      phone=phone if channel == "whatsapp" else None)
    if channel == "email":
        return Sender(kind="email", id=f" Warga{i}@Example.ID ", email=f"Warga{i}@Example.ID", display_name=name)
    kind = "api" if channel == "api" else channel
    return Sender(kind=kind, id=f"{channel}-{i}", handle=f"warga{i}" if i % 3 else None, display_name=name,
                  phone=f"0813{i:08d}" if channel == "api" and i % 4 == 0 else None)


def case(i: int, text: str) -> tuple[list[InboundMessage], NormalizeContext]:
    """The messages and context of input ``i``: the shape varies with ``i``, deterministically."""
    channel = _CHANNELS[i % len(_CHANNELS)]
    name = NAMES[i % len(NAMES)] if i % 3 == 0 else (NAMES[i % 7].split()[0] if i % 5 == 1 else None)
    kind = {"sms": "sms", "email": "email", "api": "submission", "twitter": "mention"}.get(channel, "message")
    title = None
    if channel in ("email", "api") and i % 2 == 0:
        title = ("[RAHASIA] " if i % 6 == 0 else "") + text[:70 - i % 40]
    location = None
    if i % 7 == 0:
        location = GeoPoint(lat=-6.2 + i % 10 / 10, lon=106.8, text=PLACES[i % len(PLACES)] if i % 2 else None)
    elif i % 11 == 0:
        location = GeoPoint(text=PLACES[(i // 11) % len(PLACES)])
    attachments = []
    if i % 4 == 1:
        attachments.append(Attachment(kind="image", mime="image/jpeg", filename=f"f{i}.jpg", size=1000 + i,
                                      sha256=hashlib.sha256(str(i).encode()).hexdigest()))
    if i % 9 == 2:
        attachments.append(Attachment(kind="image", mime="image/png", filename="logo.png", inline=True))
    common: dict[str, Any] = {
        "channel": channel, "provider": f"golden-{channel}", "kind": kind,
        "sender": _sender(channel, i, name), "recipient": "1708" if channel == "sms" else None,
        "sent_at": datetime(2026, 11, 22, i % 24, i % 60, tzinfo=UTC) if i % 3 else None,
        "location": location,
        "forwarded_by": ForwardedBy(identity=_FORWARDERS[i % 4], organization="Dinas") if channel == "email"
        and i % 5 == 3 else None,
        "anonymous": i % 13 == 0, "confidential": i % 17 == 0,
        "reply_to": ReplyTo(channel=channel, address=f"addr-{i}", private=i % 2 == 0) if i % 3 != 2 else None,
        "parent_message_id": f"p-{i}" if i % 10 == 4 else None,
        "flags": ["forwarded"] if i % 19 == 0 else [],
    }
    parts = [text]
    if i % 8 == 5 and len(text) > 20:
        cut = len(text) // 2
        parts = [text[:cut], text[cut:]]
    msgs = []
    for n, part in enumerate(parts):
        m = InboundMessage(native_id=f"g{i}-{n}", text=part, title=title if n == 0 else None,
                           body=part.strip() if i % 10 == 7 else None,
                           attachments=attachments if n == len(parts) - 1 else [],
                           **{**common, "location": common["location"] if n == 0 else None})
        m.stamp(_RID, _AT)
        msgs.append(m)
    ctx = NormalizeContext(repeat_count=i % 5 if i % 12 == 0 else 0,
                           extra_flags=["follow_up"] if i % 14 == 3 else [],
                           in_reply_to=_RID.replace("A", "B") if i % 15 == 4 else None)
    return msgs, ctx


def comparable(record: dict[str, Any]) -> dict[str, Any]:
    """The record as compared: ``language`` left out, the gateway version checked then made neutral."""
    rec = {k: v for k, v in record.items() if k not in EXCLUDED}
    gateway = dict(rec["gateway"])
    if gateway.get("version") == GATEWAY_VERSION:
        gateway["version"] = "<current>"
    rec["gateway"] = gateway
    return rec


def digest(record: dict[str, Any]) -> str:
    blob = json.dumps(comparable(record), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.blake2b(blob.encode(), digest_size=8).hexdigest()


def records() -> Iterator[tuple[str, dict[str, Any]]]:
    """(case id, record dict) for every input, normalized now."""
    from normalizer.normalize import normalize

    for i, (cid, text) in enumerate(texts()):
        msgs, ctx = case(i, text)
        yield cid, normalize(msgs, ctx).model_dump(mode="json", by_alias=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite tests/data/normalizer-golden.json")
    parser.add_argument("--dump", type=Path, help="also write the full records (JSON lines) here, for diffs")
    args = parser.parse_args()
    out: dict[str, str] = {}
    dump = args.dump.open("w", encoding="utf-8") if args.dump else None
    for cid, rec in records():
        out[cid] = digest(rec)
        if dump:
            dump.write(json.dumps({"case": cid, "record": comparable(rec)}, ensure_ascii=False, sort_keys=True) + "\n")
    if dump:
        dump.close()
    if args.write:
        GOLDEN.write_text(json.dumps(out, indent=0, sort_keys=False) + "\n", encoding="utf-8")
    print(f"{len(out)} records, {len(set(out.values()))} distinct")


if __name__ == "__main__":
    main()
