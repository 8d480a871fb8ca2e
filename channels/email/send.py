"""Email acknowledgements over SMTP (``LAPOR_SMTP_URL``), with aiosmtplib.

The acknowledgement goes to the citizen (the forwarding agency only when the citizen's address
is unknown: that choice is made at parse time, in ``reply_to``), in Indonesian, with the
reference, ``In-Reply-To``/``References`` to the citizen's mail and ``Auto-Submitted:
auto-replied`` (RFC 3834) so that well-behaved auto-responders do not answer it. Its
Message-ID is derived from the record id (a retry sends the same id) and is stored in Redis
*before* sending, so a citizen's reply to it is linked to the record (``hooks.py``).
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import redis.asyncio as aioredis

from channels.core.outbound import OutboundMessage, PermanentSendError, SendResult, TransientSendError
from channels.core.send import SenderBase
from channels.email.classify import ACK_HEADER
from channels.email.hooks import thread_key
from config.settings import Settings
from gateway import redis_clients
from gateway.logging import get_logger

log = get_logger("channels.email.send")

_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool | None  # None: upgrade when the server offers STARTTLS


def parse_smtp_url(url: str) -> SmtpTarget:
    """``smtp://user:pass@host:port`` (``?starttls=1`` forces STARTTLS, ``=0`` forbids it), ``smtps://`` TLS."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("LAPOR_SMTP_URL must look like smtp://user:pass@host:port or smtps://…")
    query = parse_qs(parts.query)
    flag = (query.get("starttls") or [""])[0].lower()
    start_tls = True if flag in ("1", "true", "yes") else False if flag in ("0", "false", "no") else None
    use_tls = parts.scheme == "smtps"
    port = parts.port or (465 if use_tls else 587 if start_tls else 25)
    return SmtpTarget(parts.hostname, port, unquote(parts.username) if parts.username else None,
                      unquote(parts.password) if parts.password else None, use_tls,
                      None if use_tls else start_tls)


def ack_message_id(record_id: str, from_addr: str) -> str:
    domain = from_addr.rsplit("@", 1)[-1] if "@" in from_addr else "lapor.go.id"
    return f"ack.{record_id}@{domain}"


def body_text(msg: OutboundMessage) -> str:
    lines = ["Yth. Bapak/Ibu Pelapor,", "", msg.text, ""]
    if "forwarded" in (msg.meta.get("flags") or []):
        lines += ["Laporan ini diteruskan kepada LAPOR! oleh instansi yang Anda hubungi melalui email.", ""]
    if msg.reference:
        lines += [f"Untuk menambahkan keterangan, balas email ini; balasan Anda akan dicatat pada laporan "
                  f"{msg.reference}.", ""]
    lines += ["Salam,", "LAPOR! – Layanan Aspirasi dan Pengaduan Online Rakyat", "",
              "Email ini dikirim otomatis."]
    return "\n".join(lines) + "\n"


def build_mail(msg: OutboundMessage, settings: Settings) -> tuple[EmailMessage, str]:
    """The acknowledgement as a MIME message, and its Message-ID (without brackets)."""
    from_addr = parseaddr(settings.smtp_from)[1] or "noreply@lapor.go.id"
    mail = EmailMessage()
    mail["From"] = settings.smtp_from
    mail["To"] = msg.address
    intake = settings.imap_user if settings.imap_user and "@" in settings.imap_user else None
    if intake and intake.lower() != from_addr.lower():
        mail["Reply-To"] = intake  # replies reach the complaints mailbox and become follow-ups
    if msg.reference:
        mail["Subject"] = f"Laporan Anda telah diterima [{msg.reference}]"
        mail[ACK_HEADER] = msg.reference
    else:
        mail["Subject"] = "Informasi dari LAPOR!"
        mail[ACK_HEADER] = "-"
    oid = msg.meta.get("outbound_id") if msg.kind == "reply" else None
    if oid:  # the core's message: its own Message-ID (bounces name it), stable across retries
        mid = f"out.{oid}@{from_addr.rsplit('@', 1)[-1] if '@' in from_addr else 'lapor.go.id'}"
        if msg.reference:
            mail.replace_header("Subject", f"Kabar laporan Anda [{msg.reference}]")
    elif msg.record_id:
        mid = ack_message_id(msg.record_id, from_addr)
    else:
        mid = make_msgid(domain=from_addr.rsplit("@", 1)[-1])[1:-1]
    mail["Message-ID"] = f"<{mid}>"
    mail["Date"] = formatdate(usegmt=True)
    if msg.thread:
        mail["In-Reply-To"] = f"<{msg.thread}>"
        mail["References"] = f"<{msg.thread}>"
    mail["Auto-Submitted"] = "auto-replied"
    mail["X-Auto-Response-Suppress"] = "All"
    mail.set_content(body_text(msg))
    return mail, mid


