"""The moving forum (tests/utils/moving.py) moves on between fetches the way real boards do."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

from tests.utils.moving import MovingForum, advert_code

TOPIC_ROW = re.compile(r'class="topictitle" href="/viewtopic\.php\?t=(\d+)">.*?class="posts">(\d+) replies')


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), ""


def rows(forum: MovingForum, board: int, page: int = 1) -> list[tuple[int, int]]:
    """(topic, replies) of a listing page, top to bottom."""
    _, _, body = get(forum.url + forum.listing_url(board, page))
    return [(int(t), int(n)) for t, n in TOPIC_ROW.findall(body)]


def test_new_topics_go_on_top_and_older_ones_shift_onto_later_pages() -> None:
    with MovingForum(boards=1, topics=30, per_page=10, seed=1) as forum:
        before = [rows(forum, 0, p) for p in (1, 2, 3)]
        change = forum.advance(new_topics=3)
        after = [rows(forum, 0, p) for p in (1, 2, 3)]
        assert [t for t, _ in after[0][:3]] == sorted(change.new_topics, reverse=True)  # newest post first
        assert after[0][3:] == before[0][:7]
        assert after[1] == before[0][7:] + before[1][:7]  # the last three of page 1 moved to page 2
        assert after[2] == before[1][7:] + before[2][:7]
        assert rows(forum, 0, 4) == before[2][7:]  # a fourth listing page appeared
        assert len(change.adverts) == 3  # new_advert_ratio=1: every new post advertises
        for advert in change.adverts:
            _, _, body = get(forum.url + advert.url)
            assert f"t.me/+{advert.code}" in body


def test_a_reply_moves_its_topic_to_the_top_with_a_new_count_and_may_add_a_last_page() -> None:
    with MovingForum(boards=1, topics=20, per_page=10, posts_per_page=5, seed=2) as forum:
        listed = rows(forum, 0, 2)
        # a topic on page 2 whose last page is full: the reply opens a new last page
        topic, replies = next((t, n) for t, n in listed if (n + 1) % 5 == 0)
        old_pages = -(-(replies + 1) // 5)
        change = forum.advance(reply_to=(topic,))
        assert rows(forum, 0, 1)[0] == (topic, replies + 1)
        assert topic not in [t for t, _ in rows(forum, 0, 2)]
        assert change.new_pages == [forum.topic_url(topic, old_pages + 1)]
        status, _, body = get(forum.url + forum.topic_url(topic, old_pages + 1))
        assert status == 200
        assert f"t.me/+{change.adverts[0].code}" in body
        _, _, listing = get(forum.url + forum.listing_url(0))
        assert (
            forum.topic_url(topic, old_pages + 1).replace("&", "&amp;") in listing
        )  # the row links the new last page


def test_deep_replies_land_on_page_three_or_later_of_topics_listed_on_page_two_or_later() -> None:
    with MovingForum(boards=2, topics=40, per_page=10, posts_per_page=5, seed=3) as forum:
        positions = {t: (b, i) for b in range(2) for i, t in enumerate(forum.order[b])}
        change = forum.advance(deep=4)
        assert len(change.deep) == 4
        for topic in change.deep:
            assert positions[topic][1] >= 10  # was on listing page 2+
        for advert in change.adverts:
            page = int(advert.url.split("start=")[1]) // 5 + 1 if "start=" in advert.url else 1
            assert page >= 3


def test_validators_answer_304_until_the_page_changes_and_requests_are_counted() -> None:
    with MovingForum(boards=1, topics=12, per_page=10, seed=4) as forum:
        first = forum.listing_url(0, 2)
        status, headers, _ = get(forum.url + first)
        etag, modified = headers["ETag"], headers["Last-Modified"]
        assert get(forum.url + first, {"If-None-Match": etag})[0] == 304
        assert get(forum.url + first, {"If-Modified-Since": modified})[0] == 304
        forum.advance(new_topics=1)  # shifts a topic from page 1 onto page 2
        assert get(forum.url + first, {"If-None-Match": etag})[0] == 200
        assert get(forum.url + first, {"If-Modified-Since": modified})[0] == 200
        stats = forum.stats()
        assert stats["by_kind"] == {"listing": 5}
        assert stats["conditional"] == {"listing": 4}
        assert stats["not_modified"] == {"listing": 2}
    with MovingForum(boards=1, topics=3, validators=False) as forum:
        status, headers, _ = get(forum.url + "/")
        assert status == 200
        assert "ETag" not in headers
        assert "Last-Modified" not in headers


def test_volatile_bytes_change_every_render_but_not_the_etag() -> None:
    with MovingForum(boards=1, topics=3, volatile=True) as forum:
        (_, h1, b1), (_, h2, b2) = get(forum.url + "/"), get(forum.url + "/")
        assert b1 != b2
        assert h1["ETag"] == h2["ETag"]
        assert get(forum.url + "/", {"If-None-Match": h1["ETag"]})[0] == 304


def test_feeds_and_sitemaps_are_advertised_and_list_the_new_posts() -> None:
    with MovingForum(boards=2, topics=10, feeds=True, seed=5) as forum:
        assert f"Sitemap: {forum.url}/sitemap.xml" in get(forum.url + "/robots.txt")[2]
        index = get(forum.url + "/")[2]
        assert 'type="application/atom+xml"' in index
        assert 'type="application/rss+xml"' in index
        change = forum.advance(new_topics=1, new_replies=2)
        ns = {"a": "http://www.w3.org/2005/Atom", "s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
        atom = ET.fromstring(get(forum.url + "/feed.atom")[2])
        links = [e.find("a:link", ns).get("href").split("#")[0] for e in atom.findall("a:entry", ns)]
        assert {forum.url + a.url for a in change.adverts} <= set(links[:3])
        rss = ET.fromstring(get(forum.url + "/feed.rss")[2])
        assert len(rss.findall("./channel/item")) == 50
        smi = ET.fromstring(get(forum.url + "/sitemap.xml")[2])
        maps = [m.findtext("s:loc", namespaces=ns) for m in smi.findall("s:sitemap", ns)]
        assert maps == [f"{forum.url}/sitemap-0.xml", f"{forum.url}/sitemap-1.xml"]
        listed = {}
        for m in maps:
            for u in ET.fromstring(get(m)[2]).findall("s:url", ns):
                listed[u.findtext("s:loc", namespaces=ns)] = u.findtext("s:lastmod", namespaces=ns)
        for advert in change.adverts:
            assert listed[forum.url + advert.url] == advert.appeared.isoformat()
        assert set(listed) >= {forum.url + u for u in forum.page_urls() if u != "/"}
    with MovingForum(boards=1, topics=3, feeds=False) as forum:
        assert "Sitemap:" not in get(forum.url + "/robots.txt")[2]
        assert get(forum.url + "/feed.atom")[0] == 404


def test_every_advert_is_on_its_page_with_its_time_and_a_big_forum_builds() -> None:
    with MovingForum(boards=2, topics=15, seed=6) as forum:
        adverts = forum.adverts()
        assert adverts
        assert {a.code for a in adverts} == forum.codes()
        pages = {u: get(forum.url + u)[2] for u in forum.page_urls()}
        assert {a.code for a in adverts} == {
            c for body in pages.values() for c in re.findall(r"t\.me/\+(LwMv\w+)", body)
        }
        assert all(f"t.me/+{a.code}" in pages[a.url] for a in adverts)
        assert forum.stats()["requests"] == len(pages)
        assert [forum.position(u) for u in pages] == list(range(len(pages)))  # fetched one by one, in order
        assert advert_code(7) == "LwMv0000007Adv"
    big = MovingForum.sized(10_000)
    assert 9_500 <= len(big.page_urls()) <= 10_500
    seventh = big.topics // 7
    change = big.advance(new_topics=50, new_replies=seventh, deep=50)
    assert len(change.deep) == 50
    assert len(change.replied) == 50 + seventh
    assert len(change.new_topics) == 50
    big.server.server_close()
