"""`linkwatch report weekly` (the regulator's referral files) and `report stats` (takedown figures)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from linkwatch.cli import App, pass_app
from linkwatch.cli.params import JSON, TEXT, format_option
from linkwatch.text import for_terminal, json_for_terminal


@click.group()
def report() -> None:
    """Weekly referral files for the regulator, and takedown statistics."""


@report.command()
@click.option("--week", metavar="YYYY-Www",
              help="ISO week to report (default: the last complete week in LINKWATCH_TIMEZONE).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the files (default: <data dir>/reports/<week>).")
@click.option("--format", "formats", default="csv,xlsx,jsonl", show_default=True,
              help="Comma-separated file formats: csv, xlsx, jsonl.")
@click.option("--lang", type=click.Choice(["ko", "en"]), default="ko", show_default=True,
              help="Language of the header row and of labels in CSV/XLSX.")
@click.option("--dry-run", is_flag=True, help="Show what would be referred; write and record nothing.")
@click.option("--allow-partial", is_flag=True,
              help="Allow the week still running (its referral takes the links confirmed so far).")
@pass_app
def weekly(app: App, week: str | None, out_dir: Path | None, formats: str, lang: str, dry_run: bool,
           allow_partial: bool) -> None:
    """Write the week's referral list and record it.

    It holds the links confirmed and not yet referred (unless known dead), plus links referred
    before that were advertised again since and are still live. Each gets a stable referral id
    (LW-2026W47-0001) and counts as `referred` from then on. Running the same week again
    rewrites the same files from the recorded referral instead of making a second one. A week
    that has not ended is refused unless --allow-partial. Cells that a spreadsheet would read as
    a formula are prefixed with '; date columns name the time zone (LINKWATCH_TIMEZONE). A
    manifest lists each file's sha256, the counts and the takedown figure.
    """
    from linkwatch.db.audit import identity
    from linkwatch.jobs.report import last_complete_week, parse_week
    from linkwatch.jobs.report import weekly as export

    config = app.config
    tz = config.zone
    try:
        chosen = parse_week(week, tz) if week else last_complete_week(datetime.now(tz), tz)
        fmts = tuple(f.strip().lower() for f in formats.split(",") if f.strip())
        target = out_dir or app.data_dir() / "reports" / chosen.period
        with app.open_database() as conn:
            result = export(conn, chosen, target, url=app.database_url(), formats=fmts, lang=lang, tz=tz,
                            who=identity(conn), dry_run=dry_run, allow_partial=allow_partial,
                            progress=lambda message: click.echo(message, err=True))
    except OSError as exc:
        # Nothing was recorded: the referral is committed only after its files are written.
        raise click.ClickException(f"cannot write the referral files ({exc}); nothing was recorded") from exc
    new = sum(r["reason"] == "new" for r in result.rows)
    summary = (f"{chosen.period}: {len(result.rows)} link(s) ({new} new, "
               f"{len(result.rows) - new} readvertised)")
    if dry_run:
        click.echo(f"dry run, nothing written — {summary}"
                   + (" (already recorded; a run would rewrite its files)" if result.reused else ""))
        for row in result.rows:
            click.echo(f"  {row['ref']}  {row['reason']:<12} {row['platform']:<9} "
                       f"{for_terminal(row['url'], one_line=True)}")
        return
    click.echo(("rewrote " if result.reused else "recorded ") + summary)
    for name, digest in result.files.items():
        click.echo(f"  {result.out_dir / name}  sha256 {digest}")
    click.echo(f"  {result.out_dir / f'linkwatch-referral-{chosen.period}-manifest.json'}")


@report.command()
@format_option(TEXT, JSON, times=False)
@pass_app
def stats(app: App, fmt: str) -> None:
    """Takedown figures: for referred links, time from referral to the first check that found the
    link dead (median, p90); how many were found dead since referral and, of the others, how many
    were last found live, unknown, or were never checked; and time from first sighting to referral."""
    from linkwatch.jobs.report import takedown

    with app.open_database() as conn:
        figures = takedown(conn)
    if fmt == JSON:
        click.echo(json_for_terminal(figures, sort_keys=True))
        return

    def hours(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} h"

    click.echo(f"referred links: {figures['referred']}  dead since referral: {figures['dead']}  "
               f"still alive: {figures['alive']}  unknown: {figures['unknown']}  "
               f"never checked: {figures['unchecked']}")
    click.echo(f"referral → dead: median {hours(figures['median_hours'])}, p90 {hours(figures['p90_hours'])}")
    click.echo(f"first seen → referral: median {hours(figures['first_seen_to_referral_median_hours'])}, "
               f"p90 {hours(figures['first_seen_to_referral_p90_hours'])}")