class EmailSender(SenderBase):
    """``senders()`` entry for ``reply_to.channel == "email"``: one SMTP session per message."""

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.target = parse_smtp_url(Settings.secret(settings.smtp_url) or "")
        self._redis: aioredis.Redis | None = None

    def _tls_context(self) -> ssl.SSLContext:
        cafile = str(self.settings.smtp_ca_file) if self.settings.smtp_ca_file else None
        return ssl.create_default_context(cafile=cafile)

    async def _remember(self, mid: str, record_id: str) -> None:
        if self._redis is None:
            self._redis = redis_clients.connect(self.settings, max_connections=16)  # any deployment
        await self._redis.set(thread_key(mid), record_id, ex=self.settings.email_thread_ttl_s)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def __call__(self, msg: OutboundMessage) -> SendResult:
        if "auto_reply" in (msg.meta.get("flags") or []):
            return SendResult(skipped="auto_reply")  # never answer an automatic message (mail loops)
        if not _ADDRESS.match(msg.address or ""):
            raise PermanentSendError("not a deliverable email address", code="invalid_recipient")
        mail, mid = build_mail(msg, self.settings)
        if msg.record_id:
            try:
                await self._remember(mid, msg.record_id)
            except Exception as exc:
                raise TransientSendError(f"redis: {type(exc).__name__}") from exc
        t = self.target
        kwargs: dict[str, Any] = {"hostname": t.host, "port": t.port, "username": t.username,
                                  "password": t.password, "use_tls": t.use_tls, "start_tls": t.start_tls,
                                  "timeout": self.settings.smtp_timeout_s}
        if t.use_tls or t.start_tls is not False:
            kwargs["tls_context"] = self._tls_context()
        scheme = "smtps" if t.use_tls else "smtp"
        import aiosmtplib  # here, not at import: a worker without LAPOR_SMTP_URL never loads it

        async with self.recorded("email", "SMTP", f"{scheme}://{t.host}:{t.port}") as note:
            try:
                await aiosmtplib.send(mail, **kwargs)
            except aiosmtplib.SMTPRecipientsRefused as exc:
                codes = [e.code for e in exc.recipients]
                note.status = codes[0] if codes else "refused"
                if codes and all(500 <= c < 600 for c in codes):
                    raise PermanentSendError(f"recipient refused ({codes[0]})", code="invalid_recipient") from exc
                raise TransientSendError(f"recipient deferred ({codes[0] if codes else '?'})") from exc
            except aiosmtplib.SMTPAuthenticationError as exc:
                note.status = exc.code
                raise TransientSendError(f"smtp auth failed ({exc.code})", retry_after=300) from exc
            except aiosmtplib.SMTPResponseException as exc:
                note.status = exc.code
                if 500 <= exc.code < 600:
                    raise PermanentSendError(f"smtp refused ({exc.code})") from exc
                raise TransientSendError(f"smtp deferred ({exc.code})") from exc
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                note.status = "unreachable"
                raise TransientSendError(f"smtp: {type(exc).__name__}") from exc
            note.status = 250
        log.info("email.ack_sent", record=msg.record_id)
        return SendResult(provider_message_ids=(mid,), parts=1)


def senders(settings: Settings) -> dict[str, Any]:
    if not Settings.secret(settings.smtp_url):
        return {}
    return {"email": EmailSender(settings)}
