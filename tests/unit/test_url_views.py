"""Which URLs are account pages, and which name the same view (linkwatch.urlrules, ViewIndex)."""

from __future__ import annotations

import pytest

from linkwatch.scope import ViewIndex
from linkwatch.urlrules import account_words, is_account_page, permalink_number, post_numbers, view_url

DEFAULT = account_words(None)


@pytest.mark.parametrize(
    "url",
    [
        "http://f.test/login?next=%2Ftopic%2F5", "http://f.test/member/login/", "http://f.test/logout?sid=1",
        "http://f.test/register", "http://f.test/ucp.php?mode=register", "http://f.test/ucp.php?i=pm",
        "http://f.test/member.php?action=lostpw", "http://f.test/lost-password", "http://f.test/login.php",
        "http://f.test/posting.php?mode=reply&t=5", "http://f.test/threads/x.5/reply",
        "http://f.test/newthread.php?fid=2", "http://f.test/new-topic?board=1", "http://f.test/report/123",
        "http://f.test/pm/new?to=user1", "http://f.test/private.php?do=newpm",
        "http://f.test/index.php?action=post;topic=5", "http://f.test/conversations/add",
    ],
)
def test_account_and_posting_pages_are_recognised(url: str) -> None:
    assert is_account_page(url, DEFAULT)


@pytest.mark.parametrize(
    "url",
    [
        "http://f.test/topic/5-how-to-login-to-telegram", "http://f.test/post/123", "http://f.test/posts/123/",
        "http://f.test/board/free?page=2", "http://f.test/members?sort=name", "http://f.test/reports-and-news",
        "http://f.test/viewtopic.php?p=123", "http://f.test/",
    ],
)
def test_content_pages_are_not_account_pages(url: str) -> None:
    assert not is_account_page(url, DEFAULT)


def test_a_source_can_replace_or_clear_the_list() -> None:
    assert not is_account_page("http://f.test/report/2026", account_words(["login"]))
    assert is_account_page("http://f.test/login", account_words(["login"]))
    assert not is_account_page("http://f.test/login", account_words([]))


@pytest.mark.parametrize(
    ("url", "view"),
    [
        ("http://f.test/topic/5-title?page=1", "http://f.test/topic/5-title"),
        ("http://f.test/topic/5-title?page=2", "http://f.test/topic/5-title?page=2"),
        ("http://f.test/viewtopic.php?t=5&start=0", "http://f.test/viewtopic.php?t=5"),
        ("http://f.test/members?sort=name&order=desc&group=3", "http://f.test/members?group=3"),
        ("http://f.test/blog/page/1/", "http://f.test/blog/"),
        ("http://f.test/t/5#p12", "http://f.test/t/5"),
        ("http://f.test/viewtopic.php?p=1", "http://f.test/viewtopic.php?p=1"),  # p is a post here
    ],
)
def test_view_url_drops_first_page_markers_and_sorting(url: str, view: str) -> None:
    assert view_url(url) == view


def test_post_permalinks_and_ids() -> None:
    assert permalink_number("http://f.test/post/0123") == "123"
    assert permalink_number("http://f.test/showthread.php?t=5&pid=77") == "77"
    assert permalink_number("http://f.test/threads/slug.5/posts/9") == "9"
    assert permalink_number("http://f.test/topic/5-title?page=2") is None
    assert permalink_number("http://f.test/board?p=2") is None  # a bare `p` may be a page number
    ids = ["p123", "post-7", "js-post-8", "menu1", "comments"]
    assert post_numbers(ids, ["42"]) == {"123", "7", "8", "42"}


def test_view_index_knows_redirects_canonicals_and_slugs() -> None:
    views = ViewIndex()
    views.add_fetched("http://f.test/topic/5-title?page=1", ["http://f.test/post/501"])
    assert views.already_fetched("http://f.test/topic/5-title")
    assert views.already_fetched("http://f.test/post/501")
    assert not views.already_fetched("http://f.test/topic/5?page=1")  # not known to be the same yet
    # a slug-less URL whose page names its slugged canonical: this section ignores slugs
    views.add_fetched("http://f.test/topic/6?page=2", canonical_url="http://f.test/topic/6-other?page=2")
    assert views.already_fetched("http://f.test/topic/6-other?page=2")
    assert views.already_fetched("http://f.test/topic/5?page=1")  # learned for topic 5 too
    assert views.already_fetched("http://f.test/topic/5-renamed")
    assert not views.already_fetched("http://f.test/topic/5?page=2")
    assert not views.already_fetched("http://f.test/forum/5")  # another section
    # another host's canonical is not believed
    views.add_fetched("http://f.test/a", canonical_url="http://evil.test/b")
    assert not views.already_fetched("http://evil.test/b")
