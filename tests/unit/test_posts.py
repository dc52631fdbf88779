"""linkwatch.posts: the post that carries each link, per engine, and the fallback key."""

from __future__ import annotations

import random

import pytest
from selectolax.lexbor import LexborHTMLParser

from linkwatch.extract import extract
from linkwatch.posts import carriers, fallback_key, found_links, post_prefix

URL = "http://forum.test/viewtopic.php?t=5"
AD = "join t.me/+FakePostCode1 now"


def _keys(html: str, url: str = URL) -> list[list[str]]:
    found = extract(html, base_url=url, content_type="text/html")
    assert found, "the fixture must advertise a link"
    return [[c.key for c in cs] for cs in carriers(LexborHTMLParser(html), url, found)]


@pytest.mark.parametrize(("engine", "html", "number"), [
    ("phpBB", f'<div id="p123" class="post"><div class="postbody"><div class="content">{AD}</div></div>'
     "</div>", "123"),
    ("vBulletin 4", f'<li id="post_123"><div id="post_message_123"><blockquote>{AD}</blockquote></div></li>',
     "123"),
    ("vBulletin 3", f'<table id="post123"><tr><td id="td_post_123"><div id="post_message_123">{AD}</div>'
     "</td></tr></table>", "123"),
    ("XenForo 2", f'<article class="message" id="js-post-123" data-content="post-123"><div class="bbWrapper">'
     f"{AD}</div></article>", "123"),
    ("XenForo 1", f'<li id="post-123" class="message"><blockquote class="messageText">{AD}</blockquote></li>',
     "123"),
    ("Discourse", f'<article id="post_2" data-post-id="123"><div class="cooked"><p>{AD}</p></div></article>',
     "123"),
    ("MyBB", f'<div class="post" id="post_123"><div class="post_body" id="pid_123">{AD}</div></div>', "123"),
    ("SMF", f'<div class="windowbg"><div class="post"><div class="inner" id="msg_123">{AD}</div></div></div>',
     "123"),
    ("Invision", f'<article id="elComment_123" data-commentid="123"><div data-role="commentContent">{AD}'
     "</div></article>", "123"),
    ("WordPress", f'<li id="comment-123" class="comment"><div class="comment-content"><p>{AD}</p></div></li>',
     "123"),
    ("Gnuboard", f'<article id="c_123"><div class="cmt_contents"><p>{AD}</p></div></article>', "123"),
])
def test_each_engine_post_is_found(engine: str, html: str, number: str) -> None:
    page = f"<html><body><h1>Topic</h1>{html}<footer>It is currently 4 pm</footer></body></html>"
    assert _keys(page) == [[f"post:forum.test/{number}"]], engine


def test_a_link_in_two_posts_has_two_carriers_with_their_own_context() -> None:
    html = ('<div id="p1" class="post">first post, join t.me/+FakePostCode1 for photos</div>'
            '<div id="p2" class="post">quoting nobody: again t.me/+FakePostCode1 for videos</div>'
            '<div id="p3" class="post">no link here</div>')
    found = extract(html, base_url=URL, content_type="text/html")
    assert len(found) == 1  # the extractor gives one link per page
    (posts,) = carriers(LexborHTMLParser(html), URL, found)
    assert [c.key for c in posts] == ["post:forum.test/1", "post:forum.test/2"]
    assert "photos" in posts[0].context
    assert "videos" in posts[1].context
    links = found_links(found, LexborHTMLParser(html), URL)
    assert [(link.post, link.code) for link in links] == [("post:forum.test/1", "FakePostCode1"),
                                                          ("post:forum.test/2", "FakePostCode1")]


def test_the_innermost_post_wins_and_its_outer_wrapper_does_not_count() -> None:
    html = ('<div id="post_9"><div id="post_message_9">outer text</div>'
            '<blockquote><div id="post-4">quoted: t.me/+FakePostCode1</div></blockquote></div>')
    assert _keys(html) == [["post:forum.test/4"]]


def test_a_link_outside_every_post_has_no_carrier_and_falls_back() -> None:
    html = ('<div id="p1" class="post">hello</div><div id="sidebar">banner t.me/+FakePostCode1 here</div>')
    assert _keys(html) == [[]]
    found = extract(html, base_url=URL, content_type="text/html")
    (link,) = found_links(found, LexborHTMLParser(html), URL)
    assert link.post == fallback_key(URL, link.context)
    assert link.post.startswith("page:http://forum.test/viewtopic.php?t=5#")
    # no tree at all (a plain-text page): the same fallback
    assert [link.post for link in found_links(found, None, URL)] == [link.post]


def test_per_topic_post_numbers_include_the_topic() -> None:
    assert post_prefix("https://discourse.test/t/some-topic/42/3") == "post:discourse.test/t42/"
    assert post_prefix("https://www.Forum.test:8443/viewtopic.php?p=1") == "post:forum.test:8443/"
    html = f'<div id="post_2" class="topic-body crawler-post"><div class="post">{AD}</div></div>'
    assert _keys(html, "https://discourse.test/t/some-topic/42") == [["post:discourse.test/t42/2"]]


def test_the_fallback_key_ignores_sessions_fragments_and_volatile_context() -> None:
    a = fallback_key("http://forum.test/view?id=5&sid=abc#top", "banner  t.me/+X  It is currently 4:47 pm")
    b = fallback_key("http://forum.test/view?id=5&sid=def", "banner t.me/+X It is currently 4:52 pm")
    assert a == b
    assert a != fallback_key("http://forum.test/view?id=5", "another banner t.me/+X")
    assert a != fallback_key("http://forum.test/view?id=6", "banner t.me/+X")


def test_hostile_markup_never_raises() -> None:
    rng = random.Random(16)
    junk = bytes(rng.randrange(256) for _ in range(50_000)).decode("latin-1")
    deep = "<div>" * 5_000 + AD + "</div>" * 10
    many = "".join(f'<div id="p{i}">x</div>' for i in range(6_000)) + f'<div id="p99999">{AD}</div>'
    broken = f'<div id="p1" <div id=p2 class="post">{AD}<div id="p3'
    for html in (junk + AD, deep, many, broken, f"<div id='p{'9' * 40}'>{AD}</div>", "\x00" * 1000 + AD):
        found = extract(html, base_url=URL, content_type="text/html")
        links = found_links(found, LexborHTMLParser(html), URL)
        assert all(link.post for link in links)
    assert carriers(LexborHTMLParser("<p>x</p>"), URL, []) == []


def test_a_short_code_alone_never_attributes_a_link_to_posts_that_only_use_the_word() -> None:
    html = ('<div id="p1" class="post">read the news here: https://t.me/newsroomfake</div>'
            '<div id="p2" class="post">newsroomfake is a word in this post</div>'
            '<div id="p3" class="post">again t.me/newsroomfake</div>')
    found = extract(html, base_url=URL, content_type="text/html")
    assert [[c.key for c in cs] for cs in carriers(LexborHTMLParser(html), URL, found)] == \
        [["post:forum.test/1", "post:forum.test/3"]] * len(found)
