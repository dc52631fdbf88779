"""`linkwatch report`: contents, no repeats, re-referral, injection, XLSX, LibreOffice, re-runs, stats."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import psycopg
import pytest
from click.testing import CliRunner

from linkwatch.cli import main
from linkwatch.jobs.report import last_complete_week, parse_week, weekly
from tests.utils.seeding import Seed

SEOUL = ZoneInfo("Asia/Seoul")
W45 = datetime(2026, 11, 2, 0, 0, tzinfo=SEOUL)  # Monday of 2026-W45 in Seoul
HOSTILE = {
    "preview": "=cmd|' /C calc'!A0",
    "code": "-synthneg",
    "page": "@SUM(1+1)",
    "tab": "\t=1+2",
    "cr": "\r=3+4",
    "hidden": "\x01=5+6\x07",  # PostgreSQL text cannot hold NUL; the unit test covers it
}


@pytest.fixture
def week45(seed: Seed) -> dict[str, int]:
    """Confirmed links seen in 2026-W45 (one hostile), plus links that must not be referred."""
    run = seed.source("forum-r")
    p1 = seed.page("http://forum-r.test/t/1", run=run, at=W45 + timedelta(hours=1))
    p2 = seed.page(HOSTILE["page"], run=run, at=W45 + timedelta(hours=2))
    p3 = seed.page("http://forum-r.test/t/3", run=run, at=W45 + timedelta(hours=3))
    ids = {
        "a": seed.link("synthrefA", status="confirmed", category="deepfake_sexual", liveness="live",
                       preview_title="합성 테스트방", member_count=120, first=W45 + timedelta(hours=1),
                       score=5),
        "h": seed.link(HOSTILE["code"], status="confirmed", category="other", liveness="live",
                       preview_title=HOSTILE["preview"] + HOSTILE["hidden"], first=W45 + timedelta(hours=2),
                       url="+synth-hostile-url"),
        "dead": seed.link("synthrefDead", status="confirmed", category="other", liveness="dead",
                          first=W45 + timedelta(hours=2)),
        "new": seed.link("synthrefNew", status="new", first=W45 + timedelta(hours=2)),
        "dismissed": seed.link("synthrefDis", status="dismissed", first=W45 + timedelta(hours=2)),
        "later": seed.link("synthrefLater", status="confirmed", category="other",
                           first=W45 + timedelta(days=15)),  # first seen in W47
    }
    seed.sighting(ids["a"], p1, at=W45 + timedelta(hours=1), context=HOSTILE["tab"])
    seed.sighting(ids["a"], p2, at=W45 + timedelta(hours=2), context=HOSTILE["cr"])
    seed.sighting(ids["h"], p2, at=W45 + timedelta(hours=2))
    seed.sighting(ids["h"], p3, at=W45 + timedelta(hours=3))
    return ids


def cli(args: list[str]):
    return CliRunner().invoke(main, ["report", *args], catch_exceptions=False)


def db_rows(url: str, query: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_week_arithmetic() -> None:
    # Monday 2026-11-23 08:59 in Seoul is still Sunday in UTC: the Seoul week decides.
    now = datetime(2026, 11, 22, 23, 59, tzinfo=UTC)
    assert last_complete_week(now, SEOUL).period == "2026-W47"
    assert last_complete_week(datetime(2026, 11, 22, 14, 59, tzinfo=UTC), SEOUL).period == "2026-W46"
    assert last_complete_week(datetime(2026, 1, 5, 3, tzinfo=UTC), SEOUL).period == "2026-W01"
    assert last_complete_week(datetime(2027, 1, 4, 3, tzinfo=UTC), SEOUL).period == "2026-W53"
    w = parse_week("2026-W45", SEOUL)
    assert (w.start, w.end) == (W45, W45 + timedelta(days=7))
    assert w.ref(1) == "LW-2026W45-0001"


def test_bad_week_is_one_sentence(lw_env) -> None:
    for bad in ("2026-47", "2026-W54", "last week"):
        result = CliRunner().invoke(main, ["report", "weekly", "--week", bad])
        assert result.exit_code == 1, result.output
        assert "ISO week" in result.output
        assert "Traceback" not in result.output


def test_weekly_export_contents_and_record(lw_env, week45, tmp_path) -> None:
    url = lw_env["LINKWATCH_DATABASE_URL"]
    out = tmp_path / "out"
    result = cli(["weekly", "--week", "2026-W45", "--out", str(out), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "recorded 2026-W45: 2 link(s) (2 new, 0 readvertised)" in result.output

    lines = (out / "linkwatch-referral-2026-W45.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["ref"] for r in records] == ["LW-2026W45-0001", "LW-2026W45-0002"]
    a, h = records
    assert a["url"] == "https://t.me/+synthrefA"
    assert a["code"] == "synthrefA"
    assert a["platform"] == "telegram"
    assert a["kind"] == "invite"
    assert a["category"] == "deepfake_sexual"
    assert a["first_seen"] == "2026-11-02T01:00:00+09:00"
    assert a["last_seen"] == "2026-11-02T02:00:00+09:00"
    assert a["liveness"] == "live"
    assert a["checked_at"] is not None
    assert a["preview_title"] == "합성 테스트방"
    assert a["member_count"] == 120
    assert a["sightings"] == 2
    assert a["post_count"] == 2
    assert a["post_urls"] == ["http://forum-r.test/t/1", HOSTILE["page"]]
    assert a["first_capture_sha256"] == f"{1:064x}"
    assert a["reason"] == "new"
    assert h["code"] == HOSTILE["code"]

    # Recorded: one referral, its items (which make the links referred), an audit row; the rest untouched.
    assert db_rows(url, "SELECT period, counts->>'links' FROM referrals") == [("2026-W45", "2")]
    items = db_rows(url, "SELECT link_id, ref, reason FROM referral_items ORDER BY ref")
    assert items == [(week45["a"], "LW-2026W45-0001", "new"), (week45["h"], "LW-2026W45-0002", "new")]
    shown = dict(db_rows(url, "SELECT id, status FROM v_links"))
    assert shown[week45["a"]] == shown[week45["h"]] == "referred"
    assert shown[week45["dead"]] == shown[week45["later"]] == "confirmed"
    # links.status keeps the triage decision; no link row is rewritten by the export.
    assert dict(db_rows(url, "SELECT id, status FROM links"))[week45["a"]] == "confirmed"
    owner = psycopg.conninfo.conninfo_to_dict(url)["user"]  # the role the export ran as
    assert db_rows(url, "SELECT actor, action, target FROM audit_log") == [(owner, "export", "2026-W45")]
    listed = CliRunner().invoke(main, ["links", "--status", "referred", "--format", "jsonl"],
                                catch_exceptions=False)
    assert sorted(json.loads(line)["id"] for line in listed.output.splitlines()) == sorted(
        [week45["a"], week45["h"]])
    assert all(json.loads(line)["status"] == "referred" for line in listed.output.splitlines())
    confirmed = CliRunner().invoke(main, ["links", "--status", "confirmed", "--format", "jsonl"],
                                   catch_exceptions=False)
    assert sorted(json.loads(line)["id"] for line in confirmed.output.splitlines()) == sorted(
        [week45["dead"], week45["later"]])

    manifest = json.loads((out / "linkwatch-referral-2026-W45-manifest.json").read_text())
    for name in ("linkwatch-referral-2026-W45.csv", "linkwatch-referral-2026-W45.xlsx",
                 "linkwatch-referral-2026-W45.jsonl"):
        assert manifest["files"][name]["sha256"] == sha(out / name)
    assert manifest["counts"]["links"] == 2
    assert manifest["counts"]["by_platform"] == {"telegram": 2}
    assert manifest["takedown"]["referred"] == 2
    assert manifest["takedown"]["alive"] == 2


def test_formula_injection_neutralised_in_csv(lw_env, week45, tmp_path) -> None:
    cli(["weekly", "--week", "2026-W45", "--out", str(tmp_path), "--lang", "en", "--format", "csv"])
    raw = (tmp_path / "linkwatch-referral-2026-W45.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: spreadsheets read the Korean right
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    hostile = rows[1]
    assert hostile["preview_title"] == "'" + HOSTILE["preview"] + "=5+6"  # control characters removed
    assert hostile["code"] == "'" + HOSTILE["code"]
    assert hostile["canonical_url"] == "'+synth-hostile-url"
    assert rows[0]["post_urls"] == "http://forum-r.test/t/1\n" + HOSTILE["page"]
    assert hostile["post_urls"] == "'" + HOSTILE["page"] + "\nhttp://forum-r.test/t/3"
    # zone-less cells, so the header names their zone
    assert rows[0]["first_seen (Asia/Seoul)"] == "2026-11-02 01:00:00"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
            assert "\x01" not in value
            assert "\x07" not in value


def test_xlsx_read_back(lw_env, week45, tmp_path) -> None:
    cli(["weekly", "--week", "2026-W45", "--out", str(tmp_path), "--lang", "ko", "--format", "xlsx"])
    wb = openpyxl.load_workbook(tmp_path / "linkwatch-referral-2026-W45.xlsx")
    ws = wb.active
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:Q3"
    header = [c.value for c in ws[1]]
    assert header[:3] == ["참조번호", "사유", "플랫폼"]
    assert header[7:11] == ["최초 발견 (Asia/Seoul)", "최근 발견 (Asia/Seoul)", "접속 가능 여부",
                            "확인 시각 (Asia/Seoul)"]
    # 45 characters wide; XlsxWriter stores Excel's on-disk width, which adds the cell padding.
    assert 45 < ws.column_dimensions["E"].width < 46
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert rows[0][0] == "LW-2026W45-0001"
    assert rows[0][1] == "신규"
    assert rows[0][6] == "성적 허위영상물(딥페이크)"
    assert rows[0][7] == datetime(2026, 11, 2, 1, 0)  # a real date, naive in Asia/Seoul
    assert rows[0][12] == 120
    for row in ws.iter_rows(min_row=1):
        for cell in row:
            assert cell.data_type != "f"
            if isinstance(cell.value, str):
                assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert rows[1][11] == "'" + HOSTILE["preview"] + "=5+6"
    assert rows[1][5] == "'" + HOSTILE["code"]


def escapes_workbook(path: Path) -> None:
    """One row whose text looks like Excel's own _xHHHH_ escapes, markup and a CR."""
    from linkwatch.jobs.report import COLUMNS, write_files  # the report's own writer

    row = {key: None for key, *_ in COLUMNS}
    row.update(ref="LW-2026W45-0001", reason="new", preview_title="_x003D_1+1 <b>&amp;</b>",
               code="a\rb", post_urls=["http://x.test/1"], member_count=7, first_seen=W45)
    write_files([[row]], path.parent, path.stem, ("xlsx",), "en", SEOUL, W45, lambda _m: None)


