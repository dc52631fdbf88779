"""`linkwatch demo`: serves the bundled demo forum, crawls it into PostgreSQL and shows the links found."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click
from click.core import ParameterSource

from linkwatch.cli import App


@click.command()
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port for the demo forum on 127.0.0.1 (0: any free port).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=Path("linkwatch-demo"),
              show_default=True, help="Directory for the demo's output files (the sample referral).")
@click.option("--serve", "serve_console", is_flag=True,
              help="Then run the web console on the demo database (127.0.0.1) and print a demo login.")
@click.option("--serve-port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Port for the console with --serve (0: any free port).")
@click.option("--forum", "forum_only", is_flag=True,
              help="Only serve the demo forum (until Ctrl-C) and print a sources file for it, to practise "
                   "writing sources and crawling by hand.")
@click.pass_context
def demo(ctx: click.Context, port: int, out: Path, serve_console: bool, serve_port: int,
         forum_only: bool) -> None:
    """Serve the bundled demo forum on 127.0.0.1, crawl it, and write a sample referral.

    The forum is synthetic (made-up invite codes): a static board with disguised links and a board
    rendered by JavaScript (crawled in Chromium when it is installed). Nothing is fetched from the
    internet. The demo then confirms what it found as reviewer `linkwatch-demo` (an analyst does
    this with `linkwatch review` in real use) and writes this week's referral files to --out.
    With --serve it ends with the web console on the demo database and prints a demo login; with
    --forum it only serves the forum, for you to crawl with your own sources file. The demo's data
    never mixes with real work: it uses its own `linkwatch_demo` database in the embedded server
    and LINKWATCH_DATA_DIR/demo for captures; LINKWATCH_DATABASE_URL is deliberately not used,
    only `linkwatch --database-url URL demo` puts it elsewhere.
    """
    from rich.console import Console
    from rich.table import Table

    from crawler.runner import summary_lines
    from linkwatch.db import embedded_url
    from linkwatch.demo import DEMO_DATABASE, run_demo
    from linkwatch.text import for_terminal

    if forum_only:
        serve_forum(port)
        return
    app: App = ctx.find_object(App)
    base = app.config
    # Captures, journals and job state of the demo stay apart from real crawls' data.
    config = base.model_copy(update={"data_dir": Path(base.data_dir) / "demo"})
    source = ctx.parent.get_parameter_source("database_url") if ctx.parent is not None else None
    given = source == ParameterSource.COMMANDLINE
    db_url = base.database_url if given and base.database_url else embedded_url(base, database=DEMO_DATABASE)
    outcome = run_demo(config, db_url, out, port=port, say=lambda m: click.echo(m, err=True))

    console = Console(soft_wrap=True)
    table = Table(title=f"Links found on the demo forum ({len(outcome.sightings)} sightings)")
    for column in ("platform", "kind", "code", "found in", "disguised", "page"):
        table.add_column(column, overflow="fold")
    for platform, kind, code, _url, found_in, obfuscated, page in outcome.sightings:
        path = page.removeprefix(outcome.base_url)
        table.add_row(*(for_terminal(c, one_line=True) for c in (platform, kind, code, found_in)),
                      "yes" if obfuscated else "", for_terminal(path, one_line=True))
    console.print(table)
    for line in summary_lines(outcome.results):
        click.echo(line)
    click.echo(f"media requests received by the demo forum: {outcome.media_requests}")
    if not outcome.files:
        raise click.ClickException("the demo crawl did not finish; see the messages above")
    click.echo(f"sample referral for the regulator, this week ({len(outcome.files)} files):")
    for path in outcome.files:
        click.echo(f"  {path}")
    # The demo's database is not the default one: say how to look at it.
    program = shlex.quote(sys.argv[0] if "/" in sys.argv[0] else "linkwatch")
    if given:
        click.echo(f"explore the demo's data: {program} --database-url URL links  (the URL you gave)")
    else:
        click.echo(f"explore the demo's data: LINKWATCH_EMBEDDED_DATABASE={DEMO_DATABASE} {program} links")
    if serve_console:
        serve_demo(config, db_url, serve_port)


def serve_forum(port: int) -> None:
    """Serves the demo forum until Ctrl-C, with a sources file for it on stdout."""
    import threading

    from linkwatch.demo import practice_sources
    from linkwatch.demo.server import DemoServer

    with DemoServer(port) as server:
        click.echo(f"demo forum: {server.url}/  (Ctrl-C stops it)", err=True)
        click.echo(practice_sources(server.url), nl=False)
        try:
            threading.Event().wait()  # until Ctrl-C
        except KeyboardInterrupt:
            click.echo("demo forum stopped", err=True)


def serve_demo(config, db_url: str, port: int) -> None:
    """The web console on the demo database, with a fresh password for the demo admin `demo`."""
    import secrets

    from linkwatch.cli.serve import start_console
    from linkwatch.db import connect
    from linkwatch.db.users import reset_user

    password = secrets.token_urlsafe(12)
    with connect(db_url, autocommit=True) as conn:
        reset_user(conn, "demo", "admin", password)
    start_console(config, db_url, "127.0.0.1", port,
                  banner=f"demo login: user demo, password {password} (synthetic data only)")
