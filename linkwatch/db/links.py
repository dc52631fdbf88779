"""Investigator queries: search links by filters, show one link with all its evidence, audit both."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from linkwatch.db.audit import audit
from linkwatch.db.sql import query
from linkwatch.errors import EXIT_USAGE, LinkwatchError

STATUSES = ("new", "confirmed", "dismissed", "referred")
SORTS = {
    # Each order matches an index (links_score, links_last_seen_id) so a page is an index scan.
    "score": "l.score DESC, l.id",
    "last-seen": "l.last_seen DESC, l.id DESC",
}


# Above this many expected matching sightings, --text probes links in sort order (see text_probe.sql);
# measured at 1M links: a 1% term took ~1.7 s through the index, a 0.05% term ~30 ms.
PROBE_TEXT_ABOVE = 5_000


class LinkNotFoundError(LinkwatchError, LookupError):
    """Raised by find_link() when nothing (or more than one link) matches; the message is for the user."""


class UnknownFilterError(LinkwatchError, ValueError):
    """Raised by check_filters() for a --platform, --kind or --source no link could ever match."""

    exit_code = EXIT_USAGE


# How every command that takes a link names what it accepts, in its errors and its help.
IDENT_HELP = "a link id, its canonical URL or its code"



def like_pattern(text: str) -> str:
    """An ILIKE pattern matching `text` anywhere, with LIKE's own wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass
class LinkFilters:
    """What `linkwatch links` filters by; empty tuples and None mean "any"."""

    platform: tuple[str, ...] = ()
    kind: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    seen: Literal["first", "last"] = "last"
    source: tuple[str, ...] = ()
    text: str | None = None
    min_score: float | None = None
    live: bool = False
    sort: str = "score"
    limit: int | None = 50  # None: every matching link
    offset: int = 0
    # Keyset pagination (the web console and API): the sort key and id of the last row of the
    # previous page, (score, id) or (last_seen, id) according to `sort`; the page starts after it.
    after: tuple[Any, int] | None = None

    def describe(self) -> dict[str, Any]:
        """The filters as JSON-ready values for the audit log."""
        out = {k: v for k, v in asdict(self).items() if v not in ((), None, False, {})}
        for key in ("since", "until"):
            if key in out:
                out[key] = out[key].isoformat()
        if "after" in out:
            key, last_id = out["after"]
            out["after"] = [key.isoformat() if isinstance(key, datetime) else key, last_id]
        for key, value in out.items():
            if isinstance(value, tuple):
                out[key] = list(value)
        return out


# A link counts as referred once a weekly referral lists it; links.status keeps the triage decision
# (the export does not rewrite 50,000 rows and every index on links to record a referral).
IS_REFERRED = "EXISTS (SELECT 1 FROM referral_items ri WHERE ri.link_id = l.id)"


def status_filter(statuses: tuple[str, ...]) -> sql.Composable:
    """Links whose shown status (referred if ever referred, else links.status) is in `statuses`.

    Written as two branches so that the triage statuses still use the links_status_score index.
    """
    branches = []
    if any(s != "referred" for s in statuses):
        branches.append(f"(l.status = ANY(%(status)s) AND NOT {IS_REFERRED})")
    if "referred" in statuses:
        # links.status = 'referred' is how exports before this change recorded a referral.
        branches.append(f"(l.status = 'referred' OR {IS_REFERRED})")
    return sql.SQL("(" + " OR ".join(branches) + ")")


