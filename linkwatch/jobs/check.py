"""Liveness checks: picks due links, reads each public preview (rate-limited, with backoff) and records it."""

from __future__ import annotations

import asyncio
import email.utils
import errno
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import httpx
import psycopg

from linkwatch.config import Config
from linkwatch.db.sql import query
from linkwatch.media import SNIFF_BYTES, media_kind
from linkwatch.previews import Bases, Preview, Target, parse_response, target_for
from linkwatch.previews.policy import Policy
from linkwatch.previews.preview import UNKNOWN, clean_text
from linkwatch.previews.targets import NO_PREVIEW

MAX_BODY = 512 * 1024
LEASE_SECONDS = 600  # a claimed link is not handed to another checker for this long
MEDIA_PREFIXES = ("image/", "video/", "audio/", "font/")
MAX_REDIRECTS = 3




@dataclass(frozen=True)
class LinkRow:
    """A link to check, as read from the database."""

    id: int
    platform: str
    kind: str
    code: str
    canonical_url: str
    liveness: str


@dataclass(frozen=True)
class CheckSettings:
    """Everything a check run needs from Config, in one place."""

    bases: Bases = field(default_factory=Bases)
    policy: Policy = field(default_factory=Policy)
    concurrency: int = 8
    rate: float = 1.0              # requests/s per platform; 0 = unlimited
    timeout: float = 20.0
    attempts: int = 3              # tries per link on 429 / 5xx / network errors
    max_retry_wait: float = 60.0   # Retry-After longer than this is cut to it
    backoff_base: float = 1.0      # wait before retry n (without Retry-After): base * 2**(n-1)
    user_agent: str = "linkwatch"

    @classmethod
    def from_config(cls, config: Config, **overrides: object) -> CheckSettings:
        """Settings from Config (LINKWATCH_CHECK_*, platform base URLs), with explicit overrides."""
        values: dict[str, object] = {
            "bases": Bases.from_config(config),
            "policy": Policy(config.check_live_hours, config.check_dead_hours, config.check_unknown_minutes),
            "concurrency": config.check_concurrency,
            "rate": config.check_rate,
            "timeout": config.check_timeout,
            "user_agent": config.user_agent,
        }
        values.update(overrides)
        return cls(**values)


@dataclass
class CheckOutcome:
    """One finished check, as reported to the caller's progress callback."""

    link: LinkRow
    preview: Preview
    next_check_at: datetime | None


@dataclass
class Summary:
    """Counts of a check run."""

    results: Counter = field(default_factory=Counter)
    requests: int = 0
    elapsed: float = 0.0
    unreachable: dict[str, str] = field(default_factory=dict)  # host -> why, for hosts never reached
    not_checked: Counter = field(default_factory=Counter)  # host -> links left unchecked (and unrecorded)

    @property
    def checked(self) -> int:
        return sum(self.results.values())


# --- selecting links -------------------------------------------------------------------------



def links_by_ref(conn: psycopg.Connection, refs: Iterable[str]) -> list[LinkRow]:
    """The links named by id, canonical URL or code (linkwatch.db.links.find_links: one error naming
    every ref that matches nothing)."""
    from linkwatch.db.links import find_links

    ids = find_links(conn, list(refs))
    return [LinkRow(*r[:6]) for r in conn.execute(query("liveness", "by_ids"), {"ids": ids}).fetchall()]


# --- fetching --------------------------------------------------------------------------------


class PlatformLimiter:
    """Spaces request starts to `rate` per second for one platform and pauses it after a 429/5xx."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next_at = 0.0
        self.paused_until = 0.0
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self.lock:
            now = time.monotonic()
            start = max(now, self.next_at, self.paused_until)
            self.next_at = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, time.monotonic() + seconds)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), or None when absent/garbled."""
    if not value:
        return None
    value = value.strip()[:64]
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


class HostUnreachableError(Exception):
    """Raised by Fetcher.check() for a preview host that refused or never answered every connection
    this run: the link is left unchecked (not recorded as unknown) and its host reported once."""

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"{host}: {reason}")
        self.host, self.reason = host, reason


