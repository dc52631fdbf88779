"""Liveness checks against the local fake previews: live, dead, unknown, 429 then OK, hostile text."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from click.testing import CliRunner

from linkwatch.cli import main
from linkwatch.jobs import check as liveness
from linkwatch.previews import Bases
from linkwatch.previews.policy import Policy
from tests.utils.previews import FakePreviews

CANONICAL = {
    ("telegram", "invite"): "https://t.me/+{}",
    ("telegram", "public_channel"): "https://t.me/{}",
    ("discord", "invite"): "https://discord.gg/{}",
    ("whatsapp", "invite"): "https://chat.whatsapp.com/{}",
    ("kakao", "invite"): "https://open.kakao.com/o/{}",
    ("line", "invite"): "https://line.me/R/ti/g/{}",
    ("signal", "invite"): "https://signal.group/#{}",
}


def claim_due(url: str, *, platform: str | None = None, limit: int | None = None) -> list[liveness.LinkRow]:
    """What `check --due` claims next (the checker's own claim, leases included)."""

    async def claimed() -> list[liveness.LinkRow]:
        async with await psycopg.AsyncConnection.connect(url) as conn:
            return await liveness.claim(conn, liveness.DueSpec(platform=platform, limit=limit), limit or 100)

    return asyncio.run(claimed())


@pytest.fixture
def env(lw_env: dict[str, str], fake: FakePreviews, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for key, value in fake.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("LINKWATCH_CHECK_RATE", "0")

    return {**lw_env, **fake.env(), "LINKWATCH_CHECK_RATE": "0"}


def add_link(url: str, platform: str, kind: str, code: str, **extra: object) -> int:
    canonical = CANONICAL[(platform, kind)].format(code)
    now = datetime.now(UTC)
    cols = {"platform": platform, "kind": kind, "code": code, "canonical_url": canonical,
            "first_seen": now, "last_seen": now, **extra}
    names = ", ".join(cols)
    marks = ", ".join(f"%({k})s" for k in cols)
    with psycopg.connect(url) as conn:
        return conn.execute(f"INSERT INTO links ({names}) VALUES ({marks}) RETURNING id", cols).fetchone()[0]


def link(url: str, link_id: int) -> dict[str, object]:
    with psycopg.connect(url) as conn:
        cur = conn.execute("SELECT * FROM links WHERE id = %s", (link_id,))
        names = [d.name for d in cur.description]
        return dict(zip(names, cur.fetchone(), strict=True))


def checks(url: str, link_id: int) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT result, http_status, title, member_count, detail FROM link_checks "
            "WHERE link_id = %s ORDER BY id", (link_id,)).fetchall()


def settings(fake: FakePreviews, **kw: object) -> liveness.CheckSettings:
    base = fake.base
    bases = Bases(f"{base}/tg", f"{base}/discord/api/v10", f"{base}/wa", f"{base}/kakao", f"{base}/line")
    return liveness.CheckSettings(**{"bases": bases, "rate": 0, "concurrency": 4, "timeout": 5, **kw})


@pytest.mark.parametrize(("platform", "kind"), [
    ("telegram", "invite"), ("telegram", "public_channel"), ("discord", "invite"),
    ("whatsapp", "invite"), ("kakao", "invite"), ("line", "invite"),
])
def test_live_and_dead_per_platform(db: str, fake: FakePreviews, platform: str, kind: str) -> None:
    live = add_link(db, platform, kind, "liveAbc123")
    dead = add_link(db, platform, kind, "deadAbc123")
    rows = claim_due(db)
    summary = liveness.run_checks(db, rows, settings(fake))
    assert summary.results == {"live": 1, "dead": 1}
    got = link(db, live)
    assert got["liveness"] == "live"
    assert got["preview_title"] == "Synthetic group liveAbc123"
    assert got["member_count"] == 1234
    assert got["dead_at"] is None
    assert got["next_check_at"] > datetime.now(UTC) + timedelta(hours=11)
    gone = link(db, dead)
    assert gone["liveness"] == "dead"
    assert gone["dead_at"] is not None
    assert gone["next_check_at"] > datetime.now(UTC) + timedelta(days=6)
    assert checks(db, live)[0][0] == "live"
    assert checks(db, dead)[0][0] == "dead"
    assert fake.media_requests() == []


def test_unreadable_blocked_and_failing_are_unknown_never_dead(db: str, fake: FakePreviews) -> None:
    ids = [add_link(db, "telegram", "invite", code) for code in ("oddWall1", "blockMe1", "errAlways1")]
    ids.append(add_link(db, "discord", "invite", "oddWall2"))
    rows = claim_due(db)
    summary = liveness.run_checks(db, rows, settings(fake, attempts=2, backoff_base=0.05))
    assert summary.results == {"unknown": 4}
    for link_id in ids:
        got = link(db, link_id)
        assert got["liveness"] == "unknown"
        assert got["dead_at"] is None
        # unknown is re-checked soon: first backoff step (30 min), far before the live interval
        assert got["next_check_at"] < datetime.now(UTC) + timedelta(minutes=31)
    details = [checks(db, i)[-1][4] for i in ids]
    assert "layout not understood" in details[0]
    assert "blocked" in details[1]
    assert "server error" in details[2]
    # the 500 was retried (2 attempts), the 403 and the wall were not
    assert fake.hits["/tg/+errAlways1"] == 2
    assert fake.hits["/tg/+blockMe1"] == 1


def test_redirects_media_and_slow_bodies(db: str, fake: FakePreviews) -> None:
    hop = add_link(db, "telegram", "invite", "hopOnSite1")
    away = add_link(db, "telegram", "invite", "awayToImage1")
    pic = add_link(db, "discord", "invite", "picInstead1")
    drip = add_link(db, "whatsapp", "invite", "dripSlowly1")
    rows = claim_due(db)
    summary = liveness.run_checks(db, rows, settings(fake, timeout=2, attempts=1))
    assert summary.elapsed < 30
    assert link(db, hop)["liveness"] == "live"  # same-host redirect followed
    assert fake.hits["/tg/+liveOnSite1"] == 1
    assert checks(db, away)[0][0] == "unknown"
    assert "redirected off-site" in checks(db, away)[0][4]
    assert checks(db, pic)[0][0] == "unknown"
    assert "media response refused" in checks(db, pic)[0][4]
    assert checks(db, drip)[0][0] == "unknown"
    assert "timeout" in checks(db, drip)[0][4]
    assert fake.media_requests() == []


def test_rate_limited_then_ok_honours_retry_after(db: str, fake: FakePreviews) -> None:
    fake.retry_after = "1"
    tg = add_link(db, "telegram", "invite", "rlThenLive1")
    dc = add_link(db, "discord", "invite", "rlThenLive2")
    rows = claim_due(db)
    started = datetime.now(UTC)
    summary = liveness.run_checks(db, rows, settings(fake))
    waited = (datetime.now(UTC) - started).total_seconds()
    assert summary.results == {"live": 2}
    assert waited >= 0.9  # the Retry-After second was honoured, not hammered
    assert fake.hits["/tg/+rlThenLive1"] == 2
    assert fake.hits["/discord/api/v10/invites/rlThenLive2"] == 2
    assert link(db, tg)["liveness"] == "live"
    assert link(db, dc)["member_count"] == 1234
    assert checks(db, dc)[-1][4] == "56 online; expires 2030-01-01T00:00:00+00:00"


def test_rate_limited_past_attempts_is_unknown_and_keeps_live(db: str, fake: FakePreviews) -> None:
    fake.retry_after = "0"
    fake.fail_times = 99
    link_id = add_link(db, "telegram", "invite", "rlForever1", liveness="live",
                       preview_title="Earlier title", member_count=7)
    with psycopg.connect(db) as conn:
        rows = liveness.links_by_ref(conn, [str(link_id)])
    summary = liveness.run_checks(db, rows, settings(fake, attempts=3))
    assert summary.results == {"unknown": 1}
    assert fake.hits["/tg/+rlForever1"] == 3
    got = link(db, link_id)
    # a rate-limited check is recorded as unknown but does not overwrite a known-live link
    assert got["liveness"] == "live"
    assert got["preview_title"] == "Earlier title"
    assert checks(db, link_id) == [("unknown", 429, None, None, "rate limited")]


def test_retry_after_is_bounded(db: str, fake: FakePreviews) -> None:
    fake.retry_after = "3600"
    add_link(db, "discord", "invite", "rlLong1")
    rows = claim_due(db)
    summary = liveness.run_checks(db, rows, settings(fake, max_retry_wait=0.2))
    assert summary.results == {"live": 1}
    assert summary.elapsed < 30


def test_rate_limit_is_per_platform(db: str, fake: FakePreviews) -> None:
    for i in range(4):
        add_link(db, "telegram", "invite", f"liveRate{i}")
        add_link(db, "discord", "invite", f"liveRate{i}")
    rows = claim_due(db)
    liveness.run_checks(db, rows, settings(fake, rate=4.0, concurrency=8))
    tg = sorted(t for p, t in fake.times if p.startswith("/tg/"))
    dc = sorted(t for p, t in fake.times if p.startswith("/discord/"))
    assert len(tg) == len(dc) == 4
    # 4 requests/s per platform: the 4 requests span at least 0.75 s as sent; arrival times on a busy
    # machine can shift, hence the slack (the exact spacing is unit-tested on the limiter itself)
    assert tg[-1] - tg[0] >= 0.5
    assert dc[-1] - dc[0] >= 0.5
    # the platforms do not wait for each other
    assert dc[0] < tg[-1]
    assert tg[0] < dc[-1]


def test_hostile_titles_are_cleaned_and_capped(db: str, fake: FakePreviews) -> None:
    ids = [add_link(db, p, "invite", "hostileX1") for p in ("telegram", "discord", "whatsapp")]
    rows = claim_due(db)
    liveness.run_checks(db, rows, settings(fake))
    for link_id in ids:
        got = link(db, link_id)
        assert got["liveness"] == "live"
        for text in (got["preview_title"], got["preview_description"]):
            assert text
            assert len(text) <= 2000
            assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in text)
            assert "\u202e" not in text
        assert len(got["preview_title"]) <= 300
        assert got["preview_title"].startswith("Hostile")