def test_xlsx_escapes_read_back(tmp_path) -> None:
    escapes_workbook(tmp_path / "x.xlsx")
    values = next(openpyxl.load_workbook(tmp_path / "x.xlsx").active.iter_rows(min_row=2, values_only=True))
    # openpyxl does not decode the spec's _xHHHH_ escapes in inline strings; Excel and LibreOffice
    # do, so a literal "_x003D_" is stored as "_x005F_x003D_" and a CR as "_x000D_" (the
    # LibreOffice test reads both back decoded).
    assert values[11] == "_x005F_x003D_1+1 <b>&amp;</b>"
    assert values[5] == "a_x000D_b"
    assert values[12] == 7
    assert values[7] == datetime(2026, 11, 2, 0, 0)


def test_xlsx_converted_by_libreoffice(lw_env, week45, tmp_path) -> None:
    cli(["weekly", "--week", "2026-W45", "--out", str(tmp_path), "--lang", "en", "--format", "xlsx"])
    escapes_workbook(tmp_path / "escapes.xlsx")
    converted = tmp_path / "lo"
    profile = tmp_path / "lo-profile"
    subprocess.run(
        ["/usr/bin/soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
         "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1", "--outdir", str(converted),
         str(tmp_path / "linkwatch-referral-2026-W45.xlsx"), str(tmp_path / "escapes.xlsx")],
        check=True, timeout=180, capture_output=True,
    )
    with (converted / "escapes.csv").open(encoding="utf-8", newline="") as fh:
        escaped = list(csv.reader(fh))
    assert escaped[1][11] == "_x003D_1+1 <b>&amp;</b>"
    assert escaped[1][5] == "a\rb"
    rows = list(csv.reader(io.StringIO((converted / "linkwatch-referral-2026-W45.csv").read_text("utf-8"))))
    assert rows[0][0] == "referral_id"
    assert rows[1][11] == "합성 테스트방"
    assert rows[2][11] == "'" + HOSTILE["preview"] + "=5+6"
    assert rows[2][5] == "'" + HOSTILE["code"]
    assert rows[2][4] == "'+synth-hostile-url"
    assert rows[1][7].startswith("2026-11-02") or rows[1][7].startswith("11/02/26")


