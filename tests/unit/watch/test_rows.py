"""Listing structure read generically: a topic's row, its signature, pager links."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser

from linkwatch.watch.rows import is_listing, read_links, signature_of

BASE = "http://forum.test/board/1"

TABLE_BOARD = """<html><body>
<nav><a href="/">Home</a> <a href="/board/1?page=2" rel="next">Next</a> <a href="/board/1?page=3">3</a></nav>
<table>
<tr><th>Topic</th><th>Replies</th><th>Last post</th></tr>
<tr><td><a href="/topic/7">Topic 7 of 2026</a>
        <a href="/topic/7?page=2">2</a> <a href="/topic/7?page=3">3</a></td>
    <td>41</td><td>2026-12-07 16:40 by <a href="/member/3">Kim 9</a></td></tr>
<tr><td><a href="/topic/8">Another topic</a></td><td>3</td><td>2026-12-06 10:00</td></tr>
<tr><td><a href="/topic/9">Quiet one</a></td><td>0</td><td>2026-11-30 08:15</td></tr>
</table></body></html>"""


def test_a_row_signature_is_its_numbers_and_dates_outside_the_topic_title() -> None:
    links = read_links(LexborHTMLParser(TABLE_BOARD), BASE, BASE)
    row = links["http://forum.test/topic/7"]
    assert row.role == "row"
    # "2026" in the title is not part of it; the mini-pager numbers and the poster's name are
    assert row.signature == "2 3 41 2026-12-07 16:40 9"
    assert row.position == 0
    assert "Topic 7 of 2026" in row.raw
    assert links["http://forum.test/topic/9"].signature == "0 2026-11-30 08:15"
    assert is_listing(links)


def test_pager_links_of_the_page_and_of_a_row() -> None:
    links = read_links(LexborHTMLParser(TABLE_BOARD), BASE, BASE)
    nxt = links["http://forum.test/board/1?page=2"]
    assert (nxt.role, nxt.next) == ("pager", True)
    assert links["http://forum.test/board/1?page=3"].page_no == 3
    mini = links["http://forum.test/topic/7?page=3"]
    assert (mini.role, mini.topic, mini.page_no) == ("row_pager", "http://forum.test/topic/7", 3)
    assert links["http://forum.test/"].role == "plain"


def test_a_list_of_links_without_numbers_has_empty_signatures_and_a_topic_page_is_no_listing() -> None:
    board = "<ul>" + "".join(f'<li><a href="/t/{n}">thread</a></li>' for n in range(4)) + "</ul>"
    links = read_links(LexborHTMLParser(board), BASE, BASE)
    assert {info.signature for info in links.values()} == {""}
    assert is_listing(links)
    topic = '<div class="post"><p>hello</p><a href="/board/1">back</a><a href="/t/1?page=2">next</a></div>'
    assert not is_listing(read_links(LexborHTMLParser(topic), BASE, "http://forum.test/t/1"))


def test_signature_of_reads_counts_dates_and_times() -> None:
    assert signature_of("Replies: 1,204 · Views 88 · 07.12.2026 16:40") == "1 204 88 07.12.2026 16:40"
    assert signature_of("no numbers here") == ""