def test_no_preview_platform_is_unknown_once_and_not_rechecked(db: str, fake: FakePreviews) -> None:
    link_id = add_link(db, "signal", "invite", "synthetic-fragment")
    rows = claim_due(db)
    assert [r.id for r in rows] == [link_id]
    liveness.run_checks(db, rows, settings(fake))
    got = link(db, link_id)
    assert got["liveness"] == "unknown"
    assert got["next_check_at"] is None
    assert checks(db, link_id)[0][4] == "no public preview"
    assert claim_due(db) == []
    assert fake.requests == []


def test_dead_at_set_once_and_cleared_when_back(db: str, fake: FakePreviews) -> None:
    link_id = add_link(db, "telegram", "invite", "deadThenBack")
    s = settings(fake)
    with psycopg.connect(db) as conn:
        rows = liveness.links_by_ref(conn, [str(link_id)])
    liveness.run_checks(db, rows, s)
    first_dead = link(db, link_id)["dead_at"]
    assert first_dead is not None
    liveness.run_checks(db, rows, s)
    assert link(db, link_id)["dead_at"] == first_dead  # still the first dead check
    # the invite comes back: same row, now answered live
    with psycopg.connect(db) as conn:
        conn.execute("UPDATE links SET code = 'liveAgain' WHERE id = %s", (link_id,))
        rows = liveness.links_by_ref(conn, [str(link_id)])
    liveness.run_checks(db, rows, s)
    got = link(db, link_id)
    assert got["liveness"] == "live"
    assert got["dead_at"] is None
    assert [c[0] for c in checks(db, link_id)] == ["dead", "dead", "live"]


