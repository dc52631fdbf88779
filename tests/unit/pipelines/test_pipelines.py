"""Capture, normalise, score and dedupe pipelines on a real Scrapy crawler object (no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from linkwatch.config import DATA_FILES
from linkwatch.db.warc import read_capture, sha256_hex
from linkwatch.records import FoundLink, Page
from pipelines.capture import CapturePipeline
from pipelines.dedupe import DedupePipeline
from pipelines.normalise import MAX_CONTEXT, MAX_TITLE, NormalisePipeline
from pipelines.score import ScorePipeline


def link(code: str = "FAKEcode01", **extra: Any) -> FoundLink:
    base = {
        "platform": "telegram", "kind": "invite", "code": code, "url": f"https://t.me/+{code}",
        "raw": f"t.me/+{code}", "obfuscated": False, "where": "href", "context": "샘플 문맥",
    }
    base.update(extra)
    return FoundLink(**base)


def page(url: str = "http://forum.test/t/1", body: bytes | None = b"<p>hello</p>", **extra: Any) -> Page:
    if "links" in extra:
        extra["links"] = tuple(extra["links"])
    return Page(
        url=url, fetched_at=datetime(2026, 11, 1, 12, 0, tzinfo=UTC), status=200,
        content_type="text/html; charset=utf-8", body=body, headers=(("Content-Type", "text/html"),),
        **extra,
    )


def crawler_for(tmp_path: Path, **settings: Any):
    crawler = get_crawler(settings_dict={"LINKWATCH_DATA_DIR": str(tmp_path), **settings})
    crawler.stats.open_spider()
    return crawler


def test_capture_writes_warc_sets_reference_and_frees_body(tmp_path: Path) -> None:
    crawler = crawler_for(tmp_path, LINKWATCH_RUN_ID=7, LINKWATCH_DATABASE_ID="db-a")
    pipe = CapturePipeline.from_crawler(crawler)
    body = "<html><title>게시판</title>지인능욕</html>".encode()
    first = pipe.process_item(page(body=body))
    second = pipe.process_item(page(url="http://forum.test/t/2", body=b"<p>two</p>"))
    assert first.body is None
    assert second.body is None
    assert first.sha256 == sha256_hex(body)
    # the database's own directory: another database's run 7 is another file
    assert first.warc_file == second.warc_file == "warc/db-a/7.warc.gz"
    assert first.warc_offset > 0  # after the warcinfo record naming the database
    assert second.warc_offset == first.warc_offset + first.warc_length
    capture = read_capture(tmp_path, first.warc_file, first.warc_offset, first.sha256)
    assert capture.body == body
    assert capture.status == 200
    assert capture.url == "http://forum.test/t/1"
    assert read_capture(tmp_path, second.warc_file, second.warc_offset).body == b"<p>two</p>"


def test_capture_refuses_media_bodies(tmp_path: Path) -> None:
    crawler = crawler_for(tmp_path)
    pipe = CapturePipeline.from_crawler(crawler)
    item = replace(page(body=b"\x89PNG...."), content_type="image/png")
    with pytest.raises(DropItem, match="media"):
        pipe.process_item(item)
    assert crawler.stats.get_value("linkwatch/dropped/media") == 1
    assert not (tmp_path / "warc").exists() or not any((tmp_path / "warc").iterdir())


# synthetic signatures only: no picture, sound or font follows them
MEDIA_BODIES = {
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64,
    "jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64,
    "mp4": b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00" + b"\x00" * 64,
    "woff": b"wOF2\x00\x01\x00\x00" + b"\x00" * 64,
}


@pytest.mark.parametrize("ctype", ["text/html; charset=utf-8", "", "text/plain"])
@pytest.mark.parametrize("kind", list(MEDIA_BODIES))
def test_capture_drops_media_labelled_as_a_page(tmp_path: Path, kind: str, ctype: str) -> None:
    crawler = crawler_for(tmp_path, LINKWATCH_RUN_ID=1, LINKWATCH_DATABASE_ID="db-a")
    item = replace(page(body=MEDIA_BODIES[kind]), content_type=ctype)
    with pytest.raises(DropItem, match=kind):
        CapturePipeline.from_crawler(crawler).process_item(item)
    assert crawler.stats.get_value("media/refused") == 1
    assert not (tmp_path / "warc").exists()


def test_normalise_strips_control_characters_and_caps_lengths(tmp_path: Path) -> None:
    crawler = crawler_for(tmp_path)
    pipe = NormalisePipeline.from_crawler(crawler)
    item = page(
        title="제목\x00\x07 " + "x" * 5000,
        links=[link(context="앞\x00뒤\x1b[31m" + "y" * 10_000, raw="t.me/\x00+FAKEcode01\ud800")],
    )
    out = pipe.process_item(item)
    assert "\x00" not in out.title
    assert "\x07" not in out.title
    assert len(out.title) == MAX_TITLE
    (only,) = out.links
    assert only.context.startswith("앞뒤[31m")
    assert len(only.context) == MAX_CONTEXT
    assert only.raw == "t.me/+FAKEcode01"


def test_normalise_drops_bad_links_not_the_page(tmp_path: Path) -> None:
    crawler = crawler_for(tmp_path)
    pipe = NormalisePipeline.from_crawler(crawler)
    item = page(links=[
        link("GOODcode01"), "not a record", link(kind=""), link(url="javascript:alert(1)"),
        link(url="https://t.me/+" + "a" * 5000), link(score="high"), link("GOODcode02", platform="  "),
    ])
    out = pipe.process_item(item)
    assert [lk.code for lk in out.links] == ["GOODcode01"]
    stats = crawler.stats.get_stats()
    assert stats["linkwatch/dropped/link_not_a_record"] == 1
    assert stats["linkwatch/dropped/link_missing_kind"] == 1
    assert stats["linkwatch/dropped/link_bad_url"] == 1
    assert stats["linkwatch/dropped/link_url_too_long"] == 1
    assert stats["linkwatch/dropped/link_bad_score"] == 1
    assert stats["linkwatch/dropped/link_missing_platform"] == 1


def test_normalise_drops_a_page_without_a_usable_url(tmp_path: Path) -> None:
    crawler = crawler_for(tmp_path)
    pipe = NormalisePipeline.from_crawler(crawler)
    with pytest.raises(DropItem):
        pipe.process_item(page(url="ftp://x/y"))
    naive = replace(page(), fetched_at=datetime(2026, 11, 1, 12, 0))
    assert pipe.process_item(naive).fetched_at.tzinfo is UTC
    assert crawler.stats.get_value("linkwatch/dropped/page_bad_url") == 1


def test_score_uses_context_and_title(tmp_path: Path) -> None:
    lexicon = tmp_path / "lexicon.toml"
    lexicon.write_text(
        "[[term]]\nterm = '지인능욕'\nweight = 0.9\nnote = 'n'\n"
        "[[term]]\nterm = '텔레 방'\nweight = 0.5\nnote = 'n'\n",
        encoding="utf-8",
    )
    crawler = crawler_for(tmp_path, LINKWATCH_LEXICON=str(lexicon))
    pipe = ScorePipeline.from_crawler(crawler)
    links = [link(context="텔레방 입장"), link("FAKEcode02", context="날씨")]
    item = page(title="지인능욕 게시판", links=links)
    out = pipe.process_item(item)
    assert out.links[0].score == pytest.approx(0.95)
    assert out.links[1].score == pytest.approx(0.9)


def test_score_pipeline_defaults_to_the_shipped_lexicon(tmp_path: Path) -> None:
    crawler = crawler_for(tmp_path, LINKWATCH_LEXICON=str(DATA_FILES / "lexicon.toml"))
    pipe = ScorePipeline.from_crawler(crawler)
    assert pipe.process_item(page(links=[link(context="deepfake")])).links[0].score > 0


def test_dedupe_drops_a_page_version_seen_this_crawl(tmp_path: Path) -> None:
    crawler = crawler_for(tmp_path)
    pipe = DedupePipeline.from_crawler(crawler)
    pipe.process_item(page(sha256="a" * 64))
    pipe.process_item(page(sha256="b" * 64))  # same URL, new body: a new version
    with pytest.raises(DropItem, match="already seen"):
        pipe.process_item(page(sha256="a" * 64))
    assert crawler.stats.get_value("linkwatch/dropped/duplicate_page") == 1


def test_capture_failure_keeps_the_page_without_evidence(tmp_path: Path) -> None:
    crawler = crawler_for(tmp_path, LINKWATCH_RUN_ID=1)
    (tmp_path / "warc").write_text("a file where the WARC directory should be", encoding="utf-8")
    out = CapturePipeline.from_crawler(crawler).process_item(page(body=b"<p>x</p>", links=[link()]))
    assert out.sha256 == sha256_hex(b"<p>x</p>")
    assert out.warc_file is None
    assert out.body is None
    assert out.links
    assert crawler.stats.get_value("linkwatch/capture_errors") == 1


def test_capture_sets_the_version_without_volatile_parts_and_keeps_the_bytes(tmp_path: Path) -> None:
    crawler = crawler_for(tmp_path, LINKWATCH_RUN_ID=8, LINKWATCH_DATABASE_ID="db-v")
    pipe = CapturePipeline.from_crawler(crawler)
    bodies = [f'<a href="./index.php?sid={sid}">x</a><p>It is currently {t}</p><p>post</p>'.encode()
              for sid, t in (("0a1b", "4:47 pm"), ("9f8e", "4:52 pm"))]
    first, second = (pipe.process_item(page(body=b)) for b in bodies)
    assert (first.sha256, second.sha256) == (sha256_hex(bodies[0]), sha256_hex(bodies[1]))
    assert first.version == second.version != first.sha256
    assert read_capture(tmp_path, second.warc_file, second.warc_offset, second.sha256).body == bodies[1]


def test_dedupe_reads_the_version_when_there_is_one(tmp_path: Path) -> None:
    pipe = DedupePipeline.from_crawler(crawler_for(tmp_path))
    pipe.process_item(page(sha256="a" * 64, version="v" * 64))
    with pytest.raises(DropItem, match="already seen"):
        pipe.process_item(page(sha256="b" * 64, version="v" * 64))  # only volatile parts differ


def test_normalise_keeps_and_cleans_the_post_key(tmp_path: Path) -> None:
    pipe = NormalisePipeline.from_crawler(crawler_for(tmp_path))
    out = pipe.process_item(page(links=[link(post="post:forum.test/\x0012 ")]))
    assert out.links[0].post == "post:forum.test/12"
