"""The five item pipelines inside a real Scrapy crawl (asyncio reactor) of a local forum."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import psycopg
import pytest

from linkwatch.db.warc import read_page_capture
from tests.utils.http import serving

REPO = Path(__file__).resolve().parents[3]
PAGES = 12

# A bare spider standing in for the forum spider: it follows /t/N links and yields one Page per
# page with every t.me link on it, so this test depends on the pipelines only.
CRAWL = r"""
import json, re, sys
from datetime import UTC, datetime
import scrapy
from scrapy.crawler import CrawlerProcess

from linkwatch.config import DATA_FILES
from linkwatch.records import FoundLink, Page

class Forum(scrapy.Spider):
    name = "forum"

    async def start(self):
        yield scrapy.Request(sys.argv[1] + "/t/0")

    def parse(self, response):
        links = [
            FoundLink(platform="telegram", kind="invite", code=code, url="https://t.me/+" + code,
                      raw="t.me/+" + code, where="text", context=response.css("p::text").get(default=""))
            for code in re.findall(r"t\.me/\+(\w+)", response.text)
        ]
        links.append(FoundLink(platform="telegram", kind="", code="", url=""))  # malformed: dropped alone
        yield Page(
            url=response.url, fetched_at=datetime.now(UTC), status=response.status,
            content_type=response.headers.get("Content-Type", b"").decode(), body=response.body,
            headers=tuple((k.decode(), v[0].decode()) for k, v in response.headers.items()),
            title=response.css("title::text").get(default=""), links=tuple(links),
        )
        for href in response.css("a::attr(href)").getall():
            yield response.follow(href)

process = CrawlerProcess({
    "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
    "LOG_LEVEL": "WARNING", "TELNETCONSOLE_ENABLED": False, "ROBOTSTXT_OBEY": False,
    "ITEM_PIPELINES": {
        "pipelines.capture.CapturePipeline": 100, "pipelines.normalise.NormalisePipeline": 200,
        "pipelines.score.ScorePipeline": 300, "pipelines.dedupe.DedupePipeline": 400,
        "pipelines.store.StorePipeline": 800,
    },
    "LINKWATCH_DATABASE_URL": sys.argv[2], "LINKWATCH_DATA_DIR": sys.argv[3],
    "LINKWATCH_LEXICON": str(DATA_FILES / "lexicon.toml"),
    "LINKWATCH_STORE_BATCH_SIZE": 5, "LINKWATCH_STORE_FLUSH_SECONDS": 1,
})
crawler = process.create_crawler(Forum)
process.crawl(crawler)
process.start()
print(json.dumps({k: v for k, v in crawler.stats.get_stats().items() if k.startswith("linkwatch/")}))
"""


class Forum(BaseHTTPRequestHandler):
    """Thread N advertises made-up codes FAKEn and FAKEshared, links to N+1 and back to 0."""

    def do_GET(self) -> None:
        n = int(self.path.rsplit("/", 1)[-1])
        nxt = f'<a href="/t/{n + 1}">next</a>' if n + 1 < PAGES else ""
        body = (
            f"<html><head><title>지인능욕 게시판 {n}</title></head><body>"
            f"<p>텔레 방 입장 t.me/+FAKE{n} and t.me/+FAKEshared</p>{nxt}<a href='/t/0'>home</a>"
            "</body></html>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass


@pytest.fixture
def forum() -> Iterator[str]:
    with serving(Forum) as url:
        yield url


def crawl(forum: str, db: str, data_dir: Path) -> dict[str, int]:
    run = subprocess.run(
        [sys.executable, "-c", CRAWL, forum, db, str(data_dir)], cwd=REPO, capture_output=True,
        text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_crawl_stores_every_link_once_with_evidence(forum: str, db: str, tmp_path: Path) -> None:
    stats = crawl(forum, db, tmp_path)
    assert stats["linkwatch/pages_stored"] == PAGES
    assert stats["linkwatch/links_new"] == PAGES + 1
    assert stats["linkwatch/sightings_new"] == 2 * PAGES
    assert stats["linkwatch/dropped/link_missing_kind"] == PAGES
    assert stats["linkwatch/batches"] >= 3
    assert "linkwatch/spilled_batches" not in stats
    with psycopg.connect(db) as conn:
        shared = conn.execute(
            "SELECT sightings, score FROM links WHERE canonical_url = 'https://t.me/+FAKEshared'"
        ).fetchone()
        assert shared[0] == PAGES
        assert shared[1] > 0.9  # 지인능욕 in the title, 텔레 방 in the context
        page_id, url = conn.execute("SELECT id, url FROM pages ORDER BY url LIMIT 1").fetchone()
        capture = read_page_capture(conn, tmp_path, page_id)
        assert capture.url == url
        assert b"t.me/+FAKEshared" in capture.body
        sizes = conn.execute("SELECT bytes FROM pages WHERE id = %s", (page_id,)).fetchone()
        assert sizes[0] == len(capture.body)  # the size survives the body being freed after capture

    # Crawling the same forum again stores nothing new: same bytes, same page versions.
    again = crawl(forum, db, tmp_path)
    assert again.get("linkwatch/links_new", 0) == 0
    assert again.get("linkwatch/sightings_new", 0) == 0
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM pages").fetchone()[0] == PAGES
        assert conn.execute("SELECT sum(sightings) FROM links").fetchone()[0] == 2 * PAGES