def test_due_selection_order_and_policy(db: str, fake: FakePreviews) -> None:
    now = datetime.now(UTC)
    overdue = add_link(db, "telegram", "invite", "liveOverdue", liveness="live",
                       checked_at=now - timedelta(hours=13), next_check_at=now - timedelta(hours=1))
    add_link(db, "telegram", "invite", "liveFresh", liveness="live",
             checked_at=now, next_check_at=now + timedelta(hours=11))
    add_link(db, "telegram", "invite", "deadRecent", liveness="dead",
             checked_at=now, next_check_at=now + timedelta(days=6))
    new = add_link(db, "telegram", "invite", "liveNew")
    other = add_link(db, "discord", "invite", "liveNewDiscord")
    assert [r.id for r in claim_due(db, platform="telegram", limit=1)] == [new]
    # claimed links are leased: a second checker does not get them again
    assert [r.id for r in claim_due(db, platform="telegram")] == [overdue]
    assert [r.id for r in claim_due(db)] == [other]
    assert claim_due(db) == []
    policy = Policy(live_hours=12, dead_hours=168, unknown_minutes=30)
    assert policy.next_check("unknown", now, unknown_streak=3) == now + timedelta(minutes=120)
    assert policy.next_check("unknown", now, unknown_streak=30) == now + timedelta(hours=12)


def test_due_run_claims_in_chunks_and_honours_limit(db: str, fake: FakePreviews) -> None:
    ids = [add_link(db, "telegram", "invite", f"liveChunk{i}") for i in range(7)]
    spec = liveness.DueSpec(limit=5, chunk=2)
    summary = liveness.run_checks(db, [], settings(fake), due=spec)
    assert summary.results == {"live": 5}
    rest = liveness.run_checks(db, [], settings(fake), due=liveness.DueSpec(chunk=2))
    assert rest.results == {"live": 2}
    assert {link(db, i)["liveness"] for i in ids} == {"live"}
    again = liveness.run_checks(db, [], settings(fake), due=liveness.DueSpec(chunk=2))
    assert again.checked == 0
    assert len(fake.requests) == 7  # each link fetched once


