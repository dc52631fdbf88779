"""`linkwatch review`: the interactive triage queue, and scriptable `review confirm|dismiss ID…`."""

from __future__ import annotations

import click

from linkwatch.cli import App, pass_app
from linkwatch.cli.output import stamp
from linkwatch.cli.params import count
from linkwatch.text import for_terminal

KEYS = {"c": "confirm", "d": "dismiss", "s": "skip", "n": "note", "q": "quit"}


def show_item(conn, item: dict, position: int, total: int, tz) -> None:
    from linkwatch.jobs.review import where_seen

    click.echo("")
    click.echo(f"[{position}/{total}] link {item['id']}  score {item['score']:.2f}  "
               f"{item['platform']}/{item['kind']}  seen {item['sightings']}x  liveness {item['liveness']}")
    click.echo(f"  url:   {for_terminal(item['url'], one_line=True)}")
    if item["preview_title"]:
        click.echo(f"  title: {for_terminal(item['preview_title'], one_line=True)}"
                   + (f"  ({item['member_count']} members)" if item["member_count"] is not None else ""))
    click.echo(f"  first {stamp(item['first_seen'], tz)}  last {stamp(item['last_seen'], tz)}")
    for s in where_seen(conn, item["id"]):
        click.echo(f"  - {stamp(s['seen_at'], tz)} {for_terminal(s['source'] or '?')}: "
                   f"{for_terminal(s['page_url'], one_line=True)}")
        click.echo(f"    {for_terminal(s['context'], one_line=True)[:300]}")


def ask_category() -> str:
    from linkwatch.jobs.review import CATEGORIES

    names = list(CATEGORIES)
    for i, name in enumerate(names, 1):
        click.echo(f"  {i}) {name} — {CATEGORIES[name][1]}")
    while True:
        answer = click.prompt("category (number or name)").strip()
        if answer.isdigit() and 1 <= int(answer) <= len(names):
            return names[int(answer) - 1]
        if answer in CATEGORIES:
            return answer
        click.echo(f"  unknown category {for_terminal(answer)!r}")


@click.group(invoke_without_command=True)
@click.option("--limit", type=count(0), default=100, show_default=True,
              help="At most this many links in this session; 0 means every link waiting.")
@click.pass_context
def review(ctx: click.Context, limit: int) -> None:
    """Triage new links, highest score first (without a subcommand: the interactive queue).

    For each link it shows the URL, preview, and where and in what context it was seen. Keys:
    c confirm (then pick a category), d dismiss, s skip, n add a note, q quit. A link counts as
    confirmed once LINKWATCH_REVIEWERS_REQUIRED distinct reviewers confirm it. You review as the
    database role you connect as (each analyst logs in as their own role); every decision, skip and
    note is recorded under it in `reviews` and the audit log.
    """
    if ctx.invoked_subcommand is not None:
        return
    from linkwatch.db.audit import identity
    from linkwatch.jobs.review import decide, note_only, queue, record_skip

    app: App = ctx.find_object(App)
    required = app.config.reviewers_required
    counts = {"confirm": 0, "dismiss": 0, "skip": 0}
    with app.open_database() as conn:
        who = identity(conn)
        items = queue(conn, who, limit or None)
        if not items:
            click.echo(f"Nothing to review for {who}.")
            return
        click.echo(f"{len(items)} link(s) to review as {who}; c=confirm d=dismiss s=skip n=note q=quit")
        try:
            for position, item in enumerate(items, 1):
                show_item(conn, item, position, len(items), app.config.zone)
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
                    record_skip(conn, item["id"], who, note)
                    continue
                category = ask_category() if action == "confirm" else None
                outcome = decide(conn, item["id"], action, who, category=category, note=note,
                                 required=required)
                counts[action] += 1
                click.echo("  " + outcome.describe())
        except click.exceptions.Abort:
            click.echo("")  # end of input ends the session like q
    click.echo(f"confirmed {counts['confirm']}, dismissed {counts['dismiss']}, skipped {counts['skip']}")


def run_decisions(app: App, ids: tuple[str, ...], decision: str, category: str | None,
                  note: str | None) -> None:
    from linkwatch.db.audit import identity
    from linkwatch.db.links import find_links
    from linkwatch.jobs.review import decide, validate_category

    validate_category(category, decision)
    with app.open_database() as conn:
        who = identity(conn)
        link_ids = find_links(conn, ids)  # every LINK known before the first decision is recorded
        for link_id in link_ids:
            outcome = decide(conn, link_id, decision, who, category=category, note=note,
                             required=app.config.reviewers_required)
            click.echo(outcome.describe())


CATEGORY_HELP = ("Category (deepfake_sexual, csam_suspected, nonconsensual, sexual_other, other); "
                 "required to confirm.")


@review.command()
@click.argument("ids", nargs=-1, required=True, metavar="LINK…")
@click.option("--category", help=CATEGORY_HELP)
@click.option("--note", help="A note kept with the decision.")
@pass_app
def confirm(app: App, ids, category, note) -> None:
    """Confirm links in a category; each counts towards the reviewers required. LINK is a link id,
    its canonical URL or its code."""
    run_decisions(app, ids, "confirm", category, note)


@review.command()
@click.argument("ids", nargs=-1, required=True, metavar="LINK…")
@click.option("--note", help="A note kept with the decision.")
@pass_app
def dismiss(app: App, ids, note) -> None:
    """Dismiss links: not what linkwatch looks for. LINK is a link id, its canonical URL or its code."""
    run_decisions(app, ids, "dismiss", None, note)
