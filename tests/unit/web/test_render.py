"""Crawled text made inert for pages and API answers; URL query round trips; the login rate limit; safe
redirects after login."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from markupsafe import Markup

from linkwatch.web.auth import PERMISSIONS, safe_next
from linkwatch.web.errors import BadRequestError, TooManyAttemptsError
from linkwatch.web.filters import build_search, decode_cursor, encode_cursor, query_items
from linkwatch.web.jsonsafe import dumps
from linkwatch.web.ratelimit import LoginLimiter
from linkwatch.web.render import Clock, defang, environment, highlight, shown
from tests.utils.console import BIDI, ESCAPES, SCRIPT, SVG

SEOUL = ZoneInfo("Asia/Seoul")


def test_shown_makes_hidden_characters_visible() -> None:
    assert shown(BIDI) == "invite⟦U+202E⟧gnp.exe⟦U+202C⟧"
    assert "\x1b" not in shown(ESCAPES)
    assert "⟦U+001B⟧" in shown(ESCAPES)
    assert shown("t.me/\u200b+abc") == "t.me/⟦U+200B⟧+abc"
    assert shown("줄\n바꿈\t탭") == "줄\n바꿈\t탭"


def test_defang() -> None:
    assert defang("https://t.me/+Abc") == "hxxps://t[.]me/+Abc"
    assert defang("http://open.kakao.com/o/gX") == "hxxp://open[.]kakao[.]com/o/gX"
    assert defang("tg://join?invite=x") == "tg://join?invite=x"


def test_highlight_escapes_every_part() -> None:
    out = highlight(f"{SCRIPT} join t.me/+Abc {SVG}", "T.ME/+abc")
    assert isinstance(out, Markup)
    assert "<mark>t.me/+Abc</mark>" in out
    assert "<script>" not in out
    assert "<svg" not in out
    assert "&lt;script&gt;" in out
    assert highlight("no match <b>", "zzz") == "no match &lt;b&gt;"


def test_templates_autoescape_crawled_text() -> None:
    env = environment(SEOUL)
    out = env.from_string("{{ value }}|{{ value|shown }}").render(value=SCRIPT + SVG)
    assert "<script>" not in out
    assert "<svg" not in out


def test_times_are_labelled_in_the_configured_zone() -> None:
    clock = Clock(SEOUL)
    assert clock.when(datetime(2026, 11, 2, 3, 0, tzinfo=UTC)) == "2026-11-02 12:00 KST"
    assert clock.iso(datetime(2026, 11, 2, 3, 0, tzinfo=UTC)) == "2026-11-02T12:00:00+09:00"


def test_json_answers_are_inert_but_lossless() -> None:
    value = {"t": SCRIPT + SVG + BIDI + ESCAPES + "한국어 \u2028"}
    raw = dumps(value)
    assert b"<" not in raw
    assert b">" not in raw
    assert b"\x1b" not in raw
    assert "\u202e".encode() not in raw
    assert "\u2028".encode() not in raw
    assert "한국어".encode() in raw
    assert json.loads(raw) == value


def test_search_parameters() -> None:
    s = build_search(SEOUL, platform=["Telegram,discord"], status=["new"], since="2026-11-01",
                     until="2026-11-02", text=" 오픈채팅 ", live="1", sort="last-seen", limit=25)
    f = s.filters
    assert f.platform == ("telegram", "discord")
    assert f.status == ("new",)
    assert f.live
    assert f.text == "오픈채팅"
    assert f.since == datetime(2026, 11, 1, tzinfo=SEOUL)
    assert f.until == datetime(2026, 11, 3, tzinfo=SEOUL)
    items = query_items(s.form)
    assert ("text", "오픈채팅") in items
    assert ("sort", "last-seen") in items
    assert ("limit", "25") in items
    for bad in ({"status": ["weird"]}, {"since": "yesterday"}, {"sort": "random"}, {"min_score": "x"},
                {"seen": "middle"}, {"text": "x" * 201}):
        with pytest.raises(BadRequestError):
            build_search(SEOUL, **bad)


def test_cursor_round_trip_and_tampering() -> None:
    row = {"id": 7, "score": 0.10000000149011612, "last_seen": datetime(2026, 11, 2, 3, tzinfo=UTC)}
    assert decode_cursor(encode_cursor("score", row), "score") == (0.10000000149011612, 7)
    assert decode_cursor(encode_cursor("last-seen", row), "last-seen") == (row["last_seen"], 7)
    for bad in ("garbage", encode_cursor("score", row) + "x", encode_cursor("last-seen", row), "e30"):
        with pytest.raises(BadRequestError):
            decode_cursor(bad, "score")


def test_login_limiter() -> None:
    now = [0.0]
    limiter = LoginLimiter(window=60, per_name=3, per_address=5, clock=lambda: now[0])
    for _ in range(3):
        limiter.check("kim", "10.0.0.1")
        limiter.failed("kim", "10.0.0.1")
    with pytest.raises(TooManyAttemptsError) as caught:
        limiter.check("KIM", "10.0.0.2")
    assert 0 < caught.value.retry_after <= 61
    limiter.check("lee", "10.0.0.1")  # another name from the same address: still allowed
    limiter.failed("lee", "10.0.0.1")
    limiter.failed("park", "10.0.0.1")
    with pytest.raises(TooManyAttemptsError):
        limiter.check("choi", "10.0.0.1")  # the address is over its limit
    now[0] = 61.0
    limiter.check("kim", "10.0.0.1")  # the window has passed
    limiter.failed("kim", "10.0.0.9")
    limiter.succeeded("kim")
    limiter.check("kim", "10.0.0.9")


def test_safe_next_stays_on_the_console() -> None:
    assert safe_next("/links?text=a") == "/links?text=a"
    for bad in ("//evil.example/", "https://evil.example/", "/\\evil.example", "", None, "links", "/a\r\nb"):
        assert safe_next(bad) == "/"


def test_roles() -> None:
    assert "triage" in PERMISSIONS["analyst"]
    assert "triage" not in PERMISSIONS["investigator"]
    assert PERMISSIONS["regulator"] == {"dashboard", "referrals", "referred_link"}
    assert {"users", "audit"} <= PERMISSIONS["admin"]
    assert not any("users" in PERMISSIONS[r] or "audit" in PERMISSIONS[r] for r in ("investigator", "analyst",
                                                                                     "regulator"))