def connect_failure(exc: BaseException) -> str | None:
    """Why a connection could not be made (refused, unknown host, timed out), or None when the error
    came after connecting (a reset, a slow body): only the first says the host is unreachable."""
    if isinstance(exc, httpx.ConnectTimeout):
        return "connection timed out"
    if not isinstance(exc, httpx.ConnectError):
        return None
    # The cause is a few links down the chain (httpx → httpcore → anyio's "All connection attempts
    # failed" → the socket's own error).
    cause: BaseException | None = exc
    for _ in range(6):
        if cause is None:
            break
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "host name not found"
        if isinstance(cause, TimeoutError):
            return "connection timed out"
        if isinstance(cause, OSError) and cause.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "network unreachable"
        cause = cause.__cause__ or cause.__context__
    return "cannot connect"


class Fetcher:
    """Reads previews over one HTTP client; never follows redirects, never reads media bodies."""

    def __init__(self, settings: CheckSettings, client: httpx.AsyncClient) -> None:
        self.settings = settings
        self.client = client
        self.limiters: dict[str, PlatformLimiter] = {}
        self.requests = 0
        # A host that answered once is reachable; one that refused every attempt of a link and never
        # answered is not, and its other links are not tried (offline machine, blocked platform).
        self.answered: set[str] = set()
        self.unreachable: dict[str, str] = {}

    def limiter(self, platform: str) -> PlatformLimiter:
        if platform not in self.limiters:
            self.limiters[platform] = PlatformLimiter(self.settings.rate)
        return self.limiters[platform]

    async def _get(self, url: str, target: Target) -> tuple[int, str, httpx.Headers]:
        accept = "application/json" if target.json else "text/html,application/xhtml+xml"
        self.requests += 1
        async with self.client.stream("GET", url, headers={"Accept": accept}) as resp:
            self.answered.add(urlsplit(url).hostname or "")
            ctype = resp.headers.get("content-type", "").lower()
            if ctype.startswith(MEDIA_PREFIXES) or 300 <= resp.status_code < 400:
                return resp.status_code, "", resp.headers  # media refused, redirect: body never read
            chunks: list[bytes] = []
            size = 0
            judged = False
            async for chunk in resp.aiter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if not judged and size >= SNIFF_BYTES:
                    judged = True
                    _refuse_media(resp.status_code, b"".join(chunks))  # stops at the first bytes
                if size >= MAX_BODY:
                    break
            body = b"".join(chunks)[:MAX_BODY]
            if not judged:
                _refuse_media(resp.status_code, body)
            encoding = resp.charset_encoding or "utf-8"
            try:
                text = body.decode(encoding, errors="replace")
            except LookupError:
                text = body.decode("utf-8", errors="replace")
            return resp.status_code, text, resp.headers

    async def _fetch(self, target: Target) -> tuple[int, str, httpx.Headers]:
        """GET with a whole-request deadline, following at most MAX_REDIRECTS redirects on the same host."""
        url = target.url
        host = urlsplit(url).hostname
        async with asyncio.timeout(self.settings.timeout):  # also bounds a body that drips slowly
            for _ in range(MAX_REDIRECTS + 1):
                status, body, headers = await self._get(url, target)
                location = headers.get("location")
                if not (300 <= status < 400 and location):
                    return status, body, headers
                nxt = urljoin(url, location.strip()[:2000])
                parts = urlsplit(nxt)
                if parts.scheme not in ("http", "https") or parts.hostname != host:
                    raise OffSiteRedirectError(status, nxt)
                url = nxt
        raise OffSiteRedirectError(status, url, "too many redirects")

    async def check(self, target: Target) -> Preview:
        """The preview for target, retrying 429/5xx/network errors with bounded backoff."""
        s = self.settings
        preview = Preview(UNKNOWN, detail="not attempted")
        limiter = self.limiter(target.platform)
        host = urlsplit(target.url).hostname or ""
        refused = None
        for attempt in range(1, s.attempts + 1):
            if host in self.unreachable and host not in self.answered:
                raise HostUnreachableError(host, self.unreachable[host])
            await limiter.wait()
            try:
                status, body, headers = await self._fetch(target)
            except OffSiteRedirectError as exc:
                where = clean_text(exc.url, 120)
                return Preview(UNKNOWN, detail=f"{exc.why} (HTTP {exc.status}) to {where}",
                               http_status=exc.status)
            except MediaBodyError as exc:
                return Preview(UNKNOWN, detail=f"media response refused ({exc.kind} by its first bytes)",
                               http_status=exc.status)
            except (httpx.HTTPError, TimeoutError) as exc:
                name = "timeout" if isinstance(exc, TimeoutError) else type(exc).__name__
                preview = Preview(UNKNOWN, detail=clean_text(f"network error: {name}"))
                wait = s.backoff_base * 2 ** (attempt - 1)
                refused = connect_failure(exc)
            else:
                ctype = headers.get("content-type", "").lower()
                if ctype.startswith(MEDIA_PREFIXES):
                    return Preview(UNKNOWN, detail=f"media response refused ({clean_text(ctype, 60)})",
                                   http_status=status)
                preview = parse_response(target, status, body)
                if status != 429 and status < 500:
                    return preview
                wait = retry_after_seconds(headers.get("retry-after"))
                if wait is None:
                    wait = s.backoff_base * 2 ** (attempt - 1)
                refused = None  # the host answered (a 429 or 5xx): reachable
            wait = min(wait, s.max_retry_wait)
            if attempt < s.attempts:
                limiter.pause(wait)
        if refused and host not in self.answered:
            self.unreachable.setdefault(host, refused)
            raise HostUnreachableError(host, self.unreachable[host])
        return preview


