"""structlog setup: JSON in production, readable in a terminal, personal data redacted.

Redaction is a processor, not a convention: every event passes through it, so a careless
``log.info("x", text=msg.text)`` still cannot leak a citizen's words, number or address.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import logging
import re
import secrets
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

# the id of the HTTP request being handled (set by ``gateway.request_id``): added to every log line
# by a processor, so the request path sets one context variable instead of binding structlog's
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("lapor_request_id", default=None)

# values of these keys are never logged, only their length and a short hash (for correlation)
SENSITIVE_KEYS = frozenset({
    "text", "body", "content", "message", "message_text", "original_text", "public_body", "title",
    "raw", "payload", "phone", "msisdn", "email", "sender", "from", "to", "from_", "address",
    "reporter", "name", "display_name", "handle", "subject", "password", "token", "secret",
    "authorization", "caption", "bin", "binary", "short_message",
})
# One pass, one regex: every alternative has bounded repetition (and possessive runs where the
# next character cannot belong to the run), so the work per input position is bounded and the
# whole scrub is linear in the input, whatever it holds. Leftmost match wins; at one position the
# alternatives are tried in order, so the more specific patterns come first.
_B = r"(?:(?<!\w)|(?<=%[0-9A-Fa-f]{2}))"  # start of a token: also right after %2B, %20, %3A…
_PATTERNS: dict[str, str] = {
    # scheme://user:password@host (Redis, SMTP, IMAP, AMQP URLs): keep the scheme only
    "url_credentials": r"\b[A-Za-z][A-Za-z0-9+.-]{0,19}://[^\s/@:]{0,256}+:[^\s/@]{1,256}+@",
    # Telegram bot tokens: /bot<id>:<secret>/ in Bot API paths, and bare <id>:<35 chars>
    "bot_path": r"(?<=/bot)[^/\s?#]{1,256}+",
    "bot_token": r"(?<![\w:])\d{5,15}:[A-Za-z0-9_-]{30,64}+(?![\w-])",
    # Authorization header values and inline key=value / "key": "value" secrets
    "auth_header": r"\b(?i:bearer|basic)\s{1,8}[A-Za-z0-9._~+/=-]{6,4096}+",
    "secret_kv": r"(?i:token|secret|password|passwd|signature|api_?key|crc_token)[\w-]{0,16}+"
                 r"[\"']?\s{0,4}[=:]\s{0,4}[\"']?[^\s&,;\"'<>]{1,1024}+",
    "email": r"(?<![\w.+%-])[\w.+%-]{1,64}+@[\w-]{1,63}+(?:\.[\w-]{1,63}+){1,8}",
    # NIK / KK numbers: 16 digits, run together or in four groups of four
    "nik": r"(?<!\d)\d{16}(?!\d)|" + _B + r"\d{4}(?P<nik_sep>[ .-])\d{4}(?P=nik_sep)\d{4}(?P=nik_sep)\d{4}(?![\w.-])",
    # Indonesian mobiles in every written form, landlines with a leading 0, any +international number
    "phone": _B + r"(?:(?:\+|00)?62[\s.-]?(?:\(0\))?[\s.-]?8|0[1-9])(?:[\s.-]?\d){6,12}(?!\w)"
             r"|" + _B + r"(?:\+|%2[Bb]|00)[1-9](?:[\s.-]?\d){7,14}(?!\w)"
             r"|" + _B + r"8\d{8,11}(?!\w)",
}
SCRUB_PATTERN = "|".join(f"(?P<{name}>{rx})" for name, rx in _PATTERNS.items())
_SCRUB = re.compile(SCRUB_PATTERN)
_MASKS = {"email": "<email>", "nik": "<nik>", "phone": "<phone>", "bot_path": "<redacted>",
          "bot_token": "<bot-token>"}
_KV_SPLIT = re.compile(r"[=:]\s{0,4}[\"']?")
_MAX_DEPTH = 6

# the fingerprint is keyed per process: it correlates lines, but a phone number's hash cannot be
# found by hashing every possible number
_FP_KEY = secrets.token_bytes(16)


def fingerprint(value: Any) -> str:
    data = value if isinstance(value, bytes) else str(value).encode("utf-8", "replace")
    return hmac.new(_FP_KEY, data, hashlib.sha256).hexdigest()[:10]


def _mask(m: re.Match[str]) -> str:
    kind = m.lastgroup or ""
    if kind in _MASKS:
        return _MASKS[kind]
    text = m.group(0)
    if kind == "url_credentials":
        return text[: text.index("://") + 3] + "<redacted>@"
    if kind == "auth_header":
        return text.split(None, 1)[0] + " <redacted>"
    sep = _KV_SPLIT.search(text)  # secret_kv: keep the key and separator
    return text[: sep.end()] + "<redacted>" if sep else "<redacted>"


def scrub(text: str) -> str:
    """Mask emails, phone numbers, NIK/KK numbers, URL credentials, bot tokens and inline secrets."""
    return _SCRUB.sub(_mask, text)


def _redact_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str | bytes):
        return f"<redacted len={len(value)} h={fingerprint(value)}>"
    return "<redacted>"


def scrub_value(value: Any, depth: int = 0) -> Any:
    """Scrub any value a log line can carry: strings, bytes, numbers, containers, objects."""
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):  # a phone number or NIK can arrive as an int
        text = str(value)
        return value if scrub(text) == text else scrub(text)
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return scrub(bytes(value).decode("utf-8", "replace"))
    if depth >= _MAX_DEPTH:
        return "<redacted nested>"
    if isinstance(value, Mapping):
        return {scrub_value(k, depth + 1): (_redact_value(v) if str(k).lower() in SENSITIVE_KEYS
                                            else scrub_value(v, depth + 1)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub_value(v, depth + 1) for v in value]
    return scrub(str(value))  # anything else is rendered by its str(): scrub what will be shown


# keys structlog's stdlib bridge keeps for itself (removed before rendering)
_INTERNAL_KEYS = frozenset({"_record", "_from_structlog", "exc_info", "stack_info"})


def redact_processor(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        value = event_dict[key]
        if key in _INTERNAL_KEYS:
            continue
        if key == "event":
            event_dict[key] = scrub(str(value))
        elif key.lower() in SENSITIVE_KEYS:
            event_dict[key] = _redact_value(value)
        else:
            event_dict[key] = scrub_value(value)
    return event_dict


def _scrub_exception(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    if "exception" in event_dict and isinstance(event_dict["exception"], str):
        event_dict["exception"] = scrub(event_dict["exception"])
    return event_dict


def add_request_id(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    rid = REQUEST_ID.get()
    if rid is not None and "request_id" not in event_dict:
        event_dict["request_id"] = rid
    return event_dict


def configure_logging(fmt: str = "auto", level: str = "info") -> None:
    """Route structlog and the stdlib ``logging`` through the same redacting pipeline."""
    if fmt == "auto":
        fmt = "console" if sys.stderr.isatty() else "json"
    renderer: Any = (structlog.processors.JSONRenderer() if fmt == "json"
                     else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()))
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        add_request_id,
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