def test_rerun_same_week_rewrites_identical_files(lw_env, week45, tmp_path) -> None:
    url = lw_env["LINKWATCH_DATABASE_URL"]
    out = tmp_path / "out"
    assert cli(["weekly", "--week", "2026-W45", "--out", str(out)]).exit_code == 0
    first = {p.name: sha(p) for p in out.iterdir()}
    for p in out.iterdir():
        p.unlink()
    again = cli(["weekly", "--week", "2026-W45", "--out", str(out)])
    assert again.exit_code == 0
    assert "rewrote 2026-W45: 2 link(s)" in again.output
    assert {p.name: sha(p) for p in out.iterdir()} == first
    assert len(first) == 4
    assert db_rows(url, "SELECT count(*) FROM referrals") == [(1,)]
    assert db_rows(url, "SELECT count(*) FROM referral_items") == [(2,)]


def test_dry_run_writes_and_records_nothing(lw_env, week45, tmp_path) -> None:
    url = lw_env["LINKWATCH_DATABASE_URL"]
    result = cli(["weekly", "--week", "2026-W45", "--out", str(tmp_path / "dry"), "--dry-run"])
    assert result.exit_code == 0
    assert "dry run, nothing written — 2026-W45: 2 link(s)" in result.output
    assert "LW-2026W45-0001" in result.output
    assert not (tmp_path / "dry").exists()
    assert db_rows(url, "SELECT count(*) FROM referrals") == [(0,)]
    assert db_rows(url, "SELECT count(*) FROM referral_items") == [(0,)]
    assert db_rows(url, "SELECT count(*) FROM v_links WHERE status = 'referred'") == [(0,)]


