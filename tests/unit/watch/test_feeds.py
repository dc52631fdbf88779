"""linkwatch.watch.feeds: finding and reading feeds and sitemaps, with hostile bytes among them."""

from __future__ import annotations

import gzip
import random
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler

from linkwatch.watch.feeds import Entry, FeedLink, feeds_in_page, parse, parse_date, sitemaps_in_robots
from tests.utils.http import serving
from tests.utils.moving import MovingForum

BASE = "http://forum.example.invalid/board/"

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>t</title>
<item><title>a</title><link>http://forum.example.invalid/viewtopic.php?t=1&amp;start=20</link>
  <pubDate>Tue, 01 Dec 2026 10:00:00 +0100</pubDate></item>
<item><title>b</title><link> /viewtopic.php?t=2 </link><dc:date>2026-12-02T08:00:00Z</dc:date></item>
<item><title>c</title><guid>http://forum.example.invalid/p/3</guid></item>
<item><title>no link</title></item>
<item><title>bad</title><link>javascript:alert(1)</link></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>x</id><updated>2026-12-01T00:00:00Z</updated>
<entry><title>a</title><link rel="self" href="/api/1"/><link rel="alternate" href="viewtopic.php?t=5"/>
  <id>1</id><updated>2026-12-03T12:30:00+02:00</updated></entry>
<entry><title>b</title><link href="http://forum.example.invalid/t/6"/><id>2</id><published>2026-12-04</published></entry>
</feed>"""

URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>http://forum.example.invalid/viewtopic.php?t=1</loc><lastmod>2026-12-05</lastmod></url>
<url><loc>http://forum.example.invalid/viewtopic.php?t=2</loc></url>
<url><loc>http://forum.example.invalid/viewtopic.php?t=3</loc><lastmod>not a date</lastmod></url>
<url><loc>ftp://forum.example.invalid/file</loc></url>
</urlset>"""

INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>http://forum.example.invalid/sitemap-1.xml</loc><lastmod>2026-12-06T01:02:03+00:00</lastmod></sitemap>
<sitemap><loc>http://forum.example.invalid/sitemap-2.xml.gz</loc></sitemap>
</sitemapindex>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><item><link>http://forum.example.invalid/&lol9;</link></item></channel></rss>"""


def test_rss_items_become_absolute_urls_with_aware_times_and_unusable_ones_are_skipped() -> None:
    doc = parse(RSS, BASE)
    assert doc.kind == "rss"
    assert doc.error is None
    assert doc.entries == (
        Entry("http://forum.example.invalid/viewtopic.php?t=1&start=20",
              datetime(2026, 12, 1, 9, tzinfo=UTC)),
        Entry("http://forum.example.invalid/viewtopic.php?t=2", datetime(2026, 12, 2, 8, tzinfo=UTC)),
        Entry("http://forum.example.invalid/p/3", None),
    )
    assert doc.skipped == 2


def test_atom_entries_take_their_alternate_link_resolved_against_the_feed() -> None:
    doc = parse(ATOM, "http://forum.example.invalid/feed.atom")
    assert doc.kind == "atom"
    assert doc.entries == (
        Entry("http://forum.example.invalid/viewtopic.php?t=5", datetime(2026, 12, 3, 10, 30, tzinfo=UTC)),
        Entry("http://forum.example.invalid/t/6", datetime(2026, 12, 4, tzinfo=UTC)),
    )


def test_sitemap_urlsets_and_indexes() -> None:
    doc = parse(URLSET, BASE)
    assert doc.kind == "urlset"
    assert [e.url[-4:] for e in doc.entries] == ["?t=1", "?t=2", "?t=3"]
    assert [e.updated for e in doc.entries] == [datetime(2026, 12, 5, tzinfo=UTC), None, None]
    assert doc.skipped == 1
    index = parse(gzip.compress(INDEX), BASE)  # sitemaps often come gzipped
    assert index.kind == "sitemapindex"
    assert index.entries == (
        Entry("http://forum.example.invalid/sitemap-1.xml", datetime(2026, 12, 6, 1, 2, 3, tzinfo=UTC)),
        Entry("http://forum.example.invalid/sitemap-2.xml.gz", None),
    )


