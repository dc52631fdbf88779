"""No cap hides a link: a page of 5,000 made-up invites followed by one more stores every one of them,
and the run says the page was unusually full."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import psycopg
import pytest
from click.testing import CliRunner

from linkwatch.cli import main
from tests.utils.crawl import run_linkwatch, runs
from tests.utils.http import serving

pytestmark = pytest.mark.slow

DECOYS = [f"LwDecoy{n:05d}x" for n in range(5000)]
REAL = "LwRealAfterDecoys1"


class DecoyForum(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        return

    def do_GET(self) -> None:
        if self.path == "/":
            fakes = "".join(f"<p>t.me/+{code}</p>" for code in DECOYS)
            body = f"<html><body>{fakes}<p>the real one: t.me/+{REAL}</p></body></html>".encode()
            status = 200
        else:
            body, status = b"", 404
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def decoy_url() -> Iterator[str]:
    with serving(DecoyForum) as url:
        yield url + "/"


def test_the_real_link_after_5000_decoys_is_stored(decoy_url: str, lw_env, tmp_path) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    result = run_linkwatch(["crawl", "--url", decoy_url], lw_env)
    assert result.returncode == 0, result.stderr
    assert "1 page(s) with over 1,000 links (most 5,001; all stored)" in result.stdout
    with psycopg.connect(db) as conn:
        stored = {r[0] for r in conn.execute("SELECT code FROM links")}
    assert REAL in stored
    assert len(stored) == 5001
    (run,) = runs(db)
    assert run["links"] == 5001
    env = {"LINKWATCH_SOURCES": str(tmp_path / "x")}
    status = CliRunner().invoke(main, ["sources", "status", "--adhoc"], env=env)
    assert "1 page(s) with over 1,000 links" in status.output
