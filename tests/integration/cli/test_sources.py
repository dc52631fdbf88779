"""`linkwatch sources list` and `sources check FILE`."""

from __future__ import annotations

import json

from click.testing import CliRunner

from linkwatch.cli import main

GOOD = """
[[source]]
name = "board-a"
start_urls = ["https://forum.example.test/"]
schedule = "0 * * * *"

[[source]]
name = "board-b"
start_urls = ["https://other.example.test/"]
render = "browser"
enabled = false
"""


def test_check_accepts_a_valid_file(tmp_path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(GOOD, encoding="utf-8")
    result = CliRunner().invoke(main, ["sources", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert "2 source(s) valid (1 enabled)" in result.output


def test_check_names_the_source_and_field(tmp_path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(GOOD.replace('render = "browser"', 'render = "firefox"'), encoding="utf-8")
    result = CliRunner().invoke(main, ["sources", "check", str(path)])
    assert result.exit_code == 1
    assert "source 'board-b', field 'render'" in result.output
    assert "Traceback" not in result.output


def test_check_missing_file(tmp_path) -> None:
    result = CliRunner().invoke(main, ["sources", "check", str(tmp_path / "none.toml")])
    assert result.exit_code == 1
    assert "no such sources file" in result.output


def test_list_shows_each_source(tmp_path, monkeypatch) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(GOOD, encoding="utf-8")
    monkeypatch.setenv("COLUMNS", "200")
    result = CliRunner().invoke(main, ["sources", "list", "--sources", str(path)])
    assert result.exit_code == 0, result.output
    for text in ("board-a", "board-b", "browser", "0 * * * *", "https://forum.example.test/"):
        assert text in result.output


def test_sources_status_is_reachable_from_the_sources_group(lw_env, tmp_path) -> None:
    """`linkwatch sources status` lists the sources file's sources even before they ever ran."""
    path = tmp_path / "sources.toml"
    path.write_text(GOOD, encoding="utf-8")
    result = CliRunner().invoke(main, ["sources", "status", "--json", "--sources", str(path)])
    assert result.exit_code == 0, result.output
    names = {json.loads(line)["name"] for line in result.output.splitlines() if line.startswith("{")}
    assert {"board-a", "board-b"} <= names


THREE_PROBLEMS = """
[[source]]
name = "board-a"
start_urls = ["https://forum.example.test/"]
max_page = 50

[[source]]
name = "board-b"
start_urls = ["ftp://other.example.test/"]
render = "firefox"
"""


def test_check_reports_every_problem_at_once_with_suggestions(tmp_path) -> None:
    from tests.utils.crawl import run_linkwatch

    path = tmp_path / "sources.toml"
    path.write_text(THREE_PROBLEMS, encoding="utf-8")
    result = run_linkwatch(["sources", "check", str(path)], {})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 3, result.stderr
    assert "source 'board-a', field 'max_page': unknown field (did you mean max_pages?)" in lines[0]
    assert "source 'board-b', field 'start_urls'" in result.stderr
    assert "source 'board-b', field 'render'" in lines[2]
    assert lines[2].endswith("(3 problems in all)")


def test_check_refuses_an_empty_file(tmp_path) -> None:
    for text in ("", "# nothing yet\n"):
        path = tmp_path / "sources.toml"
        path.write_text(text, encoding="utf-8")
        result = CliRunner().invoke(main, ["sources", "check", str(path)])
        assert result.exit_code == 1
        assert "no [[source]] tables" in result.output


def test_other_commands_name_the_first_problem_and_how_many_more(tmp_path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(THREE_PROBLEMS, encoding="utf-8")
    result = CliRunner().invoke(main, ["sources", "list", "--sources", str(path)])
    assert result.exit_code == 1
    assert "(and 2 more problems; `linkwatch sources check` lists them)" in result.output


def test_list_at_80_columns_keeps_names_and_urls_whole(tmp_path) -> None:
    from rich.cells import cell_len

    long_url = "https://a-rather-long-forum-name.example.test/board/list.php?category=open-chat&page=1"
    path = tmp_path / "sources.toml"
    path.write_text(f'[[source]]\nname = "a-long-source-name-for-a-forum"\nstart_urls = ["{long_url}"]\n'
                    'schedule = "0 3 * * 0"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["sources", "list", "--sources", str(path)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "a-long-source-name-for-a-forum" in result.output
    cells = "".join(line.split("│")[-2].strip() for line in result.output.splitlines() if line.count("│") > 2)
    assert long_url in cells  # folded across lines, never cut
    assert all(cell_len(line) <= 80 for line in result.output.splitlines())


def test_status_times_are_in_the_configured_zone(lw_env, tmp_path) -> None:
    import psycopg

    with psycopg.connect(lw_env["LINKWATCH_DATABASE_URL"], autocommit=True) as conn:
        source = conn.execute("INSERT INTO sources (name) VALUES ('board-a') RETURNING id").fetchone()[0]
        conn.execute("INSERT INTO crawl_runs (source_id, status, started_at, finished_at, pages) "
                     "VALUES (%s, 'finished', '2026-11-02 03:00+00', '2026-11-02 03:05+00', 5)", (source,))
    table = CliRunner().invoke(main, ["sources", "status"], env={"COLUMNS": "120"})
    assert table.exit_code == 0, table.output
    assert "2026-11-02 12:00" in table.output  # 03:00 UTC is noon in Seoul
    assert "times in Asia/Seoul" in table.output
    listed = CliRunner().invoke(main, ["sources", "status", "--format", "jsonl"])
    record = json.loads(listed.output.splitlines()[0])
    assert record["started_at"] == "2026-11-02T12:00:00+09:00"  # the offset, as everywhere
    legacy = CliRunner().invoke(main, ["sources", "status", "--json"])  # the old spelling still works
    assert json.loads(legacy.output.splitlines()[0]) == record