def test_entries_are_capped() -> None:
    doc = parse(URLSET, BASE, max_entries=2)
    assert len(doc.entries) == 2
    assert doc.truncated


def test_dates_in_the_forms_feeds_use_are_aware_or_none() -> None:
    assert parse_date("Mon, 07 Dec 2026 10:00:00 GMT") == datetime(2026, 12, 7, 10, tzinfo=UTC)
    assert parse_date("2026-12-07T10:00:00.5-05:00") == datetime(2026, 12, 7, 10, 0, 0, 500000,
                                                                 tzinfo=timezone(timedelta(hours=-5)))
    assert parse_date("2026-12-07T10:00") == datetime(2026, 12, 7, 10, tzinfo=UTC)  # no zone: UTC
    assert parse_date("2026-12") == datetime(2026, 12, 1, tzinfo=UTC)
    assert parse_date("2026") == datetime(2026, 1, 1, tzinfo=UTC)
    for junk in ("", None, "yesterday", "2026-13", "2026-02-30", "Mon, 99 Foo 2026", "9" * 500, "\x00"):
        assert parse_date(junk) is None


def test_a_billion_laughs_is_refused_unexpanded_in_any_encoding() -> None:
    errors: Counter[str] = Counter()
    assert parse(BILLION_LAUGHS, BASE, errors=errors).entries == ()
    utf16 = BILLION_LAUGHS.decode().replace('version="1.0"?>', 'version="1.0" encoding="UTF-16"?>')
    assert parse(utf16.encode("utf-16"), BASE, errors=errors).entries == ()
    assert errors == Counter(dtd=2)


def test_external_entities_and_dtds_are_never_fetched_or_read() -> None:
    fetched: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fetched.append(self.path)
            body = b'<!ENTITY secret "LEAKED">'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    with serving(Handler) as url:
        xxe = (f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/hostname">'
               f'<!ENTITY y SYSTEM "{url}/y">]><urlset><url><loc>http://a.invalid/&x;&y;</loc></url></urlset>')
        assert parse(xxe.encode(), BASE).error == "dtd"
        # an external DTD alone (as RSS 0.91 feeds declare) is allowed, and not fetched either
        external = (f'<?xml version="1.0"?><!DOCTYPE urlset SYSTEM "{url}/dtd"><urlset><url>'
                    "<loc>http://a.invalid/ok</loc></url></urlset>")
        doc = parse(external.encode(), BASE)
        assert doc.entries == (Entry("http://a.invalid/ok", None),)
        # an undeclared entity stays a reference, never text from anywhere
        undeclared = b"<urlset><url><loc>http://a.invalid/&secret;</loc></url></urlset>"
        assert all("LEAKED" not in e.url for e in parse(undeclared, BASE).entries)
        urllib.request.urlopen(f"{url}/probe", timeout=10).read()  # the server answers...
    assert fetched == ["/probe"]  # ...but parsing never asked it for anything


def test_junk_huge_documents_and_gzip_bombs_give_an_empty_result_and_a_counted_error() -> None:
    errors: Counter[str] = Counter()
    rng = random.Random(16)
    junk_50mb = rng.randbytes(50 * 1024 * 1024)
    assert parse(junk_50mb, BASE, errors=errors).entries == ()
    assert parse(rng.randbytes(2 * 1024 * 1024), BASE, errors=errors).entries == ()
    bomb = gzip.compress(b"<urlset>" + b" " * (40 * 1024 * 1024) + b"</urlset>")
    assert len(bomb) < 100_000
    assert parse(bomb, BASE, errors=errors).entries == ()
    assert parse(b"\x1f\x8b\x08\x00garbage", BASE, errors=errors).entries == ()
    assert parse(b"", BASE, errors=errors).entries == ()
    assert parse(b"<html><body>not a feed</body></html>", BASE, errors=errors).error == "not_a_feed"
    assert errors["too_large"] == 2
    assert errors["gzip"] == 1
    assert errors["not_a_feed"] == 1
    assert sum(errors.values()) == 6


