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