def build_search(f: LinkFilters, *, probe_text: bool = False) -> tuple[sql.Composed, dict[str, Any]]:
    """The search statement and its parameters for these filters.

    `probe_text` matches --text link by link (text_probe.sql) instead of through the trigram
    indexes (text_match.sql); search() picks it for terms the planner expects to be common.
    """
    where: list[sql.Composable] = [sql.SQL("true")]
    params: dict[str, Any] = {"limit": f.limit, "offset": f.offset}
    if f.platform:
        where.append(sql.SQL("l.platform = ANY(%(platform)s)"))
        params["platform"] = list(f.platform)
    if f.kind:
        where.append(sql.SQL("l.kind = ANY(%(kind)s)"))
        params["kind"] = list(f.kind)
    if f.status:
        where.append(status_filter(f.status))
        params["status"] = [s for s in f.status if s != "referred"]
    column = sql.Identifier("l", "first_seen" if f.seen == "first" else "last_seen")
    if f.since is not None:
        where.append(sql.SQL("{} >= %(since)s").format(column))
        params["since"] = f.since
    if f.until is not None:
        where.append(sql.SQL("{} < %(until)s").format(column))
        params["until"] = f.until
    if f.min_score is not None:
        where.append(sql.SQL("l.score >= %(min_score)s"))
        params["min_score"] = f.min_score
    if f.live:
        where.append(sql.SQL("l.liveness = 'live'"))
    if f.text:
        where.append(sql.SQL(query("links", "text_probe" if probe_text else "text_match")))
        params["text"] = like_pattern(f.text)
    if f.source:
        where.append(sql.SQL(query("links", "source_match")))
        params["sources"] = list(f.source)
    if f.after is not None:
        # After the previous page's last row in the sort order (each matches its index, see SORTS).
        where.append(sql.SQL(query("links", "after_score" if f.sort == "score" else "after_last_seen")))
        params["after_key"], params["after_id"] = f.after
    statement = sql.SQL(query("links", "search")).format(
        where=sql.SQL(" AND ").join(where), order=sql.SQL(SORTS[f.sort])
    )
    return statement, params


def expected_text_matches(conn: psycopg.Connection, text: str) -> int:
    """Sightings whose context contains `text`, counted up to PROBE_TEXT_ABOVE + 1 (text_count.sql).

    Counted, not estimated: the planner's estimate for a substring comes from a sample of the
    contexts and was off by 40x for a 0.05% term in one ANALYZE out of two (a 30 ms search took
    0.9 s). A term of 3+ characters is counted through the trigram index: with the estimate that
    high the planner would otherwise read the table from the start, hoping to stop early. A shorter
    term has no trigram, so reading the table until the limit is the best there is.
    """
    params = {"text": like_pattern(text), "limit": PROBE_TEXT_ABOVE + 1}
    if len(text.strip()) < 3:
        return conn.execute(query("links", "text_count"), params).fetchone()[0]
    conn.execute("SET enable_seqscan = off")
    try:
        return conn.execute(query("links", "text_count"), params).fetchone()[0]
    finally:
        conn.execute("RESET enable_seqscan")


def check_filters(conn: psycopg.Connection, f: LinkFilters) -> None:
    """Refuses a --platform or --kind linkwatch does not know and a --source no crawl has used: each
    would otherwise be an empty result that looks like "no such links"."""
    from linkwatch import vocabulary

    for column, values, known in (("platform", f.platform, vocabulary.platforms()),
                                  ("kind", f.kind, vocabulary.kinds())):
        for value in values:
            stored = conn.execute(query("links", "value_stored"), {"column": column, "value": value})
            if value not in known and not stored.fetchone()[0]:
                raise UnknownFilterError(vocabulary.unknown_word(column, value, known))
    if f.source:
        found = {r[0] for r in conn.execute(query("links", "known_sources"), {"names": list(f.source)})}
        missing = [name for name in f.source if name not in found]
        if missing:
            names = [r[0] for r in conn.execute(query("links", "source_names"))]
            guess = vocabulary.closest(missing[0], names) if names else None
            hint = f" (did you mean {guess}?)" if guess else ""
            raise UnknownFilterError(
                f"no source named {missing[0]!r}{hint}; sources crawled so far: {', '.join(names) or 'none'}")


def search(conn: psycopg.Connection, f: LinkFilters, who: str) -> list[dict[str, Any]]:
    """One page of matching links (dicts), recording the query in the audit log."""
    return list(stream(conn, f, who))


