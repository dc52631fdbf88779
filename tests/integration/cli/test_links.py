"""`linkwatch links` and `links show` against real PostgreSQL: every filter, formats, audit, the views."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import psycopg
import pytest
from click.testing import CliRunner

from linkwatch.cli import main
from linkwatch.db.links import LinkFilters, build_search, expected_text_matches
from linkwatch.db.text_index import index_pending
from tests.utils.seeding import T0, Seed


@pytest.fixture
def corpus(seed: Seed) -> dict[str, int]:
    """A small, varied set of links: two sources, Korean context, several platforms and states."""
    forum_a = seed.source("forum-a")
    forum_b = seed.source("forum-b")
    pa = seed.page("http://forum-a.test/board/1", title="자유게시판 홍보글", run=forum_a)
    pb = seed.page("http://forum-b.test/t/9", title="neutral thread", run=forum_b)
    ids = {
        "tg": seed.link("SYNTHtg0001", score=0.95, status="new", liveness="live",
                        preview_title="합성 테스트방"),
        "dc": seed.link("synthdc01", platform="discord", kind="invite", score=0.4, status="confirmed",
                        url="https://discord.gg/synthdc01", first=T0 + timedelta(days=3)),
        "kk": seed.link("synthkk01", platform="kakao", kind="room", score=0.2, status="dismissed",
                        url="https://open.kakao.com/o/synthkk01", first=T0 + timedelta(days=6),
                        liveness="dead"),
        "ch": seed.link("synth_channel", kind="public_channel", score=0.7, status="referred",
                        url="https://t.me/synth_channel", first=T0 - timedelta(days=20)),
    }
    seed.sighting(ids["tg"], pa, at=T0, context="지인 능욕 딥페이크 방 참여 링크", run=forum_a)
    seed.sighting(ids["dc"], pb, at=T0 + timedelta(days=3), context="study group 50% off_sale", run=forum_b)
    seed.sighting(ids["kk"], pb, at=T0 + timedelta(days=6), context="neutral chat", run=forum_b)
    seed.sighting(ids["ch"], pa, at=T0 + timedelta(days=8), context="채널 공지", run=forum_a)
    return ids


def run(args: list[str], **kw) -> tuple[int, str]:
    result = CliRunner().invoke(main, args, catch_exceptions=False, **kw)
    return result.exit_code, result.output


def ids_of(args: list[str]) -> list[int]:
    code, out = run(["links", "--format", "jsonl", *args])
    assert code == 0, out
    return [json.loads(line)["id"] for line in out.splitlines() if line.strip()]


def test_default_sort_is_score(lw_env, corpus) -> None:
    assert ids_of([]) == [corpus["tg"], corpus["ch"], corpus["dc"], corpus["kk"]]


def test_sort_by_last_seen(lw_env, corpus) -> None:
    assert ids_of(["--sort", "last-seen"]) == [corpus["ch"], corpus["kk"], corpus["dc"], corpus["tg"]]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--platform", "discord"], ["dc"]),
        (["--platform", "discord", "--platform", "kakao"], ["dc", "kk"]),
        (["--kind", "public_channel"], ["ch"]),
        (["--status", "new"], ["tg"]),
        (["--status", "confirmed"], ["dc"]),
        (["--status", "dismissed"], ["kk"]),
        (["--status", "referred"], ["ch"]),
        (["--source", "forum-b"], ["dc", "kk"]),
        (["--source", "forum-a"], ["tg", "ch"]),
        (["--text", "딥페이크"], ["tg"]),          # sighting context, Korean substring
        (["--text", "홍보"], ["tg", "ch"]),         # page title (both seen on that page)
        (["--text", "테스트방"], ["tg"]),            # preview title
        (["--text", "50%"], ["dc"]),                # LIKE wildcards are literal
        (["--text", "f_s"], ["dc"]),
        (["--text", "nothing-like-this"], []),
        (["--min-score", "0.5"], ["tg", "ch"]),
        (["--live"], ["tg"]),
        (["--since", "2026-11-05"], ["ch", "kk", "dc"]),                      # last seen (default)
        (["--since", "2026-11-05", "--seen", "first"], ["dc", "kk"]),
        (["--until", "2026-11-05", "--seen", "first"], ["tg", "ch", "dc"]),   # the day is inclusive
        (["--since", "2026-11-03", "--until", "2026-11-05"], ["dc"]),
        (["--platform", "telegram", "--status", "new", "--live", "--text", "능욕"], ["tg"]),
    ],
)
def test_filters(lw_env, corpus, args, expected) -> None:
    assert sorted(ids_of(args)) == sorted(corpus[k] for k in expected)


def test_paging_with_limit_and_offset(lw_env, corpus) -> None:
    first = ids_of(["--limit", "2"])
    second = ids_of(["--limit", "2", "--offset", "2"])
    assert first + second == ids_of([])
    assert len(first) == 2


def test_jsonl_fields(lw_env, corpus) -> None:
    code, out = run(["links", "--format", "jsonl", "--platform", "telegram", "--kind", "invite"])
    assert code == 0
    row = json.loads(out.splitlines()[0])
    for key in ("id", "platform", "kind", "code", "url", "first_seen", "last_seen", "sightings", "score",
                "status"):
        assert key in row
    assert row["code"] == "SYNTHtg0001"
    assert row["url"] == "https://t.me/+SYNTHtg0001"
    assert row["first_seen"] == "2026-11-02T12:00:00+09:00"
    assert row["sightings"] == 1


def test_csv_neutralises_hostile_cells(lw_env, seed) -> None:
    seed.link("synthcsv1", preview_title="=HYPERLINK(\"http://evil.test\",\"x\")")
    code, out = run(["links", "--format", "csv"])
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["preview_title"] == "'=HYPERLINK(\"http://evil.test\",\"x\")"


def test_table_aligns_korean_and_escapes_markup(lw_env, seed) -> None:
    seed.link("synthwide1", preview_title="한국어 제목 [bold]x[/bold]", score=2)
    seed.link("synthnarrow", preview_title="ascii title", score=1)
    code, out = run(["links"])
    assert code == 0
    assert "[bold]x[/bold]" in out  # rich markup in crawled text is shown, not interpreted
    from rich.cells import cell_len

    lines = [ln for ln in out.splitlines() if "synthwide1" in ln or "synthnarrow" in ln]
    assert len(lines) == 2
    # Wide Hangul takes two cells each: both rows have the same display width, so columns line up.
    assert cell_len(lines[0].rstrip()) > 0
    bars = [[cell_len(ln[:i]) for i, ch in enumerate(ln) if ch == "│"] for ln in lines]
    assert bars[0] == bars[1]


def test_bad_date_is_a_usage_error(lw_env, corpus) -> None:
    result = CliRunner().invoke(main, ["links", "--since", "yesterday"])
    assert result.exit_code == 2
    assert "is not a date" in result.output


def test_a_read_only_investigator_runs_every_read_command_audited(lw_env, corpus, role_url) -> None:
    investigator = role_url("inv", group="linkwatch_readonly")
    reads = [
        ["links", "--platform", "discord", "--text", "study"],
        ["links", "show", str(corpus["dc"])],
        ["links", "--status", "referred"],
        ["report", "stats"],
        ["sources", "status"],
        ["db", "status"],
    ]
    for args in reads:
        result = CliRunner().invoke(main, ["--database-url", investigator, *args])
        assert result.exit_code == 0, (args, result.output)
    who = psycopg.conninfo.conninfo_to_dict(investigator)["user"]
    with psycopg.connect(lw_env["LINKWATCH_DATABASE_URL"]) as conn:
        rows = conn.execute("SELECT actor, action, detail FROM audit_log ORDER BY chain_seq").fetchall()
    assert [(r[0], r[1]) for r in rows] == [(who, "query"), (who, "show"), (who, "query")]
    detail = rows[0][2]
    assert detail["filters"]["platform"] == ["discord"]
    assert detail["filters"]["text"] == "study"
    assert detail["rows"] == 1
    # What an investigator may not do: change the record.
    with psycopg.connect(investigator) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("UPDATE links SET status = 'dismissed'")


def test_korean_text_search_uses_trigram_indexes(db, seed) -> None:
    # Enough rows that an index is worth it, then forbid sequential scans to prove the index applies.
    for i in range(300):
        lid = seed.link(f"synthbulk{i:04d}")
        seed.sighting(lid, seed.page(f"http://bulk.test/{i}"), context=f"무관한 글 {i}")
    statement, params = build_search(LinkFilters(text="딥페이크"))
    with psycopg.connect(db) as conn:
        index_pending(conn)  # the search copy of the contexts (migration 0007) holds their index
        conn.execute("ANALYZE")
        # Tiny tables make full scans (sequential, or a whole primary-key index) look cheapest;
        # with both off, only an index with a condition on the text is left to the planner.
        conn.execute("SET enable_seqscan = off")
        conn.execute("SET enable_indexscan = off")
        plan = "\n".join(r[0] for r in conn.execute(
            b"EXPLAIN " + statement.as_bytes(conn), params).fetchall())
    assert "sighting_texts_context_trgm" in plan
    assert "pages_title_trgm" in plan
    assert "links_preview_title_trgm" in plan


def test_show_text_lists_everything(lw_env, seed, corpus) -> None:
    lid = corpus["tg"]
    seed.check(lid, "live", T0 + timedelta(days=1), title="합성 테스트방")
    with psycopg.connect(lw_env["LINKWATCH_DATABASE_URL"], autocommit=True) as conn:
        conn.execute("INSERT INTO reviews (link_id, reviewer, decision, category) "
                     "VALUES (%s, 'rev-a', 'confirm', 'other')", (lid,))
    code, out = run(["links", "show", str(lid)])
    assert code == 0, out
    assert "http://forum-a.test/board/1" in out
    assert "지인 능욕 딥페이크 방 참여 링크" in out
    assert f"{1:064x}" in out  # the page's sha256
    assert "liveness checks (1)" in out
    assert "rev-a" in out
    assert "referrals (0)" in out


def test_show_by_url_and_code_and_json(lw_env, corpus) -> None:
    for ident in ("https://discord.gg/synthdc01", "synthdc01"):
        code, out = run(["links", "show", ident, "--format", "json"])
        assert code == 0, out
        data = json.loads(out)
        assert data["id"] == corpus["dc"]
        assert data["sightings"] == 1  # a count, as in `links --format jsonl`
        assert data["evidence"][0]["page_url"] == "http://forum-b.test/t/9"
        assert data["evidence"][0]["context"] == "study group 50% off_sale"


def test_show_unknown_link_is_one_sentence(lw_env, corpus) -> None:
    result = CliRunner().invoke(main, ["links", "show", "https://t.me/+nope"])
    assert result.exit_code == 1
    assert "no link matches" in result.output
    assert "Traceback" not in result.output


def test_show_escapes_terminal_control_sequences(lw_env, seed) -> None:
    lid = seed.link("synthesc1")
    seed.sighting(lid, seed.page("http://x.test/1"), context="hi \x1b[2J\x1b]0;pwned\x07 there")
    code, out = run(["links", "show", str(lid)])
    assert code == 0
    assert "\x1b" not in out
    assert "\x07" not in out


def test_readonly_role_can_read_views_but_not_write(db, corpus) -> None:
    with psycopg.connect(db) as conn:
        conn.execute("SET ROLE linkwatch_readonly")
        links = conn.execute("SELECT count(*) FROM v_links").fetchone()[0]
        sightings = conn.execute("SELECT source, page_url FROM v_sightings ORDER BY id").fetchall()
        conn.execute("SELECT count(*) FROM v_referrals").fetchone()
        assert links == 4
        assert sightings[0] == ("forum-a", "http://forum-a.test/board/1")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE links SET score = 0")
        conn.rollback()
        conn.execute("SET ROLE linkwatch_readonly")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM audit_log")


def test_show_capture_prints_the_verified_evidence_page(lw_env, seed) -> None:
    from pathlib import Path

    from linkwatch.db.warc import write_response

    data_dir = Path(lw_env["LINKWATCH_DATA_DIR"])
    body = "<html><title>증거</title><p>synthetic post t.me/+SYNTHcap01</p></html>".encode()
    offset, _, digest = write_response(data_dir / "warc" / "t.warc.gz", "http://cap.test/p/1", 200,
                                       [("Content-Type", "text/html; charset=utf-8")], body)
    lid = seed.link("SYNTHcap01")
    with psycopg.connect(lw_env["LINKWATCH_DATABASE_URL"], autocommit=True) as conn:
        good = conn.execute(
            "INSERT INTO pages (url, sha256, fetched_at, warc_file, warc_offset) "
            "VALUES ('http://cap.test/p/1', %s, now(), 'warc/t.warc.gz', %s) RETURNING id",
            (digest, offset)).fetchone()[0]
        tampered = conn.execute(
            "INSERT INTO pages (url, sha256, fetched_at, warc_file, warc_offset) "
            "VALUES ('http://cap.test/p/2', %s, now(), 'warc/t.warc.gz', %s) RETURNING id",
            ("0" * 64, offset)).fetchone()[0]
    seed.sighting(lid, good, context="cap")
    seed.sighting(lid, tampered, context="cap2")
    code, out = run(["links", "show", str(lid), "--capture"])
    assert code == 0, out
    assert "HTTP 200" in out
    assert "Content-Type: text/html; charset=utf-8" in out
    assert "synthetic post t.me/+SYNTHcap01" in out
    assert "capture unreadable" in out  # the tampered page's digest does not match
    code, out = run(["links", "show", str(lid), "--capture", "--format", "json"])
    data = json.loads(out)
    assert "SYNTHcap01" in data["captures"][str(good)]["body"]
    assert "sha256" in data["captures"][str(tampered)]["error"]


@pytest.mark.parametrize("text", ["딥페이크", "홍보", "테스트방", "50%", "f_s", "nothing-like-this"])
def test_text_probe_strategy_matches_index_strategy(lw_env, corpus, monkeypatch, text) -> None:
    by_index = ids_of(["--text", text])
    # Pretend every term is common, so search() probes link by link (text_probe.sql).
    monkeypatch.setattr("linkwatch.db.links.PROBE_TEXT_ABOVE", -1)
    assert ids_of(["--text", text]) == by_index
    statement, params = build_search(LinkFilters(text=text), probe_text=True)
    with psycopg.connect(lw_env["LINKWATCH_DATABASE_URL"]) as conn:
        assert [r[0] for r in conn.execute(statement, params)] == by_index


def test_text_strategy_is_chosen_by_counting_matches(db, seed, monkeypatch) -> None:
    page = seed.page("http://count.test/1")
    for i in range(5):
        seed.sighting(seed.link(f"synthcount{i}"), page, context=f"흔한 문구 {i}")
    seed.sighting(seed.link("synthrare"), page, context="드문 문구")
    monkeypatch.setattr("linkwatch.db.links.PROBE_TEXT_ABOVE", 3)
    with psycopg.connect(db, autocommit=True) as conn:
        assert expected_text_matches(conn, "흔한 문구") == 0  # only the copy is counted: not made yet
        index_pending(conn)
        assert expected_text_matches(conn, "흔한 문구") == 4  # stops one past the limit: probe
        assert expected_text_matches(conn, "드문 문구") == 1  # exact below it: the index path
        assert expected_text_matches(conn, "흔") == 4  # too short for a trigram: read until the limit
        assert conn.execute("SHOW enable_seqscan").fetchone()[0] == "on"  # left as it was


def test_unknown_platform_kind_or_source_is_a_usage_error(lw_env, corpus) -> None:
    for args, expected in (
        (["--platform", "telegarm"], "unknown platform 'telegarm' (did you mean telegram?)"),
        (["--kind", "channel"], "unknown kind 'channel' (did you mean public_channel?)"),
        (["--source", "no-such-source"], "no source named 'no-such-source'; sources crawled so far: "
                                         "forum-a, forum-b"),
        (["--source", "forum-aa"], "no source named 'forum-aa' (did you mean forum-a?)"),
    ):
        result = CliRunner().invoke(main, ["links", *args])
        assert result.exit_code == 2, (args, result.output)
        assert expected in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
    # a platform no link has yet is a valid, empty search
    assert ids_of(["--platform", "band"]) == []


def test_search_options_before_show_are_refused(lw_env, corpus) -> None:
    result = CliRunner().invoke(main, ["links", "--platform", "discord", "show", str(corpus["tg"])])
    assert result.exit_code == 2
    assert "--platform filters the search; `links show` takes only a link" in result.output


def test_show_text_has_counts_and_labelled_times_not_python_reprs(lw_env, corpus) -> None:
    code, out = run(["links", "show", str(corpus["tg"])])
    assert code == 0, out
    assert "datetime" not in out
    assert "{'" not in out
    assert "sightings     1\n" in out
    assert "first seen    2026-11-02 12:00 KST\n" in out  # the configured zone, labelled
    assert "evidence: 1 sighting(s)" in out


def test_sightings_is_a_count_in_every_output(lw_env, corpus) -> None:
    _, listed = run(["links", "--format", "jsonl", "--platform", "discord"])
    _, shown = run(["links", "show", "synthdc01", "--format", "json"])
    assert json.loads(listed)["sightings"] == json.loads(shown)["sightings"] == 1


def test_one_format_vocabulary_and_every_link(lw_env, seed) -> None:
    for i in range(7):
        seed.link(f"synthmany{i}", score=i / 10)
    code, out = run(["links", "--format", "json", "--all"])
    assert code == 0, out
    assert [row["code"] for row in json.loads(out)] == [f"synthmany{i}" for i in range(6, -1, -1)]
    assert len(json.loads(run(["links", "--format", "json", "--limit", "0"])[1])) == 7
    assert len(json.loads(run(["links", "--format", "json", "--limit", "3"])[1])) == 3
    # more than the old cap of 100,000 may be asked for; a table alias still works
    assert run(["links", "--format", "jsonl", "--limit", "250000"])[0] == 0
    code, out = run(["links", "--format", "table"])
    assert code == 0
    assert "7 links · times in Asia/Seoul" in out
    assert run(["links", "--format", "csv", "--all"])[1].count("\n") == 8


def test_table_at_80_columns_keeps_ids_and_codes_whole(lw_env, seed) -> None:
    from rich.cells import cell_len

    code_text = "SynthBigCode0123456789abcdefXYZ"
    ids = [seed.link(code_text + str(i), preview_title="아주 긴 미리보기 제목 " * 5, score=0.5)
           for i in range(3)]
    result = CliRunner().invoke(main, ["links"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for i, link_id in enumerate(ids):
        (line,) = [ln for ln in lines if f"{code_text}{i}" in ln]
        assert f" {link_id} " in line or line.startswith(f"│{link_id} ") or f"│{link_id} " in line
    assert all(cell_len(ln) <= 80 for ln in lines), [ln for ln in lines if cell_len(ln) > 80]


def test_a_reader_that_stops_early_gets_no_traceback(lw_env) -> None:
    import os
    import subprocess

    from tests.utils.crawl import LINKWATCH, UA

    with psycopg.connect(lw_env["LINKWATCH_DATABASE_URL"], autocommit=True) as conn:
        conn.execute("INSERT INTO links (platform, kind, code, canonical_url, first_seen, last_seen, score) "
                     "SELECT 'telegram', 'invite', 'synthpipe' || i, 'https://t.me/+synthpipe' || i, now(), "
                     "now(), 0.5 FROM generate_series(1, 3000) AS i")  # more than a pipe buffer holds
    env = {**os.environ, **lw_env, "LINKWATCH_USER_AGENT": UA}
    with subprocess.Popen([LINKWATCH, "links", "--all", "--format", "jsonl"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env) as proc:
        assert json.loads(proc.stdout.readline())["code"].startswith("synthpipe")
        proc.stdout.close()  # what `| head -1` does
        err = proc.stderr.read().decode()
        proc.wait(timeout=60)
    assert "Traceback" not in err
    assert "Exception ignored" not in err
    with psycopg.connect(lw_env["LINKWATCH_DATABASE_URL"]) as conn:
        (rows,) = conn.execute("SELECT detail->'rows' FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    assert 0 < rows < 3000  # the search is audited with what was handed out
