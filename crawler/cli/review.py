"""`linkwatch review`: the interactive triage queue, and scriptable `review confirm|dismiss ID…`."""

from __future__ import annotations

import click

from crawler.cli.links import DB_HELP, local, open_db, safe_text
from crawler.config import get_config

KEYS = {"c": "confirm", "d": "dismiss", "s": "skip", "n": "note", "q": "quit"}


def required_reviewers() -> int:
    required = get_config().reviewers_required
    if required < 1:
        raise click.ClickException("LINKWATCH_REVIEWERS_REQUIRED must be 1 or more")
    return required


def show_item(conn, item: dict, position: int, total: int) -> None:
    from pipelines.review import where_seen

    click.echo("")
    click.echo(f"[{position}/{total}] link {item['id']}  score {item['score']:.2f}  "
               f"{item['platform']}/{item['kind']}  seen {item['sightings']}x  liveness {item['liveness']}")
    click.echo(f"  url:   {safe_text(item['url'])}")
    if item["preview_title"]:
        click.echo(f"  title: {safe_text(item['preview_title'])}"
                   + (f"  ({item['member_count']} members)" if item["member_count"] is not None else ""))
    click.echo(f"  first {local(item['first_seen'], '%Y-%m-%d %H:%M')}  "
               f"last {local(item['last_seen'], '%Y-%m-%d %H:%M')}")
    for s in where_seen(conn, item["id"]):
        click.echo(f"  - {local(s['seen_at'], '%Y-%m-%d %H:%M')} {safe_text(s['source'] or '?')}: "
                   f"{safe_text(s['page_url'])}")
        click.echo(f"    {safe_text(s['context'])[:300]}")


def ask_category() -> str:
    from pipelines.review import CATEGORIES

    names = list(CATEGORIES)
    for i, name in enumerate(names, 1):
        click.echo(f"  {i}) {name} — {CATEGORIES[name][1]}")
    while True:
        answer = click.prompt("category (number or name)").strip()
        if answer.isdigit() and 1 <= int(answer) <= len(names):
            return names[int(answer) - 1]
        if answer in CATEGORIES:
            return answer
        click.echo(f"  unknown category {safe_text(answer)!r}")


@click.group(invoke_without_command=True)
@click.option("--reviewer", help="Your name for the record (default: the OS user).")
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True,
              help="At most this many links in this session.")
@click.option("--database-url", help=DB_HELP)
@click.pass_context
def review(ctx: click.Context, reviewer: str | None, limit: int, database_url: str | None) -> None:
    """Triage new links, highest score first (without a subcommand: the interactive queue).

    For each link it shows the URL, preview, and where and in what context it was seen. Keys:
    c confirm (then pick a category), d dismiss, s skip, n add a note, q quit. A link counts as
    confirmed once LINKWATCH_REVIEWERS_REQUIRED distinct reviewers confirm it. Every decision is
    recorded with the reviewer in `reviews` and the audit log.
    """
    if ctx.invoked_subcommand is not None:
        return
    from pipelines.queries import actor
    from pipelines.review import decide, note_only, queue

    who = actor(reviewer)
    required = required_reviewers()
    counts = {"confirm": 0, "dismiss": 0, "skip": 0}
    with open_db(database_url) as conn:
        items = queue(conn, who, limit)
        if not items:
            click.echo(f"Nothing to review for {who}.")
            return
        click.echo(f"{len(items)} link(s) to review as {who}; c=confirm d=dismiss s=skip n=note q=quit")
        try:
            for position, item in enumerate(items, 1):
                show_item(conn, item, position, len(items))
                note: str | None = None
                while True:
                    key = click.prompt("action", type=click.Choice(list(KEYS)), show_choices=True)
                    action = KEYS[key]
                    if action == "note":
                        note = click.prompt("note").strip() or None
                        continue
                    break
                if action == "quit":
                    if note:
                        note_only(conn, item["id"], who, note)
                    break
                if action == "skip":
                    counts["skip"] += 1
                    if note:
                        note_only(conn, item["id"], who, note)
                    continue
                category = ask_category() if action == "confirm" else None
                outcome = decide(conn, item["id"], action, who, category=category, note=note,
                                 required=required)
                counts[action] += 1
                click.echo("  " + outcome.describe())
        except click.exceptions.Abort:
            click.echo("")  # end of input ends the session like q
    click.echo(f"confirmed {counts['confirm']}, dismissed {counts['dismiss']}, skipped {counts['skip']}")


def run_decisions(ids: tuple[str, ...], decision: str, category: str | None, note: str | None,
                  reviewer: str | None, database_url: str | None) -> None:
    from pipelines.queries import LinkNotFoundError, actor, find_link
    from pipelines.review import ReviewError, decide, validate_category

    who = actor(reviewer)
    required = required_reviewers()
    try:
        validate_category(category, decision)
    except ReviewError as exc:
        raise click.ClickException(str(exc)) from exc
    with open_db(database_url) as conn:
        try:
            link_ids = [find_link(conn, ident) for ident in ids]
            for link_id in link_ids:
                outcome = decide(conn, link_id, decision, who, category=category, note=note,
                                 required=required)
                click.echo(outcome.describe())
        except (LinkNotFoundError, ReviewError) as exc:
            raise click.ClickException(str(exc)) from exc


CATEGORY_HELP = ("Category (deepfake_sexual, csam_suspected, nonconsensual, sexual_other, other); "
                 "required to confirm.")


@review.command()
@click.argument("ids", nargs=-1, required=True, metavar="ID…")
@click.option("--category", help=CATEGORY_HELP)
@click.option("--note", help="A note kept with the decision.")
@click.option("--reviewer", help="Your name for the record (default: the OS user).")
@click.option("--database-url", help=DB_HELP)
def confirm(ids, category, note, reviewer, database_url) -> None:
    """Confirm links (by id or URL) in a category; each counts towards the reviewers required."""
    run_decisions(ids, "confirm", category, note, reviewer, database_url)


@review.command()
@click.argument("ids", nargs=-1, required=True, metavar="ID…")
@click.option("--note", help="A note kept with the decision.")
@click.option("--reviewer", help="Your name for the record (default: the OS user).")
@click.option("--database-url", help=DB_HELP)
def dismiss(ids, note, reviewer, database_url) -> None:
    """Dismiss links (by id or URL): not what linkwatch looks for."""
    run_decisions(ids, "dismiss", None, note, reviewer, database_url)
