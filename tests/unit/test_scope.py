"""The spider's URL rules: canonical form, session ids, media extensions, which links a source follows."""

from __future__ import annotations

import pytest

from crawler.browser import fulfil_headers, route_verdict
from linkwatch.scope import Scope, canonical, is_media_type, is_media_url, strip_session


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://a.test/t?PHPSESSID=abc&id=2", "http://a.test/t?id=2"),
        ("http://a.test/t;jsessionid=ABC123?id=2", "http://a.test/t?id=2"),
        ("http://a.test/t?sid=1&sessionid=2&session_id=3&id=2", "http://a.test/t?id=2"),
        ("http://a.test/search?s=keyword", "http://a.test/search?s=keyword"),
        ("http://a.test/t?b=2&a=1#frag", "http://a.test/t?a=1&b=2"),
    ],
)
def test_canonical_strips_sessions_and_sorts(url: str, expected: str) -> None:
    assert canonical(url) == expected


def test_strip_session_keeps_urls_without_sessions_untouched() -> None:
    assert strip_session("http://a.test/x?b=2&a=1") == "http://a.test/x?b=2&a=1"


@pytest.mark.parametrize(
    "url",
    ["http://a.test/p.JPG", "http://a.test/v.mp4?x=1", "http://a.test/a.mp3", "http://a.test/f.woff2",
     "http://a.test/favicon.ico", "http://a.test/x.webm#t=1", "http://a.test/s.m3u8"],
)
def test_media_urls(url: str) -> None:
    assert is_media_url(url)


@pytest.mark.parametrize(
    "url", ["http://a.test/attach/download?id=1", "http://a.test/x.php?f=a.jpg", "http://a.test/jpg/", "http://a.test/"]
)
def test_non_media_urls(url: str) -> None:
    assert not is_media_url(url)


def test_media_types() -> None:
    assert is_media_type(b"image/jpeg")
    assert is_media_type(" Video/MP4")
    assert is_media_type("audio/ogg; x=1")
    assert not is_media_type("text/html")
    assert not is_media_type(None)
    assert not is_media_type("application/json")


def test_scope_follows_only_the_source_s_pages() -> None:
    scope = Scope(["forum.test"], allow=[r"/(board|thread)"], deny=[r"logout"])
    assert scope.follows("https://forum.test/board/1")
    assert scope.follows("https://m.forum.test/thread/2")
    assert not scope.follows("https://forum.test/member/1")  # not allowed
    assert not scope.follows("https://forum.test/board/logout")  # denied
    assert not scope.follows("https://other.test/board/1")  # other site
    assert not scope.follows("https://notforum.test/board/1")
    assert not scope.follows("https://forum.test/board/pic.png")  # media
    assert not scope.follows("ftp://forum.test/board/1")
    # a redirector whose target is another site is not fetched; one back into the site is
    assert not scope.follows("https://forum.test/board/go?url=https%3A%2F%2Ft.me%2F%2Babc")
    assert scope.follows("https://forum.test/board/go?url=https%3A%2F%2Fforum.test%2Fboard%2F2")


def test_browser_route_fetches_only_documents_assets_and_script_reads() -> None:
    # What a rendered page may have fetched for it (by linkwatch, never by Chromium itself).
    assert route_verdict("script", "GET") == "asset"
    assert route_verdict("stylesheet", "GET") == "asset"
    assert route_verdict("fetch", "GET") == "fetch"
    assert route_verdict("xhr", "HEAD") == "fetch"
    # never: media, icons, frames, beacons, sockets, and no script may post
    for rtype in ("image", "media", "font", "other", "manifest", "ping", "websocket", "eventsource",
                  "texttrack", "prefetch", "document"):
        assert route_verdict(rtype, "GET") == "abort", rtype
    assert route_verdict("fetch", "POST") == "abort"
    assert route_verdict("xhr", "PUT") == "abort"


def test_fulfilled_headers_drop_cookies_and_encodings() -> None:
    headers = [("Content-Type", "text/html"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"),
               ("Content-Encoding", "gzip"), ("Content-Length", "10"), ("Link", "</a>"), ("Link", "</b>")]
    assert fulfil_headers(headers) == {"content-type": "text/html", "link": "</a>, </b>"}
