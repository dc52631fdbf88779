"""`linkwatch links`: search links by filters (the group without a subcommand) and `links show`."""

from __future__ import annotations

import csv
import json
import re
import sys
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import click

from crawler.config import get_config

TABLE_COLUMNS = (
    ("id", "ID"), ("platform", "platform"), ("kind", "kind"), ("code", "code"), ("score", "score"),
    ("status", "status"), ("liveness", "live?"), ("sightings", "seen"), ("first_seen", "first seen"),
    ("last_seen", "last seen"), ("preview_title", "preview title"),
)
CSV_COLUMNS = (
    "id", "platform", "kind", "code", "url", "first_seen", "last_seen", "sightings", "score", "status",
    "category", "liveness", "checked_at", "preview_title", "member_count",
)
DB_HELP = "PostgreSQL URL (default: LINKWATCH_DATABASE_URL or the embedded server)."
# Terminal control sequences in crawled text could rewrite the investigator's screen.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe_text(value: object) -> str:
    """Crawled text made harmless for a terminal: control characters shown as U+FFFD."""
    return _CONTROL.sub("\ufffd", "" if value is None else str(value))


def zone() -> ZoneInfo:
    return ZoneInfo(get_config().timezone)


def local(value: datetime | None, fmt: str | None = None) -> str:
    """A timestamp in the configured time zone, ISO 8601 (or `fmt`)."""
    if value is None:
        return ""
    value = value.astimezone(zone())
    return value.strftime(fmt) if fmt else value.isoformat()


