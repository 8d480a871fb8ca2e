"""The send policy as pure functions: privacy, fitting, windows, cap, priorities."""

from __future__ import annotations

from channels.sms.encoding import fits_gsm
from dispatcher import outbound_policy as p

REF = "LPR-ABCDE-FGHJK"


def test_privacy_rules() -> None:
    assert p.privacy(private_route=True, confidential=True, anonymous=False).send_text
    conf = p.privacy(private_route=False, confidential=True, anonymous=False)
    assert not conf.send_text and conf.error == "no_private_route"
    anon = p.privacy(private_route=False, confidential=False, anonymous=True)
    assert anon.error == "no_private_route"
    public = p.privacy(private_route=False, confidential=False, anonymous=False)
    assert not public.send_text and public.public_notice and public.error is None
    notice = p.public_notice_text("LAPOR! Ada kabar untuk laporan {ref}.", REF)
    assert REF in notice and "{ref}" not in notice


def test_long_sms_is_cut_at_a_word_within_max_parts_and_ends_with_the_reference() -> None:
    text = ("Laporan anda tentang jalan rusak di desa kami sudah diverifikasi dan diteruskan "
            "kepada dinas pekerjaan umum kabupaten untuk ditindaklanjuti segera. ") * 12  # ~1,500 chars
    assert len(text) > 1400
    fitted = p.fit_sms(text, REF, 4)
    out = fitted.chunks[0]
    assert fitted.truncated and fitted.parts <= 4 and p.sms_parts(out) <= 4
    assert out.endswith(REF)
    head = out[: out.index("... Ref")]
    assert text.startswith(head) and text[len(head)] == " "  # cut at a word boundary
    assert fitted.encoding == "gsm7" and fits_gsm(out)  # the tail did not force UCS-2
    assert p.sms_parts(out) == 4  # as much as fits is kept


def test_ucs2_sms_parts_and_short_text_untouched() -> None:
    short = p.fit_sms("Terima kasih", REF, 4)
    assert short.chunks == ["Terima kasih"] and not short.truncated and short.parts == 1
    emoji = ("Laporan Anda sudah selesai 👍 " * 30)
    fitted = p.fit_sms(emoji, REF, 2)
    assert fitted.encoding == "ucs2" and fitted.parts <= 2 and fitted.truncated
    assert fitted.chunks[0].endswith(REF)
    # a different max gives a different cut: the limit is the setting, not a constant
    assert p.fit_sms(emoji, REF, 3).parts == 3


def test_telegram_and_x_splits() -> None:
    text = ("kata " * 2000).strip()  # 9,999 characters
    tg = p.fit("telegram", text, REF, sms_max_parts=4)
    assert len(tg.chunks) == 3 and all(len(c) <= 4096 for c in tg.chunks)
    assert " ".join(tg.chunks) == text
    x = p.fit("twitter", text, REF, sms_max_parts=4)
    assert x.chunks == [text]
    assert p.fit("email", text, REF, sms_max_parts=4).chunks == [text]


def test_windows() -> None:
    now = 1_000_000_000.0
    assert p.window("facebook", last_seen=now - 3600, now=now, human_agent=False).ok
    closed = p.window("instagram", last_seen=now - 25 * 3600, now=now, human_agent=False)
    assert not closed.ok and closed.error == "window_closed"
    tagged = p.window("facebook", last_seen=now - 3 * 86400, now=now, human_agent=True)
    assert tagged.ok and tagged.tag == "HUMAN_AGENT"
    assert not p.window("facebook", last_seen=now - 8 * 86400, now=now, human_agent=True).ok
    assert not p.window("facebook", last_seen=None, now=now, human_agent=True).ok
    assert p.window("whatsapp", last_seen=now - 2 * 86400, now=now, human_agent=False).template
    assert not p.window("whatsapp", last_seen=now - 60, now=now, human_agent=False).template
    assert p.window("sms", last_seen=None, now=now, human_agent=False).ok


def test_cap_and_priority() -> None:
    now = 7200.0 + 100
    assert p.cap_wait(4, 5, now) is None
    assert p.cap_wait(5, 5, now) == 3 * 3600.0
    kinds = ["status", "notice", "answer", "question"]
    assert sorted(kinds, key=p.priority)[:2] == ["answer", "question"]
