"""Crawled text never drives the investigator's terminal, and no command ever prints a password."""

from __future__ import annotations

import os
import subprocess

import pytest
from click.testing import CliRunner

from linkwatch.cli import main
from tests.utils.crawl import LINKWATCH

# Bidi overrides and isolates, an 8-bit CSI and OSC, a 7-bit escape sequence: all crawled, all hostile.
HOSTILE = "Synth\u202ereversed\u202c \u2066iso\u2069 \x9b31m \x9d0;title\x07 \x1b[2J end"
FORBIDDEN = ["\u202e", "\u202c", "\u2066", "\u2069", "\x9b", "\x9d", "\x1b", "\x07"]


def assert_inert(output: str) -> None:
    for char in FORBIDDEN:
        assert char not in output, f"{char!r} reached the terminal"


def test_links_show_review_and_links_print_crawled_text_inert(lw_env, seed) -> None:
    src = seed.source("forum-h")
    page = seed.page("http://forum-h.test/t/1", title=HOSTILE, run=src)
    link = seed.link("SynthBidi1", preview_title=HOSTILE)
    seed.sighting(link, page, context=HOSTILE, raw=f"t.me/+SynthBidi1{HOSTILE}")
    show = ["links", "show", str(link)]
    for args, kw in ((show, {}), ([*show, "--format", "json"], {}), (["links"], {}),
                     (["links", "--format", "jsonl"], {}), (["review"], {"input": "q\n"})):
        result = CliRunner().invoke(main, args, **kw)
        assert result.exit_code == 0, result.output
        assert_inert(result.output)
        assert "reversed" in result.output or args[-1] == "json" or args == ["links"]


def test_extract_prints_crawled_text_inert(tmp_path) -> None:
    page = tmp_path / "page.html"
    page.write_text(f"<p>{HOSTILE} t.me/+SynthBidiExtract1 {HOSTILE}</p>", encoding="utf-8")
    for fmt in ("jsonl", "table"):
        done = subprocess.run([LINKWATCH, "extract", "--format", fmt, str(page)], capture_output=True,
                              text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        assert "SynthBidiExtract1" in done.stdout
        assert_inert(done.stdout)


SECRET = "s3cretPW-not-for-eyes"
MALFORMED = [
    f"postgresql://analyst:{SECRET}@127.0.0.1:1/linkwatch",  # nothing listens there
    f"postgresql://analyst:{SECRET}@127.0.0.1:notaport/linkwatch",  # does not parse
    f"host=127.0.0.1 port=1 user=analyst password={SECRET} dbname=linkwatch",
    f"postgresql://analyst:{SECRET}@/linkwatch?host=/nonexistent&sslmode=bogus",
]
COMMANDS = [
    ["db", "migrate"], ["db", "status"], ["db", "check"], ["db", "replay"], ["links"], ["links", "show", "1"],
    ["review", "dismiss", "1"], ["report", "weekly", "--week", "2026-W01"], ["report", "stats"],
    ["check", "1"], ["sources", "status"],
]


@pytest.mark.parametrize("url", MALFORMED)
def test_no_command_prints_the_password_of_a_bad_database_url(url: str, tmp_path) -> None:
    env = {**os.environ, "LINKWATCH_DATABASE_URL": url, "LINKWATCH_DATA_DIR": str(tmp_path),
           "LINKWATCH_SOURCES": str(tmp_path / "none.toml")}
    for args in COMMANDS:
        done = subprocess.run([LINKWATCH, *args], env=env, capture_output=True, text=True, timeout=60,
                              check=False)
        shown = done.stdout + done.stderr
        assert done.returncode == 1, (args, shown)
        assert SECRET not in shown, (args, shown)
        assert "Traceback" not in shown, (args, shown)
        assert len(done.stderr.strip().splitlines()) == 1, (args, shown)  # one sentence
