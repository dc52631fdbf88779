"""`linkwatch extract`: files or stdin, JSON lines or a table, `file` with several files, unreadable files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from linkwatch.cli import main

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "extract" / "forum_post.html"
FIELDS = ["platform", "kind", "code", "url", "raw", "obfuscated", "where", "context"]


def run(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["extract", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def records(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def test_help() -> None:
    code, out, _ = run("--help")
    assert code == 0
    assert "--base-url" in out
    assert "--format" in out


def test_file_as_json_lines() -> None:
    code, out, err = run("--base-url", "https://forum.example.kr/board/", str(FIXTURE))
    assert (code, err) == (0, "")
    rows = records(out)
    assert [r["code"] for r in rows][:2] == ["SynthFixture01", "SynthFixture02"]
    assert all(list(r) == FIELDS for r in rows)
    assert "공지" in out  # ensure_ascii=False: Korean context is written as is


def test_stdin_when_no_file_or_dash() -> None:
    for args in ((), ("-",)):
        code, out, _ = run(*args, stdin="디스코드 discord dot gg/SynthCli1".encode())
        assert code == 0
        assert [(r["url"], r["obfuscated"]) for r in records(out)] == [("https://discord.gg/SynthCli1", True)]


def test_stdin_euc_kr_bytes() -> None:
    body = "<p>텔레그램 입장 https://t.me/+SynthCliKr 감사</p>".encode("euc-kr")
    code, out, _ = run(stdin=body)
    assert code == 0
    assert records(out)[0]["context"].startswith("텔레그램 입장")


def test_several_files_add_file(tmp_path: Path) -> None:
    a = tmp_path / "a.txt"
    b = tmp_path / "b.html"
    a.write_text("t.me/+SynthCliA1", encoding="utf-8")
    b.write_text("<a href='https://discord.gg/SynthCliB'>x</a>", encoding="utf-8")
    code, out, _ = run(str(a), str(b))
    assert code == 0
    assert [(r["file"], r["url"]) for r in records(out)] == [
        (str(a), "https://t.me/+SynthCliA1"),
        (str(b), "https://discord.gg/SynthCliB"),
    ]


def test_unreadable_file_reported_others_processed(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("t.me/+SynthCliOk", encoding="utf-8")
    missing = tmp_path / "missing.txt"
    code, out, err = run(str(missing), str(good), str(tmp_path))
    assert code == 2
    assert [r["url"] for r in records(out)] == ["https://t.me/+SynthCliOk"]
    lines = err.strip().splitlines()
    assert len(lines) == 2
    assert "missing.txt" in lines[0]
    assert "No such file" in lines[0]
    assert "Traceback" not in err


def test_table_format() -> None:
    code, out, _ = run("--format", "table", str(FIXTURE))
    assert code == 0
    assert "platform" in out
    assert "https://t.me/+SynthFixture01" in out
    assert "discord" in out


def test_table_hides_terminal_control_characters(tmp_path: Path) -> None:
    f = tmp_path / "x.txt"
    f.write_text("t.me/+SynthCtl1 \x1b[31mred", encoding="utf-8")
    code, out, _ = run("--format", "table", str(f))
    assert code == 0
    assert "\x1b[31m" not in out


def test_bad_format_is_a_usage_error() -> None:
    code, _, err = run("--format", "xml")
    assert code == 2
    assert "Traceback" not in err


def test_installed_console_script(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("linkwatch")
    f = tmp_path / "page.html"
    f.write_bytes("<p>오픈채팅 open. kakao. com/o/gSynth12 입장</p>".encode("cp949"))
    done = subprocess.run([str(exe), "extract", str(f)], capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    row = json.loads(done.stdout.decode("utf-8"))
    assert (row["platform"], row["code"], row["obfuscated"]) == ("kakao", "gSynth12", True)
    assert "오픈채팅" in row["context"]


# What `linkwatch extract` loads, through the console script's own start-up: the extractor reads most
# pages around their candidates, so neither settings (pydantic) nor the HTML tree (lxml) is needed.
LOADED = """
import runpy, sys
sys.argv = ["linkwatch", "extract", *sys.argv[1:]]
try:
    runpy.run_path({exe!r}, run_name="__main__")
except SystemExit as exc:
    assert not exc.code, exc.code
unneeded = {{"pydantic", "pydantic_settings", "lxml", "scrapy", "psycopg", "importlib.metadata"}}
print(sorted(m for m in sys.modules if m in unneeded or m.split(".")[0] in unneeded), file=sys.stderr)
"""


def test_extract_starts_without_settings_or_tree_libraries(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("linkwatch")
    f = tmp_path / "page.html"
    f.write_text("<p>입장 https://t.me/+SynthLean1 감사</p>", encoding="utf-8")
    # an unusable setting is no reason to refuse: extract reads none (the commands that do still refuse)
    env = {"LINKWATCH_TIMEZONE": "Mars/Base", "LINKWATCH_REVIEWERS_REQUIRED": "two", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", LOADED.format(exe=str(exe)), str(f)], capture_output=True,
                          timeout=60, check=False, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.decode("utf-8"))["code"] == "SynthLean1"
    assert done.stderr.decode().strip() == "[]"
