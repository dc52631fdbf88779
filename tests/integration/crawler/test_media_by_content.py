"""Media is recognised by its first bytes, whatever its label (issue 11, part 4), in every fetch.

The bodies are synthetic: a PNG signature and header name followed by zeros or seeded noise.
Crawls, static and browser: the download stops after the first chunk (the server sees the client
hang up and never sends the rest), nothing reaches the WARC evidence store, and it is counted as
refused media. Liveness previews: tests/integration/jobs/test_check.py.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import psycopg
import pytest

from tests.utils import forum as forum_site
from tests.utils.crawl import run_linkwatch, runs

PNG = b"\x89PNG\r\n\x1a\n"


def _warc_bytes(data_dir: Path) -> bytes:
    files = sorted((data_dir / "warc").glob("*.warc.gz"))
    return b"".join(gzip.decompress(f.read_bytes()) for f in files)


def _attachments(url: str) -> str:
    return ", ".join(f'"{url}/attach/file/{n}"' for n in forum_site.ATTACHMENTS)


SNIFF_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>Sniff</title></head><body>"
    "<p>t.me/+LwSniffStatic1x</p><div id='out'></div><script>"
    # a page script reads the PNG labelled text/html: linkwatch fetches it, stops at its first bytes
    "fetch('/files/8').then((r) => r.text()).then((t) => { document.getElementById('out').textContent = "
    "'read ' + t.length; }).catch(() => { document.getElementById('out').textContent = 'refused'; });"
    "document.body.append('join t.me/+' + 'LwSniffPage1x');"
    "</script></body></html>"
)


class SniffHandler(forum_site.Handler):
    def _route(self, head: bool) -> None:
        if self.path == "/sniff":
            self._log()
            return self._send(200, SNIFF_PAGE, head=head)
        return super()._route(head)


@pytest.mark.parametrize("render", ["static", pytest.param("browser", marks=pytest.mark.browser)])
def test_a_png_under_any_label_is_cut_off_at_its_first_bytes_and_never_stored(
    render, lw_env, tmp_path, chromium_path
) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    site = forum_site.TestForum()
    site.server.RequestHandlerClass = SniffHandler
    sources = tmp_path / "sources.toml"
    with site:
        sources.write_text(
            f"""
[[source]]
name = "sniff"
start_urls = [{_attachments(site.url)}, "{site.url}/sniff"]
render = "{render}"
delay = 0.0
max_depth = 1
obey_robots = false
""",
            encoding="utf-8",
        )
        result = run_linkwatch(["crawl", "sniff", "--sources", str(sources)],
                               {**lw_env, "LINKWATCH_CHROMIUM": chromium_path})
        files = [(r.path, r.body_sent) for r in site.requests() if r.path.startswith("/files/")]
    assert result.returncode == 0, result.stderr
    # every file asked for (the four attachments; in the browser also the page script's fetch),
    # and not one whole body left the server
    assert {p for p, _ in files} == {f"/files/{n}" for n in forum_site.ATTACHMENTS}
    assert all(sent is False for _, sent in files), files
    (run,) = runs(db)
    stats = run["stats"]
    # image/png at its headers; text/html, no type, gzip'd text/html at their first bytes
    first_bytes = 3 + (1 if render == "browser" else 0)  # + the page script's fetch
    assert stats["media/refused/by_first_bytes"] == first_bytes
    assert run["media_refused"] == first_bytes + 1
    # no media byte in the evidence store, no page row for any file; the page itself was stored
    assert PNG not in _warc_bytes(Path(lw_env["LINKWATCH_DATA_DIR"]))
    with psycopg.connect(db) as conn:
        urls = [r[0] for r in conn.execute("SELECT url FROM pages")]
        found = {r[0] for r in conn.execute("SELECT code FROM links")}
    assert [u for u in urls if "/files/" in u or "/attach/" in u] == []
    assert "LwSniffStatic1x" in found
    if render == "browser":
        assert "LwSniffPage1x" in found
        assert stats["linkwatch/browser/media_refused"] == 1