class MediaBodyError(Exception):
    """Raised inside Fetcher when a body starts like a picture, video, sound or font, whatever its label."""

    def __init__(self, status: int, kind: str) -> None:
        super().__init__(kind)
        self.status, self.kind = status, kind


def _refuse_media(status: int, head: bytes) -> None:
    kind = media_kind(head[:SNIFF_BYTES])
    if kind is not None:
        raise MediaBodyError(status, kind)


class OffSiteRedirectError(Exception):
    """Raised inside Fetcher when a preview redirects to another host (or loops): never followed."""

    def __init__(self, status: int, url: str, why: str = "redirected off-site") -> None:
        super().__init__(why)
        self.status, self.url, self.why = status, url, why


# --- recording -------------------------------------------------------------------------------


class Recorder:
    """Writes checks to link_checks and the links in small batches (one transaction per batch).

    A batch is written when it holds `batch` checks or `max_delay` seconds after its first one, so a
    rate-limited run still records as it goes; a crash loses at most one batch, whose links are
    simply due again when their lease expires.
    """

    def __init__(self, conn: psycopg.AsyncConnection, policy: Policy, batch: int = 50,
                 max_delay: float = 1.0) -> None:
        self.conn = conn
        self.policy = policy
        self.batch = batch
        self.max_delay = max_delay
        self.pending: list[dict[str, object]] = []
        self.first_pending = 0.0
        self.lock = asyncio.Lock()

    async def record(self, link: LinkRow, preview: Preview, has_preview: bool) -> datetime | None:
        """Queues one check; returns the link's next due time."""
        now = datetime.now(UTC)
        streak = 1
        if preview.result == UNKNOWN and has_preview:
            async with self.lock:
                cur = await self.conn.execute(query("liveness", "unknown_streak"), {"link_id": link.id})
                streak = (await cur.fetchone())[0] + 1
        next_at = self.policy.next_check(preview.result, now, unknown_streak=streak,
                                         has_preview=has_preview)
        if not self.pending:
            self.first_pending = time.monotonic()
        self.pending.append({
            "link_id": link.id,
            "checked_at": now,
            "result": preview.result,
            "http_status": preview.http_status,
            "title": preview.title,
            "description": preview.description,
            "member_count": preview.member_count,
            "detail": clean_text(preview.detail, 300),
            "next_check_at": next_at,
        })
        if len(self.pending) >= self.batch or time.monotonic() - self.first_pending >= self.max_delay:
            await self.flush()
        return next_at

    async def flush(self) -> None:
        """Writes every queued check in one transaction."""
        async with self.lock:
            if not self.pending:
                return
            rows, self.pending = self.pending, []
            async with self.conn.cursor() as cur:
                await cur.executemany(query("liveness", "record"), rows)
            await self.conn.commit()


@dataclass(frozen=True)
class DueSpec:
    """`check --due`: claim due links in chunks while checking, so each lease stays short."""

    platform: str | None = None
    limit: int | None = None
    chunk: int = 100


