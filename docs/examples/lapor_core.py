"""Reference consumer for the national core: the two RQ functions lapor-gateway enqueues.

Run it with RQ itself (the gateway's jobs use RQ's JSON serializer)::

    PYTHONPATH=docs/examples rq worker -u redis://… -S json lapor-core lapor-core-status

``receive_complaint(record)`` gets one ``lapor.complaint/1`` record (queue ``LAPOR_CORE_QUEUE``);
``delivery_status(status)`` gets one ``lapor.delivery/1`` status (queue
``LAPOR_CORE_STATUS_QUEUE``) — each status of each message once, in order per message
(queued < sent < delivered < read, or failed, which is final). This example keeps both in
JSON-lines files (``LAPOR_CORE_DIR``); a real core writes them to its case database.

To speak back, the core POSTs ``lapor.outbound/1`` to ``/outbound/messages``
(:func:`post_outbound`): its own id is the idempotency key, so retrying a POST after a timeout
never sends twice. Only the standard library is used.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

FINAL = {"failed", "read"}


def _store(name: str, doc: dict[str, Any]) -> None:
    folder = Path(os.environ.get("LAPOR_CORE_DIR", "."))
    with (folder / name).open("a", encoding="utf-8") as f:
        f.write(json.dumps(doc, ensure_ascii=False) + "\n")


def post_outbound(record_id: str, text: str, *, message_id: str, kind: str = "status",
                  expects_reply: bool = False, timeout_s: float = 10.0) -> dict[str, Any]:
    """Send ``text`` to the citizen of ``record_id``; returns the gateway's answer.

    202 queued (new), 200 (this id was posted before: nothing is sent again), 404 unknown record,
    422 ``no_route`` (the citizen cannot be reached), 400 invalid (``details`` name the fields).
    """
    body = json.dumps({"schema": "lapor.outbound/1", "id": message_id, "record_id": record_id, "kind": kind,
                       "text": text, "expects_reply": expects_reply}).encode()
    headers = {"Content-Type": "application/json", "Authorization": "Bearer " + os.environ["LAPOR_OUTBOUND_TOKEN"]}
    url = os.environ["LAPOR_GATEWAY_URL"].rstrip("/") + "/outbound/messages"
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            return dict(json.loads(resp.read()), http_status=resp.status)
    except urllib.error.HTTPError as exc:  # 4xx/5xx carry a JSON body too
        return dict(json.loads(exc.read() or b"{}"), http_status=exc.code)


def receive_complaint(record: dict[str, Any]) -> str:
    """A new complaint: keep it, and tell the citizen it is being verified (idempotent id)."""
    _store("records.jsonl", record)
    if record.get("reply_to"):
        answer = post_outbound(record["id"], "Laporan Anda sedang diverifikasi oleh admin LAPOR!.",
                               message_id=f"verif-{record['id']}", kind="status")
        if answer["http_status"] >= 500:
            raise RuntimeError(f"gateway unavailable ({answer['http_status']}): RQ retries this job")
    return str(record["id"])


def delivery_status(status: dict[str, Any]) -> str:
    """What became of a message: keep the status next to the message it belongs to.

    ``status["outbound_id"]`` is the core's id (or ``ack-<record id>`` / ``question-<record id>``
    for the gateway's own messages; ``<id>-replay<N>`` when an admin replayed a failed one).
    ``error.code`` says why on ``failed`` (``window_closed``, ``no_route``, ``rejected``…).
    """
    _store("statuses.jsonl", status)
    if status["status"] == "failed":
        _store("to_review.jsonl", {"outbound_id": status["outbound_id"], "record_id": status["record_id"],
                                   "code": (status.get("error") or {}).get("code")})
    return f"{status['outbound_id']} {status['status']}"
