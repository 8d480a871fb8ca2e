"""What a complaint still lacks (location, subject, time, evidence), and merging the citizen's answer.

Admins archive reports they cannot act on; the commonest reason is a missing place. These pure
functions are what the hold-and-ask flow calls: ``completeness`` when a record is made,
``needs_question`` to decide whether to ask, ``merge_answer`` when the citizen replies and
``mark_unanswered`` when the wait runs out. No I/O, no clock.
"""

from __future__ import annotations

import re

from normalizer import markers, pii, region, topics
from normalizer.models import ComplaintRecord, Completeness, GeoPoint, Location, Slot
from normalizer.text import expand, place_tokens, tidy

SLOTS: tuple[Slot, ...] = ("location", "subject", "time", "evidence")
SUBJECT_MIN_WORDS = 6  # a text this long says what it is about even when no topic rule matched

# dates, clock times and relative time words, matched on expanded lower-case words
_DATE = re.compile(r"(?<![0-9])(?:[0-3]?[0-9][/.\-][01]?[0-9](?:[/.\-](?:19|20)?[0-9]{2})?|(?:19|20)[0-9]{2})"
                   r"(?![0-9])|(?<![0-9])[0-2]?[0-9][.:][0-5][0-9](?![0-9])")
_TIME_WORDS = frozenset({
    "kemarin", "kemaren", "tadi", "semalam", "sejak", "tanggal", "tgl", "jam", "pukul", "lalu", "barusan",
    "pagi", "siang", "sore", "malam", "senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu",
    "januari", "februari", "maret", "april", "mei", "juni", "juli", "agustus", "september", "oktober",
    "november", "desember", "jan", "feb", "mar", "apr", "jun", "jul", "agu", "agt", "sep", "okt", "nov", "des",
    "hari", "bulan", "tahun", "pekan", "seminggu", "sebulan", "setahun", "berhari", "berbulan", "bertahun",
    "berminggu", "sekarang", "saat", "ketika", "waktu", "kmrn", "today", "yesterday",
})
_DIGITS = re.compile(r"[0-9]+")


def has_location(record: ComplaintRecord) -> bool:
    """A regency/city or coordinates; a province alone does not say which local government acts."""
    loc = record.location
    return loc is not None and (loc.regency_code is not None or (loc.lat is not None and loc.lon is not None))


def _has_time(text: str, wds: list[str] | None = None) -> bool:
    if wds is None:
        wds = expand([t for t in place_tokens(text) if t != ","])
    if not _TIME_WORDS.isdisjoint(wds):  # "hari ini", "pagi ini": their first word is a time word
        return True
    # every ``_DATE`` match starts where a run of digits does: try only there (a scan for digits is fast)
    return any(_DATE.match(text, m.start()) for m in _DIGITS.finditer(text))


def _has_subject(has_topics: bool, body: str, wds: list[str] | None) -> bool:
    if has_topics:
        return True
    n = len(wds) if wds is not None else sum(1 for t in place_tokens(body) if t != ",")
    return n >= SUBJECT_MIN_WORDS


def missing_slots(*, located: bool, has_topics: bool, title: str, body: str, has_evidence: bool,
                  wds: list[str] | None = None) -> list[Slot]:
    """``completeness``'s ``missing`` from the record's values (what ``normalize`` has before any model)."""
    missing: list[Slot] = []
    if not located:
        missing.append("location")
    if not _has_subject(has_topics, body, wds):
        missing.append("subject")
    if not _has_time(f"{title}\n{body}", wds):
        missing.append("time")
    if not has_evidence:
        missing.append("evidence")
    return missing


def completeness(record: ComplaintRecord, wds: list[str] | None = None) -> Completeness:
    """Which slots ``record`` lacks, in ``SLOTS`` order; ``asked``/``answered`` as the record has them.
    ``wds``: the expanded words of the record's title and body, when the caller has them."""
    missing = missing_slots(located=has_location(record), has_topics=bool(record.topics), title=record.title,
                            body=record.body, has_evidence=bool(record.attachments), wds=wds)
    prev = record.completeness
    return Completeness(missing=missing, asked=list(prev.asked) if prev else [],
                        answered=prev.answered if prev else None)


