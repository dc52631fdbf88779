"""`linkwatch links`: search links by filters (the group without a subcommand) and `links show`."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import click
from click.core import ParameterSource

from linkwatch.cli import App, pass_app
from linkwatch.cli.output import LINK_CSV_COLUMNS, dumps, emit, parse_when, print_links, stamp
from linkwatch.cli.params import (
    CSV,
    JSON,
    JSONL,
    TEXT,
    FiniteFloat,
    chosen_limit,
    count,
    format_option,
    limit_options,
)
from linkwatch.text import for_terminal

# Options of the search that mean nothing to `links show`; given with it, they are an error.
SEARCH_OPTIONS = ("platform", "kind", "status", "since", "until", "seen", "source", "text", "min_score",
                  "live", "sort", "fmt", "limit", "all_rows", "offset")


@click.group(invoke_without_command=True)
@click.option("--platform", multiple=True,
              help="Only this platform (telegram, discord, kakao, …); repeatable.")
@click.option("--kind", multiple=True,
              help="Only this kind of link (invite, public_channel, open_profile, …); repeatable.")
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
@click.option("--min-score", type=FiniteFloat(0, 1), metavar="0..1",
              help="Only links with at least this risk score (scores run from 0 to 1).")
@click.option("--live", is_flag=True, help="Only links whose last liveness check found them live.")
@click.option("--sort", type=click.Choice(["score", "last-seen"]), default="score", show_default=True,
              help="Highest score first, or most recently seen first.")
@format_option(TEXT, JSON, JSONL, CSV)
@limit_options(50, "link")
@click.option("--offset", type=count(0), default=0, show_default=True,
              help="Skip this many links (page 2 of 50 is --offset 50).")
@click.pass_context
def links(ctx: click.Context, platform, kind, status, since, until, seen, source, text, min_score, live,
          sort, fmt, limit, all_rows, offset) -> None:
    """Search links; without a subcommand, prints the links matching every filter given.

    Filters combine with AND; a repeated option (--platform a --platform b) means either. An
    unknown platform, kind or source is an error, not an empty list. --limit 0 (or --all) prints
    every match as it is read. Every search is recorded in the audit log under the database role you
    connect as. `links show LINK` shows one link with its evidence.
    """
    if ctx.invoked_subcommand is not None:
        given = [name for name in SEARCH_OPTIONS
                 if ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None)]
        if given:
            flag = next(p.opts[0] for p in ctx.command.params if p.name == given[0])
            raise click.UsageError(f"{flag} filters the search; `links {ctx.invoked_subcommand}` takes only "
                                   f"a link (options of `{ctx.invoked_subcommand}` go after it)")
        return
    from linkwatch.db.audit import identity
    from linkwatch.db.links import LinkFilters, check_filters, stream

    app: App = ctx.find_object(App)
    tz = app.config.zone
    filters = LinkFilters(
        platform=tuple(p.lower() for p in platform), kind=tuple(k.lower() for k in kind),
        status=tuple(status), since=parse_when(since, tz, end=False) if since else None,
        until=parse_when(until, tz, end=True) if until else None, seen=seen, source=tuple(source),
        text=text or None, min_score=min_score, live=live, sort=sort,
        limit=chosen_limit(limit, all_rows), offset=offset,
    )
    with app.open_database() as conn:
        check_filters(conn, filters)
        rows = stream(conn, filters, identity(conn))
        try:
            emit(rows, fmt, tz, text=lambda found: print_links(found, tz), csv_columns=LINK_CSV_COLUMNS)
        finally:
            rows.close()  # a reader gone (`| head`): end the cursor and audit while connected


def capture_parts(capture: object) -> tuple[str, str]:
    """(headers, body) as text from what linkwatch.db.warc.read_page_capture returned."""
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


def print_show_text(link: dict[str, Any], tz: ZoneInfo) -> None:
    def line(label: str, value: object) -> None:
        shown = stamp(value, tz) if isinstance(value, datetime) else ("-" if value is None else value)
        click.echo(f"{label:<14}{for_terminal(shown, one_line=True)}")

    click.echo(f"link {link['id']}")
    for key in ("platform", "kind", "code", "url", "status", "category", "score", "sightings",
                "first_seen", "last_seen", "liveness", "checked_at", "dead_at", "preview_title",
                "member_count"):
        line(key.replace("_", " "), link[key])
    click.echo(f"\nevidence: {len(link['evidence'])} sighting(s)")
    for s in link["evidence"]:
        click.echo(f"- {stamp(s['seen_at'], tz)}  {for_terminal(s['page_url'], one_line=True)}")
        click.echo(f"    source: {for_terminal(s['source'] or '-')}  page {s['page_id']}  "
                   f"sha256: {s['page_sha256']}  found in: {s['found_in']}"
                   f"{'  (obfuscated)' if s['obfuscated'] else ''}")
        click.echo(f"    raw: {for_terminal(s['raw'], one_line=True)}")
        click.echo(f"    context: {for_terminal(s['context'], one_line=True)}")
    click.echo(f"\nliveness checks ({len(link['checks'])})")
    for c in link["checks"]:
        click.echo(f"- {stamp(c['checked_at'], tz)}  {c['result']}  http {c['http_status'] or '-'}  "
                   f"members {c['member_count'] if c['member_count'] is not None else '-'}  "
                   f"{for_terminal(c['title'] or '', one_line=True)}")
    click.echo(f"\nreviews ({len(link['reviews'])})")
    for r in link["reviews"]:
        click.echo(f"- {stamp(r['created_at'], tz)}  {for_terminal(r['reviewer'])}  {r['decision']}  "
                   f"{r['category'] or ''}  {for_terminal(r['note'] or '', one_line=True)}")
    click.echo(f"\nreferrals ({len(link['referrals'])})")
    for r in link["referrals"]:
        click.echo(f"- {r['period']}  {r['ref']}  {r['reason']}  {stamp(r['referred_at'], tz)}")


@links.command()
@click.argument("ident", metavar="LINK")
@format_option(TEXT, JSON)
@click.option("--capture", is_flag=True, help="Also print each captured evidence page (headers and body).")
@pass_app
def show(app: App, ident: str, fmt: str, capture: bool) -> None:
    """Show one link with its evidence (every sighting and its page), liveness history, reviews and
    referrals. LINK is a link id, its canonical URL or its code."""
    from linkwatch.db.audit import identity
    from linkwatch.db.links import find_link
    from linkwatch.db.links import show as show_link
    from linkwatch.db.warc import CaptureError, read_page_capture

    tz = app.config.zone
    with app.open_database() as conn:
        link = show_link(conn, find_link(conn, ident), identity(conn))
        captures: dict[int, object] = {}
        if capture:
            data_dir = app.config.data_dir
            for s in link["evidence"]:
                if s["page_id"] not in captures:
                    try:
                        captures[s["page_id"]] = read_page_capture(conn, data_dir, s["page_id"])
                    except CaptureError as exc:  # one unreadable capture must not hide the rest
                        captures[s["page_id"]] = exc
    if fmt == JSON:
        if capture:
            link["captures"] = {
                str(page_id): {"error": str(cap)} if isinstance(cap, Exception)
                else dict(zip(("headers", "body"), capture_parts(cap), strict=True))
                for page_id, cap in captures.items()
            }
        click.echo(dumps(link, tz, indent=2))
        return
    print_show_text(link, tz)
    for page_id, cap in captures.items():
        click.echo(f"\n===== captured page {page_id} =====")
        if isinstance(cap, Exception):
            click.echo(f"(capture unreadable: {for_terminal(cap)})")
        else:
            headers, body = capture_parts(cap)
            click.echo(for_terminal(headers))
            click.echo("")
            click.echo(for_terminal(body))
