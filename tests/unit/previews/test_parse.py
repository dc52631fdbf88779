"""Preview parsing without network: t.me pages, Discord invite JSON, og:title pages, text cleaning."""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from linkwatch.jobs.check import PlatformLimiter, retry_after_seconds
from linkwatch.previews import Bases, Target, clean_text, parse_response, target_for
from linkwatch.previews.discord import parse_discord
from linkwatch.previews.og import parse_og
from linkwatch.previews.policy import Policy
from linkwatch.previews.preview import parse_count
from linkwatch.previews.telegram import parse_telegram
from tests.utils.previews import TG_DEAD, TG_LIVE, WALL


def tg_live(title: str = "Synthetic chat", extra: str = "1 234 members, 56 online") -> str:
    return TG_LIVE.format(base="http://fake", code="abc", title=title, title_attr=title, desc="d",
                          desc_attr="d", extra=extra)


def test_telegram_live_dead_and_unknown() -> None:
    live = parse_telegram(200, tg_live())
    assert (live.result, live.title, live.member_count) == ("live", "Synthetic chat", 1234)
    channel = parse_telegram(200, tg_live(extra="12 345 subscribers"))
    assert channel.member_count == 12345
    dead = parse_telegram(200, TG_DEAD.format(base="http://fake", code="abc"))
    assert dead.result == "dead"
    assert parse_telegram(200, WALL).result == "unknown"
    assert parse_telegram(200, "").result == "unknown"
    assert parse_telegram(302, tg_live()).result == "unknown"
    # a named og:title but no title block: a layout we do not know, never dead
    odd = '<meta property="og:title" content="Named"><div class="tgme_page"></div>'
    assert parse_telegram(200, odd).result == "unknown"


def test_discord_live_dead_and_unknown() -> None:
    body = {"code": "abc", "guild": {"name": "Synthetic guild", "description": None},
            "approximate_member_count": 77, "approximate_presence_count": 5,
            "expires_at": "2030-01-01T00:00:00+00:00"}
    live = parse_discord(200, json.dumps(body))
    assert (live.result, live.title, live.member_count, live.presence_count) == (
        "live", "Synthetic guild", 77, 5)
    assert parse_discord(404, '{"message": "Unknown Invite", "code": 10006}').result == "dead"
    assert parse_discord(404, '{"message": "404: Not Found", "code": 0}').result == "unknown"
    assert parse_discord(200, "<html>").result == "unknown"
    assert parse_discord(200, "[1, 2]").result == "unknown"
    assert parse_discord(200, '{"guild": {"name": ""}}').result == "unknown"
    weird = parse_discord(200, json.dumps({**body, "approximate_member_count": "many"}))
    assert weird.member_count is None


@pytest.mark.parametrize("platform", ["whatsapp", "kakao", "line"])
def test_og_pages(platform: str) -> None:
    live = '<meta property="og:title" content="Synthetic room"><body><p>참여자 42명 · 42 members</p></body>'
    got = parse_og(platform, 200, live)
    assert (got.result, got.title, got.member_count) == ("live", "Synthetic room", 42)
    generic = {"whatsapp": "WhatsApp Group Invite", "kakao": "카카오톡", "line": "LINE"}[platform]
    assert parse_og(platform, 200, f'<meta property="og:title" content="{generic}">').result == "unknown"
    assert parse_og(platform, 404, "").result == "dead"
    assert parse_og(platform, 200, WALL).result == "unknown"


def test_blocked_rate_limited_and_server_errors_are_unknown() -> None:
    target = Target("telegram", "http://fake/+abc")
    for status in (401, 403, 429, 500, 503):
        assert parse_response(target, status, tg_live()).result == "unknown"


def test_targets_and_platforms_without_preview() -> None:
    bases = Bases("http://f/tg", "http://f/api", "http://f/wa", "http://f/kakao", "http://f/line")
    assert target_for("telegram", "invite", "AbC-1", bases).url == "http://f/tg/+AbC-1"
    assert target_for("telegram", "public_channel", "chan", bases).url == "http://f/tg/chan"
    assert target_for("discord", "invite", "x1", bases).url == "http://f/api/invites/x1?with_counts=true"
    assert target_for("kakao", "invite", "k1", bases).url == "http://f/kakao/o/k1"
    assert target_for("line", "openchat", "l1", bases).url == "http://f/line/ti/g2/l1"
    assert target_for("telegram", "invite", "a/../b?x", bases).url == "http://f/tg/+a%2F..%2Fb%3Fx"
    for platform in ("signal", "matrix", "band", "session"):
        assert target_for(platform, "invite", "x", bases) is None


def test_clean_text_strips_controls_bidi_and_caps() -> None:
    assert clean_text("\x00a\x1b[1mb\u202ec\u200bd\r\n e\ufffd") == "a[1mbcd e"
    assert clean_text("   ") is None
    assert clean_text(None) is None
    long = clean_text("x" * 100_000)
    assert len(long) == 300
    assert long.endswith("…")


def test_parse_count_ignores_digits_in_names() -> None:
    assert parse_count("1 234 members, 56 online") == 1234
    assert parse_count("room 7 1 234 members") == 1234
    assert parse_count("9" * 40 + " members") is None
    assert parse_count("no count here") is None


def test_retry_after_forms() -> None:
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("1.5") == 1.5
    assert retry_after_seconds("junk") is None
    assert retry_after_seconds(None) is None
    when = datetime(2030, 1, 1, 0, 0, 10, tzinfo=UTC)
    got = retry_after_seconds("Tue, 01 Jan 2030 00:00:10 GMT", now=when.timestamp() - 10)
    assert got == pytest.approx(10.0)


def test_policy_intervals() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    p = Policy(live_hours=12, dead_hours=168, unknown_minutes=30)
    assert p.next_check("live", now) == now + timedelta(hours=12)
    assert p.next_check("dead", now) == now + timedelta(days=7)
    assert p.next_check("unknown", now, unknown_streak=1) == now + timedelta(minutes=30)
    assert p.next_check("unknown", now, unknown_streak=2) == now + timedelta(hours=1)
    assert p.next_check("unknown", now, has_preview=False) is None


def test_liveness_package_imports_no_scrapy_and_no_network_client() -> None:
    code = ("import sys, linkwatch.previews, linkwatch.previews.policy; "
            "print(sorted(m for m in ('scrapy', 'twisted', 'httpx') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_platform_limiter_spaces_request_starts() -> None:
    async def starts(limiter: PlatformLimiter, n: int) -> list[float]:
        times: list[float] = []

        async def one() -> None:
            await limiter.wait()
            times.append(time.monotonic())

        await asyncio.gather(*(one() for _ in range(n)))
        return sorted(times)

    spaced = asyncio.run(starts(PlatformLimiter(rate=10.0), 5))
    assert all(b - a >= 0.095 for a, b in itertools.pairwise(spaced))
    unlimited = asyncio.run(starts(PlatformLimiter(rate=0), 5))
    assert unlimited[-1] - unlimited[0] < 0.09
    paused = PlatformLimiter(rate=0)
    paused.pause(0.2)
    before = time.monotonic()
    asyncio.run(starts(paused, 1))
    assert time.monotonic() - before >= 0.19
