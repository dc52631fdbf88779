"""Ctrl-C stops a crawl cleanly (run marked interrupted) and `crawl --resume` continues it."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from tests.utils import forum as forum_site
from tests.utils.crawl import LINKWATCH, UA, codes, runs, sources_toml

pytestmark = pytest.mark.slow


def test_sigint_marks_the_run_interrupted_and_resume_continues(forum, lw_env, tmp_path) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    sources = tmp_path / "sources.toml"
    # slow and serial, so the crawl is still running when it is interrupted
    extra = 'deny = ["/calendar", "/huge", "/slow", "/attach/"]\n'  # attachments: in test_crawl
    text = sources_toml(forum.url, extra=extra).replace("delay = 0.0", "delay = 0.8").replace(
        "concurrency = 4", "concurrency = 1"
    )
    sources.write_text(text, encoding="utf-8")
    env = {**os.environ, **lw_env, "LINKWATCH_USER_AGENT": UA}
    with subprocess.Popen(
        [LINKWATCH, "crawl", "tf", "--sources", str(sources)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as proc:
        deadline = time.monotonic() + 60
        while len(forum.paths("/thread/")) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert proc.poll() is None, "crawl ended before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "--resume" in err
    assert "Traceback" not in err
    # Said at once, not when the crawl has stopped: before the progress line the closing crawl prints.
    lines = err.splitlines()
    said = [i for i, line in enumerate(lines) if line.startswith("Ctrl-C: stopping the crawl cleanly")]
    assert len(said) == 1, err
    assert said[0] < max(i for i, line in enumerate(lines) if line.startswith("[tf] ")), err
    (first,) = runs(db)
    assert first["status"] == "interrupted"
    assert first["finished_at"] is not None
    assert list((tmp_path / "data" / "journal" / "tf").iterdir())  # the journal keeps the frontier
    fetched_first = set(forum.paths("/thread/"))
    assert 3 <= len(fetched_first) < 18

    resumed = subprocess.run(
        [LINKWATCH, "crawl", "tf", "--sources", str(sources), "--resume"],
        env={**env}, capture_output=True, text=True, timeout=240, check=False,
    )
    assert resumed.returncode == 0, resumed.stderr
    second = runs(db)[-1]
    assert second["status"] == "finished"
    assert second["trigger"] == "resume"
    # the resumed crawl completed the site without starting over
    assert forum_site.static_codes() - {"LwSlowPage1"} <= codes(db), (resumed.stdout, forum.paths())
    thread_fetches = forum.paths("/thread/")
    assert set(thread_fetches) == {f"/thread/{t}?page={p}" for t in forum_site.threads() for p in (1, 2)}
    assert len(thread_fetches) <= 18 + 2  # at most the pages in flight at Ctrl-C are fetched again
    assert [p for p in forum.paths() if p == "/"] == ["/"]  # the start page was not fetched again
    assert not list((tmp_path / "data" / "journal").rglob("*.jsonl"))  # a finished crawl leaves no journal