def parse_when(text: str, *, end: bool) -> datetime:
    """YYYY-MM-DD or an ISO datetime; naive values are in the configured zone. A date as --until
    means the whole day, so it becomes the next midnight."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            if end:
                day += timedelta(days=1)
            return datetime.combine(day, time(), tzinfo=zone())
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(f"{text!r} is not a date (YYYY-MM-DD) or ISO datetime") from exc
    return value if value.tzinfo else value.replace(tzinfo=zone())


def json_default(value: object) -> object:
    if isinstance(value, datetime):
        return local(value)
    raise TypeError(type(value).__name__)


def open_db(database_url: str | None):
    """A connection to a migrated database, or a ClickException saying why not."""
    from pipelines.db import DatabaseError, connect, require_migrated
    from pipelines.db import database_url as resolve

    try:
        conn = connect(database_url or resolve(), autocommit=True)
        require_migrated(conn)
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from exc
    return conn


def print_table(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    # rich measures East Asian wide characters, so Korean titles stay aligned; outside a terminal
    # it would fold at 80 columns, too narrow for a link table.
    console = Console(width=None if sys.stdout.isatty() else 200, highlight=False)
    table = Table(show_lines=False, pad_edge=False)
    for key, title in TABLE_COLUMNS:
        wide = key in ("preview_title", "code")
        table.add_column(title, overflow="ellipsis", no_wrap=True, max_width=40 if wide else None,
                         justify="right" if key in ("id", "score", "sightings") else "left")
    for row in rows:
        cells = []
        for key, _ in TABLE_COLUMNS:
            value = row.get(key)
            if isinstance(value, datetime):
                value = local(value, "%Y-%m-%d %H:%M")
            elif isinstance(value, float):
                value = f"{value:.2f}"
            cells.append(Text(safe_text(value)))
        table.add_row(*cells)
    console.print(table)
    console.print(Text(f"{len(rows)} link(s)"), style="dim")


def print_csv(rows: list[dict[str, Any]]) -> None:
    from pipelines.cells import neutralise

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        out = []
        for key in CSV_COLUMNS:
            value = row.get(key)
            if isinstance(value, datetime):
                value = local(value)
            out.append(neutralise(value) if isinstance(value, str) else ("" if value is None else value))
        writer.writerow(out)


def print_jsonl(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        click.echo(json.dumps(row, default=json_default, ensure_ascii=False))


@click.group(invoke_without_command=True)
@click.option("--platform", multiple=True,
              help="Only this platform (telegram, discord, kakao, …); repeatable.")
@click.option("--kind", multiple=True, help="Only this kind of link (invite, channel, room, …); repeatable.")
@click.option("--status", multiple=True, type=click.Choice(["new", "confirmed", "dismissed", "referred"]),
              help="Only links with this review status; repeatable.")
@click.option("--since", metavar="DATE",
              help="Seen at or after DATE (YYYY-MM-DD or ISO datetime; see --seen).")
@click.option("--until", metavar="DATE", help="Seen before the end of DATE (a day is inclusive; see --seen).")
@click.option("--seen", type=click.Choice(["first", "last"]), default="last", show_default=True,
              help="Which date --since/--until compare: when a link was first or last seen.")
@click.option("--source", multiple=True,
              help="Only links seen on pages of this source (by name); repeatable.")
@click.option("--text", metavar="WORDS",
              help="Substring of a sighting's context, the page title or the preview title (any language).")
@click.option("--min-score", type=float, help="Only links with at least this risk score.")
@click.option("--live", is_flag=True, help="Only links whose last liveness check found them live.")
@click.option("--sort", type=click.Choice(["score", "last-seen"]), default="score", show_default=True,
              help="Highest score first, or most recently seen first.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "jsonl"]), default="table",
              show_default=True, help="Output format.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True,
              help="Links per page.")
@click.option("--offset", type=click.IntRange(0), default=0, show_default=True,
              help="Skip this many links (page 2 of 50 is --offset 50).")
@click.option("--reviewer", help="Who is asking, for the audit log (default: the OS user).")
@click.option("--database-url", help=DB_HELP)
@click.pass_context
def links(ctx: click.Context, platform, kind, status, since, until, seen, source, text, min_score, live,
          sort, fmt, limit, offset, reviewer, database_url) -> None:
    """Search links; without a subcommand, prints the links matching every filter given.

    Filters combine with AND; a repeated option (--platform a --platform b) means either.
    Every search is recorded in the audit log. `links show ID` shows one link with its evidence.
    """
    if ctx.invoked_subcommand is not None:
        return
    from pipelines.queries import LinkFilters, actor, search

    filters = LinkFilters(
        platform=tuple(p.lower() for p in platform), kind=tuple(k.lower() for k in kind),
        status=tuple(status), since=parse_when(since, end=False) if since else None,
        until=parse_when(until, end=True) if until else None, seen=seen, source=tuple(source),
        text=text or None, min_score=min_score, live=live, sort=sort, limit=limit, offset=offset,
    )
    with open_db(database_url) as conn:
        rows = search(conn, filters, actor(reviewer))
    {"table": print_table, "csv": print_csv, "jsonl": print_jsonl}[fmt](rows)


def capture_parts(capture: object) -> tuple[str, str]:
    """(headers, body) as text from what pipelines.warc.read_page_capture returned."""
    headers = getattr(capture, "headers", None)
    body = getattr(capture, "body", None)
    if headers is None and body is None:
        if isinstance(capture, tuple) and len(capture) == 2:
            headers, body = capture
        elif isinstance(capture, dict):
            headers, body = capture.get("headers"), capture.get("body")
        else:
            body = capture
    if isinstance(headers, dict):
        headers = "\n".join(f"{k}: {v}" for k, v in headers.items())
    elif isinstance(headers, list):
        headers = "\n".join(f"{k}: {v}" for k, v in headers)
    if isinstance(headers, bytes):
        headers = headers.decode("iso-8859-1")
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    status = getattr(capture, "status", None)
    if status:
        headers = f"HTTP {status}\n{headers or ''}"
    return str(headers or ""), str(body or "")


def print_show_text(link: dict[str, Any]) -> None:
    def line(label: str, value: object) -> None:
        click.echo(f"{label:<14}{safe_text(local(value) if isinstance(value, datetime) else value)}")

    click.echo(f"link {link['id']}")
    for key in ("platform", "kind", "code", "url", "status", "category", "score", "sightings",
                "first_seen", "last_seen", "liveness", "checked_at", "dead_at", "preview_title",
                "member_count"):
        line(key.replace("_", " "), link[key])
    click.echo(f"\nsightings ({len(link['sightings'])})")
    for s in link["sightings"]:
        click.echo(f"- {local(s['seen_at'])}  {safe_text(s['page_url'])}")
        click.echo(f"    source: {safe_text(s['source'])}  page sha256: {s['page_sha256']}  "
                   f"found in: {s['found_in']}{'  (obfuscated)' if s['obfuscated'] else ''}")
        click.echo(f"    raw: {safe_text(s['raw'])}")
        click.echo(f"    context: {safe_text(s['context'])}")
    click.echo(f"\nliveness checks ({len(link['checks'])})")
    for c in link["checks"]:
        click.echo(f"- {local(c['checked_at'])}  {c['result']}  http {c['http_status'] or '-'}  "
                   f"members {c['member_count'] if c['member_count'] is not None else '-'}  "
                   f"{safe_text(c['title'])}")
    click.echo(f"\nreviews ({len(link['reviews'])})")
    for r in link["reviews"]:
        click.echo(f"- {local(r['created_at'])}  {safe_text(r['reviewer'])}  {r['decision']}  "
                   f"{r['category'] or ''}  {safe_text(r['note'])}")
    click.echo(f"\nreferrals ({len(link['referrals'])})")
    for r in link["referrals"]:
        click.echo(f"- {r['period']}  {r['ref']}  {r['reason']}  {local(r['referred_at'])}")


@links.command()
@click.argument("ident", metavar="ID-OR-URL")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output format.")
@click.option("--capture", is_flag=True, help="Also print each captured evidence page (headers and body).")
@click.option("--reviewer", help="Who is asking, for the audit log (default: the OS user).")
@click.option("--database-url", help=DB_HELP)
def show(ident: str, fmt: str, capture: bool, reviewer: str | None, database_url: str | None) -> None:
    """Show one link (by id, canonical URL, raw form or code) with every sighting and its evidence,
    liveness history, reviews and referrals."""
    from pipelines.queries import LinkNotFoundError, actor, find_link
    from pipelines.queries import show as show_link

    with open_db(database_url) as conn:
        try:
            link = show_link(conn, find_link(conn, ident), actor(reviewer))
        except LinkNotFoundError as exc:
            raise click.ClickException(str(exc)) from exc
        captures: dict[int, object] = {}
        if capture:
            try:
                from pipelines.warc import CaptureError, read_page_capture
            except ImportError as exc:
                raise click.ClickException(
                    "reading captured pages is not available in this installation (pipelines.warc)"
                ) from exc
            data_dir = get_config().data_dir
            for s in link["sightings"]:
                if s["page_id"] not in captures:
                    try:
                        captures[s["page_id"]] = read_page_capture(conn, data_dir, s["page_id"])
                    except CaptureError as exc:  # one unreadable capture must not hide the rest
                        captures[s["page_id"]] = exc
    if fmt == "json":
        if capture:
            link["captures"] = {
                str(page_id): {"error": str(cap)} if isinstance(cap, Exception)
                else dict(zip(("headers", "body"), capture_parts(cap), strict=True))
                for page_id, cap in captures.items()
            }
        click.echo(json.dumps(link, default=json_default, ensure_ascii=False, indent=2))
        return
    print_show_text(link)
    for page_id, cap in captures.items():
        click.echo(f"\n===== captured page {page_id} =====")
        if isinstance(cap, Exception):
            click.echo(f"(capture unreadable: {safe_text(cap)})")
        else:
            headers, body = capture_parts(cap)
            click.echo(safe_text(headers))
            click.echo("")
            click.echo(safe_text(body))
