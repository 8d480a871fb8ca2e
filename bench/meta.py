"""Meta webhook throughput: signed deliveries of 1 and of 50 Messenger events → stored in the stream.

Method and options: bench/signed_webhook.py. ``python bench/meta.py [--events 20000] [--connections 32]``
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.signed_webhook import WebhookBench, main

SECRET = "bench-meta-app-secret"
PAGE = "101010101010101"
PATH = "/channels/meta/webhook"


def delivery(run: str, start: int, batch: int) -> bytes:
    now = int(time.time() * 1000)
    entries = [{"id": PAGE, "time": now, "messaging": [{
        "sender": {"id": f"65432109{(start + i) % 10_000_000:08d}"}, "recipient": {"id": PAGE}, "timestamp": now,
        "message": {"mid": f"m_{run}_{start + i}",
                    "text": "Lampu jalan mati di RT 04 RW 02 Kelurahan Sukamaju sudah dua minggu, mohon diperbaiki.",
                    "attachments": [{"type": "image", "payload": {"url": "https://scontent.xx.fbcdn.net/v/t1/x.jpg"}}]},
    }]} for i in range(batch)]
    return json.dumps({"object": "page", "entry": entries}, separators=(",", ":")).encode()


BENCH = WebhookBench(__file__, PATH, SECRET, delivery, dict(meta_app_secret=SECRET, meta_verify_token="bench"))

if __name__ == "__main__":
    main(BENCH, __doc__)
