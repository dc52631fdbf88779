"""linkwatch.volatile: what changes on every request leaves a page's version alone; posts never do."""

from __future__ import annotations

import hashlib
import random

import pytest

from linkwatch.volatile import MAX_BYTES, stable_body, version_digest
from tests.utils.phpbb import PhpbbBoard

POST = '<div id="p7" class="post"><div class="content">join t.me/+FakeVolCode1 today</div></div>'


def _page(volatile: str, post: str = POST) -> bytes:
    return f"<html><body>{post}{volatile}</body></html>".encode()


def test_two_renders_of_a_phpbb_page_are_one_version() -> None:
    board = PhpbbBoard()
    for path in ("/", "/viewforum.php?f=1", "/viewtopic.php?t=1", "/viewtopic.php?t=1&start=5",
                 "/viewonline.php"):
        a, b = board.page(path), board.page(path)
        assert a is not None
        assert b is not None
        assert a != b  # every render differs: sid, tokens, counter, clock
        assert version_digest(a.encode()) == version_digest(b.encode()), path


def test_a_new_post_is_a_new_version() -> None:
    board = PhpbbBoard()
    before = version_digest(board.page("/viewtopic.php?t=1&start=5").encode())
    board.add_post(1, "another reply")
    assert version_digest(board.page("/viewtopic.php?t=1&start=5").encode()) != before


@pytest.mark.parametrize(("one", "two"), [
    # phpBB
    ('<a href="./index.php?sid=0123abcd">x</a>', '<a href="./index.php?sid=ffff9999">x</a>'),
    ('<a href="./viewtopic.php?t=1&amp;sid=aa11&amp;start=5">2</a>',
     '<a href="./viewtopic.php?t=1&amp;sid=bb22&amp;start=5">2</a>'),
    ('<input type="hidden" name="form_token" value="abc" /><input type="hidden" name="creation_time" '
     'value="1765100000" />',
     '<input type="hidden" name="form_token" value="def" /><input type="hidden" name="creation_time" '
     'value="1765100042" />'),
    ("<p>It is currently Mon Dec 07, 2026 4:47 pm</p>", "<p>It is currently Mon Dec 07, 2026 4:52 pm</p>"),
    ("<p>In total there are 17 users online :: 2 registered, 0 hidden and 15 guests</p>",
     "<p>In total there are 212 users online :: 12 registered, 1 hidden and 199 guests</p>"),
    ("<div>Page generated in 0.0312 seconds</div>", "<div>Page generated in 0.1 seconds</div>"),
    # vBulletin
    ('<a href="showthread.php?s=0123456789abcdef0123456789abcdef&amp;t=5">t</a>',
     '<a href="showthread.php?s=fedcba9876543210fedcba9876543210&amp;t=5">t</a>'),
    ('<script>var SECURITYTOKEN = "1765100000-abcdef";</script>',
     '<script>var SECURITYTOKEN = "1765100042-123456";</script>'),
    ('All times are GMT. The time now is <span class="time">04:47 PM</span>.',
     'All times are GMT. The time now is <span class="time">04:52 PM</span>.'),
    ("<div>Currently Active Users: 123 (4 members and 119 guests)</div>",
     "<div>Currently Active Users: 99 (9 members and 90 guests)</div>"),
    # XenForo
    ('<html data-csrf="1765100000,abcdef"><input type="hidden" name="_xfToken" value="1765,abc">',
     '<html data-csrf="1765100042,123456"><input type="hidden" name="_xfToken" value="1766,def">'),
    ("<dd>Total: 123 (members: 4, guests: 119, robots: 2)</dd>", "<dd>Total: 7 (members: 1, guests: 6)</dd>"),
    # MyBB
    ('<script>var my_post_key = "0a1b2c";</script>', '<script>var my_post_key = "9f8e7d";</script>'),
    ("<span>12 users active in the past 15 minutes (2 members, 0 of whom are invisible, and 10 guests)."
     "</span>",
     "<span>3 users active in the past 15 minutes (1 member, 0 of whom are invisible, and 2 guests)."
     "</span>"),
    ("<div>Generated in 0.05 seconds (88.5% PHP / 11.5% MySQL)</div>",
     "<div>Generated in 0.2 seconds (80% PHP / 20% MySQL)</div>"),
    # SMF
    ("<p>Page created in 0.123 seconds with 17 queries.</p>",
     "<p>Page created in 0.2 seconds with 18 queries.</p>"),
    ("<p>12 Guests, 3 Users</p>", "<p>40 Guests, 1 User</p>"),
    ('<a href="index.php;sid=abc?topic=5">t</a>', '<a href="index.php;sid=def?topic=5">t</a>'),
    # Invision, Discourse, Laravel-style, CSP
    ('<script>ipsSettings = {"csrfKey": "abc123"}</script><li>23 users online</li>',
     '<script>ipsSettings = {"csrfKey": "def456"}</script><li>5 users online</li>'),
    ('<meta name="csrf-token" content="abcDEF">', '<meta name="csrf-token" content="xyzUVW">'),
    ('<script nonce="r4nd0m">x()</script>', '<script nonce="0th3r">x()</script>'),
    ('<a href="/login;jsessionid=ABC123">in</a>', '<a href="/login;jsessionid=DEF456">in</a>'),
    # Korean boards
    ("<p>현재 접속자 12명</p>", "<p>현재 접속자 310명</p>"),
    ("<p>현재 시각 2026-12-07 16:47:01</p>", "<p>현재 시각 2026-12-07 16:52:33</p>"),
    ("<p>접속자 <b>42</b> 명</p>", "<p>접속자 <b>7</b> 명</p>"),
])
def test_volatile_parts_of_common_engines_do_not_make_a_version(one: str, two: str) -> None:
    assert version_digest(_page(one)) == version_digest(_page(two))


