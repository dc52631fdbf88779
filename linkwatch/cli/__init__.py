"""The `linkwatch` command: a click group that builds the configuration once and maps errors to one sentence.

Subcommands are imported only when used, and the configuration is read when a command first asks for
it, so `linkwatch extract` (which needs neither) never pays for Scrapy, Twisted or pydantic.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from linkwatch import __version__
from linkwatch.errors import EXIT_INTERRUPTED, LinkwatchError
from linkwatch.text import redact

if TYPE_CHECKING:
    from linkwatch.config import Config

# name -> "module:attribute"
COMMANDS: dict[str, str] = {
    "alerts": "linkwatch.cli.alerts:alerts",
    "extract": "linkwatch.cli.extract:extract",
    "db": "linkwatch.cli.db:db",
    "sources": "linkwatch.cli.sources:sources",
    "crawl": "linkwatch.cli.crawl:crawl",
    "demo": "linkwatch.cli.demo:demo",
    "links": "linkwatch.cli.links:links",
    "review": "linkwatch.cli.review:review",
    "report": "linkwatch.cli.report:report",
    "check": "linkwatch.cli.check:check",
    "runs": "linkwatch.cli.runs:runs",
    "schedule": "linkwatch.cli.schedule:schedule",
    "serve": "linkwatch.cli.serve:serve",
    "users": "linkwatch.cli.users:users",
}


@dataclass
class App:
    """What every command receives: the configuration and the database it resolves to, each built on
    first use from the options given at the entry point."""

    database_url_option: str | None = None
    _config: Config | None = field(default=None, repr=False)
    _url: str | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        """The configuration (LINKWATCH_* and the options), read once; an unusable setting is a ConfigError,
        one sentence, when the command first needs it."""
        if self._config is None:
            from linkwatch.config import load_config  # pydantic: about 0.13 s that `extract` never needs

            self._config = load_config(database_url=self.database_url_option)
        return self._config

    def database_url(self) -> str:
        """The configured PostgreSQL URL, else the embedded server's (started on first use)."""
        if self._url is None:
            from linkwatch.db import database_url

            self._url = database_url(self.config)
        return self._url

    def data_dir(self) -> Path:
        """LINKWATCH_DATA_DIR, created if missing (one sentence when it cannot be used)."""
        return self.config.ensure_data_dir()

    def open_database(self, **kwargs: Any) -> Any:
        """A connection to the migrated database (one sentence when it cannot be had)."""
        from linkwatch.db import open_database

        return open_database(self.database_url(), **kwargs)


pass_app = click.make_pass_decorator(App)


class LinkwatchGroup(click.Group):
    """A group that imports a subcommand's module on first use and turns errors into one sentence."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LinkwatchError as exc:
            fail(exc)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except OSError as exc:
            # A file linkwatch could not read or write (a full disk, a path that is a file): the
            # file and the reason are the sentence; a traceback would tell a user nothing more.
            if exc.filename is None and not os.environ.get("LINKWATCH_DEBUG"):
                fail(LinkwatchError(unexpected(exc)))
            if exc.filename is None:
                raise
            reason = exc.strerror or exc.__class__.__name__
            fail(LinkwatchError(redact(f"cannot use {exc.filename}: {reason}")))
        except Exception as exc:  # never a traceback (nor a password in one) for the user
            if os.environ.get("LINKWATCH_DEBUG"):
                raise
            fail(LinkwatchError(unexpected(exc)))
        return None


def unexpected(exc: BaseException) -> str:
    """One sentence for an error nothing else caught (PostgreSQL's, or a bug's)."""
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    if type(exc).__module__.split(".")[0] == "psycopg":  # by module: `extract` never imports psycopg
        from linkwatch.db import describe

        return f"database error: {describe(exc)}"
    return (f"unexpected {type(exc).__name__}: {first} (set LINKWATCH_DEBUG=1 to see where it happened)"
            if first else f"unexpected {type(exc).__name__} (set LINKWATCH_DEBUG=1 to see where it happened)")


def fail(exc: LinkwatchError) -> None:
    """Prints the error as one sentence (passwords masked) and exits with its status."""
    click.echo(f"Error: {redact(str(exc))}", err=True)
    sys.exit(exc.exit_code)


@click.group(cls=LinkwatchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="linkwatch")
@click.option("--database-url", envvar="LINKWATCH_DATABASE_URL", metavar="URL",
              help="PostgreSQL URL (default: LINKWATCH_DATABASE_URL; unset: linkwatch's embedded server "
                   "under LINKWATCH_DATA_DIR).")
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """linkwatch finds openly advertised invite links to group chats on public forums.

    Without a database URL linkwatch runs its own embedded PostgreSQL under LINKWATCH_DATA_DIR.
    Every command has --help.
    """
    # Everything linkwatch writes (captures, journals, job state, exports, logs) is for its owner only.
    os.umask(0o077)
    ctx.obj = App(database_url)