def needs_question(record: ComplaintRecord) -> list[Slot]:
    """The slots worth one question to the citizen: only ``location``, only for a complaint that came
    straight from the citizen (not ``api``, not an agency forward) with a private route back."""
    if record.classification != "complaint" or record.channel == "api" or record.forwarded_by is not None:
        return []
    if record.reply_to is None or not record.reply_to.private:
        return []
    return ["location"] if not has_location(record) else []


def merge_answer(record: ComplaintRecord, answer_text: str, answer_id: str | None = None,
                 answer_location: GeoPoint | None = None) -> ComplaintRecord:
    """A copy of the held ``record`` with the citizen's answer merged in.

    The answer is appended to ``body``/``original_text`` (a blank line between), its id to
    ``source.message_ids``; the place is resolved from the answer (pin, then text), then from the
    original text; ``completeness`` becomes ``asked: ["location"], answered: true``.
    """
    answer = markers.extract(tidy(answer_text)).body
    body = f"{record.body}\n\n{answer}" if record.body and answer else (record.body or answer)
    original = f"{record.original_text}\n\n{answer_text}" if record.original_text else answer_text
    ids = list(record.source.message_ids)
    if answer_id and answer_id not in ids:
        ids.append(answer_id)
    location = _merged_location(record, answer, answer_location)
    rules = topics.active()
    topic_slugs = record.topics or topics.classify_topics(body, rules)
    merged = record.model_copy(update={
        "body": body, "public_body": pii.mask(body, _reporter_names(record)), "original_text": original,
        "source": record.source.model_copy(update={"message_ids": ids}),
        "location": location, "topics": topic_slugs,
        "suggested_agency": record.suggested_agency or topics.agency_for(topic_slugs, rules),
    })
    asked = list(dict.fromkeys([*(record.completeness.asked if record.completeness else []), "location"]))
    merged.completeness = Completeness(missing=completeness(merged).missing, asked=asked, answered=True)
    return merged


def mark_unanswered(record: ComplaintRecord) -> ComplaintRecord:
    """A copy of ``record`` for dispatch after the wait ran out: asked, not answered, flagged ``incomplete``."""
    asked = list(dict.fromkeys([*(record.completeness.asked if record.completeness else []), "location"]))
    flags = list(record.flags)
    if "incomplete" not in flags:
        flags.append("incomplete")
    out = record.model_copy(update={"flags": flags})
    out.completeness = Completeness(missing=completeness(out).missing, asked=asked, answered=False)
    return out


def _reporter_names(record: ComplaintRecord) -> list[str]:
    return [record.reporter.display_name] if record.reporter.display_name else []


def _merged_location(record: ComplaintRecord, answer: str, pin: GeoPoint | None) -> Location | None:
    old = record.location
    lat = pin.lat if pin and pin.lat is not None else (old.lat if old else None)
    lon = pin.lon if pin and pin.lon is not None else (old.lon if old else None)
    found = region.find_region(pin.text if pin else None, answer)
    both = region.find_region(pin.text if pin else None, answer, record.body)
    # the answer decides; the original text fills in what the answer leaves open (its district,
    # or the regency when the answer named only a province or nothing)
    fills_in = both.regency_code is not None and found.regency_code in (None, both.regency_code)
    if fills_in or not found.found:
        found = both
    if not found.found:
        if old is None and lat is None:
            return None
        if old is not None:
            return old.model_copy(update={"lat": lat, "lon": lon})
    text = (pin.text if pin and pin.text else None) or (old.text if old else None)
    return Location(text=text, province_code=found.province_code, province=found.province,
                    regency_code=found.regency_code, regency=found.regency, district=found.district,
                    district_code=found.district_code, lat=lat, lon=lon)
