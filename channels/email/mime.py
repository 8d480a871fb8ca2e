"""One raw RFC 5322 message → zero or more ``InboundMessage``s (the email channel's parser).

Shared by the raw-MIME endpoint and the IMAP poller so that the same mail gets the same native
id whichever way it arrives: the normalized ``Message-ID`` plus a hash of the body (the headers
differ between an MTA pipe and the mailbox copy — ``Received:``, ``Return-Path:`` —, the body
does not). A missing Message-ID falls back to a hash of the addressing headers and the body.
Parsing never raises: a malformed message is stored with ``decode_error`` and its defects.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import errors as email_errors
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from typing import Any

from channels.core.inbound import DeliveryReport
from channels.email import cleaning
from channels.email.bounces import bounce_reports
from channels.email.classify import classify
from channels.email.dates import loose_date
from channels.email.decoding import decode_bytes, part_bytes, part_text
from channels.email.forwards import Forward, find_forward
from gateway.blobs import BlobTooLarge, FileBlobStore
from normalizer.models import (
    Attachment,
    AttachmentKind,
    Conversation,
    Flag,
    ForwardedBy,
    InboundMessage,
    ReplyTo,
    Sender,
)

RAW_INLINE_MAX = 512 * 1024  # larger raw messages live only in the blob store (meta.raw_ref)
LOGO_MAX_BYTES = 32 * 1024  # an inline image smaller than this is a logo/signature, not evidence
MAX_HEADER_CHARS = 64 * 1024  # what is read of one header value (RFC 5322 lines are <= 998 characters)
MAX_ENCODED_HEADER_CHARS = 8 * 1024  # longer values keep their RFC 2047 words undecoded (stdlib is quadratic)
MAX_MIME_STRUCTURES = 64  # multiparts + attached mails in one message; real mail nests a handful
MAX_MIME_HEADER_BYTES = 8 * 1024  # one Content-Type/-Disposition header (RFC 2231 names fit easily)
_SEVERE_DEFECTS = (
    email_errors.StartBoundaryNotFoundDefect, email_errors.CloseBoundaryNotFoundDefect,
    email_errors.MultipartInvariantViolationDefect, email_errors.NoBoundaryInMultipartDefect,
    email_errors.MissingHeaderBodySeparatorDefect, email_errors.InvalidBase64PaddingDefect,
    email_errors.InvalidBase64CharactersDefect, email_errors.InvalidBase64LengthDefect,
    email_errors.InvalidMultipartContentTransferEncodingDefect,
)
_NO_REPLY = re.compile(r"^(no-?reply|do-?not-?reply|mailer-daemon|postmaster|bounce[s]?)([+.-].*)?$", re.I)
_MSGID = re.compile(r"<([^<>\s]+)>")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class BuildResult:
    messages: list[InboundMessage] = field(default_factory=list)
    skipped: str | None = None  # reason when the mail is not a complaint
    statuses: list[DeliveryReport] = field(default_factory=list)  # a bounce: what it says of our mail


@dataclass
class _Body:
    text: str
    html_only: bool
    replaced: bool
    leaves: list[Message]
    embedded: list[tuple[Message, Message]]  # (the message/rfc822 part, the mail inside it)


# ------------------------------------------------------------------------------------- headers
def _header_fn(msg: Message) -> Any:
    """``header(name) -> str``: first occurrence, RFC 2047 decoded, unfolded; never raises.

    Reads the raw values once instead of going through policy.default's header objects, which
    cost half of the parse time and raise on some malformed headers.
    """
    raw: dict[str, str] = {}
    items = msg.raw_items() if hasattr(msg, "raw_items") else msg.items()
    for k, v in items:
        raw.setdefault(k.lower(), str(v))

    def header(name: str) -> str:
        value = raw.get(name.lower())
        if value is None:
            return ""
        value = value[:MAX_HEADER_CHARS]  # RFC 2047 decoding of a megabyte of encoded words is not linear
        value = re.sub(r"\r?\n[ \t]+", " ", value).strip()
        if "=?" in value and len(value) <= MAX_ENCODED_HEADER_CHARS:
            with contextlib.suppress(Exception):  # a broken encoded word: keep it as it came
                value = str(make_header(decode_header(value)))
        return fix_surrogates(value)
    return header


def fix_surrogates(text: str) -> str:
    """8-bit bytes in headers come back from the parser as lone surrogates: decode them properly."""
    if not _SURROGATE.search(text):
        return text
    return decode_bytes(text.encode("utf-8", "surrogateescape"), None)[0]


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return fix_surrogates(value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _serializable(m: InboundMessage) -> InboundMessage:
    """Whatever the parser let through, the message must survive JSON (the stream, the spool)."""
    try:
        m.model_dump_json()
        return m
    except ValueError:
        return InboundMessage.model_validate(_scrub(m.model_dump()))


def normalize_msgid(value: str | None) -> str | None:
    """``<abc@host>`` → ``abc@host`` (the form stored in native ids and thread maps)."""
    if not value:
        return None
    m = _MSGID.search(value)
    mid = m.group(1) if m else re.sub(r"\s+", "", value).strip("<>")
    return mid[:250] or None


def msgid_list(value: str | None) -> list[str]:
    return [m[:250] for m in _MSGID.findall(value or "")]


def _body_hash(raw: bytes) -> bytes:
    data = raw.replace(b"\r\n", b"\n")
    sep = data.find(b"\n\n")
    body = data[sep + 2:] if sep >= 0 else b""
    lines = [ln.rstrip() for ln in body.split(b"\n")]
    while lines and not lines[-1]:
        lines.pop()
    return hashlib.sha256(b"\n".join(lines)).digest()


def native_id_of(raw: bytes, header: Any) -> str:
    body = _body_hash(raw)
    mid = normalize_msgid(header("Message-ID"))
    if mid:
        return f"{mid}#{body.hex()[:16]}"
    h = hashlib.sha256()
    for name in ("From", "To", "Date", "Subject"):
        h.update(header(name).strip().encode("utf-8", "replace") + b"\n")
    h.update(body)
    return f"sha256:{h.hexdigest()}"


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        dt = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return dt if dt.tzinfo is not None else None


# ---------------------------------------------------------------------------------------- parse
def parse_bytes(raw: bytes) -> EmailMessage | Message:
    try:
        return message_from_bytes(raw, policy=policy.default)
    except Exception:
        return message_from_bytes(raw)  # compat32 is the most forgiving parser


def structure_problem(raw: bytes) -> str | None:
    """Why the MIME structure of ``raw`` is beyond what the standard parser handles in linear time.

    The stdlib parser tests every line against every open multipart boundary (deep nesting costs
    depth x lines) and parses structured headers (Content-Type parameters) super-linearly. One pass
    over the lines counts the nested structures and measures every ``Content-*`` header.
    """
    structures = 0
    current = 0  # length so far of the Content-Type/-Disposition header being read (folded lines too)
    for line in raw.split(b"\n"):
        if current and line[:1] in (b" ", b"\t"):
            current += len(line)
        else:
            head = line[:24].lower()
            current = len(line) if head.startswith((b"content-type:", b"content-disposition:")) else 0
            if head.startswith(b"content-type:"):
                value = line[:256].lower()
                structures += b"multipart/" in value or b"message/rfc822" in value
                if structures > MAX_MIME_STRUCTURES:
                    return f"more than {MAX_MIME_STRUCTURES} nested multipart/attached-mail parts"
        if current > MAX_MIME_HEADER_BYTES:
            return f"a Content-Type/Content-Disposition header longer than {MAX_MIME_HEADER_BYTES} bytes"
    return None


def _header_section(raw: bytes) -> bytes:
    """The header lines of ``raw`` (a partial fetch may end mid-line or lack the blank line)."""
    data = raw.replace(b"\r\n", b"\n")
    end = data.find(b"\n\n")
    head = data if end < 0 else data[:end]
    if end < 0 and b"\n" in head and not head.endswith(b"\n"):
        head = head[:head.rfind(b"\n")]  # cut off mid-line: drop the partial header
    return head.rstrip(b"\n") + b"\n\n"


def _as_plain_text(raw: bytes) -> bytes:
    """``raw`` with its top-level ``Content-*`` headers dropped: the body becomes one text part that
    the parser reads without looking at its structure (the fallback for ``structure_problem``)."""
    data = raw.replace(b"\r\n", b"\n")
    end = data.find(b"\n\n")
    head, body = (data, b"") if end < 0 else (data[:end], data[end + 2:])
    kept: list[bytes] = []
    dropping = False
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            if not dropping:
                kept.append(line)
            continue
        dropping = line[:8].lower() == b"content-" or line[:13].lower() == b"mime-version:"
        if not dropping:
            kept.append(line)
    return b"\n".join([*kept, b"Content-Type: text/plain", b"", body])


def _walk(part: Message) -> Iterator[Message]:
    """Leaf parts and message/rfc822 parts (not descended into), in order."""
    if part.get_content_type() == "message/rfc822" or not part.is_multipart():
        yield part
        return
    payload = part.get_payload()
    if isinstance(payload, list):
        for sub in payload:
            if isinstance(sub, Message):
                yield from _walk(sub)


def _inner_mail(part: Message) -> Message | None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]
    if isinstance(payload, str) and payload.strip():
        return parse_bytes(payload.encode("utf-8", "surrogateescape"))
    return None


def _disposition(part: Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:
        return ""


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        return None
    return fix_surrogates(str(name))[:255] if name else None


def extract(msg: Message) -> _Body:
    """The best text of ``msg`` (plain preferred, HTML converted), its attachments and attached mails."""
    body_part: Message | None = None
    if isinstance(msg, EmailMessage):
        try:
            body_part = msg.get_body(preferencelist=("plain", "html"))
        except Exception:
            body_part = None
    leaves = list(_walk(msg))
    if body_part is None:
        body_part = next((p for p in leaves if p.get_content_type() in ("text/plain", "text/html")
                          and _disposition(p) != "attachment"), None)
    texts: list[str] = []
    replaced = False
    html_only = False
    if body_part is not None:
        text, replaced = part_text(body_part)
        texts.append(text)
        html_only = body_part.get_content_type() == "text/html"
    attachments: list[Message] = []
    embedded: list[tuple[Message, Message]] = []
    for p in leaves:
        if p is body_part:
            continue
        ctype = p.get_content_type()
        if ctype == "message/rfc822":
            inner = _inner_mail(p)
            if inner is not None:
                embedded.append((p, inner))
            continue
        if ctype in ("text/plain", "text/html") and not _filename(p) and _disposition(p) != "attachment":
            if ctype == "text/plain" and body_part is not None and body_part.get_content_type() == "text/plain":
                extra, bad = part_text(p)  # Apple Mail splits a body around inline images
                texts.append(extra)
                replaced = replaced or bad
            continue  # the HTML alternative of a plain body
        if ctype.startswith("multipart/"):
            # a multipart whose boundary never appears: its payload is all we have of the text
            extra, _bad = part_text(p)
            texts.append(extra)
            replaced = True
            continue
        attachments.append(p)
    return _Body("\n".join(texts), html_only, replaced, attachments, embedded)


def _defects(msg: Message) -> list[email_errors.MessageDefect]:
    out: list[email_errors.MessageDefect] = []
    for part in msg.walk():
        out.extend(getattr(part, "defects", []) or [])
    return out


# ----------------------------------------------------------------------------------- attachments
def _kind(mime: str) -> AttachmentKind:
    major = mime.split("/", 1)[0]
    if major in ("image", "video", "audio"):
        return major  # type: ignore[return-value]
    if major in ("application", "text", "message"):
        return "document"
    return "other"


def store_attachments(parts: list[Message], blobs: FileBlobStore, html: str = "") -> tuple[list[Attachment],
                                                                                             list[dict[str, Any]]]:
    """Bytes to the blob store; the list for the record; what could not be stored and why."""
    out: list[Attachment] = []
    problems: list[dict[str, Any]] = []
    for p in parts:
        data = part_bytes(p)
        mime = p.get_content_type()
        name = _filename(p)
        if not data:
            continue
        cid = (p.get("Content-ID") or "").strip().strip("<>")
        inline = (mime.startswith("image/") and len(data) < LOGO_MAX_BYTES
                  and (_disposition(p) == "inline" or bool(cid)) and _disposition(p) != "attachment")
        try:
            blob = blobs.put_sync(data)
        except BlobTooLarge:
            problems.append({"filename": name, "mime": mime, "size": len(data), "error": "too_large"})
            out.append(Attachment(kind=_kind(mime), mime=mime, filename=name, size=len(data), sha256=None,
                                  inline=inline))
            continue
        except OSError as exc:
            problems.append({"filename": name, "mime": mime, "size": len(data), "error": type(exc).__name__})
            raise
        out.append(Attachment(kind=_kind(mime), mime=mime, filename=name, size=blob.size, sha256=blob.sha256,
                              ref=blob.ref, inline=inline))
    return out, problems


def _rfc822_attachment(part: Message, blobs: FileBlobStore) -> Attachment | None:
    """An attached mail kept as evidence (a citizen's exchange with an agency)."""
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    try:
        data = inner.as_bytes() if isinstance(inner, Message) else part_bytes(part)
    except Exception:
        data = part_bytes(part)
    if not data:
        return None
    try:
        blob = blobs.put_sync(data)
    except BlobTooLarge:
        return Attachment(kind="document", mime="message/rfc822", filename=_filename(part), size=len(data),
                          sha256=None)
    return Attachment(kind="document", mime="message/rfc822", filename=_filename(part) or "message.eml",
                      size=blob.size, sha256=blob.sha256, ref=blob.ref)


# -------------------------------------------------------------------------------------- building
@dataclass
class _Party:
    email: str | None
    name: str | None


def _party(value: str) -> _Party:
    name, addr = parseaddr(value or "")
    addr = addr.strip().lower()
    return _Party(addr if "@" in addr else None, name.strip() or None)


def _replyable(addr: str | None, own: set[str]) -> bool:
    return bool(addr) and addr not in own and not _NO_REPLY.match(addr.split("@", 1)[0])  # type: ignore[union-attr]


def _gov(addr: str | None) -> bool:
    return bool(addr) and (addr.endswith(".go.id") or addr.endswith(".mil.id"))  # type: ignore[union-attr]


def _is_agency_forward(outer: _Party, inner: _Party) -> bool:
    """Someone passes a citizen's mail on. Not when the citizen forwards their own mail, nor when a
    citizen forwards an agency's answer (a government sender inside, a private one outside)."""
    if inner.email is not None and outer.email is not None and inner.email == outer.email:
        return False
    return not (_gov(inner.email) and not _gov(outer.email))


def own_addresses(settings: Any) -> set[str]:
    own = {a.strip().lower() for a in (settings.email_own_addresses or "").split(",") if a.strip()}
    smtp_from = parseaddr(settings.smtp_from or "")[1].lower()
    if smtp_from:
        own.add(smtp_from)
    if settings.imap_user and "@" in settings.imap_user:
        own.add(settings.imap_user.lower())
    return own


def build(raw: bytes, settings: Any, blobs: FileBlobStore, *, provider: str = "http-mime",
          source_meta: dict[str, Any] | None = None, oversize: tuple[int, int] | None = None) -> BuildResult:
    """Parse one raw message; store its attachments; return the messages (or why none).

    A message whose MIME structure the parser cannot take in linear time (``structure_problem``)
    is read as one text part and flagged ``decode_error`` with ``meta.mime_limited`` saying why.
    ``oversize=(size, limit)``: ``raw`` is only the header section of a mail too large to fetch;
    the record is a stub flagged ``truncated`` with ``meta.oversize`` (the mail stays in the mailbox).
    """
    if oversize is not None:
        raw = _header_section(raw)
    limited = structure_problem(raw)
    msg = parse_bytes(_as_plain_text(raw) if limited or oversize else raw)
    header = _header_fn(msg)
    own = own_addresses(settings)
    reason = classify(msg, header, own)
    if reason is not None:
        return BuildResult(skipped=reason, statuses=bounce_reports(msg, raw) if reason == "bounce" else [])

    native = native_id_of(raw, header)
    outer = _party(header("From"))
    if outer.email is None:
        outer = _party(header("Sender")) if header("Sender") else _party(header("Reply-To"))
    subject = header("Subject").strip()
    sent_at = _date(header("Date"))
    message_id = normalize_msgid(header("Message-ID"))
    in_reply_to = normalize_msgid(header("In-Reply-To"))
    references = msgid_list(header("References"))
    recipients = [a.lower() for _n, a in getaddresses([header("To"), header("Delivered-To")]) if "@" in a]
    body = extract(msg)
    defects = _defects(msg)
    flags: list[Flag] = []
    if limited or body.replaced or any(isinstance(d, _SEVERE_DEFECTS) for d in defects):
        flags.append("decode_error")
    if oversize is not None:
        flags.append("truncated")

    raw_meta: dict[str, Any] = {"size": len(raw), "ref": None}
    if len(raw) > RAW_INLINE_MAX:  # too big to ride along in the stream entry: keep it in the blob store
        with contextlib.suppress(BlobTooLarge):
            raw_meta["ref"] = blobs.put_sync(raw).ref
    base_meta: dict[str, Any] = {
        "source": provider, "message_id": message_id, "in_reply_to": in_reply_to, "references": references,
        "subject": subject or None, "html_only": body.html_only, "raw": raw_meta,
        "defects": sorted({type(d).__name__ for d in defects}),
        **({"mime_limited": limited} if limited else {}),
        **({"oversize": {"size": oversize[0], "limit": oversize[1]}} if oversize else {}),
        **(source_meta or {}),
    }
    common: dict[str, Any] = {
        "channel": "email", "provider": provider, "kind": "email",
        "recipient": recipients[0] if recipients else None,
        "raw": raw.decode("utf-8", "replace") if len(raw) <= RAW_INLINE_MAX else None,
    }
    thread_root = references[0] if references else (in_reply_to or message_id)
    # conversation.in_reply_to is a record id (set by the threads preprocessor); the mail's parent
    # Message-ID is the provider's id: parent_message_id
    conversation = Conversation(thread_id=thread_root) if thread_root else None
    outer_atts, problems = store_attachments(body.leaves, blobs)

    # 1. agency forward as attachment(s): each attached mail is a citizen's message
    forward_as_attachment = body.embedded and (
        cleaning.is_forward_subject(subject) or _gov(outer.email) or not cleaning.clean_body(body.text)
    ) and _is_agency_forward(outer, _party(_header_fn(body.embedded[0][1])("From")))
    if forward_as_attachment:
        out = []
        many = len(body.embedded) > 1
        for n, (_part, attached) in enumerate(body.embedded, 1):
            out.append(_from_attached(attached, n, many, native, outer, body, outer_atts if n == 1 else [],
                                      blobs, own, common, base_meta, flags, sent_at, subject))
        return BuildResult([_serializable(m) for m in out])

    evidence = [a for a in (_rfc822_attachment(p, blobs) for p, _i in body.embedded) if a is not None]
    fw: Forward | None = None
    if not (cleaning.is_reply_subject(subject) and not cleaning.is_forward_subject(subject)):
        fw = find_forward(body.text)
        if fw is not None and fw.original.from_email in own:
            fw = None  # a quote of our own acknowledgement, not a forward
    meta = dict(base_meta)
    if problems:
        meta["attachment_problems"] = problems
    citizen = outer
    forwarded_by: ForwardedBy | None = None
    title_src = subject
    if fw is not None:
        inner = _Party(fw.original.from_email, fw.original.from_name)
        meta["forward_chain"] = [b.headers for b in fw.chain]
        cover = cleaning.clean_body(fw.cover_note)
        if _is_agency_forward(outer, inner):
            meta["cover_note"] = cover or None
            text_body = cleaning.clean_body(fw.body)
            citizen = inner if inner.email else outer
            if outer.email:
                forwarded_by = ForwardedBy(identity=outer.email, organization=outer.email.split("@", 1)[1])
            flags.append("forwarded")
            sent_at = loose_date(fw.original.headers.get("date"), sent_at.tzinfo if sent_at else None) or sent_at
            title_src = fw.original.headers.get("subject") or subject
        else:  # the citizen forwards their own earlier mail: their note and that mail are the complaint
            text_body = "\n\n".join(x for x in (cover, cleaning.clean_body(fw.body)) if x)
    else:
        text_body = cleaning.clean_body(body.text)
    reply_addr = citizen.email if _replyable(citizen.email, own) else (
        outer.email if _replyable(outer.email, own) else None)
    thread = message_id if reply_addr == outer.email else None
    m = InboundMessage(
        native_id=native, sender=_sender(citizen), text=body.text, body=text_body,
        title=cleaning.title_of(title_src), sent_at=sent_at, attachments=outer_atts + evidence,
        conversation=conversation, forwarded_by=forwarded_by, flags=list(dict.fromkeys(flags)),
        reply_to=ReplyTo(channel="email", address=reply_addr, thread=thread) if reply_addr else None,
        parent_message_id=in_reply_to, meta=meta, **common,
    )
    return BuildResult([_serializable(m)])


def _sender(p: _Party) -> Sender:
    return Sender(kind="email", id=p.email or "unknown", email=p.email, display_name=p.name)


def _from_attached(inner: Message, n: int, many: bool, native: str, outer: _Party, outer_body: _Body,
                   outer_atts: list[Attachment], blobs: FileBlobStore, own: set[str], common: dict[str, Any],
                   base_meta: dict[str, Any], flags: list[Flag], sent_at: datetime | None,
                   subject: str) -> InboundMessage:
    header = _header_fn(inner)
    citizen = _party(header("From"))
    body = extract(inner)
    atts, problems = store_attachments(body.leaves, blobs)
    inner_flags = list(flags)
    if body.replaced:
        inner_flags.append("decode_error")
    text_body = cleaning.clean_body(body.text)
    fw = find_forward(body.text)  # a forward attached to a forward: the innermost citizen
    if fw is not None and fw.original.from_email and fw.original.from_email not in own:
        citizen = _Party(fw.original.from_email, fw.original.from_name)
        text_body = cleaning.clean_body(fw.body)
    forwarded_by = None
    if outer.email and _is_agency_forward(outer, citizen):
        forwarded_by = ForwardedBy(identity=outer.email, organization=outer.email.split("@", 1)[1])
        inner_flags.append("forwarded")
    meta = dict(base_meta)
    meta.update(cover_note=cleaning.clean_body(outer_body.text) or None, attached_mail=n,
                inner_message_id=normalize_msgid(header("Message-ID")),
                inner_subject=header("Subject").strip() or None, html_only=body.html_only)
    if problems:
        meta["attachment_problems"] = problems
    reply_addr = citizen.email if _replyable(citizen.email, own) else (
        outer.email if _replyable(outer.email, own) else None)
    thread = normalize_msgid(header("Message-ID")) if reply_addr == citizen.email else base_meta["message_id"]
    return InboundMessage(
        native_id=f"{native}/{n}" if many else native, sender=_sender(citizen), text=body.text, body=text_body,
        title=cleaning.title_of(header("Subject")) or cleaning.title_of(subject),
        sent_at=_date(header("Date")) or sent_at, attachments=atts + outer_atts,
        conversation=Conversation(thread_id=normalize_msgid(header("Message-ID")) or base_meta["message_id"]),
        forwarded_by=forwarded_by, flags=list(dict.fromkeys(inner_flags)),
        reply_to=ReplyTo(channel="email", address=reply_addr, thread=thread) if reply_addr else None,
        meta=meta, **common,
    )
