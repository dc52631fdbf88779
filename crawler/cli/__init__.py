"""The `linkwatch` command: a click group whose subcommands are imported only when used."""

from __future__ import annotations

import importlib

import click

from crawler import __version__

# name -> "module:attribute"; importing lazily keeps `linkwatch extract` free of Scrapy/Twisted start-up.
COMMANDS: dict[str, str] = {
    "extract": "crawler.cli.extract:extract",
    "db": "crawler.cli.db:db",
    "sources": "crawler.cli.sources:sources",
    "crawl": "crawler.cli.crawl:crawl",
    "demo": "crawler.cli.demo:demo",
    "links": "crawler.cli.links:links",
    "review": "crawler.cli.review:review",
    "report": "crawler.cli.report:report",
    "check": "crawler.cli.check:check",
    "schedule": "crawler.cli.schedule:schedule",
}


class LazyGroup(click.Group):
    """A group that imports a subcommand's module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="linkwatch")
def main() -> None:
    """linkwatch finds openly advertised invite links to group chats on public forums.

    Set LINKWATCH_DATABASE_URL to use your PostgreSQL server; without it linkwatch runs
    its own embedded PostgreSQL under LINKWATCH_DATA_DIR. Every command has --help.
    """
