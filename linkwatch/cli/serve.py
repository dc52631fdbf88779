"""`linkwatch serve`: the web console and REST API for investigators, analysts and the regulator."""

from __future__ import annotations

import click

from linkwatch.cli import App, pass_app

NO_ADMIN = ("No admin user yet. Create the first one with:\n"
            "  linkwatch users add NAME --role admin\n"
            "(then more with --role analyst|investigator|regulator; API tokens with `linkwatch users token "
            "NAME`)")


def start_console(app_config, database_url: str, host: str, port: int, *, banner: str = "",
                  behind_proxy: bool = False) -> None:
    """Binds host:port (one sentence if it cannot), says where the console is, serves until Ctrl-C."""
    from linkwatch.web.server import LOOPBACK, listen, run, url_of

    sock = listen(host, port)
    if host not in LOOPBACK:
        click.echo(f"warning: serving on {host}: anyone who can reach it gets the login page, over plain "
                   "HTTP; put the console behind a TLS proxy or keep the default 127.0.0.1", err=True)

    def ready() -> None:
        click.echo(f"linkwatch console on {url_of(sock)} (API docs: {url_of(sock)}api/v1/docs); "
                   "Ctrl-C stops it" + (f"\n{banner}" if banner else ""))

    run(app_config, database_url, sock, ready=ready, behind_proxy=behind_proxy)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback exposes the console to the network.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Port to listen on (0: any free port, printed at start).")
@click.option("--behind-proxy", is_flag=True,
              help="A TLS proxy on this host forwards to the console: trust its X-Forwarded-Proto/-For "
                   "(Secure cookies, the real client address for login limits).")
@pass_app
def serve(app: App, host: str, port: int, behind_proxy: bool) -> None:
    """Serve the web console and the REST API (/api/v1) on 127.0.0.1:8080.

    Pages: dashboard, links search (with CSV / JSON lines download), a link with its sightings and
    related links, captured evidence (sanitised: nothing in it is fetched), triage with keyboard
    shortcuts, sources, crawl runs, referrals with their files, the audit log, users. Every page
    and API call needs a user (`linkwatch users add`); every action is audited under that user.
    Times are shown in LINKWATCH_TIMEZONE.
    """
    from linkwatch.db.users import count_users

    url = app.database_url()
    with app.open_database() as conn:
        _active, admins = count_users(conn)
    if admins == 0:
        click.echo(NO_ADMIN, err=True)
    start_console(app.config, url, host, port, behind_proxy=behind_proxy)
