"""structlog setup: JSON in production, readable in a terminal, personal data redacted.

Redaction is a processor, not a convention: every event passes through it, so a careless
``log.info("x", text=msg.text)`` still cannot leak a citizen's words, number or address.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

# values of these keys are never logged, only their length and a short hash (for correlation)
SENSITIVE_KEYS = frozenset({
    "text", "body", "content", "message", "message_text", "original_text", "public_body", "title",
    "raw", "payload", "phone", "msisdn", "email", "sender", "from", "to", "from_", "address",
    "reporter", "name", "display_name", "handle", "subject", "password", "token", "secret",
    "authorization", "caption", "bin", "binary", "short_message",
})
_EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")
# Indonesian mobiles in every written form, landlines with a leading 0, any +international number
_PHONE = re.compile(r"(?<![\w+])(?:(?:\+|00)?62[\s.-]?(?:\(0\))?[\s.-]?8|0[1-9])(?:[\s.-]?\d){6,12}(?![\w])"
                    r"|(?<![\w+])(?:\+|00)[1-9](?:[\s.-]?\d){7,14}(?![\w])|(?<![\w+])8\d{8,11}(?![\w])")
_SECRETS = re.compile(r"(?i)(token|secret|password|signature|hub\.verify_token|crc_token)(=|:\s*)[^\s&,;\"']+")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}")


def fingerprint(value: Any) -> str:
    data = value if isinstance(value, bytes) else str(value).encode("utf-8", "replace")
    return hashlib.sha256(data).hexdigest()[:10]


def scrub(text: str) -> str:
    """Mask email addresses, phone-like digit runs and inline secrets in a free-form string."""
    text = _EMAIL.sub("<email>", text)
    text = _PHONE.sub("<phone>", text)
    text = _BEARER.sub(r"\1 <redacted>", text)
    return _SECRETS.sub(r"\1\2<redacted>", text)


def _redact_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str | bytes):
        return f"<redacted len={len(value)} h={fingerprint(value)}>"
    return "<redacted>"


def redact_processor(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        value = event_dict[key]
        if key == "event":
            event_dict[key] = scrub(str(value))
        elif key.lower() in SENSITIVE_KEYS:
            event_dict[key] = _redact_value(value)
        elif isinstance(value, str):
            event_dict[key] = scrub(value)
        elif isinstance(value, dict):
            event_dict[key] = {k: (_redact_value(v) if str(k).lower() in SENSITIVE_KEYS else
                                   scrub(v) if isinstance(v, str) else v) for k, v in value.items()}
    return event_dict


def _scrub_exception(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    if "exception" in event_dict and isinstance(event_dict["exception"], str):
        event_dict["exception"] = scrub(event_dict["exception"])
    return event_dict


def configure_logging(fmt: str = "auto", level: str = "info") -> None:
    """Route structlog and the stdlib ``logging`` through the same redacting pipeline."""
    if fmt == "auto":
        fmt = "console" if sys.stderr.isatty() else "json"
    renderer: Any = (structlog.processors.JSONRenderer() if fmt == "json"
                     else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()))
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_processor,
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, _scrub_exception, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    # third-party libraries log through stdlib logging: same redaction, same format
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, _scrub_exception, renderer],
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(logging.getLevelName(level.upper()), logging.INFO))
    for noisy in ("aiohttp.access", "rq.queue", "rq.worker", "httpx", "telegram", "tweepy", "imapclient"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
