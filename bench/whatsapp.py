"""WhatsApp webhook throughput: signed notifications of 1 and of 50 messages → stored in the stream.

Method and options: bench/signed_webhook.py. ``python bench/whatsapp.py [--events 20000] [--connections 32]``
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.signed_webhook import WebhookBench, main

SECRET = "bench-whatsapp-app-secret"
PATH = "/channels/whatsapp/webhook"


def delivery(run: str, start: int, batch: int) -> bytes:
    """One notification with ``batch`` messages from as many citizens (text, every fifth a photo)."""
    ts = str(int(time.time()))
    messages, contacts = [], []
    for i in range(start, start + batch):
        wa_id = f"628129{i % 10_000_000:07d}"
        contacts.append({"profile": {"name": f"Warga {i}"}, "wa_id": wa_id})
        m = {"from": wa_id, "id": f"wamid.{run}.{i}", "timestamp": ts, "type": "text",
             "text": {"body": "Lampu jalan mati di RT 04 RW 02 Kelurahan Sukamaju sudah dua minggu, mohon diperbaiki."}}
        if i % 5 == 0:
            m = {"from": wa_id, "id": f"wamid.{run}.{i}", "timestamp": ts, "type": "image",
                 "image": {"id": f"10293{i}", "mime_type": "image/jpeg", "sha256": "pYkNrzdgN2dUW7vj7T5uOYnJZ1bY=",
                           "caption": "Sampah menumpuk di Jl. Kenanga"}}
        messages.append(m)
    doc = {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [
        {"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "6281117081708", "phone_number_id": "106540352242922"},
            "contacts": contacts, "messages": messages}}]}]}
    return json.dumps(doc, separators=(",", ":")).encode()


BENCH = WebhookBench(__file__, PATH, SECRET, delivery,
                     dict(whatsapp_app_secret=SECRET, whatsapp_verify_token="bench", whatsapp_token="bench"))

if __name__ == "__main__":
    main(BENCH, __doc__)
