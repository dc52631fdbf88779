"""`scrapy crawl forum -a source=NAME`, as Scrapyd runs it: the spider is built from a source name and
the sources file named in its settings, and crawls like `linkwatch crawl` (issue 12, part 11)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.utils import forum as forum_site
from tests.utils.crawl import sources_toml

ROOT = Path(__file__).parents[3]  # scrapy.cfg: the project's settings module
SCRAPY = str(Path(sys.executable).parent / "scrapy")


def _scrapy(args: list[str], settings: dict[str, str]) -> subprocess.CompletedProcess:
    cmd = [SCRAPY, *args]
    for key, value in settings.items():
        cmd += ["-s", f"{key}={value}"]
    return subprocess.run(cmd, cwd=ROOT, env={**os.environ}, capture_output=True, text=True, timeout=240,
                          check=False)


@pytest.mark.slow
def test_scrapy_crawl_builds_the_spider_from_a_source_name(lw_env, tmp_path) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    with forum_site.TestForum() as forum:
        sources = tmp_path / "sources.toml"
        extra = 'deny = ["/calendar", "/huge", "/slow"]'
        sources.write_text(sources_toml(forum.url, extra=extra).replace("max_pages = 300", "max_pages = 60"),
                           encoding="utf-8")
        settings = {"LINKWATCH_SOURCES": str(sources), "LINKWATCH_DATABASE_URL": db,
                    "LINKWATCH_DATA_DIR": str(tmp_path / "data"), "USER_AGENT": "linkwatch-test/1"}
        listed = _scrapy(["list"], {})
        result = _scrapy(["crawl", "forum", "-a", "source=tf"], settings)
        fetched = forum.paths()
    assert listed.stdout.split() == ["forum"]
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert re.search(r"^\[tf\] \d+/60 pages · ", result.stderr, re.M)  # progress, under the source name
    # the source's rules apply: robots.txt, its deny list, the default account-page list
    assert fetched.count("/robots.txt") == 1
    assert [p for p in fetched if p.startswith(("/private", "/calendar", "/slow", "/huge"))] == []
    assert forum.account_requests() == []
    with psycopg.connect(db) as conn:
        found = {r[0] for r in conn.execute("SELECT code FROM links")}
        pages = conn.execute("SELECT count(*) FROM pages").fetchone()[0]
    assert pages > 10
    assert {"LwIndex0Abc", "LwUtf16Le1x"} <= found


@pytest.mark.slow
def test_two_scrapyd_jobs_share_a_data_directory_and_leave_no_journal(lw_env, tmp_path) -> None:
    """Scrapyd may run two jobs at once: each journals apart, and tidies its journal once all is stored."""
    data = tmp_path / "data"
    with forum_site.TestForum() as forum:
        sources = tmp_path / "sources.toml"
        sources.write_text(sources_toml(forum.url, extra='deny = ["/calendar", "/huge", "/slow"]')
                           .replace("max_pages = 300", "max_pages = 30"), encoding="utf-8")
        settings = {"LINKWATCH_SOURCES": str(sources), "LINKWATCH_DATA_DIR": str(data),
                    "LINKWATCH_DATABASE_URL": lw_env["LINKWATCH_DATABASE_URL"], "LINKWATCH_PROGRESS": "False"}
        cmd = [SCRAPY, "crawl", "forum", "-a", "source=tf"]
        for key, value in settings.items():
            cmd += ["-s", f"{key}={value}"]
        jobs = [subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)]
        outcomes = [job.communicate(timeout=240) for job in jobs]
    for job, (_out, err) in zip(jobs, outcomes, strict=True):
        assert job.returncode == 0, err
        assert "Traceback" not in err
        assert "in use by another process" not in err
    assert list((data / "journal").glob("tf/*")) == []


def test_scrapy_crawl_with_an_unknown_source_says_so_in_one_line(lw_env, tmp_path) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text('[[source]]\nname = "a"\nstart_urls = ["http://127.0.0.1:9/"]\n', encoding="utf-8")
    settings = {"LINKWATCH_SOURCES": str(sources), "LINKWATCH_DATABASE_URL": lw_env["LINKWATCH_DATABASE_URL"],
                "LINKWATCH_DATA_DIR": str(tmp_path / "data")}
    for args in (["-a", "source=nope"], []):
        result = _scrapy(["crawl", "forum", *args], settings)
        assert "Traceback" not in result.stderr, result.stderr
        errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
        assert len(errors) == 1, result.stderr
        assert "Cannot crawl" in errors[0]
    assert "no source named 'nope'" in _scrapy(["crawl", "forum", "-a", "source=nope"], settings).stderr