def test_no_repeats_next_week_then_readvertised_and_live(lw_env, db, seed, week45, tmp_path) -> None:
    ref_time = W45 + timedelta(days=7, hours=9)  # the W45 referral is made on Monday of W46
    with psycopg.connect(db, autocommit=True) as conn:
        weekly(conn, parse_week("2026-W45", SEOUL), tmp_path / "w45", url=db,
               tz=SEOUL, who="t", now=ref_time)
        w46 = weekly(conn, parse_week("2026-W46", SEOUL), tmp_path / "w46", url=db, tz=SEOUL, who="t",
                     now=ref_time + timedelta(days=7))
        assert [r["ref"] for r in w46.rows] == []
        # Both W45 links are advertised again in W47; only the one still live is referred again.
        page = seed.page("http://forum-r.test/t/again", at=ref_time + timedelta(days=8))
        seed.sighting(week45["a"], page, at=ref_time + timedelta(days=8))
        seed.sighting(week45["h"], page, at=ref_time + timedelta(days=8))
        seed.check(week45["h"], "dead", ref_time + timedelta(days=8, hours=1))
        w47 = weekly(conn, parse_week("2026-W47", SEOUL), tmp_path / "w47", url=db, tz=SEOUL, who="t",
                     now=ref_time + timedelta(days=14))
    assert [(r["ref"], r["id"], r["reason"]) for r in w47.rows] == [
        ("LW-2026W47-0001", week45["later"], "new"),
        ("LW-2026W47-0002", week45["a"], "readvertised"),
    ]
    assert w47.manifest["counts"]["readvertised"] == 1
    assert "http://forum-r.test/t/again" in w47.rows[1]["post_urls"]


