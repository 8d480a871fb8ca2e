"""``InboundMessage``(s) → ``ComplaintRecord``: pure, deterministic, no I/O.

Every contract field is filled from what the adapter gave (text tidied, phone to E.164);
the text itself is understood by one module per question: ``markers`` (Anonim/Rahasia),
``classify`` (Pengaduan/Aspirasi/Permintaan Informasi), ``topics`` (rule file → topic slugs
and suggested agency), ``region`` (Kemendagri codes), ``language``, ``pii`` (public_body)
and ``spam``. No I/O: the topic rules are loaded once (``topics.use_rules`` at start).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from config.version import __version__
from normalizer import classify, completeness, language, linear, markers, pii, region, spam, topics
from normalizer.context import NormalizeContext
from normalizer.models import Classification, ComplaintRecord, InboundMessage, is_record_id, utc_iso
from normalizer.phone import parse_msisdn
from normalizer.text import cut_at_word, expand, first_sentence, place_tokens, tidy

NORMALIZER_VERSION = "0.3.0"
GATEWAY_VERSION = __version__  # one source: the package metadata

_MEANINGFUL = re.compile(r"(?:[^\W_][\W_]*){3}")  # at least 3 letters/digits
_NO_MARKERS = markers.Markers(False, False, "")  # what ``markers.extract(tidy(""))`` gives
_CHANNEL_NAMES = {
    "sms": "SMS 1708", "twitter": "X @LAPOR1708", "facebook": "Facebook", "instagram": "Instagram",
    "telegram": "Telegram", "email": "email", "api": "sistem instansi", "whatsapp": "WhatsApp",
}


def normalize(messages: Sequence[InboundMessage], ctx: NormalizeContext | None = None) -> ComplaintRecord:
    """Merge the parts of one citizen message into one record (``record_json`` checked by the model)."""
    return ComplaintRecord.model_validate(record_json(messages, ctx))


def record_json(messages: Sequence[InboundMessage], ctx: NormalizeContext | None = None) -> dict[str, Any]:
    """The record as the core receives it: exactly ``normalize(messages, ctx).to_json_dict()``.

    Built as plain dicts, in the model's field order, without the pydantic models: the dispatcher
    validates it against the contract schema before it is enqueued (``contract.validate_record``),
    which checks every constraint the models do, so a second check per record would only cost time.
    """
    if not messages:
        raise ValueError("normalize() needs at least one message")
    ctx = ctx or NormalizeContext()
    first = messages[0]
    if first.id is None or first.received_at is None:
        raise ValueError("message was not stamped by intake")
    if len(messages) == 1:  # the usual case, without the joins
        original = first.text
        cleaned_source = first.body if first.body is not None else first.text
        flags: list[Any] = list(dict.fromkeys([*first.flags, *ctx.extra_flags]))
        attachments = list(first.attachments)
    else:
        original = "".join(m.text for m in messages)
        cleaned_source = "".join(m.body if m.body is not None else m.text for m in messages)
        flags = list(dict.fromkeys([*(f for m in messages for f in m.flags), *ctx.extra_flags]))
        attachments = [a for m in messages for a in m.attachments]
    marked = markers.extract(tidy(cleaned_source))
    body = marked.body
    if not body:
        flags.append("media_only" if attachments else "empty_text")
    subject = markers.extract(tidy(first.title)) if first.title else _NO_MARKERS  # "[RAHASIA] Pungli di …"
    title_text = subject.body
    ptoks = place_tokens(f"{title_text}\n{body}" if title_text else body)  # shared by every rule module
    toks = list(filter(",".__ne__, ptoks))  # the words: every token but the "," separators
    wds = expand(toks)
    if spam.is_spam(body, ctx.repeat_count, ctx.repeat_threshold, toks):
        flags.append("possible_spam")
    rules = topics.active()
    text_for_class = f"{title_text}\n{body}" if title_text else body
    classification, topic_slugs = _decide(text_for_class, wds, rules.score(body, wds), rules)
    names = [first.sender.display_name] if first.sender.display_name else []
    public_body = pii.mask(body, names)
    title = _title(first, title_text, public_body, topic_slugs, rules, names)
    location = _location(messages, ptoks)
    kept = [a for a in attachments if not a.inline]
    reply_to = first.reply_to
    forwarded_by = first.forwarded_by
    return {
        "schema": "lapor.complaint/1",
        "id": first.id,
        "idempotency_key": first.idempotency_key,
        "channel": first.channel,
        "source": {
            "provider": first.provider,
            "kind": first.kind,
            "message_ids": [m.native_id for m in messages],
            "sent_at": utc_iso(first.sent_at),
            "recipient": first.recipient,
            "parent_message_id": _parent_message_id(first),
        },
        "received_at": utc_iso(first.received_at) or "",
        "reporter": _reporter(first),
        "forwarded_by": {"identity": forwarded_by.identity, "organization": forwarded_by.organization}
        if forwarded_by is not None else None,
        "anonymous": marked.anonymous or subject.anonymous or any(m.anonymous for m in messages),
        "confidential": marked.confidential or subject.confidential or any(m.confidential for m in messages),
        "classification": classification,
        "title": title,
        "body": body,
        "public_body": public_body,
        "original_text": original,
        "language": language.detect(body, toks if len(body) <= language.MAX_CHARS and not title_text else None),
        "topics": topic_slugs,
        "suggested_agency": topics.agency_for(topic_slugs, rules),
        "location": location,
        "attachments": [
            {"kind": a.kind, "mime": a.mime, "filename": a.filename, "size": a.size, "sha256": a.sha256,
             "url": a.url, "ref": a.ref}
            for a in kept
        ],
        "conversation": _conversation(first, ctx),
        "reply_to": {"channel": reply_to.channel, "address": reply_to.address, "thread": reply_to.thread,
                     "private": reply_to.private} if reply_to is not None else None,
        "flags": list(dict.fromkeys(flags)),
        "gateway": {"version": GATEWAY_VERSION, "normalizer": NORMALIZER_VERSION},
        "completeness": {
            "missing": completeness.missing_slots(
                located=location is not None and (location["regency_code"] is not None
                                                  or (location["lat"] is not None and location["lon"] is not None)),
                has_topics=bool(topic_slugs), title=title, body=body, has_evidence=bool(kept), wds=wds),
            "asked": [],
            "answered": None,
        },
    }


def _decide(text: str, wds: list[str], ranked: list[tuple[str, int]],
            rules: topics.RuleSet) -> tuple[Classification, list[str]]:
    """The class and the topics: the linear models' decisions over the message features, taken on
    their exact sums; the float sums (bit for bit those of ``classify.classify``/``topics.refine``)
    only settle an exact tie."""
    joint = linear.joint()
    if joint is None:
        feats = classify.message_features(text, wds)
        return classify.classify(text, wds, feats), topics.refine(ranked, feats, rules)
    cues = classify.rule_cues(text, wds)
    exact = joint.message_int_scores(wds, text, cues, topics.topic_features([], ranked))
    if exact is not None:
        label = classify.decide_exact(dict(zip(joint.first.classes, exact[0], strict=True)), linear.SCALE)
        best = linear.unique_best(exact[1])
        if label is not None and best is not None:
            return label, topics.put_first(joint.second.classes[best], ranked, rules)
    class_scores, topic_scores = joint.scores(joint.known(linear.feature_set(wds, text, cues)))
    label = classify.decide(dict(zip(joint.first.classes, class_scores, strict=True)))
    return label, topics.refine_scored(ranked, topic_scores, rules)


def _title(msg: InboundMessage, subject: str, public_body: str, topic_slugs: list[str],
           rules: topics.RuleSet, names: list[str]) -> str:
    """The subject (email/post title) or the first meaningful sentence; never empty.

    Built from the masked body: the title is shown wherever the report is, so it must not
    carry the personal data that ``public_body`` hides.
    """
    if subject:
        return cut_at_word(pii.mask(subject, names), 100)
    sentence = first_sentence(public_body) if public_body else ""
    if _MEANINGFUL.search(sentence):
        return cut_at_word(sentence.replace("\n", " "), 100)
    topic = rules.by_slug(topic_slugs[0]) if topic_slugs else None
    label = topic.label if topic else "Laporan"
    return f"{label} via {_CHANNEL_NAMES.get(msg.channel, msg.channel)}"


def _reporter(msg: InboundMessage) -> dict[str, Any]:
    s = msg.sender
    msisdn = operator = None
    identity = s.id
    if s.phone or s.kind == "msisdn":
        parsed = parse_msisdn(s.phone or s.id)
        msisdn, operator = parsed.e164, parsed.operator
        if s.kind == "msisdn" and msisdn:
            identity = msisdn
    email = s.email.strip().lower() if s.email else None
    if s.kind == "email":
        identity = identity.strip().lower()
    return {"identity_kind": s.kind, "identity": identity, "handle": s.handle, "display_name": s.display_name,
            "msisdn": msisdn, "email": email, "operator": operator}


def _location(messages: Sequence[InboundMessage], toks: list[str]) -> dict[str, Any] | None:
    """Channel coordinates/place name plus the region named in the place name or the text (``toks``)."""
    point = next((m.location for m in messages if m.location is not None), None)
    found = region.find_region(point.text if point else None, tokens=toks)
    if found.regency_code is None and messages[0].forwarded_by is not None:
        # an agency forward with no place in the text: the agency's own mailbox says where it is
        by_domain = region.region_from_email(messages[0].forwarded_by.identity)
        if by_domain.found and (not found.found or by_domain.province_code == found.province_code):
            found = by_domain
    if point is None and not found.found:
        return None
    return {
        "text": point.text if point else None,
        "province_code": found.province_code, "province": found.province,
        "regency_code": found.regency_code, "regency": found.regency, "district": found.district,
        "district_code": found.district_code,
        "lat": point.lat if point else None, "lon": point.lon if point else None,
    }


def _conversation(msg: InboundMessage, ctx: NormalizeContext) -> dict[str, Any] | None:
    """``in_reply_to`` is always a record id: the one a preprocessor linked, else the adapter's when
    it is one (a provider id there, from an entry stored before the contract said so, is dropped)."""
    conv = msg.conversation
    if conv is None and ctx.in_reply_to is None:
        return None
    linked = ctx.in_reply_to or (conv.in_reply_to if conv else None)
    return {"thread_id": conv.thread_id if conv else None,
            "in_reply_to": linked if is_record_id(linked) else None}


def _parent_message_id(msg: InboundMessage) -> str | None:
    if msg.parent_message_id:
        return msg.parent_message_id
    legacy = msg.conversation.in_reply_to if msg.conversation else None  # entries stored before the field
    return legacy if legacy and not is_record_id(legacy) else None
