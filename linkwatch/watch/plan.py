"""The incremental crawl's decisions: full or incremental, which link is fetched, when a page is revisited."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from linkwatch.watch.rows import LinkInfo

FULL = "full"
INCREMENTAL = "incremental"
DEFAULT_MIN_INTERVAL = timedelta(hours=1)
DEFAULT_MAX_INTERVAL = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class UrlState:
    """What a page of a source looked like when last fetched, and how its parent listing showed it."""

    url: str  # the frontier key
    fetch_url: str
    fetched_at: datetime
    kind: str = "other"  # listing | topic | other
    listing_page: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    sha256: str | None = None
    fetches: int = 0
    changes: int = 0
    unchanged_runs: int = 0
    next_due: datetime | None = None
    signature: str | None = None
    observed: dict[str, Any] | None = None
    last_page: str | None = None
    last_page_no: int | None = None
    listed_at: datetime | None = None  # the date a feed or sitemap last gave for the page


@dataclass(frozen=True, slots=True)
class Decision:
    """Fetch `url` (maybe not the link itself: a changed topic's last page) or skip, and why."""

    fetch: bool
    reason: str  # new | changed | due | listing | pager | full | unchanged
    url: str | None = None
    page_no: int | None = None
    conditional: bool = False


def choose_mode(*, known_pages: int, forced_full: bool, last_full: datetime | None, now: datetime,
                sweep_days: float) -> tuple[str, str]:
    """Full or incremental, and why: the first crawl of a source, --full and the periodic sweep are full."""
    if forced_full:
        return FULL, "--full"
    if known_pages == 0 or last_full is None:
        return FULL, "first crawl"
    if now - last_full >= timedelta(days=sweep_days):
        return FULL, f"full sweep due (every {sweep_days:g} days)"
    return INCREMENTAL, "incremental"


def interval(unchanged_runs: int, low: timedelta = DEFAULT_MIN_INTERVAL,
             high: timedelta = DEFAULT_MAX_INTERVAL) -> timedelta:
    """How long a page waits before it is revisited without a sign of change: doubled for every fetch
    that found it unchanged, from `low` up to `high`."""
    return min(high, low * (2 ** min(unchanged_runs, 30)))


def row_changed(state: UrlState | None, info: LinkInfo) -> bool:
    """Whether a row's topic is new or its listing entry changed (a signature compared, not raw text)."""
    if state is None:
        return True
    if not info.signature:
        return False  # the row shows no numbers or dates: nothing to compare; revisited when due
    # No signature stored: the topic was read without its row (a sitemap, a "recent topics" box
    # reached it first) and never matched against it; read it once more.
    return state.signature != info.signature


@dataclass
class Planner:
    """Decides, page by page, what an incremental crawl fetches; collects each page's new state.

    Built once per crawl from the source's url_state rows (read at the start, in memory). In a full
    crawl every link is followed; the planner still records what it saw for the next crawl.
    """

    mode: str
    states: dict[str, UrlState]
    now: datetime
    low: timedelta = DEFAULT_MIN_INTERVAL
    high: timedelta = DEFAULT_MAX_INTERVAL
    updates: dict[str, UrlState] = field(default_factory=dict)
    skipped: set[str] = field(default_factory=set)
    fetched_keys: set[str] = field(default_factory=set)
    listed: dict[str, datetime] = field(default_factory=dict)  # feed dates of pages not yet known
    # Rows of topics this crawl requests through another link: applied once the topic is read.
    rows: dict[str, tuple[LinkInfo, str, int | None]] = field(default_factory=dict)
    # The last page each page's pager names (when past the page itself): a topic's last page.
    pagers: dict[str, tuple[int, str]] = field(default_factory=dict)

    @property
    def incremental(self) -> bool:
        return self.mode == INCREMENTAL

    def state(self, key: str) -> UrlState | None:
        return self.updates.get(key) or self.states.get(key)

    def skipped_unchanged(self) -> int:
        """Pages known and left alone in this crawl (their listing row, or their age, said unchanged)."""
        return len(self.skipped - self.fetched_keys)

    def feeds(self) -> list[UrlState]:
        """The feeds and sitemaps the source offers: read at the start of every incremental run."""
        return [s for s in self.states.values() if s.kind in ("feed", "sitemap")]

    def from_feed(self, key: str, updated: datetime | None) -> bool:
        """Whether a page (or child sitemap) a feed or sitemap lists is fetched: when it is new, or the
        date it is listed with is newer than the one listed last time (the site's clock against
        itself, never against ours). Its date is kept either way."""
        state = self.state(key)
        if state is None:
            if updated is not None:
                self.listed[key] = updated
            return True
        before = state.listed_at
        if updated is not None and updated != before:
            self.updates[key] = replace(state, listed_at=updated)
        return self.incremental and updated is not None and before is not None and updated > before

    def listings(self) -> list[UrlState]:
        """The first pages of the listings known (boards, indexes): fetched at the start of every run."""
        return [s for s in self.states.values() if s.kind == "listing" and (s.listing_page or 1) <= 1]

    def due(self, state: UrlState) -> bool:
        return state.next_due is None or state.next_due <= self.now

    def page_changed(self, links: dict[str, tuple[str, LinkInfo]]) -> bool:
        """Whether any row of a listing page is new or changed: then its next page is read too. A row
        that only moved (new topics pushed it down a page) is no change: where it is shown is kept
        (UrlState.observed), but a page of moved rows ends the paging."""
        return any(info.role == "row" and row_changed(self.state(key), info) for key, info in links.values())

    def decide(self, key: str, url: str, info: LinkInfo, *, page_changed: bool, listing: bool,
               next_page: bool = True) -> Decision:
        """Whether the link `url` (frontier key `key`) seen on a page is fetched in this crawl.

        `page_changed`: a row of the page is new or changed (a listing), or the page is a changed
        topic's tail; `listing`: the page is a listing; `next_page`: the link is its pager's next page
        (only that one is read after a changed page).
        """
        state = self.state(key)
        if not self.incremental:
            return Decision(True, FULL, url)
        if state is None:
            return Decision(True, "new", url)
        if info.role == "row" and info.signature:
            if row_changed(state, info):
                tail = state.last_page or state.fetch_url
                # Asked for whole: the row says it changed, and its pager leads on to any pages after it.
                return Decision(True, "changed", tail, page_no=state.last_page_no)
            # The row says the topic is as it was: that is the evidence; only a very old copy is renewed.
            if self.now - state.fetched_at >= self.high:
                return Decision(True, "due", url, conditional=True)
            self.skipped.add(key)
            return Decision(False, "unchanged", url)
        if state.kind == "listing" and (state.listing_page or 1) <= 1:
            return Decision(True, "listing", url, conditional=True)
        if info.role == "pager" and page_changed and next_page:
            # The next page of a listing with changed rows, or of a changed topic read from its last
            # known page on (replies are appended: every page after it may be new or changed).
            return Decision(True, "pager", url, page_no=info.page_no, conditional=listing)
        return self._unless_due(key, state, url)

    def _unless_due(self, key: str, state: UrlState, url: str) -> Decision:
        if self.due(state):
            return Decision(True, "due", url, conditional=True)
        self.skipped.add(key)
        return Decision(False, "unchanged", url)

    def conditional_headers(self, key: str) -> dict[str, str]:
        """If-None-Match / If-Modified-Since from the validators the site gave (incremental crawls only)."""
        state = self.states.get(key)
        if not self.incremental or state is None:
            return {}
        headers = {}
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        return headers

    # -- what was seen -----------------------------------------------------------------------------

    def fetched(self, key: str, url: str, *, sha256: str, etag: str | None, last_modified: str | None,
                kind: str, listing_page: int | None, at: datetime) -> UrlState:
        """A page answered 200: its new state (changed when its body's hash differs)."""
        old = self.state(key)
        changed = old is None or old.sha256 != sha256
        unchanged_runs = 0 if changed else old.unchanged_runs + 1
        if old is None:
            new = UrlState(url=key, fetch_url=url, fetched_at=at, listed_at=self.listed.get(key))
        else:
            new = replace(old, fetch_url=url, fetched_at=at)
        if old is not None and old.kind == "topic" and kind == "other":
            kind = "topic"  # a topic stays one when it is fetched without its listing's context
        new = replace(
            new, kind=kind, listing_page=listing_page if listing_page is not None else new.listing_page,
            etag=etag, last_modified=last_modified, sha256=sha256, fetches=new.fetches + 1,
            changes=new.changes + (1 if changed and old is not None else 0), unchanged_runs=unchanged_runs,
            next_due=at + interval(unchanged_runs, self.low, self.high),
        )
        self.updates[key] = new
        self.fetched_keys.add(key)
        return new

    def not_modified(self, key: str, at: datetime) -> None:
        """A conditional GET answered 304: unchanged, fetched now, revisited later than before."""
        old = self.state(key)
        if old is None:
            return
        runs = old.unchanged_runs + 1
        self.fetched_keys.add(key)
        self.updates[key] = replace(old, fetched_at=at, fetches=old.fetches + 1, unchanged_runs=runs,
                                    next_due=at + interval(runs, self.low, self.high))

    def seen_in_row(self, key: str, info: LinkInfo, listing: str, listing_page: int | None) -> None:
        """A known topic's row seen unchanged: its place in the listing is kept (a move is not a change)."""
        old = self.state(key)
        if old is None:
            return
        observed = _observed(info, listing, listing_page)
        if old.observed != observed:
            self.updates[key] = replace(old, observed=observed)

    def row_later(self, key: str, info: LinkInfo, listing: str, listing_page: int | None) -> None:
        """A topic's row seen while the topic is already on its way through another link: the row's
        signature is kept for when the topic page is read (row_read)."""
        self.rows.setdefault(key, (info, listing, listing_page))

    def row_read(self, key: str, url: str) -> None:
        """The topic page `key` was read: a row kept for it by row_later() is now its signature."""
        row = self.rows.pop(key, None)
        if row is not None:
            self.topic_seen(key, row[0], row[1], row[2], url, None)
            last = self.pagers.get(key)
            if last is not None:
                self.topic_seen(key, None, None, None, last[1], last[0])

    def topic_seen(self, topic: str, info: LinkInfo | None, listing: str | None, listing_page: int | None,
                   page_url: str, page_no: int | None) -> None:
        """A page of topic `topic` was fetched: the topic's row signature (from its listing) is now
        what was read, and its last page is remembered for the next change."""
        old = self.state(topic)
        if old is None:
            return
        new = old
        if info is not None and listing is not None:
            new = replace(new, kind="topic" if new.kind == "other" else new.kind, signature=info.signature,
                          observed=_observed(info, listing, listing_page))
        if page_no is not None and (new.last_page_no is None or page_no >= new.last_page_no):
            new = replace(new, last_page=page_url, last_page_no=page_no)
        elif new.last_page is None:
            new = replace(new, last_page=page_url, last_page_no=page_no or 1)
        self.updates[topic] = new


def _observed(info: LinkInfo, listing: str, listing_page: int | None) -> dict[str, Any]:
    return {"row": info.raw, "position": info.position, "listing": listing, "listing_page": listing_page}