def test_cli_check_due_json_and_explicit_links(env: dict[str, str], fake: FakePreviews) -> None:
    db = env["LINKWATCH_DATABASE_URL"]
    a = add_link(db, "telegram", "invite", "liveCli1")
    b = add_link(db, "discord", "invite", "deadCli2")
    runner = CliRunner()
    result = runner.invoke(main, ["check", "--due", "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert {(x["id"], x["result"]) for x in lines} == {(a, "live"), (b, "dead")}
    again = runner.invoke(main, ["check", "--due"])
    assert again.exit_code == 0
    assert "no links to check" in again.stderr
    explicit = runner.invoke(main, ["check", str(a), "https://discord.gg/deadCli2"])
    assert explicit.exit_code == 0, explicit.output
    assert explicit.stdout.count("\n") == 2
    missing = runner.invoke(main, ["check", "https://t.me/+nosuchSynthetic"])
    assert missing.exit_code == 1
    # the same words as `links show` and `review`
    assert ("no link matches 'https://t.me/+nosuchSynthetic'; give a link id, its canonical URL or its code"
            in missing.output)
    assert "Traceback" not in missing.output
    both = runner.invoke(main, ["check", "--due", str(a)])
    assert both.exit_code == 2
    assert fake.media_requests() == []


def test_no_network_is_said_once_and_records_nothing(lw_env: dict[str, str], unused_tcp_port: int) -> None:
    from tests.utils.crawl import run_linkwatch

    db = lw_env["LINKWATCH_DATABASE_URL"]
    ids = [add_link(db, "telegram", "invite", f"liveOff{i}") for i in range(5)]
    ids.append(add_link(db, "discord", "invite", "liveOffD"))
    nowhere = f"http://127.0.0.1:{unused_tcp_port}"
    env = {**lw_env, "LINKWATCH_CHECK_RATE": "0", "LINKWATCH_TELEGRAM_URL": nowhere,
           "LINKWATCH_DISCORD_API_URL": nowhere, "LINKWATCH_WHATSAPP_URL": nowhere,
           "LINKWATCH_KAKAO_URL": nowhere, "LINKWATCH_LINE_URL": nowhere}
    result = run_linkwatch(["check"], env)
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""  # not one "unknown … network error" line per link
    assert result.stderr.count("no preview host could be reached: 127.0.0.1 (connection refused)") == 1
    assert "6 links left unchecked" in result.stderr
    assert "Traceback" not in result.stderr
    for link_id in ids:  # nothing recorded: an offline checker says nothing about the links
        assert checks(db, link_id) == []
        assert link(db, link_id)["liveness"] == "unchecked"


def test_one_unreachable_host_is_named_and_the_others_checked(env: dict[str, str], fake: FakePreviews,
                                                              unused_tcp_port: int) -> None:
    from tests.utils.crawl import run_linkwatch

    db = env["LINKWATCH_DATABASE_URL"]
    tg = add_link(db, "telegram", "invite", "liveHalf1")
    dc = add_link(db, "discord", "invite", "liveHalf2")
    result = run_linkwatch(["check", "--format", "jsonl"],
                           {**env, "LINKWATCH_TELEGRAM_URL": f"http://localhost:{unused_tcp_port}"})
    assert result.returncode == 1, result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [dc]
    assert "could not reach localhost (connection refused); 1 link left unchecked" in result.stderr
    assert checks(db, tg) == []
    assert checks(db, dc)[0][0] == "live"


def test_user_agent_unset_is_warned_about(lw_env: dict[str, str], fake: FakePreviews) -> None:
    import os
    import subprocess

    from tests.utils.crawl import LINKWATCH

    add_link(lw_env["LINKWATCH_DATABASE_URL"], "telegram", "invite", "liveUa1")
    base = {k: v for k, v in os.environ.items() if k != "LINKWATCH_USER_AGENT"}
    env = {**base, **lw_env, **fake.env(), "LINKWATCH_CHECK_RATE": "0"}
    unset = subprocess.run([LINKWATCH, "check"], env=env, capture_output=True, text=True, timeout=120,
                           check=False)
    assert unset.returncode == 0, unset.stderr
    assert "warning: LINKWATCH_USER_AGENT is not set" in unset.stderr
    named = subprocess.run([LINKWATCH, "check"], env={**env, "LINKWATCH_USER_AGENT": "ops (+ops@x.test)"},
                           capture_output=True, text=True, timeout=120, check=False)
    assert "LINKWATCH_USER_AGENT" not in named.stderr


def test_a_preview_that_is_a_picture_is_refused_at_its_first_bytes(db: str, fake: FakePreviews) -> None:
    # The fake answers this code with a PNG labelled text/html (synthetic signature, no picture).
    link_id = add_link(db, "telegram", "invite", "pngInstead1")
    liveness.run_checks(db, claim_due(db), settings(fake, attempts=1))
    assert checks(db, link_id) == [("unknown", 200, None, None,
                                    "media response refused (png by its first bytes)")]
    assert fake.hits["/tg/+pngInstead1"] == 1
    assert fake.whole_bodies == []