def stream(conn: psycopg.Connection, f: LinkFilters, who: str) -> Iterator[dict[str, Any]]:
    """The matching links (dicts) as PostgreSQL returns them, through a server-side cursor, so that
    `--limit 0` streams every link without holding them in memory. The query is recorded in the
    audit log with the number of rows handed out, also when the reader stops early."""
    # At a million links the estimates pass jit_above_cost and compiling costs more than running.
    conn.execute("SET jit = off")
    probe = bool(f.text) and expected_text_matches(conn, f.text) > PROBE_TEXT_ABOVE
    statement, params = build_search(f, probe_text=probe)
    rows = 0
    try:
        with conn.transaction(), conn.cursor(name="linkwatch_links", row_factory=dict_row) as cur:
            cur.itersize = 2_000
            cur.execute(statement, params)
            for row in cur:
                rows += 1
                yield row
    finally:
        with conn.transaction():
            audit(conn, who, "query", None, {"command": "links", "filters": f.describe(), "rows": rows})


def find_link(conn: psycopg.Connection, ident: str) -> int:
    """The id of the link named by id, canonical URL, code, or raw form as written in a post."""
    ident = ident.strip()
    found = []
    if ident.isdigit() and len(ident) < 19:  # an id; a code may be all digits too, so then those
        found = conn.execute(query("links", "find_by_id"), {"i": int(ident)}).fetchall()
    if not found:
        for name in ("find_by_url", "find_by_code", "find_by_raw"):
            found = conn.execute(query("links", name), {"i": ident}).fetchall()
            if found:
                break
    if not found:
        raise LinkNotFoundError(f"no link matches {ident!r}; give {IDENT_HELP}")
    if len(found) > 1:
        ids = ", ".join(str(r[0]) for r in found)
        raise LinkNotFoundError(f"{ident!r} matches several links ({ids}); give the link id")
    return int(found[0][0])


def find_links(conn: psycopg.Connection, idents: list[str] | tuple[str, ...]) -> list[int]:
    """The ids of the links named (find_link for each, in order, each once); one error for all that
    match nothing."""
    ids: list[int] = []
    missing: list[str] = []
    for ident in idents:
        try:
            link_id = find_link(conn, ident)
        except LinkNotFoundError as exc:
            if "several links" in str(exc):
                raise
            missing.append(ident.strip())
            continue
        if link_id not in ids:
            ids.append(link_id)
    if missing:
        names = " or ".join(repr(m) for m in missing[:5]) + (" …" if len(missing) > 5 else "")
        raise LinkNotFoundError(f"no link matches {names}; give {IDENT_HELP}")
    return ids


def show(conn: psycopg.Connection, link_id: int, who: str) -> dict[str, Any]:
    """The link with its evidence (every sighting and its page), liveness checks, reviews and referrals."""
    params = {"id": link_id}
    with conn.cursor(row_factory=dict_row) as cur:
        link = cur.execute(query("links", "show_link"), params).fetchone()
        if link is None:
            raise LinkNotFoundError(f"no link with id {link_id}")
        # `sightings` is the count, as in every other output; the sightings themselves are the evidence.
        link["evidence"] = cur.execute(query("links", "show_sightings"), params).fetchall()
        for part in ("checks", "reviews", "referrals"):
            link[part] = cur.execute(query("links", f"show_{part}"), params).fetchall()
    audit(conn, who, "show", str(link_id), {"command": "links show"})
    conn.commit()
    return link


def sightings_in_runs(conn: psycopg.Connection, run_ids: list[int]) -> list[tuple]:
    """(platform, kind, code, url, found_in, obfuscated, page url) of each sighting these runs stored."""
    return conn.execute(query("demo", "sightings"), {"run_ids": run_ids}).fetchall()


def links_in_runs(conn: psycopg.Connection, run_ids: list[int]) -> list[int]:
    """The ids of the links these runs saw."""
    return [r[0] for r in conn.execute(query("demo", "links"), {"run_ids": run_ids})]
