"""The incremental crawl's decisions, without a crawler: modes, rows, pagers, revisits, state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from linkwatch.watch.plan import FULL, INCREMENTAL, Planner, UrlState, choose_mode, interval
from linkwatch.watch.rows import LinkInfo

NOW = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
BOARD = "http://f.test/board/1"


def _state(url: str, **kw: object) -> UrlState:
    values = {"fetch_url": url, "fetched_at": NOW - timedelta(minutes=5), "sha256": "a",
              "next_due": NOW + timedelta(hours=1)}
    values.update(kw)
    return UrlState(url=url, **values)


def test_modes() -> None:
    week = 7.0
    assert choose_mode(known_pages=0, forced_full=False, last_full=None, now=NOW, sweep_days=week)[0] == FULL
    recent = NOW - timedelta(days=1)
    assert choose_mode(known_pages=9, forced_full=False, last_full=recent, now=NOW, sweep_days=week) == \
        (INCREMENTAL, "incremental")
    assert choose_mode(known_pages=9, forced_full=True, last_full=recent, now=NOW, sweep_days=week)[0] == FULL
    old = NOW - timedelta(days=8)
    mode, why = choose_mode(known_pages=9, forced_full=False, last_full=old, now=NOW, sweep_days=week)
    assert (mode, why) == (FULL, "full sweep due (every 7 days)")
    # state but no finished full crawl (the first one was killed): full again
    assert choose_mode(known_pages=9, forced_full=False, last_full=None, now=NOW, sweep_days=week)[0] == FULL
    assert choose_mode(known_pages=9, forced_full=False, last_full=recent, now=NOW, sweep_days=0)[0] == FULL


def test_interval_doubles_up_to_the_ceiling() -> None:
    assert interval(0) == timedelta(hours=1)
    assert interval(3) == timedelta(hours=8)
    assert interval(50) == timedelta(days=7)


def test_a_changed_row_fetches_the_topics_last_page_an_unchanged_one_nothing() -> None:
    topic = "http://f.test/topic/7"
    planner = Planner(INCREMENTAL, {topic: _state(topic, kind="topic", signature="41 2026-12-07",
                                                  last_page=topic + "?page=3", last_page_no=3)}, NOW)
    same = LinkInfo("row", "41 2026-12-07")
    assert not planner.decide(topic, topic, same, page_changed=False, listing=True).fetch
    assert planner.skipped_unchanged() == 1
    changed = planner.decide(topic, topic, LinkInfo("row", "42 2026-12-07"), page_changed=True, listing=True)
    assert (changed.fetch, changed.reason, changed.url, changed.page_no) == (True, "changed",
                                                                            topic + "?page=3", 3)
    new = planner.decide("http://f.test/topic/99", "http://f.test/topic/99", LinkInfo("row", "0"),
                         page_changed=True, listing=True)
    assert (new.fetch, new.reason) == (True, "new")
    # a full crawl fetches everything, and sends no validators
    full = Planner(FULL, dict(planner.states), NOW)
    assert full.decide(topic, topic, same, page_changed=False, listing=True).fetch
    assert full.conditional_headers(topic) == {}


def test_a_listings_next_page_only_while_its_rows_change() -> None:
    topic, page2 = "http://f.test/topic/7", BOARD + "?page=2"
    observed = {"listing": BOARD, "listing_page": 1, "row": "", "position": 0}
    states = {topic: _state(topic, kind="topic", signature="4", observed=observed),
              page2: _state(page2, kind="listing", listing_page=2)}
    planner = Planner(INCREMENTAL, states, NOW)
    rows = {topic: (topic, LinkInfo("row", "4"))}
    assert not planner.page_changed(rows)
    nxt = LinkInfo("pager", next=True)
    assert not planner.decide(page2, page2, nxt, page_changed=False, listing=True).fetch
    assert planner.page_changed({topic: (topic, LinkInfo("row", "5"))})  # a new reply
    assert planner.decide(page2, page2, nxt, page_changed=True, listing=True).fetch
    # the last page's link on a changed page is not followed: paging goes one page at a time
    last = LinkInfo("pager", page_no=9)
    assert not planner.decide(page2, page2, last, page_changed=True, listing=True, next_page=False).fetch


def test_known_pages_are_revisited_when_due_and_listings_every_run() -> None:
    other, board = "http://f.test/faq", BOARD
    states = {other: _state(other), board: _state(board, kind="listing", listing_page=1),
              "http://f.test/old": _state("http://f.test/old", next_due=NOW - timedelta(seconds=1))}
    planner = Planner(INCREMENTAL, states, NOW)
    plain = LinkInfo("plain")
    assert not planner.decide(other, other, plain, page_changed=True, listing=True).fetch
    assert planner.decide("http://f.test/old", "http://f.test/old", plain, page_changed=False,
                          listing=False).reason == "due"
    assert planner.decide(board, board, plain, page_changed=False, listing=False).reason == "listing"
    assert [s.url for s in planner.listings()] == [board]


def test_state_learns_changes_validators_and_last_pages() -> None:
    topic = "http://f.test/topic/7"
    planner = Planner(INCREMENTAL, {topic: _state(topic, kind="topic", etag='"v1"', fetches=1)}, NOW)
    assert planner.conditional_headers(topic) == {"If-None-Match": '"v1"'}
    same = planner.fetched(topic, topic, sha256="a", etag='"v1"', last_modified=None, kind="other",
                           listing_page=None, at=NOW)
    assert (same.kind, same.unchanged_runs, same.changes, same.next_due) == ("topic", 1, 0,
                                                                            NOW + timedelta(hours=2))
    changed = planner.fetched(topic, topic, sha256="b", etag='"v2"', last_modified=None, kind="topic",
                              listing_page=None, at=NOW)
    assert (changed.unchanged_runs, changed.changes, changed.fetches) == (0, 1, 3)
    planner.topic_seen(topic, LinkInfo("row", "42", "Topic 42 replies", position=1), BOARD, 1,
                       topic + "?page=4", 4)
    state = planner.state(topic)
    assert (state.signature, state.last_page, state.last_page_no) == ("42", topic + "?page=4", 4)
    assert state.observed == {"row": "Topic 42 replies", "position": 1, "listing": BOARD, "listing_page": 1}
    planner.not_modified(topic, NOW)
    assert planner.state(topic).unchanged_runs == 1


def test_feed_entries_are_fetched_when_new_or_listed_with_a_newer_date() -> None:
    page = "http://f.test/topic/7?page=2"
    forum_clock = datetime(2026, 1, 1, tzinfo=UTC)  # the site's clock, not ours
    planner = Planner(INCREMENTAL, {page: _state(page, listed_at=forum_clock)}, NOW)
    assert not planner.from_feed(page, forum_clock)
    assert planner.from_feed(page, forum_clock + timedelta(seconds=1))
    assert planner.state(page).listed_at == forum_clock + timedelta(seconds=1)
    assert not planner.from_feed(page, None)  # no date: the boards say whether it changed
    new = "http://f.test/topic/99"
    assert planner.from_feed(new, forum_clock)
    made = planner.fetched(new, new, sha256="x", etag=None, last_modified=None, kind="other",
                           listing_page=None, at=NOW)
    assert made.listed_at == forum_clock
    # the first reading of a feed (a full crawl) only notes the dates of pages it knows
    full = Planner(FULL, {page: _state(page)}, NOW)
    assert not full.from_feed(page, forum_clock)
    assert full.state(page).listed_at == forum_clock


def test_a_topic_read_through_another_link_takes_its_rows_signature_when_read() -> None:
    topic = "http://f.test/topic/7"
    planner = Planner(FULL, {}, NOW)
    planner.fetched(topic, topic, sha256="a", etag=None, last_modified=None, kind="other",
                    listing_page=None, at=NOW)
    planner.row_later(topic, LinkInfo("row", "12 2026-12-07", "Topic 12", position=3), BOARD, 1)
    planner.row_read(topic, topic)
    state = planner.state(topic)
    assert (state.kind, state.signature, state.observed["position"]) == ("topic", "12 2026-12-07", 3)
    # never matched against its row: read once more when the row shows
    unmatched = Planner(INCREMENTAL, {topic: _state(topic, kind="topic")}, NOW)
    assert unmatched.decide(topic, topic, LinkInfo("row", "12"), page_changed=True, listing=True).fetch