def test_korean_counters_in_euc_kr_pages() -> None:
    one = "<p>현재 접속자 12명</p><div id='c_5'>글 내용</div>".encode("cp949")
    two = "<p>현재 접속자 310명</p><div id='c_5'>글 내용</div>".encode("cp949")
    assert version_digest(one) == version_digest(two)


@pytest.mark.parametrize("post", [
    POST.replace("today", "tomorrow"),
    POST.replace("FakeVolCode1", "FakeVolCode2"),
    POST.replace("join", "I run 3 groups, join"),
    POST + '<div id="p8" class="post">a new reply</div>',
    POST.replace('id="p7"', 'id="p9"'),
])
def test_any_change_to_a_post_is_a_new_version(post: str) -> None:
    volatile = "<p>It is currently 4:47 pm</p>"
    assert version_digest(_page(volatile)) != version_digest(_page(volatile, post))


def test_post_text_is_kept_and_real_links_keep_their_other_parameters() -> None:
    body = _page('<a href="viewtopic.php?t=5&amp;sid=abc&amp;start=10">p</a>'
                 '<input type="text" name="username" value="visitor">')
    out = stable_body(body)
    assert b"join t.me/+FakeVolCode1 today" in out
    assert b"t=5&amp;sid=&amp;start=10" in out
    assert b'value="visitor"' in out  # not a token input


def test_hostile_input_never_raises() -> None:
    rng = random.Random(16)
    junk = bytes(rng.randrange(256) for _ in range(200_000))
    cases = [
        b"", junk, b"<input name='form_token' value='" * 20_000, b"<!--" * 50_000, b"<" * 300_000,
        b"sid=" * 100_000, "현재 접속자 ".encode() * 30_000, b"<meta " + b"a" * 100_000,
        b"It is currently " * 50_000, b"\x00\xff" * 100_000,
    ]
    for body in cases:
        assert len(version_digest(body)) == 64
    assert version_digest(None) == hashlib.sha256(b"").hexdigest()
    assert version_digest("text <p>It is currently 4 pm</p>") == version_digest(b"text <p></p>")


def test_a_huge_body_is_hashed_as_fetched() -> None:
    body = b"<p>It is currently 4:47 pm</p>" + b"x" * MAX_BYTES
    assert version_digest(body) == hashlib.sha256(body).hexdigest()