def test_takedown_stats(lw_env, db, seed, week45, tmp_path) -> None:
    ref_time = W45 + timedelta(days=7, hours=9)
    with psycopg.connect(db, autocommit=True) as conn:
        weekly(conn, parse_week("2026-W45", SEOUL), tmp_path, url=db,
               tz=SEOUL, who="t", now=ref_time)
    seed.check(week45["a"], "live", ref_time + timedelta(hours=5))
    seed.check(week45["a"], "dead", ref_time + timedelta(hours=30))
    seed.check(week45["a"], "dead", ref_time + timedelta(hours=60))  # only the first dead check counts
    result = CliRunner().invoke(main, ["report", "stats", "--format", "json"], catch_exceptions=False)
    figures = json.loads(result.output)
    assert figures["referred"] == 2
    assert figures["dead"] == 1
    assert figures["alive"] == 1
    assert figures["median_hours"] == 30.0
    assert figures["p90_hours"] == 30.0
    text = CliRunner().invoke(main, ["report", "stats"], catch_exceptions=False).output
    assert "referral → dead: median 30.0 h" in text
    assert "still alive: 1" in text


def test_default_week_and_out_dir(lw_env, seed) -> None:
    result = cli(["weekly", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    period = last_complete_week(datetime.now(SEOUL), SEOUL).period
    assert f"recorded {period}: 0 link(s)" in result.output
    folder = Path(lw_env["LINKWATCH_DATA_DIR"]) / "reports" / period
    assert (folder / f"linkwatch-referral-{period}.jsonl").read_text() == ""
    assert (folder / f"linkwatch-referral-{period}-manifest.json").exists()



def test_referred_link_keeps_status_through_review(lw_env, db, week45, tmp_path) -> None:
    from linkwatch.jobs.review import decide

    with psycopg.connect(db, autocommit=True) as conn:
        weekly(conn, parse_week("2026-W45", SEOUL), tmp_path, url=db,
               tz=SEOUL, who="t")
        outcome = decide(conn, week45["a"], "dismiss", "bo")
    assert outcome.status == "referred"
    assert db_rows(db, "SELECT status FROM links WHERE id = %s", (week45["a"],)) == [("confirmed",)]
    assert db_rows(db, "SELECT status FROM v_links WHERE id = %s", (week45["a"],)) == [("referred",)]
    shown = CliRunner().invoke(main, ["links", "show", str(week45["a"]), "--format", "json"],
                               catch_exceptions=False)
    assert json.loads(shown.output)["status"] == "referred"


def test_chunked_export_gives_the_same_files(lw_env, week45, tmp_path, monkeypatch) -> None:
    import linkwatch.jobs.report

    assert cli(["weekly", "--week", "2026-W45", "--out", str(tmp_path / "one")]).exit_code == 0
    monkeypatch.setattr(linkwatch.jobs.report, "CHUNK", 1)  # one link per batch to every writer
    assert cli(["weekly", "--week", "2026-W45", "--out", str(tmp_path / "many")]).exit_code == 0
    one = {p.name: sha(p) for p in (tmp_path / "one").iterdir()}
    assert {p.name: sha(p) for p in (tmp_path / "many").iterdir()} == one
    assert len(one) == 4


def test_background_xlsx_failure_is_raised(tmp_path) -> None:
    from linkwatch.jobs.xlsx import BackgroundXlsx

    book = BackgroundXlsx(tmp_path / "bad.xlsx", ["a"], [10], sheet="s", created=datetime(2026, 1, 1))
    book.add([["fine"], [object()]])  # not a cell type: the child raises
    with pytest.raises(TypeError, match="unsupported cell type"):
        book.close()


def test_a_failed_write_records_nothing_and_a_retry_does(lw_env, week45, tmp_path) -> None:
    url = lw_env["LINKWATCH_DATABASE_URL"]
    out = tmp_path / "out"
    blocker = out / "linkwatch-referral-2026-W45.xlsx"
    blocker.mkdir(parents=True)  # the XLSX child cannot create its file
    failed = cli(["weekly", "--week", "2026-W45", "--out", str(out)])
    assert failed.exit_code == 1
    assert "cannot write the referral files" in failed.output
    assert "nothing was recorded" in failed.output
    assert db_rows(url, "SELECT count(*) FROM referrals") == [(0,)]
    assert db_rows(url, "SELECT count(*) FROM referral_items") == [(0,)]
    blocker.rmdir()
    retried = cli(["weekly", "--week", "2026-W45", "--out", str(out)])
    assert retried.exit_code == 0
    assert "recorded 2026-W45: 2 link(s)" in retried.output
    assert db_rows(url, "SELECT ref FROM referral_items ORDER BY ref") == [
        ("LW-2026W45-0001",), ("LW-2026W45-0002",)]


def test_future_and_unfinished_weeks_are_refused_unless_partial(lw_env, week45, tmp_path) -> None:
    url = lw_env["LINKWATCH_DATABASE_URL"]
    typo = cli(["weekly", "--week", "2062-W50", "--out", str(tmp_path / "typo")])
    assert typo.exit_code == 1
    assert "2062-W50 has not started yet" in typo.output
    year, week, _ = datetime.now(SEOUL).isocalendar()
    current = f"{year:04d}-W{week:02d}"
    running = cli(["weekly", "--week", current, "--out", str(tmp_path / "now")])
    assert running.exit_code == 1
    assert f"{current} has not ended yet" in running.output
    assert "--allow-partial" in running.output
    dry = cli(["weekly", "--week", current, "--dry-run"])
    assert dry.exit_code == 1  # a dry run is refused the same way: it shows what a run would do
    # nothing recorded, nothing written, the links still wait for their real week
    assert db_rows(url, "SELECT count(*) FROM referrals") == [(0,)]
    assert not (tmp_path / "typo").exists()
    assert not (tmp_path / "now").exists()
    partial = cli(["weekly", "--week", current, "--out", str(tmp_path / "now"), "--allow-partial"])
    assert partial.exit_code == 0, partial.output
    assert db_rows(url, "SELECT period FROM referrals") == [(current,)]


def test_week_edges_are_one_sentence_and_written_in_full(lw_env) -> None:
    last = cli(["weekly", "--week", "9999-W52", "--dry-run"])
    assert last.exit_code == 1
    assert "past the last week linkwatch can report" in last.output
    early = cli(["weekly", "--week", "0001-W01", "--dry-run"])
    assert early.exit_code == 0, early.output
    assert "0001-W01: 0 link(s)" in early.output  # not "1-W01"
    assert parse_week("0001-W01", SEOUL).ref(1) == "LW-0001W01-0001"


def test_never_checked_links_are_their_own_figure(lw_env, seed, tmp_path) -> None:
    for i in range(7):
        seed.link(f"synthunchk{i}", status="confirmed", category="other", first=W45 + timedelta(hours=i))
    out = tmp_path / "out"
    result = cli(["weekly", "--week", "2026-W45", "--out", str(out)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "linkwatch-referral-2026-W45-manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["live"] == 0
    assert manifest["counts"]["unchecked"] == 7
    assert manifest["takedown"]["alive"] == 0  # never checked is not alive
    assert manifest["takedown"]["unchecked"] == 7
    assert manifest["takedown"]["referred"] == 7
    figures = json.loads(cli(["stats", "--format", "json"]).output)
    assert (figures["alive"], figures["unchecked"], figures["unknown"], figures["dead"]) == (0, 7, 0, 0)
    text = cli(["stats"]).output
    assert "still alive: 0" in text
    assert "never checked: 7" in text
