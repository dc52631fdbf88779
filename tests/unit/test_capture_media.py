"""The capture backstop: a body that starts like media never reaches the WARC, whatever its label."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from crawler.items import PageItem
from pipelines.capture import CapturePipeline

# synthetic signatures only: no picture, sound or font follows them
BODIES = {
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64,
    "jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64,
    "mp4": b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00" + b"\x00" * 64,
    "woff": b"wOF2\x00\x01\x00\x00" + b"\x00" * 64,
}


@pytest.mark.parametrize("ctype", ["text/html; charset=utf-8", "", "text/plain"])
@pytest.mark.parametrize("kind", list(BODIES))
def test_media_labelled_as_a_page_is_dropped_before_the_warc(tmp_path: Path, kind: str, ctype: str) -> None:
    crawler = get_crawler(settings_dict={"LINKWATCH_DATA_DIR": str(tmp_path), "LINKWATCH_RUN_ID": 1})
    crawler.stats.open_spider()
    item = PageItem(url="http://forum.test/files/8", fetched_at=datetime.now(UTC), status=200,
                    content_type=ctype, body=BODIES[kind])
    with pytest.raises(DropItem, match=kind):
        CapturePipeline.from_crawler(crawler).process_item(item)
    assert item.body is None
    assert crawler.stats.get_value("media/refused") == 1
    assert not (tmp_path / "warc").exists()