async def claim(conn: psycopg.AsyncConnection, spec: DueSpec, n: int) -> list[LinkRow]:
    """Up to n due links (unchecked first), leased so a concurrent checker skips them; commits the lease."""
    params = {"platform": spec.platform, "limit": n, "lease_seconds": LEASE_SECONDS}
    cur = await conn.execute(query("liveness", "claim_due"), params)
    rows = await cur.fetchall()
    await conn.commit()
    rows.sort(key=lambda r: (r[5] != "unchecked", r[6], r[0]))
    return [LinkRow(*r[:6]) for r in rows]


async def check_links(
    database_url: str,
    links: list[LinkRow],
    settings: CheckSettings,
    on_result: Callable[[CheckOutcome], None] | None = None,
    due: DueSpec | None = None,
) -> Summary:
    """Checks links (and, with `due`, every due link) with bounded concurrency; records each result."""
    summary = Summary()
    started = time.monotonic()
    queue: asyncio.Queue[LinkRow] = asyncio.Queue()
    for link in links:
        queue.put_nowait(link)
    limits = httpx.Limits(max_connections=max(1, settings.concurrency), max_keepalive_connections=20)
    async with (
        await psycopg.AsyncConnection.connect(database_url) as conn,
        httpx.AsyncClient(
            timeout=settings.timeout,
            limits=limits,
            follow_redirects=False,
            headers={"User-Agent": settings.user_agent},
            trust_env=False,
        ) as client,
    ):
        fetcher = Fetcher(settings, client)
        recorder = Recorder(conn, settings.policy)
        claim_lock = asyncio.Lock()
        state = {"remaining": due.limit if due else 0, "exhausted": due is None}

        async def next_link() -> LinkRow | None:
            while True:
                try:
                    return queue.get_nowait()
                except asyncio.QueueEmpty:
                    if state["exhausted"]:
                        return None
                async with claim_lock:
                    if not queue.empty() or state["exhausted"]:
                        continue
                    n = due.chunk if due.limit is None else min(due.chunk, state["remaining"])
                    rows = []
                    if n > 0:
                        async with recorder.lock:
                            rows = await claim(conn, due, n)
                    if not rows:
                        state["exhausted"] = True
                    if due.limit is not None:
                        state["remaining"] -= len(rows)
                    for row in rows:
                        queue.put_nowait(row)

        async def worker() -> None:
            while (link := await next_link()) is not None:
                target = target_for(link.platform, link.kind, link.code, settings.bases)
                if target is None:
                    preview = Preview(UNKNOWN, detail=NO_PREVIEW)
                else:
                    try:
                        preview = await fetcher.check(target)
                    except HostUnreachableError as exc:
                        # Our network, not the link: nothing to record; the link stays due.
                        summary.not_checked[exc.host] += 1
                        continue
                    except Exception as exc:  # a hostile answer must cost one check, not the run
                        preview = Preview(UNKNOWN, detail=f"checker error: {type(exc).__name__}")
                next_at = await recorder.record(link, preview, target is not None)
                summary.results[preview.result] += 1
                if on_result is not None:
                    on_result(CheckOutcome(link, preview, next_at))

        try:
            await asyncio.gather(*(worker() for _ in range(max(1, settings.concurrency))))
        finally:
            await recorder.flush()
        summary.requests = fetcher.requests
        summary.unreachable = {h: r for h, r in fetcher.unreachable.items() if h not in fetcher.answered}
    summary.elapsed = time.monotonic() - started
    return summary


def run_checks(
    database_url: str,
    links: list[LinkRow],
    settings: CheckSettings,
    on_result: Callable[[CheckOutcome], None] | None = None,
    due: DueSpec | None = None,
) -> Summary:
    """check_links() from synchronous code."""
    return asyncio.run(check_links(database_url, links, settings, on_result, due))


def all_links(
    conn: psycopg.Connection, *, platform: str | None = None, limit: int | None = None
) -> list[LinkRow]:
    """Every link (of one platform), unchecked first, whether due or not."""
    rows = conn.execute(query("liveness", "all"), {"platform": platform, "limit": limit}).fetchall()
    return [LinkRow(*r[:6]) for r in rows]
