"""`linkwatch check`: liveness checks of links through the platforms' public previews."""

from __future__ import annotations

import click

from linkwatch.cli import App, pass_app
from linkwatch.cli.output import dumps, plural
from linkwatch.cli.params import JSON, JSONL, TEXT, FiniteFloat, count, format_option
from linkwatch.errors import LinkwatchError
from linkwatch.vocabulary import platforms


class UnreachableError(LinkwatchError):
    """Raised by `check` when a preview host could not be reached: its links were left unchecked."""


def warn_default_user_agent(app: App) -> None:
    """One line when LINKWATCH_USER_AGENT is unset: the platforms and forums see no operator name."""
    if app.config.default_user_agent:
        click.echo(f"warning: LINKWATCH_USER_AGENT is not set; requests go out as {app.config.user_agent!r}. "
                   "Set it to your organisation and a contact address.", err=True)


@click.command()
@click.argument("links", nargs=-1, metavar="[LINK]...")
@click.option("--due", is_flag=True, help="Check only links that are due (new links first).")
@click.option("--platform", type=click.Choice(platforms()), help="Only links of this platform.")
@click.option("--limit", type=count(0), default=0, show_default=True,
              help="Check at most N links; 0 means no limit.")
@click.option("--concurrency", type=click.IntRange(min=1, max=256),
              help="Checks in flight at once (default LINKWATCH_CHECK_CONCURRENCY).")
@click.option("--rate", type=FiniteFloat(0), metavar="PER_SECOND",
              help="Requests per second per platform, 0 = no limit (default LINKWATCH_CHECK_RATE).")
@format_option(TEXT, JSON, JSONL)
@click.option("--json", "as_json", is_flag=True, hidden=True, help="Same as --format jsonl.")
@pass_app
def check(app: App, links: tuple[str, ...], due: bool, platform: str | None, limit: int,
          concurrency: int | None, rate: float | None, fmt: str, as_json: bool) -> None:
    """Check whether links are live, dead or unknown from their public preview pages.

    LINK is a link id, its canonical URL or its code. Without LINK: every link (--due: only those
    due; new links first, live ones every LINKWATCH_CHECK_LIVE_HOURS, dead ones rarely, unknown
    ones soon with backoff). Never joins a chat and never fetches an image. Prints one line per
    check: id, result, member count, title, detail. A preview host that cannot be reached is
    reported once; its links are left unchecked (they stay due) and the exit status is 1.
    """
    import psycopg
    from rich.console import Console

    from linkwatch.db import describe
    from linkwatch.jobs import check as liveness

    if as_json:
        fmt = JSONL
    if links and due:
        raise click.UsageError("give either --due or LINK arguments, not both")
    if links and (platform or limit):
        flag = "--platform" if platform else "--limit"
        raise click.UsageError(f"{flag} selects links to check; with LINK arguments the links named are "
                               "checked, so leave it out")
    config = app.config
    overrides: dict[str, object] = {}
    if concurrency is not None:
        overrides["concurrency"] = concurrency
    if rate is not None:
        overrides["rate"] = rate
    settings = liveness.CheckSettings.from_config(config, **overrides)
    err = Console(stderr=True, highlight=False)
    url = app.database_url()
    with app.open_database(autocommit=False) as conn:
        if links:
            rows = liveness.links_by_ref(conn, links)
        elif due:
            rows = []  # claimed in chunks while checking (short leases)
        else:
            rows = liveness.all_links(conn, platform=platform, limit=limit or None)
    if not rows and not due:
        err.print("no links to check")
        return
    warn_default_user_agent(app)
    spec = liveness.DueSpec(platform=platform, limit=limit or None) if due else None
    done = [0]
    first = [True]

    def show(outcome: liveness.CheckOutcome) -> None:
        done[0] += 1
        status.update(f"checked {done[0]}" + (f"/{len(rows)}" if rows else "") + " link(s)…")
        p = outcome.preview
        if fmt in (JSON, JSONL):
            record = dumps({
                "id": outcome.link.id, "url": outcome.link.canonical_url, "result": p.result,
                "title": p.title, "member_count": p.member_count, "http_status": p.http_status,
                "detail": p.detail, "next_check_at": outcome.next_check_at,
            }, config.zone)
            click.echo(record if fmt == JSONL else ("[" if first[0] else ",") + record)
            first[0] = False
        else:
            from linkwatch.text import for_terminal

            members = "" if p.member_count is None else str(p.member_count)
            title = for_terminal(p.title or "", one_line=True)
            detail = for_terminal(p.detail or "", one_line=True)
            click.echo(f"{outcome.link.id}\t{p.result}\t{members}\t{title}\t{detail}")

    with err.status("checking due links…" if due else f"checking {len(rows)} link(s)…") as status:
        try:
            summary = liveness.run_checks(url, rows, settings, show, spec)
        except (OSError, psycopg.Error) as exc:
            raise LinkwatchError(f"checks stopped: {describe(exc)}") from exc
    if fmt == JSON:
        click.echo("[]" if first[0] else "]")
    unreached = sum(summary.not_checked.values())
    if due and not summary.checked and not unreached:
        err.print("no links to check")
        return
    if summary.checked:
        counts = ", ".join(f"{summary.results[k]} {k}" for k in ("live", "dead", "unknown"))
        rate_s = summary.checked / summary.elapsed if summary.elapsed else 0.0
        err.print(f"checked {plural(summary.checked, 'link')} in {summary.elapsed:.1f}s ({rate_s:.1f}/s): "
                  f"{counts}")
    if summary.unreachable:
        hosts = ", ".join(f"{host} ({why})" for host, why in sorted(summary.unreachable.items()))
        left = f"{plural(unreached, 'link')} left unchecked and nothing recorded for them; they stay due"
        if not summary.checked:
            raise UnreachableError(f"no preview host could be reached: {hosts}; {left}. Is this machine "
                                   "offline or behind a proxy?")
        raise UnreachableError(f"could not reach {hosts}; {left}")