def test_wrong_and_unusual_encodings_never_crash() -> None:
    latin1 = '<?xml version="1.0" encoding="ISO-8859-1"?><urlset><url><loc>http://a.invalid/caf\u00e9</loc></url></urlset>'
    assert parse(latin1.encode("latin-1"), BASE).entries == (Entry("http://a.invalid/caf\u00e9", None),)
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><urlset><url><loc>http://a.invalid/x</loc></url></urlset>'
    assert parse(utf16.encode("utf-16"), BASE).entries == (Entry("http://a.invalid/x", None),)
    lying = latin1.replace("ISO-8859-1", "UTF-8").encode("latin-1")  # says UTF-8, is Latin-1
    assert parse(lying, BASE).kind in ("urlset", "")
    no_bom = utf16.encode("utf-16-le")  # UTF-16 without a byte-order mark
    assert parse(no_bom, BASE).kind in ("urlset", "")
    assert parse(b"\xff\xfe\x00\x00<\x00\x00\x00", BASE).entries == ()
    assert parse("<rss><channel><item><link>http://a.invalid/\udcff</link></item></channel></rss>".encode(
        "utf-8", "surrogatepass"), BASE).kind in ("rss", "")


def test_feeds_are_discovered_in_pages_and_sitemaps_in_robots_txt() -> None:
    page = b"""<html><head>
    <link rel="alternate" type="application/rss+xml" href="/feed.rss">
    <link rel="Alternate" type="application/atom+xml; charset=utf-8" href="http://forum.example.invalid/feed.atom">
    <link rel="alternate" type="text/html" href="/other-language">
    <link rel="stylesheet" type="application/rss+xml" href="/not-a-feed">
    <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
    <link rel="alternate" type="application/rss+xml" href="/feed.rss">
    </head><body></body></html>"""
    assert feeds_in_page(page, BASE) == [
        FeedLink("http://forum.example.invalid/feed.rss", "rss"),
        FeedLink("http://forum.example.invalid/feed.atom", "atom"),
    ]
    assert feeds_in_page(b"", BASE) == []
    assert feeds_in_page(b"\x00\xff" * 1000, BASE) == []
    robots = b"User-agent: *\nDisallow: /ucp.php\n# Sitemap: http://x.invalid/commented\n" \
             b"SITEMAP: /sitemap.xml # the index\nsitemap:http://forum.example.invalid/s2.xml\n" \
             b"Sitemap: gopher://forum.example.invalid/x\nSitemap: /sitemap.xml\n"
    assert sitemaps_in_robots(robots, "http://forum.example.invalid/robots.txt") == [
        "http://forum.example.invalid/sitemap.xml", "http://forum.example.invalid/s2.xml",
    ]


def test_the_moving_forums_feeds_and_sitemaps_read_back_its_pages() -> None:
    with MovingForum(boards=2, topics=20, feeds=True, seed=7) as forum:
        def get(path: str) -> bytes:
            with urllib.request.urlopen(forum.url + path, timeout=10) as resp:
                return resp.read()

        change = forum.advance(new_topics=2, new_replies=3)
        robots = sitemaps_in_robots(get("/robots.txt"), forum.url + "/robots.txt")
        assert robots == [forum.url + "/sitemap.xml"]
        links = feeds_in_page(get("/"), forum.url + "/")
        assert [link.kind for link in links] == ["atom", "rss"]
        for link in links:
            entries = parse(get(link.url.removeprefix(forum.url)), link.url).entries
            assert len(entries) == 50
            newest = {e.url.split("#")[0]: e.updated for e in entries[:5]}
            for advert in change.adverts:
                assert newest[forum.url + advert.url] >= advert.appeared
        index = parse(get("/sitemap.xml"), forum.url + "/sitemap.xml")
        pages = {}
        for child in index.entries:
            urlset = parse(get(child.url.removeprefix(forum.url)), child.url)
            pages.update({e.url: e.updated for e in urlset.entries})
        assert {forum.url + u for u in forum.page_urls() if u != "/"} == set(pages)
        for advert in change.adverts:
            assert pages[forum.url + advert.url] == advert.appeared
