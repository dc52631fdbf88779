"""Option types every command shares: finite numbers, PostgreSQL-sized integers, the --format vocabulary."""

from __future__ import annotations

import math
from typing import Any

import click

# PostgreSQL's bigint: the largest LIMIT/OFFSET or id a statement can take.
BIGINT_MAX = 2**63 - 1

# One vocabulary for every command's --format: `text` for people (a table for lists), `json` (one
# document), `jsonl` (one object per line), `csv` (rows, for spreadsheets). Earlier spellings stay
# accepted but unlisted, so scripts written against them keep working.
TEXT, JSON, JSONL, CSV = "text", "json", "jsonl", "csv"
ALIASES = {"table": TEXT}


class FiniteFloat(click.ParamType):
    """A float within [low, high] that is a real number: nan, inf and 1e309 are refused."""

    name = "number"

    def __init__(self, low: float | None = None, high: float | None = None, *,
                 low_open: bool = False) -> None:
        self.low, self.high, self.low_open = low, high, low_open

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float) and math.isfinite(value):
            number = value
        else:
            try:
                number = float(value)
            except (TypeError, ValueError):
                self.fail(f"{value!r} is not a number", param, ctx)
            if not math.isfinite(number):
                self.fail(f"{value!r} is not a finite number", param, ctx)
        too_low = self.low is not None and (number <= self.low if self.low_open else number < self.low)
        if too_low or (self.high is not None and number > self.high):
            self.fail(f"{value!r} is not {self._range()}", param, ctx)
        return number

    def _range(self) -> str:
        if self.low is not None and self.high is not None:
            return f"between {self.low:g} and {self.high:g}"
        if self.low is not None:
            return f"{'more than' if self.low_open else 'at least'} {self.low:g}"
        return f"at most {self.high:g}"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str | None:
        return None


class Count(click.ParamType):
    """A whole number from `low` up to what PostgreSQL can take (bigint), without the range in --help."""

    name = "integer"

    def __init__(self, low: int = 0) -> None:
        self.low = low

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            number = value if isinstance(value, int) else int(str(value).strip())
        except ValueError:
            self.fail(f"{value!r} is not a whole number", param, ctx)
        if number < self.low:
            self.fail(f"{value!r} is less than {self.low}", param, ctx)
        if number > BIGINT_MAX:
            self.fail(f"{value!r} is more than linkwatch can count (at most {BIGINT_MAX})", param, ctx)
        return number


def count(low: int = 0) -> Count:
    """A whole number from `low` up to what PostgreSQL can take (bigint)."""
    return Count(low)


class Format(click.Choice):
    """--format: the shared vocabulary, restricted to what a command can print; aliases accepted."""

    def __init__(self, *choices: str) -> None:
        super().__init__(choices, case_sensitive=False)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            value = ALIASES.get(value.lower(), value)
        return super().convert(value, param, ctx)


def format_option(*choices: str, default: str = TEXT, times: bool = True) -> Any:
    """The --format option offering `choices` (text, json, jsonl, csv); `times`: the output has times."""
    described = {TEXT: "for people", JSON: "one JSON document", JSONL: "one JSON object per line",
                 CSV: "for spreadsheets"}
    return click.option(
        "--format", "fmt", type=Format(*choices), default=default, show_default=True,
        help="Output: " + ", ".join(f"{c} ({described[c]})" for c in choices) + "."
             + (" Times are in LINKWATCH_TIMEZONE; JSON gives their UTC offset." if times else ""))


def limit_options(default: int, noun: str) -> Any:
    """--limit N (0: no limit) and --all, applied to a command."""

    def decorate(func: Any) -> Any:
        func = click.option("--all", "all_rows", is_flag=True,
                            help=f"Every {noun}, streamed as it is read (same as --limit 0).")(func)
        return click.option("--limit", type=count(0), default=default, show_default=True,
                            help=f"At most this many {noun}s; 0 means no limit.")(func)

    return decorate


def chosen_limit(limit: int, all_rows: bool) -> int | None:
    """The limit to apply: None for every row (--all or --limit 0)."""
    return None if all_rows or limit == 0 else limit
