"""`linkwatch check`: liveness checks of links through the platforms' public previews."""

from __future__ import annotations

import click

from linkwatch.cli import App, pass_app
from linkwatch.text import json_for_terminal

PLATFORMS = ("telegram", "discord", "whatsapp", "kakao", "line", "signal", "matrix", "band", "session")


@click.command()
@click.argument("links", nargs=-1, metavar="[LINK]...")
@click.option("--due", is_flag=True, help="Check only links that are due (new links first).")
@click.option("--platform", type=click.Choice(PLATFORMS), help="Only links of this platform.")
@click.option("--limit", type=click.IntRange(min=1), help="Check at most N links.")
@click.option("--concurrency", type=click.IntRange(min=1, max=256),
              help="Checks in flight at once (default LINKWATCH_CHECK_CONCURRENCY).")
@click.option("--rate", type=click.FloatRange(min=0),
              help="Requests per second per platform, 0 = no limit (default LINKWATCH_CHECK_RATE).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per check.")
@pass_app
def check(app: App, links: tuple[str, ...], due: bool, platform: str | None, limit: int | None,
          concurrency: int | None, rate: float | None, as_json: bool) -> None:
    """Check whether links are live, dead or unknown from their public preview pages.

    LINK is a link id or canonical URL. Without LINK: every link (--due: only those due; new
    links first, live ones every LINKWATCH_CHECK_LIVE_HOURS, dead ones rarely, unknown ones soon
    with backoff). Never joins a chat and never fetches an image. Prints one line per check:
    id, result, member count, title, detail.
    """
    import psycopg
    from rich.console import Console

    from linkwatch.db import describe
    from linkwatch.jobs import check as liveness

    if links and due:
        raise click.UsageError("give either --due or LINK arguments, not both")
    config = app.config
    overrides: dict[str, object] = {}
    if concurrency is not None:
        overrides["concurrency"] = concurrency
    if rate is not None:
        overrides["rate"] = rate
    settings = liveness.CheckSettings.from_config(config, **overrides)
    err = Console(stderr=True)
    url = app.database_url()
    with app.open_database(autocommit=False) as conn:
        if links:
            rows, missing = liveness.links_by_ref(conn, links)
            if missing:
                raise click.ClickException(f"no link with id or URL {missing[0]!r}")
            if platform:
                rows = [r for r in rows if r.platform == platform]
        elif due:
            rows = []  # claimed in chunks while checking (short leases)
        else:
            rows = liveness.all_links(conn, platform=platform, limit=limit)
    if not rows and not due:
        err.print("no links to check")
        return
    spec = liveness.DueSpec(platform=platform, limit=limit) if due else None
    done = [0]

    def show(outcome: liveness.CheckOutcome) -> None:
        done[0] += 1
        status.update(f"checked {done[0]}" + (f"/{len(rows)}" if rows else "") + " link(s)…")
        p = outcome.preview
        if as_json:
            click.echo(json_for_terminal({
                "id": outcome.link.id, "url": outcome.link.canonical_url, "result": p.result,
                "title": p.title, "member_count": p.member_count, "http_status": p.http_status,
                "detail": p.detail,
                "next_check_at": outcome.next_check_at.isoformat() if outcome.next_check_at else None,
            }))
        else:
            members = "" if p.member_count is None else str(p.member_count)
            click.echo(f"{outcome.link.id}\t{p.result}\t{members}\t{p.title or ''}\t{p.detail or ''}")

    with err.status("checking due links…" if due else f"checking {len(rows)} link(s)…") as status:
        try:
            summary = liveness.run_checks(url, rows, settings, show, spec)
        except (OSError, psycopg.Error) as exc:
            raise click.ClickException(f"checks stopped: {describe(exc)}") from exc
    if due and not summary.checked:
        err.print("no links to check")
        return
    counts = ", ".join(f"{summary.results[k]} {k}" for k in ("live", "dead", "unknown"))
    rate_s = summary.checked / summary.elapsed if summary.elapsed else 0.0
    err.print(f"checked {summary.checked} link(s) in {summary.elapsed:.1f}s ({rate_s:.1f}/s): {counts}")
